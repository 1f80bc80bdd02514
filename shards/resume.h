/* resume.h -- what a run has already done.
 *
 * The run's identity is its configuration JSON (AQLM flags, seed, the XTX file's name): it is
 * stored in every shard, and a shard counts as done only when it verifies against the same
 * identity. A shard file that exists but fails verification -- its whole-image checksum first,
 * before HDF5 opens it (io/image_checksum.h), then its root and record -- is reported and
 * recomputed. */
#ifndef RF_RESUME_H
#define RF_RESUME_H

#include <stdint.h>

#include "shards/tasks.h"

/* malloc'd compact JSON: {"method":"aqlm", the AQLM flags..., "seed":S, "xtx":"name"|null}, and
 * with block sharing (vit not NULL, vit->npairs > 0) "vit_share":"A:B,..." and
 * "vit_generator":{"kind", the --gen-* settings}. */
char *rf_run_config_json(const rf_aqlm_config *cfg, const rf_vit_share *vit, uint64_t seed,
                         const char *xtx_path);

/* Checks the shards of tasks i with i % nranks == rank and sets done[i] = 1 and stats[i] (the
 * shard's) for those that verify; the caller combines the ranks' views. Returns how many this
 * rank found done. */
int rf_tasks_check_done(const rf_task_list *list, const char *out_dir, const char *config_json,
                        int rank, int nranks, unsigned char *done, rf_task_stats *stats);

#endif
