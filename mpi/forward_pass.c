/* forward_pass.c -- a rank's sequences through the decoder, layer by layer (forward_pass.h). */
#include "mpi/forward_pass.h"

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"

void rf_forward_ids(rf_forward *f, const rf_tokens *tok, uint64_t seed, int64_t first) {
    f->ids = rf_malloc((size_t)(f->count * f->T + 1) * sizeof(int32_t));
    for (int64_t s = 0; s < f->count; s++)
        rf_tokens_read(tok, rf_tokens_window(tok, f->T, seed, first + s), f->T, f->ids + s * f->T);
}

float *rf_forward_run(rf_forward *f) {
    const rf_dec_config *c = &f->m->cfg;
    int64_t rows = f->count * f->T;
    float *x = rf_malloc((size_t)(rows * c->hidden + 1) * sizeof(float));
    for (int64_t r = 0; r < rows; r++)
        memcpy(x + r * c->hidden, f->embed + (int64_t)f->ids[r] * c->hidden,
               (size_t)c->hidden * sizeof(float));
    /* one sequence per call: its T rows make sgemms large enough, and the scratch stays small */
    rf_dec_work *w = rf_dec_work_new(c, 1, f->T);
    double start = rf_now();
    f->nquantized = 0;
    f->stopped = 0;
    for (int L = 0; L < f->m->nlayers; L++) {
        rf_dec_model_layer l;
        if (rf_dec_model_layer_load(f->m, L, &l) != RF_OK) {
            free(x);
            x = NULL;
            break;
        }
        f->nquantized += l.nquantized;
        for (int64_t s = 0; s < f->count; s++)
            rf_dec_layer_forward(c, &l.w, w, x + s * f->T * c->hidden, 1, f->T,
                                 L >= f->tap_from ? f->tap : NULL, f->ctx);
        rf_dec_model_layer_free(&l);
        if (f->layer_done &&
            f->layer_done(f->ctx, L, (double)rows * (L + 1) / (rf_now() - start + 1e-9))) {
            f->stopped = L + 1 < f->m->nlayers;
            break;
        }
    }
    rf_dec_work_free(w);
    return x;
}
