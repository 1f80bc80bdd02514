/* paramgen.c -- ParamGen (paramgen.h; the model in vitgen.h, the derivations in docs/vqc.md): the
 * public RiverONE code's stage 4, and its classical baseline.
 *
 *   features  x [2^q], N(0, 1) from the seed (stored as float); psi0 = x / |x|, complex128
 *   circuit   L layers of RX RY RZ per qubit (angles [L][q][3]), then, while training, the noise
 *             [L][q] (0 none, 1 X, 2 Y, 3 Z), then the CNOT ring; z [q] = <Z_q> at the end
 *   MLP       q -> width -> width -> (out + in) r (gen_mlp.h, batch 1): y = (U [out, r], V [in, r])
 *   G         S + c U V^T [out, in], c = s / sqrt(r), s = rms(S)
 *   loss      ||G - W||^2 / ||W||^2
 * The baseline feeds the MLP a learned q-vector instead of z. Either model's parameters are one
 * float vector theta = [MLP params | extra], extra = the angles or the baseline's input, under
 * one Adam. Gradients: R = G - W; dL/dU = (2c / |W|^2) R V and dL/dV = (2c / |W|^2) R^T U
 * (sgemm); the MLP's backward to dL/dz; dz/dangles by parameter shift through the same noisy
 * trajectory (2 L q 3 circuits of 2^q amplitudes: adjoint gradients cannot take the noise gates).
 * Initialization: the U half of the output layer is zero (G = S: training starts from plain
 * sharing) and V's output biases are N(0, 1). An all-zero output layer would be a saddle where
 * dL/dU = dL/dV = 0 exactly, and Adam would never leave it.
 * The best iterate by the noise-free loss is kept (the training loss when noise is 0).
 */
#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/statevec/statevec.h"
#include "kernels/vitgen/gen_mlp.h"
#include "kernels/vitgen/paramgen.h"

struct rf_paramgen {
    int64_t out, in;
    int q, L, r, quantum;
    rf_mlp mlp;
    int64_t nextra;        /* L q 3 angles or q inputs */
    const float *S, *W;
    double c, inv_w2;      /* s / sqrt(r); 1 / ||W||^2 */
    uint64_t init_seed;
    float *features;       /* [2^q] */
    rf_c128 *psi0;         /* [2^q] */
    double *angles, *z, *dz; /* [L q 3], [q], [L q 3][q] */
    float *x, *dx;         /* the MLP's input and dL/dinput [q] */
    float *y, *dy, *work;  /* [(out + in) r] twice, the MLP's activations */
    float *R;              /* [out, in]: c U V^T, then G - W */
};

static const rf_c128 PAULI[3][4] = {{0, 1, 1, 0}, {0, -I, I, 0}, {1, 0, 0, -1}};

/* One layer: cur (overwritten) -> next. */
static void layer(rf_c128 *cur, rf_c128 *next, int q, const double *angles,
                  const unsigned char *noise) {
    rf_sv_rotation_layer(cur, q, angles);
    for (int k = 0; noise && k < q; k++)
        if (noise[k]) rf_sv_apply_1q(cur, q, k, PAULI[noise[k] - 1]);
    rf_sv_entangle(cur, next, q, RF_SV_RING, 0);
}

/* Layers from..L-1 on a (overwritten, b is scratch); returns the buffer holding the result. */
static rf_c128 *layers_from(rf_c128 *a, rf_c128 *b, int q, int L, int from, const double *angles,
                            const unsigned char *noise) {
    for (int l = from; l < L; l++) {
        layer(a, b, q, angles + (int64_t)l * q * 3, noise ? noise + (int64_t)l * q : NULL);
        rf_c128 *t = a;
        a = b, b = t;
    }
    return a;
}

