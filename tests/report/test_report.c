/* test_report.c -- runs compared (report/report.h, report_tables.h, report_plot.h) on summaries
 * that io/summary.h writes: bits per weight weighted by matrix size and not counted twice, the
 * errors' means and max, the per-projection means, perplexity only when recorded, names from the
 * configurations, the front without incomplete runs, folders of runs in natural order; the CSV
 * and Markdown files and the gnuplot script; and damaged or missing summaries refused with a line
 * naming the file. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/summary.h"
#include "report/report.h"
#include "report/report_plot.h"
#include "report/report_tables.h"
#include "shards/resume.h"

static rf_summary_row aqlm_row(const char *name, int64_t out, int64_t in, double act, double bits) {
    return (rf_summary_row){.name = name, .out_features = out, .in_features = in,
                            .stats = {.rel_act_err = act, .rel_w_err = 2 * act,
                                      .bits_per_weight = bits, .seconds = 1.5}};
}

/* DIR/summary.json of a run with configuration MxB-gIG (and max_epochs) and its rows. */
static void write_run(const char *dir, int m, int nbits, int ig, int max_epochs, int complete,
                      const rf_summary_row *rows, int n) {
    rf_aqlm_config cfg = rf_aqlm_config_default();
    cfg.num_codebooks = m;
    cfg.nbits_per_codebook = nbits;
    cfg.in_group_size = ig;
    cfg.max_epochs = max_epochs;
    char *config = rf_run_config_json(&cfg, NULL, 0, "xtx.h5");
    const rf_summary s = {.version = "0.test", .model = "M", .out = dir, .config_json = config,
                          .ranks = 2, .omp_threads = 1, .seconds = 9.5, .complete = complete,
                          .tasks_total = n, .n = n, .rows = rows};
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(rf_summary_write(dir, &s), RF_OK);
    free(config);
}

/* Three AQLM matrices (one q_proj twice the size of the others) and a generated ViT matrix. */
static void write_standard_run(const char *dir, int nbits, double act, double bits, int complete) {
    const rf_summary_row rows[4] = {
        aqlm_row("model.layers.0.self_attn.q_proj", 16, 16, act, bits),
        aqlm_row("model.layers.0.self_attn.k_proj", 8, 16, 3 * act, bits + 0.5),
        aqlm_row("model.layers.1.self_attn.q_proj", 8, 16, 2 * act, bits),
        {.name = "vision.layers.1.fc1", .out_features = 4, .in_features = 4, .vit = 1,
         .gen = {.rel_w_err = 9, .seconds = 100}, .method = "qgp", .shared_from = "x"},
    };
    write_run(dir, 2, nbits, 8, 100, complete, rows, 4);
}

static void test_one_run_reduced(void **state) {
    char dir[4096];
    write_standard_run(in_dir(dir, state, "run"), 8, 0.1, 2.25, 1);
    rf_report_run r;
    assert_int_equal(rf_report_read_run(dir, &r), RF_OK);
    assert_int_equal(r.matrices, 3); /* not the ViT matrix */
    assert_true(r.complete);
    /* weights 256, 128, 128: (256*2.25 + 128*2.75 + 128*2.25) / 512; each row's bits already
     * include its codebooks and scales, nothing is added */
    assert_true(fabs(r.bits_per_weight - 2.375) < 1e-12);
    assert_true(fabs(r.mean_rel_act_err - 0.2) < 1e-12);
    assert_true(fabs(r.max_rel_act_err - 0.3) < 1e-12);
    assert_true(fabs(r.mean_rel_w_err - 0.4) < 1e-12);
    assert_true(fabs(r.kind_rel_act_err[0] - 0.15) < 1e-12); /* q_proj: (0.1 + 0.2) / 2 */
    assert_true(fabs(r.kind_rel_act_err[1] - 0.3) < 1e-12);  /* k_proj */
    for (int k = 2; k < RF_REPORT_NUM_KINDS; k++) assert_true(isnan(r.kind_rel_act_err[k]));
    assert_true(isnan(r.perplexity));
    assert_true(fabs(r.seconds - 9.5) < 1e-12);
    assert_true(fabs(r.task_seconds - 104.5) < 1e-12); /* the ViT task's seconds count too */
    assert_int_equal(r.cfg.num_codebooks, 2);
    assert_int_equal(r.cfg.nbits_per_codebook, 8);
    assert_string_equal(r.model, "M");
    free(r.model);
}

