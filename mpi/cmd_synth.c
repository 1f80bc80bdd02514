/* cmd_synth.c -- `riverforge synth`: writes the deterministic synthetic model of synth/synth.h. */
#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "synth/synth.h"
#include "synth/synth_tokenizer.h"

int rf_cmd_synth(int argc, char **argv) {
    const char *out = NULL, *arch = "qwen3", *vit_names = "siglip";
    /* the preset sets defaults that other flags override: read it first */
    const char *preset = rf_cli_value(argc, argv, "--preset");
    if (rf_cli_has(argc, argv, "--preset") && (!preset || strcmp(preset, "qwen3-4b") != 0)) {
        fprintf(stderr, "riverforge: error: --preset '%s': the known preset is qwen3-4b\n",
                preset ? preset : "");
        return RF_EXIT_USAGE;
    }
    rf_synth_spec s = preset ? rf_synth_preset_qwen3_4b() : rf_synth_default();
    int seed = (int)s.seed;
    char shards_help[96];
    snprintf(shards_help, sizeof shards_help, "safetensors files (1: model.safetensors; 0: one per %d layers)",
             RF_SYNTH_LAYERS_PER_FILE);
    rf_opt opts[] = {
        {"--out", RF_OPT_STRING, &out, "DIR", "output model directory (required)"},
        {"--preset", RF_OPT_STRING, &preset, "NAME", "qwen3-4b: Qwen3-4B's real shapes"},
        {"--arch", RF_OPT_STRING, &arch, "NAME", "model family (qwen3)"},
        {"--layers", RF_OPT_INT, &s.layers, "N", "decoder layers"},
        {"--hidden", RF_OPT_INT, &s.hidden, "H", "hidden size"},
        {"--intermediate", RF_OPT_INT, &s.intermediate, "I", "MLP intermediate size"},
        {"--heads", RF_OPT_INT, &s.heads, "A", "attention heads"},
        {"--kv-heads", RF_OPT_INT, &s.kv_heads, "K", "key/value heads"},
        {"--head-dim", RF_OPT_INT, &s.head_dim, "D", "head dimension"},
        {"--vocab", RF_OPT_INT, &s.vocab, "V", "vocabulary size (embedding rows)"},
        {"--shards", RF_OPT_INT, &s.shards, "N", shards_help},
        {"--vit-blocks", RF_OPT_INT, &s.vit_blocks, "B", "vision-tower blocks (0: none)"},
        {"--vit-names", RF_OPT_STRING, &vit_names, "STYLE", "vision tensor names: siglip (q/k/v/out_proj) or internvit (attn.qkv, attn.proj)"},
        {"--vit-hidden", RF_OPT_INT, &s.vit_hidden, "V", "vision hidden size"},
        {"--vit-mlp", RF_OPT_INT, &s.vit_mlp, "F", "vision MLP size"},
        {"--calib-tokens", RF_OPT_INT, &s.calib_tokens, "N", "synthetic calibration tokens behind each XTX"},
        {"--seed", RF_OPT_INT, &seed, "S", "generator seed"},
    };
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    int rc = rf_cli_parse(argc, argv, "synth", opts, nopts);
    if (rc == 1) {
        rf_cli_help(stdout, "riverforge synth --out DIR [--preset qwen3-4b] [flags]",
                    "Writes a deterministic Hugging Face-format Qwen3-style model: config.json,\n"
                    "BF16 safetensors (sharded with an index when --shards > 1) and xtx.h5 with\n"
                    "calibration statistics from heavy-tailed synthetic activations, and a byte-level\n"
                    "tokenizer (tokenizer.json) when --vocab is 257 or more.",
                    opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && !out) rc = rf_fail("--out DIR is required");
    if (rc == RF_OK && strcmp(arch, "qwen3") != 0)
        rc = rf_fail("--arch '%s': riverforge synthesizes qwen3 models", arch);
    if (rc == RF_OK && seed < 0) rc = rf_fail("--seed must be non-negative");
    if (rc == RF_OK && strcmp(vit_names, "siglip") && strcmp(vit_names, "internvit"))
        rc = rf_fail("--vit-names '%s': expected siglip or internvit", vit_names);
    s.vit_style = strcmp(vit_names, "internvit") ? RF_VIT_SIGLIP : RF_VIT_INTERNVIT;
    s.seed = (uint64_t)seed;
    if (rc == RF_OK) rc = rf_synth_write(out, &s);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    int files = rf_synth_files(&s);
    printf("riverforge: wrote a %d-layer Qwen3-style model (hidden %d, intermediate %d; %d safetensors "
           "file%s) to %s\n", s.layers, s.hidden, s.intermediate, files, files == 1 ? "" : "s", out);
    if (s.vocab >= RF_SYNTH_TOKENIZER_IDS)
        printf("riverforge: with a byte-level tokenizer (tokenizer.json: ids 0-255 the bytes, %d %s, "
               "%d more unused)\n", RF_SYNTH_EOS_ID, RF_SYNTH_EOS_TOKEN, s.vocab - RF_SYNTH_TOKENIZER_IDS);
    else
        printf("riverforge: no tokenizer.json: a byte-level tokenizer needs --vocab %d or more\n",
               RF_SYNTH_TOKENIZER_IDS);
    return RF_EXIT_OK;
}
