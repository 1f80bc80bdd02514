#!/usr/bin/env bash
# make_corpus.sh RIVERFORGE [DIR] -- writes the harnesses' seed corpus into DIR, by default
# tests/fuzz/corpus/ (checked in; rerun it when a format changes), one folder per harness.
# RIVERFORGE is the built binary (build/mpi/riverforge). The damaged seeds that stand for
# findings (shard_gate/header_tab.h5) are kept: they are not remade here.
#   safetensors/  files of a few tensors (F32, F16, BF16, I8, an empty one, __metadata__) and the
#                 weights of a 1-layer synthetic model (synth, hidden 16)
#   st_index/     indexes over the shards fuzz_st_index.c writes, as transformers writes them
#   hf_config/    config.json of Qwen3 (synth's), of InternVL (llm_config, vision_config) and of a
#                 text_config wrapper
#   shard_gate/   an AQLM shard and a shared-ViT shard of a run on that model
#   h5_probe/     its xtx.h5 and the same two shards
set -euo pipefail
R=$(realpath "$1")
C=${2:-$(cd "$(dirname "$0")" && pwd)/corpus}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$C"/{safetensors,st_index,hf_config,shard_gate,h5_probe}

python3 - "$C" <<'PY'
import json, struct, sys
c = sys.argv[1]
def st(path, tensors, meta=None):
    head, data = {}, b""
    if meta is not None: head["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        head[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(head, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    open(f"{c}/safetensors/{path}", "wb").write(struct.pack("<Q", len(h)) + h + data)
st("f32.safetensors", [("a.weight", "F32", [2, 2], struct.pack("<4f", 1, -2, 3.5, 0))], {"format": "pt"})
st("halves.safetensors", [("h.weight", "F16", [3], struct.pack("<3H", 0x3c00, 0x7bff, 0x8001)),
                          ("b.weight", "BF16", [1, 2], struct.pack("<2H", 0x3f80, 0xc000))])
st("ints.safetensors", [("codes", "I8", [4], bytes([1, 255, 0, 7])), ("empty", "F32", [0, 3], b""),
                        ("scalar", "I64", [], struct.pack("<q", -1))])
st("nan.safetensors", [("n.weight", "F32", [2], struct.pack("<2f", 1, float("nan")))])
st("meta_only.safetensors", [], {"format": "pt"})

idx = lambda wm: json.dumps({"metadata": {"total_size": 36}, "weight_map": wm}, indent=2, sort_keys=True) + "\n"
one, two = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
open(f"{c}/st_index/two_shards.json", "w").write(idx({"a.weight": one, "b.weight": one, "c.weight": two}))
open(f"{c}/st_index/one_shard.json", "w").write(idx({"c.weight": two}))
open(f"{c}/st_index/other.json", "w").write(idx({"a.weight": "other.safetensors"}))

vit = {"num_hidden_layers": 24, "hidden_size": 1024, "intermediate_size": 4096}
llm = {"num_hidden_layers": 28, "hidden_size": 1024, "intermediate_size": 3072,
       "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936}
json.dump({"model_type": "internvl_chat", "architectures": ["InternVLChatModel"],
           "llm_config": llm, "vision_config": vit}, open(f"{c}/hf_config/internvl.json", "w"), indent=2)
json.dump({"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
           "text_config": dict(llm, head_dim=None), "vision_config": vit},
          open(f"{c}/hf_config/text_config.json", "w"), indent=2)
PY

"$R" synth --out "$W/m" --layers 1 --hidden 16 --intermediate 32 --heads 2 --kv-heads 1 \
    --head-dim 8 --vocab 32 --calib-tokens 64 --vit-blocks 2 --vit-hidden 16 --vit-mlp 32 >/dev/null
OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -np 1 "$R" run --model "$W/m" --xtx "$W/m/xtx.h5" --out "$W/o" \
    --num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 --max_epochs 1 \
    --steps_per_epoch 2 --init_max_iter 2 --vit-share 0:1 --vit-generator qgp --gen-steps 2 >/dev/null
cp "$W/m/model.safetensors" "$C/safetensors/synth.safetensors"
cp "$W/m/config.json" "$C/hf_config/qwen3.json"
cp "$W/m/xtx.h5" "$C/h5_probe/xtx.h5"
for d in shard_gate h5_probe; do
    cp "$W/o/shards/model.layers.0.mlp.up_proj.h5" "$C/$d/aqlm_shard.h5"
    cp "$W/o/shards/vision_model.encoder.layers.1.self_attn.q_proj.h5" "$C/$d/vit_shard.h5"
done