/* The summary's JSON with a change made by edit(), written back. */
static void edit_summary(const char *dir, void (*edit)(json_t *)) {
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    edit(root);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
}

static void add_perplexity(json_t *root) { json_object_set_new(root, "perplexity", json_real(7.25)); }
static void bad_perplexity(json_t *root) { json_object_set_new(root, "perplexity", json_string("low")); }
static void drop_tasks(json_t *root) { json_object_del(root, "tasks"); }
static void drop_nbits(json_t *root) {
    json_object_del(json_object_get(root, "config"), "nbits_per_codebook");
}
static void fractional_codebooks(json_t *root) {
    json_object_set_new(json_object_get(root, "config"), "num_codebooks", json_real(2.5));
}
static void break_row(json_t *root) {
    json_object_del(json_array_get(json_object_get(root, "tasks"), 1), "rel_act_err");
}

static void expect_refused(const char *dir, const char *part) {
    rf_report_run r;
    assert_int_equal(rf_report_read_run(dir, &r), RF_ERR);
    if (!strstr(rf_last_error(), part)) fail_msg("'%s' lacks '%s'", rf_last_error(), part);
    if (!strstr(rf_last_error(), dir)) fail_msg("'%s' does not name %s", rf_last_error(), dir);
}

static void test_perplexity_and_damaged_summaries(void **state) {
    char dir[4096];
    rf_report_run r;
    write_standard_run(in_dir(dir, state, "run"), 8, 0.1, 2.25, 1);
    edit_summary(dir, add_perplexity);
    assert_int_equal(rf_report_read_run(dir, &r), RF_OK);
    assert_true(r.perplexity == 7.25);
    free(r.model);

    edit_summary(dir, bad_perplexity);
    expect_refused(dir, "perplexity is not a number");
    edit_summary(dir, add_perplexity);
    edit_summary(dir, break_row);
    expect_refused(dir, "tasks[1] (model.layers.0.self_attn.k_proj): ");
    edit_summary(dir, drop_nbits);
    expect_refused(dir, "config.nbits_per_codebook is missing");
    edit_summary(dir, fractional_codebooks); /* read before nbits_per_codebook */
    expect_refused(dir, "config: num_codebooks 2.5 is not an integer");
    edit_summary(dir, drop_tasks);
    expect_refused(dir, "tasks");

    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    assert_int_equal(truncate(path, 40), 0);
    expect_refused(dir, "not valid JSON");

    const rf_summary_row vit_only[1] = {{.name = "vision.fc1", .out_features = 4, .in_features = 4,
                                         .vit = 1, .method = "qgp", .shared_from = "x"}};
    write_run(in_dir(dir, state, "vit"), 1, 8, 8, 100, 1, vit_only, 1);
    expect_refused(dir, "no quantized (aqlm) matrices");
}

