/* safetensors.c -- read (mmap, validate, convert to float32) and write safetensors files.
 *
 * File layout (https://github.com/huggingface/safetensors):
 *   u64 little-endian N | N bytes of JSON header, padded with spaces | data buffer
 *   header: {"NAME": {"dtype": "F32", "shape": [out, in], "data_offsets": [begin, end]}, ...,
 *            "__metadata__": {"format": "pt"}}
 * Offsets are relative to the data buffer, which starts at 8 + N and need not be aligned, so every
 * element load goes through memcpy. A sharded model is a directory with
 * model.safetensors.index.json: {"metadata": {"total_size": B}, "weight_map": {"NAME": "FILE"}}.
 *
 * Reading never trusts the header: each tensor's offsets must lie inside the buffer, hold exactly
 * numel * dtype-size bytes and not overlap another tensor, so that a tensor view can be handed to
 * the kernels without further checks.
 */
#include "io/safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "io/atomic_file.h"
#include "io/input_file.h"
#include "io/json_file.h"

/* The safetensors reference implementation refuses headers over 100 MB; a larger length means
 * the file is something else (a pickle, a truncated download). */
#define ST_MAX_HEADER 100000000ull
#define ST_INDEX_NAME "model.safetensors.index.json"
#define ST_SINGLE_NAME "model.safetensors"

static const char *const dtype_names[RF_DTYPE_COUNT] = {"F32", "F16", "BF16", "I8",  "I16",
                                                         "I32", "I64", "U8",   "BOOL"};
static const size_t dtype_sizes[RF_DTYPE_COUNT] = {4, 2, 2, 1, 2, 4, 8, 1, 1};

const char *rf_dtype_name(rf_dtype d) { return dtype_names[d]; }
size_t rf_dtype_size(rf_dtype d) { return dtype_sizes[d]; }

static int parse_dtype(const char *s, rf_dtype *d) {
    for (int i = 0; i < RF_DTYPE_COUNT; i++) {
        if (strcmp(s, dtype_names[i]) == 0) {
            *d = (rf_dtype)i;
            return RF_OK;
        }
    }
    return RF_ERR;
}

static void *grow(void *p, size_t count, size_t size) {
    p = realloc(p, count * size);
    rf_check(p, "out of memory growing an array to %zu x %zu bytes", count, size);
    return p;
}

/* "[3, 4]" into buf (error messages). */
static const char *fmt_shape(char *buf, size_t len, const int64_t *shape, int ndim) {
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && k < len; d++)
        k += (size_t)snprintf(buf + k, len - k, "%s%" PRId64, d ? ", " : "", shape[d]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

static uint64_t load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void store_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* ---------------------------------------------------------------------------------------------
 * Reading */

/* A non-negative JSON integer, else RF_ERR. */
static int json_uint(const json_t *j, uint64_t *v) {
    if (!json_is_integer(j) || json_integer_value(j) < 0) return RF_ERR;
    *v = (uint64_t)json_integer_value(j);
    return RF_OK;
}

/* Fills t from one header entry; buf/buf_size is the file's data buffer. t->name is left to the
 * caller, so that a failure here allocates nothing. */
static int parse_entry(const char *file, const char *name, const json_t *e, const char *buf,
                       uint64_t buf_size, rf_st_tensor *t) {
    if (!json_is_object(e))
        return rf_fail("%s: tensor %s: header entry is not an object", file, name);

    const json_t *jd = json_object_get(e, "dtype");
    if (!json_is_string(jd)) return rf_fail("%s: tensor %s: no dtype", file, name);
    if (parse_dtype(json_string_value(jd), &t->dtype) != RF_OK)
        return rf_fail("unsupported dtype %s for tensor %s in %s (riverforge reads F32, F16, BF16)",
                       json_string_value(jd), name, file);

    const json_t *js = json_object_get(e, "shape");
    if (!json_is_array(js)) return rf_fail("%s: tensor %s: no shape array", file, name);
    if (json_array_size(js) > RF_ST_MAX_DIMS)
        return rf_fail("%s: tensor %s: %zu dimensions (at most %d)", file, name,
                       json_array_size(js), RF_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t dim;
        if (json_uint(json_array_get(js, (size_t)d), &dim) != RF_OK)
            return rf_fail("%s: tensor %s: shape[%d] is not a non-negative integer", file, name, d);
        /* Bounded by INT64_MAX so that numel fits rf_st_tensor's int64_t. */
        if (__builtin_mul_overflow(numel, dim, &numel) || numel > (uint64_t)INT64_MAX)
            return rf_fail("%s: tensor %s: shape overflows 64 bits", file, name);
        t->shape[d] = (int64_t)dim;
    }
    t->numel = (int64_t)numel;
    uint64_t need;
    if (__builtin_mul_overflow(numel, (uint64_t)rf_dtype_size(t->dtype), &need))
        return rf_fail("%s: tensor %s: shape overflows 64 bits", file, name);

    const json_t *jo = json_object_get(e, "data_offsets");
    uint64_t begin, end;
    if (!json_is_array(jo) || json_array_size(jo) != 2 ||
        json_uint(json_array_get(jo, 0), &begin) != RF_OK ||
        json_uint(json_array_get(jo, 1), &end) != RF_OK)
        return rf_fail("%s: tensor %s: data_offsets is not [begin, end]", file, name);
    if (begin > end)
        return rf_fail("%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                       "] end before they begin",
                       file, name, begin, end);
    if (end > buf_size)
        return rf_fail("%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64
                       "] lie beyond the data buffer (%" PRIu64 " bytes)",
                       file, name, begin, end, buf_size);
    if (end - begin != need) {
        char s[256];
        return rf_fail("%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                       " bytes but shape %s %s needs %" PRIu64,
                       file, name, begin, end, end - begin,
                       fmt_shape(s, sizeof s, t->shape, t->ndim), rf_dtype_name(t->dtype), need);
    }
    t->data = buf + begin;
    t->nbytes = (size_t)need;
    return RF_OK;
}

