/* bench_qgp.c -- one QGP training step (kernels/vitgen/qgp.c) at RiverONE's shared-block sizes, part by
 * part, against floors from this machine's measured sgemm rate and memcpy bandwidth.
 *
 *   bench_qgp [--reps 2] [--steps 2] [--shapes qkv,fc1]
 *
 * Shapes: qkv [3456, 1152] (22 qubits), fc1 [4304, 1152] (23 qubits); default config (2 layers,
 * width 16). Parts, best of --reps (OMP_NUM_THREADS threads):
 *   circuit     rf_sv_encode + rf_sv_circuit (chain) + rf_sv_probabilities, c64
 *   adjoint     rf_sv_adjoint of that circuit
 *   read-out    rf_readout_eval with the gradient over all N entries (features, MLP forward and
 *               backward, loss, dL/dp: what one training pass runs after the circuit); its FLOP
 *               are those of an unfused MLP (6 N (params - 1)), which the table lookup of the
 *               bit features undercuts, so the ratio to the floor can go below 1
 *   baseline    the same for the baseline's read-out (no p feature, width raised to match)
 *   step        the marginal cost of one rf_gen_train step (generator and baseline):
 *               (t(1 + --steps steps) - t(1 step)) / --steps
 * Floors: FLOP / the rate of a square sgemm; bytes / the rate of a parallel memcpy (bytes moved:
 * every pass over the state reads and writes it; docs/perf.md has the numbers).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/statevec/statevec.h"
#include "kernels/vitgen/qgp.h"
#include "kernels/vitgen/qgp_readout.h"
#include "kernels/vitgen/vitgen.h"

#include "bench_util.h"

static int reps = 2;

/* the fused read-out (rf_readout_eval with the gradient) over N rows, nbits bit features, width H,
 * with the p feature when hasp; returns seconds (best), the FLOP of an unfused forward + backward
 * (6 N (params - 1)) and the bytes it must move (S, W, G; p read and written) */
static double time_readout(int64_t N, int nbits, int hasp, int H, const float *S, const float *W,
                           double *flop, double *bytes) {
    const int sizes[4] = {nbits + 1 + hasp, H, H, 1};
    rf_mlp m;
    rf_mlp_init(&m, 3, sizes);
    float *params = rf_malloc((size_t)m.nparams * sizeof *params);
    float *grad = rf_malloc((size_t)m.nparams * sizeof *grad);
    rf_mlp_init_params(&m, params, 1, 0);
    float *p = rf_malloc((size_t)N * sizeof *p), *G = rf_malloc((size_t)N * sizeof *G);
    const float D = ldexpf(1.0f, nbits);
    rf_readout ro = {.m = &m, .nbits = nbits, .N = N, .S = S, .W = W, .s = 1.0f, .inv_s = 1.0f,
                     .p = hasp ? p : NULL, .pscale = D, .gscale = 1.0 / (double)N};
    rf_readout_work *w = rf_readout_work_new(&ro);
    double t = 1e30;
    for (int r_ = 0; r_ < reps; r_++) {
        for (int64_t j = 0; j < N; j++) p[j] = 1.0f / D; /* dL/dp overwrites it */
        const double t0 = rf_now();
        rf_readout_eval(&ro, w, params, G, grad);
        const double t1 = rf_now() - t0;
        t = t1 < t ? t1 : t;
    }
    *flop = 6.0 * (double)N * (double)(m.nparams - 1);
    *bytes = 4.0 * (double)N * (hasp ? 5 : 3);
    rf_readout_work_free(w);
    free(G), free(p), free(grad), free(params);
    return t;
}

static void row(const char *shape, const char *what, double t, double flop, double bytes,
                double sg, double cp) {
    const double ff = flop / sg, fb = bytes / cp, floor = ff > fb ? ff : fb;
    printf("%-4s %-10s %9.1f ms %8.2f GFLOP %7.2f GB  floor %8.1f ms (flop %7.1f, bytes %7.1f)"
           "  %5.1fx\n",
           shape, what, 1e3 * t, flop / 1e9, bytes / 1e9, 1e3 * floor, 1e3 * ff, 1e3 * fb,
           t / floor);
}

