/* test_image_checksum.c -- the whole-image checksum of the files riverforge writes
 * (io/image_checksum.h): a file written through rf_h5_finish starts with the header line, opens in
 * HDF5 and passes the check; each kind of damage fails it before HDF5 reads a byte, with one line
 * naming the file: a byte flipped in the header (its line or its padding), the superblock, the
 * middle or the last byte; truncation (inside the header and after it); a zero-filled tail; bytes
 * appended; a plain HDF5 file without the header (refused as a shard, left alone as a user's
 * file); the header's line spelled otherwise with the same values (a tab for its last space, which
 * sscanf alone let through: found by tests/fuzz's shard_gate reference). Writing over a damaged
 * file repairs it. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <fcntl.h>
#include <unistd.h>

#include "io/h5_util.h"
#include "io/image_checksum.h"
#include "io_asserts.h"
#include "corrupt_fixture.h"

/* A small riverforge file: one chunked, checksummed dataset and a string attribute. */
static void write_file(const char *path) {
    hid_t f = rf_h5_create_mem(path);
    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = (float)i;
    const hsize_t n = 1000;
    rf_h5_write_dataset(f, "/g/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &n, x);
    rf_h5_attr_str(f, "/g", "note", "a string in the global heap");
    assert_int_equal(rf_h5_finish(f, path, RF_OK), RF_OK);
}

static off_t file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void test_written_and_checked(void **state) {
    char path[4096];
    write_file(in_dir(path, state, "f.h5"));
    if (rf_image_check(path, 1) != RF_OK) fail_msg("%s", rf_last_error());
    char head[27] = {0};
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, head, 26), 26);
    close(fd);
    assert_string_equal(head, "riverforge-image xxh3-128 ");
    hid_t file; /* HDF5 finds the superblock after the user block */
    assert_int_equal(rf_h5_open(path, &file), RF_OK);
    assert_int_equal(rf_h5_exists(file, "/g/x"), 1);
    rf_h5_close(file);
}

/* Flips a byte at offset at (from the end when negative): the check fails naming the file. */
static void flipped_at(void **state, off_t at, const char *why) {
    char path[4096];
    write_file(in_dir(path, state, "f.h5"));
    flip_byte(path, at < 0 ? file_size(path) + at : at);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, why);
    write_file(path); /* resume writes the shard again: repaired */
    assert_int_equal(rf_image_check(path, 1), RF_OK);
}

static void test_flipped_header_digit(void **state) { flipped_at(state, 30, "damaged"); }
static void test_flipped_header_magic(void **state) { flipped_at(state, 2, "image checksum"); }
static void test_flipped_padding(void **state) { flipped_at(state, 300, "image checksum"); }
static void test_flipped_superblock(void **state) {
    flipped_at(state, RF_IMAGE_HEADER_BYTES + 10, "damaged HDF5 file");
}
static void test_flipped_middle(void **state) { flipped_at(state, 2500, "damaged HDF5 file"); }
static void test_flipped_last(void **state) { flipped_at(state, -1, "damaged HDF5 file"); }

/* The space before the size becomes another whitespace byte: the values read the same, the file
 * is still changed, so it fails. */
static void test_header_respelled(void **state) {
    char path[4096], head[RF_IMAGE_HEADER_BYTES];
    write_file(in_dir(path, state, "f.h5"));
    int fd = open(path, O_RDWR);
    assert_int_equal(pread(fd, head, sizeof head, 0), (ssize_t)sizeof head);
    char *space = memchr(head, '\n', sizeof head);
    while (*space != ' ') space--;
    assert_int_equal(pwrite(fd, "\t", 1, space - head), 1);
    close(fd);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "image checksum");
}

static void test_truncated(void **state) {
    char path[4096];
    write_file(in_dir(path, state, "f.h5"));
    const off_t size = file_size(path);
    assert_int_equal(truncate(path, size - 100), 0);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "truncated");
    assert_int_equal(rf_image_check(path, 0), RF_ERR); /* the header is there: it must match */
    assert_int_equal(truncate(path, 100), 0); /* inside the header */
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "truncated");
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "truncated");
}

/* The second half zeroed at the same size: what a file system can leave after a crash. (HDF5's
 * image may end in zeros of its own: zeroing only those changes nothing.) */
static void test_zero_filled_tail(void **state) {
    char path[4096];
    write_file(in_dir(path, state, "f.h5"));
    const off_t size = file_size(path);
    char *zeros = calloc((size_t)size, 1);
    int fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, zeros, (size_t)(size / 2), size - size / 2), size / 2);
    close(fd);
    free(zeros);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "damaged HDF5 file");
}

static void test_extended(void **state) {
    char path[4096];
    write_file(in_dir(path, state, "f.h5"));
    FILE *f = fopen(path, "a");
    fputs("more", f);
    fclose(f);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "extended");
}

/* A complete HDF5 file written by plain HDF5: no header, so not trusted as a shard. */
static void test_plain_hdf5(void **state) {
    char path[4096];
    hid_t f = H5Fcreate(in_dir(path, state, "plain.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "not a riverforge HDF5 file with an image checksum");
    assert_int_equal(rf_image_check(path, 0), RF_OK); /* a user's file: nothing to check */
    in_dir(path, state, "missing.h5");
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "No such file");
}

/* A FIFO where a shard should be: opened without waiting for a writer, and not trusted. */
static void test_fifo(void **state) {
    char path[4096];
    assert_int_equal(mkfifo(in_dir(path, state, "fifo.h5"), 0644), 0);
    assert_int_equal(rf_image_check(path, 1), RF_ERR);
    assert_error_mentions(path, "not a complete riverforge HDF5 file");
    assert_int_equal(rf_image_check(path, 0), RF_OK); /* a user's file: h5_probe refuses it */
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_written_and_checked), T(test_flipped_header_digit), T(test_flipped_header_magic),
        T(test_flipped_padding),     T(test_flipped_superblock),   T(test_flipped_middle),
        T(test_flipped_last),        T(test_truncated),            T(test_zero_filled_tail),
        T(test_extended),            T(test_plain_hdf5),           T(test_fifo),
        T(test_header_respelled),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
