/* gen_mlp.c -- the read-out MLP of the ViT generators and Adam (gen_mlp.h).
 *
 *   forward   a_0 = x [B, s_0];  z_l = a_l W_l^T + b_l [B, s_{l+1}];  a_{l+1} = tanh(z_l) for
 *             hidden layers, y = z_{last}.
 *   backward  d_last = dy;  gW_l += d_l^T a_l;  gb_l += column sums of d_l;
 *             da_l = d_l W_l;  d_{l-1} = da_l * (1 - a_l^2).
 * work [B * (sum of hidden sizes + max hidden size)]: the hidden activations a_1.. (forward), then
 * backward turns each a_l into d_{l-1} in place once its last reader (gW_l) is done, with da_l in
 * the extra slab. Products are row-major sgemm; everything else is elementwise or a fixed-order
 * serial sum, so results depend only on OpenBLAS's thread count. The _ref twins are plain loops
 * accumulating in double, same layouts.
 */
#include "kernels/vitgen/gen_mlp.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "common/rf_simd.h"

void rf_mlp_init(rf_mlp *m, int nlayers, const int *sizes) {
    rf_check(nlayers >= 1 && nlayers <= RF_MLP_MAX_LAYERS, "mlp: %d layers", nlayers);
    memset(m, 0, sizeof *m);
    m->nlayers = nlayers;
    for (int l = 0; l <= nlayers; l++) {
        rf_check(sizes[l] >= 1, "mlp: size %d of layer %d", sizes[l], l);
        m->sizes[l] = sizes[l];
    }
    for (int l = 0; l < nlayers; l++) m->nparams += (int64_t)(sizes[l] + 1) * sizes[l + 1];
}

void rf_mlp_init_params(const rf_mlp *m, float *params, uint64_t seed, int zero_last) {
    rf_rng r;
    rf_rng_init(&r, seed);
    float *p = params;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const int zero = zero_last && l == m->nlayers - 1;
        const double sd = 1.0 / sqrt((double)fin);
        for (int64_t k = 0; k < (int64_t)fout * fin; k++) p[k] = zero ? 0.0f : (float)(sd * rf_rng_normal(&r));
        memset(p + (int64_t)fout * fin, 0, (size_t)fout * sizeof *p);
        p += (int64_t)(fin + 1) * fout;
    }
}

/* tanh of every element, in place, on the process's SIMD path (gen_mlp_simd.c). */
typedef void tanh_fn(float *z, int64_t n);
tanh_fn rf_mlp_tanh_baseline, rf_mlp_tanh_avx2, rf_mlp_tanh_avx512;
static void tanh_inplace(float *z, int64_t n) {
    static tanh_fn *const path[RF_SIMD_NPATHS] = RF_SIMD_TABLE(rf_mlp_tanh);
    path[rf_simd_path()](z, n);
}

static int max_hidden(const rf_mlp *m) {
    int h = 0;
    for (int l = 1; l < m->nlayers; l++) h = m->sizes[l] > h ? m->sizes[l] : h;
    return h;
}

size_t rf_mlp_work_floats(const rf_mlp *m, int64_t batch) {
    size_t sum = 0;
    for (int l = 1; l < m->nlayers; l++) sum += (size_t)m->sizes[l];
    return (size_t)batch * (sum + (size_t)max_hidden(m));
}

/* Pointers of layer l's W and b in params, and of a_l (l >= 1) in work. */
static const float *layer_w(const rf_mlp *m, const float *params, int l) {
    for (int k = 0; k < l; k++) params += (int64_t)(m->sizes[k] + 1) * m->sizes[k + 1];
    return params;
}

static float *act(const rf_mlp *m, float *work, int64_t batch, int l) {
    for (int k = 1; k < l; k++) work += batch * m->sizes[k];
    return work;
}

void rf_mlp_forward(const rf_mlp *m, const float *params, const float *x, int64_t batch, float *y,
                    float *work) {
    rf_check(batch >= 0 && batch <= INT_MAX, "mlp: batch %lld", (long long)batch);
    const float *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1], last = l == m->nlayers - 1;
        const float *W = layer_w(m, params, l), *b = W + (int64_t)fout * fin;
        float *z = last ? y : act(m, work, batch, l + 1);
        /* z starts as the bias rows so that one sgemm with beta = 1 adds the product */
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < batch; i++) memcpy(z + i * fout, b, (size_t)fout * sizeof *z);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, fout, fin, 1.0f, in, fin,
                    W, fin, 1.0f, z, fout);
        if (!last) tanh_inplace(z, batch * fout);
        in = z;
    }
}

