/* qgp.c -- the QGP generator and its classical baseline (qgp.h; the model in vitgen.h, the
 * derivations in docs/vqc.md).
 *
 * Shapes: S, W [N = out * in]; n = ceil(log2 N) qubits, D = 2^n amplitudes (c64), L layers.
 *   psi  = circuit(encode(S))            c64 [D], angles double [L][n][3] (kept as float params)
 *   p    = |psi|^2                        float [D], then overwritten by dL/dp for the adjoint
 *   f_j  = (p_j D, bit_q(j) ? +1 : -1 for q < n, S_j / s)    F = n + 2, s = rms(S)
 *   G_j  = S_j + s mlp(f_j)               mlp F -> H -> H -> 1 (tanh), output layer zero at start
 *   loss = sum_j (G_j - W_j)^2 / sum_j W_j^2
 * Trainable parameters: one flat float vector [mlp params (gen_mlp.h layout) | angles L*n*3], one
 * Adam over all of it. The angles are float so that the stored "angles" tensor reproduces G
 * exactly; the circuit gets them widened to double.
 * The read-out over all entries is rf_readout_eval (gen_mlp.h): features, MLP, loss and its
 * gradient fused per chunk of entries, the chunks summed in a fixed order (so results do not
 * depend on the thread count), and dL/dp_j = dL/df_j0 * D written over p to feed rf_sv_adjoint
 * for the angle gradient. Every step re-encodes S rather than trusting the
 * adjoint's restored input, so rounding never drifts over steps.
 * Baseline: the same read-out without the p_j feature (F - 1 inputs) and no circuit, its width
 * raised from H until it has at least as many parameters as the generator.
 * Both keep their best iterate: G is written during each loss pass and kept when the loss is the
 * lowest so far, so the result needs no extra pass and starts from G = S (step 0, zero output).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/statevec/statevec.h"
#include "kernels/vitgen/qgp.h"
#include "kernels/vitgen/qgp_readout.h"

int rf_qgp_qubits(int64_t out, int64_t in) {
    int n = 1;
    while (((int64_t)1 << n) < out * in) n++;
    return n;
}

/* One read-out task: the generator (quantum = 1) or the baseline. */
typedef struct {
    int quantum, n, L, F;
    int64_t N, D, nmlp, nparams;
    const float *S, *W;
    float s, inv_s;
    double ww; /* sum W^2 (1 when W is zero: the loss is then absolute) */
    rf_mlp mlp;
    rf_c64 *psi, *work; /* quantum: state [D], scratch [3 D] */
    float *p;           /* quantum: p [D], then dL/dp */
    double *ang, *agrad; /* quantum: [L n 3] */
    rf_readout ro;                  /* the fused read-out over all entries */
    rf_readout_work *rw;            /* its scratch, made once per training */
} readout;

static int64_t mlp_params(int F, int H) { return (int64_t)(F + 1) * H + (int64_t)(H + 1) * H + H + 1; }

/* The baseline's width: the smallest >= H whose read-out has at least `target` parameters. */
static int baseline_width(int n, int H, int64_t target) {
    while (mlp_params(n + 1, H) < target) H++;
    return H;
}

/* ss = sum S^2 and ww = sum W^2 (rf_gen_sum_sq_diff), computed once by the caller for both the
 * generator and the baseline. */
static void readout_init(readout *r, const float *S, const float *W, int64_t N, double ss,
                         double ww, int quantum, int L, int H) {
    memset(r, 0, sizeof *r);
    r->quantum = quantum;
    r->n = rf_qgp_qubits(N, 1);
    r->L = quantum ? L : 0;
    r->F = r->n + 1 + quantum;
    r->N = N;
    r->D = (int64_t)1 << r->n;
    r->S = S, r->W = W;
    r->s = (float)sqrt(ss / (double)N);
    r->inv_s = 1.0f / r->s;
    r->ww = ww > 0 ? ww : 1.0;
    const int sizes[4] = {r->F, H, H, 1};
    rf_mlp_init(&r->mlp, 3, sizes);
    r->nmlp = r->mlp.nparams;
    r->nparams = r->nmlp + (int64_t)r->L * r->n * 3;
    if (quantum) {
        r->psi = rf_malloc((size_t)r->D * sizeof *r->psi);
        r->work = rf_malloc(3 * (size_t)r->D * sizeof *r->work);
        r->p = rf_malloc((size_t)r->D * sizeof *r->p);
        r->ang = rf_malloc((size_t)r->L * r->n * 3 * sizeof *r->ang);
        r->agrad = rf_malloc((size_t)r->L * r->n * 3 * sizeof *r->agrad);
    }
    r->ro = (rf_readout){.m = &r->mlp, .nbits = r->n, .N = N, .S = S, .W = W, .s = r->s,
                         .inv_s = r->inv_s, .p = quantum ? r->p : NULL, .pscale = (float)r->D,
                         .gscale = 1.0 / r->ww};
    r->rw = rf_readout_work_new(&r->ro);
}

