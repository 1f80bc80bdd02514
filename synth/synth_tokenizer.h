/* synth_tokenizer.h -- the tokenizer of a synthetic model: DIR/tokenizer.json and
 * DIR/tokenizer_config.json, as Hugging Face's `tokenizers` (Tokenizer.from_file) and transformers'
 * AutoTokenizer load them, so that text -> tokens -> calibrate -> eval needs no download.
 *
 * A byte-level BPE with no merges: token id b (0..255) is the byte b, spelled in the byte-level
 * alphabet that GPT-2, Llama 3 and Qwen use (printable bytes stand for themselves, the other 68
 * take the code points 256..323 in byte order). Every UTF-8 text encodes to its bytes, one token
 * each, and decodes back exactly. Id 256 is the special token "<|endoftext|>", the end of a
 * document (scripts/tokenize.py puts it between documents). Ids 257..vocab-1 have embedding rows
 * but no token: they are never produced. Merges would only shorten the sequences; a synthetic
 * model's random weights give no meaning to either.
 */
#ifndef RF_SYNTH_TOKENIZER_H
#define RF_SYNTH_TOKENIZER_H

#define RF_SYNTH_EOS_ID 256
#define RF_SYNTH_EOS_TOKEN "<|endoftext|>"
/* The ids the tokenizer produces: the 256 bytes and the EOS. */
#define RF_SYNTH_TOKENIZER_IDS 257

/* Writes DIR/tokenizer.json and DIR/tokenizer_config.json (each atomically) when vocab >=
 * RF_SYNTH_TOKENIZER_IDS. With a smaller vocab it writes neither and removes those an earlier
 * synth left in DIR (their ids would not fit the embedding). RF_ERR naming the file on failure. */
int rf_synth_tokenizer_write(const char *dir, int vocab);

#endif
