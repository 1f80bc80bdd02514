/* tasks.h -- the task model of a run: which matrices a run quantizes, in which order, with which
 * seed, and where each one's shard lives.
 *
 * A task is one matrix:
 *   AQLM  a linear matrix of the language model, the tensors named
 *         [language_model.]model.layers.N.{self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj}.weight
 *         (Qwen3-4B: 36 x 7 = 252), quantized with rf_aqlm_quantize;
 *   VIT   a matrix of a vision block that --vit-share makes reuse another block's
 *         (shards/vit_share.h), generated with rf_gen_train.
 * Both narrowed by --only REGEX (POSIX extended, matched anywhere in the task name). Every rank
 * builds the same list from the safetensors headers. Order: predicted cost (FLOP of the task's
 * kernel), largest first, ties by name -- so the big matrices start early and the small ones fill
 * the gaps at the end; both kinds share the queue. A task's seed depends only on the run seed and
 * its name.
 */
#ifndef RF_TASKS_H
#define RF_TASKS_H

#include <stdint.h>

#include "io/hf_config.h"
#include "io/safetensors.h"
#include "kernels/aqlm/aqlm.h"
#include "shards/vit_share.h"

typedef enum { RF_TASK_AQLM = 0, RF_TASK_VIT = 1 } rf_task_kind;

typedef struct {
    rf_task_kind kind;
    char name[256];     /* tensor name without ".weight": the task name */
    const rf_st_tensor *tensor;  /* AQLM: the matrix; VIT: block B's original (the target) */
    const rf_st_tensor *shared;  /* VIT: block A's matrix, which block B reuses */
    char shared_name[256];       /* VIT: its name without ".weight" */
    int64_t out_features, in_features;
    double cost;        /* predicted FLOP */
    uint64_t seed;
} rf_task;

typedef struct {
    int n;
    rf_task *tasks;     /* in run order */
} rf_task_list;

/* A finished task's numbers: aqlm for RF_TASK_AQLM, vit for RF_TASK_VIT. */
typedef struct {
    rf_aqlm_stats aqlm;
    rf_gen_stats vit;
} rf_task_stats;

/* vit (may be NULL: no sharing) adds the VIT tasks. RF_ERR with one line naming the tensor or
 * the flag: a bad --only regex, no matching matrix, a matrix that is not 2-D, a configuration
 * that does not fit a matrix's shape, a --vit-share block the model does not have, a task name
 * that cannot be a file name (rf_task_name_check). */
int rf_tasks_build(const rf_st_model *model, const char *only_regex, const rf_aqlm_config *cfg,
                   const rf_vit_share *vit, uint64_t run_seed, rf_task_list *list);
void rf_tasks_free(rf_task_list *list);

/* vit_share.c: appends the VIT tasks of vit (matching only, when not NULL) to list, whose tasks
 * array has room for model->ntensors. */
int rf_vit_tasks_add(const rf_st_model *model, const rf_vit_share *vit, const regex_t *only,
                     uint64_t run_seed, rf_task_list *list);

/* Predicted peak bytes of task t on its rank (with_xtx: the run reads an XTX per AQLM task):
 * rf_aqlm_task_bytes for AQLM, rf_gen_predicted_bytes for VIT. */
double rf_task_predicted_bytes(const rf_task *t, const rf_aqlm_config *aqlm,
                               const rf_gen_config *gen, int with_xtx);

/* What an AQLM task of shape [out, in] holds at its peak, counted from the allocations of
 * shards/task_exec.c and kernels/aqlm (tasks.c lists them). */
double rf_aqlm_task_bytes(int64_t out_features, int64_t in_features, const rf_aqlm_config *cfg,
                          int with_xtx);

/* RF_ERR naming the first task of list, with its bytes, that cannot fit when ranks_on_node ranks
 * each run one at once within bytes_available, so that a run is refused before it starts (and
 * before anything is allocated) rather than dying in the middle. */
int rf_tasks_check_memory(const rf_task_list *list, const rf_aqlm_config *aqlm,
                          const rf_gen_config *gen, int with_xtx, int ranks_on_node,
                          double bytes_available);

/* The memory a node's ranks may use: 80% of its physical memory. */
double rf_node_memory_bytes(void);

/* RF_ERR naming the tensor unless name can be a shard's file name in OUT/shards: printable
 * ASCII without '/', no "..", no leading '.', and NAME.h5 with the temporary suffix within
 * NAME_MAX. */
int rf_task_name_check(const char *name);

/* RF_ERR naming config_path when config.json's num_hidden_layers (when set) differs from the
 * number of decoder layers whose linear matrices the model holds. */
int rf_tasks_check_layers(const rf_st_model *model, const rf_hf_config *config,
                          const char *config_path);

/* OUT/shards/NAME.h5 */
void rf_task_shard_path(const char *out_dir, const rf_task *t, char *path, size_t len);

/* Longest-processing-time assignment of the ordered tasks to nranks workers that each take the
 * next task when free: rank_cost[r] receives the sum of rank r's durations (durations[i] of task
 * i, in any unit; NULL: the tasks' predicted FLOP). Returns the makespan. */
double rf_tasks_predict_ranks(const rf_task_list *list, const double *durations, int nranks,
                              double *rank_cost);

#endif