static void readout_free(readout *r) {
    free(r->psi), free(r->work), free(r->p), free(r->ang), free(r->agrad);
    rf_readout_work_free(r->rw);
    memset(r, 0, sizeof *r);
}

/* The loss at params; writes G [N]; when grad is not NULL, also dL/dparams [nparams]
 * (overwritten). */
static double readout_eval(readout *r, const float *params, float *grad, float *G) {
    const int n = r->n;
    if (r->quantum) {
        const int64_t na = (int64_t)r->L * n * 3;
        for (int64_t k = 0; k < na; k++) r->ang[k] = params[r->nmlp + k];
        rf_check(rf_sv_encode(r->psi, n, r->S, r->N) == RF_OK, "qgp: encode: %s", rf_last_error());
        rf_sv_circuit(r->psi, r->work, n, r->L, r->ang, RF_SV_CHAIN);
        rf_sv_probabilities(r->psi, n, r->p);
    }
    /* the read-out's part of grad and, with a gradient, dL/dp over p */
    const double loss = rf_readout_eval(&r->ro, r->rw, params, G, grad);
    if (grad && r->quantum) {
        /* the padding amplitudes are not entries: no loss flows through them */
        memset(r->p + r->N, 0, (size_t)(r->D - r->N) * sizeof *r->p);
        rf_sv_adjoint(r->psi, r->p, r->work, n, r->L, r->ang, RF_SV_CHAIN, r->agrad);
        for (int64_t k = 0; k < (int64_t)r->L * n * 3; k++) grad[r->nmlp + k] = (float)r->agrad[k];
    }
    return loss;
}

double rf_qgp_loss_grad(const float *shared, const float *target, int64_t out, int64_t in,
                        int layers, int width, const float *params, float *grad) {
    readout r;
    const int64_t N = out * in;
    readout_init(&r, shared, target, N, rf_gen_sum_sq_diff(shared, NULL, N),
                 rf_gen_sum_sq_diff(target, NULL, N), 1, layers, width);
    float *G = rf_malloc((size_t)N * sizeof *G);
    const double loss = readout_eval(&r, params, grad, G);
    free(G);
    readout_free(&r);
    return loss;
}

/* `steps` Adam steps from params; on return params and G [N] hold the best iterate. Returns
 * RF_CANCELLED when progress asked to stop, else RF_OK. */
static int readout_train(readout *r, float *params, int steps, double lr, float *G,
                         rf_gen_progress *pr) {
    const int64_t np = r->nparams;
    float *grad = rf_malloc((size_t)np * sizeof *grad), *best = rf_malloc((size_t)np * sizeof *best);
    float *spare = rf_malloc((size_t)r->N * sizeof *spare);
    float *gbest = G, *gcur = spare; /* two G buffers that swap roles on each new best */
    rf_adam adam;
    rf_adam_init(&adam, np);
    int rc = RF_OK;
    double best_loss = INFINITY;
    for (int t = 0; t <= steps; t++) {
        /* pass t evaluates the iterate after t updates; the last one needs no gradient */
        const double loss = readout_eval(r, params, t < steps ? grad : NULL, gcur);
        if (loss < best_loss || t == 0) {
            float *tmp = gbest;
            gbest = gcur, gcur = tmp;
            best_loss = loss;
            memcpy(best, params, (size_t)np * sizeof *best);
        }
        if (t == steps) break;
        rf_adam_step(&adam, params, grad, lr);
        if (rf_gen_progress_step(pr)) {
            rc = RF_CANCELLED;
            break;
        }
    }
    if (gbest != G) memcpy(G, gbest, (size_t)r->N * sizeof *G);
    memcpy(params, best, (size_t)np * sizeof *params);
    rf_adam_free(&adam);
    free(spare), free(best), free(grad);
    return rc;
}

/* The read-out's tensors: readout.L.weight [out, in], readout.L.bias [out]. */
static void add_readout_tensors(rf_gen_result *res, const rf_mlp *m, const float *params) {
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        char name[32];
        int64_t dims[2] = {fout, fin};
        snprintf(name, sizeof name, "readout.%d.weight", l);
        rf_gen_add_tensor(res, name, 2, dims, params);
        params += (int64_t)fout * fin;
        snprintf(name, sizeof name, "readout.%d.bias", l);
        rf_gen_add_tensor(res, name, 1, dims, params);
        params += fout;
    }
}

