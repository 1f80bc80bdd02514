/* run_prepare.c -- see run_state.h: a run's (or a sweep's) preparation, before any work. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "mpi/rf_mpi.h"
#include "mpi/run_state.h"
#include "shards/manifest.h"
#include "shards/resume.h"
#include "shards/run_output.h"

/* The configuration's JSON: run's (shards/resume.h), with the sweep's overrides when it has
 * some: a shard computed under other overrides must not verify. */
static char *config_json(const rf_run_spec *sp, const rf_run_config *c) {
    char *base = rf_run_config_json(&c->cfg, sp->vit, sp->seed, sp->xtx);
    if (!c->sweep || c->sweep->noverrides == 0) return base;
    json_t *j = json_loads(base, 0, NULL);
    rf_check(j && json_object_set_new(j, "overrides", json_string(sp->overrides)) == 0,
             "cannot build the run configuration JSON");
    free(base);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    rf_check(text, "cannot serialize the run configuration JSON");
    return text;
}

/* DIR/config.json when the model is a folder that has one: what the summary records of the
 * model, and its layer count, checked against the tensors. */
static int read_model_config(core_state *s) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", s->sp->model);
    if (access(path, F_OK) != 0) return RF_OK;
    if (rf_hf_config_read(s->sp->model, &s->hf) != RF_OK) return RF_ERR;
    return rf_tasks_check_layers(&s->model, &s->hf, path);
}

static int build_tasks(const core_state *s, config_state *cs) {
    const rf_run_spec *sp = s->sp;
    const rf_run_config *c = cs->c;
    cs->config_json = config_json(sp, c);
    if (c->sweep)
        return rf_sweep_tasks_build(c->sweep, c->index, &s->model, sp->only, sp->vit, sp->seed,
                                    &cs->tasks, &cs->task_cfg);
    if (rf_tasks_build(&s->model, sp->only, &c->cfg, sp->vit, sp->seed, &cs->tasks) != RF_OK)
        return rf_cli_flag_error(sp->opts, sp->nopts);
    cs->task_cfg = rf_calloc((size_t)cs->tasks.n, sizeof *cs->task_cfg);
    for (int t = 0; t < cs->tasks.n; t++) cs->task_cfg[t] = c->cfg;
    return RF_OK;
}

/* Every task's shapes against the XTX file before any allocation, and its memory. */
static int check_tasks(const core_state *s) {
    const rf_run_spec *sp = s->sp;
    for (int k = 0; k < sp->nconfigs; k++)
        for (int t = 0; t < s->cs[k].tasks.n; t++) {
            const rf_task *task = &s->cs[k].tasks.tasks[t];
            if (s->xtx && task->kind == RF_TASK_AQLM &&
                rf_xtx_check(s->xtx, task->name, task->in_features) != RF_OK)
                return rf_fail_prefix("--xtx ");
            const rf_task_list one = {.n = 1, .tasks = (rf_task *)task};
            if (rf_tasks_check_memory(&one, &s->cs[k].task_cfg[t], &sp->vit->gen, s->xtx != NULL,
                                      s->ranks_on_node, rf_node_memory_bytes()) != RF_OK)
                return s->cs[k].c->name[0]
                           ? rf_fail_prefix("configuration %s: ", s->cs[k].c->name)
                           : RF_ERR;
        }
    return RF_OK;
}

/* Rank 0: every configuration's folders and manifest (which keeps shards of another model, XTX
 * content or configuration out), and the run's logs folder. */
static int make_folders(const core_state *s) {
    const rf_run_spec *sp = s->sp;
    char fingerprint[17], xtx_fingerprint[17], logs[4200];
    rf_model_fingerprint(&s->model, fingerprint);
    if (s->xtx && rf_xtx_fingerprint(s->xtx, xtx_fingerprint) != RF_OK)
        return rf_fail_prefix("--xtx ");
    snprintf(logs, sizeof logs, "%s/logs", sp->out);
    int rc = rf_make_dirs(logs);
    for (int k = 0; k < sp->nconfigs && rc == RF_OK; k++) {
        const char *out = s->cs[k].c->out;
        rc = rf_run_make_dirs(out);
        if (rc == RF_OK)
            rc = rf_manifest_check_or_write(out, sp->model, fingerprint, sp->xtx,
                                            s->xtx ? xtx_fingerprint : NULL, s->cs[k].config_json);
    }
    return rc;
}

int rf_run_prepare(core_state *s) {
    const rf_run_spec *sp = s->sp;
    int rc = rf_st_open(&s->model, sp->model);
    if (rc == RF_OK) rc = read_model_config(s);
    /* before any work: a bad token file must not be found after the quantization */
    if (rc == RF_OK && sp->eval && sp->eval->tokens)
        if ((rc = rf_run_eval_open(&s->eval, sp->eval, sp->model)) != RF_OK)
            rf_cli_flag_error(sp->opts, sp->nopts); /* a short file: named as --eval-seqlen */
    for (int k = 0; k < sp->nconfigs && rc == RF_OK; k++) rc = build_tasks(s, &s->cs[k]);
    /* A user's file that could crash HDF5: rank 0 reads it in a child process first. */
    const int probe = rc == RF_OK && sp->xtx && s->rank == 0 ? rf_xtx_probe(sp->xtx) : rc;
    if (rf_mpi_agree(probe) != RF_OK) return RF_ERR;
    if (sp->xtx) rc = rf_xtx_open(&s->xtx, sp->xtx);
    if (rc == RF_OK) rc = check_tasks(s);
    if (rc == RF_OK && s->rank == 0) rc = make_folders(s);
    return rf_mpi_agree(rc);
}

