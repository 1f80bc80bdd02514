/* statevec_impl.h -- the fast (OpenMP, cache-tiled) state-vector kernels of statevec.h, for ONE
 * precision: included once by statevec_c64.c and once by statevec_c128.c after they define
 *   SV_T       the complex type (rf_c64 / rf_c128)
 *   SV_R       its real type (float / double)
 *   SV_FN(x)   the public name of x in that precision (x##_c64 / x##_c128)
 * No include guard on purpose. Amplitudes are handled as interleaved (re, im) reals (C11 lays a
 * complex out as R[2]) and complex products are written out in reals, so that the compiler
 * vectorizes them without the NaN-recovery calls of C complex multiplication.
 *
 * The rotation layer runs in sv_plan passes (statevec_internal.h): in each, every tile of the
 * state is loaded once and all the gates of the pass's qubits sweep it in cache. It writes each
 * qubit's fused rotation U = D1 RY(beta) D2 (D1, D2 diagonal; sv_rot): the D2 of all qubits are
 * one diagonal phase per amplitude, applied as the first pass reads a tile, the D1 likewise as
 * the last pass writes it, and in between each qubit costs a real rotation (half the multiplies
 * of a complex 2x2). The adjoint's backward step runs the same passes over psi and lambda
 * together, with U^dagger in the same form; in the same sweep, right before a qubit's RY, three
 * sums over its pairs (g1, g2, g3 below) give all three angle gradients of that qubit
 * (docs/vqc.md). rf_sv_apply_1q / rf_sv_apply_layer take any 2x2 (not necessarily unitary, so
 * without that form) and run complex 2x2 products in the same passes.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/statevec/statevec_internal.h"

typedef SV_R R;
typedef SV_T T;

/* ---- scalar pair kernels (tiny states, the adjoint): (a, b) <- U (a, b) on runs of len
 * amplitudes; u = {u00, u01, u10, u11} as interleaved reals ---- */

static inline void pair_run(R *restrict a, R *restrict b, int64_t len, const R *restrict u) {
    const R u0r = u[0], u0i = u[1], u1r = u[2], u1i = u[3];
    const R u2r = u[4], u2i = u[5], u3r = u[6], u3i = u[7];
    for (int64_t i = 0; i < 2 * len; i += 2) {
        const R ar = a[i], ai = a[i + 1], br = b[i], bi = b[i + 1];
        a[i] = u0r * ar - u0i * ai + u1r * br - u1i * bi;
        a[i + 1] = u0r * ai + u0i * ar + u1r * bi + u1i * br;
        b[i] = u2r * ar - u2i * ai + u3r * br - u3i * bi;
        b[i + 1] = u2r * ai + u2i * ar + u3r * bi + u3i * br;
    }
}

/* The adjoint's step on one run: first the gradient sums m[0..2] += (g1, g2, g3) of the pairs
 * (see the adjoint's kernels below), then (p0, p1) <- U (p0, p1) and (l0, l1) <- U (l0, l1). */
static inline void pair_run_grad(R *restrict p0, R *restrict p1, R *restrict l0, R *restrict l1,
                                 int64_t len, const R *restrict u, double *restrict m) {
    double g1 = 0, g2 = 0, g3 = 0;
    for (int64_t i = 0; i < 2 * len; i += 2) {
        const double ar = p0[i], ai = p0[i + 1], br = p1[i], bi = p1[i + 1];
        const double cr = l0[i], ci = l0[i + 1], dr = l1[i], di = l1[i + 1];
        g1 += (cr * ai - ci * ar) - (dr * bi - di * br);
        g2 += (cr * bi - ci * br) + (dr * ai - di * ar);
        g3 += (dr * ar + di * ai) - (cr * br + ci * bi);
    }
    m[0] += g1, m[1] += g2, m[2] += g3;
    pair_run(p0, p1, len, u);
    pair_run(l0, l1, len, u);
}

/* ---- SIMD kernels: 32-byte GCC vectors of interleaved (re, im) reals, VC complex numbers each.
 * The functions that run them are compiled three times (target_clones: the x86-64-v2 baseline of
 * the build, AVX2 + FMA, AVX-512) and the loader picks the one for the CPU at hand. A complex
 * coefficient c times a vector y of complex numbers is cr * y + cs * swap(y), with cr = (Re c,
 * Re c) and cs = (-Im c, Im c) per complex lane and swap exchanging re and im. ---- */

/* x86 only: elsewhere (aarch64, NEON in its baseline) the target's default flags build one path */
#if defined(__x86_64__)
#define SV_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define SV_CLONES
#endif
/* inlined into every clone, so that each compiles them for its own instruction set */
#define SV_INLINE static inline __attribute__((always_inline))
#define VC SV_VC /* complex numbers per vector: 2 (double), 4 (float) */
typedef R vR __attribute__((vector_size(32)));
typedef R vRu __attribute__((vector_size(32), aligned(sizeof(R)), may_alias)); /* unaligned */
typedef SV_IDX vI __attribute__((vector_size(32)));
#define LD(p) (*(const vRu *)(p))
#define ST(p, v) (*(vRu *)(p) = (v))
/* SWAP exchanges re and im of every complex lane; PERM_Q(v, q) exchanges complex lane i with its
 * partner i ^ 2^q (in-vector qubit q) */
#if SV_VC == 2
#define SWAP(v) __builtin_shuffle((v), (vI){1, 0, 3, 2})
#define PERM_Q(v, q) __builtin_shuffle((v), (vI){2, 3, 0, 1})
#define VC_BITS 1
#else
#define SWAP(v) __builtin_shuffle((v), (vI){1, 0, 3, 2, 5, 4, 7, 6})
#define PERM_Q(v, q)                                                                               \
    ((q) == 0 ? __builtin_shuffle((v), (vI){2, 3, 0, 1, 6, 7, 4, 5})                               \
              : __builtin_shuffle((v), (vI){4, 5, 6, 7, 0, 1, 2, 3}))
#define VC_BITS 2
#endif

/* A 2x2 gate as 8 coefficient vectors: (cr, cs) of u00, u01, u10, u11. */
typedef struct {
    vR c[8];
} vmat;

/* The in-vector qubits [0, VC_BITS) of a contiguous block: their gates' Kronecker product K
 * (VC x VC) as new[i] = sum_s K[i][i ^ s] x[i ^ s]: c[2s], c[2s+1] = (cr, cs) of K[i][i ^ s]. */
typedef struct {
    vR c[2 * SV_VC];
} vkron;

static void coef(vR *cr, vR *cs, int lane, double _Complex z) {
    (*cr)[2 * lane] = (*cr)[2 * lane + 1] = (R)creal(z);
    (*cs)[2 * lane] = (R)-cimag(z), (*cs)[2 * lane + 1] = (R)cimag(z);
}

static void vmat_of(const double _Complex U[4], vmat *m) {
    for (int e = 0; e < 4; e++)
        for (int l = 0; l < VC; l++) coef(&m->c[2 * e], &m->c[2 * e + 1], l, U[e]);
}

