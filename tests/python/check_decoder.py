"""check_decoder.py -- riverforge's decoder forward pass against transformers (the real client).

usage: check_decoder.py --riverforge "CMD..." --work DIR

For a tiny random Qwen3 (q/k norms, tied head), a tiny Llama (q/k/v/o biases, llama3 RoPE
scaling, untied head) and a tiny Qwen2 (q/k/v biases, linear RoPE scaling), each saved with
save_pretrained as float32 safetensors, and a fixed batch of random token ids written as a token
file (little-endian uint32):
  (a) `riverforge eval --dump-logits` gives transformers' logits on the batch to 1e-4 relative
      (max |diff| / max |logit|);
  (c) its perplexity is exp(transformers' mean loss with labels = input ids) to 1e-4 relative;
  (b) every /xtx/NAME that `riverforge calibrate` writes (the batch's windows) agrees with
      X^T X / N collected by forward pre-hooks on the model's nn.Linear layers, to 1e-5 relative
      (max |diff| / max |XTX|), and q/k/v (gate/up) share one dataset.
And the Qwen3 model with every tensor renamed under InternVL's `language_model.` prefix gives the
same perplexity. CMD is the command that runs riverforge (an mpirun line with -np 2 here, so that
the windows are split over ranks). One line per check, "ok - ..." or "not ok - ..."; exit 1 when
one fails.

Weights are drawn with a standard deviation of 0.2 (transformers' default is 0.02), so that the
logits are far from uniform and a wrong RoPE, norm or mask moves them well past the tolerance.
Both sides compute in float32; they differ by the order of float32 sums, ~1e-6 relative here.
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys

import numpy as np
import torch
import h5py
from safetensors.numpy import load_file, save_file
from transformers import (AutoModelForCausalLM, LlamaConfig, Qwen2Config, Qwen3Config)

failures = 0
NSEQ, T, VOCAB = 3, 48, 211


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    failures += 0 if ok else 1


def configs():
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  initializer_range=0.2, rms_norm_eps=1e-6)
    yield "qwen3", Qwen3Config(**common, head_dim=16, rope_theta=1e6, tie_word_embeddings=True)
    yield "llama", LlamaConfig(**common, attention_bias=True, tie_word_embeddings=False,
                               rope_theta=5e5,
                               rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                             "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                             "original_max_position_embeddings": 32})
    yield "qwen2", Qwen2Config(**common, tie_word_embeddings=False, rope_theta=1e4,
                               rope_scaling={"rope_type": "linear", "factor": 2.0})


def riverforge(cmd, args):
    p = subprocess.run(shlex.split(cmd) + args, capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout + p.stderr, file=sys.stderr)
    return p


def eval_json(cmd, model, tokens, extra=()):
    p = riverforge(cmd, ["eval", "--model", model, "--tokens", tokens, "--seqlen", str(T),
                         "--json", *extra])
    return json.loads(p.stdout) if p.returncode == 0 else None


def hooked_xtx(model, ids):
    """X^T X / N of the input of every nn.Linear inside the decoder layers, in float64."""
    sums, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear) and ".layers." in name:
            def pre(mod, args, name=name):
                x = args[0].reshape(-1, args[0].shape[-1]).double()
                sums[name] = sums.get(name, 0) + x.T @ x
            hooks.append(mod.register_forward_pre_hook(pre))
    with torch.no_grad():
        model(input_ids=ids)
    for h in hooks:
        h.remove()
    return {k: (v / ids.numel()).numpy() for k, v in sums.items()}


def check_xtx(cmd, name, model, model_dir, tokens, ids, work):
    out = os.path.join(work, name + "-xtx.h5")
    p = riverforge(cmd, ["calibrate", "--model", model_dir, "--tokens", tokens, "--seqlen", str(T),
                         "--out", out])
    check(p.returncode == 0, f"{name}: riverforge calibrate runs")
    if p.returncode != 0:
        return
    want = hooked_xtx(model, ids)
    worst, missing = 0.0, []
    with h5py.File(out, "r") as f:
        for k, ref in want.items():
            if "xtx/" + k not in f:
                missing.append(k)
                continue
            got = f["xtx/" + k][()]
            worst = max(worst, float(np.abs(got - ref).max() / np.abs(ref).max()))
        check(not missing and len(f["xtx"]) == len(want),
              f"{name}: xtx.h5 holds the {len(want)} matrices (missing: {missing[:3]})")
        check(worst <= 1e-5, f"{name}: XTX agrees with forward hooks (max rel diff {worst:.2e} <= 1e-5)")
        n = f["xtx/model.layers.0.self_attn.q_proj"].attrs["nsamples"]
        check(n == ids.numel(), f"{name}: nsamples {n} is the number of tokens")
        shared = (f["xtx/model.layers.1.self_attn.q_proj"].id == f["xtx/model.layers.1.self_attn.v_proj"].id
                  and f["xtx/model.layers.1.mlp.gate_proj"].id == f["xtx/model.layers.1.mlp.up_proj"].id)
        check(shared, f"{name}: q/k/v and gate/up share their datasets (hard links)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--riverforge", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    ids = torch.randint(0, VOCAB, (NSEQ, T))
    tokens = os.path.join(a.work, "tokens.bin")
    ids.numpy().astype("<u4").tofile(tokens)

    for name, cfg in configs():
        model_dir = os.path.join(a.work, name)
        cfg._attn_implementation = "eager"
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
        with torch.no_grad():  # norms start at 1: give them spread too
            for n, p in model.named_parameters():
                if n.endswith("norm.weight"):
                    p.add_(0.1 * torch.randn_like(p))
        model.save_pretrained(model_dir)
        with torch.no_grad():
            out = model(input_ids=ids, labels=ids)
        want_logits = out.logits.numpy()
        want_ppl = math.exp(out.loss.item())

        dump = os.path.join(a.work, name + "-logits.safetensors")
        got = eval_json(a.riverforge, model_dir, tokens, ["--dump-logits", dump])
        check(got is not None, f"{name}: riverforge eval runs")
        if got is None:
            continue
        logits = load_file(dump)["logits"]
        check(logits.shape == want_logits.shape, f"{name}: logits shape {logits.shape}")
        rel = float(np.abs(logits - want_logits).max() / np.abs(want_logits).max())
        check(rel <= 1e-4, f"{name}: logits agree with transformers (max rel diff {rel:.2e} <= 1e-4)")
        prel = abs(got["perplexity"] - want_ppl) / want_ppl
        check(prel <= 1e-4, f"{name}: perplexity {got['perplexity']:.6f} vs exp(loss) "
                            f"{want_ppl:.6f} (rel diff {prel:.2e} <= 1e-4)")
        check(got["tokens"] == NSEQ * (T - 1) and got["sequences"] == NSEQ,
              f"{name}: {got['sequences']} sequences, {got['tokens']} predicted tokens")
        if name != "qwen2":
            check_xtx(a.riverforge, name, model, model_dir, tokens, ids, a.work)

        if name == "qwen3":  # InternVL's prefix: the same model under language_model.
            pre = os.path.join(a.work, "qwen3-prefixed")
            os.makedirs(pre, exist_ok=True)
            tensors = load_file(os.path.join(model_dir, "model.safetensors"))
            save_file({"language_model." + k: v for k, v in tensors.items()},
                      os.path.join(pre, "model.safetensors"))
            with open(os.path.join(model_dir, "config.json")) as f, \
                    open(os.path.join(pre, "config.json"), "w") as g:
                g.write(f.read())
            p2 = eval_json(a.riverforge, pre, tokens)
            check(p2 is not None and p2["perplexity"] == got["perplexity"],
                  "qwen3 under language_model.: the same perplexity")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
