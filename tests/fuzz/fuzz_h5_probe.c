/* fuzz_h5_probe.c -- libFuzzer harness: a user's HDF5 file behind the child-process probe
 * (io/h5_probe.h), as `run --xtx` and `inspect`/`dequantize`/`export` meet it.
 *
 * Input: the file's bytes (seeds: an XTX file, a shard and a checkpoint written by riverforge).
 * For each of the two uses, the probe runs first, then -- only when it passed -- what the
 * command does next, in this process:
 *   --xtx:      rf_xtx_probe ("layout": metadata and extents, no data), then rf_xtx_open, the
 *               manifest's fingerprint, and rf_xtx_has/check/read of the seed's matrices;
 *   checkpoint: rf_h5_probe "/" with "data", then inspect's and dequantize's reads: the config,
 *               every /matrices record and every /vit record with its weights.
 * Checks: the probe ends in RF_OK or a refusal naming the file (a crash, an HDF5 loop past the
 * limit or an error in the child is that refusal, never this process's end), and what follows a
 * passed probe ends in RF_OK or a refusal naming the file -- a crash there, in the caller, is a
 * finding. The probe's child is this binary again: LLVMFuzzerInitialize answers
 * `inspect --check FILE OBJECT MODE` as riverforge does (mpi/cmd_inspect.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5_probe.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"
#include "io/xtx_file.h"
#include "tests/fuzz/fuzz_util.h"

/* The seed XTX's matrices: tests/fuzz/make_corpus.sh's model (hidden 16, intermediate 32). */
static const struct { const char *name; int64_t in; } xtx_names[] = {
    {"model.layers.0.self_attn.q_proj", 16}, {"model.layers.0.self_attn.o_proj", 16},
    {"model.layers.0.mlp.up_proj", 16}, {"model.layers.0.mlp.down_proj", 32}};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char **a = *argv;
    if (*argc == 6 && !strcmp(a[1], "inspect") && !strcmp(a[2], "--check")) {
        int rc = rf_h5_check_file(a[3], a[4], !strcmp(a[5], "data"));
        if (rc != RF_OK) fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        fflush(stderr);
        _exit(rc == RF_OK ? 0 : 2); /* no exit handlers: leak reports of HDF5's are not the point */
    }
    return 0;
}

static void read_xtx(const char *path) {
    rf_xtx_file *f;
    char fp[17];
    if (rf_xtx_open(&f, path) != RF_OK) {
        fuzz_check_refusal(path);
        return;
    }
    if (rf_xtx_fingerprint(f, fp) != RF_OK) fuzz_check_refusal(path);
    float xtx[32 * 32];
    for (size_t i = 0; i < sizeof xtx_names / sizeof *xtx_names; i++) {
        int64_t nsamples;
        if (rf_xtx_has(f, xtx_names[i].name) != 1) continue;
        if (rf_xtx_check(f, xtx_names[i].name, xtx_names[i].in) != RF_OK ||
            rf_xtx_read(f, xtx_names[i].name, xtx_names[i].in, xtx, &nsamples) != RF_OK)
            fuzz_check_refusal(path);
    }
    rf_xtx_close(f);
}

static void read_checkpoint(const char *path) {
    char **names = NULL, *config = NULL;
    int n = 0;
    if (rf_container_read_config(path, &config) != RF_OK) fuzz_check_refusal(path);
    free(config);
    if (rf_matrix_list(path, &names, &n) != RF_OK) {
        fuzz_check_refusal(path);
    } else {
        for (int i = 0; i < n; i++) {
            rf_aqlm_matrix q;
            if (rf_matrix_read(path, names[i], &q, NULL, NULL, 0) != RF_OK)
                fuzz_check_refusal(path);
            else
                rf_aqlm_free(&q);
        }
        rf_container_free_names(names, n);
    }
    if (rf_vit_list(path, &names, &n) != RF_OK) {
        fuzz_check_refusal(path);
        return;
    }
    for (int i = 0; i < n; i++) {
        rf_vit_info info;
        float *w = NULL;
        if (rf_vit_read(path, names[i], &info, &w) != RF_OK) fuzz_check_refusal(path);
        free(w);
    }
    rf_container_free_names(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("probe.h5", data, size);
    if (rf_xtx_probe(path) == RF_OK) read_xtx(path);
    else fuzz_check_refusal(path);
    if (rf_h5_probe(path, "/", 1) == RF_OK) read_checkpoint(path);
    else fuzz_check_refusal(path);
    return 0;
}