int rf_qgp_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx) {
    const int64_t N = out * in;
    const double ss = rf_gen_sum_sq_diff(shared, NULL, N), ww = rf_gen_sum_sq_diff(target, NULL, N);
    if (!(ss > 0) || !isfinite(ss))
        return rf_fail("qgp: the shared matrix [%lld, %lld] is all zero or not finite",
                       (long long)out, (long long)in);
    rf_rng rng;
    rf_rng_init(&rng, seed);
    const uint64_t gen_seed = rf_rng_u64(&rng), base_seed = rf_rng_u64(&rng);
    rf_gen_progress pr = {progress, progress_ctx, 0, 2 * cfg->steps};

    /* the generator */
    readout g;
    readout_init(&g, shared, target, N, ss, ww, 1, cfg->layers, cfg->width);
    float *params = rf_malloc((size_t)g.nparams * sizeof *params);
    rf_mlp_init_params(&g.mlp, params, gen_seed, 1);
    for (int64_t k = g.nmlp; k < g.nparams; k++) params[k] = (float)(0.1 * rf_rng_normal(&rng));
    res->weight = rf_malloc((size_t)N * sizeof *res->weight);
    int rc = readout_train(&g, params, cfg->steps, cfg->lr, res->weight, &pr);
    const int n = g.n;
    const int64_t gparams = g.nparams, adims[3] = {cfg->layers, n, 3}, sdims[1] = {1};
    if (rc == RF_OK) {
        rf_gen_add_tensor(res, "angles", 3, adims, params + g.nmlp);
        add_readout_tensors(res, &g.mlp, params);
        rf_gen_add_tensor(res, "scale", 1, sdims, &g.s);
    }
    readout_free(&g);
    free(params);

    /* the baseline */
    readout b;
    if (rc == RF_OK) {
        readout_init(&b, shared, target, N, ss, ww, 0, 0, baseline_width(n, cfg->width, gparams));
        float *bparams = rf_malloc((size_t)b.nparams * sizeof *bparams);
        float *bG = rf_malloc((size_t)N * sizeof *bG);
        rf_mlp_init_params(&b.mlp, bparams, base_seed, 1);
        rc = readout_train(&b, bparams, cfg->steps, cfg->lr, bG, &pr);
        stats->baseline_rel_w_err = rf_gen_rel_err(bG, target, N);
        stats->baseline_params = b.nparams;
        free(bG), free(bparams);
        readout_free(&b);
    }
    if (rc != RF_OK) {
        rf_gen_free(res); /* cancelled: res holds nothing */
        return rc;
    }
    stats->rel_w_err = rf_gen_rel_err(res->weight, target, N);
    stats->qubits = n;
    stats->layers = cfg->layers;
    stats->params = gparams;
    stats->steps = cfg->steps;
    return RF_OK;
}

/* FLOP model. Per generator pass: the circuit, n fused 2x2 gates per layer at 14 real FLOP per
 * amplitude each; with the gradient also the adjoint, per layer and qubit 44 FLOP per amplitude
 * (U^dagger on psi and on lambda, 14 each, and the 16 of the M_q accumulation); the read-out
 * 2 N (F H + H H + H) forward and twice that backward (an unfused MLP's count: rf_readout_eval's
 * table lookup of the bit features does about 3 H^2 + 15 H multiply-adds per entry instead). The baseline: its read-out only. Each
 * training runs steps passes with the gradient and one without. */
double rf_qgp_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg) {
    const int n = rf_qgp_qubits(out, in), L = cfg->layers, H = cfg->width;
    const double N = (double)out * (double)in, D = ldexp(1.0, n), steps = cfg->steps;
    const double gen_mlp = 2 * N * (double)(mlp_params(n + 2, H) - 1);
    const int Hb = baseline_width(n, H, mlp_params(n + 2, H) + (int64_t)L * n * 3);
    const double base_mlp = 2 * N * (double)(mlp_params(n + 1, Hb) - 1);
    const double circuit = 14.0 * L * n * D + 8 * D, adjoint = 44.0 * L * n * D + 2 * D;
    return steps * (circuit + adjoint + 3 * gen_mlp + 3 * base_mlp) + circuit + gen_mlp + base_mlp;
}

/* The peak: the generator's phase (the baseline's holds the same G buffers and no state):
 * state + adjoint scratch (4 D c64), p (D floats), G and its spare (2 N), the read-out's scratch
 * (rf_readout_work_bytes), and five copies of the parameters (params, grad, best, Adam m and v). */
double rf_qgp_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg) {
    const int n = rf_qgp_qubits(out, in), H = cfg->width;
    const double N = (double)out * (double)in, D = ldexp(1.0, n);
    const int64_t nmlp = mlp_params(n + 2, H);
    const double np = (double)(nmlp + (int64_t)cfg->layers * n * 3);
    const double scratch = rf_readout_work_bytes(H, n, out * in, nmlp, omp_get_max_threads());
    return 4 * D * sizeof(rf_c64) + 4 * D + 4 * 2 * N + scratch + 4 * 5 * np;
}
