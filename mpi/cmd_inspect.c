/* cmd_inspect.c -- `riverforge inspect FILE.h5`: one row per quantized matrix of a checkpoint or
 * shard (shape, configuration, bits per weight, errors, seconds), then one per generated ViT
 * matrix (method, errors against plain sharing and the classical baseline). Reading every
 * dataset also verifies its Fletcher32 checksum. The file is read first in a child process
 * (io/h5_probe.h), so a damaged file is an error line, never a crash or a hang.
 *
 * `riverforge inspect --check FILE OBJECT data|layout` is that child: it reads FILE below OBJECT
 * in this process (rf_h5_check_file) and exits 0, or 2 with the error line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/h5_container.h"
#include "io/h5_probe.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"
#include "mpi/commands.h"

/* The /vit rows (nothing when the file has none). */
static int print_vit(const char *path) {
    char **names = NULL;
    int n = 0;
    if (rf_vit_list(path, &names, &n) != RF_OK) return RF_ERR;
    if (n) printf("\n%d generated ViT matrices\n%-52s %12s %-8s %10s %10s %10s %9s %9s %6s\n", n,
                  "matrix", "shape", "method", "rel_w_err", "shared", "baseline", "params",
                  "base.par", "qubits");
    int rc = RF_OK;
    for (int i = 0; i < n && rc == RF_OK; i++) {
        rf_vit_info v;
        char shape[32];
        rc = rf_vit_read(path, names[i], &v, NULL);
        if (rc != RF_OK) break;
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)v.out_features, (long long)v.in_features);
        printf("%-52s %12s %-8s %10.6g %10.6g %10.6g %9lld %9lld %6d\n", names[i], shape, v.method,
               v.stats.rel_w_err, v.stats.shared_rel_w_err, v.stats.baseline_rel_w_err,
               (long long)v.stats.params, (long long)v.stats.baseline_params, v.stats.qubits);
        printf("    reuses %s; %s plain sharing, %s the classical baseline\n", v.shared_from,
               v.beats_sharing ? "beats" : "does not beat", v.beats_baseline ? "beats" : "does not beat");
    }
    rf_container_free_names(names, n);
    return rc;
}

/* The child's side of rf_h5_probe. */
static int check(const char *path, const char *object, const char *mode) {
    int rc = strcmp(mode, "data") && strcmp(mode, "layout")
                 ? rf_fail("inspect --check: mode '%s' is not data or layout", mode)
                 : rf_h5_check_file(path, object, !strcmp(mode, "data"));
    if (rc == RF_OK) return RF_EXIT_OK;
    fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
    return RF_EXIT_USAGE;
}

int rf_cmd_inspect(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--check")) return check(argv[2], argv[3], argv[4]);
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc == 2 ? stdout : stderr;
        fprintf(f, "usage: riverforge inspect FILE.h5\n\n"
                   "Prints one row per matrix of a riverforge checkpoint or shard: shape, codebook\n"
                   "configuration (MxB gIG/OG), bits per weight, rel_act_err, rel_w_err, seconds;\n"
                   "then one row per generated ViT matrix (/vit): method, the matrix it reuses,\n"
                   "rel_w_err against plain sharing's and the classical baseline's, parameters.\n\n"
                   "riverforge inspect --check FILE.h5 OBJECT data|layout reads FILE below OBJECT\n"
                   "(\"/\": all of it; layout: not the data) and exits 0, or 2 with one error line:\n"
                   "riverforge runs it in a child process before it opens a file a user gave it.\n");
        return argc == 2 ? RF_EXIT_OK : RF_EXIT_USAGE;
    }
    const char *path = argv[1];
    char **names = NULL, *config = NULL;
    int n = 0;
    if (rf_h5_probe(path, "/", 1) != RF_OK || rf_matrix_list(path, &names, &n) != RF_OK ||
        rf_container_read_config(path, &config) != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("%s: %d matrices\nconfig: %s\n\n", path, n, config);
    printf("%-52s %12s %10s %8s %12s %10s %9s %6s\n", "matrix", "shape", "config", "bits/w",
           "rel_act_err", "rel_w_err", "seconds", "device");
    int rc = RF_OK;
    for (int i = 0; i < n && rc == RF_OK; i++) {
        rf_aqlm_matrix q;
        rf_aqlm_stats st;
        char device[16], shape[32], cfg[32];
        rc = rf_matrix_read(path, names[i], &q, &st, device, sizeof device);
        if (rc != RF_OK) break;
        int nbits = 0;
        while ((1 << nbits) < q.K) nbits++;
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)q.out_features, (long long)q.in_features);
        snprintf(cfg, sizeof cfg, "%dx%d g%d/%d", q.M, nbits, q.ig, q.og);
        printf("%-52s %12s %10s %8.4f %12.6g %10.6g %9.2f %6s\n", names[i], shape, cfg,
               st.bits_per_weight, st.rel_act_err, st.rel_w_err, st.seconds, device);
        rf_aqlm_free(&q);
    }
    rf_container_free_names(names, n);
    free(config);
    if (rc == RF_OK) rc = print_vit(path);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    return RF_EXIT_OK;
}
