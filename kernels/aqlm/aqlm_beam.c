/* aqlm_beam.c -- one XTX-aware beam-search pass over the codes (Gauss-Seidel), as the reference's
 * beam_search_xtx.py defines it, organized for a CPU.
 *
 * Out-groups are independent: each keeps up to B hypotheses (code vectors) of its own, and
 * blocks of out-groups run in parallel. In-groups g are visited in g_order; inside g, codebooks in
 * m_order. For a hypothesis with residual D = W - Wq [og, in], scale s and current codeword
 * c_old of codebook m in g, the reference scores every codeword c as
 *   loss(c) = loss - 2 s <c - c_old, R XTX[:, g]> + s^2 c^T H c - s^2 c_old^T H c_old,
 *   R = D + s c_old (on g's columns), H = XTX[g, g], sums over the og rows.
 * With P = D XTX[:, g] [og, ig] and x = s (P + s c_old H), loss(c) = loss + score(c) - score(c_old)
 * where score(c) = s^2 N[c] - 2 <c, x>, N[c] = c^T H c: aqlm_topk_scores does all K at once.
 *
 * The reference recomputes R XTX[:, g] for every step (out*in*in*2 FLOP per pass). Here the whole
 * product E = D XTX [rows, in] is formed once per pass (one sgemm) and kept current: P is E's
 * g-columns; inside g a code change c_old -> c_new moves P by -s (c_new - c_old) H (O(og ig^2));
 * at the end of g, a hypothesis whose codes changed updates its E rows by -delta XTX[g, :]
 * (delta = s * the change of its codewords, [og, ig]). Codes that stay cost nothing, and after
 * the first epochs most codes stay.
 *
 * Hypotheses (B > 1) live in B slots per out-group: E rows [og, in] and codes [Ig, M]. Inside g
 * only the small g-local part (its M codes, delta, P, loss, the slot it grew from) is copied
 * when candidates are selected; at the end of g each surviving hypothesis takes over the slot it
 * grew from, and only a slot that two survivors share is copied. Candidates from different
 * hypotheses never coincide (hypotheses differ in an already visited position, and a pass visits
 * each position once), so no de-duplication is needed. B = 1 never copies.
 *
 * The pass is one parallel region; progress is reported after every in-group by thread 0, the
 * thread that called the pass.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

/* Vectors scored per block (a block's out-groups times the beam); codewords per norm task. */
enum { BLOCK_VECTORS = AQLM_BEAM_BLOCK, NORM_CHUNK = 256 };

/* out[b] = sum_e H[b, e] c[e] for H [ig, ig] with row stride ldh; NULL H is the identity. */
static void mul_H(const float *H, int64_t ldh, int ig, const float *c, float *out) {
    for (int b = 0; b < ig; b++) {
        if (!H) {
            out[b] = c[b];
            continue;
        }
        float acc = 0;
        for (int e = 0; e < ig; e++) acc += H[b * ldh + e] * c[e];
        out[b] = acc;
    }
}

typedef struct {    /* the g-local part of the hypotheses of a block, [nb * B] entries */
    uint16_t *code; /* [.., M]  codes of in-group g */
    float *delta;   /* [.., d]  how much Wq moved on g's columns since the start of g */
    float *P;       /* [.., d]  E[:, g], kept current */
    double *loss;
    int *slot; /* the slot the hypothesis grew from at the start of g */
} local_state;

typedef struct {
    int og, ig, d, M, K, B, top;
    int64_t in, Og, Ig;
    const float *XTX, *C, *scales;
    float *E;        /* [Og, B, og, in] per slot: (W - Wq) XTX */
    uint16_t *codes; /* [Og, B, Ig, M] per slot */
    double *loss;    /* [Og, B] per slot */
    int *slot;       /* [Og, B] slot of hypothesis j (ascending loss) */
    int *nh;         /* [Og] live hypotheses */
    int nb;          /* out-groups per block */
} beam_ctx;

typedef struct { /* per-thread scratch */
    float *x, *a, *val, *old, *tmp, *tmp2;
    int32_t *idx;
    local_state cur, nxt;
} beam_scratch;

