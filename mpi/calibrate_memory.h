/* calibrate_memory.h -- the peak memory of each rank of `riverforge calibrate`: its sequences'
 * hidden states [count, seqlen, hidden] float32, the float32 embedding, one layer's float32
 * weights, one sequence's activations and one chunk's float64 sums (the four in x in matrices of a
 * layer's inputs); rank 0 also holds the layer's total, a chunk it receives and the layer file's
 * image (three more sets of sums). calibrate checks it against the node before any work; `plan
 * --calibrate` prints it. */
#ifndef RF_CALIBRATE_MEMORY_H
#define RF_CALIBRATE_MEMORY_H

#include <stdint.h>

#include "kernels/decoder/decoder.h"

/* The sequences form min(sequences, RF_CALIB_MAX_CHUNKS) contiguous chunks; rank r owns chunks
 * [nchunks r / nranks, nchunks (r + 1) / nranks) (cmd_calibrate.c: why the order is fixed). */
enum { RF_CALIB_MAX_CHUNKS = 64 };

typedef struct {
    double rank0; /* bytes of rank 0 */
    double other; /* bytes of the rank holding the most sequences, counted as a rank but 0 */
} rf_calib_peak;

rf_calib_peak rf_calib_predict_peak(const rf_dec_config *dc, int seqlen, int64_t nseq, int nranks);

#endif
