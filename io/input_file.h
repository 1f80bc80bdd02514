/* input_file.h -- opening a file a user names (a model's safetensors files, its index and
 * config.json) for reading.
 *
 * A user's path may name a FIFO, a device or a directory. A plain open(2) of a FIFO blocks until
 * a writer appears, which would hang every rank of a job before any check could speak; so the
 * file is opened with O_NONBLOCK (which opens a FIFO at once and changes nothing for a regular
 * file) and refused unless fstat says it is a regular file. Symbolic links are followed: the
 * Hugging Face cache links every file of a snapshot to its blob.
 */
#ifndef RF_INPUT_FILE_H
#define RF_INPUT_FILE_H

#include <stddef.h>

/* Opens PATH read-only; *fd and *size (bytes) on RF_OK. RF_ERR with one line naming PATH: it
 * cannot be opened (strerror), or it is not a regular file (and what it is instead). */
int rf_input_open(const char *path, int *fd, size_t *size);

#endif