static int cmp_by_data(const void *a, const void *b) {
    const char *x = ((const rf_st_tensor *)a)->data, *y = ((const rf_st_tensor *)b)->data;
    return (x > y) - (x < y);
}

/* No two tensors of one file share a byte: t[0..n) are that file's tensors (reordered here). */
static int check_overlaps(const char *file, const char *buf, rf_st_tensor *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_by_data);
    const rf_st_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (int i = 0; i < n; i++) {
        if (t[i].nbytes == 0) continue; /* holds no byte, overlaps nothing */
        const char *b = t[i].data;
        if (last && b < (const char *)last->data + last->nbytes) {
            ptrdiff_t lb = (const char *)last->data - buf, ib = b - buf;
            return rf_fail("%s: tensors %s [%td, %td] and %s [%td, %td] overlap", file, last->name,
                           lb, lb + (ptrdiff_t)last->nbytes, t[i].name, ib,
                           ib + (ptrdiff_t)t[i].nbytes);
        }
        if (!last || b + t[i].nbytes > (const char *)last->data + last->nbytes) last = &t[i];
    }
    return RF_OK;
}

/* Parses file fi's header and appends its tensors to m->tensors. */
static int parse_header(rf_st_model *m, int fi) {
    const char *file = m->paths[fi];
    const unsigned char *base = m->maps[fi];
    uint64_t size = m->sizes[fi];
    uint64_t hlen = load_le64(base);
    if (hlen > ST_MAX_HEADER)
        return rf_fail("%s: not a safetensors file (header length %" PRIu64 " is over 100 MB)",
                       file, hlen);
    if (hlen > size - 8)
        return rf_fail("%s: truncated: header says %" PRIu64 " bytes, file has %" PRIu64
                       " after the 8-byte length",
                       file, hlen, size - 8);

    json_error_t jerr;
    json_t *root = json_loadb((const char *)base + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rf_fail("%s: not a safetensors file (header is not JSON: %s at line %d column %d)",
                       file, jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return rf_fail("%s: not a safetensors file (header is not a JSON object)", file);
    }

    const char *buf = (const char *)base + 8 + hlen;
    uint64_t buf_size = size - 8 - hlen;
    int first = m->ntensors;
    /* A header "{}" adds no tensor; growing m->tensors to 0 entries (files before it had none)
     * would be realloc(p, 0), which frees p and returns NULL. */
    if (json_object_size(root) > 0)
        m->tensors = grow(m->tensors, (size_t)m->ntensors + json_object_size(root),
                          sizeof *m->tensors);
    const char *key;
    json_t *e;
    int rc = RF_OK;
    json_object_foreach(root, key, e) {
        if (strcmp(key, "__metadata__") == 0) continue;
        rf_st_tensor *t = &m->tensors[m->ntensors];
        memset(t, 0, sizeof *t);
        rc = parse_entry(file, key, e, buf, buf_size, t);
        if (rc != RF_OK) break;
        t->name = rf_strdup(key);
        t->file_index = fi;
        m->ntensors++;
    }
    json_decref(root);
    if (rc != RF_OK) return rc;
    if (m->ntensors == first) return RF_OK; /* no tensor: m->tensors may still be NULL */
    return check_overlaps(file, buf, m->tensors + first, m->ntensors - first);
}

/* Maps PATH read-only (a regular file: a FIFO is refused, never waited on), appends it to m's
 * files and parses its header. */
static int add_file(rf_st_model *m, const char *path) {
    int fi = m->nfiles, fd;
    size_t size;
    if (rf_input_open(path, &fd, &size) != RF_OK) return RF_ERR;
    if (size < 8) {
        close(fd);
        return rf_fail(
            "%s: not a safetensors file (%zu bytes, shorter than the 8-byte header length)", path,
            size);
    }
    /* MAP_PRIVATE: the views are read-only, and a writer replacing the file by rename does not
     * disturb a running reader. */
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return rf_fail("%s: cannot mmap: %s", path, strerror(e));

    m->paths = grow(m->paths, (size_t)fi + 1, sizeof *m->paths);
    m->maps = grow(m->maps, (size_t)fi + 1, sizeof *m->maps);
    m->sizes = grow(m->sizes, (size_t)fi + 1, sizeof *m->sizes);
    m->paths[fi] = rf_strdup(path);
    m->maps[fi] = map;
    m->sizes[fi] = size;
    m->nfiles++;
    return parse_header(m, fi);
}

static int cmp_by_name(const void *a, const void *b) {
    return strcmp(((const rf_st_tensor *)a)->name, ((const rf_st_tensor *)b)->name);
}

/* Sorts tensors by name (for rf_st_find) and rejects a name held by two shards. */
static int sort_tensors(rf_st_model *m) {
    if (m->ntensors == 0) return RF_OK; /* tensors is NULL: qsort must not see it */
    qsort(m->tensors, (size_t)m->ntensors, sizeof *m->tensors, cmp_by_name);
    for (int i = 1; i < m->ntensors; i++) {
        const rf_st_tensor *a = &m->tensors[i - 1], *b = &m->tensors[i];
        if (strcmp(a->name, b->name) == 0)
            return rf_fail("tensor %s is in both %s and %s", a->name, m->paths[a->file_index],
                           m->paths[b->file_index]);
    }
    return RF_OK;
}

/* A file name the index gives must name a file of the model directory itself: not empty, no '/'
 * (so not absolute), not "." or "..". Otherwise an index could make riverforge read any file of
 * the machine as part of the model. */
static int plain_file_name(const char *s) {
    return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* DIR/model.safetensors.index.json: checks every weight_map entry, then opens each shard once (in
 * order of first mention), then checks that every mapped tensor is in the shard the index names. */
static int open_index(rf_st_model *m, const char *dir, const char *index_path) {
    json_t *root;
    if (rf_json_read_object(index_path, JSON_REJECT_DUPLICATES, &root) != RF_OK) return RF_ERR;
    json_t *wm = json_object_get(root, "weight_map");
    /* Distinct file names and the first tensor mapped to each, pointing into root; shards[i] is
     * file i. */
    const char **shards = NULL, **first = NULL;
    int nshards = 0, rc = RF_OK;
    const char *key;
    json_t *v;
    if (!json_is_object(wm)) {
        rc = rf_fail("%s: no \"weight_map\" object", index_path);
        goto done;
    }
    if (json_object_size(wm) == 0) {
        rc = rf_fail("%s: \"weight_map\" is empty: the index names no tensor", index_path);
        goto done;
    }
    shards = rf_malloc(json_object_size(wm) * sizeof *shards);
    first = rf_malloc(json_object_size(wm) * sizeof *first);
    /* Every entry is checked before any file is opened. */
    json_object_foreach(wm, key, v) {
        if (!json_is_string(v)) {
            rc = rf_fail("%s: weight_map[\"%s\"] is not a file name", index_path, key);
            goto done;
        }
        const char *file = json_string_value(v);
        if (!plain_file_name(file)) {
            rc = rf_fail("%s: weight_map[\"%s\"] is \"%s\", not the name of a file in the model "
                         "directory (empty, a '/', \".\" or \"..\")",
                         index_path, key, file);
            goto done;
        }
        if (strlen(dir) + 1 + strlen(file) >= 4096) {
            rc = rf_fail("%s: weight_map[\"%s\"]: the path %s/%s is too long", index_path, key,
                         dir, file);
            goto done;
        }
        int s = 0;
        while (s < nshards && strcmp(shards[s], file) != 0) s++;
        if (s == nshards) {
            first[nshards] = key;
            shards[nshards++] = file;
        }
    }
    for (int s = 0; s < nshards && rc == RF_OK; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, shards[s]);
        if (add_file(m, path) != RF_OK)
            rc = rf_fail_prefix("%s: weight_map[\"%s\"]: ", index_path, first[s]);
    }
    if (rc == RF_OK) rc = sort_tensors(m);
    json_object_foreach(wm, key, v) {
        if (rc != RF_OK) break;
        const char *shard = json_string_value(v);
        const rf_st_tensor *t = rf_st_find(m, key);
        if (!t) {
            rc = rf_fail("%s: tensor %s is mapped to %s, which has no tensor %s", index_path, key,
                         shard, key);
        } else if (strcmp(shards[t->file_index], shard) != 0) {
            rc = rf_fail("%s: tensor %s is mapped to %s but is in %s", index_path, key, shard,
                         m->paths[t->file_index]);
        }
    }
done:
    free(shards);
    free(first);
    json_decref(root);
    return rc;
}

/* Whether PATH names anything (a dangling link too): what is there is then read or refused by
 * add_file and open_index with a line that says why, not skipped. */
static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int rf_st_open(rf_st_model *m, const char *path) {
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(path, &st) != 0) return rf_fail("%s: cannot open: %s", path, strerror(errno));
    int rc;
    if (!S_ISDIR(st.st_mode)) {
        rc = add_file(m, path);
        if (rc == RF_OK) rc = sort_tensors(m);
    } else {
        /* Like transformers: a single model.safetensors wins over an index. */
        char single[4096], index[4096];
        snprintf(single, sizeof single, "%s/" ST_SINGLE_NAME, path);
        snprintf(index, sizeof index, "%s/" ST_INDEX_NAME, path);
        if (exists(single)) {
            rc = add_file(m, single);
            if (rc == RF_OK) rc = sort_tensors(m);
        } else if (exists(index)) {
            rc = open_index(m, path, index);
        } else {
            rc = rf_fail("%s: no " ST_SINGLE_NAME " or " ST_INDEX_NAME " in this directory", path);
        }
    }
    if (rc != RF_OK) rf_st_close(m);
    return rc;
}

