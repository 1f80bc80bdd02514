/* sweep_grid.c -- see sweep_grid.h. */
#include "shards/sweep_grid.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "shards/tasks.h"

/* The settings of rf_aqlm_config a grid or an override may set, with the tag a name shows them
 * by. The first three make a name's "2x8-g8" and have no tag. */
static const struct {
    const char *name, *tag;
    size_t offset;
    int is_double;
} SETTINGS[RF_SWEEP_NUM_SETTINGS] = {
    {"num_codebooks", "", offsetof(rf_aqlm_config, num_codebooks), 0},
    {"nbits_per_codebook", "", offsetof(rf_aqlm_config, nbits_per_codebook), 0},
    {"in_group_size", "", offsetof(rf_aqlm_config, in_group_size), 0},
    {"out_group_size", "og", offsetof(rf_aqlm_config, out_group_size), 0},
    {"beam_size", "beam", offsetof(rf_aqlm_config, beam_size), 0},
    {"max_epochs", "ep", offsetof(rf_aqlm_config, max_epochs), 0},
    {"steps_per_epoch", "steps", offsetof(rf_aqlm_config, steps_per_epoch), 0},
    {"lr", "lr", offsetof(rf_aqlm_config, lr), 1},
    {"relative_mse_tolerance", "tol", offsetof(rf_aqlm_config, relative_mse_tolerance), 1},
    {"init_max_iter", "init", offsetof(rf_aqlm_config, init_max_iter), 0},
    {"init_max_points_per_centroid", "ppc", offsetof(rf_aqlm_config, init_max_points_per_centroid), 0},
};
enum { NAMED_SETTINGS = 3 }; /* num_codebooks, nbits_per_codebook, in_group_size */

const char *rf_sweep_setting_name(int setting) {
    return setting >= 0 && setting < RF_SWEEP_NUM_SETTINGS ? SETTINGS[setting].name : NULL;
}

double rf_sweep_get(const rf_aqlm_config *c, int k) {
    const char *p = (const char *)c + SETTINGS[k].offset;
    return SETTINGS[k].is_double ? *(const double *)p : *(const int *)p;
}

/* An integer setting holds only integers an int can hold. */
static int fits(int k, double v) {
    return isfinite(v) && (SETTINGS[k].is_double || (v == floor(v) && fabs(v) <= 1e9));
}

int rf_sweep_set(rf_aqlm_config *c, int k, double v) {
    if (!fits(k, v))
        return rf_fail("%s %g is not %s", SETTINGS[k].name, v,
                       SETTINGS[k].is_double ? "a finite number" : "an integer");
    char *p = (char *)c + SETTINGS[k].offset;
    if (SETTINGS[k].is_double) *(double *)p = v;
    else *(int *)p = (int)v;
    return RF_OK;
}

/* %.15g prints a value typed in decimal as typed ("0.0001", not 0.000100000000000000005). */
static void format_value(int k, double v, char *buf, size_t len) {
    snprintf(buf, len, SETTINGS[k].is_double ? "%.15g" : "%.0f", v);
}

/* ---------------------------------------------------------------------------------------------
 * Parsing */

/* The setting spelled name[0, len) ('-' or '_' between words), or -1. */
static int find_setting(const char *name, size_t len) {
    for (int k = 0; k < RF_SWEEP_NUM_SETTINGS; k++) {
        const char *s = SETTINGS[k].name;
        size_t i = 0;
        while (i < len && s[i] && (name[i] == s[i] || (name[i] == '-' && s[i] == '_'))) i++;
        if (i == len && !s[i]) return k;
    }
    return -1;
}

static int unknown_setting(const char *flag, const char *name, size_t len) {
    char known[512] = "";
    for (int k = 0; k < RF_SWEEP_NUM_SETTINGS; k++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "",
                 SETTINGS[k].name);
    return rf_fail("%s: unknown setting '%.*s' (settings: %s)", flag, (int)len, name, known);
}

/* The value text[0, len) of setting k. */
static int parse_value(const char *flag, int k, const char *text, size_t len, double *v) {
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return rf_fail("%s: %s needs a value", flag, SETTINGS[k].name);
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    *v = strtod(buf, &end);
    if (errno || *end || !isfinite(*v))
        return rf_fail("%s: %s=%s is not a number", flag, SETTINGS[k].name, buf);
    if (!fits(k, *v)) return rf_fail("%s: %s=%s is not an integer", flag, SETTINGS[k].name, buf);
    return RF_OK;
}

typedef struct {
    int setting, n;
    double values[64];
} grid_axis;

