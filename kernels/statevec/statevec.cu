/* statevec.cu -- the GPU twin of the CPU state-vector kernels (statevec.cuh has the interface and
 * the plan; kernels/statevec/statevec_impl.h is the readable CPU reference). One template per operation,
 * instantiated for float (c64) and double (c128).
 *
 * Shapes: psi V[2^n] (V = float2 / double2), tiles of 2^(k + wb) amplitudes = 2^k rows of
 * W = 2^wb contiguous amplitudes, row r at base + r * 2^q0 (as statevec_internal.h). */
#include <cuda_runtime.h>

#include <complex>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#define _Noreturn [[noreturn]] /* rf_error.h is C11 */
extern "C" {
#include "common/rf_error.h"
}
#undef _Noreturn
#include "kernels/statevec/statevec.cuh"

#define cudaCheck(call)                                                                            \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess)                                                                   \
            rf_fatal_at(__FILE__, __LINE__, "CUDA: %s: %s", #call, cudaGetErrorString(err_));      \
    } while (0)
#define cudaCheckLaunch() cudaCheck(cudaGetLastError())

#define GPU_MAX_QUBITS 34
#define GPU_TILE_BITS 11      /* forward tiles: 2048 amplitudes, 1024 threads (one per pair) */
#define GPU_GRAD_TILE_BITS 10 /* adjoint tiles: 1024 amplitudes of psi and of lambda, 512 threads  \
                               */
#define GPU_ROW_BITS 5        /* rows of 32 amplitudes: one warp reads one row */
#define GPU_GROUPS 1024       /* blocks of the reductions (a fixed number: a fixed order) */

typedef std::complex<double> cd;

template <typename R> struct vec2;
template <> struct vec2<float> { typedef float2 type; };
template <> struct vec2<double> { typedef double2 type; };

/* Per-qubit 2x2 matrices, passed by value (2.2 KiB for double: under the 4 KiB argument limit). */
template <typename R> struct Mats { typename vec2<R>::type u[GPU_MAX_QUBITS][4]; };

struct Pass {
    int q0, k, wb;
};

static int gpu_plan(int n, int tile_bits, Pass *p) {
    int np = 0, q0 = 0;
    while (q0 < n) {
        int wb = q0 == 0 ? 0 : (q0 < GPU_ROW_BITS ? q0 : GPU_ROW_BITS);
        int k = tile_bits - wb;
        if (k > n - q0) k = n - q0;
        p[np++] = Pass{q0, k, wb};
        q0 += k;
    }
    return np;
}

__device__ __forceinline__ int64_t tile_base(Pass P, int64_t t) {
    const int lowbits = P.q0 - P.wb;
    return ((t >> lowbits) << (P.q0 + P.k)) | ((t & ((int64_t(1) << lowbits) - 1)) << P.wb);
}

/* Tile element i (row i >> wb, column i & (W - 1)) -> state index. */
__device__ __forceinline__ int64_t tile_index(Pass P, int64_t base, int i) {
    return base + (int64_t(i >> P.wb) << P.q0) + (i & ((1 << P.wb) - 1));
}

/* (a, b) <- U (a, b) */
template <typename V> __device__ __forceinline__ void apply2(V &a, V &b, const V *u) {
    V na, nb;
    na.x = u[0].x * a.x - u[0].y * a.y + u[1].x * b.x - u[1].y * b.y;
    na.y = u[0].x * a.y + u[0].y * a.x + u[1].x * b.y + u[1].y * b.x;
    nb.x = u[2].x * a.x - u[2].y * a.y + u[3].x * b.x - u[3].y * b.y;
    nb.y = u[2].x * a.y + u[2].y * a.x + u[3].x * b.y + u[3].y * b.x;
    a = na, b = nb;
}

/* The pair p's two tile elements for the gate on tile bit s. */
__device__ __forceinline__ void pair_of(int p, int s, int &i0, int &i1) {
    i0 = ((p >> s) << (s + 1)) | (p & ((1 << s) - 1));
    i1 = i0 | (1 << s);
}

