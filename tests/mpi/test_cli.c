/* test_cli.c -- the flag parser (mpi/cli.h): every kind of flag in both spellings, with '=' and
 * as the next argument; missing values and bad numbers; unknown flags with and without a
 * suggestion; --help; rf_cli_has and rf_cli_value; a kernel's setting renamed as its flag
 * (rf_cli_flag_error); and rf_cli_vit_finish's refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "mpi/cli.h"

/* char *argv[] = {"cmd", ...} and its argc */
#define ARGV(...)                                                                                  \
    char *argv[] = {"cmd", __VA_ARGS__};                                                           \
    int argc = (int)(sizeof argv / sizeof argv[0])

/* One flag of each kind, with names of one word and of several. */
typedef struct {
    const char *name;
    int count;
    double rate;
    uint64_t seed;
    rf_opt opts[4];
} kinds_table;

static void kinds_init(kinds_table *k) {
    *k = (kinds_table){.name = "none", .count = 1, .rate = 0.5, .seed = 7};
    const rf_opt rows[4] = {
        {"--model-name", RF_OPT_STRING, &k->name, "S", "a string", NULL},
        {"--max_count", RF_OPT_INT, &k->count, "N", "an int", NULL},
        {"--rate", RF_OPT_DOUBLE, &k->rate, "X", "a double", NULL},
        {"--run_seed", RF_OPT_U64, &k->seed, "S", "a u64", NULL},
    };
    memcpy(k->opts, rows, sizeof rows);
}

static int parse_kinds(kinds_table *k, int argc, char **argv) {
    kinds_init(k);
    return rf_cli_parse(argc, argv, "test", k->opts, 4);
}

static void expect_error(int rc, const char *text) {
    assert_int_equal(rc, RF_ERR);
    if (!strstr(rf_last_error(), text)) fail_msg("'%s' does not hold '%s'", rf_last_error(), text);
}

static void test_each_kind_both_spellings(void **state) {
    kinds_table k;
    {
        ARGV("--model-name", "m", "--max_count", "12", "--rate", "2.5e-3", "--run_seed", "18446744073709551615");
        assert_int_equal(parse_kinds(&k, argc, argv), RF_OK);
        assert_string_equal(k.name, "m");
        assert_int_equal(k.count, 12);
        assert_true(k.rate == 2.5e-3);
        assert_true(k.seed == UINT64_MAX);
    }
    {
        ARGV("--model_name=x=y", "--max-count=-3", "--rate=4", "--run-seed=9");
        assert_int_equal(parse_kinds(&k, argc, argv), RF_OK);
        assert_string_equal(k.name, "x=y"); /* the value is everything after the first '=' */
        assert_int_equal(k.count, -3);
        assert_true(k.rate == 4.0);
        assert_true(k.seed == 9);
    }
    {
        ARGV("--max_count", "1", "--max-count", "2"); /* the last one given wins */
        assert_int_equal(parse_kinds(&k, argc, argv), RF_OK);
        assert_int_equal(k.count, 2);
    }
    {
        ARGV("-_max_count", "1"); /* the leading "--" is not a word joiner */
        expect_error(parse_kinds(&k, argc, argv), "unknown flag '-_max_count'");
    }
}

static void test_missing_value(void **state) {
    kinds_table k;
    ARGV("--rate", "1", "--max-count");
    expect_error(parse_kinds(&k, argc, argv), "--max_count needs a value (N)");
}

static void test_bad_numbers(void **state) {
    kinds_table k;
    {
        ARGV("--max_count", "ten");
        expect_error(parse_kinds(&k, argc, argv), "--max_count: 'ten' is not an integer");
    }
    {
        ARGV("--max_count", "3.5");
        expect_error(parse_kinds(&k, argc, argv), "--max_count: '3.5' is not an integer");
    }
    {
        ARGV("--max-count=3000000000");
        expect_error(parse_kinds(&k, argc, argv), "--max_count: '3000000000' is not an integer");
    }
    {
        ARGV("--max_count=");
        expect_error(parse_kinds(&k, argc, argv), "--max_count: '' is not an integer");
    }
    {
        ARGV("--rate", "fast");
        expect_error(parse_kinds(&k, argc, argv), "--rate: 'fast' is not a number");
    }
    {
        ARGV("--run_seed", "-1");
        expect_error(parse_kinds(&k, argc, argv), "--run_seed: '-1' is not a non-negative integer");
    }
}