/* U[q] (q < VC_BITS) -> K */
static void vkron_of(const double _Complex (*U)[4], vkron *k) {
    for (int s = 0; s < VC; s++)
        for (int i = 0; i < VC; i++) {
            const int j = i ^ s;
            double _Complex z = 1;
            for (int q = 0; q < VC_BITS; q++) z *= U[q][2 * ((i >> q) & 1) + ((j >> q) & 1)];
            coef(&k->c[2 * s], &k->c[2 * s + 1], i, z);
        }
}

/* (a, b) <- U (a, b), runs of len complex numbers (a multiple of VC). */
SV_INLINE void vpair(R *restrict a, R *restrict b, int64_t len, const vmat *m) {
    const vR *c = m->c;
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        const vR x = LD(a + i), y = LD(b + i), xs = SWAP(x), ys = SWAP(y);
        ST(a + i, c[0] * x + c[1] * xs + c[2] * y + c[3] * ys);
        ST(b + i, c[4] * x + c[5] * xs + c[6] * y + c[7] * ys);
    }
}

/* Two qubits in one sweep: x0..x3 are the runs with (low bit, high bit) = (0,0), (1,0), (0,1),
 * (1,1); the low qubit's gate ml, then the high qubit's mh, in registers. */
SV_INLINE void vquad(R *restrict x0, R *restrict x1, R *restrict x2, R *restrict x3, int64_t len,
                     const vmat *ml, const vmat *mh) {
    const vR *l = ml->c, *h = mh->c;
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        vR a = LD(x0 + i), b = LD(x1 + i), c = LD(x2 + i), d = LD(x3 + i);
        vR as = SWAP(a), bs = SWAP(b), cs = SWAP(c), ds = SWAP(d);
        const vR a1 = l[0] * a + l[1] * as + l[2] * b + l[3] * bs;
        const vR b1 = l[4] * a + l[5] * as + l[6] * b + l[7] * bs;
        const vR c1 = l[0] * c + l[1] * cs + l[2] * d + l[3] * ds;
        const vR d1 = l[4] * c + l[5] * cs + l[6] * d + l[7] * ds;
        as = SWAP(a1), bs = SWAP(b1), cs = SWAP(c1), ds = SWAP(d1);
        ST(x0 + i, h[0] * a1 + h[1] * as + h[2] * c1 + h[3] * cs);
        ST(x2 + i, h[4] * a1 + h[5] * as + h[6] * c1 + h[7] * cs);
        ST(x1 + i, h[0] * b1 + h[1] * bs + h[2] * d1 + h[3] * ds);
        ST(x3 + i, h[4] * b1 + h[5] * bs + h[6] * d1 + h[7] * ds);
    }
}

/* The in-vector qubits on a contiguous run of len complex numbers. */
SV_INLINE void vinner(R *restrict x, int64_t len, const vkron *k) {
    const vR *c = k->c;
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        const vR v = LD(x + i);
        vR acc = c[0] * v + c[1] * SWAP(v);
#if SV_VC == 2
        const vR p = __builtin_shuffle(v, (vI){2, 3, 0, 1});
        acc += c[2] * p + c[3] * SWAP(p);
#else
        const vR p1 = __builtin_shuffle(v, (vI){2, 3, 0, 1, 6, 7, 4, 5});
        const vR p2 = __builtin_shuffle(v, (vI){4, 5, 6, 7, 0, 1, 2, 3});
        const vR p3 = __builtin_shuffle(v, (vI){6, 7, 4, 5, 2, 3, 0, 1});
        acc +=
            c[2] * p1 + c[3] * SWAP(p1) + c[4] * p2 + c[5] * SWAP(p2) + c[6] * p3 + c[7] * SWAP(p3);
#endif
        ST(x + i, acc);
    }
}

/* ---- the rotation form's real rotations: RY = [[c, -s], [s, c]], cs = {c, s} in every real
 * lane. A real coefficient scales re and im alike: two multiplies per vector and output where a
 * complex 2x2 takes four (and the swaps). ---- */

/* (a, b) <- RY (a, b), runs of len complex numbers (a multiple of VC). */
SV_INLINE void vpair_ry(R *restrict a, R *restrict b, int64_t len, const vR *cs) {
    const vR c = cs[0], s = cs[1];
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        const vR x = LD(a + i), y = LD(b + i);
        ST(a + i, c * x - s * y);
        ST(b + i, s * x + c * y);
    }
}

/* Two qubits in one sweep (the runs x0..x3 as in vquad): the low qubit's RY l, then the high
 * qubit's h, in registers. */
SV_INLINE void vquad_ry(R *restrict x0, R *restrict x1, R *restrict x2, R *restrict x3,
                        int64_t len, const vR *l, const vR *h) {
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        const vR a = LD(x0 + i), b = LD(x1 + i), c = LD(x2 + i), d = LD(x3 + i);
        const vR a1 = l[0] * a - l[1] * b, b1 = l[1] * a + l[0] * b;
        const vR c1 = l[0] * c - l[1] * d, d1 = l[1] * c + l[0] * d;
        ST(x0 + i, h[0] * a1 - h[1] * c1);
        ST(x2 + i, h[1] * a1 + h[0] * c1);
        ST(x1 + i, h[0] * b1 - h[1] * d1);
        ST(x3 + i, h[1] * b1 + h[0] * d1);
    }
}

/* The in-vector qubits of a contiguous run, one after the other in registers: for qubit q, lane
 * i's partner is lane i ^ 2^q and in1[q] = the coefficients of the lane and of its partner
 * (tile_plan). */
SV_INLINE void vinner_ry(R *restrict x, int64_t len, const vR (*in1)[2]) {
    for (int64_t i = 0; i < 2 * len; i += 2 * VC) {
        vR v = LD(x + i);
        for (int q = 0; q < VC_BITS; q++) v = in1[q][0] * v + in1[q][1] * PERM_Q(v, q);
        ST(x + i, v);
    }
}

/* ---- tiles ---- */

static inline int64_t tile_base(sv_pass P, int64_t t) {
    const int lowbits = P.q0 - P.wb;
    return ((t >> lowbits) << (P.q0 + P.k)) | ((t & (((int64_t)1 << lowbits) - 1)) << P.wb);
}

/* A diagonal that is a product of one diag(d_q[0], d_q[1]) per qubit: the phase of amplitude j
 * is d(j) = g * prod over the set bits q of j of r[q] (r[q] = d_q[1] / d_q[0], g = prod d_q[0]).
 * Runs of 2^tb (tb <= DIAG_BITS) aligned amplitudes take d(j) = z * d(w) for w = j mod 2^tb:
 * z once per run in double, d(w) from the table lo (VC per vector). */
#define DIAG_BITS 7
typedef struct {
    double _Complex g, r[RF_SV_MAX_QUBITS];
    vR lo[2 * ((1 << DIAG_BITS) / VC)]; /* (cr, cs) of d(w) / g, w < 2^DIAG_BITS */
} sv_diag;

