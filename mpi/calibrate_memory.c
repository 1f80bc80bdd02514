/* calibrate_memory.c -- see calibrate_memory.h. */
#include "mpi/calibrate_memory.h"

/* Bytes of a rank holding count sequences; rank 0 holds three more sets of one layer's sums. */
static double rank_bytes(const rf_dec_config *dc, int T, int64_t count, int rank0) {
    double sums = 0, qd = (double)dc->heads * dc->head_dim;
    const double dims[RF_TAP_COUNT] = {dc->hidden, qd, dc->hidden, dc->intermediate};
    for (int t = 0; t < RF_TAP_COUNT; t++) sums += 8 * dims[t] * dims[t];
    double maxd = qd > dc->intermediate ? qd : dc->intermediate;
    maxd = maxd > dc->hidden ? maxd : dc->hidden;
    return (double)count * T * (4.0 * dc->hidden + 4) + 4.0 * dc->vocab * dc->hidden +
           rf_dec_layer_bytes(dc) + rf_dec_work_bytes(dc, 1, T) + 8 * T * maxd +
           sums * (rank0 ? 5 : 1);
}

rf_calib_peak rf_calib_predict_peak(const rf_dec_config *dc, int seqlen, int64_t nseq, int nranks) {
    int64_t nchunks = nseq < RF_CALIB_MAX_CHUNKS ? nseq : RF_CALIB_MAX_CHUNKS, most = 0;
    for (int r = 0; r < nranks; r++) { /* the sequences of rank r's chunks */
        int64_t a = nchunks * r / nranks, b = nchunks * (r + 1) / nranks;
        int64_t n = nseq * b / nchunks - nseq * a / nchunks;
        most = n > most ? n : most;
    }
    rf_calib_peak p = {rank_bytes(dc, seqlen, nseq * (nchunks / nranks) / nchunks, 1),
                       rank_bytes(dc, seqlen, most, 0)};
    return p;
}
