/* h5_probe.h -- HDF5 files that users hand to riverforge (an --xtx file, the checkpoint given to
 * dequantize or inspect, vqc's inputs: whoever wrote them, they may have been damaged since) are
 * read first in a child process, under a time limit.
 *
 * HDF5 1.10 trusts the bytes it reads: a damaged file can make it loop, crash (SIGSEGV) or
 * double-free, and that would take an MPI job down with it. So before the parent opens such a
 * file, a child (this binary again: `riverforge inspect --check FILE OBJECT data|layout`, started
 * by rf_child_run) opens it and reads what the parent will read. A crash, a run past the limit or
 * an HDF5 error there is one error line naming the file (exit 2); only after the child succeeded
 * does the parent open the file. HDF5 reads a file the same way every time, so the parent then
 * walks only paths the child has already walked.
 *
 * What the child reads below OBJECT (every object, recursively, hard links once):
 *   - every attribute's value (strings included: their global heap is where a damaged file
 *     loops);
 *   - every dataset's type, shape and layout, and where its data lies: a contiguous dataset's
 *     bytes must lie inside the file; a chunked dataset must have every chunk stored (a chunk
 *     the index cannot find would read back as fill values, silently) and inside the file;
 *   - with "data", every numeric dataset whole (its Fletcher32 checksums included).
 * A file that carries riverforge's image checksum line (io/image_checksum.h) but no longer
 * matches it gets a warning first: changed since riverforge wrote it, damaged or rewritten by
 * another tool (h5py in place and h5repack keep the line), so not refused for that alone.
 * "layout" is for files too large to read twice (XTX files reach tens of GB): once a dataset's
 * metadata and extents are sound, reading it is plain reads of known extents through its filter
 * pipeline (Fletcher32 and zlib reject damaged bytes with an error, never a crash), and the
 * parent checks the values (finite, symmetric). The limit is 60 s, plus 25 MB/s of the file's
 * size with "data".
 */
#ifndef RF_H5_PROBE_H
#define RF_H5_PROBE_H

/* The parent's side: checks PATH below object (absolute, "/" for all of it) in a child process.
 * RF_OK, or RF_ERR with one line naming PATH. */
int rf_h5_probe(const char *path, const char *object, int read_data);

/* The child's side, in this process: what `riverforge inspect --check` runs. RF_ERR with one line
 * naming PATH and the object. A missing object is RF_OK: the parent reports it in its words. */
int rf_h5_check_file(const char *path, const char *object, int read_data);

#endif