/* The diagonal of the per-qubit factors d[q] = {d_q[0], d_q[1]}, q < n. */
static void diag_of(const double _Complex (*d)[2], int n, sv_diag *D) {
    D->g = 1;
    for (int q = 0; q < RF_SV_MAX_QUBITS; q++) D->r[q] = 1;
    for (int q = 0; q < n; q++) D->g *= d[q][0], D->r[q] = d[q][1] / d[q][0];
    for (int w = 0; w < 1 << DIAG_BITS; w++) {
        double _Complex z = 1;
        for (int q = 0; q < DIAG_BITS; q++)
            if ((w >> q) & 1) z *= D->r[q];
        coef(&D->lo[2 * (w / VC)], &D->lo[2 * (w / VC) + 1], w % VC, z);
    }
}

/* dst = D src on the len (a power of two, a multiple of VC) amplitudes of index j0.. (aligned to
 * len). dst may be src (in place: every vector is read before it is written). */
SV_INLINE void vdiag_copy(R *dst, const R *src, int64_t len, uint64_t j0, const sv_diag *D) {
    const int64_t run = len < (1 << DIAG_BITS) ? len : (1 << DIAG_BITS);
    for (int64_t r0 = 0; r0 < len; r0 += run) {
        double _Complex z = D->g;
        for (uint64_t j = j0 + (uint64_t)r0; j; j &= j - 1) z *= D->r[__builtin_ctzll(j)];
        vR zr, zs;
        for (int l = 0; l < VC; l++) coef(&zr, &zs, l, z);
        const R *x = src + 2 * r0;
        R *y = dst + 2 * r0;
        for (int64_t i = 0; i < 2 * run; i += 2 * VC) {
            const vR v = LD(x + i), *t = D->lo + i / VC;
            const vR w = t[0] * v + t[1] * SWAP(v);
            ST(y + i, zr * w + zs * SWAP(w));
        }
    }
}

/* z / |z| (1 for z = 0): the phase of a matrix entry. */
static double _Complex unit_phase(double _Complex z) {
    const double a = cabs(z);
    return a > 0 ? z / a : 1;
}

/* A layer of unitaries V_q, one per qubit, in rotation form: V_q = diag(d1_q) RY_q diag(d2_q)
 * (every 2x2 unitary is a phase times Rz Ry Rz). ry[q] = (cos, sin) of RY_q in every lane; D1, D2
 * the products of the d1_q, d2_q over all qubits: one phase per amplitude each. Gates on different
 * qubits commute, so the layer is D1 (prod RY_q) D2: D2 goes on as the first pass reads a tile,
 * D1 as the last one writes it, and each qubit in between costs a real rotation. */
typedef struct {
    vR ry[RF_SV_MAX_QUBITS][2];
    sv_diag D1, D2;
} sv_rot;

/* Z from V[q], q < n (double, unitary); d2 (when not NULL) gets each qubit's d2_q. With c = |v00|,
 * s = |v10| and d2_q[0] = 1, the phases come from the larger entries, so that rounding stays
 * relative. */
static void rot_of(const double _Complex (*V)[4], int n, sv_rot *Z, double _Complex (*d2)[2]) {
    double _Complex e1[RF_SV_MAX_QUBITS][2], e2[RF_SV_MAX_QUBITS][2];
    for (int q = 0; q < n; q++) {
        const double _Complex *v = V[q];
        const double c = cabs(v[0]), s = cabs(v[2]), h = hypot(c, s);
        e2[q][0] = 1, e1[q][1] = unit_phase(v[2]);
        e2[q][1] = conj(e1[q][1]) * unit_phase(v[3]);
        e1[q][0] = c >= s ? unit_phase(v[0]) : -unit_phase(v[1]) * conj(e2[q][1]);
        for (int k = 0; k < 2 * VC; k++) Z->ry[q][0][k] = (R)(c / h), Z->ry[q][1][k] = (R)(s / h);
        if (d2) d2[q][0] = e2[q][0], d2[q][1] = e2[q][1];
    }
    diag_of((const double _Complex(*)[2])e1, n, &Z->D1);
    diag_of((const double _Complex(*)[2])e2, n, &Z->D2);
}

/* What every tile of one pass does. A tile is nel = 2^k elements (rows of W amplitudes, element e
 * at e * S amplitudes from the tile's start; the first pass has W = S = 1). Element bits [0, sub)
 * run per block of 2^sub elements (about SV_L1_BYTES, in L1), the bits above on the whole tile
 * (in L2); forward gates go two bits at a time (vquad, vquad_ry), the last odd one alone (vpair,
 * vpair_ry). In the first pass, the in-vector qubits [0, VC_BITS) run first on every block:
 * general gates as one Kronecker product K (vinner), the rotation form one qubit at a time
 * (vinner_ry; the adjoint: vinner_grad), with in1[q]. */
typedef struct {
    sv_pass P;
    int64_t nel, W, S;
    int sub, nlo, nhi, lo[SV_MAX_PASSES], hi[SV_MAX_PASSES];
    int inner;  /* general gates: apply K first */
    int ninner; /* rotation form: in-vector qubits to run with in1 */
    int copy;   /* forward: rows strided apart: work in a buffer */
    vkron K;
    const vmat *M; /* general gates: M[q], qubit q's gate; NULL: the rotation form */
    /* rotation form (sv_rot): ry[q] = qubit q's RY; for the in-vector qubits in1[q] = (cos,
     * -+sin): the coefficients of a lane and of its partner (lane bit 0: -sin) */
    const vR (*ry)[2];
    vR in1[VC_BITS][2];
    const sv_diag *din, *dout; /* rotation form: D2 on the way in (first pass), D1 out (last) */
} tile_plan;

/* Sorts the masked qubits of pass P into the tile plan's bit lists; elements of elem_bytes per
 * amplitude (2 states: twice). Returns whether the pass is the contiguous first one. */
static int plan_bits(tile_plan *F, sv_pass P, uint64_t mask, int64_t elem_bytes) {
    F->P = P, F->nel = (int64_t)1 << P.k, F->W = (int64_t)1 << P.wb, F->S = (int64_t)1 << P.q0;
    F->nlo = F->nhi = F->inner = F->ninner = 0;
    const int contiguous = F->S == F->W, first = contiguous ? VC_BITS : 0;
    const int64_t l1_elems = SV_L1_BYTES / (elem_bytes << P.wb);
    F->sub = l1_elems >= 2 ? 63 - __builtin_clzll((uint64_t)l1_elems) : 0;
    if (F->sub > P.k) F->sub = P.k;
    if (F->sub < first) F->sub = first;
    for (int b = first; b < P.k; b++)
        if ((mask >> (P.q0 + b)) & 1) {
            if (b < F->sub)
                F->lo[F->nlo++] = b;
            else
                F->hi[F->nhi++] = b;
        }
    return contiguous;
}

/* The rotation form of Z for the plan: D2 on the first pass's reads, D1 on the last one's writes;
 * in1 for the contiguous first pass's in-vector qubits. */
static void plan_rot(tile_plan *F, const sv_rot *Z, int contiguous, int first, int last) {
    F->M = NULL, F->ry = (const vR(*)[2])Z->ry;
    F->din = first ? &Z->D2 : NULL, F->dout = last ? &Z->D1 : NULL;
    if (!contiguous) return;
    F->ninner = VC_BITS;
    for (int q = 0; q < VC_BITS; q++) {
        F->in1[q][0] = Z->ry[q][0];
        for (int lane = 0; lane < VC; lane++)
            for (int k = 0; k < 2; k++)
                F->in1[q][1][2 * lane + k] = (lane >> q) & 1 ? Z->ry[q][1][0] : -Z->ry[q][1][0];
    }
}

