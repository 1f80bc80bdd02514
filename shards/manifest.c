/* manifest.c -- see manifest.h. */
#include "shards/manifest.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "io/atomic_file.h"

#define SAMPLE_BYTES 4096

void rf_model_fingerprint(const rf_st_model *model, char out[17]) {
    uint64_t h = RF_HASH_INIT;
    for (int i = 0; i < model->ntensors; i++) { /* sorted by name */
        const rf_st_tensor *t = &model->tensors[i];
        h = rf_hash_bytes(h, t->name, strlen(t->name) + 1);
        h = rf_hash_bytes(h, &t->dtype, sizeof t->dtype);
        h = rf_hash_bytes(h, t->shape, (size_t)t->ndim * sizeof t->shape[0]);
        size_t n = t->nbytes < SAMPLE_BYTES ? t->nbytes : SAMPLE_BYTES;
        const unsigned char *d = t->data;
        h = rf_hash_bytes(h, d, n);
        h = rf_hash_bytes(h, d + (t->nbytes - n) / 2, n);
        h = rf_hash_bytes(h, d + t->nbytes - n, n);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int write_manifest(const char *path, const char *model_path, const char *fingerprint,
                          const char *xtx_path, const char *xtx_fingerprint,
                          const char *config_json) {
    char abs[PATH_MAX], xtx_abs[PATH_MAX];
    json_error_t err;
    json_t *config = json_loads(config_json, 0, &err);
    rf_check(config, "run config is not JSON: %s", err.text);
    if (xtx_path && realpath(xtx_path, xtx_abs)) xtx_path = xtx_abs;
    json_t *m = json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "model",
                          realpath(model_path, abs) ? abs : model_path, "model_fingerprint",
                          fingerprint, "xtx", xtx_path, "xtx_fingerprint", xtx_fingerprint,
                          "config", config);
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(m);
    rf_check(text, "cannot serialize the manifest");
    const void *parts[2] = {text, "\n"};
    const size_t sizes[2] = {strlen(text), 1};
    int rc = rf_atomic_write(path, 2, parts, sizes);
    free(text);
    return rc;
}

/* Appends "PREFIXkey A there, B here" to buf for one differing key (NULL: absent). */
static void diff_line(char *buf, size_t len, const char *prefix, const char *key, json_t *theirs,
                      json_t *ours) {
    size_t used = strlen(buf);
    char *a = theirs ? json_dumps(theirs, JSON_ENCODE_ANY) : NULL;
    char *b = ours ? json_dumps(ours, JSON_ENCODE_ANY) : NULL;
    snprintf(buf + used, len - used, "%s%s%s %s there, %s here", used ? "; " : "", prefix, key,
             a ? a : "absent", b ? b : "absent");
    free(a);
    free(b);
}

/* "nbits_per_codebook 8 there, 4 here; vit_generator.steps 200 there, 50 here; ..." for the
 * keys whose values differ, nested objects key by key. */
static void config_diff(json_t *theirs, json_t *ours, const char *prefix, char *buf, size_t len) {
    const char *key;
    json_t *value;
    json_object_foreach(ours, key, value) {
        json_t *other = json_object_get(theirs, key);
        if (other && json_equal(other, value)) continue;
        if (other && json_is_object(other) && json_is_object(value)) {
            char nested[256];
            snprintf(nested, sizeof nested, "%s%s.", prefix, key);
            config_diff(other, value, nested, buf, len);
        } else {
            diff_line(buf, len, prefix, key, other, value);
        }
    }
    json_object_foreach(theirs, key, value)
        if (!json_object_get(ours, key)) diff_line(buf, len, prefix, key, value, NULL);
}

int rf_manifest_check_or_write(const char *out_dir, const char *model_path,
                               const char *fingerprint, const char *xtx_path,
                               const char *xtx_fingerprint, const char *config_json) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", out_dir);
    if (access(path, F_OK) != 0)
        return write_manifest(path, model_path, fingerprint, xtx_path, xtx_fingerprint,
                              config_json);
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err), *ours = json_loads(config_json, 0, &err);
    rf_check(ours, "run config is not JSON: %s", err.text);
    const char *fp = NULL, *model = "?", *their_xtx = NULL, *their_xtx_fp = NULL;
    json_t *config = NULL;
    int rc = RF_OK;
    if (m) { /* null (a run without --xtx) or absent (an older manifest): no statistics */
        their_xtx = json_string_value(json_object_get(m, "xtx"));
        their_xtx_fp = json_string_value(json_object_get(m, "xtx_fingerprint"));
    }
    if (!m || json_unpack(m, "{s:s, s:s, s:o}", "model", &model, "model_fingerprint", &fp,
                          "config", &config) != 0)
        rc = rf_fail("--out %s: %s is not a riverforge manifest; use another --out", out_dir, path);
    else if (strcmp(fp, fingerprint) != 0)
        rc = rf_fail("--out %s holds shards of another model (%s, fingerprint %s; this run: %s, "
                     "fingerprint %s): use another --out, or remove %s/shards and %s",
                     out_dir, model, fp, model_path, fingerprint, out_dir, path);
    else if (strcmp(their_xtx_fp ? their_xtx_fp : "none",
                    xtx_fingerprint ? xtx_fingerprint : "none"))
        rc = rf_fail("--xtx %s: --out %s holds shards computed from other calibration statistics "
                     "(%s, XTX fingerprint %s; this run: fingerprint %s): use another --out, or "
                     "remove %s/shards and %s", xtx_path ? xtx_path : "(none)", out_dir,
                     their_xtx ? their_xtx : "no --xtx", their_xtx_fp ? their_xtx_fp : "none",
                     xtx_fingerprint ? xtx_fingerprint : "none", out_dir, path);
    else if (!json_equal(config, ours)) {
        char diff[1024] = "";
        config_diff(config, ours, "", diff, sizeof diff);
        rc = rf_fail("--out %s holds shards of another configuration (%s): use another --out, "
                     "or remove %s/shards and %s", out_dir, diff, out_dir, path);
    }
    json_decref(m);
    json_decref(ours);
    return rc;
}