/* One pass of the forward gates: one block per tile, one thread per amplitude pair. */
template <typename R>
__global__ void k_layer_pass(typename vec2<R>::type *psi, Pass P, uint64_t mask, Mats<R> M) {
    typedef typename vec2<R>::type V;
    extern __shared__ unsigned char smem_raw[];
    V *tile = reinterpret_cast<V *>(smem_raw);
    const int size = 1 << (P.k + P.wb);
    const int64_t base = tile_base(P, blockIdx.x);
    for (int i = threadIdx.x; i < size; i += blockDim.x) tile[i] = psi[tile_index(P, base, i)];
    __syncthreads();
    for (int b = 0; b < P.k; b++) {
        if (!((mask >> (P.q0 + b)) & 1)) continue; /* uniform over the block */
        for (int p = threadIdx.x; p < size / 2; p += blockDim.x) {
            int i0, i1;
            pair_of(p, P.wb + b, i0, i1);
            V a = tile[i0], c = tile[i1];
            apply2(a, c, M.u[P.q0 + b]);
            tile[i0] = a, tile[i1] = c;
        }
        __syncthreads();
    }
    for (int i = threadIdx.x; i < size; i += blockDim.x) psi[tile_index(P, base, i)] = tile[i];
}

/* The adjoint's backward pass over psi and lambda: before qubit q's U^dagger is applied to both,
 * M_q[r][s] += conj(lambda_r) psi_s (8 doubles), reduced per warp with shuffles (fixed order),
 * per block over warps in order, over the block's tiles in order; partial[block][b][8]. */
template <typename R>
__global__ void k_grad_pass(typename vec2<R>::type *psi, typename vec2<R>::type *lam, Pass P,
                            int64_t ntiles, Mats<R> Uinv, double *partial) {
    typedef typename vec2<R>::type V;
    extern __shared__ unsigned char smem_raw[];
    const int size = 1 << (P.k + P.wb), warps = (blockDim.x + 31) / 32;
    V *tp = reinterpret_cast<V *>(smem_raw), *tl = tp + size;
    double *slot = reinterpret_cast<double *>(tl + size); /* [k][warps][8] */
    double acc = 0; /* thread t < 8k owns M[b = t / 8][t % 8] */
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
        const int64_t base = tile_base(P, t);
        for (int i = threadIdx.x; i < size; i += blockDim.x) {
            const int64_t g = tile_index(P, base, i);
            tp[i] = psi[g], tl[i] = lam[g];
        }
        __syncthreads();
        for (int b = 0; b < P.k; b++) {
            double m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int p = threadIdx.x; p < size / 2; p += blockDim.x) {
                int i0, i1;
                pair_of(p, P.wb + b, i0, i1);
                V a0 = tp[i0], a1 = tp[i1], l0 = tl[i0], l1 = tl[i1];
                /* conj(l) a = (lr ar + li ai) + i (lr ai - li ar) */
                m[0] += (double)l0.x * a0.x + (double)l0.y * a0.y,
                    m[1] += (double)l0.x * a0.y - (double)l0.y * a0.x;
                m[2] += (double)l0.x * a1.x + (double)l0.y * a1.y,
                    m[3] += (double)l0.x * a1.y - (double)l0.y * a1.x;
                m[4] += (double)l1.x * a0.x + (double)l1.y * a0.y,
                    m[5] += (double)l1.x * a0.y - (double)l1.y * a0.x;
                m[6] += (double)l1.x * a1.x + (double)l1.y * a1.y,
                    m[7] += (double)l1.x * a1.y - (double)l1.y * a1.x;
                apply2(a0, a1, Uinv.u[P.q0 + b]);
                apply2(l0, l1, Uinv.u[P.q0 + b]);
                tp[i0] = a0, tp[i1] = a1, tl[i0] = l0, tl[i1] = l1;
            }
            for (int c = 0; c < 8; c++) {
                double v = m[c];
                for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
                if (lane == 0) slot[(b * warps + warp) * 8 + c] = v;
            }
            __syncthreads();
        }
        if (threadIdx.x < 8 * P.k) {
            const int b = threadIdx.x / 8, c = threadIdx.x % 8;
            for (int w = 0; w < warps; w++) acc += slot[(b * warps + w) * 8 + c];
        }
        for (int i = threadIdx.x; i < size; i += blockDim.x) {
            const int64_t g = tile_index(P, base, i);
            psi[g] = tp[i], lam[g] = tl[i];
        }
        __syncthreads();
    }
    if (threadIdx.x < 8 * P.k) partial[(int64_t)blockIdx.x * 8 * P.k + threadIdx.x] = acc;
}

