/* matrix_fixture.h -- AQLM matrices for the /matrices tests (test_matrix_record.c,
 * test_checkpoint.c): a fixture whose buffers the test owns, bit-exact comparison after a read,
 * and the on-disk layout of a dataset checked with plain HDF5 calls. Include after cmocka and
 * tests/fixtures/tmpdir.h. */
#ifndef RF_MATRIX_FIXTURE_H
#define RF_MATRIX_FIXTURE_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "common/rf_rng.h"
#include "io/matrix_record.h"
#include "corrupt_fixture.h"

typedef struct {
    rf_aqlm_matrix q;
    rf_aqlm_stats st;
    rf_matrix_record rec;
} matrix_fixture;

/* Random codes below K (the first one K-1) and random fp16-representable codebooks and scales,
 * with the awkward fp16 values (-0, a subnormal, the largest finite) at the start. */
static inline void make_matrix_fixture(matrix_fixture *f, const char *name, int64_t out,
                                       int64_t in, int M, int nbits, int og, int ig,
                                       uint64_t seed) {
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

static inline void free_matrix_fixture(matrix_fixture *f) {
    free(f->q.codes);
    free(f->q.codebooks);
    free(f->q.scales);
}

/* A gate_proj fixture [64, 128] (2 codebooks of 8 bits, groups 1 x 8) written as the shard
 * DIR/shard.h5 (path [4096]) of config. */
static inline void write_matrix_shard(void **state, char *path, matrix_fixture *f,
                                      const char *config) {
    in_dir(path, state, "shard.h5");
    make_matrix_fixture(f, "model.layers.3.mlp.gate_proj", 64, 128, 2, 8, 1, 8, 3);
    assert_int_equal(rf_matrix_shard_write(path, config, &f->rec), RF_OK);
}

/* write_matrix_shard, then one byte of the first chunk of its dataset LEAF flipped; dset [512]
 * receives that dataset's path, which the errors must name. */
static inline void write_damaged_matrix_shard(void **state, char *path, matrix_fixture *f,
                                              const char *config, const char *leaf, char *dset) {
    write_matrix_shard(state, path, f, config);
    snprintf(dset, 512, "/matrices/%s/%s", f->rec.name, leaf);
    damage_first_chunk(path, dset);
}

/* Bit-exact: -0 must stay -0 and every fp16 value come back as written. */
static inline void assert_same_matrix(const rf_aqlm_matrix *a, const rf_aqlm_matrix *b) {
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
static inline void assert_reads_back(const char *path, const matrix_fixture *f) {
    rf_aqlm_matrix q;
    rf_aqlm_stats st;
    char device[16];
    if (rf_matrix_read(path, f->rec.name, &q, &st, device, sizeof device) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_same_matrix(&f->q, &q);
    assert_memory_equal(&st, &f->st, sizeof st);
    assert_string_equal(device, f->rec.device);
    rf_aqlm_free(&q);
}

/* Chunked, Fletcher32, and of the expected type: codes unsigned of code_size bytes, the others
 * the IEEE half layout h5py maps to numpy float16. */
static inline void assert_dataset_layout(hid_t file, const char *name, const char *leaf,
                                         int code_size) {
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

#endif
