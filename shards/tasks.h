/* tasks.h -- the task model of a run: which matrices a run quantizes, in which order, with which
 * seed, and where each one's shard lives.
 *
 * A task is one linear matrix of the language model: the tensors named
 *   [language_model.]model.layers.N.{self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj}.weight
 * (Qwen3-4B: 36 x 7 = 252), narrowed by --only REGEX (POSIX extended, matched anywhere in the
 * task name). Every rank builds the same list from the safetensors headers. Order: predicted cost
 * (FLOP of rf_aqlm_quantize), largest first, ties by name -- so the big matrices start early and
 * the small ones fill the gaps at the end. A task's seed depends only on the run seed and its name.
 */
#ifndef RF_TASKS_H
#define RF_TASKS_H

#include <stdint.h>

#include "io/safetensors.h"
#include "kernels/aqlm.h"

typedef struct {
    char name[256];     /* tensor name without ".weight": the task name */
    const rf_st_tensor *tensor;
    int64_t out_features, in_features;
    double cost;        /* predicted FLOP */
    uint64_t seed;
} rf_task;

typedef struct {
    int n;
    rf_task *tasks;     /* in run order */
} rf_task_list;

/* RF_ERR with one line naming the tensor or the flag: a bad --only regex, no matching matrix,
 * a matrix that is not 2-D, a configuration that does not fit a matrix's shape. */
int rf_tasks_build(const rf_st_model *model, const char *only_regex, const rf_aqlm_config *cfg,
                   uint64_t run_seed, rf_task_list *list);
void rf_tasks_free(rf_task_list *list);

/* OUT/shards/NAME.h5 */
void rf_task_shard_path(const char *out_dir, const rf_task *t, char *path, size_t len);

/* Longest-processing-time assignment of the ordered tasks to nranks workers that each take the
 * next task when free: rank_cost[r] receives the predicted FLOP of rank r. Returns the makespan. */
double rf_tasks_predict_ranks(const rf_task_list *list, int nranks, double *rank_cost);

#endif