/* out[j] = sum over blocks g (in order) of partial[g][j], j < m. */
__global__ void k_sum_partials(const double *partial, int groups, int m, double *out) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= m) return;
    double s = 0;
    for (int g = 0; g < groups; g++) s += partial[(int64_t)g * m + j];
    out[j] = s;
}

/* The local GF(2) map of statevec_internal.h in closed form: chain F^-1 y = y ^ (y << 1); ring
 * first moves the top bit's parity into bit 0. */
__device__ __forceinline__ uint64_t local_map(uint64_t y, int n, int ring) {
    const uint64_t mask = (n >= 64) ? ~0ull : ((1ull << n) - 1);
    if (ring) y ^= (y >> (n - 1)) & 1;
    return (y ^ (y << 1)) & mask;
}

template <typename V>
__global__ void k_permute(const V *in, V *out, const V *in2, V *out2, int n, int ring,
                          int scatter) {
    const int64_t N = int64_t(1) << n;
    for (int64_t y = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; y < N;
         y += (int64_t)gridDim.x * blockDim.x) {
        const int64_t a = (int64_t)local_map((uint64_t)y, n, ring);
        if (scatter) {
            out[a] = in[y];
            if (in2) out2[a] = in2[y];
        } else {
            out[y] = in[a];
            if (in2) out2[y] = in2[a];
        }
    }
}

template <typename R>
__global__ void k_probabilities(const typename vec2<R>::type *psi, int64_t N, R *p) {
    for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < N;
         j += (int64_t)gridDim.x * blockDim.x)
        p[j] = psi[j].x * psi[j].x + psi[j].y * psi[j].y;
}

template <typename R>
__global__ void k_scale(const typename vec2<R>::type *psi, const R *d, int64_t N,
                        typename vec2<R>::type *lam) {
    for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < N;
         j += (int64_t)gridDim.x * blockDim.x) {
        lam[j].x = d[j] * psi[j].x;
        lam[j].y = d[j] * psi[j].y;
    }
}

/* Per block: partial[block][q] = sum of p_j over its j with bit q set (q < n), [n] = sum of all.
 * Each thread strides over j; warps reduce by shuffles, then the block over warps in order. */
template <typename R>
__global__ void k_expval_z(const typename vec2<R>::type *psi, int n, double *partial) {
    __shared__ double red[32][GPU_MAX_QUBITS + 1];
    double acc[GPU_MAX_QUBITS + 1];
#pragma unroll
    for (int q = 0; q <= GPU_MAX_QUBITS; q++) acc[q] = 0;
    const int64_t N = int64_t(1) << n;
    for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < N;
         j += (int64_t)gridDim.x * blockDim.x) {
        const double p = (double)psi[j].x * psi[j].x + (double)psi[j].y * psi[j].y;
#pragma unroll
        for (int q = 0; q < GPU_MAX_QUBITS; q++)
            if (q < n && ((j >> q) & 1)) acc[q] += p;
        acc[GPU_MAX_QUBITS] += p;
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
    for (int q = 0; q <= GPU_MAX_QUBITS; q++) {
        double v = acc[q];
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (lane == 0) red[warp][q] = v;
    }
    __syncthreads();
    if (threadIdx.x <= GPU_MAX_QUBITS) {
        double s = 0;
        for (int w = 0; w < warps; w++) s += red[w][threadIdx.x];
        partial[(int64_t)blockIdx.x * (GPU_MAX_QUBITS + 1) + threadIdx.x] = s;
    }
}

/* ---- host side ---- */