static void local_alloc(local_state *s, int n, int M, int d) {
    s->code = rf_malloc((size_t)n * M * sizeof *s->code);
    s->delta = rf_malloc((size_t)n * d * sizeof *s->delta);
    s->P = rf_malloc((size_t)n * d * sizeof *s->P);
    s->loss = rf_malloc((size_t)n * sizeof *s->loss);
    s->slot = rf_malloc((size_t)n * sizeof *s->slot);
}

static void local_free(local_state *s) {
    free(s->code);
    free(s->delta);
    free(s->P);
    free(s->loss);
    free(s->slot);
}

static void local_copy(const beam_ctx *c, local_state *dst, int jd, const local_state *src,
                       int js) {
    memcpy(dst->code + jd * c->M, src->code + js * c->M, (size_t)c->M * sizeof *dst->code);
    memcpy(dst->delta + jd * c->d, src->delta + js * c->d, (size_t)c->d * sizeof *dst->delta);
    memcpy(dst->P + jd * c->d, src->P + js * c->d, (size_t)c->d * sizeof *dst->P);
    dst->loss[jd] = src->loss[js];
    dst->slot[jd] = src->slot[js];
}

/* Hypothesis j of local state s switches codebook m's code to k (out-group scale sc). */
static void local_set_code(const beam_ctx *c, beam_scratch *t, local_state *s, int j, int m, int k,
                           float sc, const float *H) {
    int old = s->code[j * c->M + m];
    if (old == k) return;
    const float *cn = c->C + ((int64_t)m * c->K + k) * c->d;
    const float *co = c->C + ((int64_t)m * c->K + old) * c->d;
    float *delta = s->delta + j * c->d, *P = s->P + j * c->d;
    for (int e = 0; e < c->d; e++) t->tmp[e] = sc * (cn[e] - co[e]);
    for (int a = 0; a < c->og; a++) {
        mul_H(H, c->in, c->ig, t->tmp + a * c->ig, t->tmp2);
        for (int b = 0; b < c->ig; b++) {
            delta[a * c->ig + b] += t->tmp[a * c->ig + b];
            P[a * c->ig + b] -= t->tmp2[b];
        }
    }
    s->code[j * c->M + m] = (uint16_t)k;
}

/* A candidate: hypothesis j with codebook m's code set to k, at loss l. */
typedef struct {
    double l;
    int j, k;
} cand;

static int cand_before(const cand *x, const cand *y) {
    if (x->l != y->l) return x->l < y->l;
    if (x->j != y->j) return x->j < y->j;
    return x->k < y->k;
}

/* E rows [og, in] of one slot -= delta [og, ig] XTX[g's rows, :] (only g's columns without XTX). */
static void update_E(const beam_ctx *c, float *E, const float *delta, int64_t g) {
    int changed = 0;
    for (int e = 0; e < c->d; e++) changed |= delta[e] != 0;
    if (!changed) return;
    for (int a = 0; a < c->og; a++) {
        float *row = E + a * c->in;
        if (c->XTX)
            cblas_sgemv(CblasRowMajor, CblasTrans, c->ig, (int)c->in, -1.0f,
                        c->XTX + g * c->ig * c->in, (int)c->in, delta + a * c->ig, 1, 1.0f, row, 1);
        else
            for (int b = 0; b < c->ig; b++) row[g * c->ig + b] -= delta[a * c->ig + b];
    }
}

