/* test_tokens.c -- token files: ids read as little-endian uint32 (bytes written by hand), the
 * checks' messages (size not a multiple of 4, an id >= vocab_size at its position, fewer tokens
 * than one sequence, a missing file), the non-overlapping windows and the seeded random ones
 * (inside the file, the same whatever the order of the calls, another seed other windows). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/tokens.h"

static const char *write_bytes(char *path, void **state, const char *name,
                               const unsigned char *b, size_t n) {
    in_dir(path, state, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_read_le(void **state) {
    const unsigned char b[12] = {1, 0, 0, 0, 0x34, 0x12, 0, 0, 0xff, 0xff, 0x01, 0};
    char p[4096];
    rf_tokens t;
    assert_int_equal(rf_tokens_open(&t, write_bytes(p, state, "a.bin", b, 12), 0x20000, 3), RF_OK);
    assert_int_equal(t.n, 3);
    int32_t ids[3];
    rf_tokens_read(&t, 0, 3, ids);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 0x1234);
    assert_int_equal(ids[2], 0x1ffff);
    rf_tokens_close(&t);
}

static void expect_fail(const char *path, int vocab, int seqlen, const char *msg) {
    rf_tokens t;
    assert_int_equal(rf_tokens_open(&t, path, vocab, seqlen), RF_ERR);
    if (!strstr(rf_last_error(), msg)) fail_msg("'%s' lacks '%s'", rf_last_error(), msg);
    assert_non_null(strstr(rf_last_error(), path));
}

static void test_errors(void **state) {
    const unsigned char b[13] = {1, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0};
    char p[4096];
    expect_fail(write_bytes(p, state, "odd.bin", b, 13), 10, 1, "size 13 is not a multiple of 4");
    expect_fail(write_bytes(p, state, "ok.bin", b, 12), 9, 1,
                "token 9 at position 2 is not below the model's vocab_size 9");
    expect_fail(p, 10, 4, "3 tokens, fewer than one sequence of 4");
    assert_string_equal(rf_error_field(), "tokens.seqlen"); /* the command names its flag */
    expect_fail(in_dir(p, state, "missing.bin"), 10, 1, "cannot open");
}

static void test_windows(void **state) {
    unsigned char b[4 * 100] = {0};
    char p[4096];
    rf_tokens t;
    assert_int_equal(rf_tokens_open(&t, write_bytes(p, state, "w.bin", b, sizeof b), 1, 16), RF_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(rf_tokens_window(&t, 16, 0, i), 16 * i);
    int64_t first[8], other = 0;
    for (int i = 7; i >= 0; i--) first[i] = rf_tokens_window(&t, 16, 5, i); /* any order */
    for (int i = 0; i < 8; i++) {
        assert_true(first[i] >= 0 && first[i] <= 100 - 16);
        assert_int_equal(rf_tokens_window(&t, 16, 5, i), first[i]);
        other += rf_tokens_window(&t, 16, 6, i) != first[i];
    }
    assert_true(other >= 4);
    rf_tokens_close(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_le, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_errors, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_windows, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
