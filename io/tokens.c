/* tokens.c -- token files (tokens.h): mmap, checks, windows. */
#include "io/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"

static uint32_t id_at(const rf_tokens *t, int64_t i) {
    const unsigned char *p = t->bytes + 4 * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int rf_tokens_open(rf_tokens *t, const char *path, int vocab, int seqlen) {
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return rf_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rf_fail("%s: not a regular file", path);
    }
    if (st.st_size % 4) {
        close(fd);
        return rf_fail("%s: size %lld is not a multiple of 4 (a token file is little-endian "
                       "uint32 ids)", path, (long long)st.st_size);
    }
    t->size = (size_t)st.st_size;
    t->n = st.st_size / 4;
    if (t->n < seqlen) {
        close(fd);
        return rf_fail_field("tokens.seqlen", "%s: %lld tokens, fewer than one sequence of %d "
                             "(seqlen)", path, (long long)t->n, seqlen);
    }
    void *map = mmap(NULL, t->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return rf_fail("%s: cannot map: %s", path, strerror(errno));
    t->bytes = map;
    for (int64_t i = 0; i < t->n; i++)
        if (id_at(t, i) >= (uint32_t)vocab) {
            uint32_t id = id_at(t, i);
            rf_tokens_close(t);
            return rf_fail("%s: token %u at position %lld is not below the model's vocab_size %d",
                           path, id, (long long)i, vocab);
        }
    return RF_OK;
}

void rf_tokens_close(rf_tokens *t) {
    if (t->bytes) munmap((void *)t->bytes, t->size);
    t->bytes = NULL;
}

int64_t rf_tokens_window(const rf_tokens *t, int seqlen, uint64_t seed, int64_t i) {
    if (!seed) return i * seqlen;
    /* one generator per window, seeded by (seed, i): any rank draws any window by itself */
    rf_rng r;
    rf_rng_init(&r, seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1)));
    return (int64_t)rf_rng_below(&r, (uint64_t)(t->n - seqlen + 1));
}

void rf_tokens_read(const rf_tokens *t, int64_t start, int seqlen, int32_t *out) {
    for (int i = 0; i < seqlen; i++) out[i] = (int32_t)id_at(t, start + i);
}
