/* image_checksum.h -- a checksum of a whole file image, checked before HDF5 sees the file.
 *
 * HDF5 1.10 is not robust against damaged files: a few changed bytes can make it spin forever,
 * crash, or hand back fill values in place of chunks it can no longer find (so Fletcher32 never
 * runs). Every HDF5 file riverforge writes therefore starts with a 512-byte HDF5 user block
 * (HDF5 skips it: the superblock follows) that holds one line of text
 *
 *     riverforge-image xxh3-128 <32 hex digits> <N>\n   then NUL bytes up to 512
 *
 * where N is the size of the HDF5 image after the user block and the hex digits its XXH3-128
 * (libxxhash). The header and the image are written together by one atomic write
 * (atomic_file.h), so there is no moment at which a file at PATH has an image without its
 * checksum or a checksum without its image: a crash leaves the old file or the new one.
 * rf_image_check reads the file with plain read(2) -- no HDF5 -- so a damaged shard is refused
 * before HDF5 could hang or crash on it.
 */
#ifndef RF_IMAGE_CHECKSUM_H
#define RF_IMAGE_CHECKSUM_H

#include <stddef.h>

#define RF_IMAGE_HEADER_BYTES 512 /* the HDF5 user block; a power of two >= 512, as HDF5 wants */

/* Fills header[RF_IMAGE_HEADER_BYTES] with the checksum line of image[0..n). */
void rf_image_header_fill(char *header, const void *image, size_t n);

/* For a file written in place (the checkpoint, too large to build in memory): PATH already starts
 * with a user block of RF_IMAGE_HEADER_BYTES (H5Pset_userblock); hashes the rest of the file and
 * writes the header into the block. Call it before the file is committed (atomic_file.h). */
int rf_image_header_write(const char *path);

/* RF_OK when PATH starts with a riverforge image header whose size and XXH3-128 match the rest
 * of the file; else RF_ERR with one line naming PATH and what is wrong (another size: truncated
 * or extended; another checksum: damaged). A file without the header is RF_ERR when
 * header_required (a shard: written by something else or an older riverforge), RF_OK otherwise
 * (a user's file, not ours to check). Reads the whole file once, 1 MiB at a time. */
int rf_image_check(const char *path, int header_required);

#endif