static unsigned grid_for(int64_t N, int threads) {
    int64_t b = (N + threads - 1) / threads;
    return (unsigned)(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

/* U = RZ(c) RY(b) RX(a) and A_theta = dU/dtheta U^dagger (as statevec.c: A_a = U (-i/2 X) U^+,
 * A_b = RZ (-i/2 Y) RZ^+, A_c = -i/2 Z). */
static void fused(double a, double b, double c, cd U[4], cd A[3][4]) {
    const cd i(0, 1);
    const double ca = cos(a / 2), sa = sin(a / 2), cb = cos(b / 2), sb = sin(b / 2);
    const cd em = std::exp(-i * (c / 2)), ep = std::exp(i * (c / 2));
    const cd RX[4] = {ca, -i * sa, -i * sa, ca}, RY[4] = {cb, -sb, sb, cb};
    const cd YX[4] = {RY[0] * RX[0] + RY[1] * RX[2], RY[0] * RX[1] + RY[1] * RX[3],
                      RY[2] * RX[0] + RY[3] * RX[2], RY[2] * RX[1] + RY[3] * RX[3]};
    U[0] = em * YX[0], U[1] = em * YX[1], U[2] = ep * YX[2], U[3] = ep * YX[3];
    if (!A) return;
    const cd Ui[4] = {std::conj(U[0]), std::conj(U[2]), std::conj(U[1]), std::conj(U[3])};
    const cd X[4] = {0, 1, 1, 0}, Y[4] = {0, -i, i, 0}, Z[4] = {1, 0, 0, -1};
    auto mul = [](const cd *P, const cd *Q, cd *C) {
        cd t[4] = {P[0] * Q[0] + P[1] * Q[2], P[0] * Q[1] + P[1] * Q[3], P[2] * Q[0] + P[3] * Q[2],
                   P[2] * Q[1] + P[3] * Q[3]};
        for (int k = 0; k < 4; k++) C[k] = t[k];
    };
    const cd h = -i * 0.5;
    cd T[4], G[4];
    for (int k = 0; k < 4; k++) G[k] = h * X[k];
    mul(U, G, T), mul(T, Ui, A[0]);
    const cd RZ[4] = {em, 0, 0, ep}, RZi[4] = {ep, 0, 0, em};
    for (int k = 0; k < 4; k++) G[k] = h * Y[k];
    mul(RZ, G, T), mul(T, RZi, A[1]);
    for (int k = 0; k < 4; k++) A[2][k] = h * Z[k];
}

template <typename R> static void set_mat(Mats<R> &M, int q, const cd U[4]) {
    for (int k = 0; k < 4; k++) M.u[q][k].x = (R)U[k].real(), M.u[q][k].y = (R)U[k].imag();
}

template <typename R>
static void apply_passes(void *psi, int n, const Mats<R> &M, uint64_t mask, int only_q) {
    typedef typename vec2<R>::type V;
    Pass plan[GPU_MAX_QUBITS];
    const int np = gpu_plan(n, GPU_TILE_BITS, plan);
    for (int i = 0; i < np; i++) {
        const Pass P = plan[i];
        if (only_q >= 0 && (only_q < P.q0 || only_q >= P.q0 + P.k)) continue;
        const int size = 1 << (P.k + P.wb);
        const unsigned ntiles = 1u << (n - P.k - P.wb);
        k_layer_pass<R><<<ntiles, size / 2, size * sizeof(V)>>>((V *)psi, P, mask, M);
        cudaCheckLaunch();
    }
}

template <typename R> static void apply_1q(void *psi, int n, int q, const R *U_host) {
    rf_check(n >= 1 && n <= GPU_MAX_QUBITS && q >= 0 && q < n, "rf_sv_gpu_apply_1q: q %d of %d", q,
             n);
    Mats<R> M;
    memset(&M, 0, sizeof M);
    for (int k = 0; k < 4; k++) M.u[q][k].x = U_host[2 * k], M.u[q][k].y = U_host[2 * k + 1];
    apply_passes<R>(psi, n, M, uint64_t(1) << q, q);
}

template <typename R> static void apply_layer(void *psi, int n, const R *U_host) {
    rf_check(n >= 1 && n <= GPU_MAX_QUBITS, "rf_sv_gpu_apply_layer: %d qubits", n);
    Mats<R> M;
    for (int q = 0; q < n; q++)
        for (int k = 0; k < 4; k++)
            M.u[q][k].x = U_host[8 * q + 2 * k], M.u[q][k].y = U_host[8 * q + 2 * k + 1];
    apply_passes<R>(psi, n, M, ~uint64_t(0), -1);
}

template <typename R> static void rotation_layer(void *psi, int n, const double *ang) {
    rf_check(n >= 1 && n <= GPU_MAX_QUBITS, "rf_sv_gpu_rotation_layer: %d qubits", n);
    Mats<R> M;
    for (int q = 0; q < n; q++) {
        cd U[4];
        fused(ang[3 * q], ang[3 * q + 1], ang[3 * q + 2], U, nullptr);
        set_mat<R>(M, q, U);
    }
    apply_passes<R>(psi, n, M, ~uint64_t(0), -1);
}

template <typename R>
static void permute(const void *in, void *out, const void *in2, void *out2, int n, int entangler,
                    int scatter) {
    typedef typename vec2<R>::type V;
    const int ring = entangler == 1 && n >= 2;
    k_permute<V><<<grid_for(int64_t(1) << n, 256), 256>>>((const V *)in, (V *)out, (const V *)in2,
                                                          (V *)out2, n, ring, scatter);
    cudaCheckLaunch();
}

template <typename R>
static void circuit(void *psi, void *work, int n, int L, const double *ang, int e) {
    typedef typename vec2<R>::type V;
    void *cur = psi, *spare = work;
    for (int l = 0; l < L; l++) {
        rotation_layer<R>(cur, n, ang + (size_t)l * n * 3);
        permute<R>(cur, spare, nullptr, nullptr, n, e, 0);
        std::swap(cur, spare);
    }
    if (cur != psi) cudaCheck(cudaMemcpy(psi, cur, sizeof(V) << n, cudaMemcpyDeviceToDevice));
}

template <typename R> static void probabilities(const void *psi, int n, R *p) {
    typedef typename vec2<R>::type V;
    const int64_t N = int64_t(1) << n;
    k_probabilities<R><<<grid_for(N, 256), 256>>>((const V *)psi, N, p);
    cudaCheckLaunch();
}

template <typename R> static void expval_z(const void *psi, int n, double *z) {
    typedef typename vec2<R>::type V;
    const int threads = 256, groups = 256, m = GPU_MAX_QUBITS + 1;
    double *partial;
    cudaCheck(cudaMalloc(&partial, sizeof(double) * groups * m));
    k_expval_z<R><<<groups, threads>>>((const V *)psi, n, partial);
    cudaCheckLaunch();
    std::vector<double> h((size_t)groups * m);
    cudaCheck(cudaMemcpy(h.data(), partial, sizeof(double) * h.size(), cudaMemcpyDeviceToHost));
    cudaCheck(cudaFree(partial));
    double total = 0;
    for (int q = 0; q < n; q++) z[q] = 0;
    for (int g = 0; g < groups; g++) {
        for (int q = 0; q < n; q++) z[q] += h[(size_t)g * m + q];
        total += h[(size_t)g * m + GPU_MAX_QUBITS];
    }
    for (int q = 0; q < n; q++) z[q] = total - 2 * z[q];
}

template <typename R>
static void adjoint(void *psi, const R *dldp, void *work, int n, int L, const double *ang, int e,
                    double *grad) {
    typedef typename vec2<R>::type V;
    rf_check(n >= 1 && n <= GPU_MAX_QUBITS, "rf_sv_gpu_adjoint: %d qubits", n);
    const int64_t N = int64_t(1) << n;
    V *ps = (V *)psi, *lam = (V *)work, *sp = lam + N, *sl = lam + 2 * N;
    k_scale<R><<<grid_for(N, 256), 256>>>(ps, dldp, N, lam);
    cudaCheckLaunch();
    Pass plan[GPU_MAX_QUBITS];
    const int np = gpu_plan(n, GPU_GRAD_TILE_BITS, plan);
    double *partial, *Mdev;
    cudaCheck(cudaMalloc(&partial, sizeof(double) * GPU_GROUPS * 8 * GPU_GRAD_TILE_BITS));
    cudaCheck(cudaMalloc(&Mdev, sizeof(double) * 8 * n));
    std::vector<double> M((size_t)8 * n);
    for (int l = L - 1; l >= 0; l--) {
        permute<R>(ps, sp, lam, sl, n, e, 1);
        std::swap(ps, sp), std::swap(lam, sl);
        Mats<R> Ui;
        cd A[GPU_MAX_QUBITS][3][4];
        for (int q = 0; q < n; q++) {
            const double *a = ang + ((size_t)l * n + q) * 3;
            cd U[4];
            fused(a[0], a[1], a[2], U, A[q]);
            const cd Uinv[4] = {std::conj(U[0]), std::conj(U[2]), std::conj(U[1]), std::conj(U[3])};
            set_mat<R>(Ui, q, Uinv);
        }
        for (int i = 0; i < np; i++) {
            const Pass P = plan[i];
            const int size = 1 << (P.k + P.wb), threads = size / 2 > 32 ? size / 2 : 32;
            const int64_t ntiles = int64_t(1) << (n - P.k - P.wb);
            const int groups = ntiles < GPU_GROUPS ? (int)ntiles : GPU_GROUPS;
            const size_t smem =
                2 * size * sizeof(V) + sizeof(double) * P.k * ((threads + 31) / 32) * 8;
            k_grad_pass<R><<<groups, threads, smem>>>(ps, lam, P, ntiles, Ui, partial);
            cudaCheckLaunch();
            k_sum_partials<<<1, 8 * P.k>>>(partial, groups, 8 * P.k, Mdev + 8 * P.q0);
            cudaCheckLaunch();
        }
        cudaCheck(cudaMemcpy(M.data(), Mdev, sizeof(double) * 8 * n, cudaMemcpyDeviceToHost));
        for (int q = 0; q < n; q++)
            for (int th = 0; th < 3; th++) {
                double s = 0;
                for (int k = 0; k < 4; k++)
                    s += A[q][th][k].real() * M[8 * q + 2 * k] -
                         A[q][th][k].imag() * M[8 * q + 2 * k + 1];
                grad[((size_t)l * n + q) * 3 + th] = 2 * s;
            }
    }
    if (ps != (V *)psi) cudaCheck(cudaMemcpy(psi, ps, sizeof(V) * N, cudaMemcpyDeviceToDevice));
    cudaCheck(cudaFree(Mdev));
    cudaCheck(cudaFree(partial));
}

/* ---- the C interface ---- */

extern "C" {

int rf_sv_gpu_available(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError(); /* clear the sticky error of a missing driver */
        return 0;
    }
    return count > 0;
}

void *rf_sv_gpu_malloc(size_t bytes) {
    void *p = nullptr;
    cudaCheck(cudaMalloc(&p, bytes));
    return p;
}
void rf_sv_gpu_free(void *dev) { cudaCheck(cudaFree(dev)); }
void rf_sv_gpu_upload(void *dev, const void *host, size_t bytes) {
    cudaCheck(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice));
}
void rf_sv_gpu_download(void *host, const void *dev, size_t bytes) {
    cudaCheck(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost));
}
void rf_sv_gpu_copy(void *dst, const void *src, size_t bytes) {
    cudaCheck(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void rf_sv_gpu_sync(void) { cudaCheck(cudaDeviceSynchronize()); }

int rf_sv_gpu_layer_passes(int n) {
    Pass p[GPU_MAX_QUBITS];
    return gpu_plan(n, GPU_TILE_BITS, p);
}

#define RF_SV_GPU_DEFINE(S, R)                                                                     \
    void rf_sv_gpu_apply_1q_##S(void *psi, int n, int q, const R *U) {                             \
        apply_1q<R>(psi, n, q, U);                                                                 \
    }                                                                                              \
    void rf_sv_gpu_apply_layer_##S(void *psi, int n, const R *U) { apply_layer<R>(psi, n, U); }    \
    void rf_sv_gpu_rotation_layer_##S(void *psi, int n, const double *a) {                         \
        rotation_layer<R>(psi, n, a);                                                              \
    }                                                                                              \
    void rf_sv_gpu_entangle_##S(const void *in, void *out, int n, int e, int inverse) {            \
        permute<R>(in, out, nullptr, nullptr, n, e, inverse);                                      \
    }                                                                                              \
    void rf_sv_gpu_probabilities_##S(const void *psi, int n, R *p) {                               \
        probabilities<R>(psi, n, p);                                                               \
    }                                                                                              \
    void rf_sv_gpu_expval_z_##S(const void *psi, int n, double *z) { expval_z<R>(psi, n, z); }     \
    void rf_sv_gpu_circuit_##S(void *psi, void *work, int n, int L, const double *a, int e) {      \
        circuit<R>(psi, work, n, L, a, e);                                                         \
    }                                                                                              \
    void rf_sv_gpu_adjoint_##S(void *psi, const R *dldp, void *work, int n, int L,                 \
                               const double *a, int e, double *grad) {                             \
        adjoint<R>(psi, dldp, work, n, L, a, e, grad);                                             \
    }

RF_SV_GPU_DEFINE(c64, float)
RF_SV_GPU_DEFINE(c128, double)

} /* extern "C" */