/* All codebooks of in-group g for the out-groups [o0, o1). N: [M, K] codeword norms for g. */
static void beam_block(const beam_ctx *c, beam_scratch *t, int64_t o0, int64_t o1, int64_t g,
                       const int *m_order, const float *N) {
    const int og = c->og, ig = c->ig, d = c->d, M = c->M, B = c->B;
    const int64_t in = c->in, nb = o1 - o0;
    const float *H = c->XTX ? c->XTX + g * ig * in + g * ig : NULL;

    for (int64_t o = 0; o < nb; o++)
        for (int j = 0; j < c->nh[o0 + o]; j++) {
            int s = c->slot[(o0 + o) * B + j], h = (int)o * B + j;
            const float *E = c->E + ((o0 + o) * B + s) * og * in;
            memcpy(t->cur.code + h * M, c->codes + (((o0 + o) * B + s) * c->Ig + g) * M,
                   (size_t)M * sizeof *t->cur.code);
            for (int a = 0; a < og; a++)
                memcpy(t->cur.P + h * d + a * ig, E + a * in + g * ig, (size_t)ig * sizeof *E);
            memset(t->cur.delta + h * d, 0, (size_t)d * sizeof *t->cur.delta);
            t->cur.loss[h] = c->loss[(o0 + o) * B + s];
            t->cur.slot[h] = s;
        }

    int nh[BLOCK_VECTORS]; /* nb <= BLOCK_VECTORS */
    for (int64_t o = 0; o < nb; o++) nh[o] = c->nh[o0 + o];
    for (int mi = 0; mi < M; mi++) {
        const int m = m_order[mi];
        const float *Cm = c->C + (int64_t)m * c->K * d, *Nm = N + (int64_t)m * c->K;
        /* x = s (P + s c_old H) for every live hypothesis, packed [nv, d]. */
        int nv = 0;
        for (int64_t o = 0; o < nb; o++) {
            const float s = c->scales[o0 + o];
            for (int j = 0; j < nh[o]; j++, nv++) {
                int h = (int)o * B + j, old = t->cur.code[h * M + m];
                const float *co = Cm + (int64_t)old * d;
                float *x = t->x + nv * d, dot = 0;
                for (int a = 0; a < og; a++) {
                    mul_H(H, in, ig, co + a * ig, t->tmp2);
                    for (int b = 0; b < ig; b++)
                        x[a * ig + b] = s * (t->cur.P[h * d + a * ig + b] + s * t->tmp2[b]);
                }
                for (int e = 0; e < d; e++) dot += co[e] * x[e];
                t->a[nv] = s * s;
                t->old[nv] = s * s * Nm[old] - 2.0f * dot;
            }
        }
        aqlm_topk_scores(t->x, t->a, nv, d, Cm, Nm, c->K, c->top, t->idx, t->val);

        nv = 0;
        for (int64_t o = 0; o < nb; o++) {
            const float s = c->scales[o0 + o];
            if (nh[o] == 1 && c->top == 1) { /* beam 1: move in place */
                rf_check(t->idx[nv] >= 0, "beam search: no finite candidate");
                t->cur.loss[o * B] += (double)t->val[nv] - t->old[nv];
                local_set_code(c, t, &t->cur, (int)o * B, m, t->idx[nv], s, H);
                nv++;
                continue;
            }
            /* The B best of the nh * top candidates, from the hypotheses' own top lists. */
            cand best[AQLM_MAX_BEAM];
            int nbest = 0;
            for (int j = 0; j < nh[o]; j++, nv++)
                for (int r = 0; r < c->top; r++) {
                    int32_t k = t->idx[nv * c->top + r];
                    if (k < 0) continue;
                    double l =
                        t->cur.loss[o * B + j] + ((double)t->val[nv * c->top + r] - t->old[nv]);
                    cand x = {l, j, k};
                    if (nbest == B && !cand_before(&x, &best[B - 1])) continue;
                    int p = nbest < B ? nbest++ : B - 1;
                    while (p > 0 && cand_before(&x, &best[p - 1])) best[p] = best[p - 1], p--;
                    best[p] = x;
                }
            rf_check(nbest > 0, "beam search: no finite candidate");
            for (int r = 0; r < nbest; r++) {
                local_copy(c, &t->nxt, (int)o * B + r, &t->cur, (int)o * B + best[r].j);
                t->nxt.loss[o * B + r] = best[r].l;
                local_set_code(c, t, &t->nxt, (int)o * B + r, m, best[r].k, s, H);
            }
            for (int r = 0; r < nbest; r++)
                local_copy(c, &t->cur, (int)o * B + r, &t->nxt, (int)o * B + r);
            nh[o] = nbest;
        }
    }

    /* Write back: each survivor takes over the slot it grew from; a slot wanted twice is copied
     * (E rows and codes, before any update) into a slot nobody wants. */
    for (int64_t o = 0; o < nb; o++) {
        const int64_t og0 = o0 + o;
        int claimed[AQLM_MAX_BEAM] = {0}, dst[AQLM_MAX_BEAM];
        for (int j = 0; j < nh[o]; j++) {
            int s = t->cur.slot[o * B + j];
            dst[j] = claimed[s] ? -1 : s;
            claimed[s] = 1;
        }
        int free_slot = 0;
        for (int j = 0; j < nh[o]; j++) {
            if (dst[j] >= 0) continue;
            while (claimed[free_slot]) free_slot++;
            claimed[free_slot] = 1;
            dst[j] = free_slot;
            int s = t->cur.slot[o * B + j];
            memcpy(c->E + (og0 * B + dst[j]) * og * in, c->E + (og0 * B + s) * og * in,
                   (size_t)(og * in) * sizeof *c->E);
            memcpy(c->codes + (og0 * B + dst[j]) * c->Ig * M, c->codes + (og0 * B + s) * c->Ig * M,
                   (size_t)(c->Ig * M) * sizeof *c->codes);
        }
        for (int j = 0; j < nh[o]; j++) {
            int h = (int)o * B + j, s = dst[j];
            memcpy(c->codes + ((og0 * B + s) * c->Ig + g) * M, t->cur.code + h * M,
                   (size_t)M * sizeof *c->codes);
            update_E(c, c->E + (og0 * B + s) * og * in, t->cur.delta + h * d, g);
            c->loss[og0 * B + s] = t->cur.loss[h];
            c->slot[og0 * B + j] = s;
        }
        c->nh[og0] = nh[o];
    }
}

