/* test_summary.c -- a run's summaries (io/summary.h): summary.json's fields and totals (bits per
 * weight weighted by matrix size, means, the vit totals only with vit rows), summary.csv's header
 * and rows (vit columns empty for AQLM rows and the reverse), the printed tables (one line per
 * projection kind and shape, the total, the generated matrices and how many beat the others), and
 * the truth about the checkpoint: after a real assembly that fails on a damaged shard, "complete"
 * is false with the reason, and an earlier run's summary saying true does not survive. */
#define _GNU_SOURCE /* mkdtemp, nftw, open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "matrix_fixture.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/checkpoint.h"
#include "io/summary.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2}";

static rf_summary_row aqlm_row(const char *name, int64_t out, int64_t in, double act, double bits) {
    return (rf_summary_row){.name = name, .out_features = out, .in_features = in,
                            .stats = {.rel_act_err = act, .rel_w_err = 0.5, .bits_per_weight = bits,
                                      .seconds = 2, .epochs = 3, .adam_steps = 30},
                            .method = "qgp", .rank = 1};
}

static rf_summary_row vit_row(const char *name, double err, double shared, double baseline) {
    return (rf_summary_row){.name = name, .out_features = 8, .in_features = 8, .vit = 1,
                            .gen = {.rel_w_err = err, .shared_rel_w_err = shared,
                                    .baseline_rel_w_err = baseline, .qubits = 6, .params = 99,
                                    .seconds = 1},
                            .method = "qgp", .shared_from = "v.layers.0.fc1", .rank = -1};
}

static rf_summary make_summary(const rf_summary_row *rows, int n) {
    return (rf_summary){.version = "0.test", .model = "M", .xtx = NULL, .out = "O",
                        .config_json = CONFIG, .ranks = 2, .omp_threads = 3, .seconds = 9.5,
                        .complete = 1, .tasks_total = n + 1, .n = n, .rows = rows};
}

static void test_json(void **state) {
    (void)state;
    const rf_summary_row rows[3] = {aqlm_row("m.layers.0.self_attn.q_proj", 10, 10, 0.1, 2),
                                    aqlm_row("m.layers.0.mlp.up_proj", 30, 10, 0.3, 4),
                                    vit_row("v.layers.1.fc1", 0.5, 0.8, 0.6)};
    rf_summary s = make_summary(rows, 3);
    char *text = rf_summary_json(&s);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "tasks_total")), 4);
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_true(json_is_null(json_object_get(j, "xtx")));
    assert_null(json_object_get(j, "assembly_error")); /* only when the assembly failed */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "config"), "num_codebooks")), 2);
    json_t *t = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "tasks")), 2);
    /* (100 * 2 + 300 * 4) / 400 bits per weight, the mean of 0.1 and 0.3 */
    assert_true(fabs(json_real_value(json_object_get(t, "bits_per_weight")) - 3.5) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(t, "mean_rel_act_err")) - 0.2) < 1e-12);
    json_t *v = json_object_get(t, "vit");
    assert_int_equal(json_integer_value(json_object_get(v, "tasks")), 1);
    assert_int_equal(json_integer_value(json_object_get(v, "beats_sharing")), 1);
    assert_int_equal(json_integer_value(json_object_get(v, "beats_baseline")), 1);
    json_t *tasks = json_object_get(j, "tasks");
    assert_int_equal(json_array_size(tasks), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 0), "kind")), "aqlm");
    json_t *vt = json_array_get(tasks, 2);
    assert_string_equal(json_string_value(json_object_get(vt, "kind")), "vit");
    assert_string_equal(json_string_value(json_object_get(vt, "shared_from")), "v.layers.0.fc1");
    assert_int_equal(json_integer_value(json_object_get(vt, "rank")), -1);
    json_decref(j);
    free(text);

    s = make_summary(rows, 2); /* no vit rows: no vit totals */
    text = rf_summary_json(&s);
    j = json_loads(text, 0, NULL);
    assert_null(json_object_get(json_object_get(j, "totals"), "vit"));
    json_decref(j);
    free(text);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_files(void **state) {
    const rf_summary_row rows[2] = {aqlm_row("m.layers.0.mlp.up_proj", 30, 10, 0.3, 4),
                                    vit_row("v.layers.1.fc1", 0.9, 0.8, 0.6)};
    rf_summary s = make_summary(rows, 2);
    assert_int_equal(rf_summary_write(*state, &s), RF_OK);
    char path[4096];
    json_t *j = json_load_file(in_dir(path, state, "summary.json"), 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j, "totals"), "vit"), "beats_sharing")), 0);
    json_decref(j);
    const char *csv = slurp(in_dir(path, state, "summary.csv"));
    assert_non_null(strstr(csv, "name,out_features,in_features,rel_act_err,rel_w_err,"
                                "bits_per_weight,seconds,epochs,adam_steps,rank,kind,method,"
                                "shared_from,shared_rel_w_err,baseline_rel_w_err,params,"
                                "baseline_params\n"));
    assert_non_null(strstr(csv, "\nm.layers.0.mlp.up_proj,30,10,0.3,0.5,4.000000,2.000,3,30,1,aqlm,,,,,,\n"));
    assert_non_null(strstr(csv, "\nv.layers.1.fc1,8,8,,0.9,,1.000,,,-1,vit,qgp,v.layers.0.fc1,0.8,0.6,99,0\n"));
    assert_int_equal(access(in_dir(path, state, "summary.csv.tmp"), F_OK), -1); /* none left */

    assert_int_equal(rf_summary_write("/nonexistent/folder", &s), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "/nonexistent/folder/summary.json"));
}

