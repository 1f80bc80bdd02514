/* resume.c -- see resume.h. */
#include "shards/resume.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/checkpoint.h"

char *rf_run_config_json(const rf_aqlm_config *c, uint64_t seed, const char *xtx_path) {
    const char *slash = xtx_path ? strrchr(xtx_path, '/') : NULL;
    const char *xtx_name = slash ? slash + 1 : xtx_path; /* the file's name, not its folder */
    json_t *j = json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:i, s:i, s:I, s:s?}", "method", "aqlm",
        "num_codebooks", c->num_codebooks, "nbits_per_codebook", c->nbits_per_codebook,
        "in_group_size", c->in_group_size, "out_group_size", c->out_group_size, "beam_size",
        c->beam_size, "max_epochs", c->max_epochs, "steps_per_epoch", c->steps_per_epoch, "lr",
        c->lr, "relative_mse_tolerance", c->relative_mse_tolerance, "init_max_iter",
        c->init_max_iter, "init_max_points_per_centroid", c->init_max_points_per_centroid, "seed",
        (json_int_t)seed, "xtx", xtx_name);
    rf_check(j, "cannot build the run configuration JSON");
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    rf_check(text, "cannot serialize the run configuration JSON");
    return text;
}

int rf_tasks_check_done(const rf_task_list *list, const char *out_dir, const char *config_json,
                        int rank, int nranks, unsigned char *done, rf_aqlm_stats *stats) {
    int found = 0;
    for (int i = rank; i < list->n; i += nranks) {
        char path[4096];
        rf_task_shard_path(out_dir, &list->tasks[i], path, sizeof path);
        if (access(path, F_OK) != 0) continue;
        if (rf_shard_verify(path, list->tasks[i].name, config_json, &stats[i]) == RF_OK) {
            done[i] = 1;
            found++;
        } else {
            rf_warn("recomputing shard %s: %s", path, rf_last_error());
        }
    }
    return found;
}