int aqlm_beam_pass(const float *W, const float *XTX, rf_aqlm_matrix *q, int beam_size,
                   const int64_t *g_order, const int *m_order, double *group_loss,
                   const aqlm_progress *progress) {
    beam_ctx c = {.og = q->og,
                  .ig = q->ig,
                  .d = q->og * q->ig,
                  .M = q->M,
                  .K = q->K,
                  .B = beam_size,
                  .top = beam_size < q->K ? beam_size : q->K,
                  .in = q->in_features,
                  .Og = q->out_features / q->og,
                  .Ig = q->in_features / q->ig,
                  .XTX = XTX,
                  .C = q->codebooks,
                  .scales = q->scales};
    rf_check(beam_size >= 1 && beam_size <= AQLM_MAX_BEAM, "beam_size %d: at most %d", beam_size,
             AQLM_MAX_BEAM);
    const int og = c.og, M = c.M, B = c.B;
    const int64_t out = q->out_features, in = c.in, Og = c.Og, Ig = c.Ig;
    c.nb = BLOCK_VECTORS / B > 0 ? BLOCK_VECTORS / B : 1;

    /* Slot 0 of every out-group: E = (W - Wq) XTX and the current codes. Beam 1 only needs loss
     * differences; beam > 1 (or a caller) needs the losses themselves: sum of D .* E. */
    c.E = rf_malloc((size_t)(B * out * in) * sizeof *c.E);
    c.codes = rf_malloc((size_t)(B * Og * Ig * M) * sizeof *c.codes);
    c.loss = rf_calloc((size_t)(B * Og), sizeof *c.loss);
    c.slot = rf_calloc((size_t)(B * Og), sizeof *c.slot);
    c.nh = rf_malloc((size_t)Og * sizeof *c.nh);
    float *dW = rf_malloc((size_t)(out * in) * sizeof *dW); /* Wq - W = -D */
    aqlm_dequantize_minus(q, W, dW);
    if (XTX)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, (int)in, -1.0f,
                    dW, (int)in, XTX, (int)in, 0.0f, c.E, (int)in);
    else
        for (int64_t j = 0; j < out * in; j++) c.E[j] = -dW[j];
    if (B > 1 || group_loss)
        for (int64_t o = 0; o < Og; o++) {
            double l = 0;
            for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) l -= (double)dW[j] * c.E[j];
            c.loss[o * B] = l;
        }
    free(dW);
    for (int64_t o = Og - 1; B > 1 && o >= 0; o--) /* [Og, og, in] -> [Og, B, og, in], in place */
        memmove(c.E + o * B * og * in, c.E + o * og * in, (size_t)(og * in) * sizeof *c.E);
    for (int64_t o = 0; o < Og; o++) {
        for (int s = 0; s < B; s++)
            memcpy(c.codes + (o * B + s) * Ig * M, q->codes + o * Ig * M,
                   (size_t)(Ig * M) * sizeof *c.codes);
        c.nh[o] = 1;
    }

    const int64_t nblk = (Og + c.nb - 1) / c.nb;
    const int nchunk = (c.K + NORM_CHUNK - 1) / NORM_CHUNK;
    float *N = rf_malloc((size_t)M * c.K * sizeof *N);
    int stop = 0; /* the progress callback's answer: thread 0 writes it between two barriers */
