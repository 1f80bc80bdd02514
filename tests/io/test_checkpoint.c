/* test_checkpoint.c -- HDF5 shards and checkpoints.
 *
 * Round trips (codes exact, fp16 bit patterns exact, attributes), uint8 vs uint16 codes by
 * nbits, the on-disk types h5py relies on, assembly of three shards, and that verification
 * catches what it must: a missing file, another config, another name, a flipped byte inside the
 * codes or codebooks chunks, a truncated file, attributes that disagree with the shapes. Failed
 * writes (missing directory, full disk) leave nothing at PATH or PATH.tmp. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "corrupt_fixture.h"

#include <fcntl.h>
#include <ftw.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "common/rf_rng.h"
#include "io/checkpoint.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2,\"seed\":7}";
static const rf_record_kind MATRICES[3] = {RF_RECORD_MATRIX, RF_RECORD_MATRIX, RF_RECORD_MATRIX};

/* ---- fixtures: a fresh temporary directory per test ---- */


static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static void assert_error_mentions(const char *a, const char *b) {
    const char *e = rf_last_error();
    print_message("    error: %s\n", e); /* what a user would read */
    if (!strstr(e, a) || (b && !strstr(e, b)))
        fail_msg("error \"%s\" does not mention \"%s\"%s%s", e, a, b ? " and " : "", b ? b : "");
}

/* ---- test matrices: the test owns their buffers ---- */

typedef struct {
    rf_aqlm_matrix q;
    rf_aqlm_stats st;
    rf_matrix_record rec;
} fixture;

/* Random codes below K (the first one K-1) and random fp16-representable codebooks and scales,
 * with the awkward fp16 values (-0, a subnormal, the largest finite) at the start. */
static void make_fixture(fixture *f, const char *name, int64_t out, int64_t in, int M, int nbits,
                         int og, int ig, uint64_t seed) {
    rf_rng r;
    rf_rng_init(&r, seed);
    rf_aqlm_matrix *q = &f->q;
    *q = (rf_aqlm_matrix){out, in, M, 1 << nbits, og, ig, NULL, NULL, NULL};
    size_t ncodes = (size_t)(out / og) * (in / ig) * M, nbook = (size_t)M * q->K * og * ig;
    q->codes = malloc(ncodes * sizeof *q->codes);
    q->codebooks = malloc(nbook * sizeof *q->codebooks);
    q->scales = malloc((size_t)(out / og) * sizeof *q->scales);
    for (size_t i = 0; i < ncodes; i++) q->codes[i] = (uint16_t)rf_rng_below(&r, (uint64_t)q->K);
    q->codes[0] = (uint16_t)(q->K - 1);
    for (size_t i = 0; i < nbook; i++)
        q->codebooks[i] = rf_round_fp16((float)(rf_rng_normal(&r) * 0.3));
    const float special[3] = {-0.0f, rf_fp16_to_f32(0x0001), 65504.0f};
    for (size_t i = 0; i < 3 && i < nbook; i++) q->codebooks[i] = special[i];
    for (int64_t i = 0; i < out / og; i++)
        q->scales[i] = rf_round_fp16((float)(0.01 + rf_rng_uniform(&r)));
    f->st = (rf_aqlm_stats){.rel_act_err = 0.0123 + seed, .rel_w_err = 0.25, .bits_per_weight =
                            2.0625, .seconds = 3.5, .epochs = 7, .adam_steps = 700};
    f->rec = (rf_matrix_record){name, &f->q, &f->st, seed % 2 ? "cuda" : "cpu"};
}

static void free_fixture(fixture *f) {
    free(f->q.codes);
    free(f->q.codebooks);
    free(f->q.scales);
}

/* Bit-exact: -0 must stay -0 and every fp16 value come back as written. */
static void assert_same_matrix(const rf_aqlm_matrix *a, const rf_aqlm_matrix *b) {
    assert_int_equal(a->out_features, b->out_features);
    assert_int_equal(a->in_features, b->in_features);
    assert_int_equal(a->M, b->M);
    assert_int_equal(a->K, b->K);
    assert_int_equal(a->og, b->og);
    assert_int_equal(a->ig, b->ig);
    size_t rows = (size_t)(a->out_features / a->og);
    assert_memory_equal(a->codes, b->codes, rows * (a->in_features / a->ig) * a->M * 2);
    assert_memory_equal(a->codebooks, b->codebooks, (size_t)a->M * a->K * a->og * a->ig * 4);
    assert_memory_equal(a->scales, b->scales, rows * 4);
}

