/* cmd_dequantize.c -- `riverforge dequantize --checkpoint FILE.h5 --out DIR`: dense float32
 * weights (NAME.weight: the AQLM matrices per the formula of docs/formats.md, and the generated
 * ViT matrices of /vit as stored) as safetensors files of at most ~2 GiB each plus
 * model.safetensors.index.json, for evaluation with ordinary tools. The checkpoint is read first
 * in a child process (io/h5_probe.h): a damaged file is an error line, never a crash or a hang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "io/h5_container.h"
#include "io/h5_probe.h"
#include "io/matrix_record.h"
#include "io/safetensors.h"
#include "io/st_shards.h"
#include "io/vit_record.h"
#include "mpi/cli.h"
#include "mpi/commands.h"

/* The dense matrix of /matrices/NAME (dequantized) or /vit/NAME (as stored); NULL on RF_ERR. */
static float *read_dense(const char *ckpt, const char *name, int vit, int64_t *out, int64_t *in) {
    float *w = NULL;
    if (vit) {
        rf_vit_info info;
        if (rf_vit_read(ckpt, name, &info, &w) != RF_OK) return NULL;
        *out = info.out_features;
        *in = info.in_features;
        return w;
    }
    rf_aqlm_matrix q;
    char device[16];
    if (rf_matrix_read(ckpt, name, &q, NULL, device, sizeof device) != RF_OK) return NULL;
    *out = q.out_features;
    *in = q.in_features;
    w = rf_malloc((size_t)(q.out_features * q.in_features) * sizeof *w);
    rf_aqlm_dequantize(&q, w);
    rf_aqlm_free(&q);
    return w;
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
                    "Writes every quantized matrix, and every generated ViT matrix of /vit, as a\n"
                    "dense float32 tensor NAME.weight.", opts, 2);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && (!ckpt || !out)) rc = rf_fail("--checkpoint FILE.h5 and --out DIR are required");
    char **names = NULL, **vit_names = NULL;
    int nmat = 0, nvit = 0;
    if (rc == RF_OK) rc = rf_h5_probe(ckpt, "/", 1);
    if (rc == RF_OK) rc = rf_matrix_list(ckpt, &names, &nmat);
    if (rc == RF_OK) rc = rf_vit_list(ckpt, &vit_names, &nvit);
    int n = nmat + nvit;
    if (rc == RF_OK && rf_make_dirs(out) != RF_OK) rc = rf_fail_prefix("--out: ");
    rf_st_shards *files = rf_st_shards_begin(out, RF_ST_SHARD_BYTES);
    for (int i = 0; i < n && rc == RF_OK; i++) {
        int vit = i >= nmat;
        const char *name = vit ? vit_names[i - nmat] : names[i];
        char tensor[300];
        int64_t rows, cols;
        float *w = read_dense(ckpt, name, vit, &rows, &cols);
        if (!w) {
            rc = RF_ERR;
            break;
        }
        snprintf(tensor, sizeof tensor, "%s.weight", name);
        rf_st_entry e = {.name = tensor, .dtype = RF_DTYPE_F32, .ndim = 2, .shape = {rows, cols},
                         .data = w};
        rc = rf_st_shards_add(files, &e, w);
    }
    uint64_t total = 0;
    rc = rf_st_shards_end(files, rc, NULL, &total);
    rf_container_free_names(names, nmat);
    rf_container_free_names(vit_names, nvit);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("riverforge: wrote %d dense matrices (%.1f MB float32) to %s\n", n, (double)total / 1e6, out);
    return RF_EXIT_OK;
}
