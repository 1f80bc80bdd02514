/* st_shards.c -- sharded safetensors output (st_shards.h): a list of the tensors of the file being
 * filled, and the name -> file map of every tensor written so far for the index. */
#include "io/st_shards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

struct rf_st_shards {
    char *dir;
    size_t file_bytes;
    int file_no;          /* the file being filled, from 1 */
    int n, cap;           /* its tensors */
    size_t bytes;
    rf_st_entry *entries; /* [cap], names owned */
    void **owned;         /* [cap] */
    int nall, capall;     /* every tensor added, for the index */
    char **names, **files;
    uint64_t total;
};

rf_st_shards *rf_st_shards_begin(const char *dir, size_t file_bytes) {
    rf_st_shards *s = rf_calloc(1, sizeof *s);
    s->dir = rf_strdup(dir);
    s->file_bytes = file_bytes;
    s->file_no = 1;
    return s;
}

static size_t entry_bytes(const rf_st_entry *e) {
    size_t n = rf_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d];
    return n;
}

/* Forgets the pending tensors, freeing what the writer owns. */
static void drop_pending(rf_st_shards *s) {
    for (int i = 0; i < s->n; i++) {
        free((char *)s->entries[i].name);
        free(s->owned[i]);
    }
    s->n = 0;
    s->bytes = 0;
}

static int flush_file(rf_st_shards *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model-%05d.safetensors", s->dir, s->file_no);
    int rc = rf_st_write(path, s->entries, s->n);
    drop_pending(s);
    s->file_no++;
    return rc;
}

static void *resize(void *p, int count, size_t size) {
    p = realloc(p, (size_t)count * size);
    rf_check(p, "out of memory growing a list to %d entries", count);
    return p;
}

int rf_st_shards_add(rf_st_shards *s, const rf_st_entry *e, void *owned) {
    size_t bytes = entry_bytes(e);
    if (s->n > 0 && s->bytes + bytes > s->file_bytes && flush_file(s) != RF_OK) {
        free(owned);
        return RF_ERR;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->entries = resize(s->entries, s->cap, sizeof *s->entries);
        s->owned = resize(s->owned, s->cap, sizeof *s->owned);
    }
    s->entries[s->n] = *e;
    s->entries[s->n].name = rf_strdup(e->name);
    s->owned[s->n++] = owned;
    s->bytes += bytes;

    if (s->nall == s->capall) {
        s->capall = s->capall ? 2 * s->capall : 16;
        s->names = resize(s->names, s->capall, sizeof *s->names);
        s->files = resize(s->files, s->capall, sizeof *s->files);
    }
    char file[64];
    snprintf(file, sizeof file, "model-%05d.safetensors", s->file_no);
    s->names[s->nall] = rf_strdup(e->name);
    s->files[s->nall++] = rf_strdup(file);
    s->total += bytes;
    return RF_OK;
}

int rf_st_shards_end(rf_st_shards *s, int status, int *ntensors, uint64_t *total_bytes) {
    if (status == RF_OK && s->n > 0) status = flush_file(s);
    if (status == RF_OK)
        status = rf_st_write_index(s->dir, s->nall, (const char *const *)s->names,
                                   (const char *const *)s->files, s->total);
    if (ntensors) *ntensors = s->nall;
    if (total_bytes) *total_bytes = s->total;
    drop_pending(s); /* left only after a failure */
    for (int i = 0; i < s->nall; i++) {
        free(s->names[i]);
        free(s->files[i]);
    }
    free(s->names);
    free(s->files);
    free(s->entries);
    free(s->owned);
    free(s->dir);
    free(s);
    return status;
}