/* The AQLM and block-sharing flags of `run`, plus two of its own, for suggestions. */
typedef struct {
    const char *model, *out;
    rf_aqlm_config cfg;
    rf_cli_vit vit;
    rf_opt opts[2 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS];
    int nopts;
} run_table;

static void run_init(run_table *t, int argc, char **argv) {
    t->model = t->out = NULL;
    t->cfg = rf_aqlm_config_default();
    t->opts[0] = (rf_opt){"--model", RF_OPT_STRING, &t->model, "DIR", "model", NULL};
    t->opts[1] = (rf_opt){"--out", RF_OPT_STRING, &t->out, "DIR", "output", NULL};
    rf_cli_aqlm_opts(&t->cfg, t->opts + 2);
    rf_cli_vit_opts(&t->vit, argc, argv, t->opts + 2 + RF_AQLM_NUM_OPTS);
    t->nopts = 2 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS;
}

/* The message of `riverforge run FLAG` for an unknown FLAG. */
static const char *unknown_message(const char *flag) {
    run_table t;
    char *argv[] = {"run", (char *)flag, "1"};
    run_init(&t, 3, argv);
    assert_int_equal(rf_cli_parse(3, argv, "run", t.opts, t.nopts), RF_ERR);
    return rf_last_error();
}

static void test_unknown_flag_suggestion(void **state) {
    /* the start stays what tests/e2e/test_bad_input.sh greps */
    assert_string_equal(unknown_message("--epochs"),
                        "unknown flag '--epochs' for 'riverforge run' (did you mean --max_epochs?)");
    const struct { const char *typed, *suggested; } cases[] = {
        {"--num_codebook", "--num_codebooks"},       /* a letter left out */
        {"--num-codebok", "--num_codebooks"},        /* two, in the other spelling */
        {"--modle", "--model"},                      /* two letters swapped */
        {"--LR", "--lr"},                            /* upper case */
        {"--nbits", "--nbits_per_codebook"},         /* the first word of a long name */
        {"--tolerance", "--relative_mse_tolerance"}, /* the last word */
        {"--vit_gen", "--vit-generator"},            /* a name cut short */
        {"--gen-step", "--gen-steps"},
        {"--vit-shares=0:1", "--vit-share"},         /* with a value after '=' */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "(did you mean %s?)", cases[i].suggested);
        const char *msg = unknown_message(cases[i].typed);
        if (!strstr(msg, want)) fail_msg("%s: '%s' does not suggest %s", cases[i].typed, msg, cases[i].suggested);
    }
}

static void test_unknown_flag_without_suggestion(void **state) {
    assert_string_equal(unknown_message("--foo"),
                        "unknown flag '--foo' for 'riverforge run' (see riverforge run --help)");
    /* names too short to say much ("--in" is two edits from --lr) or unlike any of run's */
    const char *typed[] = {"--x", "--in", "--qubits", "--threads", "--device", "--xtx", "--grp"};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        const char *msg = unknown_message(typed[i]);
        if (strstr(msg, "did you mean") || !strstr(msg, "(see riverforge run --help)"))
            fail_msg("%s: '%s'", typed[i], msg);
    }
    /* plan has no --out: out_group_size shares only a 3-letter word with it */
    run_table t;
    char *argv[] = {"plan", "--out", "o"};
    run_init(&t, 3, argv);
    assert_int_equal(rf_cli_parse(3, argv, "plan", t.opts + 2, t.nopts - 2), RF_ERR);
    assert_string_equal(rf_last_error(), "unknown flag '--out' for 'riverforge plan' (see riverforge plan --help)");
    /* a word that is not a flag */
    assert_string_equal(unknown_message("stray"),
                        "unknown argument 'stray' for 'riverforge run' (see riverforge run --help)");
}

