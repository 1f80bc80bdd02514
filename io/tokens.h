/* tokens.h -- token files for `eval` and `calibrate` (docs/formats.md): a flat array of
 * little-endian uint32 token ids, no header (scripts/tokenize.py writes them from text). The file
 * is memory-mapped; sequences are windows of seqlen consecutive tokens: the non-overlapping
 * windows [i*seqlen, (i+1)*seqlen) in order, or random starts drawn from a seed. */
#ifndef RF_TOKENS_H
#define RF_TOKENS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const unsigned char *bytes; /* the mapping */
    size_t size;
    int64_t n;                  /* tokens */
} rf_tokens;

/* Maps PATH and checks it: size a multiple of 4, every id below vocab (naming the first offending
 * position), at least seqlen tokens. RF_ERR with one line naming the file. */
int rf_tokens_open(rf_tokens *t, const char *path, int vocab, int seqlen);
void rf_tokens_close(rf_tokens *t);

/* Start of sequence i of count: i*seqlen (seed 0: the file's non-overlapping windows in order,
 * count <= n / seqlen), or a start in [0, n - seqlen] drawn from seed (seed != 0; windows may
 * overlap), the same for every i whatever the order of the calls. */
int64_t rf_tokens_window(const rf_tokens *t, int seqlen, uint64_t seed, int64_t i);
/* Copies the seqlen ids from start into out. */
void rf_tokens_read(const rf_tokens *t, int64_t start, int seqlen, int32_t *out);

#endif
