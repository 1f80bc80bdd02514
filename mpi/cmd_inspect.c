/* cmd_inspect.c -- `riverforge inspect FILE.h5`: one row per quantized matrix of a checkpoint or
 * shard (shape, configuration, bits per weight, errors, seconds). Reading every dataset also
 * verifies its Fletcher32 checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/checkpoint.h"
#include "mpi/commands.h"

int rf_cmd_inspect(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc == 2 ? stdout : stderr;
        fprintf(f, "usage: riverforge inspect FILE.h5\n\n"
                   "Prints one row per matrix of a riverforge checkpoint or shard: shape, codebook\n"
                   "configuration (MxB gIG/OG), bits per weight, rel_act_err, rel_w_err, seconds.\n");
        return argc == 2 ? RF_EXIT_OK : RF_EXIT_USAGE;
    }
    const char *path = argv[1];
    char **names = NULL, *config = NULL;
    int n = 0;
    if (rf_checkpoint_list(path, &names, &n) != RF_OK || rf_checkpoint_read_config(path, &config) != RF_OK) {
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
        rc = rf_checkpoint_read_matrix(path, names[i], &q, &st, device, sizeof device);
        if (rc != RF_OK) break;
        int nbits = 0;
        while ((1 << nbits) < q.K) nbits++;
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)q.out_features, (long long)q.in_features);
        snprintf(cfg, sizeof cfg, "%dx%d g%d/%d", q.M, nbits, q.ig, q.og);
        printf("%-52s %12s %10s %8.4f %12.6g %10.6g %9.2f %6s\n", names[i], shape, cfg,
               st.bits_per_weight, st.rel_act_err, st.rel_w_err, st.seconds, device);
        rf_aqlm_free(&q);
    }
    rf_checkpoint_free_names(names, n);
    free(config);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    return RF_EXIT_OK;
}