void rf_st_close(rf_st_model *m) {
    for (int i = 0; i < m->ntensors; i++) free(m->tensors[i].name);
    for (int f = 0; f < m->nfiles; f++) {
        munmap(m->maps[f], m->sizes[f]);
        free(m->paths[f]);
    }
    free(m->tensors);
    free(m->paths);
    free(m->maps);
    free(m->sizes);
    memset(m, 0, sizeof *m);
}

const rf_st_tensor *rf_st_find(const rf_st_model *m, const char *name) {
    if (m->ntensors == 0) return NULL; /* tensors is NULL: bsearch must not see it */
    rf_st_tensor key = {.name = (char *)name};
    return bsearch(&key, m->tensors, (size_t)m->ntensors, sizeof key, cmp_by_name);
}

/* ---------------------------------------------------------------------------------------------
 * Conversion to float32 */

/* Below this, thread start-up costs more than the loop. */
#define ST_PAR_MIN (1 << 16)

static void f16_to_f32(const unsigned char *src, float *out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > ST_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        out[i] = rf_fp16_to_f32(h);
    }
}

static void bf16_to_f32(const unsigned char *src, float *out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > ST_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        uint16_t b;
        memcpy(&b, src + 2 * i, 2);
        out[i] = rf_bf16_to_f32(b);
    }
}

