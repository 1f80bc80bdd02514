/* cmd_export.c -- `riverforge export --checkpoint FILE.h5 --model DIR --out DIR --format aqlm-hf`:
 * the quantized model in the layout Hugging Face transformers loads with its AQLM integration
 * (io/aqlm_hf.h, docs/formats.md). Every tensor of the source model goes to OUT in the source's
 * order: a quantized matrix as its codes, codebooks and scales; a generated /vit matrix as stored
 * (float32) in place of the original; every other tensor copied unchanged in its own dtype. The
 * tokenizer and generation files are copied when present.
 *
 * Nothing half-written looks complete: the checkpoint and the model are checked against each other
 * before anything is written, a config.json already in OUT is removed first and the new one is
 * written last (transformers loads no folder without one). The checkpoint is read in a child
 * process first (io/h5_probe.h): a damaged file is an error line, never a crash or a hang. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/aqlm_hf.h"
#include "io/atomic_file.h"
#include "io/h5_probe.h"
#include "io/h5_container.h"
#include "io/h5_util.h"
#include "io/hf_config.h"
#include "io/matrix_record.h"
#include "io/safetensors.h"
#include "io/st_shards.h"
#include "io/vit_record.h"
#include "mpi/cli.h"
#include "mpi/commands.h"

/* What transformers' tokenizers and generate() read beside the weights. */
static const char *const side_files[] = {
    "tokenizer.json",         "tokenizer_config.json",  "special_tokens_map.json",
    "added_tokens.json",      "vocab.json",             "merges.txt",
    "tokenizer.model",        "generation_config.json", "chat_template.json",
    "chat_template.jinja",    "preprocessor_config.json",
};

typedef struct {
    const char *ckpt, *model, *out;
    char **names, **vit_names; /* sorted */
    int nmat, nvit;
    rf_st_model st;
    rf_aqlm_config cfg;        /* the matrices' one configuration (its four shape settings) */
} export_job;

static int cmp_name(const void *key, const void *elem) {
    return strcmp(key, *(char *const *)elem);
}

/* name is one of the sorted names[n]. */
static int has_name(char **names, int n, const char *name) {
    return n > 0 && bsearch(name, names, (size_t)n, sizeof *names, cmp_name) != NULL;
}

/* RF_ERR unless the model has NAME.weight of shape [out, in]: the checkpoint belongs to it. */
static int check_source(const export_job *j, const char *group, const char *name, int64_t out,
                        int64_t in) {
    char tensor[RF_AQLM_HF_NAME_LEN];
    snprintf(tensor, sizeof tensor, "%s.weight", name);
    const rf_st_tensor *t = rf_st_find(&j->st, tensor);
    if (!t)
        return rf_fail("%s: %s/%s has no tensor %s in %s (a checkpoint of another model?)", j->ckpt,
                       group, name, tensor, j->model);
    if (t->ndim != 2 || t->shape[0] != out || t->shape[1] != in) {
        char shape[64] = "not 2-D";
        if (t->ndim == 2)
            snprintf(shape, sizeof shape, "[%lld, %lld]", (long long)t->shape[0], (long long)t->shape[1]);
        return rf_fail("%s: %s/%s is [%lld, %lld] but %s in %s is %s (a checkpoint of another "
                       "model?)",
                       j->ckpt, group, name, (long long)out, (long long)in, tensor, j->model, shape);
    }
    return RF_OK;
}

/* One configuration for all matrices (transformers has one per model), each matching the model;
 * sets j->cfg. */
static int check_checkpoint(export_job *j) {
    hid_t file;
    if (rf_h5_open(j->ckpt, &file) != RF_OK) return RF_ERR;
    static const char *const keys[6] = {"num_codebooks", "nbits_per_codebook", "in_group_size",
                                        "out_group_size", "out_features", "in_features"};
    int64_t first[6] = {0}, v[6];
    int rc = RF_OK;
    for (int i = 0; i < j->nmat && rc == RF_OK; i++) {
        char obj[RF_CONTAINER_PATH_LEN];
        rf_container_record_path(obj, RF_MATRIX_GROUP, j->names[i], NULL);
        for (int k = 0; k < 6 && rc == RF_OK; k++)
            if (rf_h5_read_attr_i64(file, obj, keys[k], &v[k]) != RF_OK) rc = rf_container_fail_in(j->ckpt);
        if (rc != RF_OK) break;
        if (i == 0) memcpy(first, v, sizeof v);
        if (memcmp(first, v, 4 * sizeof *v) != 0)
            rc = rf_fail("%s: /matrices/%s is %lldx%lld g%lld/%lld but /matrices/%s is %lldx%lld "
                         "g%lld/%lld: transformers' quantization_config holds one configuration "
                         "per model",
                         j->ckpt, j->names[i], (long long)v[0], (long long)v[1], (long long)v[2],
                         (long long)v[3], j->names[0], (long long)first[0], (long long)first[1],
                         (long long)first[2], (long long)first[3]);
        else
            rc = check_source(j, RF_MATRIX_GROUP, j->names[i], v[4], v[5]);
    }
    rf_h5_close(file);
    j->cfg.num_codebooks = (int)first[0];
    j->cfg.nbits_per_codebook = (int)first[1];
    j->cfg.in_group_size = (int)first[2];
    j->cfg.out_group_size = (int)first[3];
    for (int i = 0; i < j->nvit && rc == RF_OK; i++) {
        rf_vit_info info;
        rc = rf_vit_read(j->ckpt, j->vit_names[i], &info, NULL);
        if (rc == RF_OK)
            rc = check_source(j, RF_VIT_GROUP, j->vit_names[i], info.out_features, info.in_features);
    }
    return rc;
}