/* Row copies between a tile of the state (rows of W amplitudes S apart, the first of index base)
 * and a contiguous buffer, times the diagonal D on the way when D is not NULL: strided rows of a
 * higher-qubit pass (S a power of two of 256 KiB or more) all fall into the same cache sets and
 * would miss on every sweep; in the buffer they are W apart. */
SV_INLINE void rows_in(R *restrict buf, const R *restrict x, int64_t nel, int64_t W, int64_t S,
                       int64_t base, const sv_diag *D) {
    if (S == W) /* contiguous rows: one copy, not one call per (maybe one-amplitude) row */
        W *= nel, nel = 1;
    for (int64_t e = 0; e < nel; e++)
        if (D)
            vdiag_copy(buf + 2 * e * W, x + 2 * e * S, W, (uint64_t)(base + e * S), D);
        else
            memcpy(buf + 2 * e * W, x + 2 * e * S, sizeof(T) * W);
}
SV_INLINE void rows_out(R *restrict x, const R *restrict buf, int64_t nel, int64_t W, int64_t S,
                        int64_t base, const sv_diag *D) {
    if (S == W) W *= nel, nel = 1;
    for (int64_t e = 0; e < nel; e++)
        if (D)
            vdiag_copy(x + 2 * e * S, buf + 2 * e * W, W, (uint64_t)(base + e * S), D);
        else
            memcpy(x + 2 * e * S, buf + 2 * e * W, sizeof(T) * W);
}

/* The gates of bits[] on nel elements at x, element e at e * S amplitudes. */
SV_INLINE void apply_bits(R *x, int64_t nel, int64_t S, const int *bits, int nb,
                          const tile_plan *F) {
    const int contiguous = S == F->W;
    const int q0 = F->P.q0;
    int i = 0;
    for (; i + 1 < nb; i += 2) {
        const int64_t h1 = (int64_t)1 << bits[i], h2 = (int64_t)1 << bits[i + 1];
        const int64_t run = contiguous ? h1 : 1, len = run * F->W, S2 = 2 * S;
        const int b1 = q0 + bits[i], b2 = q0 + bits[i + 1];
        for (int64_t e0 = 0; e0 < nel; e0 += 2 * h2)
            for (int64_t e1 = e0; e1 < e0 + h2; e1 += 2 * h1)
                for (int64_t e = e1; e < e1 + h1; e += run) {
                    R *x0 = x + e * S2, *x1 = x + (e + h1) * S2, *x2 = x + (e + h2) * S2,
                      *x3 = x + (e + h1 + h2) * S2;
                    if (F->M)
                        vquad(x0, x1, x2, x3, len, F->M + b1, F->M + b2);
                    else
                        vquad_ry(x0, x1, x2, x3, len, F->ry[b1], F->ry[b2]);
                }
    }
    if (i < nb) {
        const int64_t h = (int64_t)1 << bits[i];
        const int64_t run = contiguous ? h : 1, len = run * F->W, S2 = 2 * S;
        const int b = q0 + bits[i];
        for (int64_t e0 = 0; e0 < nel; e0 += 2 * h)
            for (int64_t e = e0; e < e0 + h; e += run)
                if (F->M)
                    vpair(x + e * S2, x + (e + h) * S2, len, F->M + b);
                else
                    vpair_ry(x + e * S2, x + (e + h) * S2, len, F->ry[b]);
    }
}

/* Tile t of the pass: in place (the contiguous first pass: W = S = 1), or in buf when F->copy.
 * In place, din goes on block by block, right before the block's gates find it in L1. */
SV_CLONES static void tile_fwd(R *psi, int64_t t, const tile_plan *F, R *buf) {
    const int64_t base = tile_base(F->P, t);
    R *x = psi + 2 * base;
    const int copy = F->copy;
    const int64_t blk = (int64_t)1 << F->sub, W = F->W, S = copy ? W : F->S;
    if (copy) rows_in(buf, x, F->nel, W, F->S, base, F->din);
    R *y = copy ? buf : x;
    for (int64_t e = 0; e < F->nel; e += blk) {
        R *yb = y + 2 * e * S;
        if (!copy && F->din) vdiag_copy(yb, yb, blk, (uint64_t)(base + e), F->din);
        if (F->inner) vinner(yb, blk, &F->K);
        if (F->ninner) vinner_ry(yb, blk, (const vR(*)[2])F->in1);
        apply_bits(yb, blk, S, F->lo, F->nlo, F);
    }
    apply_bits(y, F->nel, S, F->hi, F->nhi, F);
    if (copy)
        rows_out(x, buf, F->nel, W, F->S, base, F->dout);
    else if (F->dout) /* one pass in all (n <= the first pass's qubits) */
        vdiag_copy(x, x, F->nel, (uint64_t)base, F->dout);
}

/* ---- the adjoint's vector kernels ----
 * For qubit q the gradients need, over its pairs (psi: p0, p1; lambda: l0, l1; bit q = 0, 1),
 *   g1 = Im(conj(l0) p0) - Im(conj(l1) p1),  g2 = Im(conj(l0) p1) + Im(conj(l1) p0),
 *   g3 = Re(conj(l1) p0) - Re(conj(l0) p1)
 * (the parts of M_q[r][s] = sum conj(l_r) p_s that a traceless anti-Hermitian generator sees,
 * docs/vqc.md). conj(l) p = (lr pr + li pi) + i (lr pi - li pr): with l * p and l * swap(p)
 * accumulated lane by lane, Re is the sum of a complex lane's two reals and Im their difference.
 * Sums are kept in double: for float, partial sums over ACC_FLUSH vectors are widened and added. */
#if SV_VC == 4
typedef double vD __attribute__((vector_size(32)));
#define ACC_W 2
#define ACC_FLUSH 16 /* float partial sums of at most 16 vectors, then added in double */
#define ACC_ADD(acc, v)                                                                            \
    ((acc)[0] += __builtin_convertvector(__builtin_shufflevector((v), (v), 0, 1, 2, 3), vD),       \
     (acc)[1] += __builtin_convertvector(__builtin_shufflevector((v), (v), 4, 5, 6, 7), vD))
#else
typedef vR vD;
#define ACC_W 1
#define ACC_FLUSH (1 << 30)
#define ACC_ADD(acc, v) ((acc)[0] += (v))
#endif

/* The sum over the complex lanes i of an accumulator A [ACC_W]: Re (im = 0) or Im (im = 1) of
 * each, negated where bit q of i equals neg (q < 0: none negated). */
static inline double acc_sum(const vD *A, int im, int q, int neg) {
    double s = 0;
    for (int w = 0; w < ACC_W; w++)
        for (int j = 0; j < 4; j++) {
            const int i = (4 * w + j) / 2; /* real lane 4w + j is part of complex lane i */
            const double v = (im && (j & 1)) ? -A[w][j] : A[w][j];
            s += q >= 0 && ((i >> q) & 1) == neg ? -v : v;
        }
    return s;
}