void rf_mlp_backward(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                     const float *dy, float *work, float *grad, float *dx) {
    rf_check(batch >= 0 && batch <= INT_MAX, "mlp: batch %lld", (long long)batch);
    float *da = act(m, work, batch, m->nlayers); /* the slab after the last activation */
    const float *d = dy;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const float *W = layer_w(m, params, l);
        float *gW = grad + (W - params), *gb = gW + (int64_t)fout * fin;
        float *a = l > 0 ? act(m, work, batch, l) : NULL;
        const float *in = l > 0 ? a : x;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, fout, fin, (int)batch, 1.0f, d, fout,
                    in, fin, 1.0f, gW, fin);
        /* bias: rows summed in order, in double, so the sum does not depend on the threads */
        for (int o = 0; o < fout; o++) {
            double s = 0;
            for (int64_t i = 0; i < batch; i++) s += d[i * fout + o];
            gb[o] += (float)s;
        }
        if (l == 0 && !dx) break;
        float *dst = l > 0 ? da : dx;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, fin, fout, 1.0f, d, fout,
                    W, fin, 0.0f, dst, fin);
        if (l > 0) {
#pragma omp parallel for schedule(static)
            for (int64_t k = 0; k < batch * fin; k++) a[k] = da[k] * (1.0f - a[k] * a[k]);
            d = a;
        }
    }
}

void rf_mlp_forward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                        float *y, float *work) {
    const float *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1], last = l == m->nlayers - 1;
        const float *W = layer_w(m, params, l), *b = W + (int64_t)fout * fin;
        float *z = last ? y : act(m, work, batch, l + 1);
        for (int64_t i = 0; i < batch; i++)
            for (int o = 0; o < fout; o++) {
                double s = b[o];
                for (int k = 0; k < fin; k++) s += (double)in[i * fin + k] * W[o * fin + k];
                z[i * fout + o] = (float)(last ? s : tanh(s));
            }
        in = z;
    }
}

void rf_mlp_backward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                         const float *dy, float *work, float *grad, float *dx) {
    float *da = act(m, work, batch, m->nlayers);
    const float *d = dy;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const float *W = layer_w(m, params, l);
        float *gW = grad + (W - params), *gb = gW + (int64_t)fout * fin;
        float *a = l > 0 ? act(m, work, batch, l) : NULL;
        const float *in = l > 0 ? a : x;
        for (int o = 0; o < fout; o++) {
            double sb = 0;
            for (int64_t i = 0; i < batch; i++) sb += d[i * fout + o];
            gb[o] += (float)sb;
            for (int k = 0; k < fin; k++) {
                double s = 0;
                for (int64_t i = 0; i < batch; i++) s += (double)d[i * fout + o] * in[i * fin + k];
                gW[o * fin + k] += (float)s;
            }
        }
        if (l == 0 && !dx) break;
        float *dst = l > 0 ? da : dx;
        for (int64_t i = 0; i < batch; i++)
            for (int k = 0; k < fin; k++) {
                double s = 0;
                for (int o = 0; o < fout; o++) s += (double)d[i * fout + o] * W[o * fin + k];
                dst[i * fin + k] = (float)s;
            }
        if (l > 0) {
            for (int64_t k = 0; k < batch * fin; k++) a[k] = (float)((double)da[k] * (1.0 - (double)a[k] * a[k]));
            d = a;
        }
    }
}

void rf_adam_init(rf_adam *a, int64_t n) {
    a->n = n;
    a->t = 0;
    a->m = rf_calloc((size_t)(n > 0 ? n : 1), sizeof *a->m);
    a->v = rf_calloc((size_t)(n > 0 ? n : 1), sizeof *a->v);
}

void rf_adam_step(rf_adam *a, float *params, const float *grad, double lr) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    a->t++;
    /* bias corrections folded into the step size and eps: p -= lr c1 m / (sqrt(v) c2 + eps) with
     * c1 = 1 / (1 - b1^t), c2 = 1 / sqrt(1 - b2^t) */
    const double c1 = 1.0 / (1.0 - pow(b1, a->t)), c2 = 1.0 / sqrt(1.0 - pow(b2, a->t));
    float *m = a->m, *v = a->v;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < a->n; k++) {
        const double g = grad[k];
        const double mk = b1 * m[k] + (1 - b1) * g, vk = b2 * v[k] + (1 - b2) * g * g;
        m[k] = (float)mk;
        v[k] = (float)vk;
        params[k] -= (float)(lr * c1 * mk / (sqrt(vk) * c2 + eps));
    }
}

void rf_adam_free(rf_adam *a) {
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}