/* Index of the first NaN or Inf in x[0..n), or n. */
static int64_t first_non_finite(const float *x, int64_t n) {
    int64_t first = n;
#pragma omp parallel for schedule(static) reduction(min : first) if (n > ST_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]) && i < first) first = i;
    return first;
}

int rf_st_to_f32(const rf_st_model *m, const rf_st_tensor *t, float *out) {
    switch (t->dtype) {
    case RF_DTYPE_F32: memcpy(out, t->data, t->nbytes); break; /* the mapping may be unaligned */
    case RF_DTYPE_F16: f16_to_f32(t->data, out, t->numel); break;
    case RF_DTYPE_BF16: bf16_to_f32(t->data, out, t->numel); break;
    default:
        return rf_fail("%s: tensor %s: dtype %s is not a float type (F32, F16, BF16)",
                       m->paths[t->file_index], t->name, rf_dtype_name(t->dtype));
    }
    int64_t bad = first_non_finite(out, t->numel);
    if (bad == t->numel) return RF_OK;

    int64_t idx[RF_ST_MAX_DIMS], rest = bad;
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = t->shape[d] ? rest % t->shape[d] : 0;
        rest = t->shape[d] ? rest / t->shape[d] : 0;
    }
    char s[256];
    const char *what = isnan(out[bad]) ? "nan" : out[bad] > 0 ? "inf" : "-inf";
    return rf_fail("%s: tensor %s: non-finite value (%s) at index %s", m->paths[t->file_index],
                   t->name, what, fmt_shape(s, sizeof s, idx, t->ndim));
}

