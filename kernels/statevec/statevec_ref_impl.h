/* statevec_ref_impl.h -- the plain scalar *_ref twins of statevec.h for ONE precision (SV_T, SV_R,
 * SV_FN as in statevec_impl.h; included after it). Textbook loops in C complex arithmetic, one
 * gate at a time, no threads, no tiling: what the fast kernels are tested against.
 *   - the rotation layer applies RX, RY and RZ as three separate gates (not the fused matrix);
 *   - the entanglers apply their CNOTs one by one;
 *   - the adjoint is Jones & Gacon's gate-by-gate algorithm on the unfused RX/RY/RZ gates:
 *     for a gate R_P(theta) = exp(-i theta P / 2), dL/dtheta = 2 Re <lambda| (-i/2) P |psi> at
 *     the gate's output, then both states are moved back through the gate.
 */

static void ref_gate(T *psi, int n, int q, const T U[4]) {
    const int64_t N = (int64_t)1 << n, s = (int64_t)1 << q;
    for (int64_t j = 0; j < N; j++)
        if (!(j & s)) {
            const T a = psi[j], b = psi[j | s];
            psi[j] = U[0] * a + U[1] * b;
            psi[j | s] = U[2] * a + U[3] * b;
        }
}

/* RX/RY/RZ(theta) as 2x2 (axis 0, 1, 2). */
static void ref_rot(int axis, double th, T U[4]) {
    const double c = cos(th / 2), s = sin(th / 2);
    if (axis == 0) U[0] = c, U[1] = -I * s, U[2] = -I * s, U[3] = c;
    if (axis == 1) U[0] = c, U[1] = -s, U[2] = s, U[3] = c;
    if (axis == 2) U[0] = c - I * s, U[1] = 0, U[2] = 0, U[3] = c + I * s;
}

int SV_FN(rf_sv_encode_ref)(T *psi, int n, const R *x, int64_t len) {
    const int64_t N = (int64_t)1 << n;
    if (len < 1 || len > N)
        return rf_fail("the input has %lld values for %lld amplitudes", (long long)len,
                       (long long)N);
    double s = 0;
    for (int64_t j = 0; j < len; j++) s += (double)x[j] * x[j];
    if (!(s > 0) || !isfinite(s)) return rf_fail("the input cannot be normalized");
    for (int64_t j = 0; j < N; j++) psi[j] = j < len ? (R)(x[j] / sqrt(s)) : 0;
    return RF_OK;
}

void SV_FN(rf_sv_apply_1q_ref)(T *psi, int n, int q, const T U[4]) { ref_gate(psi, n, q, U); }

void SV_FN(rf_sv_apply_layer_ref)(T *psi, int n, const T *U) {
    for (int q = 0; q < n; q++) ref_gate(psi, n, q, U + 4 * q);
}

void SV_FN(rf_sv_rotation_layer_ref)(T *psi, int n, const double *angles) {
    for (int q = 0; q < n; q++)
        for (int axis = 0; axis < 3; axis++) {
            T U[4];
            ref_rot(axis, angles[3 * q + axis], U);
            ref_gate(psi, n, q, U);
        }
}

void SV_FN(rf_sv_cnot_ref)(T *psi, int n, int c, int t) {
    const int64_t N = (int64_t)1 << n, cm = (int64_t)1 << c, tm = (int64_t)1 << t;
    for (int64_t j = 0; j < N; j++)
        if ((j & cm) && !(j & tm)) {
            const T a = psi[j];
            psi[j] = psi[j | tm], psi[j | tm] = a;
        }
}

static void ref_entangle_inplace(T *psi, int n, rf_sv_entangler e, int inverse) {
    const int ring = e == RF_SV_RING && n >= 2;
    if (!inverse) {
        for (int q = 0; q + 1 < n; q++) SV_FN(rf_sv_cnot_ref)(psi, n, q, q + 1);
        if (ring) SV_FN(rf_sv_cnot_ref)(psi, n, n - 1, 0);
    } else {
        if (ring) SV_FN(rf_sv_cnot_ref)(psi, n, n - 1, 0);
        for (int q = n - 2; q >= 0; q--) SV_FN(rf_sv_cnot_ref)(psi, n, q, q + 1);
    }
}

void SV_FN(rf_sv_entangle_ref)(const T *in, T *out, int n, rf_sv_entangler e, int inverse) {
    memcpy(out, in, sizeof(T) << n);
    ref_entangle_inplace(out, n, e, inverse);
}

void SV_FN(rf_sv_probabilities_ref)(const T *psi, int n, R *p) {
    for (int64_t j = 0; j < (int64_t)1 << n; j++) p[j] = creal(psi[j] * conj(psi[j]));
}

void SV_FN(rf_sv_expval_z_ref)(const T *psi, int n, double *z) {
    for (int q = 0; q < n; q++) {
        double s = 0;
        for (int64_t j = 0; j < (int64_t)1 << n; j++) {
            const double p =
                (double)creal(psi[j]) * creal(psi[j]) + (double)cimag(psi[j]) * cimag(psi[j]);
            s += ((j >> q) & 1) ? -p : p;
        }
        z[q] = s;
    }
}

void SV_FN(rf_sv_entropy_ref)(const T *psi, int n, double *S) {
    const int64_t N = (int64_t)1 << n;
    rf_c128 *z = rf_malloc(sizeof *z * (size_t)N);
    for (int64_t j = 0; j < N; j++) z[j] = psi[j];
    sv_entropy_c128(z, n, S, 1);
    free(z);
}

void SV_FN(rf_sv_circuit_ref)(T *psi, T *work, int n, int L, const double *angles,
                              rf_sv_entangler e) {
    for (int l = 0; l < L; l++) {
        SV_FN(rf_sv_rotation_layer_ref)(psi, n, angles + (size_t)l * n * 3);
        SV_FN(rf_sv_entangle_ref)(psi, work, n, e, 0);
        memcpy(psi, work, sizeof(T) << n);
    }
}

void SV_FN(rf_sv_adjoint_ref)(T *psi, const R *dldp, T *work, int n, int L, const double *angles,
                              rf_sv_entangler e, double *grad) {
    const int64_t N = (int64_t)1 << n;
    T *lam = work;
    for (int64_t j = 0; j < N; j++) lam[j] = dldp[j] * psi[j];
    for (int l = L - 1; l >= 0; l--) {
        ref_entangle_inplace(psi, n, e, 1);
        ref_entangle_inplace(lam, n, e, 1);
        for (int q = n - 1; q >= 0; q--)
            for (int axis = 2; axis >= 0; axis--) {
                /* P psi on qubit q: X swaps, Y = [[0, -i], [i, 0]], Z = diag(1, -1) */
                const int64_t s = (int64_t)1 << q;
                double g = 0;
                for (int64_t j = 0; j < N; j++) {
                    const int bit = (j & s) != 0;
                    T Pp;
                    if (axis == 0)
                        Pp = psi[j ^ s];
                    else if (axis == 1)
                        Pp = bit ? I * psi[j ^ s] : -I * psi[j ^ s];
                    else
                        Pp = bit ? -psi[j] : psi[j];
                    g += creal(conj(lam[j]) * (-I / 2) * Pp);
                }
                grad[((size_t)l * n + q) * 3 + axis] = 2 * g;
                T U[4];
                ref_rot(axis, -angles[((size_t)l * n + q) * 3 + axis], U);
                ref_gate(psi, n, q, U);
                ref_gate(lam, n, q, U);
            }
    }
}
