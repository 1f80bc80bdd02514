"""check_export.py -- riverforge's aqlm-hf export, checked with the real client.

usage: check_export.py --model SRC --dense DENSE --export EXPORT --checkpoint CKPT.h5 --work DIR

SRC is the source Hugging Face model, DENSE what `riverforge dequantize` wrote from CKPT.h5,
EXPORT what `riverforge export --format aqlm-hf` wrote from it. Checks, printing one line each
("ok - ..." or "not ok - ...") and exiting 1 when one fails:
  1. h5py reads CKPT.h5: every /matrices/NAME's codes (after the sign mapping), codebooks and
     scales equal EXPORT's NAME.codes, NAME.codebooks and NAME.scales, and its configuration is
     config.json's quantization_config;
  2. transformers loads EXPORT (AutoModelForCausalLM.from_pretrained) with one aqlm
     QuantizedLinear per quantized matrix and plain Linear layers for the rest;
  3. the dense model -- SRC's config.json, DENSE's dequantized matrices and SRC's other tensors,
     assembled in DIR -- gives the same logits on a fixed batch of token ids.

Tolerance of 3: both models run in float32 on the same float16 codebooks and scales, so they
differ only in the order of float32 sums (the dense matmul against aqlm's codebook look-ups), a
few float32 ulps. The bound is float16's: |logits_export - logits_dense| <= 2^-10 x max|logits|
(2^-10 is the spacing of float16 numbers in [1, 2)), far above that float32 noise and far below
what any wrong code, codebook, scale or layout gives (the quantization error itself is ~1e-1 of
the logits here).
"""
import argparse
import json
import os
import shutil
import sys

import h5py
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    failures += 0 if ok else 1


def load_tensors(folder):
    """Every tensor of a Hugging Face folder (model.safetensors, or the files its index names)."""
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        files = [single]
    else:
        with open(os.path.join(folder, "model.safetensors.index.json")) as f:
            files = sorted({os.path.join(folder, v) for v in json.load(f)["weight_map"].values()})
    tensors = {}
    for path in files:
        with safe_open(path, framework="pt") as f:
            for name in f.keys():
                tensors[name] = f.get_tensor(name)
    return tensors


def signed_codes(codes, nbits):
    """The checkpoint's unsigned codes as aqlm stores them: c - 2^nbits when c >= 2^(nbits-1)."""
    c = codes.astype(np.int64)
    return np.where(c >= 2 ** (nbits - 1), c - 2 ** nbits, c)


def check_checkpoint(ckpt, exported, qc):
    """1: the export holds what the checkpoint holds."""
    with h5py.File(ckpt, "r") as f:
        names = sorted(f["matrices"].keys())
        same, configs = 0, set()
        for name in names:
            g = f["matrices"][name]
            nbits = int(g.attrs["nbits_per_codebook"])
            configs.add((int(g.attrs["num_codebooks"]), nbits, int(g.attrs["out_group_size"]),
                         int(g.attrs["in_group_size"])))
            codes = exported[name + ".codes"].numpy()
            want_dtype = np.int8 if nbits <= 8 else np.int16
            same += (codes.dtype == want_dtype
                     and np.array_equal(codes.astype(np.int64), signed_codes(g["codes"][()], nbits))
                     and np.array_equal(exported[name + ".codebooks"].numpy(), g["codebooks"][()])
                     and np.array_equal(exported[name + ".scales"].numpy().reshape(-1),
                                        g["scales"][()]))
    check(len(names) > 0 and same == len(names),
          f"h5py: codes, codebooks and scales of {same} of {len(names)} matrices equal the export's")
    want = (qc["num_codebooks"], qc["nbits_per_codebook"], qc["out_group_size"], qc["in_group_size"])
    check(configs == {want}, f"the checkpoint's configuration {sorted(configs)} is "
          f"quantization_config's {want}")
    return names


def main():
    p = argparse.ArgumentParser()
    for flag in ("--model", "--dense", "--export", "--checkpoint", "--work"):
        p.add_argument(flag, required=True)
    a = p.parse_args()
    torch.manual_seed(0)

    with open(os.path.join(a.export, "config.json")) as f:
        qc = json.load(f)["quantization_config"]
    exported = load_tensors(a.export)
    names = check_checkpoint(a.checkpoint, exported, qc)

    # 2: transformers builds aqlm's layers from quantization_config and loads the tensors.
    from aqlm import QuantizedLinear
    quantized = AutoModelForCausalLM.from_pretrained(a.export, dtype=torch.float32)
    layers = {n for n, m in quantized.named_modules() if isinstance(m, QuantizedLinear)}
    check(layers == set(names), f"transformers built {len(layers)} QuantizedLinear layers, "
          f"one per quantized matrix ({len(names)})")
    dense_linears = [n for n, m in quantized.named_modules()
                     if type(m) is torch.nn.Linear and n not in names]
    check("lm_head" in dense_linears, f"{len(dense_linears)} linear layers stay dense, lm_head "
          "among them")

    # 3: the dense model built from `riverforge dequantize`.
    folder = os.path.join(a.work, "dense-model")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(a.model, "config.json"), folder)
    tensors = load_tensors(a.model)
    dequantized = load_tensors(a.dense)
    tensors.update(dequantized)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(folder, "model.safetensors"),
              metadata={"format": "pt"})
    dense = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    check(sorted(n[:-len(".weight")] for n in dequantized) == names,
          "the dense model holds the dequantized matrices")

    vocab = dense.config.vocab_size
    ids = torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = dense(input_ids=ids).logits
        got = quantized(input_ids=ids).logits
        source = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)(input_ids=ids).logits
    scale = want.abs().max().item()
    diff = (got - want).abs().max().item()
    check(got.shape == want.shape and diff <= 2.0 ** -10 * scale,
          f"logits of the export and of the dense model agree: max |diff| {diff:.3g}, "
          f"bound 2^-10 x {scale:.3g}")
    # Against the unquantized source the difference is the quantization error: far above the bound
    # (a check that the comparison above is not between two copies of the source).
    qerr = (source - want).abs().max().item()
    check(qerr > 2.0 ** -10 * scale, f"and differ from the unquantized model's (max |diff| {qerr:.3g})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