/* ---------------------------------------------------------------------------------------------
 * Writing */

/* Bytes of entry e's data; RF_ERR for a dtype, ndim or shape no reader would accept. */
static int entry_nbytes(const char *path, const rf_st_entry *e, size_t *nbytes) {
    if ((unsigned)e->dtype >= RF_DTYPE_COUNT || e->ndim < 0 || e->ndim > RF_ST_MAX_DIMS)
        return rf_fail("%s: tensor %s: bad dtype %d or ndim %d", path, e->name, (int)e->dtype,
                       e->ndim);
    size_t n = rf_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) {
        if (e->shape[d] < 0 || __builtin_mul_overflow(n, (size_t)e->shape[d], &n))
            return rf_fail("%s: tensor %s: bad shape[%d] = %" PRId64, path, e->name, d,
                           e->shape[d]);
    }
    *nbytes = n;
    return RF_OK;
}

int rf_st_write(const char *path, const rf_st_entry *entries, int n) {
    json_t *root = json_object();
    json_object_set_new(root, "__metadata__", json_pack("{s:s}", "format", "pt"));
    uint64_t offset = 0;
    size_t *sizes = rf_malloc(((size_t)n + 1) * sizeof *sizes);
    const void **parts = rf_malloc(((size_t)n + 1) * sizeof *parts);
    unsigned char *head = NULL;
    int rc = RF_OK;
    for (int i = 0; i < n; i++) {
        const rf_st_entry *e = &entries[i];
        if (json_object_get(root, e->name)) {
            rc = rf_fail("%s: tensor %s is listed twice", path, e->name);
            break;
        }
        if ((rc = entry_nbytes(path, e, &sizes[i + 1])) != RF_OK) break;
        json_t *shape = json_array();
        for (int d = 0; d < e->ndim; d++) json_array_append_new(shape, json_integer(e->shape[d]));
        parts[i + 1] = e->data;
        json_t *entry = json_pack("{s:s, s:o, s:[I, I]}", "dtype", rf_dtype_name(e->dtype),
                                  "shape", shape, "data_offsets", (json_int_t)offset,
                                  (json_int_t)(offset + sizes[i + 1]));
        if (json_object_set_new(root, e->name, entry) != 0) {
            rc = rf_fail("%s: tensor name %s is not valid UTF-8", path, e->name);
            break;
        }
        offset += sizes[i + 1];
    }
    if (rc == RF_OK) {
        char *json = json_dumps(root, JSON_COMPACT);
        rf_check(json, "json_dumps failed");
        /* Pad with spaces so that the data buffer starts 8-byte aligned in the file. */
        size_t hlen = strlen(json), padded = (8 + hlen + 7) / 8 * 8 - 8;
        head = rf_malloc(8 + padded);
        store_le64(head, padded);
        memcpy(head + 8, json, hlen);
        memset(head + 8 + hlen, ' ', padded - hlen);
        free(json);
        parts[0] = head;
        sizes[0] = 8 + padded;
        rc = rf_atomic_write(path, n + 1, parts, sizes);
    }
    free(head);
    free(parts);
    free(sizes);
    json_decref(root);
    return rc;
}

int rf_st_write_index(const char *dir, int n, const char *const *tensor_names,
                      const char *const *file_names, uint64_t total_size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/" ST_INDEX_NAME, dir);
    json_t *wm = json_object();
    for (int i = 0; i < n; i++) {
        if (json_object_get(wm, tensor_names[i])) {
            json_decref(wm);
            return rf_fail("%s: tensor %s is listed twice", path, tensor_names[i]);
        }
        if (json_object_set_new(wm, tensor_names[i], json_string(file_names[i])) != 0) {
            json_decref(wm);
            return rf_fail("%s: tensor %s or file %s is not valid UTF-8", path, tensor_names[i],
                           file_names[i]);
        }
    }
    json_t *root = json_pack("{s:{s:I}, s:o}", "metadata", "total_size", (json_int_t)total_size,
                             "weight_map", wm);
    /* As transformers writes it: indent 2, sorted keys, a final newline. */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    rf_check(text, "json_dumps failed");
    const void *parts[] = {text, "\n"};
    size_t sizes[] = {strlen(text), 1};
    int rc = rf_atomic_write(path, 2, parts, sizes);
    free(text);
    json_decref(root);
    return rc;
}
