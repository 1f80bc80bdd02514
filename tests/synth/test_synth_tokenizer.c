/* test_synth_tokenizer.c -- the synthetic model's byte-level tokenizer (synth/synth_tokenizer.h):
 * tokenizer.json's vocabulary maps the 256 bytes one to one onto ids 0..255, spelled as the
 * byte-level alphabet spells them (checked at bytes whose characters are well known: ' ' is
 * U+0120, '\n' U+010A), with no merges and "<|endoftext|>" as special id 256; tokenizer_config.json
 * names it the EOS; a vocab below 257 gets neither file and loses those an earlier write left.
 * tests/python/test_tokens.sh loads the files with the real tokenizers and transformers. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <jansson.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "synth/synth_tokenizer.h"

static json_t *load(void **state, const char *name) {
    char path[4096];
    json_error_t err;
    json_t *j = json_load_file(in_dir(path, state, name), 0, &err);
    if (!j) fail_msg("%s: %s", name, err.text);
    return j;
}

/* The one Unicode code point of a UTF-8 key of one or two bytes; -1 for anything else. */
static long code_point(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80 && u[0] && !u[1]) return u[0];
    if ((u[0] & 0xE0) == 0xC0 && (u[1] & 0xC0) == 0x80 && !u[2]) return ((u[0] & 0x1Fl) << 6) | (u[1] & 0x3F);
    return -1;
}

static void test_byte_vocab(void **state) {
    if (rf_synth_tokenizer_write(*state, 1024) != RF_OK) fail_msg("%s", rf_last_error());
    json_t *t = load(state, "tokenizer.json");
    json_t *model = json_object_get(t, "model");
    assert_string_equal(json_string_value(json_object_get(model, "type")), "BPE");
    assert_int_equal(json_array_size(json_object_get(model, "merges")), 0);
    json_t *vocab = json_object_get(model, "vocab");
    assert_int_equal(json_object_size(vocab), 256);
    long char_of[256];
    for (int b = 0; b < 256; b++) char_of[b] = -1;
    const char *key;
    json_t *id;
    json_object_foreach(vocab, key, id) {
        long b = json_integer_value(id), cp = code_point(key);
        if (b < 0 || b > 255 || char_of[b] != -1) fail_msg("id %ld out of range or twice", b);
        if (cp < 0 || cp > 323) fail_msg("id %ld: key is not one character of the alphabet", b);
        char_of[b] = cp;
    }
    /* one to one: 256 distinct ids were seen; now 256 distinct characters */
    for (int a = 0; a < 256; a++)
        for (int b = a + 1; b < 256; b++) assert_true(char_of[a] != char_of[b]);
    const long known[][2] = {{'A', 'A'}, {'~', '~'}, {0xFF, 0xFF}, {0x00, 0x100}, {' ', 0x120},
                             {'\n', 0x10A}, {0x7F, 0x121}, {0xAD, 0x143}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) assert_int_equal(char_of[known[i][0]], known[i][1]);
    json_t *eos = json_array_get(json_object_get(t, "added_tokens"), 0);
    assert_int_equal(json_array_size(json_object_get(t, "added_tokens")), 1);
    assert_int_equal(json_integer_value(json_object_get(eos, "id")), RF_SYNTH_EOS_ID);
    assert_string_equal(json_string_value(json_object_get(eos, "content")), "<|endoftext|>");
    assert_true(json_is_true(json_object_get(eos, "special")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(t, "pre_tokenizer"), "type")), "ByteLevel");
    assert_string_equal(json_string_value(json_object_get(json_object_get(t, "decoder"), "type")), "ByteLevel");
    json_decref(t);
    json_t *c = load(state, "tokenizer_config.json");
    assert_string_equal(json_string_value(json_object_get(c, "eos_token")), "<|endoftext|>");
    assert_string_equal(json_string_value(json_object_get(c, "tokenizer_class")), "PreTrainedTokenizerFast");
    json_decref(c);
}

static void test_small_vocab(void **state) {
    char path[4096];
    if (rf_synth_tokenizer_write(*state, RF_SYNTH_TOKENIZER_IDS) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(access(in_dir(path, state, "tokenizer.json"), F_OK), 0);
    /* one id short: an earlier tokenizer is removed, none written */
    if (rf_synth_tokenizer_write(*state, RF_SYNTH_TOKENIZER_IDS - 1) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(access(in_dir(path, state, "tokenizer.json"), F_OK), -1);
    assert_int_equal(access(in_dir(path, state, "tokenizer_config.json"), F_OK), -1);
    assert_int_equal(rf_synth_tokenizer_write(*state, 64), RF_OK);
    assert_int_equal(access(in_dir(path, state, "tokenizer.json"), F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_byte_vocab, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_small_vocab, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
