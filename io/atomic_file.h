/* atomic_file.h -- "a file at PATH is always complete": how every output file is written.
 *
 * Writers put the bytes in PATH.tmp, then rf_atomic_commit makes them durable and visible in one
 * step: fsync PATH.tmp, rename it to PATH, fsync the directory (so that the rename itself
 * survives a crash). A crash at any point leaves either the old PATH or the new one, never half a
 * file; a leftover PATH.tmp is garbage the next run overwrites.
 */
#ifndef RF_ATOMIC_FILE_H
#define RF_ATOMIC_FILE_H

#include <stddef.h>

/* What rf_atomic_write appends to PATH for the bytes in flight. A fixed name: the run's lock on
 * OUT (shards/out_lock.h) keeps other runs out, and inside a run every file has one writer. */
#define RF_ATOMIC_TMP_SUFFIX ".tmp"

/* fsync tmp_path, rename it to final_path, fsync final_path's directory. RF_ERR naming the path
 * and strerror when any step fails (tmp_path is removed then). */
int rf_atomic_commit(const char *tmp_path, const char *final_path);

/* Writes the concatenation of parts[0..nparts) to PATH.tmp and commits it to PATH. RF_ERR naming
 * the path and strerror when it cannot be created or written (a full disk); PATH.tmp is removed. */
int rf_atomic_write(const char *path, int nparts, const void *const *parts, const size_t *sizes);

/* mkdir -p PATH, then checks that PATH is a writable folder. RF_ERR naming the folder that
 * could not be created (a plain file at PATH or above it included), with strerror. */
int rf_make_dirs(const char *path);

#endif