/* Qubit q on runs a, b (psi) and la, lb (lambda) of len complex numbers: the sums g1..g3 into
 * acc [3][ACC_W], then RY(beta) = [[c, -s], [s, c]] (cs = {c, s}) on both states. */
SV_INLINE void vpair_grad(R *restrict a, R *restrict b, R *restrict la, R *restrict lb, int64_t len,
                          const vR *cs, vD (*restrict acc)[ACC_W]) {
    const vR c = cs[0], s = cs[1];
    for (int64_t i0 = 0; i0 < 2 * len; i0 += 2 * VC * (int64_t)ACC_FLUSH) {
        const int64_t i1 =
            i0 + 2 * VC * (int64_t)ACC_FLUSH < 2 * len ? i0 + 2 * VC * (int64_t)ACC_FLUSH : 2 * len;
        vR f[6]; /* one accumulator per product: no chain of dependent adds */
        for (int k = 0; k < 6; k++) f[k] = (vR){0};
        for (int64_t i = i0; i < i1; i += 2 * VC) {
            const vR x = LD(a + i), y = LD(b + i), u = LD(la + i), v = LD(lb + i);
            const vR xs = SWAP(x), ys = SWAP(y);
            f[0] += u * xs, f[1] += v * ys; /* g1 */
            f[2] += u * ys, f[3] += v * xs; /* g2 */
            f[4] += v * x, f[5] += u * y;   /* g3 */
            ST(a + i, c * x - s * y);
            ST(b + i, s * x + c * y);
            ST(la + i, c * u - s * v);
            ST(lb + i, s * u + c * v);
        }
        ACC_ADD(acc[0], f[0] - f[1]);
        ACC_ADD(acc[1], f[2] + f[3]);
        ACC_ADD(acc[2], f[4] - f[5]);
    }
}

/* In-vector qubit q of a contiguous run: lane i holds bit b = bit q of i; its partner is lane
 * i ^ 2^q (PERM_Q). Per lane, conj(l_i) p_i goes to g1 (sign + for b = 0), conj(l_i) p_partner to
 * g2 (Im) and g3 (Re, sign + for b = 1); c = in1[q]. */
SV_INLINE void vinner_grad(R *restrict x, R *restrict l, int64_t len, int q, const vR *c,
                           double *m) {
    vD acc[3][ACC_W];
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < ACC_W; w++) acc[k][w] = (vD){0};
    for (int64_t i0 = 0; i0 < 2 * len; i0 += 2 * VC * (int64_t)ACC_FLUSH) {
        const int64_t i1 =
            i0 + 2 * VC * (int64_t)ACC_FLUSH < 2 * len ? i0 + 2 * VC * (int64_t)ACC_FLUSH : 2 * len;
        vR f[3];
        for (int k = 0; k < 3; k++) f[k] = (vR){0};
        for (int64_t i = i0; i < i1; i += 2 * VC) {
            const vR p = LD(x + i), u = LD(l + i), pp = PERM_Q(p, q), up = PERM_Q(u, q);
            f[0] += u * SWAP(p), f[1] += u * SWAP(pp), f[2] += u * pp;
            ST(x + i, c[0] * p + c[1] * pp);
            ST(l + i, c[0] * u + c[1] * up);
        }
        for (int k = 0; k < 3; k++) ACC_ADD(acc[k], f[k]);
    }
    m[0] += acc_sum(acc[0], 1, q, 1), m[1] += acc_sum(acc[1], 1, -1, 0);
    m[2] += acc_sum(acc[2], 0, q, 0);
}

/* In the tile buffers: elements are rows of W amplitudes, contiguous; m + 3q: qubit q's sums. */
SV_INLINE void grad_bits(R *x, R *y, int64_t nel, const int *bits, int nb, const tile_plan *F,
                         double *m) {
    for (int i = 0; i < nb; i++) {
        const int q = F->P.q0 + bits[i];
        const int64_t h = (int64_t)1 << bits[i], len = h * F->W, S2 = 2 * F->W;
        vD acc[3][ACC_W];
        for (int k = 0; k < 3; k++)
            for (int w = 0; w < ACC_W; w++) acc[k][w] = (vD){0};
        for (int64_t e = 0; e < nel; e += 2 * h)
            vpair_grad(x + e * S2, x + (e + h) * S2, y + e * S2, y + (e + h) * S2, len, F->ry[q],
                       acc);
        m[3 * q] += acc_sum(acc[0], 1, -1, 0), m[3 * q + 1] += acc_sum(acc[1], 1, -1, 0);
        m[3 * q + 2] += acc_sum(acc[2], 0, -1, 0);
    }
}

/* Tile t of psi and lambda, always through the buffers bp and bl: the two states sit 2^n
 * amplitudes apart (a power of two), so their tiles would share cache sets and low address bits
 * (4K aliasing in the load/store unit); the buffers are placed apart by SV_BUF_SKEW. The copies
 * in and out apply the diagonals din / dout when the pass has them. */
SV_CLONES static void tile_grad(R *psi, R *lam, int64_t t, const tile_plan *F, R *bp, R *bl,
                                double *m) {
    const int64_t base = tile_base(F->P, t), blk = (int64_t)1 << F->sub, W = F->W, S = F->S;
    rows_in(bp, psi + 2 * base, F->nel, W, S, base, F->din);
    rows_in(bl, lam + 2 * base, F->nel, W, S, base, F->din);
    for (int64_t e = 0; e < F->nel; e += blk) {
        R *xb = bp + 2 * e * W, *yb = bl + 2 * e * W;
        for (int q = 0; q < F->ninner; q++) vinner_grad(xb, yb, blk, q, F->in1[q], m + 3 * q);
        grad_bits(xb, yb, blk, F->lo, F->nlo, F, m);
    }
    grad_bits(bp, bl, F->nel, F->hi, F->nhi, F, m);
    rows_out(psi + 2 * base, bp, F->nel, W, S, base, F->dout);
    rows_out(lam + 2 * base, bl, F->nel, W, S, base, F->dout);
}

/* The scalar tile (the adjoint, and states of fewer than 4 vectors): the gates of pass P for the
 * qubits in mask; u + 8q is qubit q's matrix. With lam: the adjoint step (pair_run_grad) on psi
 * and lam, accumulating into m + 3q. */
SV_CLONES static void tile_scalar(R *psi, R *lam, int64_t base, sv_pass P, uint64_t mask,
                                  const R *u, double *m) {
    const int64_t W = (int64_t)1 << P.wb, rows = (int64_t)1 << P.k;
    const int contiguous = P.q0 == P.wb; /* rows follow each other: merge them into runs */
    R *x = psi + 2 * base, *y = lam ? lam + 2 * base : NULL;
    for (int b = 0; b < P.k; b++) {
        const int q = P.q0 + b;
        if (!((mask >> q) & 1)) continue;
        const R *uq = u + 8 * q;
        const int64_t half = (int64_t)1 << b;
        for (int64_t e = 0; e < rows; e += 2 * half) {
            const int64_t nruns = contiguous ? 1 : half, len = contiguous ? half * W : W;
            for (int64_t f = 0; f < nruns; f++) {
                const int64_t o0 = 2 * ((e + f) << P.q0), o1 = 2 * ((e + f + half) << P.q0);
                if (y)
                    pair_run_grad(x + o0, x + o1, y + o0, y + o1, len, uq, m + 3 * q);
                else
                    pair_run(x + o0, x + o1, len, uq);
            }
        }
    }
}