/* "x.weight" -> "x" into buf; the name itself when it does not end in ".weight". */
static const char *module_of(const char *tensor, char *buf, size_t len) {
    size_t n = strlen(tensor);
    if (n > 7 && strcmp(tensor + n - 7, ".weight") == 0 && n - 7 < len) {
        memcpy(buf, tensor, n - 7);
        buf[n - 7] = '\0';
        return buf;
    }
    return tensor;
}

/* /matrices/name as its three aqlm-hf tensors. */
static int add_quantized(const export_job *j, rf_st_shards *files, const char *name) {
    rf_aqlm_matrix q;
    if (rf_matrix_read(j->ckpt, name, &q, NULL, NULL, 0) != RF_OK) return RF_ERR;
    rf_st_entry e[3];
    char names[3][RF_AQLM_HF_NAME_LEN];
    rf_aqlm_hf_entries(name, &q, e, names);
    rf_aqlm_free(&q);
    int rc = RF_OK;
    for (int k = 0; k < 3; k++) {
        if (rc == RF_OK) rc = rf_st_shards_add(files, &e[k], (void *)e[k].data);
        else free((void *)e[k].data);
    }
    return rc;
}

/* /vit/name, the generated matrix, as the tensor it replaces. */
static int add_generated(const export_job *j, rf_st_shards *files, const char *name,
                         const char *tensor) {
    rf_vit_info info;
    float *w = NULL;
    if (rf_vit_read(j->ckpt, name, &info, &w) != RF_OK) return RF_ERR;
    rf_st_entry e = {.name = tensor, .dtype = RF_DTYPE_F32, .ndim = 2,
                     .shape = {info.out_features, info.in_features}, .data = w};
    return rf_st_shards_add(files, &e, w);
}

/* The tensors, in the source's order. not_quantized gets the 2-D weights that stay dense (names
 * point into j->st). */
static int write_tensors(const export_job *j, const char **not_quantized, int *nkeep,
                         uint64_t *total) {
    rf_st_shards *files = rf_st_shards_begin(j->out, RF_ST_SHARD_BYTES);
    int rc = RF_OK;
    *nkeep = 0;
    for (int i = 0; i < j->st.ntensors && rc == RF_OK; i++) {
        const rf_st_tensor *t = &j->st.tensors[i];
        char buf[RF_AQLM_HF_NAME_LEN];
        const char *name = module_of(t->name, buf, sizeof buf);
        int weight = name != t->name;
        if (weight && has_name(j->names, j->nmat, name)) {
            rc = add_quantized(j, files, name);
            continue;
        }
        if (weight && t->ndim == 2) not_quantized[(*nkeep)++] = t->name;
        if (weight && has_name(j->vit_names, j->nvit, name)) {
            rc = add_generated(j, files, name, t->name);
        } else { /* copied as it is: the data stays in the source's mapping */
            rf_st_entry e = {.name = t->name, .dtype = t->dtype, .ndim = t->ndim, .data = t->data};
            memcpy(e.shape, t->shape, sizeof e.shape);
            rc = rf_st_shards_add(files, &e, NULL);
        }
    }
    return rf_st_shards_end(files, rc, NULL, total);
}

/* Copies MODEL/name to OUT/name when it exists. */
static int copy_side_file(const export_job *j, const char *name) {
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/%s", j->model, name);
    snprintf(dst, sizeof dst, "%s/%s", j->out, name);
    FILE *f = fopen(src, "rb");
    if (!f) return errno == ENOENT ? RF_OK : rf_fail("%s: cannot open: %s", src, strerror(errno));
    char *data = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            data = realloc(data, cap);
            rf_check(data, "out of memory reading %s", src);
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int rc = ferror(f) ? rf_fail("%s: cannot read: %s", src, strerror(errno)) : RF_OK;
    fclose(f);
    const void *parts[] = {data};
    if (rc == RF_OK) rc = rf_atomic_write(dst, 1, parts, &len);
    free(data);
    return rc;
}

