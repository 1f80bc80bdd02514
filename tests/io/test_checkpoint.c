/* test_checkpoint.c -- assembling a checkpoint from shards on disk (io/checkpoint.h).
 *
 * Three AQLM shards come together with every matrix bit-exact, the root attributes of a
 * checkpoint (a provenance too large for an object header) and the layout H5Ocopy must keep, over
 * a PATH.tmp a crashed run left behind; the file takes no more room than its parts (the space
 * reserved for it is given back) and it carries its image checksum. An empty assembly still has /matrices; /matrices and /vit
 * records sit side by side. A damaged shard (a flipped byte in codes, codebooks or a generator
 * tensor), a missing folder or a full disk fails the assembly, naming the shard's dataset or the
 * reason and the checkpoint, and leaves nothing at PATH or PATH.tmp. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "corrupt_fixture.h"
#include "full_disk_fixture.h"
#include "io_asserts.h"
#include "matrix_fixture.h"
#include "vit_fixture.h"

#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/checkpoint.h"
#include "io/image_checksum.h"
#include "io/h5_container.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2,\"seed\":7}";
static const rf_record_kind MATRICES[3] = {RF_RECORD_MATRIX, RF_RECORD_MATRIX, RF_RECORD_MATRIX};

static off_t file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* A leftover PATH.tmp of a crashed run: 3 MiB of junk. */
static void leave_junk(const char *path) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 3 << 20; i++) fputc('j', f);
    assert_int_equal(fclose(f), 0);
}

static void test_assemble_three_shards(void **state) {
    const char *names[3] = {"model.layers.1.mlp.down_proj", "model.layers.0.self_attn.q_proj",
                            "model.layers.0.mlp.up_proj"};
    char shard_buf[3][4096], path[4096], tmp[4104];
    const char *shards[3];
    matrix_fixture f[3];
    for (int i = 0; i < 3; i++) {
        make_matrix_fixture(&f[i], names[i], 16 * (i + 1), 32, 1 + i % 2, 4 + 4 * i, 1 + i % 2,
                            8, (uint64_t)(10 + i));
        shards[i] = in_dir(shard_buf[i], state, names[i]);
        assert_int_equal(rf_matrix_shard_write(shards[i], CONFIG, &f[i].rec), RF_OK);
    }
    /* Large enough that an attribute stored in the object header (64 KiB at most) could not
     * hold it. */
    size_t plen = 200000;
    char *provenance = malloc(plen + 1);
    memset(provenance, 'x', plen);
    memcpy(provenance, "{\"tasks\":\"", 10);
    memcpy(provenance + plen - 2, "\"}", 2);
    provenance[plen] = '\0';

    in_dir(path, state, "checkpoint.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    leave_junk(tmp);
    if (rf_checkpoint_assemble(path, CONFIG, provenance, 3, shards, names, MATRICES) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_false(exists(tmp));
    /* The whole file's checksum is in its user block, as in every file riverforge writes. */
    if (rf_image_check(path, 1) != RF_OK) fail_msg("%s", rf_last_error());
    /* The reservation's unused tail was cut off: no more room than the parts. */
    off_t parts = (off_t)plen;
    for (int i = 0; i < 3; i++) parts += file_size(shards[i]);
    assert_true(file_size(path) <= parts);

    char **list;
    int n;
    assert_int_equal(rf_matrix_list(path, &list, &n), RF_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0], "model.layers.0.mlp.up_proj");
    assert_string_equal(list[1], "model.layers.0.self_attn.q_proj");
    assert_string_equal(list[2], "model.layers.1.mlp.down_proj");
    rf_container_free_names(list, n);
    for (int i = 0; i < 3; i++) assert_reads_back(path, &f[i]);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attrs(file, RF_CHECKPOINT_FORMAT, CONFIG);
    char *s = attr_str(file, "/", "provenance");
    assert_string_equal(s, provenance);
    free(s);
    /* H5Ocopy kept chunking, the checksum filter and the types. */
    assert_dataset_layout(file, names[0], "codes", 1);
    assert_dataset_layout(file, names[2], "codes", 2);
    assert_dataset_layout(file, names[1], "codebooks", 0);
    H5Fclose(file);

    /* A checkpoint is not a shard. */
    assert_int_equal(rf_matrix_shard_verify(path, names[0], CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "riverforge.checkpoint");
    free(provenance);
    for (int i = 0; i < 3; i++) free_matrix_fixture(&f[i]);
}

static void test_assemble_empty(void **state) {
    char path[4096];
    in_dir(path, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(path, CONFIG, NULL, 0, NULL, NULL, NULL), RF_OK);
    char **list = NULL;
    int n = -1;
    assert_int_equal(rf_matrix_list(path, &list, &n), RF_OK);
    assert_int_equal(n, 0);
    rf_container_free_names(list, n);
}

/* One flipped byte in a shard's chunk: assembly reads every copied dataset back, so the Fletcher32
 * checksum catches it there too, and no checkpoint is left behind. */
static void assemble_flipped_byte(void **state, const char *leaf) {
    char path[4096], want[512], ckpt[4096];
    matrix_fixture f;
    write_damaged_matrix_shard(state, path, &f, CONFIG, leaf, want);

    const char *shards[1] = {path}, *names[1] = {f.rec.name};
    in_dir(ckpt, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, MATRICES), RF_ERR);
    assert_error_mentions(path, want);
    assert_error_mentions(ckpt, NULL);
    assert_false(exists(ckpt));
    strcat(ckpt, ".tmp");
    assert_false(exists(ckpt));
    free_matrix_fixture(&f);
}

static void test_assemble_flipped_codes_byte(void **state) { assemble_flipped_byte(state, "codes"); }
static void test_assemble_flipped_codebooks_byte(void **state) {
    assemble_flipped_byte(state, "codebooks");
}

static void test_assemble_flipped_generator_byte(void **state) {
    char path[4096], dset[512];
    vit_fixture f;
    write_vit_shard(state, path, &f, CONFIG);
    snprintf(dset, sizeof dset, "/vit/%s/generator/angles", VIT_NAME);
    damage_first_chunk(path, dset);
    const char *shards[1] = {path}, *names[1] = {VIT_NAME};
    const rf_record_kind kinds[1] = {RF_RECORD_VIT};
    char ckpt[4096];
    in_dir(ckpt, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, kinds), RF_ERR);
    assert_int_equal(access(ckpt, F_OK), -1);
}