/* One pass of the forward gates U[q] (double complex, q < n) for the qubits in mask: as general
 * complex 2x2s, or when Z is not NULL (all qubits) in its rotation form, with D2 when the pass is
 * the layer's first and D1 when it is its last. */
static void pass_apply(R *psi, int n, sv_pass P, uint64_t mask, const double _Complex (*U)[4],
                       const sv_rot *Z, int first, int last) {
    const int64_t ntiles = (int64_t)1 << (n - P.k - P.wb);
    if (((int64_t)1 << n) < 4 * VC) { /* a few amplitudes: scalar */
        R u[8 * RF_SV_MAX_QUBITS];
        for (int q = 0; q < n; q++)
            for (int i = 0; i < 4; i++)
                u[8 * q + 2 * i] = (R)creal(U[q][i]), u[8 * q + 2 * i + 1] = (R)cimag(U[q][i]);
        for (int64_t t = 0; t < ntiles; t++)
            tile_scalar(psi, NULL, tile_base(P, t), P, mask, u, NULL);
        return;
    }
    vmat M[RF_SV_MAX_QUBITS];
    tile_plan F;
    const int contiguous = plan_bits(&F, P, mask, sizeof(T));
    F.copy = !contiguous; /* rows far apart: copied row by row, in place they thrash */
    if (Z) {
        plan_rot(&F, Z, contiguous, first, last);
    } else {
        for (int q = P.q0; q < P.q0 + P.k; q++)
            if ((mask >> q) & 1) vmat_of(U[q], &M[q]);
        F.M = M, F.ry = NULL, F.din = F.dout = NULL;
        for (int q = 0; contiguous && q < VC_BITS; q++) F.inner |= (int)((mask >> q) & 1);
        if (F.inner) {
            double _Complex Uk[VC_BITS][4];
            for (int q = 0; q < VC_BITS; q++) {
                const int on = (mask >> q) & 1;
                for (int i = 0; i < 4; i++) Uk[q][i] = on ? U[q][i] : (i == 0 || i == 3);
            }
            vkron_of((const double _Complex(*)[4])Uk, &F.K);
        }
    }
#pragma omp parallel if (n >= SV_PAR_MIN_QUBITS && ntiles > 1)
    {
        R *buf = F.copy ? rf_malloc(sizeof(T) << (P.k + P.wb)) : NULL;
#pragma omp for schedule(static)
        for (int64_t t = 0; t < ntiles; t++) tile_fwd(psi, t, &F, buf);
        free(buf);
    }
}

void SV_FN(rf_sv_apply_1q)(T *psi, int n, int q, const T U[4]) {
    double _Complex Ud[RF_SV_MAX_QUBITS][4];
    for (int p = 0; p < n; p++)
        for (int i = 0; i < 4; i++) Ud[p][i] = p == q ? U[i] : (i == 0 || i == 3);
    sv_pass plan[SV_MAX_PASSES];
    sv_plan(n, (int)sizeof(T), plan);
    sv_pass P = plan[0]; /* the low qubits: tiles of the first pass */
    if (q >= P.k) {      /* a high qubit: tiles of two rows as long as half a tile */
        P.q0 = q, P.k = 1, P.wb = plan[0].k - 1 < q ? plan[0].k - 1 : q;
    }
    pass_apply((R *)psi, n, P, (uint64_t)1 << q, (const double _Complex(*)[4])Ud, NULL, 0, 0);
}

/* The gates U[q] on all qubits in the passes of the plan; Z: their rotation form, or NULL. */
static void layer_d(T *psi, int n, const double _Complex (*U)[4], const sv_rot *Z) {
    sv_pass plan[SV_MAX_PASSES];
    const int np = sv_plan(n, (int)sizeof(T), plan);
    for (int i = 0; i < np; i++)
        pass_apply((R *)psi, n, plan[i], ~(uint64_t)0, U, Z, i == 0, i == np - 1);
}

/* General 2x2s (they need not be unitary: no rotation form) as complex 2x2 products. */
void SV_FN(rf_sv_apply_layer)(T *psi, int n, const T *U) {
    double _Complex Ud[RF_SV_MAX_QUBITS][4];
    for (int q = 0; q < n; q++)
        for (int i = 0; i < 4; i++) Ud[q][i] = U[4 * q + i];
    layer_d(psi, n, (const double _Complex(*)[4])Ud, NULL);
}

/* The fused rotations are unitary: the rotation form, about half the arithmetic per qubit. */
void SV_FN(rf_sv_rotation_layer)(T *psi, int n, const double *angles) {
    double _Complex Ud[RF_SV_MAX_QUBITS][4];
    for (int q = 0; q < n; q++)
        rf_sv_fused_rotation(angles[3 * q], angles[3 * q + 1], angles[3 * q + 2], Ud[q], NULL);
    sv_rot Z;
    rot_of((const double _Complex(*)[4])Ud, n, &Z, NULL);
    layer_d(psi, n, (const double _Complex(*)[4])Ud, &Z);
}

/* u[q] (8 reals) from U (double complex). */
static void to_reals(const double _Complex *U, R *u) {
    for (int i = 0; i < 4; i++) u[2 * i] = (R)creal(U[i]), u[2 * i + 1] = (R)cimag(U[i]);
}

/* ---- the entangler: one gather (or scatter) pass of the GF(2) map cols ---- */

#define PERM_LOW_BITS 12
#define PERM_PREFETCH_BLOCKS 4 /* how far ahead the source window is prefetched */

/* out[y] = in[A y] (scatter: out[A y] = in[y]) for the map of columns cols; a second state
 * (in2 -> out2) is moved in the same pass when in2 is not NULL. Outputs go in blocks of 2^b;
 * the scattered side of a block lies in a window of two tiles of 2^b (tab[lo] < 2^(b+1), see
 * sv_local_map), which is visited out of order: the hardware prefetchers miss it, so the window
 * of the block PERM_PREFETCH_BLOCKS ahead is prefetched here, one cache line at a time. */
