/* statevec.cuh -- the state-vector kernels of kernels/statevec/statevec.h on an NVIDIA GPU (statevec.cu),
 * callable from C. Same conventions as statevec.h (qubit 0 = least significant index bit, angles
 * [L][n][3] of RX, RY, RZ fused into U = RZ RY RX, entangler 0 = chain, 1 = ring, values of
 * rf_sv_entangler); tests hold every function to its CPU twin (tests/kernels/statevec/test_sv_cuda.c).
 *
 * States live in device memory, as interleaved (re, im) pairs: float2 / double2, the layout of
 * rf_c64 / rf_c128 (this header stays free of C complex types, which C++ lacks). Host arrays are
 * marked _host. Everything runs on the default stream; functions that return host results
 * synchronize. Internal CUDA failures stop the process through rf_fatal (cudaCheck), except
 * rf_sv_gpu_available, which only reports.
 *
 * How the kernels work (docs/vqc.md, "GPU"):
 *   - a layer of one-qubit gates runs in passes; each CUDA block loads one tile of 2^11
 *     amplitudes (the low 11 qubits, then groups of 6 higher qubits in rows of 32 contiguous
 *     amplitudes) into shared memory, applies all the pass's gates there with one thread per
 *     amplitude pair, and writes it back: 26 qubits in 4 passes;
 *   - the entangler is one permutation pass (one thread per amplitude, the closed-form GF(2)
 *     index map of statevec.h);
 *   - the adjoint's backward step runs the same tiles over psi and lambda together and reduces
 *     the per-qubit 2x2 matrices M_q with warp shuffles in a fixed order (deterministic).
 *   - the entropy is not computed on the GPU: copy the state to the host, rf_sv_entropy.
 */
#ifndef RF_STATEVEC_CUH
#define RF_STATEVEC_CUH

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when a CUDA device can be used, 0 otherwise (no device, no driver): never fails. */
int rf_sv_gpu_available(void);

/* Device memory and copies (cudaCheck'ed). */
void *rf_sv_gpu_malloc(size_t bytes);
void rf_sv_gpu_free(void *dev);
void rf_sv_gpu_upload(void *dev, const void *host, size_t bytes);
void rf_sv_gpu_download(void *host, const void *dev, size_t bytes);
void rf_sv_gpu_copy(void *dev_dst, const void *dev_src, size_t bytes); /* device to device */
void rf_sv_gpu_sync(void);

/* Passes rf_sv_gpu_apply_layer_* makes over n qubits. */
int rf_sv_gpu_layer_passes(int n);

#define RF_SV_GPU_DECLARE(S, R)                                                                    \
    /* One 2x2 gate U_host[4] on qubit q; a layer of gates U_host[n][4] (row-major, interleaved \
     * re/im). */                                                                                  \
    void rf_sv_gpu_apply_1q_##S(void *psi, int n, int q, const R *U_host);                         \
    void rf_sv_gpu_apply_layer_##S(void *psi, int n, const R *U_host);                             \
    void rf_sv_gpu_rotation_layer_##S(void *psi, int n, const double *angles_host);                \
    /* out = entangler in (inverse: entangler^-1 in), one pass, in != out. */                      \
    void rf_sv_gpu_entangle_##S(const void *in, void *out, int n, int entangler, int inverse);     \
    void rf_sv_gpu_probabilities_##S(const void *psi, int n, R *p);                                \
    void rf_sv_gpu_expval_z_##S(const void *psi, int n, double *z_host);                           \
    /* work: 2^n amplitudes. */                                                                    \
    void rf_sv_gpu_circuit_##S(void *psi, void *work, int n, int L, const double *angles_host,     \
                               int entangler);                                                     \
    /* As rf_sv_adjoint: psi the circuit's output on entry, its input on return; dldp [2^n] on    \
     * the device; work: 3 * 2^n amplitudes; grad_host [L][n][3]. */                               \
    void rf_sv_gpu_adjoint_##S(void *psi, const R *dldp, void *work, int n, int L,                 \
                               const double *angles_host, int entangler, double *grad_host);

RF_SV_GPU_DECLARE(c64, float)
RF_SV_GPU_DECLARE(c128, double)
#undef RF_SV_GPU_DECLARE

#ifdef __cplusplus
}
#endif

#endif