static void bench_shape(const char *name, int64_t out, int64_t in, int steps, double sg,
                        double cp) {
    const rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    const int64_t N = out * in;
    const int n = rf_qgp_qubits(out, in), L = cfg.layers, H = cfg.width;
    const int64_t D = (int64_t)1 << n;
    float *S = rf_malloc((size_t)N * sizeof *S), *W = rf_malloc((size_t)N * sizeof *W);
    rf_rng r;
    rf_rng_init(&r, 3);
    for (int64_t j = 0; j < N; j++) S[j] = (float)rf_rng_normal(&r);
    for (int64_t j = 0; j < N; j++) W[j] = 0.8f * S[j] + 0.6f * (float)rf_rng_normal(&r);
    double ang[64 * 3 * 30], grad[64 * 3 * 30];
    for (int k = 0; k < L * n * 3; k++) ang[k] = 0.1 * rf_rng_normal(&r);
    rf_c64 *psi = rf_malloc((size_t)D * sizeof *psi), *work = rf_malloc(3 * (size_t)D * sizeof *work);
    float *p = rf_malloc((size_t)D * sizeof *p);
    memset(work, 0, 3 * (size_t)D * sizeof *work);
    const double A = 8.0 * (double)D; /* bytes of one c64 state */

    double t_c, t_a;
    BEST(t_c, reps, {
        rf_sv_encode(psi, n, S, N);
        rf_sv_circuit(psi, work, n, L, ang, RF_SV_CHAIN);
        rf_sv_probabilities(psi, n, p);
    });
    const double passes = rf_sv_layer_passes(n, 8), apasses = rf_sv_layer_passes(n, 16);
    const double c_flop = 14.0 * L * n * D + 8.0 * D;
    const double c_bytes = (4.0 * N + 2 * A) + L * (passes + 1) * 2 * A + 1.5 * A;
    row(name, "circuit", t_c, c_flop, c_bytes, sg, cp);
    for (int64_t j = 0; j < D; j++) p[j] = j < N ? 1e-3f : 0.0f;
    /* each rep runs the adjoint from the circuit's output state */
    t_a = 1e30;
    for (int k = 0; k < reps; k++) {
        rf_sv_encode(psi, n, S, N);
        rf_sv_circuit(psi, work, n, L, ang, RF_SV_CHAIN);
        const double t0 = rf_now();
        rf_sv_adjoint(psi, p, work, n, L, ang, RF_SV_CHAIN, grad);
        const double t = rf_now() - t0;
        t_a = t < t_a ? t : t_a;
    }
    const double a_flop = 44.0 * L * n * D + 2.0 * D;
    const double a_bytes = 2.5 * A + L * (apasses + 1) * 2 * 2 * A;
    row(name, "adjoint", t_a, a_flop, a_bytes, sg, cp);
    free(p), free(work), free(psi);

    double r_flop, b_flop, r_bytes, b_bytes;
    const double t_r = time_readout(N, n, 1, H, S, W, &r_flop, &r_bytes);
    row(name, "read-out", t_r, r_flop, r_bytes, sg, cp);
    /* the baseline's width, as qgp.c picks it */
    const int64_t gparams = (int64_t)(n + 3) * H + (int64_t)(H + 1) * H + H + 1 + (int64_t)L * n * 3;
    int Hb = H;
    while ((int64_t)(n + 2) * Hb + (int64_t)(Hb + 1) * Hb + Hb + 1 < gparams) Hb++;
    const double t_b = time_readout(N, n, 0, Hb, S, W, &b_flop, &b_bytes);
    row(name, "baseline", t_b, b_flop, b_bytes, sg, cp);

    /* a whole step through rf_gen_train: the marginal cost of `steps` more steps */
    rf_gen_config c1 = cfg, c2 = cfg;
    c1.steps = 1, c2.steps = 1 + steps;
    rf_gen_result res;
    rf_gen_stats st;
    double t0 = rf_now();
    rf_check(rf_gen_train(S, W, out, in, &c1, 1, &res, &st, NULL, NULL) == RF_OK, "train");
    const double t1 = rf_now() - t0;
    rf_gen_free(&res);
    t0 = rf_now();
    rf_check(rf_gen_train(S, W, out, in, &c2, 1, &res, &st, NULL, NULL) == RF_OK, "train");
    const double t2 = rf_now() - t0;
    rf_gen_free(&res);
    const double step_flop = (rf_gen_predicted_flops(out, in, &c2) - rf_gen_predicted_flops(out, in, &c1)) / steps;
    row(name, "step", (t2 - t1) / steps, step_flop, c_bytes + a_bytes, sg, cp);
    printf("%-4s [%lld, %lld] n=%d H=%d Hb=%d: parts sum %.1f ms; rf_gen_train %d steps %.1f s, "
           "rel_w_err %.4f (shared %.4f, baseline %.4f); predicted %.1f MiB\n",
           name, (long long)out, (long long)in, n, H, Hb, 1e3 * (t_c + t_a + t_r + t_b), c2.steps, t2,
           st.rel_w_err, st.shared_rel_w_err, st.baseline_rel_w_err,
           rf_gen_predicted_bytes(out, in, &cfg) / (1 << 20));
    free(W), free(S);
}

int main(int argc, char **argv) {
    int steps = 2;
    const char *shapes = "qkv,fc1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--shapes")) shapes = argv[i + 1];
        else rf_fatal("usage: bench_qgp [--reps R] [--steps K] [--shapes qkv,fc1]");
    }
    const double sg = rf_sgemm_rate(1024, reps), cp = copy_rate((size_t)256 << 20, reps);
    printf("threads %d: sgemm %.1f GFLOP/s, memcpy %.1f GB/s moved\n", omp_get_max_threads(),
           sg / 1e9, cp / 1e9);
    if (strstr(shapes, "qkv")) bench_shape("qkv", 3456, 1152, steps, sg, cp);
    if (strstr(shapes, "fc1")) bench_shape("fc1", 4304, 1152, steps, sg, cp);
    return 0;
}
