/* cmd_dequantize.c -- `riverforge dequantize --checkpoint FILE.h5 --out DIR`: dense float32
 * weights (NAME.weight, per the DESIGN.md formula) as safetensors files of at most ~2 GiB each
 * plus model.safetensors.index.json, for evaluation with ordinary tools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "mpi/cli.h"
#include "mpi/commands.h"

#define FILE_BYTES_LIMIT ((size_t)2 << 30)

typedef struct {
    int n;                 /* tensors in the file being filled */
    size_t bytes;
    rf_st_entry *entries;  /* [names] */
    float **data;
} pending_file;

static void drop_pending(pending_file *p) {
    for (int i = 0; i < p->n; i++) {
        free(p->data[i]);
        free((char *)p->entries[i].name);
    }
    p->n = 0;
    p->bytes = 0;
}

static int flush_file(const char *dir, int file_no, pending_file *p) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model-%05d.safetensors", dir, file_no);
    int rc = rf_st_write(path, p->entries, p->n);
    drop_pending(p);
    return rc;
}

int rf_cmd_dequantize(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL;
    rf_opt opts[] = {
        {"--checkpoint", RF_OPT_STRING, &ckpt, "FILE.h5", "riverforge checkpoint (required)"},
        {"--out", RF_OPT_STRING, &out, "DIR", "output directory for dense safetensors (required)"},
    };
    int rc = rf_cli_parse(argc, argv, "dequantize", opts, 2);
    if (rc == 1) {
        rf_cli_help(stdout, "riverforge dequantize --checkpoint FILE.h5 --out DIR",
                    "Writes every quantized matrix as a dense float32 tensor NAME.weight.", opts, 2);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && (!ckpt || !out)) rc = rf_fail("--checkpoint FILE.h5 and --out DIR are required");
    char **names = NULL;
    int n = 0;
    if (rc == RF_OK) rc = rf_checkpoint_list(ckpt, &names, &n);
    if (rc == RF_OK && rf_make_dirs(out) != RF_OK) rc = rf_fail_prefix("--out: ");
    pending_file p = {0};
    char **tensor_names = rf_calloc((size_t)n + 1, sizeof *tensor_names);
    char **file_names = rf_calloc((size_t)n + 1, sizeof *file_names);
    p.entries = rf_calloc((size_t)n + 1, sizeof *p.entries);
    p.data = rf_calloc((size_t)n + 1, sizeof *p.data);
    int file_no = 1;
    uint64_t total = 0;
    for (int i = 0; i < n && rc == RF_OK; i++) {
        rf_aqlm_matrix q;
        rf_aqlm_stats st;
        char device[16], tensor[300], file[64];
        rc = rf_checkpoint_read_matrix(ckpt, names[i], &q, &st, device, sizeof device);
        if (rc != RF_OK) break;
        size_t bytes = (size_t)(q.out_features * q.in_features) * sizeof(float);
        if (p.n > 0 && p.bytes + bytes > FILE_BYTES_LIMIT) {
            rc = flush_file(out, file_no++, &p);
            if (rc != RF_OK) break;
        }
        float *w = rf_malloc(bytes);
        rf_aqlm_dequantize(&q, w);
        snprintf(tensor, sizeof tensor, "%s.weight", names[i]);
        snprintf(file, sizeof file, "model-%05d.safetensors", file_no);
        p.entries[p.n] = (rf_st_entry){.name = rf_strdup(tensor), .dtype = RF_DTYPE_F32, .ndim = 2,
                                       .shape = {q.out_features, q.in_features}, .data = w};
        p.data[p.n++] = w;
        p.bytes += bytes;
        total += bytes;
        tensor_names[i] = rf_strdup(tensor);
        file_names[i] = rf_strdup(file);
        rf_aqlm_free(&q);
    }
    if (rc == RF_OK && p.n > 0) rc = flush_file(out, file_no, &p);
    if (rc == RF_OK)
        rc = rf_st_write_index(out, n, (const char *const *)tensor_names, (const char *const *)file_names, total);
    for (int i = 0; i < n; i++) {
        free(tensor_names[i]);
        free(file_names[i]);
    }
    drop_pending(&p); /* left only after a failure */
    free(tensor_names);
    free(file_names);
    free(p.entries);
    free(p.data);
    if (names) rf_checkpoint_free_names(names, n);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("riverforge: wrote %d dense matrices (%.1f MB float32) to %s\n", n, (double)total / 1e6, out);
    return RF_EXIT_OK;
}