SV_CLONES static void permute_block(const T *in, T *out, const T *in2, T *out2, int n, int b,
                                    const uint64_t *cols, const uint64_t *tab, int scatter,
                                    int64_t hi) {
    const int64_t lo_n = (int64_t)1 << b, hi_n = (int64_t)1 << (n - b), per_line = 64 / sizeof(T);
    uint64_t base = 0, next = 0;
    const int64_t ahead = hi + PERM_PREFETCH_BLOCKS < hi_n ? hi + PERM_PREFETCH_BLOCKS : -1;
    for (int k = b; k < n; k++) {
        if ((hi >> (k - b)) & 1) base ^= cols[k];
        if (ahead >= 0 && ((ahead >> (k - b)) & 1)) next ^= cols[k];
    }
    const int64_t w0 = (int64_t)((next >> b) << b), w1 = w0 ^ lo_n, y0 = hi << b;
    if (!scatter) {
        for (int64_t lo = 0; lo < lo_n; lo++) {
            if (ahead >= 0 && lo % per_line == 0) {
                __builtin_prefetch(in + w0 + lo), __builtin_prefetch(in + w1 + lo);
                if (in2) __builtin_prefetch(in2 + w0 + lo), __builtin_prefetch(in2 + w1 + lo);
            }
            out[y0 + lo] = in[base ^ tab[lo]];
        }
        if (in2)
            for (int64_t lo = 0; lo < lo_n; lo++) out2[y0 + lo] = in2[base ^ tab[lo]];
    } else {
        for (int64_t lo = 0; lo < lo_n; lo++) {
            if (ahead >= 0 && lo % per_line == 0) {
                __builtin_prefetch(out + w0 + lo, 1), __builtin_prefetch(out + w1 + lo, 1);
                if (in2)
                    __builtin_prefetch(out2 + w0 + lo, 1), __builtin_prefetch(out2 + w1 + lo, 1);
            }
            out[base ^ tab[lo]] = in[y0 + lo];
        }
        if (in2)
            for (int64_t lo = 0; lo < lo_n; lo++) out2[base ^ tab[lo]] = in2[y0 + lo];
    }
}

static void permute(const T *in, T *out, const T *in2, T *out2, int n, const uint64_t *cols,
                    int scatter) {
    const int b = n < PERM_LOW_BITS ? n : PERM_LOW_BITS;
    const int64_t lo_n = (int64_t)1 << b, hi_n = (int64_t)1 << (n - b);
    uint64_t *tab = rf_malloc(sizeof *tab * (size_t)lo_n);
    tab[0] = 0;
    for (int64_t i = 1; i < lo_n; i++)
        tab[i] = tab[i & (i - 1)] ^ cols[__builtin_ctzll((uint64_t)i)];
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int64_t hi = 0; hi < hi_n; hi++)
        permute_block(in, out, in2, out2, n, b, cols, tab, scatter, hi);
    free(tab);
}

void SV_FN(rf_sv_entangle)(const T *in, T *out, int n, rf_sv_entangler e, int inverse) {
    uint64_t cols[RF_SV_MAX_QUBITS];
    sv_local_map(n, e, cols);
    permute(in, out, NULL, NULL, n, cols, inverse);
}

/* ---- encoding and read-outs ---- */

/* Fixed groups [g*N/G, (g+1)*N/G) of N items, so that sums do not depend on the thread count. */
static inline int64_t group_lo(int64_t N, int G, int g) { return N * g / G; }

int SV_FN(rf_sv_encode)(T *psi, int n, const R *x, int64_t len) {
    const int64_t N = (int64_t)1 << n;
    if (len < 1) return rf_fail("the input vector is empty");
    if (len > N)
        return rf_fail(
            "the input has %lld values, more than the 2^%d = %lld amplitudes of %d qubits",
            (long long)len, n, (long long)N, n);
    const int G = len < SV_GROUPS ? (int)len : SV_GROUPS;
    double part[SV_GROUPS];
    int bad[SV_GROUPS];
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int g = 0; g < G; g++) {
        double s = 0;
        int nonfinite = 0;
        for (int64_t j = group_lo(len, G, g); j < group_lo(len, G, g + 1); j++) {
            const double v = x[j];
            nonfinite |= !isfinite(v);
            s += v * v;
        }
        part[g] = s, bad[g] = nonfinite;
    }
    double s = 0;
    for (int g = 0; g < G; g++) {
        if (bad[g]) return rf_fail("the input holds NaN or Inf values");
        s += part[g];
    }
    if (!(s > 0)) return rf_fail("the input is all zero: it cannot be normalized");
    const double inv = 1.0 / sqrt(s);
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int64_t j = 0; j < N; j++) psi[j] = j < len ? (R)(x[j] * inv) : 0;
    return RF_OK;
}

void SV_FN(rf_sv_probabilities)(const T *psi, int n, R *p) {
    const int64_t N = (int64_t)1 << n;
    const R *x = (const R *)psi;
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int64_t j = 0; j < N; j++) p[j] = x[2 * j] * x[2 * j] + x[2 * j + 1] * x[2 * j + 1];
}

#define EXPZ_CHUNK_BITS 10

/* One group's share of <Z>: for the chunks [c0, c1) of 2^cb amplitudes, a[q] += the sum of p over
 * the j with bit q set, a[n] += the sum of all p. Within a chunk, p is added elementwise into
 * low[i] (vectorizes) and into 8 running partial sums; the low bits' sums come from low[] once at
 * the end. */
SV_CLONES static void expz_group(const R *x, int n, int cb, int64_t c0, int64_t c1, double *a) {
    const int64_t csize = (int64_t)1 << cb;
    double low[1 << EXPZ_CHUNK_BITS];
    for (int64_t i = 0; i < csize; i++) low[i] = 0;
    for (int64_t c = c0; c < c1; c++) {
        const R *xc = x + 2 * (c << cb);
        double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (csize < 8) /* n < 3 */
            for (int64_t i = 0; i < csize; i++) {
                const double p =
                    (double)xc[2 * i] * xc[2 * i] + (double)xc[2 * i + 1] * xc[2 * i + 1];
                low[i] += p, part[0] += p;
            }
        else
            for (int64_t i = 0; i < csize; i += 8)
                for (int k = 0; k < 8; k++) {
                    const double p = (double)xc[2 * (i + k)] * xc[2 * (i + k)] +
                                     (double)xc[2 * (i + k) + 1] * xc[2 * (i + k) + 1];
                    low[i + k] += p, part[k] += p;
                }
        const double total = ((part[0] + part[1]) + (part[2] + part[3])) +
                             ((part[4] + part[5]) + (part[6] + part[7]));
        for (int q = cb; q < n; q++)
            if (((c << cb) >> q) & 1) a[q] += total;
        a[n] += total;
    }
    for (int q = 0; q < cb; q++)
        for (int64_t i = 0; i < csize; i++)
            if ((i >> q) & 1) a[q] += low[i];
}

void SV_FN(rf_sv_expval_z)(const T *psi, int n, double *z) {
    const int cb = n < EXPZ_CHUNK_BITS ? n : EXPZ_CHUNK_BITS;
    const int64_t nchunks = (int64_t)1 << (n - cb);
    const int G = nchunks < SV_GROUPS ? (int)nchunks : SV_GROUPS;
    /* acc[g][q]: sum of p over the j with bit q set; acc[g][n]: the sum of all p */
    double *acc = rf_calloc((size_t)G * (n + 1), sizeof *acc);
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int g = 0; g < G; g++)
        expz_group((const R *)psi, n, cb, group_lo(nchunks, G, g), group_lo(nchunks, G, g + 1),
                   acc + (size_t)g * (n + 1));
    double total = 0;
    for (int q = 0; q < n; q++) z[q] = 0;
    for (int g = 0; g < G; g++) {
        for (int q = 0; q < n; q++) z[q] += acc[(size_t)g * (n + 1) + q];
        total += acc[(size_t)g * (n + 1) + n];
    }
    for (int q = 0; q < n; q++) z[q] = total - 2 * z[q];
    free(acc);
}

