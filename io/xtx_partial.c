/* xtx_partial.c -- calibrate's folder of finished layers (xtx_partial.h). */
#include "io/xtx_partial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "io/image_checksum.h"
#include "io/json_file.h"

#define INPUTS "inputs.json"
#define LOCK "riverforge.lock" /* shards/out_lock.h's file name; io/ does not include shards/ */

int rf_xtx_partial_dir(const char *out, char *dir, size_t len) {
    if ((size_t)snprintf(dir, len, "%s.partial", out) >= len)
        return rf_fail("--out %.64s...: path too long", out);
    return RF_OK;
}

void rf_xtx_partial_layer_path(const char *dir, int layer, char *path, size_t len) {
    rf_check((size_t)snprintf(path, len, "%s/layer-%05d.h5", dir, layer) < len,
             "path too long: %.64s...", dir);
}

int rf_file_fingerprint(const char *path, char out[17]) {
    FILE *f = fopen(path, "rb");
    if (!f) return rf_fail("%s: cannot open: %s", path, strerror(errno));
    XXH3_state_t *s = XXH3_createState();
    rf_check(s && XXH3_64bits_reset(s) == XXH_OK, "XXH3 state");
    static char buf[1 << 20];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) XXH3_64bits_update(s, buf, n);
    int bad = ferror(f);
    fclose(f);
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(s));
    XXH3_freeState(s);
    return bad ? rf_fail("%s: read error", path) : RF_OK;
}

/* "key (was A, now B)" for every key of want whose value in have differs, into msg. */
static void differences(json_t *have, json_t *want, char *msg, size_t len) {
    const char *key;
    json_t *v;
    size_t used = 0;
    msg[0] = '\0';
    json_object_foreach(want, key, v) {
        json_t *h = json_object_get(have, key);
        if (h && json_equal(h, v)) continue;
        char *a = h ? json_dumps(h, JSON_ENCODE_ANY) : NULL, *b = json_dumps(v, JSON_ENCODE_ANY);
        int k = snprintf(msg + used, len - used, "%s%s (was %s, now %s)", used ? ", " : "", key,
                         a ? a : "absent", b);
        free(a), free(b);
        if (k < 0 || (size_t)k >= len - used) break;
        used += (size_t)k;
    }
}

int rf_xtx_partial_begin(const char *dir, json_t *inputs, int nlayers, int *first_missing) {
    char path[4200];
    snprintf(path, sizeof path, "%s/" INPUTS, dir);
    *first_missing = 0;
    if (access(path, F_OK) != 0) {
        char *text = json_dumps(inputs, JSON_SORT_KEYS | JSON_INDENT(1));
        const void *parts[1] = {text};
        const size_t sizes[1] = {strlen(text)};
        int rc = rf_atomic_write(path, 1, parts, sizes);
        free(text);
        return rc;
    }
    json_t *have;
    if (rf_json_read_object(path, 0, &have) != RF_OK) return rf_fail_prefix("--out: ");
    char msg[2048];
    differences(have, inputs, msg, sizeof msg);
    json_decref(have);
    if (msg[0])
        return rf_fail("--out: %s holds an interrupted calibration of other inputs: %s; rerun "
                       "with those or remove %s", dir, msg, dir);
    for (; *first_missing < nlayers; ++*first_missing) {
        rf_xtx_partial_layer_path(dir, *first_missing, path, sizeof path);
        /* a damaged layer is computed again, like a damaged shard */
        if (access(path, F_OK) != 0 || rf_image_check(path, 1) != RF_OK) break;
    }
    return RF_OK;
}

void rf_xtx_partial_remove(const char *dir, int nlayers) {
    char path[4200];
    for (int L = 0; L < nlayers; L++) {
        rf_xtx_partial_layer_path(dir, L, path, sizeof path);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/" INPUTS, dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/" LOCK, dir);
    unlink(path);
    rmdir(dir);
}
