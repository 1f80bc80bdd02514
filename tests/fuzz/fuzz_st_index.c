/* fuzz_st_index.c -- libFuzzer harness: model.safetensors.index.json, read by rf_st_open on a
 * model folder (the sharded form of a Hugging Face model).
 *
 * Input: the index's bytes. The folder also holds fixed shard files, written once by the real
 * writer: model-00001-of-00002.safetensors (a.weight F32 [2, 2], b.weight BF16 [4]),
 * model-00002-of-00002.safetensors (c.weight F16 [2, 3]), other.safetensors (a.weight again: a
 * name in two shards) and empty.safetensors (header {}). Checks: a refusal is one line naming a
 * file of the folder; an accepted index maps every weight_map entry (read again here with
 * jansson) to a tensor that rf_st_find finds in exactly the file the entry names, and the model
 * holds no tensor from a file the index does not name.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

static const char *model_dir(void) {
    static char dir[512];
    if (dir[0]) return dir;
    snprintf(dir, sizeof dir, "%s/model", fuzz_dir());
    FUZZ_CHECK(mkdir(dir, 0700) == 0, "cannot make %s", dir);
    static const float a[4] = {1, 2, 3, 4};
    static const uint16_t b[4] = {0x3f80, 0x4000, 0x4040, 0x4080}, c[6] = {0x3c00};
    const rf_st_entry s1[] = {{"a.weight", RF_DTYPE_F32, 2, {2, 2}, a},
                              {"b.weight", RF_DTYPE_BF16, 1, {4}, b}};
    const rf_st_entry s2[] = {{"c.weight", RF_DTYPE_F16, 2, {2, 3}, c}};
    const struct { const char *file; const rf_st_entry *e; int n; } shards[] = {
        {"model-00001-of-00002.safetensors", s1, 2}, {"model-00002-of-00002.safetensors", s2, 1},
        {"other.safetensors", s1, 1}, {"empty.safetensors", NULL, 0}};
    for (size_t i = 0; i < sizeof shards / sizeof *shards; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, shards[i].file);
        FUZZ_CHECK(rf_st_write(path, shards[i].e, shards[i].n) == RF_OK, "%s", rf_last_error());
    }
    return dir;
}

static void check_accepted(const rf_st_model *m, const char *dir, const uint8_t *data,
                           size_t size) {
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    json_t *wm = json_object_get(root, "weight_map");
    FUZZ_CHECK(json_is_object(wm), "accepted an index without a weight_map object");
    const char *key;
    json_t *v;
    json_object_foreach(wm, key, v) {
        const rf_st_tensor *t = rf_st_find(m, key);
        FUZZ_CHECK(t && json_is_string(v), "weight_map entry %s not found", key);
        char want[1024];
        snprintf(want, sizeof want, "%s/%s", dir, json_string_value(v));
        FUZZ_CHECK(!strcmp(m->paths[t->file_index], want), "%s is in %s, the index says %s", key,
                   m->paths[t->file_index], want);
    }
    for (int f = 0; f < m->nfiles; f++) {
        int named = 0;
        json_object_foreach(wm, key, v) {
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, json_string_value(v));
            named |= !strcmp(p, m->paths[f]);
        }
        FUZZ_CHECK(named, "%s was opened but the index does not name it", m->paths[f]);
    }
    for (int i = 1; i < m->ntensors; i++)
        FUZZ_CHECK(strcmp(m->tensors[i - 1].name, m->tensors[i].name) < 0, "names not sorted");
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *dir = model_dir();
    fuzz_write("model/model.safetensors.index.json", data, size);
    rf_st_model m;
    if (rf_st_open(&m, dir) != RF_OK) {
        fuzz_check_refusal(dir);
        return 0;
    }
    check_accepted(&m, dir, data, size);
    rf_st_close(&m);
    return 0;
}