void rf_paramgen_circuit(const rf_c128 *psi0, int q, int L, const double *angles,
                         const unsigned char *noise, double *z, double *dz) {
    const int64_t dim = (int64_t)1 << q, nang = (int64_t)L * q * 3;
    /* pre[l] = the state entering layer l: a shifted angle of layer l reruns layers l.. only */
    rf_c128 *pre = rf_malloc((size_t)(L + 2) * dim * sizeof *pre), *scratch = pre + (L + 1) * dim;
    memcpy(pre, psi0, (size_t)dim * sizeof *pre);
    for (int l = 0; l < L; l++) {
        memcpy(scratch, pre + l * dim, (size_t)dim * sizeof *pre);
        layer(scratch, pre + (l + 1) * dim, q, angles + (int64_t)l * q * 3,
              noise ? noise + (int64_t)l * q : NULL);
    }
    rf_sv_expval_z(pre + L * dim, q, z);
    if (dz) {
        /* one whole circuit per thread (the state kernels inside run on one thread): a state of
         * 2^12 amplitudes is too small to split well. Each angle writes its own rows of dz, so
         * the result does not depend on the thread count. */
#pragma omp parallel
        {
            rf_c128 *a = rf_malloc(2 * (size_t)dim * sizeof *a), *b = a + dim;
            double la[RF_SV_MAX_QUBITS * 3], zs[2][RF_SV_MAX_QUBITS];
#pragma omp for schedule(dynamic)
            for (int64_t i = 0; i < nang; i++) {
                const int l = (int)(i / (3 * q));
                for (int side = 0; side < 2; side++) {
                    memcpy(la, angles + (int64_t)l * q * 3, (size_t)q * 3 * sizeof *la);
                    la[i % (3 * q)] += side ? -M_PI_2 : M_PI_2;
                    memcpy(a, pre + l * dim, (size_t)dim * sizeof *a);
                    layer(a, b, q, la, noise ? noise + (int64_t)l * q : NULL);
                    rf_sv_expval_z(layers_from(b, a, q, L, l + 1, angles, noise), q, zs[side]);
                }
                for (int k = 0; k < q; k++) dz[i * q + k] = 0.5 * (zs[0][k] - zs[1][k]);
            }
            free(a);
        }
    }
    free(pre);
}

rf_paramgen *rf_paramgen_new(const float *shared, const float *target, int64_t out, int64_t in,
                             const rf_gen_config *cfg, uint64_t seed, int quantum) {
    rf_paramgen *p = rf_calloc(1, sizeof *p);
    p->out = out, p->in = in, p->q = cfg->qubits, p->L = cfg->layers, p->r = cfg->rank;
    p->quantum = quantum, p->S = shared, p->W = target;
    const int q = p->q, sizes[4] = {q, cfg->width, cfg->width, (int)((out + in) * p->r)};
    rf_check((out + in) * p->r <= 1 << 30, "paramgen: (%lld + %lld) x %d outputs", (long long)out,
             (long long)in, p->r);
    rf_mlp_init(&p->mlp, 3, sizes);
    p->nextra = quantum ? (int64_t)p->L * q * 3 : q;
    const int64_t n = out * in, dim = (int64_t)1 << q, ny = (out + in) * p->r;
    const double ss = rf_gen_sum_sq_diff(shared, NULL, n), ww = rf_gen_sum_sq_diff(target, NULL, n);
    p->c = sqrt(ss / (double)n) / sqrt((double)p->r);
    p->inv_w2 = ww > 0 ? 1 / ww : 1; /* W = 0: the plain squared error */

    rf_rng rng;
    rf_rng_init(&rng, seed);
    p->init_seed = rf_rng_u64(&rng);
    p->features = rf_malloc((size_t)dim * sizeof *p->features);
    double *x = rf_malloc((size_t)dim * sizeof *x);
    for (int64_t j = 0; j < dim; j++) x[j] = p->features[j] = (float)rf_rng_normal(&rng);
    p->psi0 = rf_malloc((size_t)dim * sizeof *p->psi0);
    rf_check(rf_sv_encode(p->psi0, q, x, dim) == RF_OK, "paramgen features: %s", rf_last_error());
    free(x);

    const int64_t nang = (int64_t)p->L * q * 3;
    p->angles = rf_malloc((size_t)nang * sizeof *p->angles);
    p->z = rf_malloc((size_t)q * sizeof *p->z);
    p->dz = rf_malloc((size_t)nang * q * sizeof *p->dz);
    p->x = rf_malloc((size_t)q * sizeof *p->x);
    p->dx = rf_malloc((size_t)q * sizeof *p->dx);
    p->y = rf_malloc((size_t)ny * sizeof *p->y);
    p->dy = rf_malloc((size_t)ny * sizeof *p->dy);
    p->work = rf_malloc(rf_mlp_work_floats(&p->mlp, 1) * sizeof *p->work);
    p->R = rf_malloc((size_t)n * sizeof *p->R);
    return p;
}

