/* cli.c -- see cli.h. */
#include "mpi/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

/* ---------------------------------------------------------------------------------------------
 * Spellings: after the leading "--", '-' and '_' are the same character. */

static int same_char(char a, char b) {
    return a == b || ((a == '-' || a == '_') && (b == '-' || b == '_'));
}

/* True when arg starts with prefix, spelled either way. */
static int starts_with_flag(const char *arg, const char *prefix) {
    size_t i = 0;
    for (; prefix[i]; i++)
        if (!arg[i] || (i < 2 ? arg[i] != prefix[i] : !same_char(arg[i], prefix[i]))) return 0;
    return 1;
}

/* True when the first len characters of arg spell flag. */
static int spells(const char *arg, size_t len, const char *flag) {
    return strlen(flag) == len && starts_with_flag(arg, flag);
}

/* ---------------------------------------------------------------------------------------------
 * The flag tables */

void rf_cli_aqlm_opts(rf_aqlm_config *c, rf_opt o[RF_AQLM_NUM_OPTS]) {
    const rf_opt rows[RF_AQLM_NUM_OPTS] = {
        {"--num_codebooks", RF_OPT_INT, &c->num_codebooks, "M", "codebooks per group (additive)", "aqlm.num_codebooks"},
        {"--nbits_per_codebook", RF_OPT_INT, &c->nbits_per_codebook, "B", "bits per code: K = 2^B codewords (1..16)", "aqlm.nbits_per_codebook"},
        {"--in_group_size", RF_OPT_INT, &c->in_group_size, "G", "input columns per group", "aqlm.in_group_size"},
        {"--out_group_size", RF_OPT_INT, &c->out_group_size, "G", "output rows per group", "aqlm.out_group_size"},
        {"--beam_size", RF_OPT_INT, &c->beam_size, "N", "beam width of the code search", "aqlm.beam_size"},
        {"--max_epochs", RF_OPT_INT, &c->max_epochs, "N", "epochs of {Adam steps, beam search}", "aqlm.max_epochs"},
        {"--steps_per_epoch", RF_OPT_INT, &c->steps_per_epoch, "N", "Adam steps per epoch", "aqlm.steps_per_epoch"},
        {"--lr", RF_OPT_DOUBLE, &c->lr, "X", "Adam learning rate for codebooks and scales", "aqlm.lr"},
        {"--relative_mse_tolerance", RF_OPT_DOUBLE, &c->relative_mse_tolerance, "X", "stop when an epoch improves the loss by less (0: never)", "aqlm.relative_mse_tolerance"},
        {"--init_max_iter", RF_OPT_INT, &c->init_max_iter, "N", "k-means iterations at init", "aqlm.init_max_iter"},
        {"--init_max_points_per_centroid", RF_OPT_INT, &c->init_max_points_per_centroid, "N", "k-means on at most N*K random groups (0: all)", "aqlm.init_max_points_per_centroid"},
    };
    memcpy(o, rows, sizeof rows);
}

