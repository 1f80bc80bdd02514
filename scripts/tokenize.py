#!/usr/bin/env python3
"""tokenize.py -- text files to a riverforge token file (docs/formats.md, "Token files").

usage: tokenize.py --tokenizer DIR|tokenizer.json --out FILE.u32 [--vocab-size N]
                   [--no-separator] TEXT...

Encodes each TEXT (UTF-8) with the Hugging Face tokenizer (the `tokenizers` package; DIR is a model
folder holding tokenizer.json) and writes the ids as little-endian uint32, nothing else, documents
in the order given. No BOS or other special token is added; between two documents goes the
tokenizer's end-of-document token: tokenizer_config.json's `eos_token` beside tokenizer.json (a
synthetic model's "<|endoftext|>", Qwen's, Llama's "</s>"). With --no-separator, or when there is
no eos_token, documents are concatenated as they are. One line tells what was written: the count,
the largest id, the vocabulary and the separator.

Every id must fit the model: below --vocab-size, or below config.json's vocab_size when the
tokenizer sits in a model folder (an id past the embedding would fail in `riverforge calibrate`
and `eval` far from its cause). Bad input -- no tokenizer, a text that is missing or not UTF-8, an
id that does not fit, no tokens at all -- is one line "tokenize.py: error: ..." naming the file or
flag, exit 2, and no FILE. FILE appears complete or not at all (written to FILE.tmp, renamed).
"""
import os
import sys

# This file shares its name with the standard library's `tokenize` module, which linecache (every
# traceback) and inspect import: keep this script's folder off the import path.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import json  # noqa: E402
from array import array  # noqa: E402

try:
    from tokenizers import Tokenizer
except ImportError:
    print("tokenize.py: error: no `tokenizers` package in this Python: run it with the project's, "
          "$(scripts/pyenv.sh)/bin/python scripts/tokenize.py ...", file=sys.stderr)
    sys.exit(2)

UINT32_MAX = 0xFFFFFFFF


class UserError(Exception):
    """Bad input: its message is the one line the user sees."""


def tokenizer_paths(arg):
    """(tokenizer.json, its folder) from --tokenizer DIR or FILE."""
    path = os.path.join(arg, "tokenizer.json") if os.path.isdir(arg) else arg
    if not os.path.isfile(path):
        raise UserError(f"--tokenizer {arg}: no such file {path}" if path != arg
                        else f"--tokenizer {arg}: no such file or folder")
    return path, os.path.dirname(os.path.abspath(path))


def read_json(path):
    """The JSON object in PATH, or None when there is no such file."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: not readable JSON ({e})") from e


def separator(tokenizer, folder):
    """(id, token) of the end-of-document token, or (None, reason) when there is none."""
    config = read_json(os.path.join(folder, "tokenizer_config.json")) or {}
    eos = config.get("eos_token")
    if isinstance(eos, dict):  # older transformers write {"content": ..., "special": ...}
        eos = eos.get("content")
    if not eos:
        return None, "no eos_token in tokenizer_config.json"
    eos_id = tokenizer.token_to_id(eos)
    if eos_id is None:
        raise UserError(f"{os.path.join(folder, 'tokenizer_config.json')}: eos_token {eos!r} "
                        f"is not a token of tokenizer.json")
    return eos_id, eos


def model_vocab_size(args, folder):
    """(vocab size every id must be below, where it comes from)."""
    if args.vocab_size is not None:
        if args.vocab_size <= 0:
            raise UserError(f"--vocab-size {args.vocab_size}: must be positive")
        return args.vocab_size, "--vocab-size"
    config = read_json(os.path.join(folder, "config.json")) or {}
    # InternVL and other vision-language models keep the language model's settings apart
    for section in (config, config.get("text_config") or {}, config.get("llm_config") or {}):
        if isinstance(section.get("vocab_size"), int):
            return section["vocab_size"], os.path.join(folder, "config.json")
    return None, None


def read_text(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}") from e
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte {e.start}: 0x{raw[e.start]:02x})") from e


def tokenize(args):
    tok_path, folder = tokenizer_paths(args.tokenizer)
    try:
        tokenizer = Tokenizer.from_file(tok_path)
    except Exception as e:  # tokenizers raises a bare Exception for a file it cannot parse
        raise UserError(f"--tokenizer {tok_path}: not a tokenizers file ({e})") from e
    sep_id, sep = (None, "--no-separator") if args.no_separator else separator(tokenizer, folder)
    vocab, vocab_from = model_vocab_size(args, folder)
    if sep_id is not None and vocab is not None and sep_id >= vocab:
        raise UserError(f"separator {sep!r}: token id {sep_id} does not fit the vocab_size "
                        f"{vocab} of {vocab_from} (--no-separator leaves it out)")

    ids = array("I")  # C unsigned int: 4 bytes on every platform riverforge builds on
    assert ids.itemsize == 4
    text_tokens = 0  # separators alone are no text
    for i, path in enumerate(args.text):
        doc = tokenizer.encode(read_text(path), add_special_tokens=False).ids
        if i > 0 and sep_id is not None:
            ids.append(sep_id)
        bad = [t for t in doc if t > UINT32_MAX or (vocab is not None and t >= vocab)]
        if bad:
            limit = f"the vocab_size {vocab} of {vocab_from}" if vocab is not None else "uint32"
            raise UserError(f"{path}: token id {bad[0]} ({tokenizer.id_to_token(bad[0])!r}) does "
                            f"not fit {limit}")
        ids.extend(doc)
        text_tokens += len(doc)
    if not text_tokens:
        raise UserError(f"no tokens: no text in {', '.join(args.text)}")

    if sys.byteorder != "little":
        ids.byteswap()
    tmp = args.out + ".tmp"
    try:
        with open(tmp, "wb") as f:
            ids.tofile(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.out)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise UserError(f"--out {args.out}: {e.strerror}") from e
    if sys.byteorder != "little":
        ids.byteswap()
    docs = "1 document" if len(args.text) == 1 else (
        f"{len(args.text)} documents, " + (f"joined with {sep!r} (id {sep_id})" if sep_id is not None
                                            else f"concatenated ({sep})"))
    print(f"tokenize.py: wrote {len(ids)} tokens to {args.out} ({docs}); largest id {max(ids)}, tokenizer vocab "
          f"{tokenizer.get_vocab_size(with_added_tokens=True)}"
          + (f", model vocab_size {vocab}" if vocab is not None else ""))


def main():
    p = argparse.ArgumentParser(prog="tokenize.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", required=True, metavar="DIR|tokenizer.json",
                   help="a model folder with tokenizer.json, or the file itself")
    p.add_argument("--out", required=True, metavar="FILE.u32", help="the token file to write")
    p.add_argument("--vocab-size", type=int, metavar="N",
                   help="ids must be below N (default: config.json's vocab_size beside the tokenizer)")
    p.add_argument("--no-separator", action="store_true",
                   help="concatenate documents without the end-of-document token")
    p.add_argument("text", nargs="+", metavar="TEXT", help="UTF-8 text files, one document each")
    args = p.parse_args()
    try:
        tokenize(args)
    except UserError as e:
        print(f"tokenize.py: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
