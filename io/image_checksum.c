/* image_checksum.c -- the user-block checksum of riverforge's HDF5 files (image_checksum.h). */
#include "io/image_checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/rf_error.h"

#define MAGIC "riverforge-image xxh3-128 "
#define READ_BLOCK (1u << 20)

static void hash_hex(XXH128_hash_t h, char out[33]) {
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, (uint64_t)h.high64, (uint64_t)h.low64);
}

static void format_header(char *header, const char hex[33], uint64_t n) {
    memset(header, 0, RF_IMAGE_HEADER_BYTES);
    snprintf(header, RF_IMAGE_HEADER_BYTES, "%s%s %" PRIu64 "\n", MAGIC, hex, n);
}

void rf_image_header_fill(char *header, const void *image, size_t n) {
    char hex[33];
    hash_hex(XXH3_128bits(image, n), hex);
    format_header(header, hex, n);
}

/* The checksum and image size the header records; RF_ERR when it is not a header of ours. The
 * header must be byte for byte what format_header writes for what it says (sscanf alone would let
 * other whitespace, a sign or leading zeros through), so that any changed byte of the file fails,
 * the NUL padding after the line included. */
static int parse_header(const char *path, const char *header, char hex[33], uint64_t *n) {
    char line[RF_IMAGE_HEADER_BYTES + 1], canonical[RF_IMAGE_HEADER_BYTES];
    memcpy(line, header, RF_IMAGE_HEADER_BYTES);
    line[RF_IMAGE_HEADER_BYTES] = '\0';
    unsigned long long size;
    if (strncmp(line, MAGIC, strlen(MAGIC)) ||
        sscanf(line + strlen(MAGIC), "%32[0-9a-f] %llu", hex, &size) != 2 ||
        (format_header(canonical, hex, size), memcmp(canonical, header, sizeof canonical)))
        return rf_fail("%s: not a riverforge HDF5 file with an image checksum (damaged, or "
                       "written by something else or an older riverforge)", path);
    *n = size;
    return RF_OK;
}

/* XXH3-128 of what is left of fd, hex into out. */
static int hash_rest(const char *path, int fd, char out[33]) {
    XXH3_state_t *st = XXH3_createState();
    rf_check(st && XXH3_128bits_reset(st) == XXH_OK, "cannot start an XXH3 hash");
    char *buf = rf_malloc(READ_BLOCK);
    int rc = RF_OK;
    for (;;) {
        ssize_t r = read(fd, buf, READ_BLOCK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = rf_fail("%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        XXH3_128bits_update(st, buf, (size_t)r);
    }
    if (rc == RF_OK) hash_hex(XXH3_128bits_digest(st), out);
    free(buf);
    XXH3_freeState(st);
    return rc;
}

int rf_image_check(const char *path, int header_required) {
    /* O_NONBLOCK: a FIFO in place of the file is opened at once (and refused below), not waited
     * on; for a regular file it changes nothing. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return rf_fail("%s: %s", path, strerror(errno));
    struct stat sb;
    char header[RF_IMAGE_HEADER_BYTES], want[33], got[33];
    uint64_t n = 0;
    int rc = fstat(fd, &sb) == 0 ? RF_OK : rf_fail("%s: %s", path, strerror(errno));
    if (rc == RF_OK && (!S_ISREG(sb.st_mode) || sb.st_size < RF_IMAGE_HEADER_BYTES ||
                        read(fd, header, sizeof header) != (ssize_t)sizeof header))
        rc = rf_fail("%s: not a complete riverforge HDF5 file (shorter than its image checksum "
                     "header: truncated)", path);
    if (rc == RF_OK) rc = parse_header(path, header, want, &n);
    if (rc != RF_OK && !header_required) { /* not ours: nothing to check */
        close(fd);
        return RF_OK;
    }
    if (rc == RF_OK && (uint64_t)sb.st_size != RF_IMAGE_HEADER_BYTES + n)
        rc = rf_fail("%s: not a complete riverforge HDF5 file (%lld bytes, its image checksum "
                     "header says %llu: truncated or extended)", path, (long long)sb.st_size,
                     (unsigned long long)(RF_IMAGE_HEADER_BYTES + n));
    if (rc == RF_OK) rc = hash_rest(path, fd, got);
    if (rc == RF_OK && strcmp(got, want))
        rc = rf_fail("%s: damaged HDF5 file (its image checksum does not match)", path);
    close(fd);
    return rc;
}

int rf_image_header_write(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return rf_fail("%s: %s", path, strerror(errno));
    struct stat sb;
    char header[RF_IMAGE_HEADER_BYTES], hex[33];
    int rc = fstat(fd, &sb) == 0 ? RF_OK : rf_fail("%s: %s", path, strerror(errno));
    if (rc == RF_OK && sb.st_size < RF_IMAGE_HEADER_BYTES)
        rc = rf_fail("%s: shorter than its user block", path);
    if (rc == RF_OK && lseek(fd, RF_IMAGE_HEADER_BYTES, SEEK_SET) < 0)
        rc = rf_fail("%s: %s", path, strerror(errno));
    if (rc == RF_OK) rc = hash_rest(path, fd, hex);
    if (rc == RF_OK) {
        format_header(header, hex, (uint64_t)(sb.st_size - RF_IMAGE_HEADER_BYTES));
        if (pwrite(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
            rc = rf_fail("%s: cannot write its image checksum: %s", path, strerror(errno));
    }
    if (close(fd) != 0 && rc == RF_OK) rc = rf_fail("%s: %s", path, strerror(errno));
    return rc;
}