static json_t *load_summary(void **state) {
    char path[4096];
    json_t *j = json_load_file(in_dir(path, state, "summary.json"), 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_summary_after_assembly(void **state) {
    char shard[4096], ckpt[4096], path[4096], want[512];
    matrix_fixture f;
    write_damaged_matrix_shard(state, shard, &f, CONFIG, "codes", want);
    const char *shards[1] = {shard}, *names[1] = {f.rec.name};
    const rf_record_kind kinds[1] = {RF_RECORD_MATRIX};
    const rf_summary_row rows[1] = {aqlm_row(f.rec.name, 64, 128, 0.1, 2)};
    rf_summary s = make_summary(rows, 1);
    s.tasks_total = 1;

    /* A finished run: complete, no assembly_error. */
    assert_int_equal(rf_summary_write_run(*state, &s, RF_OK), RF_OK);
    json_t *j = load_summary(state);
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_null(json_object_get(j, "assembly_error"));
    json_decref(j);

    /* A rerun whose assembly fails: no checkpoint, and the summary says why. */
    in_dir(ckpt, state, "checkpoint.h5");
    int rc = rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, kinds);
    assert_int_equal(rc, RF_ERR);
    assert_int_equal(rf_summary_write_run(*state, &s, rc), RF_ERR);
    assert_non_null(strstr(rf_last_error(), want)); /* the run's error line is the assembly's */
    assert_int_equal(access(ckpt, F_OK), -1);
    j = load_summary(state);
    assert_true(json_is_false(json_object_get(j, "complete")));
    const char *why = json_string_value(json_object_get(j, "assembly_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, want));
    assert_non_null(strstr(why, ckpt));
    assert_int_equal(json_integer_value(json_object_get(j, "tasks_total")), 1);
    json_decref(j);

    /* Nor can the summary be written (its temporary name is taken by a folder): both reasons, and
     * the finished run's summary that said complete is gone. */
    s = make_summary(rows, 1);
    assert_int_equal(rf_summary_write(*state, &s), RF_OK);
    assert_int_equal(mkdir(in_dir(path, state, "summary.json.tmp"), 0755), 0);
    rf_fail("shard S is damaged");
    assert_int_equal(rf_summary_write_run(*state, &s, RF_ERR), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "shard S is damaged"));
    assert_non_null(strstr(rf_last_error(), "summary.json.tmp"));
    assert_int_equal(access(in_dir(path, state, "summary.json"), F_OK), -1);
    rmdir(in_dir(path, state, "summary.json.tmp"));
    free_matrix_fixture(&f);
}

static void test_tables(void **state) {
    (void)state;
    const rf_summary_row rows[5] = {aqlm_row("m.layers.0.self_attn.q_proj", 10, 10, 0.1, 2),
                                    aqlm_row("m.layers.1.self_attn.q_proj", 10, 10, 0.3, 2),
                                    aqlm_row("m.layers.0.mlp.up_proj", 30, 10, 0.2, 4),
                                    vit_row("v.layers.1.fc1", 0.5, 0.8, 0.6),
                                    vit_row("v.layers.1.fc2", 0.7, 0.8, 0.6)};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rf_summary_print_tables(f, rows, 5);
    fclose(f);
    assert_non_null(strstr(text, "q_proj         2          10x10     2.0000     0.200000   0.500000       4.00\n"));
    assert_non_null(strstr(text, "up_proj        1          30x10     4.0000     0.200000   0.500000       2.00\n"));
    assert_non_null(strstr(text, "total          3                    3.2000     0.200000                  6.00\n"));
    assert_non_null(strstr(text, "v.layers.1.fc2"));
    assert_non_null(strstr(text, "qgp beats plain sharing on 2 of 2 matrices and the classical "
                                 "baseline on 1 of 2"));
    free(text);

    text = NULL;
    f = open_memstream(&text, &len);
    rf_summary_print_tables(f, rows + 3, 2); /* only generated matrices: no AQLM table */
    fclose(f);
    assert_null(strstr(text, "total"));
    assert_non_null(strstr(text, "shared ViT matrix"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test_setup_teardown(test_files, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_summary_after_assembly, make_dir, remove_dir),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