/* One "setting=v1,v2" of the grid, text[0, len). */
static int parse_axis(const char *text, size_t len, unsigned seen, grid_axis *a) {
    const char *eq = memchr(text, '=', len);
    if (!eq) return rf_fail("--grid: '%.*s' is not setting=value[,value...]", (int)len, text);
    a->setting = find_setting(text, (size_t)(eq - text));
    if (a->setting < 0) return unknown_setting("--grid", text, (size_t)(eq - text));
    if (seen & (1u << a->setting))
        return rf_fail("--grid: %s is listed twice", SETTINGS[a->setting].name);
    a->n = 0;
    for (const char *p = eq + 1, *end = text + len; p <= end; a->n++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (a->n == (int)(sizeof a->values / sizeof a->values[0]))
            return rf_fail("--grid: %s lists more than %d values", SETTINGS[a->setting].name, a->n);
        if (parse_value("--grid", a->setting, p, (size_t)(stop - p), &a->values[a->n]) != RF_OK)
            return RF_ERR;
        for (int j = 0; j < a->n; j++)
            if (a->values[j] == a->values[a->n])
                return rf_fail("--grid: %s lists %.*s twice", SETTINGS[a->setting].name,
                               (int)(stop - p), p);
        p = stop + 1;
    }
    return RF_OK;
}

static int parse_grid(const char *grid, const rf_aqlm_config *base, rf_sweep *s) {
    grid_axis axes[RF_SWEEP_NUM_SETTINGS];
    int naxes = 0;
    long total = 1;
    for (const char *p = grid; *p;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        if (len == 0) break;
        if (parse_axis(p, len, s->grid_settings, &axes[naxes]) != RF_OK) return RF_ERR;
        s->grid_settings |= 1u << axes[naxes].setting;
        total *= axes[naxes++].n;
        if (total > RF_SWEEP_MAX_CONFIGS)
            return rf_fail("--grid: more than %d configurations", RF_SWEEP_MAX_CONFIGS);
        p += len;
    }
    if (naxes == 0) return rf_fail("--grid: no settings (expected e.g. \"num_codebooks=1,2\")");
    s->n = (int)total;
    s->configs = rf_calloc((size_t)total, sizeof *s->configs);
    for (int i = 0; i < s->n; i++) {
        rf_sweep_config *c = &s->configs[i];
        c->cfg = *base;
        int rest = i; /* i's digits in mixed radix, the last axis fastest */
        for (int a = naxes - 1; a >= 0; a--) {
            rf_sweep_set(&c->cfg, axes[a].setting, axes[a].values[rest % axes[a].n]); /* checked */
            rest /= axes[a].n;
        }
        rf_sweep_name(&c->cfg, s->grid_settings, c->name, sizeof c->name);
    }
    return RF_OK;
}

/* One "REGEX:setting=value[,setting=value]", text[0, len). */
static int parse_override(const char *text, size_t len, rf_sweep_override *o) {
    const char *colon = NULL;
    for (const char *p = text; p < text + len; p++)
        if (*p == ':') colon = p; /* the last one: a regex may hold ':' */
    if (!colon || colon == text)
        return rf_fail("--override: '%.*s' is not REGEX:setting=value[,setting=value]", (int)len,
                       text);
    const int plen = (int)(colon - text);
    unsigned seen = 0;
    for (const char *p = colon + 1, *end = text + len; p <= end; p++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end, *eq = memchr(p, '=', (size_t)(stop - p));
        if (!eq)
            return rf_fail("--override %.*s: '%.*s' is not setting=value", plen, text,
                           (int)(stop - p), p);
        rf_sweep_value *v = &o->values[o->n];
        v->setting = find_setting(p, (size_t)(eq - p));
        if (v->setting < 0) return unknown_setting("--override", p, (size_t)(eq - p));
        if (seen & (1u << v->setting))
            return rf_fail("--override %.*s: %s is set twice", plen, text, SETTINGS[v->setting].name);
        seen |= 1u << v->setting;
        if (parse_value("--override", v->setting, eq + 1, (size_t)(stop - eq - 1), &v->value) != RF_OK)
            return RF_ERR;
        o->n++;
        p = stop;
    }
    o->pattern = rf_calloc((size_t)plen + 1, 1);
    memcpy(o->pattern, text, (size_t)plen);
    int rc = regcomp(&o->re, o->pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &o->re, msg, sizeof msg);
        free(o->pattern);
        o->pattern = NULL;
        return rf_fail("--override: '%.*s' is not a valid regular expression: %s", plen, text, msg);
    }
    return RF_OK;
}

static int parse_overrides(const char *text, rf_sweep *s) {
    int count = 1;
    for (const char *p = text; *p; p++) count += *p == ';';
    s->overrides = rf_calloc((size_t)count, sizeof *s->overrides);
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ";");
        if (len > 0) {
            if (parse_override(p, len, &s->overrides[s->noverrides]) != RF_OK) return RF_ERR;
            s->noverrides++;
        }
        p += len;
        if (!*p) break;
    }
    return RF_OK;
}

int rf_sweep_parse(const char *grid, const char *overrides, const rf_aqlm_config *base,
                   rf_sweep *s) {
    memset(s, 0, sizeof *s);
    int rc = parse_grid(grid, base, s);
    if (rc == RF_OK && overrides) rc = parse_overrides(overrides, s);
    if (rc != RF_OK) rf_sweep_free(s);
    return rc;
}