#pragma omp parallel
    {
        const int nloc = c.nb * B, d = c.d;
        beam_scratch t;
        t.x = rf_malloc((size_t)nloc * d * sizeof *t.x);
        t.a = rf_malloc((size_t)nloc * sizeof *t.a);
        t.old = rf_malloc((size_t)nloc * sizeof *t.old);
        t.val = rf_malloc((size_t)nloc * c.top * sizeof *t.val);
        t.idx = rf_malloc((size_t)nloc * c.top * sizeof *t.idx);
        t.tmp = rf_malloc((size_t)d * sizeof *t.tmp);
        t.tmp2 = rf_malloc((size_t)c.ig * sizeof *t.tmp2);
        local_alloc(&t.cur, nloc, M, d);
        local_alloc(&t.nxt, nloc, M, d);
        for (int64_t gi = 0; gi < Ig; gi++) {
            const int64_t g = g_order[gi];
            const float *H = XTX ? XTX + g * c.ig * in + g * c.ig : NULL;
#pragma omp for schedule(static)
            for (int64_t mc = 0; mc < (int64_t)M * nchunk; mc++) {
                int64_t m = mc / nchunk, k0 = (mc % nchunk) * NORM_CHUNK;
                int kc = c.K - k0 < NORM_CHUNK ? (int)(c.K - k0) : NORM_CHUNK;
                aqlm_codeword_norms(c.C + (m * c.K + k0) * d, kc, og, c.ig, H, in,
                                    N + m * c.K + k0);
            }
            /* Every thread reads the answer to the previous in-group's report after the barrier
             * above, so all leave together or none does. */
            if (stop) break;
#pragma omp for schedule(dynamic, 1)
            for (int64_t blk = 0; blk < nblk; blk++) {
                int64_t o0 = blk * c.nb, o1 = o0 + c.nb < Og ? o0 + c.nb : Og;
                beam_block(&c, &t, o0, o1, g, m_order + gi * M, N);
            }
            /* After the loop's barrier the in-group is done. Only the thread that called the pass
             * reports: the caller may make MPI calls in the callback. */
            if (omp_get_thread_num() == 0) stop = aqlm_progress_report(progress, (gi + 1.0) / Ig);
        }
        local_free(&t.nxt);
        local_free(&t.cur);
        free(t.tmp2);
        free(t.tmp);
        free(t.idx);
        free(t.val);
        free(t.old);
        free(t.a);
        free(t.x);
    }
    for (int64_t o = 0; o < Og; o++) { /* hypothesis 0 is the best */
        memcpy(q->codes + o * Ig * M, c.codes + (o * B + c.slot[o * B]) * Ig * M,
               (size_t)(Ig * M) * sizeof *q->codes);
        if (group_loss) group_loss[o] = c.loss[o * B + c.slot[o * B]];
    }
    free(N);
    free(c.nh);
    free(c.slot);
    free(c.loss);
    free(c.codes);
    free(c.E);
    return stop ? RF_CANCELLED : RF_OK;
}