int64_t rf_paramgen_ntheta(const rf_paramgen *p) { return p->mlp.nparams + p->nextra; }

void rf_paramgen_init(const rf_paramgen *p, float *theta) {
    rf_rng rng;
    rf_rng_init(&rng, p->init_seed);
    rf_mlp_init_params(&p->mlp, theta, rf_rng_u64(&rng), 1);
    const int64_t nv = p->in * p->r;
    float *vbias = theta + p->mlp.nparams - nv; /* the output bias ends with V's */
    for (int64_t j = 0; j < nv; j++) vbias[j] = (float)rf_rng_normal(&rng);
    /* both models draw the same MLP; then angles uniform in [-pi, pi), or a small input */
    float *extra = theta + p->mlp.nparams;
    for (int64_t j = 0; j < p->nextra; j++)
        extra[j] = (float)(p->quantum ? (2 * rf_rng_uniform(&rng) - 1) * M_PI
                                      : 0.1 * rf_rng_normal(&rng));
}

/* The MLP's input (z of the circuit, or the learned vector) and its output p->y at theta;
 * with_dz: also dz/dangles. */
static void forward(rf_paramgen *p, const float *theta, const unsigned char *noise, int with_dz) {
    const float *extra = theta + p->mlp.nparams;
    if (p->quantum) {
        for (int64_t j = 0; j < p->nextra; j++) p->angles[j] = extra[j];
        rf_paramgen_circuit(p->psi0, p->q, p->L, p->angles, noise, p->z, with_dz ? p->dz : NULL);
        for (int k = 0; k < p->q; k++) p->x[k] = (float)p->z[k];
    } else {
        memcpy(p->x, extra, (size_t)p->q * sizeof *p->x);
    }
    rf_mlp_forward(&p->mlp, theta, p->x, 1, p->y, p->work);
}

/* P = c U V^T [out, in] from p->y. */
static void low_rank(const rf_paramgen *p, float *P) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)p->out, (int)p->in, p->r,
                (float)p->c, p->y, p->r, p->y + p->out * p->r, p->r, 0.0f, P, (int)p->in);
}

double rf_paramgen_loss(rf_paramgen *p, const float *theta, const unsigned char *noise,
                        float *grad) {
    forward(p, theta, noise, grad != NULL);
    low_rank(p, p->R);
    const int64_t n = p->out * p->in;
    const float *S = p->S, *W = p->W;
    float *R = p->R;
    /* G = S + P rounded exactly as the materialized G is, so the kept loss is G's */
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) R[j] = (S[j] + R[j]) - W[j];
    const double loss = rf_gen_sum_sq_diff(R, NULL, n);
    if (!grad) return loss * p->inv_w2;

    const float a = (float)(2 * p->c * p->inv_w2);
    const float *U = p->y, *V = p->y + p->out * p->r;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->out, p->r, (int)p->in, a, R,
                (int)p->in, V, p->r, 0.0f, p->dy, p->r);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p->in, p->r, (int)p->out, a, R,
                (int)p->in, U, p->r, 0.0f, p->dy + p->out * p->r, p->r);
    memset(grad, 0, (size_t)p->mlp.nparams * sizeof *grad);
    rf_mlp_backward(&p->mlp, theta, p->x, 1, p->dy, p->work, grad, p->dx);
    float *gx = grad + p->mlp.nparams;
    if (p->quantum) {
        for (int64_t j = 0; j < p->nextra; j++) {
            double s = 0;
            for (int k = 0; k < p->q; k++) s += (double)p->dx[k] * p->dz[j * p->q + k];
            gx[j] = (float)s;
        }
    } else {
        memcpy(gx, p->dx, (size_t)p->q * sizeof *gx);
    }
    return loss * p->inv_w2;
}

/* G [out, in] of the noise-free model at theta. */
static void materialize(rf_paramgen *p, const float *theta, float *G) {
    forward(p, theta, NULL, 0);
    low_rank(p, G);
    const int64_t n = p->out * p->in;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) G[j] = p->S[j] + G[j];
}