static void test_help(void **state) {
    kinds_table k;
    {
        ARGV("--rate", "1", "--help", "--nonsense");
        assert_int_equal(parse_kinds(&k, argc, argv), 1);
    }
    {
        ARGV("-h");
        assert_int_equal(parse_kinds(&k, argc, argv), 1);
    }
    kinds_init(&k);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rf_cli_help(f, "riverforge test [flags]", "Tests.", k.opts, 4);
    fclose(f);
    assert_non_null(strstr(text, "usage: riverforge test [flags]"));
    assert_non_null(strstr(text, "--max_count N")); /* the canonical spelling only */
    assert_null(strstr(text, "--max-count"));
    assert_non_null(strstr(text, "--model-name S"));
    assert_non_null(strstr(text, "an int (default: 1)"));
    const char *note = strstr(text, "either '-' or '_'");
    assert_non_null(note);
    assert_null(strstr(note + 1, "either '-' or '_'")); /* said once */
    free(text);
}

static void test_has_and_value(void **state) {
    ARGV("--vit_share", "0:1", "--gen-steps=5", "--max-epochs", "3", "--max_epochs=4", "--only");
    assert_true(rf_cli_has(argc, argv, "--vit-share"));
    assert_true(rf_cli_has(argc, argv, "--vit_share"));
    assert_true(rf_cli_has(argc, argv, "--gen_steps"));
    assert_true(rf_cli_has(argc, argv, "--only"));
    assert_false(rf_cli_has(argc, argv, "--vit"));       /* a prefix is not the flag */
    assert_false(rf_cli_has(argc, argv, "--gen-steps-x"));
    assert_false(rf_cli_has(argc, argv, "--model"));
    assert_string_equal(rf_cli_value(argc, argv, "--vit-share"), "0:1");
    assert_string_equal(rf_cli_value(argc, argv, "--gen_steps"), "5");
    assert_string_equal(rf_cli_value(argc, argv, "--max_epochs"), "4"); /* the last one */
    assert_null(rf_cli_value(argc, argv, "--only"));                    /* no value follows */
    assert_null(rf_cli_value(argc, argv, "--model"));
}

/* rf_cli_flag_error on run's flags after rf_fail_field(field, msg) [and a prefix]. */
static const char *renamed(const char *field, const char *msg, const char *prefix) {
    run_table t;
    ARGV("--model", "m");
    run_init(&t, argc, argv);
    if (field) rf_fail_field(field, "%s", msg);
    else rf_fail("%s", msg);
    if (prefix) rf_fail_prefix("%s", prefix);
    assert_int_equal(rf_cli_flag_error(t.opts, t.nopts), RF_ERR);
    return rf_last_error();
}

