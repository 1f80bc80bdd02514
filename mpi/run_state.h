/* run_state.h -- the state of a run (run_core.h) that its two files share: run_prepare.c fills
 * it (model, XTX, each configuration's tasks, folders), run_core.c runs the queue over it. */
#ifndef RF_RUN_STATE_H
#define RF_RUN_STATE_H

#include "io/hf_config.h"
#include "io/xtx_file.h"
#include "mpi/run_core.h"

typedef struct {
    const rf_run_config *c;
    char *config_json;
    rf_task_list tasks;
    rf_aqlm_config *task_cfg; /* [tasks.n]: each AQLM task's configuration */
    int *pos;                 /* [tasks.n]: each task's position in the queue */
} config_state;

typedef struct {
    const rf_run_spec *sp;
    int rank, nranks, threads, ranks_on_node;
    rf_st_model model;
    rf_hf_config hf;          /* the model's config.json; model_type empty without one */
    rf_xtx_file *xtx;
    rf_run_eval eval;         /* opened when sp->eval asks for one (sp->eval->tokens set) */
    config_state *cs;         /* [sp->nconfigs] */
    int ntasks;               /* every configuration's tasks */
    int *qconfig, *qtask;     /* [ntasks]: the queue, (configuration, task) at each position */
} core_state;

/* Collective: model headers and config.json; with --eval-tokens, the model as the forward pass
 * reads it and the token file; per configuration its tasks with each matrix's AQLM
 * configuration; the XTX file (rank 0 probes it first); every task's XTX shape and memory;
 * rank 0: the folders and each configuration's manifest (shards/manifest.h). RF_ERR on every
 * rank when any failed (the lowest failing rank printed its line); s->rank, nranks,
 * ranks_on_node, sp and cs[k].c are set by the caller, and the rest is freed by it. */
int rf_run_prepare(core_state *s);

#endif