void rf_paramgen_free(rf_paramgen *p) {
    if (!p) return;
    free(p->features), free(p->psi0), free(p->angles), free(p->z), free(p->dz), free(p->x);
    free(p->dx), free(p->y), free(p->dy), free(p->work), free(p->R);
    free(p);
}

/* A fresh noise pattern: per qubit per layer, with probability prob, an X, Y or Z (1, 2, 3). */
static void draw_noise(rf_rng *r, double prob, unsigned char *noise, int64_t n) {
    for (int64_t k = 0; k < n; k++)
        noise[k] = rf_rng_uniform(r) < prob ? (unsigned char)(1 + rf_rng_below(r, 3)) : 0;
}

/* Adam from the initial theta for cfg->steps steps; best [ntheta] = the iterate of least
 * noise-free loss. RF_OK or RF_CANCELLED. */
static int train(rf_paramgen *p, const rf_gen_config *cfg, uint64_t noise_seed, float *best,
                 rf_gen_progress *ps) {
    const int64_t nt = rf_paramgen_ntheta(p);
    const int noisy = p->quantum && cfg->noise > 0;
    float *theta = rf_malloc((size_t)nt * sizeof *theta);
    float *grad = rf_malloc((size_t)nt * sizeof *grad);
    unsigned char *noise = rf_calloc((size_t)p->L * p->q, 1);
    rf_rng nr;
    rf_rng_init(&nr, noise_seed);
    rf_adam adam;
    rf_adam_init(&adam, nt);
    rf_paramgen_init(p, theta);
    double best_loss = INFINITY;
    int rc = RF_OK;
    for (int t = 0;; t++) {
        const int last = t == cfg->steps;
        if (noisy && !last) draw_noise(&nr, cfg->noise, noise, (int64_t)p->L * p->q);
        double clean = last ? rf_paramgen_loss(p, theta, NULL, NULL)
                            : rf_paramgen_loss(p, theta, noisy ? noise : NULL, grad);
        if (noisy && !last) clean = rf_paramgen_loss(p, theta, NULL, NULL);
        if (clean < best_loss) {
            best_loss = clean;
            memcpy(best, theta, (size_t)nt * sizeof *best);
        }
        if (last) break;
        rf_adam_step(&adam, theta, grad, cfg->lr);
        if (rf_gen_progress_step(ps)) {
            rc = RF_CANCELLED;
            break;
        }
    }
    rf_adam_free(&adam);
    free(noise), free(grad), free(theta);
    return rc;
}

/* theta's MLP part as the checkpoint's mlp.L.weight / mlp.L.bias tensors. */
static void add_mlp_tensors(rf_gen_result *res, const rf_mlp *m, const float *theta) {
    for (int l = 0; l < m->nlayers; l++) {
        char name[32];
        const int64_t wd[2] = {m->sizes[l + 1], m->sizes[l]}, bd[1] = {m->sizes[l + 1]};
        snprintf(name, sizeof name, "mlp.%d.weight", l);
        rf_gen_add_tensor(res, name, 2, wd, theta);
        theta += wd[0] * wd[1];
        snprintf(name, sizeof name, "mlp.%d.bias", l);
        rf_gen_add_tensor(res, name, 1, bd, theta);
        theta += bd[0];
    }
}