/* Flags and inputs that can be checked before anything is written. */
static int check_inputs(export_job *j, const char *format) {
    if (strcmp(format, "aqlm-hf") != 0)
        return rf_fail("--format %s: unknown format (riverforge export writes aqlm-hf)", format);
    if (!j->ckpt || !j->model || !j->out)
        return rf_fail("--checkpoint FILE.h5, --model DIR and --out DIR are required");
    rf_hf_config cfg;
    if (rf_hf_config_read(j->model, &cfg) != RF_OK) return rf_fail_prefix("--model: ");
    /* the checkpoint is a user's file: HDF5 reads it first in a child process (io/h5_probe.h) */
    if (rf_h5_probe(j->ckpt, "/", 1) != RF_OK) return RF_ERR;
    if (rf_matrix_list(j->ckpt, &j->names, &j->nmat) != RF_OK ||
        rf_vit_list(j->ckpt, &j->vit_names, &j->nvit) != RF_OK)
        return RF_ERR;
    if (j->nmat == 0) return rf_fail("%s: no quantized matrix under /matrices", j->ckpt);
    if (rf_st_open(&j->st, j->model) != RF_OK) return RF_ERR;
    if (check_checkpoint(j) != RF_OK) return RF_ERR;
    if (rf_make_dirs(j->out) != RF_OK) return rf_fail_prefix("--out: ");
    char a[PATH_MAX], b[PATH_MAX], single[4096];
    if (realpath(j->out, a) && realpath(j->model, b) && strcmp(a, b) == 0)
        return rf_fail("--out %s is the --model folder: export into another one", j->out);
    /* transformers prefers a single model.safetensors to the index this command writes */
    snprintf(single, sizeof single, "%s/model.safetensors", j->out);
    if (access(single, F_OK) == 0)
        return rf_fail("--out %s holds a model.safetensors, which transformers would load instead "
                       "of the export: use another folder",
                       j->out);
    return RF_OK;
}

int rf_cmd_export(int argc, char **argv) {
    export_job j = {0};
    const char *format = "aqlm-hf";
    rf_opt opts[] = {
        {"--checkpoint", RF_OPT_STRING, &j.ckpt, "FILE.h5", "riverforge checkpoint (required)"},
        {"--model", RF_OPT_STRING, &j.model, "DIR",
         "the Hugging Face model the checkpoint was made from (required)"},
        {"--out", RF_OPT_STRING, &j.out, "DIR", "output folder (required)"},
        {"--format", RF_OPT_STRING, &format, "NAME",
         "aqlm-hf: what transformers loads with the aqlm package"},
    };
    int nopts = sizeof opts / sizeof opts[0];
    int rc = rf_cli_parse(argc, argv, "export", opts, nopts);
    if (rc == 1) {
        rf_cli_help(stdout, "riverforge export --checkpoint FILE.h5 --model DIR --out DIR "
                            "[--format aqlm-hf]",
                    "Writes the quantized model as Hugging Face transformers loads it\n"
                    "(AutoModelForCausalLM.from_pretrained, with the aqlm package installed):\n"
                    "safetensors with NAME.codes, NAME.codebooks and NAME.scales for every\n"
                    "quantized matrix, the generated ViT matrices of /vit in place of the\n"
                    "originals, every other tensor of --model unchanged, and config.json with a\n"
                    "quantization_config (written last). All matrices must share one\n"
                    "configuration.",
                    opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK) rc = check_inputs(&j, format);

    const char **not_quantized = NULL;
    int nkeep = 0;
    uint64_t total = 0;
    if (rc == RF_OK) {
        char config[4096];
        snprintf(config, sizeof config, "%s/config.json", j.out);
        if (unlink(config) != 0 && errno != ENOENT)
            rc = rf_fail("%s: cannot remove the earlier export's config.json: %s", config,
                         strerror(errno));
    }
    if (rc == RF_OK) {
        not_quantized = rf_calloc((size_t)j.st.ntensors + 1, sizeof *not_quantized);
        rc = write_tensors(&j, not_quantized, &nkeep, &total);
    }
    for (size_t i = 0; i < sizeof side_files / sizeof side_files[0] && rc == RF_OK; i++)
        rc = copy_side_file(&j, side_files[i]);
    if (rc == RF_OK) rc = rf_aqlm_hf_write_config(j.model, j.out, &j.cfg, not_quantized, nkeep);

    free(not_quantized);
    rf_st_close(&j.st);
    rf_container_free_names(j.names, j.nmat);
    rf_container_free_names(j.vit_names, j.nvit);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("riverforge: exported %d quantized matrices (%dx%d, groups %dx%d) and %d generated ViT "
           "matrices to %s (aqlm-hf, %.1f MB)\n",
           j.nmat, j.cfg.num_codebooks, j.cfg.nbits_per_codebook, j.cfg.out_group_size,
           j.cfg.in_group_size, j.nvit, j.out, (double)total / 1e6);
    return RF_EXIT_OK;
}