void rf_cli_vit_opts(rf_cli_vit *v, int argc, char **argv, rf_opt o[RF_VIT_NUM_OPTS]) {
    rf_gen_kind kind = RF_GEN_QGP;
    v->share = NULL;
    v->orphan = NULL;
    for (int i = 1; i < argc && !v->orphan; i++)
        if (starts_with_flag(argv[i], "--gen-") || starts_with_flag(argv[i], "--vit-generator"))
            v->orphan = argv[i];
    v->generator = rf_cli_value(argc, argv, "--vit-generator");
    if (!v->generator || rf_gen_kind_parse(v->generator, &kind) != RF_OK) /* finish reports it */
        v->generator = v->generator ? v->generator : "qgp";
    v->gen = rf_gen_config_default(kind);
    rf_gen_config *g = &v->gen;
    const rf_opt rows[RF_VIT_NUM_OPTS] = {
        {"--vit-share", RF_OPT_STRING, &v->share, "A:B[,C:D]", "vision block B reuses block A's matrices; a generator makes B's", NULL},
        {"--vit-generator", RF_OPT_STRING, &v->generator, "qgp|paramgen|none", "what generates a shared block's matrices", "gen.kind"},
        {"--gen-steps", RF_OPT_INT, &g->steps, "N", "Adam steps of each generator (and of its classical baseline)", "gen.steps"},
        {"--gen-lr", RF_OPT_DOUBLE, &g->lr, "X", "Adam learning rate of the generators", "gen.lr"},
        {"--gen-layers", RF_OPT_INT, &g->layers, "L", "circuit layers (qgp 2, paramgen 3)", "gen.layers"},
        {"--gen-width", RF_OPT_INT, &g->width, "H", "read-out MLP hidden width (qgp 16, paramgen 256)", "gen.width"},
        {"--gen-rank", RF_OPT_INT, &g->rank, "R", "paramgen: rank of U V^T", "gen.rank"},
        {"--gen-noise", RF_OPT_DOUBLE, &g->noise, "P", "paramgen: X/Y/Z noise probability per qubit per layer while training", "gen.noise"},
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

/* ---------------------------------------------------------------------------------------------
 * Looking at argv before parsing */

const char *rf_cli_value(int argc, char **argv, const char *flag) {
    const char *value = NULL;
    for (int i = 1; i < argc; i++) {
        size_t len = strcspn(argv[i], "=");
        if (!spells(argv[i], len, flag)) continue;
        if (argv[i][len] == '=') value = argv[i] + len + 1;
        else if (i + 1 < argc) value = argv[i + 1];
    }
    return value;
}

int rf_cli_has(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; i++)
        if (spells(argv[i], strcspn(argv[i], "="), flag)) return 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The nearest flag, for "did you mean" */

#define NAME_CHARS 64 /* longer names are compared by their first 63 characters */

/* The part after "--", lower case, '_' as '-': what two spellings of one flag share. */
static void normalize(const char *flag, size_t len, char out[NAME_CHARS]) {
    size_t n = 0;
    for (size_t i = 2; i < len && n < NAME_CHARS - 1; i++)
        out[n++] = flag[i] == '_' ? '-' : (char)tolower((unsigned char)flag[i]);
    out[n] = '\0';
}

/* Optimal string alignment distance: inserting, deleting or replacing a character and swapping
 * two neighbours ("modle" -> "model") each cost 1. */
static int edit_distance(const char *a, const char *b) {
    int na = (int)strlen(a), nb = (int)strlen(b);
    int d[NAME_CHARS][NAME_CHARS];
    for (int i = 0; i <= na; i++) d[i][0] = i;
    for (int j = 0; j <= nb; j++) d[0][j] = j;
    for (int i = 1; i <= na; i++)
        for (int j = 1; j <= nb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            int swapped = i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1];
            if (swapped && d[i - 2][j - 2] + 1 < best) best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

/* True when typed is a part of name that starts at one of its words ("epochs" of "max-epochs",
 * "nbits" of "nbits-per-codebook"): a user who remembers a word of a long name. Parts shorter
 * than 4 characters ("out", "in") say too little to suggest anything. */
static int is_word_part(const char *typed, const char *name) {
    size_t n = strlen(typed);
    if (n < 4) return 0;
    for (const char *p = name; (p = strstr(p, typed)) != NULL; p++)
        if (p == name || p[-1] == '-') return 1;
    return 0;
}

/* The flag of opts nearest to the unknown flag arg[0, len), or NULL when none is close. A flag is
 * close when a word part of it was typed, or when its edit distance is about a quarter of the
 * typed length or less (1 for 2-5 characters, 2 for 6-9, ...), so that a short unrelated name
 * ("--foo"; "--out" for plan) gets no suggestion. Ties go to the smaller edit distance, then to
 * the earlier flag. */
static const char *nearest_flag(const char *arg, size_t len, const rf_opt *opts, int nopts) {
    char typed[NAME_CHARS], name[NAME_CHARS];
    normalize(arg, len, typed);
    int allowed = ((int)strlen(typed) + 2) / 4;
    const char *best = NULL;
    int best_score = 0, best_distance = 0;
    for (int i = 0; i < nopts; i++) {
        normalize(opts[i].name, strlen(opts[i].name), name);
        int distance = edit_distance(typed, name);
        int score = is_word_part(typed, name) && distance > 1 ? 1 : distance;
        if (score > allowed) continue;
        if (!best || score < best_score || (score == best_score && distance < best_distance)) {
            best = opts[i].name;
            best_score = score;
            best_distance = distance;
        }
    }
    return best;
}

/* ---------------------------------------------------------------------------------------------
 * Parsing */

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

static int unknown_arg_error(const char *arg, size_t len, const char *command, const rf_opt *opts,
                             int nopts) {
    int is_flag = !strncmp(arg, "--", 2);
    const char *near = is_flag ? nearest_flag(arg, len, opts, nopts) : NULL;
    if (near)
        return rf_fail("unknown flag '%.*s' for 'riverforge %s' (did you mean %s?)", (int)len, arg,
                       command, near);
    return rf_fail("unknown %s '%.*s' for 'riverforge %s' (see riverforge %s --help)",
                   arg[0] == '-' ? "flag" : "argument", (int)len, arg, command, command);
}

int rf_cli_parse(int argc, char **argv, const char *command, const rf_opt *opts, int nopts) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return 1;
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const rf_opt *o = NULL;
        for (int j = 0; j < nopts && !o; j++)
            if (spells(arg, len, opts[j].name)) o = &opts[j];
        if (!o) return unknown_arg_error(arg, len, command, opts, nopts);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value) return rf_fail("%s needs a value (%s)", o->name, o->metavar);
        if (set_value(o, value) != RF_OK) return RF_ERR;
    }
    return RF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * A kernel's setting, named as the flag that sets it */

/* A character that continues a name: "in_group_size" is not a word of "--in_group_size", and
 * "layers" is not one of "model.layers.0" (a tensor name may hold a setting's name). */
static int name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* The first occurrence of word in s that stands alone: not inside a longer name, not after
 * "--", not a part of a dotted name (a '.' or '-' joins names only when a name follows it, so
 * "layers." at a sentence's end is a word). NULL when none. */
static const char *find_word(const char *s, const char *word) {
    size_t n = strlen(word);
    for (const char *p = s; (p = strstr(p, word)) != NULL; p++) {
        char before = p > s ? p[-1] : ' ', after = p[n];
        int joined_before = name_char(before) || before == '.' || before == '-';
        int joined_after = name_char(after) || ((after == '.' || after == '-') && name_char(p[n + 1]));
        if (!joined_before && !joined_after) return p;
    }
    return NULL;
}

int rf_cli_flag_error(const rf_opt *opts, int nopts) {
    const char *field = rf_error_field();
    const rf_opt *o = NULL;
    for (int i = 0; field && i < nopts && !o; i++)
        if (opts[i].field && !strcmp(opts[i].field, field)) o = &opts[i];
    if (!o) return RF_ERR;
    const char *dot = strrchr(field, '.');
    const char *short_name = dot ? dot + 1 : field;
    const char *msg = rf_last_error();
    const char *at = find_word(msg, short_name);
    if (!at) return RF_ERR;
    char rewritten[2048];
    snprintf(rewritten, sizeof rewritten, "%.*s%s%s", (int)(at - msg), msg, o->name,
             at + strlen(short_name));
    return rf_fail_field(field, "%s", rewritten);
}

/* ---------------------------------------------------------------------------------------------
 * Help */

void rf_cli_help(FILE *f, const char *usage, const char *description, const rf_opt *opts,
                 int nopts) {
    fprintf(f, "usage: %s\n\n%s\n\nflags (either '-' or '_' may join the words of a flag's name):\n",
            usage, description);
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