int rf_paramgen_train(const float *shared, const float *target, int64_t out, int64_t in,
                      const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res,
                      rf_gen_stats *stats, rf_progress_fn progress, void *progress_ctx) {
    /* s = rms(S) scales U V^T: an all-zero S would leave nothing to train */
    const double ss = rf_gen_sum_sq_diff(shared, NULL, out * in);
    const double ww = rf_gen_sum_sq_diff(target, NULL, out * in);
    if (!(ss > 0) || !isfinite(ss) || !isfinite(ww))
        return rf_fail("paramgen: the %s matrix [%lld, %lld] is %s",
                       isfinite(ww) ? "shared" : "target", (long long)out, (long long)in,
                       isfinite(ww) && isfinite(ss) ? "all zero" : "not finite");
    rf_rng rng;
    rf_rng_init(&rng, seed);
    const uint64_t model_seed = rf_rng_u64(&rng), noise_seed = rf_rng_u64(&rng);
    rf_gen_progress ps = {progress, progress_ctx, 0, 2 * cfg->steps};

    /* the baseline first: its buffers are gone before the generator's result is built */
    rf_paramgen *p = rf_paramgen_new(shared, target, out, in, cfg, model_seed, 0);
    float *best = rf_malloc((size_t)rf_paramgen_ntheta(p) * sizeof *best);
    int rc = train(p, cfg, noise_seed, best, &ps);
    if (rc == RF_OK) {
        materialize(p, best, p->R);
        stats->baseline_rel_w_err = rf_gen_rel_err(p->R, target, out * in);
        stats->baseline_params = rf_paramgen_ntheta(p);
    }
    free(best);
    rf_paramgen_free(p);
    if (rc != RF_OK) return rc;

    p = rf_paramgen_new(shared, target, out, in, cfg, model_seed, 1);
    best = rf_malloc((size_t)rf_paramgen_ntheta(p) * sizeof *best);
    rc = train(p, cfg, noise_seed, best, &ps);
    if (rc == RF_OK) {
        materialize(p, best, p->R);
        res->weight = p->R; /* handed over, not copied */
        p->R = NULL;
        stats->rel_w_err = rf_gen_rel_err(res->weight, target, out * in);
        stats->params = rf_paramgen_ntheta(p);
        stats->qubits = p->q, stats->layers = p->L, stats->steps = cfg->steps;
        const int64_t adims[3] = {p->L, p->q, 3}, fdims[1] = {(int64_t)1 << p->q}, sdims[1] = {1};
        const float scale = (float)(p->c * sqrt((double)p->r)); /* s = rms(S) */
        rf_gen_add_tensor(res, "angles", 3, adims, best + p->mlp.nparams);
        rf_gen_add_tensor(res, "features", 1, fdims, p->features);
        add_mlp_tensors(res, &p->mlp, best);
        rf_gen_add_tensor(res, "scale", 1, sdims, &scale);
    }
    free(best);
    rf_paramgen_free(p);
    return rc;
}

/* The cost model, per step of one model: one rotation layer is q 2^(q-1) pairs times a 2x2
 * complex product (28 flop); <Z> reads |psi|^2 (3 flop) and adds it into q sums. The shifted
 * circuits of layer l rerun L - l layers. The MLP's backward is twice its forward (weight
 * gradient and input gradient), Adam about 12 flop a parameter. */
double rf_paramgen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg) {
    const double n = (double)out * in, r = cfg->rank, q = cfg->qubits, L = cfg->layers;
    const double dim = ldexp(1, cfg->qubits), w = cfg->width, ny = (double)(out + in) * r;
    const double weights = q * w + w * w + w * ny, nmlp = weights + 2 * w + ny;
    const double rot = 14 * q * dim, readout = (3 + q) * dim;
    const double circuit = L * rot + readout;
    const double shift = 6 * q * (L * (L + 1) / 2 * rot + L * readout);
    const double eval = 2 * weights + 2 * n * r + 4 * n; /* MLP, c U V^T, G - W and the loss */
    const double grad = 4 * weights + 4 * n * r;        /* MLP backward, R V and R^T U */
    const double base_step = eval + grad + 12 * (nmlp + q);
    double gen_step = circuit + shift + eval + grad + 12 * (nmlp + L * q * 3);
    if (cfg->noise > 0) gen_step += circuit + eval; /* the noise-free loss of the iterate */
    /* each model's final evaluation, its materialization and its error */
    const double tail = 2 * (2 * eval + 4 * n) + 2 * circuit;
    return cfg->steps * (gen_step + base_step) + tail;
}

/* The generator's peak (the baseline's is smaller): R [out, in]; theta, its gradient, Adam's two
 * moments and the best iterate (5 x the parameters); y and dy; the MLP's activations; the cached
 * and per-thread states and dz/dangles. The result hands R over as G; the tensors' copies then
 * add the best theta once more, under the training peak. */
double rf_paramgen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg) {
    const double n = (double)out * in, q = cfg->qubits, L = cfg->layers, w = cfg->width;
    const double dim = ldexp(1, cfg->qubits), ny = (double)(out + in) * cfg->rank;
    const double ntheta = q * w + w * w + w * ny + 2 * w + ny + L * q * 3;
    const double states = 16 * dim * (2 + L + 2 * omp_get_max_threads()) + 8 * dim;
    return 4 * (n + 5 * ntheta + 2 * ny + 3 * w) + states + 8 * L * q * 3 * (q + 1);
}
