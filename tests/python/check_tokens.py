"""check_tokens.py -- the synthetic model's tokenizer and scripts/tokenize.py, checked with the real
clients (tokenizers, transformers).

usage: check_tokens.py --model DIR --tokenize SCRIPT --calib TEXT --eval TEXT --work DIR

DIR is a model `riverforge synth` wrote with a vocab of 257 or more. Prints one line per check
("ok - ..." or "not ok - ...") and exits 1 when one fails:
  1. tokenizers (Tokenizer.from_file) and transformers (AutoTokenizer.from_pretrained on DIR) load
     DIR's tokenizer; both encode the shipped texts and a sample of every byte class (multi-byte
     UTF-8, control characters, Latin-1's soft hyphen) to the text's UTF-8 bytes, one id each, and
     decode them back to the same text; "<|endoftext|>" is the EOS, id 256;
  2. SCRIPT on the two texts writes 4 bytes per token, little-endian, equal to the tokenizer's own
     encoding of each text with the EOS between them (and without it under --no-separator);
  3. the same with a tokenizer that has merges (a byte-level BPE that `tokenizers` trains here on
     the calibration text, "</s>" its EOS): fewer tokens than bytes, the ids still its own encoding;
     its config.json's vocab_size is enforced;
  4. bad input: no tokenizer, a missing, empty or non-UTF-8 text, an id past vocab_size: exit 2,
     one line "tokenize.py: error: ..." naming the file or flag, and no output file (nor .tmp).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    failures += 0 if ok else 1


def run_tokenize(script, *args):
    r = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def read_u32(path):
    raw = open(path, "rb").read()
    return len(raw), np.frombuffer(raw, dtype="<u4").tolist()


def main():
    p = argparse.ArgumentParser()
    for flag in ("--model", "--tokenize", "--calib", "--eval", "--work"):
        p.add_argument(flag, required=True)
    a = p.parse_args()
    calib = open(a.calib, encoding="utf-8").read()
    evl = open(a.eval, encoding="utf-8").read()
    sample = "naïve café – 東京 😀 tab\there\r\nNUL\x00 DEL\x7f soft\xadhyphen  two  spaces "

    # 1. the synthetic tokenizer in both clients
    fast = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(a.model)
    for name, text in (("calibration text", calib), ("evaluation text", evl), ("sample", sample)):
        ids = fast.encode(text, add_special_tokens=False).ids
        check(ids == list(text.encode("utf-8")), f"tokenizers: the {name}'s ids are its UTF-8 bytes")
        check(fast.decode(ids) == text, f"tokenizers: the {name} decodes back")
        auto_ids = auto(text, add_special_tokens=False)["input_ids"]
        check(auto_ids == ids, f"AutoTokenizer ({type(auto).__name__}): the {name}'s ids are the same")
        check(auto.decode(auto_ids) == text, f"AutoTokenizer: the {name} decodes back")
    check(auto.eos_token == "<|endoftext|>" and auto.eos_token_id == 256 and len(auto) == 257,
          f"AutoTokenizer: EOS {auto.eos_token!r} id {auto.eos_token_id}, {len(auto)} tokens")

    # 2. tokenize.py with the synthetic tokenizer
    want = list(calib.encode()) + [256] + list(evl.encode())
    out = os.path.join(a.work, "synth.u32")
    rc, so, se = run_tokenize(a.tokenize, "--tokenizer", a.model, "--out", out, a.calib, a.eval)
    check(rc == 0, f"tokenize.py on the shipped texts: exit {rc} {se.strip()}")
    size, got = read_u32(out)
    check(size == 4 * len(want) and got == want,
          f"{size} bytes = 4 x {len(want)} tokens, the bytes of each text with 256 between them")
    check(f"wrote {len(want)} tokens" in so and "largest id 256" in so and "vocab_size 1024" in so,
          f"it says what it wrote: {so.strip()}")
    rc, so, se = run_tokenize(a.tokenize, "--tokenizer", os.path.join(a.model, "tokenizer.json"),
                              "--out", out, "--no-separator", a.calib, a.eval)
    size, got = read_u32(out)
    check(rc == 0 and got == list(calib.encode()) + list(evl.encode()),
          "--tokenizer FILE --no-separator: the texts' bytes back to back")

    # 3. a tokenizer with merges, trained here
    bpe_dir = os.path.join(a.work, "bpe")
    os.makedirs(bpe_dir, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator([calib], trainers.BpeTrainer(
        vocab_size=600, special_tokens=["</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bpe.save(os.path.join(bpe_dir, "tokenizer.json"))
    with open(os.path.join(bpe_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": {"content": "</s>", "special": True}}, f)
    with open(os.path.join(bpe_dir, "config.json"), "w") as f:
        json.dump({"vocab_size": bpe.get_vocab_size()}, f)
    eos = bpe.token_to_id("</s>")
    want = bpe.encode(calib).ids + [eos] + bpe.encode(evl).ids
    rc, so, se = run_tokenize(a.tokenize, "--tokenizer", bpe_dir, "--out", out, a.calib, a.eval)
    size, got = read_u32(out)
    check(rc == 0 and got == want and len(want) < 0.75 * (len(calib) + len(evl)),
          f"a BPE with merges: {len(want)} tokens for {len(calib) + len(evl)} bytes, its own "
          f"encoding with '</s>' (id {eos}) between the texts")

    # 4. bad input
    empty = os.path.join(a.work, "empty.txt")
    open(empty, "w").close()
    latin1 = os.path.join(a.work, "latin1.txt")
    open(latin1, "wb").write("caf\xe9".encode("latin-1"))
    with open(os.path.join(bpe_dir, "config.json"), "w") as f:
        json.dump({"vocab_size": 300}, f)
    bad = os.path.join(a.work, "bad.u32")
    cases = [
        ("no tokenizer", ["--tokenizer", a.work, a.calib], "--tokenizer"),
        ("a missing text", ["--tokenizer", a.model, os.path.join(a.work, "none.txt")], "none.txt"),
        ("an empty text", ["--tokenizer", a.model, empty], "no tokens"),
        ("two empty texts (a separator alone)", ["--tokenizer", a.model, empty, empty], "no tokens"),
        ("a text that is not UTF-8", ["--tokenizer", a.model, a.calib, latin1], "latin1.txt: not UTF-8"),
        ("ids past config.json's vocab_size", ["--tokenizer", bpe_dir, a.calib], "vocab_size 300"),
        ("the EOS past --vocab-size", ["--tokenizer", a.model, "--vocab-size", "256", a.calib], "'<|endoftext|>'"),
    ]
    for what, args, needle in cases:
        rc, so, se = run_tokenize(a.tokenize, "--out", bad, *args)
        lines = se.strip().splitlines()
        check(rc == 2 and len(lines) == 1 and lines[0].startswith("tokenize.py: error: ")
              and needle in lines[0] and not os.path.exists(bad) and not os.path.exists(bad + ".tmp"),
              f"{what}: exit {rc}, {lines}, no output")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
