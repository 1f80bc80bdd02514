"""check_calibrated.py -- calibrated statistics give a better quantized model (issue 10's check).

usage: check_calibrated.py --riverforge "CMD..." --tokenizer DIR --tokenize tokenize.py
                           --calib TEXT --eval TEXT --work DIR

On a random model quantization barely moves the perplexity (it sits near the vocabulary size), so
this trains one that has learned something: a tiny Qwen3 (2 layers, hidden 64, vocab 257 = the
byte-level tokenizer of `riverforge synth`, found in DIR) on the calibration text, with a fixed
seed and step count, on one CPU thread, saved with save_pretrained (float32 safetensors) beside
the tokenizer's files. The texts become token files through scripts/tokenize.py. Then, with the
real binary (CMD, an mpirun line):
  `calibrate` on the calibration tokens; `run` at 1 codebook of 2^6 codes per group of 8 weights
  (0.75 bit per weight, where the quantization error is plain), once with --xtx and once
  without, the same seed; `eval --checkpoint` of each on the evaluation tokens;
and asserts that the dense perplexity is exp(transformers' mean loss) on the same windows (1e-4
relative) and that dense < quantized with XTX < quantized without. One line per check, "ok - ..."
or "not ok - ...", then the figures; exit 1 when a check fails.
"""
import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

T = 128            # tokens per window: training, calibration and evaluation
STEPS, BATCH, LR = 200, 16, 3e-3
NCALIB = 64        # calibration windows (8192 tokens)
QUANT = ["--num_codebooks", "1", "--nbits_per_codebook", "6", "--in_group_size", "8",
         "--seed", "7"]

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    failures += 0 if ok else 1


def sh(cmd, what):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout + p.stderr, file=sys.stderr)
    check(p.returncode == 0, what)
    return p


def train(ids):
    """A tiny Qwen3 fitted to `ids` (next-byte prediction on random windows)."""
    torch.manual_seed(0)
    cfg = Qwen3Config(vocab_size=257, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                      max_position_embeddings=T, rope_theta=1e4, tie_word_embeddings=True,
                      rms_norm_eps=1e-6)
    cfg._attn_implementation = "eager"
    model = Qwen3ForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    data = torch.from_numpy(ids.astype(np.int64))
    g = torch.Generator().manual_seed(1)
    model.train()
    for step in range(STEPS):
        start = torch.randint(0, len(data) - T, (BATCH,), generator=g)
        batch = torch.stack([data[s:s + T] for s in start.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"# step {step}: training loss {loss.item():.4f}", flush=True)
    return model.eval()


def eval_json(cmd, model, tokens, extra=()):
    p = subprocess.run(shlex.split(cmd) + ["eval", "--model", model, "--tokens", tokens,
                                           "--seqlen", str(T), "--json", *extra],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout + p.stderr, file=sys.stderr)
        return None
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    for a in ("riverforge", "tokenizer", "tokenize", "calib", "eval", "work"):
        ap.add_argument("--" + a, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rf = shlex.split(a.riverforge)

    def w(name):
        return os.path.join(a.work, name)

    tok = {}
    for part, text in (("calib", a.calib), ("eval", a.eval)):
        tok[part] = w(part + ".u32")
        sh([sys.executable, a.tokenize, "--tokenizer", os.path.join(a.tokenizer, "tokenizer.json"),
            "--vocab-size", "257", "--out", tok[part], text], f"tokenize.py {part} text")

    model = train(np.fromfile(tok["calib"], dtype="<u4"))
    mdir = w("model")
    model.save_pretrained(mdir)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.tokenizer, f), mdir)

    # transformers' perplexity on the windows `eval` takes: every whole window of T tokens
    ev = np.fromfile(tok["eval"], dtype="<u4").astype(np.int64)
    wins = torch.from_numpy(ev[: len(ev) // T * T].reshape(-1, T))
    with torch.no_grad():  # every window predicts T-1 tokens: the mean of the means is the mean
        losses = [model(input_ids=b, labels=b).loss.item() for b in wins.split(64)]
        sizes = [len(b) for b in wins.split(64)]
    want = math.exp(sum(l * n for l, n in zip(losses, sizes)) / len(wins))

    xtx = w("xtx.h5")
    sh(rf + ["calibrate", "--model", mdir, "--tokens", tok["calib"], "--seqlen", str(T),
             "--nsamples", str(NCALIB), "--out", xtx], f"calibrate on {NCALIB} windows of {T}")
    ppl = {}
    for name, extra in (("with XTX", ["--xtx", xtx]), ("without XTX", [])):
        out = w("out-" + name.split()[0])
        sh(rf + ["run", "--model", mdir, "--out", out, *QUANT, *extra], f"run {name}")
        got = eval_json(a.riverforge, mdir, tok["eval"],
                        ["--checkpoint", os.path.join(out, "checkpoint.h5")])
        check(got is not None and "quantized" in got, f"eval --checkpoint ({name}) reports both")
        if got is None or "quantized" not in got:
            sys.exit(1)
        ppl["dense"] = got["perplexity"]
        ppl[name] = got["quantized"]["perplexity"]

    rel = abs(ppl["dense"] - want) / want
    check(rel <= 1e-4, f"dense perplexity {ppl['dense']:.6f} vs transformers' exp(mean loss) "
                       f"{want:.6f} on {len(wins)} windows (rel diff {rel:.2e} <= 1e-4)")
    check(ppl["dense"] < ppl["with XTX"] < ppl["without XTX"],
          f"dense {ppl['dense']:.4f} < quantized with calibrated XTX {ppl['with XTX']:.4f} "
          f"< without {ppl['without XTX']:.4f}")
    print("# figures: " + json.dumps(ppl))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
