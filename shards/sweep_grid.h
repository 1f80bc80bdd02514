/* sweep_grid.h -- a sweep over AQLM configurations: the grid, the per-matrix overrides, the names
 * of the configurations, and their validation against a model's matrices.
 *
 *   grid      "num_codebooks=1,2 nbits_per_codebook=8,16 in_group_size=8,16": settings separated
 *             by spaces, each with its values separated by commas; the configurations are every
 *             combination (the first setting varies slowest), each on top of a base configuration
 *             (the AQLM flags the command got). Settings are named as in rf_aqlm_config, '-' or
 *             '_' between words.
 *   overrides "k_proj|v_proj:nbits_per_codebook=14,num_codebooks=1;down_proj:in_group_size=16":
 *             REGEX:setting=value[,setting=value], several separated by ';'. A matrix whose name
 *             (without ".weight") the POSIX extended REGEX matches anywhere gets those settings in
 *             every configuration; later overrides win. A REGEX cannot hold ';'.
 *   names     "2x8-g8" (num_codebooks x nbits_per_codebook - g in_group_size), then a tag and
 *             value for every other setting that varies: "2x8-g8-og2-ep10" (rf_sweep_name).
 *
 * No MPI, no files: a sweep command expands the grid here and hands the configurations (each a
 * name, a base rf_aqlm_config and the overrides) to whatever runs them; `report` names runs with
 * rf_sweep_name so that its rows carry the same names.
 */
#ifndef RF_SWEEP_GRID_H
#define RF_SWEEP_GRID_H

#include <regex.h>
#include <stddef.h>

#include "io/safetensors.h"
#include "kernels/aqlm/aqlm.h"
#include "shards/tasks.h"

#define RF_SWEEP_NUM_SETTINGS 11  /* every field of rf_aqlm_config */
#define RF_SWEEP_MAX_CONFIGS 1000 /* Slurm's default MaxArraySize is 1001 */
#define RF_SWEEP_NAME_LEN 128

typedef struct {
    int setting;  /* index into the settings (rf_sweep_setting_name) */
    double value; /* an integer setting holds an integer value */
} rf_sweep_value;

typedef struct {
    char *pattern; /* as given */
    regex_t re;
    int n;
    rf_sweep_value values[RF_SWEEP_NUM_SETTINGS];
} rf_sweep_override;

typedef struct {
    char name[RF_SWEEP_NAME_LEN];
    rf_aqlm_config cfg; /* every matrix that no override matches */
} rf_sweep_config;

typedef struct {
    int n;
    rf_sweep_config *configs;  /* grid order */
    unsigned grid_settings;    /* bit i: setting i is listed in the grid */
    int noverrides;
    rf_sweep_override *overrides;
} rf_sweep;

/* Expands grid on top of base and parses overrides (NULL: none). RF_ERR with one line naming
 * --grid or --override and the part at fault: an unknown setting, a value that is not a number
 * (or not an integer), a setting listed twice, a value listed twice, no values, more than
 * RF_SWEEP_MAX_CONFIGS configurations, a bad regular expression. Values are not checked against
 * the kernel's limits here: rf_sweep_check_model does that for every matrix. */
int rf_sweep_parse(const char *grid, const char *overrides, const rf_aqlm_config *base,
                   rf_sweep *s);
void rf_sweep_free(rf_sweep *s);

/* The configuration of matrix NAME (without ".weight") in configuration i: its base with every
 * override whose regex matches NAME applied in order. */
void rf_sweep_matrix_config(const rf_sweep *s, int i, const char *name, rf_aqlm_config *cfg);

/* Every configuration against every matrix a run of model with only_regex (NULL: all) would
 * quantize: the matrices `run` selects (shards/tasks.h) and, for each with its configuration,
 * rf_aqlm_check_config as `run` calls it. RF_ERR with one line naming the configuration and the
 * matrix ("configuration 2x8-g16: model.layers.0.self_attn.k_proj [32, 40]: in_group_size 16
 * does not divide in_features 40"), or the override that matches no matrix. */
int rf_sweep_check_model(const rf_sweep *s, const rf_st_model *model, const char *only_regex);

/* Configuration i's tasks as a run of model with only_regex, vit and run_seed has them
 * (rf_tasks_build), with each AQLM task's own configuration in (*cfgs)[t] (malloc'd; the VIT
 * tasks' entries are unused) and its predicted cost under it. RF_ERR as rf_sweep_check_model. */
int rf_sweep_tasks_build(const rf_sweep *s, int i, const rf_st_model *model,
                         const char *only_regex, const rf_vit_share *vit, uint64_t run_seed,
                         rf_task_list *list, rf_aqlm_config **cfgs);

/* Configuration i's grid settings as run flags: "--num_codebooks 2 --nbits_per_codebook 8". */
void rf_sweep_flags(const rf_sweep *s, int i, char *buf, size_t len);

/* The settings (bits as in grid_settings) in which any two of cfgs[0..n) differ. */
unsigned rf_sweep_varying(const rf_aqlm_config *cfgs, int n);
/* "2x8-g8", with "-TAGvalue" for every setting in shown other than those three. */
void rf_sweep_name(const rf_aqlm_config *c, unsigned shown, char *buf, size_t len);
/* "num_codebooks" for setting 0, ...; NULL past the last. */
const char *rf_sweep_setting_name(int setting);
/* Setting k of c, and setting it: RF_ERR ("num_codebooks 1.5 is not an integer") when v does not
 * fit the setting's type (c unchanged). */
double rf_sweep_get(const rf_aqlm_config *c, int setting);
int rf_sweep_set(rf_aqlm_config *c, int setting, double v);

#endif
