/* resume.c -- see resume.h. */
#include "shards/resume.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"

char *rf_run_config_json(const rf_aqlm_config *c, const rf_vit_share *vit, uint64_t seed,
                         const char *xtx_path) {
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
    if (vit && vit->npairs > 0) {
        char share[1024];
        const rf_gen_config *g = &vit->gen;
        rf_vit_share_format(vit, share, sizeof share);
        json_t *gen = json_pack("{s:s, s:i, s:f, s:i, s:i, s:i, s:i, s:f}", "kind",
                                rf_gen_kind_name(g->kind), "steps", g->steps, "lr", g->lr,
                                "layers", g->layers, "width", g->width, "rank", g->rank, "qubits",
                                g->qubits, "noise", g->noise);
        rf_check(gen && json_object_set_new(j, "vit_share", json_string(share)) == 0 &&
                     json_object_set_new(j, "vit_generator", gen) == 0,
                 "cannot build the run configuration JSON");
    }
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    rf_check(text, "cannot serialize the run configuration JSON");
    return text;
}

int rf_tasks_check_done(const rf_task_list *list, const char *out_dir, const char *config_json,
                        int rank, int nranks, unsigned char *done, rf_task_stats *stats) {
    int found = 0;
    for (int i = rank; i < list->n; i += nranks) {
        char path[4096];
        rf_task_shard_path(out_dir, &list->tasks[i], path, sizeof path);
        if (access(path, F_OK) != 0) continue;
        const rf_task *t = &list->tasks[i];
        int rc = t->kind == RF_TASK_VIT
                     ? rf_vit_shard_verify(path, t->name, config_json, &stats[i].vit)
                     : rf_matrix_shard_verify(path, t->name, config_json, &stats[i].aqlm);
        if (rc == RF_OK) {
            done[i] = 1;
            found++;
        } else {
            rf_warn("recomputing shard %s", rf_last_error()); /* the reason names the path */
        }
    }
    return found;
}
