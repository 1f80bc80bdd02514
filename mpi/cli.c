/* cli.c -- see cli.h. */
#include "mpi/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

void rf_cli_aqlm_opts(rf_aqlm_config *c, rf_opt o[RF_AQLM_NUM_OPTS]) {
    const rf_opt rows[RF_AQLM_NUM_OPTS] = {
        {"--num_codebooks", RF_OPT_INT, &c->num_codebooks, "M", "codebooks per group (additive)"},
        {"--nbits_per_codebook", RF_OPT_INT, &c->nbits_per_codebook, "B", "bits per code: K = 2^B codewords (1..16)"},
        {"--in_group_size", RF_OPT_INT, &c->in_group_size, "G", "input columns per group"},
        {"--out_group_size", RF_OPT_INT, &c->out_group_size, "G", "output rows per group"},
        {"--beam_size", RF_OPT_INT, &c->beam_size, "N", "beam width of the code search"},
        {"--max_epochs", RF_OPT_INT, &c->max_epochs, "N", "epochs of {Adam steps, beam search}"},
        {"--steps_per_epoch", RF_OPT_INT, &c->steps_per_epoch, "N", "Adam steps per epoch"},
        {"--lr", RF_OPT_DOUBLE, &c->lr, "X", "Adam learning rate for codebooks and scales"},
        {"--relative_mse_tolerance", RF_OPT_DOUBLE, &c->relative_mse_tolerance, "X", "stop when an epoch improves the loss by less (0: never)"},
        {"--init_max_iter", RF_OPT_INT, &c->init_max_iter, "N", "k-means iterations at init"},
        {"--init_max_points_per_centroid", RF_OPT_INT, &c->init_max_points_per_centroid, "N", "k-means on at most N*K random groups (0: all)"},
    };
    memcpy(o, rows, sizeof rows);
}

void rf_cli_vit_opts(rf_cli_vit *v, int argc, char **argv, rf_opt o[RF_VIT_NUM_OPTS]) {
    rf_gen_kind kind = RF_GEN_QGP;
    v->share = NULL;
    v->orphan = NULL;
    for (int i = 1; i < argc && !v->orphan; i++)
        if (!strncmp(argv[i], "--gen-", 6) || !strncmp(argv[i], "--vit-generator", 15)) v->orphan = argv[i];
    v->generator = rf_cli_value(argc, argv, "--vit-generator");
    if (!v->generator || rf_gen_kind_parse(v->generator, &kind) != RF_OK) /* finish reports it */
        v->generator = v->generator ? v->generator : "qgp";
    v->gen = rf_gen_config_default(kind);
    rf_gen_config *g = &v->gen;
    const rf_opt rows[RF_VIT_NUM_OPTS] = {
        {"--vit-share", RF_OPT_STRING, &v->share, "A:B[,C:D]", "vision block B reuses block A's matrices; a generator makes B's"},
        {"--vit-generator", RF_OPT_STRING, &v->generator, "qgp|paramgen|none", "what generates a shared block's matrices"},
        {"--gen-steps", RF_OPT_INT, &g->steps, "N", "Adam steps of each generator (and of its classical baseline)"},
        {"--gen-lr", RF_OPT_DOUBLE, &g->lr, "X", "Adam learning rate of the generators"},
        {"--gen-layers", RF_OPT_INT, &g->layers, "L", "circuit layers (qgp 2, paramgen 3)"},
        {"--gen-width", RF_OPT_INT, &g->width, "H", "read-out MLP hidden width (qgp 16, paramgen 256)"},
        {"--gen-rank", RF_OPT_INT, &g->rank, "R", "paramgen: rank of U V^T"},
        {"--gen-noise", RF_OPT_DOUBLE, &g->noise, "P", "paramgen: X/Y/Z noise probability per qubit per layer while training"},
    };
    memcpy(o, rows, sizeof rows);
}

int rf_cli_vit_finish(const rf_cli_vit *v, rf_vit_share *vs) {
    vs->npairs = 0;
    vs->gen = v->gen;
    if (rf_gen_kind_parse(v->generator, &vs->gen.kind) != RF_OK) return RF_ERR;
    if (!v->share && v->orphan)
        return rf_fail("%.*s needs --vit-share A:B (which vision blocks to share)",
                       (int)strcspn(v->orphan, "="), v->orphan);
    return v->share ? rf_vit_share_parse(v->share, vs) : RF_OK;
}

const char *rf_cli_value(int argc, char **argv, const char *flag) {
    size_t n = strlen(flag);
    const char *value = NULL;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], flag, n) == 0) {
            if (argv[i][n] == '=') value = argv[i] + n + 1;
            else if (argv[i][n] == '\0' && i + 1 < argc) value = argv[i + 1];
        }
    return value;
}

int rf_cli_has(int argc, char **argv, const char *flag) {
    size_t n = strlen(flag);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], flag, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) return 1;
    return 0;
}

static int set_value(const rf_opt *o, const char *v) {
    char *end;
    errno = 0;
    switch (o->kind) {
    case RF_OPT_STRING:
        *(const char **)o->dst = v;
        return RF_OK;
    case RF_OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < -2147483647L || x > 2147483647L)
            return rf_fail("%s: '%s' is not an integer", o->name, v);
        *(int *)o->dst = (int)x;
        return RF_OK;
    }
    case RF_OPT_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end || end == v || v[0] == '-')
            return rf_fail("%s: '%s' is not a non-negative integer", o->name, v);
        *(uint64_t *)o->dst = (uint64_t)x;
        return RF_OK;
    }
    case RF_OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || *end || end == v) return rf_fail("%s: '%s' is not a number", o->name, v);
        *(double *)o->dst = x;
        return RF_OK;
    }
    }
    return rf_fail("%s: unknown flag kind", o->name);
}

int rf_cli_parse(int argc, char **argv, const char *command, const rf_opt *opts, int nopts) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return 1;
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const rf_opt *o = NULL;
        for (int j = 0; j < nopts && !o; j++)
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, arg, len)) o = &opts[j];
        if (!o)
            return rf_fail("unknown %s '%.*s' for 'riverforge %s' (see riverforge %s --help)",
                           arg[0] == '-' ? "flag" : "argument", (int)len, arg, command, command);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value) return rf_fail("%s needs a value (%s)", o->name, o->metavar);
        if (set_value(o, value) != RF_OK) return RF_ERR;
    }
    return RF_OK;
}

void rf_cli_help(FILE *f, const char *usage, const char *description, const rf_opt *opts,
                 int nopts) {
    fprintf(f, "usage: %s\n\n%s\n\nflags:\n", usage, description);
    for (int i = 0; i < nopts; i++) {
        char left[96];
        snprintf(left, sizeof left, "%s %s", opts[i].name, opts[i].metavar);
        char def[64] = "";
        int required = strstr(opts[i].help, "(required)") != NULL;
        switch (required ? -1 : (int)opts[i].kind) {
        case RF_OPT_STRING:
            if (*(const char **)opts[i].dst) snprintf(def, sizeof def, "%s", *(const char **)opts[i].dst);
            break;
        case RF_OPT_INT: snprintf(def, sizeof def, "%d", *(int *)opts[i].dst); break;
        case RF_OPT_U64: snprintf(def, sizeof def, "%llu", (unsigned long long)*(uint64_t *)opts[i].dst); break;
        case RF_OPT_DOUBLE: snprintf(def, sizeof def, "%g", *(double *)opts[i].dst); break;
        }
        fprintf(f, "  %-40s %s%s%s%s\n", left, opts[i].help, def[0] ? " (default: " : "", def,
                def[0] ? ")" : "");
    }
}