/* ---- the circuit and its adjoint ---- */

void SV_FN(rf_sv_circuit)(T *psi, T *work, int n, int L, const double *angles, rf_sv_entangler e) {
    T *cur = psi, *spare = work;
    for (int l = 0; l < L; l++) {
        SV_FN(rf_sv_rotation_layer)(cur, n, angles + (size_t)l * n * 3);
        SV_FN(rf_sv_entangle)(cur, spare, n, e, 0);
        T *t = cur;
        cur = spare, spare = t;
    }
    if (cur != psi) memcpy(psi, cur, sizeof(T) << n);
}

void SV_FN(rf_sv_adjoint)(T *psi, const R *dldp, T *work, int n, int L, const double *angles,
                          rf_sv_entangler e, double *grad) {
    const int64_t N = (int64_t)1 << n;
    T *ps = psi, *lam = work, *sp = work + N, *sl = work + 2 * N;
    {
        R *l = (R *)lam;
        const R *x = (const R *)psi;
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
        for (int64_t j = 0; j < N; j++)
            l[2 * j] = dldp[j] * x[2 * j], l[2 * j + 1] = dldp[j] * x[2 * j + 1];
    }
    uint64_t cols[RF_SV_MAX_QUBITS];
    sv_local_map(n, e, cols);
    sv_pass plan[SV_MAX_PASSES];
    const int np = sv_plan(n, 2 * (int)sizeof(T), plan); /* two states share the cache */
    const int vector = N >= 4 * VC;                       /* else the scalar tiles */
    R uinv[8 * RF_SV_MAX_QUBITS];
    double _Complex A[RF_SV_MAX_QUBITS][3][4], V[RF_SV_MAX_QUBITS][4], d2[RF_SV_MAX_QUBITS][2];
    sv_rot Z; /* the layer's U^dagger in rotation form */
    double *M = rf_malloc(sizeof *M * 3 * (size_t)n),
           *acc = rf_malloc(sizeof *acc * 3 * (size_t)n * SV_GROUPS);
    for (int l = L - 1; l >= 0; l--) {
        /* psi, lambda <- entangler^-1 (psi, lambda): one scatter pass for both */
        permute(ps, sp, lam, sl, n, cols, 1);
        T *t = ps;
        ps = sp, sp = t;
        t = lam, lam = sl, sl = t;
        /* per qubit: V = U^dagger, and A_theta = dU/dtheta U^dagger, the generators at the layer's
         * output: dpsi_out/dtheta = A_theta(on qubit q) psi_out */
        for (int q = 0; q < n; q++) {
            const double *a = angles + ((size_t)l * n + q) * 3;
            double _Complex U[4], dU[3][4], *v = V[q];
            rf_sv_fused_rotation(a[0], a[1], a[2], U, dU);
            v[0] = conj(U[0]), v[1] = conj(U[2]), v[2] = conj(U[1]), v[3] = conj(U[3]);
            to_reals(v, uinv + 8 * q);
            for (int th = 0; th < 3; th++) {
                A[q][th][0] = dU[th][0] * v[0] + dU[th][1] * v[2];
                A[q][th][1] = dU[th][0] * v[1] + dU[th][1] * v[3];
                A[q][th][2] = dU[th][2] * v[0] + dU[th][3] * v[2];
                A[q][th][3] = dU[th][2] * v[1] + dU[th][3] * v[3];
            }
        }
        rot_of((const double _Complex(*)[4])V, n, &Z, d2);
        memset(M, 0, sizeof *M * 3 * (size_t)n);
        for (int i = 0; i < np; i++) {
            const sv_pass P = plan[i];
            const int64_t ntiles = (int64_t)1 << (n - P.k - P.wb);
            const int G = ntiles < SV_GROUPS ? (int)ntiles : SV_GROUPS;
            memset(acc, 0, sizeof *acc * 3 * (size_t)n * G);
            tile_plan F;
            if (vector) {
                const int contiguous = plan_bits(&F, P, ~(uint64_t)0, 2 * sizeof(T));
                plan_rot(&F, &Z, contiguous, i == 0, i == np - 1);
            }
#pragma omp parallel if (n >= SV_PAR_MIN_QUBITS && G > 1)
            {
                const size_t tile_bytes = sizeof(T) << (P.k + P.wb);
                char *buf = vector ? rf_malloc(2 * tile_bytes + SV_BUF_SKEW) : NULL;
                R *bp = (R *)buf, *bl = (R *)(buf + tile_bytes + SV_BUF_SKEW);
#pragma omp for schedule(static)
                for (int g = 0; g < G; g++)
                    for (int64_t tt = group_lo(ntiles, G, g); tt < group_lo(ntiles, G, g + 1);
                         tt++) {
                        if (vector)
                            tile_grad((R *)ps, (R *)lam, tt, &F, bp, bl, acc + (size_t)g * 3 * n);
                        else
                            tile_scalar((R *)ps, (R *)lam, tile_base(P, tt), P, ~(uint64_t)0, uinv,
                                        acc + (size_t)g * 3 * n);
                    }
                free(buf);
            }
            for (int g = 0; g < G; g++)
                for (int j = 3 * P.q0; j < 3 * (P.q0 + P.k); j++)
                    M[j] += acc[(size_t)g * 3 * n + j];
        }
        /* dL/dtheta = 2 Re sum_rs A[r][s] M[r][s] over the pairs of the states where the sums were
         * taken: after D2 in the vector tiles, so there A' = D2 A D2^dagger. A' is traceless
         * anti-Hermitian, which leaves 2 Re sum = -Im(A00 - A11) g1 - Im(A10 + A01) g2
         * + Re(A10 - A01) g3. */
        for (int q = 0; q < n; q++)
            for (int th = 0; th < 3; th++) {
                const double _Complex *Ath = A[q][th];
                const double _Complex a01 = vector ? d2[q][0] * Ath[1] * conj(d2[q][1]) : Ath[1],
                                      a10 = vector ? d2[q][1] * Ath[2] * conj(d2[q][0]) : Ath[2];
                grad[((size_t)l * n + q) * 3 + th] = -cimag(Ath[0] - Ath[3]) * M[3 * q] -
                                                     cimag(a10 + a01) * M[3 * q + 1] +
                                                     creal(a10 - a01) * M[3 * q + 2];
            }
    }
    if (ps != psi) memcpy(psi, ps, sizeof(T) << n);
    free(acc), free(M);
}

void SV_FN(rf_sv_entropy)(const T *psi, int n, double *S) {
#if SV_IS_C128
    sv_entropy_c128(psi, n, S, 0);
#else
    const int64_t N = (int64_t)1 << n;
    rf_c128 *z = rf_malloc(sizeof *z * (size_t)N);
#pragma omp parallel for schedule(static) if (n >= SV_PAR_MIN_QUBITS)
    for (int64_t j = 0; j < N; j++) z[j] = psi[j];
    sv_entropy_c128(z, n, S, 0);
    free(z);
#endif
}