/* Reads /matrices/NAME back from path and compares it with f, stats and device included. */
static void assert_reads_back(const char *path, const fixture *f) {
    rf_aqlm_matrix q;
    rf_aqlm_stats st;
    char device[16];
    if (rf_checkpoint_read_matrix(path, f->rec.name, &q, &st, device, sizeof device) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_same_matrix(&f->q, &q);
    assert_memory_equal(&st, &f->st, sizeof st);
    assert_string_equal(device, f->rec.device);
    rf_aqlm_free(&q);
}

/* ---- looking at the files with HDF5 directly ---- */

static char *attr_str(hid_t file, const char *obj, const char *name) {
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_true(H5Tis_variable_str(t) > 0); /* documented: variable-length UTF-8 */
    assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
    char *s = NULL;
    assert_true(H5Aread(a, t, &s) >= 0);
    char *copy = strdup(s);
    H5free_memory(s);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static int64_t attr_i64(hid_t file, const char *obj, const char *name) {
    int64_t v = -1;
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    return v;
}

/* Chunked, Fletcher32, and of the expected type: codes unsigned of code_size bytes, the others
 * the IEEE half layout h5py maps to numpy float16. */
static void assert_dataset_layout(hid_t file, const char *name, const char *leaf, int code_size) {
    char p[512];
    snprintf(p, sizeof p, "/matrices/%s/%s", name, leaf);
    hid_t d = H5Dopen2(file, p, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t dcpl = H5Dget_create_plist(d);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    assert_int_equal(H5Pget_nfilters(dcpl), 1);
    unsigned flags;
    size_t nelem = 0;
    assert_int_equal(H5Pget_filter2(dcpl, 0, &flags, &nelem, NULL, 0, NULL, NULL),
                     H5Z_FILTER_FLETCHER32);
    hid_t t = H5Dget_type(d);
    if (code_size) {
        assert_int_equal(H5Tget_class(t), H5T_INTEGER);
        assert_int_equal(H5Tget_sign(t), H5T_SGN_NONE);
        assert_int_equal(H5Tget_size(t), code_size);
    } else {
        size_t spos, epos, esize, mpos, msize;
        assert_int_equal(H5Tget_class(t), H5T_FLOAT);
        assert_int_equal(H5Tget_size(t), 2);
        assert_int_equal(H5Tget_precision(t), 16);
        assert_int_equal(H5Tget_order(t), H5T_ORDER_LE);
        assert_true(H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0);
        assert_int_equal(spos, 15);
        assert_int_equal(epos, 10);
        assert_int_equal(esize, 5);
        assert_int_equal(mpos, 0);
        assert_int_equal(msize, 10);
        assert_int_equal(H5Tget_ebias(t), 15);
    }
    H5Tclose(t);
    H5Pclose(dcpl);
    H5Dclose(d);
}

/* Root attributes every file carries; "created" looks like 2024-05-01T12:00:00Z. */
static void assert_root_attrs(hid_t file, const char *format) {
    char *s = attr_str(file, "/", "format");
    assert_string_equal(s, format);
    free(s);
    assert_int_equal(attr_i64(file, "/", "format_version"), RF_FORMAT_VERSION);
    s = attr_str(file, "/", "config");
    assert_string_equal(s, CONFIG);
    free(s);
    s = attr_str(file, "/", "version");
    assert_string_equal(s, RF_VERSION);
    free(s);
    s = attr_str(file, "/", "created");
    assert_int_equal(strlen(s), 20);
    assert_true(s[4] == '-' && s[10] == 'T' && s[19] == 'Z');
    free(s);
}

/* ---- round trips ---- */

static void roundtrip(void **state, int M, int nbits, int og, int ig, int64_t out, int64_t in,
                      int code_size) {
    char path[4096], tmp[4104];
    in_dir(path, state, "model.layers.0.mlp.down_proj.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture f;
    make_fixture(&f, "model.layers.0.mlp.down_proj", out, in, M, nbits, og, ig, (uint64_t)nbits);
    if (rf_shard_write(path, CONFIG, &f.rec) != RF_OK) fail_msg("%s", rf_last_error());
    assert_false(exists(tmp));
    rf_aqlm_stats st;
    if (rf_shard_verify(path, f.rec.name, CONFIG, &st) != RF_OK) fail_msg("%s", rf_last_error());
    assert_memory_equal(&st, f.rec.stats, sizeof st); /* verification hands back the stats */
    assert_reads_back(path, &f);

    char *config = NULL;
    assert_int_equal(rf_checkpoint_read_config(path, &config), RF_OK);
    assert_string_equal(config, CONFIG);
    free(config);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attrs(file, RF_SHARD_FORMAT);
    assert_dataset_layout(file, f.rec.name, "codes", code_size);
    assert_dataset_layout(file, f.rec.name, "codebooks", 0);
    assert_dataset_layout(file, f.rec.name, "scales", 0);
    assert_int_equal(attr_i64(file, "/matrices/model.layers.0.mlp.down_proj", "nbits_per_codebook"),
                     nbits);
    H5Fclose(file);
    free_fixture(&f);
}

static void test_roundtrip_uint8_codes(void **state) { roundtrip(state, 1, 8, 1, 8, 32, 64, 1); }
static void test_roundtrip_1bit_codes(void **state) { roundtrip(state, 3, 1, 2, 2, 8, 8, 1); }
static void test_roundtrip_uint16_codes(void **state) { roundtrip(state, 2, 9, 2, 4, 16, 32, 2); }
/* K = 65536: the codebooks [2, 65536, 2, 4] span several 1 MiB chunks. */
static void test_roundtrip_16bit_codes(void **state) { roundtrip(state, 2, 16, 2, 4, 64, 64, 2); }

/* A leftover PATH.tmp (a crashed run) and an existing PATH (a shard being recomputed) are
 * both replaced. */
static void test_write_replaces_old_files(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "s.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    fputs("half a file", fp);
    fclose(fp);
    fixture a, b;
    make_fixture(&a, "w", 8, 16, 1, 4, 1, 4, 1);
    make_fixture(&b, "w", 8, 16, 1, 4, 1, 4, 2);
    assert_int_equal(rf_shard_write(path, CONFIG, &a.rec), RF_OK);
    assert_int_equal(rf_shard_write(path, CONFIG, &b.rec), RF_OK);
    assert_false(exists(tmp));
    assert_reads_back(path, &b);
    free_fixture(&a);
    free_fixture(&b);
}

/* ---- assembly ---- */

static void test_assemble_three_shards(void **state) {
    const char *names[3] = {"model.layers.1.mlp.down_proj", "model.layers.0.self_attn.q_proj",
                            "model.layers.0.mlp.up_proj"};
    char shard_buf[3][4096], path[4096], tmp[4104];
    const char *shards[3];
    fixture f[3];
    for (int i = 0; i < 3; i++) {
        make_fixture(&f[i], names[i], 16 * (i + 1), 32, 1 + i % 2, 4 + 4 * i, 1 + i % 2, 8,
                     (uint64_t)(10 + i));
        shards[i] = in_dir(shard_buf[i], state, names[i]);
        assert_int_equal(rf_shard_write(shards[i], CONFIG, &f[i].rec), RF_OK);
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
    if (rf_checkpoint_assemble(path, CONFIG, provenance, 3, shards, names, MATRICES) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_false(exists(tmp));

    char **list;
    int n;
    assert_int_equal(rf_checkpoint_list(path, &list, &n), RF_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0], "model.layers.0.mlp.up_proj");
    assert_string_equal(list[1], "model.layers.0.self_attn.q_proj");
    assert_string_equal(list[2], "model.layers.1.mlp.down_proj");
    rf_checkpoint_free_names(list, n);
    for (int i = 0; i < 3; i++) assert_reads_back(path, &f[i]);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attrs(file, RF_CHECKPOINT_FORMAT);
    char *s = attr_str(file, "/", "provenance");
    assert_string_equal(s, provenance);
    free(s);
    /* H5Ocopy kept chunking, the checksum filter and the types. */
    assert_dataset_layout(file, names[0], "codes", 1);
    assert_dataset_layout(file, names[2], "codes", 2);
    assert_dataset_layout(file, names[1], "codebooks", 0);
    H5Fclose(file);

    /* A checkpoint is not a shard. */
    assert_int_equal(rf_shard_verify(path, names[0], CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "riverforge.checkpoint");
    free(provenance);
    for (int i = 0; i < 3; i++) free_fixture(&f[i]);
}

static void test_assemble_empty(void **state) {
    char path[4096];
    in_dir(path, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(path, CONFIG, NULL, 0, NULL, NULL, NULL), RF_OK);
    char **list = NULL;
    int n = -1;
    assert_int_equal(rf_checkpoint_list(path, &list, &n), RF_OK);
    assert_int_equal(n, 0);
    rf_checkpoint_free_names(list, n);
}

/* Other writers (h5py with numpy bytes) store fixed-length strings: those read too. */
static void test_fixed_length_string_attr(void **state) {
    char path[4096];
    in_dir(path, state, "fixed.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(CONFIG) + 3);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t a = H5Acreate2(file, "config", t, space, H5P_DEFAULT, H5P_DEFAULT);
    char buf[256] = {0};
    strcpy(buf, CONFIG);
    assert_true(H5Awrite(a, t, buf) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
    H5Fclose(file);
    char *config = NULL;
    if (rf_checkpoint_read_config(path, &config) != RF_OK) fail_msg("%s", rf_last_error());
    assert_string_equal(config, CONFIG);
    free(config);
}

/* ---- verification failures ---- */

static void write_one(void **state, char *path, fixture *f) {
    in_dir(path, state, "shard.h5");
    make_fixture(f, "model.layers.3.mlp.gate_proj", 64, 128, 2, 8, 1, 8, 3);
    assert_int_equal(rf_shard_write(path, CONFIG, &f->rec), RF_OK);
}

static void test_verify_missing_file(void **state) {
    char path[4096];
    in_dir(path, state, "nothing.h5");
    assert_int_equal(rf_shard_verify(path, "x", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "No such file");
}

static void test_verify_not_hdf5(void **state) {
    char path[4096];
    in_dir(path, state, "text.h5");
    FILE *fp = fopen(path, "w");
    fputs("this is not HDF5\n", fp);
    fclose(fp);
    assert_int_equal(rf_shard_verify(path, "x", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "HDF5");
    char **names;
    int n;
    assert_int_equal(rf_checkpoint_list(path, &names, &n), RF_ERR);
    assert_error_mentions(path, "HDF5");
}

static void test_verify_config_mismatch(void **state) {
    char path[4096];
    fixture f;
    write_one(state, path, &f);
    assert_int_equal(rf_shard_verify(path, f.rec.name, "{\"method\":\"aqlm\",\"seed\":8}", NULL), RF_ERR);
    assert_error_mentions(path, "config");
    free_fixture(&f);
}

static void test_verify_missing_name(void **state) {
    char path[4096];
    fixture f;
    write_one(state, path, &f);
    assert_int_equal(rf_shard_verify(path, "model.layers.3.mlp.up_proj", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "has no /matrices/model.layers.3.mlp.up_proj");
    free_fixture(&f);
}

/* One flipped byte in a chunk's raw data: the Fletcher32 checksum must catch it, in verify,
 * in read_matrix and in assembly, and assembly must leave no checkpoint behind. */
static void flipped_byte(void **state, const char *leaf) {
    char path[4096], want[256], ckpt[4096];
    fixture f;
    write_one(state, path, &f);
    char dset[512];
    snprintf(dset, sizeof dset, "/matrices/%s/%s", f.rec.name, leaf);
    flip_byte(path, (off_t)first_chunk(path, dset) + 5);
    snprintf(want, sizeof want, "/matrices/%s/%s", f.rec.name, leaf);

    assert_int_equal(rf_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, want);
    assert_error_mentions("checksum", NULL);
    rf_aqlm_matrix q;
    assert_int_equal(rf_checkpoint_read_matrix(path, f.rec.name, &q, NULL, NULL, 0), RF_ERR);
    assert_error_mentions(path, want);

    const char *shards[1] = {path}, *names[1] = {f.rec.name};
    in_dir(ckpt, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, MATRICES), RF_ERR);
    assert_error_mentions(path, want);
    assert_error_mentions(ckpt, NULL);
    assert_false(exists(ckpt));
    strcat(ckpt, ".tmp");
    assert_false(exists(ckpt));

    /* Resume recomputes the shard: writing over the damaged file repairs it. */
    assert_int_equal(rf_shard_write(path, CONFIG, &f.rec), RF_OK);
    assert_int_equal(rf_shard_verify(path, f.rec.name, CONFIG, NULL), RF_OK);
    free_fixture(&f);
}

static void test_verify_flipped_codes_byte(void **state) { flipped_byte(state, "codes"); }
static void test_verify_flipped_codebooks_byte(void **state) { flipped_byte(state, "codebooks"); }

static void test_verify_truncated(void **state) {
    char path[4096];
    fixture f;
    write_one(state, path, &f);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_equal(rf_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, NULL);
    free_fixture(&f);
}

/* Attributes that disagree with the datasets (in_features doubled): the shape check names the
 * dataset and both shapes. */
static void test_verify_shape_mismatch(void **state) {
    char path[4096];
    fixture f;
    write_one(state, path, &f);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    /* (H5Aopen_by_name + H5Awrite fails in HDF5 1.10.8: open the group first.) */
    hid_t g = H5Gopen2(file, "/matrices/model.layers.3.mlp.gate_proj", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "in_features", H5P_DEFAULT);
    int64_t in = 256;
    assert_true(H5Awrite(a, H5T_NATIVE_INT64, &in) >= 0);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(file);
    assert_int_equal(rf_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "/matrices/model.layers.3.mlp.gate_proj/codes is [64, 16, 2], "
                                "expected [64, 32, 2]");
    free_fixture(&f);
}

/* ---- failed writes leave nothing at PATH ---- */

static void test_write_missing_directory(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "no/such/dir/shard.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture f;
    make_fixture(&f, "w", 8, 16, 1, 4, 1, 4, 1);
    assert_int_equal(rf_shard_write(path, CONFIG, &f.rec), RF_ERR);
    assert_error_mentions(path, "No such file");
    assert_false(exists(path));
    assert_false(exists(tmp));
    const char *shards[1] = {path}, *names[1] = {"w"};
    assert_int_equal(rf_checkpoint_assemble(path, CONFIG, "{}", 1, shards, names, MATRICES), RF_ERR);
    assert_error_mentions(path, NULL);
    assert_false(exists(path));
    free_fixture(&f);
}

/* A full disk, as RLIMIT_FSIZE makes one: the file is created, but writes past 16 KiB fail
 * (EFBIG; SIGXFSZ ignored). */
static void test_write_full_disk(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "shard.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture f;
    make_fixture(&f, "w", 256, 1024, 2, 8, 1, 8, 1); /* 64 KiB of codes */
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 16384;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = rf_shard_write(path, CONFIG, &f.rec);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, RF_ERR);
    assert_error_mentions(path, "cannot write");
    assert_false(exists(path));
    assert_false(exists(tmp));
    free_fixture(&f);
}

static void test_bad_tensor_name(void **state) {
    char path[4096];
    in_dir(path, state, "shard.h5");
    fixture f;
    make_fixture(&f, "a/b", 8, 16, 1, 4, 1, 4, 1);
    assert_int_equal(rf_shard_write(path, CONFIG, &f.rec), RF_ERR);
    assert_error_mentions(path, "a/b");
    assert_false(exists(path));
    free_fixture(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_roundtrip_uint8_codes),
        T(test_roundtrip_1bit_codes),
        T(test_roundtrip_uint16_codes),
        T(test_roundtrip_16bit_codes),
        T(test_write_replaces_old_files),
        T(test_assemble_three_shards),
        T(test_assemble_empty),
        T(test_fixed_length_string_attr),
        T(test_verify_missing_file),
        T(test_verify_not_hdf5),
        T(test_verify_config_mismatch),
        T(test_verify_missing_name),
        T(test_verify_flipped_codes_byte),
        T(test_verify_flipped_codebooks_byte),
        T(test_verify_truncated),
        T(test_verify_shape_mismatch),
        T(test_write_missing_directory),
        T(test_write_full_disk),
        T(test_bad_tensor_name),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