/* A missing folder: nothing to read, nowhere to write, nothing left at PATH. */
static void test_assemble_missing_directory(void **state) {
    char path[4096];
    in_dir(path, state, "no/such/dir/shard.h5");
    const char *shards[1] = {path}, *names[1] = {"w"};
    assert_int_equal(rf_checkpoint_assemble(path, CONFIG, "{}", 1, shards, names, MATRICES), RF_ERR);
    assert_error_mentions(path, NULL);
    assert_false(exists(path));
}

/* A disk that cannot hold the checkpoint: one line with the reason before HDF5 writes anything
 * (HDF5 1.10 crashes when a write fails inside H5Ocopy), nothing left behind. */
static void test_assemble_full_disk(void **state) {
    const char *names[3] = {"model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
                            "model.layers.0.mlp.down_proj"};
    char shard_buf[3][4096], ckpt[4096], tmp[4104];
    const char *shards[3];
    matrix_fixture f[3];
    for (int i = 0; i < 3; i++) {
        make_matrix_fixture(&f[i], names[i], 256, 256, 2, 8, 1, 8, (uint64_t)(20 + i));
        shards[i] = in_dir(shard_buf[i], state, names[i]);
        assert_int_equal(rf_matrix_shard_write(shards[i], CONFIG, &f[i].rec), RF_OK);
        free_matrix_fixture(&f[i]);
    }
    in_dir(ckpt, state, "checkpoint.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", ckpt);
    full_disk disk = full_disk_begin(64 << 10);
    int rc = rf_checkpoint_assemble(ckpt, CONFIG, "{}", 3, shards, names, MATRICES);
    full_disk_end(&disk);
    assert_int_equal(rc, RF_ERR);
    assert_error_mentions(ckpt, strerror(EFBIG));
    assert_false(exists(ckpt));
    assert_false(exists(tmp));
    /* with room, the same shards assemble */
    if (rf_checkpoint_assemble(ckpt, CONFIG, "{}", 3, shards, names, MATRICES) != RF_OK)
        fail_msg("%s", rf_last_error());
}

static void test_assemble_with_vit(void **state) {
    char vit_path[4096], mat_path[4096], ckpt[4096];
    vit_fixture f;
    write_vit_shard(state, vit_path, &f, CONFIG);
    /* one AQLM matrix beside it */
    rf_aqlm_config c = {.num_codebooks = 1, .nbits_per_codebook = 2, .in_group_size = 2, .out_group_size = 1};
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, 4, 4, &c);
    rf_aqlm_stats qs = {.bits_per_weight = 1.5};
    rf_matrix_record mrec = {.name = "model.layers.0.self_attn.q_proj", .q = &q, .stats = &qs, .device = "cpu"};
    in_dir(mat_path, state, "mat.h5");
    assert_int_equal(rf_matrix_shard_write(mat_path, CONFIG, &mrec), RF_OK);
    rf_aqlm_free(&q);
    const char *shards[2] = {mat_path, vit_path}, *names[2] = {mrec.name, VIT_NAME};
    const rf_record_kind kinds[2] = {RF_RECORD_MATRIX, RF_RECORD_VIT};
    in_dir(ckpt, state, "checkpoint.h5");
    if (rf_checkpoint_assemble(ckpt, CONFIG, "{}", 2, shards, names, kinds) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_true(file_size(ckpt) <= file_size(mat_path) + file_size(vit_path)); /* no spare room */
    char **list;
    int n;
    assert_int_equal(rf_matrix_list(ckpt, &list, &n), RF_OK);
    assert_int_equal(n, 1);
    rf_container_free_names(list, n);
    assert_int_equal(rf_vit_list(ckpt, &list, &n), RF_OK);
    assert_int_equal(n, 1);
    rf_container_free_names(list, n);
    rf_vit_info info;
    float *w = NULL;
    assert_int_equal(rf_vit_read(ckpt, VIT_NAME, &info, &w), RF_OK);
    assert_memory_equal(w, f.weight, sizeof f.weight);
    free(w);
    assert_int_equal(rf_vit_list(mat_path, &list, &n), RF_OK); /* no /vit: no names */
    assert_int_equal(n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_assemble_three_shards),
        T(test_assemble_empty),
        T(test_assemble_flipped_codes_byte),
        T(test_assemble_flipped_codebooks_byte),
        T(test_assemble_flipped_generator_byte),
        T(test_assemble_missing_directory),
        T(test_assemble_full_disk),
        T(test_assemble_with_vit),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