/* sweep/config-{0,2,10} and a lone run: named by what differs, sorted by bits, front marked. */
static void test_collect_names_sorts_and_marks_front(void **state) {
    char sweep[4096], path[4200], lone[4096];
    assert_int_equal(mkdir(in_dir(sweep, state, "sweep"), 0755), 0);
    snprintf(path, sizeof path, "%s/config-10", sweep);
    write_standard_run(path, 8, 0.01, 4.0, 1);
    snprintf(path, sizeof path, "%s/config-2", sweep);
    write_standard_run(path, 6, 0.02, 3.0, 1);
    snprintf(path, sizeof path, "%s/config-0", sweep);
    write_standard_run(path, 4, 0.05, 2.0, 1);
    snprintf(path, sizeof path, "%s/logs", sweep); /* not a run: left alone */
    assert_int_equal(mkdir(path, 0755), 0);
    const rf_summary_row rows[1] = {aqlm_row("model.layers.0.mlp.down_proj", 8, 8, 0.001, 2.5)};
    write_run(in_dir(lone, state, "lone"), 2, 6, 8, 50, 0, rows, 1); /* interrupted, best error */

    char *dirs[2] = {sweep, lone};
    rf_report rep;
    assert_int_equal(rf_report_collect(2, dirs, &rep), RF_OK);
    assert_int_equal(rep.n, 4);
    assert_true(rep.same_model);
    const char *names[4] = {"2x4-g8-ep100", "2x6-g8-ep50", "2x6-g8-ep100", "2x8-g8-ep100"};
    const int front[4] = {1, 0, 1, 1}; /* the incomplete run is left out */
    for (int i = 0; i < 4; i++) {
        assert_string_equal(rep.runs[i].name, names[i]);
        assert_int_equal(rep.runs[i].pareto, front[i]);
        if (i) assert_true(rep.runs[i].bits_per_weight >= rep.runs[i - 1].bits_per_weight);
    }
    assert_false(rep.runs[1].complete);

    /* the files: one CSV row per run with the front; Markdown with both tables */
    char out[4096];
    assert_int_equal(rf_report_write_tables(in_dir(out, state, ""), &rep), RF_OK);
    snprintf(path, sizeof path, "%s/report.csv", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "name,folder,complete,pareto,matrices,bits_per_weight,"
                                 "mean_rel_act_err,max_rel_act_err,mean_rel_w_err,perplexity"));
    assert_non_null(strstr(line, ",down_proj_rel_act_err\n"));
    int rows_read = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        int complete, pareto, matrices;
        assert_int_equal(sscanf(line, "%63[^,],%*[^,],%d,%d,%d", name, &complete, &pareto, &matrices), 4);
        assert_string_equal(name, names[rows_read]);
        assert_int_equal(pareto, front[rows_read]);
        assert_int_equal(complete, rows_read != 1);
        rows_read++;
    }
    fclose(f);
    assert_int_equal(rows_read, 4);
    snprintf(path, sizeof path, "%s/report.md", out);
    f = fopen(path, "r");
    assert_non_null(f);
    char md[8192];
    md[fread(md, 1, sizeof md - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(md, "| * | 2x4-g8-ep100 | 2.1250 |"));
    assert_non_null(strstr(md, "| incomplete | 2x6-g8-ep50 |"));
    assert_non_null(strstr(md, "## Per projection: mean rel_act_err"));

    char *gp = rf_report_gnuplot_script(&rep);
    assert_non_null(strstr(gp, "$front << EOD\n2.125 0.1 \"2x4-g8-ep100\"\n3.125 0.04 \"2x6-g8-ep100\"\n"));
    assert_non_null(strstr(gp, "set xlabel \"bits per weight"));
    assert_non_null(strstr(gp, "did not finish"));
    free(gp);
    rf_report_free(&rep);
}

static void test_folders_without_runs_are_refused(void **state) {
    char empty[4096], missing[4096];
    assert_int_equal(mkdir(in_dir(empty, state, "empty"), 0755), 0);
    char *dirs[1] = {empty};
    rf_report rep;
    assert_int_equal(rf_report_collect(1, dirs, &rep), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "empty: no summary.json in it or in its subfolders"));
    in_dir(missing, state, "nowhere");
    dirs[0] = missing;
    assert_int_equal(rf_report_collect(1, dirs, &rep), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "nowhere: No such file or directory"));
    assert_int_equal(rf_report_collect(0, dirs, &rep), RF_ERR);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_run_reduced, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_perplexity_and_damaged_summaries, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_collect_names_sorts_and_marks_front, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_folders_without_runs_are_refused, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