static void test_flag_error(void **state) {
    /* at the start, and after a caller's prefix */
    assert_string_equal(renamed("aqlm.in_group_size", "in_group_size 32 does not divide in_features 16", NULL),
                        "--in_group_size 32 does not divide in_features 16");
    assert_string_equal(rf_error_field(), "aqlm.in_group_size"); /* still about that setting */
    assert_string_equal(renamed("aqlm.in_group_size", "in_group_size 32 does not divide in_features 16",
                                "model.layers.0.mlp.down_proj [32, 16]: "),
                        "model.layers.0.mlp.down_proj [32, 16]: --in_group_size 32 does not divide in_features 16");
    /* the generator's settings, and its kind */
    assert_string_equal(renamed("gen.steps", "steps -1 must be >= 0", NULL), "--gen-steps -1 must be >= 0");
    assert_string_equal(renamed("gen.kind", "kind 'x': expected qgp, paramgen or none", NULL),
                        "--vit-generator 'x': expected qgp, paramgen or none");
    assert_string_equal(renamed("aqlm.lr", "lr 0: must be a positive number", NULL), "--lr 0: must be a positive number");
    assert_string_equal(renamed("gen.lr", "lr 0 must be positive", NULL), "--gen-lr 0 must be positive");
    /* a field no flag sets, and no field at all: unchanged */
    assert_string_equal(renamed("gen.qubits", "qubits 40 is outside [1, 24]", NULL), "qubits 40 is outside [1, 24]");
    assert_string_equal(renamed("statevec.entangler", "entangler 'x': expected chain or ring", NULL),
                        "entangler 'x': expected chain or ring");
    assert_string_equal(renamed(NULL, "in_group_size 32 does not divide in_features 16", NULL),
                        "in_group_size 32 does not divide in_features 16");
    /* the short name twice: only the first whole word; not inside a tensor name or a longer name */
    assert_string_equal(renamed("gen.layers", "layers 70 is outside [1, 64]; layers are circuit layers",
                                "vision_model.encoder.layers.3.mlp.fc1 [8, 8]: "),
                        "vision_model.encoder.layers.3.mlp.fc1 [8, 8]: --gen-layers 70 is outside [1, 64]; "
                        "layers are circuit layers");
    assert_string_equal(renamed("aqlm.out_group_size", "in_group_size 8 x out_group_size 64: too many", NULL),
                        "in_group_size 8 x --out_group_size 64: too many");
    assert_string_equal(renamed("gen.rank", "lowrank: rank 2000 is outside [1, 1024]", NULL),
                        "lowrank: --gen-rank 2000 is outside [1, 1024]");
    assert_string_equal(renamed("aqlm.max_epochs", "at most max_epochs.", NULL), "at most --max_epochs.");
    /* a message that already names the flag is left as it is (no "----") */
    assert_string_equal(renamed("aqlm.in_group_size", "--in_group_size 7 does not divide 16", NULL),
                        "--in_group_size 7 does not divide 16");
}

/* rf_cli_vit_finish after parsing argv with run's flags. */
static int vit_finish(int argc, char **argv, rf_vit_share *vs) {
    run_table t;
    run_init(&t, argc, argv);
    int rc = rf_cli_parse(argc, argv, "run", t.opts, t.nopts);
    if (rc == RF_OK) rc = rf_cli_vit_finish(&t.vit, vs);
    return rc == RF_OK ? RF_OK : rf_cli_flag_error(t.opts, t.nopts);
}

static void test_vit_finish(void **state) {
    rf_vit_share vs;
    {
        ARGV("--model", "m");
        assert_int_equal(vit_finish(argc, argv, &vs), RF_OK);
        assert_int_equal(vs.npairs, 0);
    }
    {
        ARGV("--vit_share", "2:3,2:4", "--vit_generator=paramgen", "--gen_rank", "4");
        assert_int_equal(vit_finish(argc, argv, &vs), RF_OK);
        assert_int_equal(vs.npairs, 2);
        assert_true(vs.from[1] == 2 && vs.to[1] == 4);
        assert_int_equal(vs.gen.kind, RF_GEN_PARAMGEN);
        assert_int_equal(vs.gen.layers, rf_gen_config_default(RF_GEN_PARAMGEN).layers); /* its defaults */
        assert_int_equal(vs.gen.rank, 4);
    }
    {
        ARGV("--gen_steps=5");
        expect_error(vit_finish(argc, argv, &vs), "--gen_steps needs --vit-share A:B");
    }
    {
        ARGV("--vit-generator", "none");
        expect_error(vit_finish(argc, argv, &vs), "--vit-generator needs --vit-share A:B");
    }
    {
        ARGV("--vit-share", "0:1", "--vit-generator", "bogus");
        expect_error(vit_finish(argc, argv, &vs), "--vit-generator 'bogus'");
    }
    {
        ARGV("--vit-share", "1:1");
        expect_error(vit_finish(argc, argv, &vs), "--vit-share '1:1': block 1 cannot share with itself");
    }
    {
        ARGV("--vit-share=23");
        expect_error(vit_finish(argc, argv, &vs), "--vit-share '23': expected A:B");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_both_spellings), cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_bad_numbers),              cmocka_unit_test(test_unknown_flag_suggestion),
        cmocka_unit_test(test_unknown_flag_without_suggestion), cmocka_unit_test(test_help),
        cmocka_unit_test(test_has_and_value),            cmocka_unit_test(test_flag_error),
        cmocka_unit_test(test_vit_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