void rf_sweep_free(rf_sweep *s) {
    for (int i = 0; i < s->noverrides; i++) {
        regfree(&s->overrides[i].re);
        free(s->overrides[i].pattern);
    }
    free(s->overrides);
    free(s->configs);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------------
 * Use */

static int override_matches(const rf_sweep_override *o, const char *name) {
    return regexec(&o->re, name, 0, NULL, 0) == 0;
}

void rf_sweep_matrix_config(const rf_sweep *s, int i, const char *name, rf_aqlm_config *cfg) {
    *cfg = s->configs[i].cfg;
    for (int k = 0; k < s->noverrides; k++)
        if (override_matches(&s->overrides[k], name))
            for (int j = 0; j < s->overrides[k].n; j++)
                rf_sweep_set(cfg, s->overrides[k].values[j].setting,
                             s->overrides[k].values[j].value); /* checked when parsed */
}

/* A configuration every matrix of two or more weights fits (one 1-bit codebook on groups of one
 * weight): the tasks run selects are listed with it, and the checks that depend on the
 * configuration are made per matrix and configuration. */
static rf_aqlm_config listing_config(void) {
    rf_aqlm_config listing = rf_aqlm_config_default();
    listing.num_codebooks = listing.nbits_per_codebook = listing.in_group_size =
        listing.out_group_size = 1;
    return listing;
}

/* Matrix task's configuration in configuration i, checked against its shape. */
static int task_config(const rf_sweep *s, int i, const rf_task *task, rf_aqlm_config *cfg) {
    rf_sweep_matrix_config(s, i, task->name, cfg);
    if (rf_aqlm_check_config(cfg, task->out_features, task->in_features) != RF_OK)
        return rf_fail_prefix("configuration %s: %s [%lld, %lld]: ", s->configs[i].name,
                              task->name, (long long)task->out_features,
                              (long long)task->in_features);
    return RF_OK;
}

int rf_sweep_tasks_build(const rf_sweep *s, int i, const rf_st_model *model,
                         const char *only_regex, const rf_vit_share *vit, uint64_t run_seed,
                         rf_task_list *list, rf_aqlm_config **cfgs) {
    const rf_aqlm_config listing = listing_config();
    if (rf_tasks_build(model, only_regex, &listing, vit, run_seed, list) != RF_OK) return RF_ERR;
    *cfgs = rf_calloc((size_t)list->n, sizeof **cfgs);
    for (int t = 0; t < list->n; t++) {
        rf_task *task = &list->tasks[t];
        if (task->kind != RF_TASK_AQLM) continue; /* a VIT task has no AQLM configuration */
        if (task_config(s, i, task, &(*cfgs)[t]) != RF_OK) {
            free(*cfgs);
            *cfgs = NULL;
            rf_tasks_free(list);
            return RF_ERR;
        }
        task->cost = rf_aqlm_predicted_flops(task->out_features, task->in_features, &(*cfgs)[t]);
    }
    return RF_OK;
}

int rf_sweep_check_model(const rf_sweep *s, const rf_st_model *model, const char *only_regex) {
    const rf_aqlm_config listing = listing_config();
    rf_task_list list;
    if (rf_tasks_build(model, only_regex, &listing, NULL, 0, &list) != RF_OK) return RF_ERR;
    int rc = RF_OK;
    for (int k = 0; k < s->noverrides && rc == RF_OK; k++) {
        int used = 0;
        for (int t = 0; t < list.n && !used; t++)
            used = override_matches(&s->overrides[k], list.tasks[t].name);
        if (!used)
            rc = rf_fail("--override %s matches no matrix of the run", s->overrides[k].pattern);
    }
    for (int i = 0; i < s->n && rc == RF_OK; i++)
        for (int t = 0; t < list.n && rc == RF_OK; t++) {
            rf_aqlm_config cfg;
            rc = task_config(s, i, &list.tasks[t], &cfg);
        }
    rf_tasks_free(&list);
    return rc;
}

void rf_sweep_flags(const rf_sweep *s, int i, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < RF_SWEEP_NUM_SETTINGS && used < len; k++) {
        if (!(s->grid_settings & (1u << k))) continue;
        char value[64];
        format_value(k, rf_sweep_get(&s->configs[i].cfg, k), value, sizeof value);
        used += (size_t)snprintf(buf + used, len - used, "%s--%s %s", used ? " " : "",
                                 SETTINGS[k].name, value);
    }
}

unsigned rf_sweep_varying(const rf_aqlm_config *cfgs, int n) {
    unsigned varying = 0;
    for (int i = 1; i < n; i++)
        for (int k = 0; k < RF_SWEEP_NUM_SETTINGS; k++)
            if (rf_sweep_get(&cfgs[i], k) != rf_sweep_get(&cfgs[0], k)) varying |= 1u << k;
    return varying;
}

void rf_sweep_name(const rf_aqlm_config *c, unsigned shown, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "%dx%d-g%d", c->num_codebooks, c->nbits_per_codebook,
                                   c->in_group_size);
    for (int k = NAMED_SETTINGS; k < RF_SWEEP_NUM_SETTINGS && used < len; k++) {
        if (!(shown & (1u << k))) continue;
        char value[64];
        format_value(k, rf_sweep_get(c, k), value, sizeof value);
        used += (size_t)snprintf(buf + used, len - used, "-%s%s", SETTINGS[k].tag, value);
    }
}
