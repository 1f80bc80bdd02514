/* synth_tokenizer.c -- writes the byte-level tokenizer described in synth_tokenizer.h (jansson). */
#include "synth/synth_tokenizer.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

static const char *const FILES[2] = {"tokenizer.json", "tokenizer_config.json"};

/* Bytes that the byte-level alphabet spells as themselves: '!'..'~', and Latin-1's printable
 * characters except the soft hyphen (0xAD). */
static int printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

/* {character: id} for the 256 bytes, in id order. The non-printable bytes take 256, 257, ... in
 * byte order, so that every token is a visible character (the pre-tokenizer maps bytes the same way). */
static json_t *byte_vocab(void) {
    json_t *vocab = json_object();
    int shifted = 0;
    for (int b = 0; b < 256; b++) {
        unsigned cp = printable(b) ? (unsigned)b : 256u + (unsigned)shifted++;
        char utf8[3] = {0};
        if (cp < 0x80) utf8[0] = (char)cp;
        else { /* two UTF-8 bytes: every code point here is below 0x800 */
            utf8[0] = (char)(0xC0 | (cp >> 6));
            utf8[1] = (char)(0x80 | (cp & 0x3F));
        }
        json_object_set_new(vocab, utf8, json_integer(b));
    }
    return vocab;
}

/* The ByteLevel step as tokenizers names its settings: used as pre-tokenizer, post-processor and
 * decoder. No prefix space: a text's first word is encoded as it stands. */
static json_t *byte_level(int trim_offsets) {
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                     "trim_offsets", trim_offsets, "use_regex", 1);
}

static json_t *tokenizer_json(void) {
    json_t *eos = json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", RF_SYNTH_EOS_ID, "content",
                            RF_SYNTH_EOS_TOKEN, "single_word", 0, "lstrip", 0, "rstrip", 0,
                            "normalized", 0, "special", 1);
    json_t *model = json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:[]}", "type", "BPE",
                              "dropout", "unk_token", "continuing_subword_prefix",
                              "end_of_word_suffix", "fuse_unk", 0, "byte_fallback", 0,
                              "ignore_merges", 0, "vocab", byte_vocab(), "merges");
    return json_pack("{s:s, s:n, s:n, s:[o], s:n, s:o, s:o, s:o, s:o}", "version", "1.0",
                     "truncation", "padding", "added_tokens", eos, "normalizer", "pre_tokenizer",
                     byte_level(1), "post_processor", byte_level(0), "decoder", byte_level(1),
                     "model", model);
}

/* transformers' AutoTokenizer would otherwise pick the tokenizer class of config.json's
 * model_type (Qwen2Tokenizer for qwen3), which brings that model's own pre-tokenizer rules; this
 * one is plain tokenizer.json. clean_up_tokenization_spaces off: decode must give the text back. */
static json_t *tokenizer_config_json(void) {
    return json_pack("{s:s, s:s, s:b}", "tokenizer_class", "PreTrainedTokenizerFast", "eos_token",
                     RF_SYNTH_EOS_TOKEN, "clean_up_tokenization_spaces", 0);
}

static int write_json(const char *dir, const char *name, json_t *j) {
    rf_check(j, "json_pack failed for %s", name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = json_dumps(j, JSON_INDENT(2));
    rf_check(text, "json_dumps failed for %s", name);
    const void *parts[1] = {text};
    size_t size = strlen(text);
    int rc = rf_atomic_write(path, 1, parts, &size);
    free(text);
    json_decref(j);
    return rc;
}

int rf_synth_tokenizer_write(const char *dir, int vocab) {
    if (vocab < RF_SYNTH_TOKENIZER_IDS) {
        for (int i = 0; i < 2; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
            if (unlink(path) != 0 && errno != ENOENT)
                return rf_fail("cannot remove %s: %s", path, strerror(errno));
        }
        return RF_OK;
    }
    if (write_json(dir, FILES[0], tokenizer_json()) != RF_OK) return RF_ERR;
    return write_json(dir, FILES[1], tokenizer_config_json());
}
