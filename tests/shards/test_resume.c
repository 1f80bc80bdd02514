/* test_resume.c -- what a run has already done (shards/resume.h): the configuration JSON that
 * identifies a run (its exact text, the XTX file's name without its folder, the block-sharing
 * keys only with sharing), and the check of existing shards: a shard of this configuration counts
 * with its stats, one of another configuration, a damaged one and a missing one do not, and each
 * rank checks only its share of the tasks. Damaged shards are never accepted, whatever the damage
 * (a flipped byte, a zero-filled tail, a missing checksum header), and every crash window of the
 * atomic write ends in "recompute" or in the previous complete shard: only PATH.tmp written, or a
 * complete PATH beside a half-written PATH.tmp. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "task_fixtures.h"

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/matrix_record.h"
#include "shards/resume.h"

static void test_config_json(void **state) {
    (void)state;
    const rf_aqlm_config c = rf_aqlm_config_default();
    char *j = rf_run_config_json(&c, NULL, 7, "calib/run1/xtx.h5");
    assert_string_equal(j, "{\"beam_size\":1,\"in_group_size\":8,\"init_max_iter\":100,"
                           "\"init_max_points_per_centroid\":0,\"lr\":0.0001,\"max_epochs\":100,"
                           "\"method\":\"aqlm\",\"nbits_per_codebook\":16,\"num_codebooks\":1,"
                           "\"out_group_size\":1,\"relative_mse_tolerance\":0.01,\"seed\":7,"
                           "\"steps_per_epoch\":100,\"xtx\":\"xtx.h5\"}");
    free(j);
    j = rf_run_config_json(&c, NULL, 0, NULL);
    json_t *o = json_loads(j, 0, NULL);
    assert_true(json_is_null(json_object_get(o, "xtx")));
    assert_null(json_object_get(o, "vit_share"));
    json_decref(o);
    free(j);

    rf_vit_share vs = {.gen = rf_gen_config_default(RF_GEN_PARAMGEN)};
    j = rf_run_config_json(&c, &vs, 0, NULL); /* no pairs: no sharing keys */
    assert_null(strstr(j, "vit_"));
    free(j);
    assert_int_equal(rf_vit_share_parse("2:3,2:4", &vs), RF_OK);
    j = rf_run_config_json(&c, &vs, 0, NULL);
    o = json_loads(j, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "vit_share")), "2:3,2:4");
    json_t *g = json_object_get(o, "vit_generator");
    assert_string_equal(json_string_value(json_object_get(g, "kind")), "paramgen");
    assert_int_equal(json_integer_value(json_object_get(g, "layers")), 3);
    assert_int_equal(json_integer_value(json_object_get(g, "rank")), 8);
    json_decref(o);
    free(j);
}

static const tensor_spec TENSORS[] = {
    {"model.layers.0.mlp.down_proj.weight", 16, 64},
    {"model.layers.0.mlp.up_proj.weight", 64, 16},
    {"model.layers.0.self_attn.q_proj.weight", 32, 16},
    {"model.layers.0.self_attn.k_proj.weight", 8, 16},
};
#define NT (int)(sizeof TENSORS / sizeof TENSORS[0])

/* A shard for task t (all-zero codes, codebooks and scales) with the given config and errors. */
static void write_shard(const char *out, const rf_task *t, const rf_aqlm_config *c,
                        const char *config_json, double rel_act_err) {
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, t->out_features, t->in_features, c);
    const rf_aqlm_stats st = {.rel_act_err = rel_act_err, .rel_w_err = 0.5, .bits_per_weight = 3,
                              .seconds = 1.5, .epochs = 4, .adam_steps = 40};
    const rf_matrix_record rec = {.name = t->name, .q = &q, .stats = &st, .device = "cpu"};
    char path[4096];
    rf_task_shard_path(out, t, path, sizeof path);
    assert_int_equal(rf_matrix_shard_write(path, config_json, &rec), RF_OK);
    rf_aqlm_free(&q);
}

static void test_check_done(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    const rf_aqlm_config c = tiny_config();
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 0, &l), RF_OK);
    assert_int_equal(l.n, 4);
    char out[4096], path[4096];
    in_dir(out, state, "out");
    in_dir(path, state, "out/shards");
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    char *ours = rf_run_config_json(&c, NULL, 0, NULL), *theirs = rf_run_config_json(&c, NULL, 1, NULL);
    write_shard(out, &l.tasks[0], &c, ours, 0.25);   /* done */
    write_shard(out, &l.tasks[1], &c, theirs, 0.25); /* another configuration (seed) */
    write_shard(out, &l.tasks[2], &c, ours, 0.75);   /* then damaged */
    rf_task_shard_path(out, &l.tasks[2], path, sizeof path);
    assert_int_equal(truncate(path, 600), 0);
    /* task 3: no shard */

    unsigned char done[4] = {0};
    rf_task_stats stats[4] = {0};
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 0, 1, done, stats), 1);
    assert_memory_equal(done, ((unsigned char[4]){1, 0, 0, 0}), 4);
    assert_true(stats[0].aqlm.rel_act_err == 0.25 && stats[0].aqlm.epochs == 4 &&
                stats[0].aqlm.adam_steps == 40 && stats[0].aqlm.seconds == 1.5);

    /* rank 1 of 2 checks tasks 1 and 3 only: task 0's shard is not its to find */
    memset(done, 0, sizeof done);
    write_shard(out, &l.tasks[3], &c, ours, 0.125);
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 1, 2, done, stats), 1);
    assert_memory_equal(done, ((unsigned char[4]){0, 0, 0, 1}), 4);
    assert_true(stats[3].aqlm.rel_act_err == 0.125);
    free(ours);
    free(theirs);
    rf_tasks_free(&l);
    rf_st_close(&m);
}

/* Overwrites n bytes of path at offset at with byte b. */
static void overwrite(const char *path, off_t at, size_t n, unsigned char b) {
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseeko(f, at, SEEK_SET), 0);
    for (size_t i = 0; i < n; i++) fputc(b, f);
    fclose(f);
}

static void test_damaged_and_crash_windows(void **state) {
    enum { N = 4 };
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    const rf_aqlm_config c = tiny_config();
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 0, &l), RF_OK);
    char out[4096], path[N][4096], tmp[4200];
    in_dir(out, state, "out");
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(mkdir(in_dir(tmp, state, "out/shards"), 0755), 0);
    char *ours = rf_run_config_json(&c, NULL, 0, NULL);
    for (int i = 0; i < N; i++) {
        write_shard(out, &l.tasks[i], &c, ours, 0.5);
        rf_task_shard_path(out, &l.tasks[i], path[i], sizeof path[i]);
    }
    unsigned char done[N] = {0};
    rf_task_stats stats[N] = {0};
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 0, 1, done, stats), N);

    overwrite(path[0], 520, 5, 0xff); /* the superblock, behind the checksum header */
    struct stat st;
    assert_int_equal(stat(path[1], &st), 0); /* the second half zeroed, same size */
    overwrite(path[1], st.st_size / 2, (size_t)(st.st_size - st.st_size / 2), 0);
    overwrite(path[2], 0, 8, ' '); /* no checksum header: an older riverforge's, or damaged */
    /* Crash windows of task 3's rewrite: a half-written PATH.tmp beside the complete PATH... */
    snprintf(tmp, sizeof tmp, "%s.tmp", path[3]);
    FILE *f = fopen(tmp, "w");
    fputs("riverforge-image xxh3-128 half", f);
    fclose(f);
    memset(done, 0, sizeof done);
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 0, 1, done, stats), 1);
    assert_memory_equal(done, ((unsigned char[N]){0, 0, 0, 1}), N);
    /* ... and only the PATH.tmp, before the first rename: not done. */
    assert_int_equal(unlink(path[3]), 0);
    memset(done, 0, sizeof done);
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 0, 1, done, stats), 0);

    /* Recomputing writes over the damage and the leftover. */
    for (int i = 0; i < N; i++) write_shard(out, &l.tasks[i], &c, ours, 0.5);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(rf_tasks_check_done(&l, out, ours, 0, 1, done, stats), N);
    free(ours);
    rf_tasks_free(&l);
    rf_st_close(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_json),
        cmocka_unit_test_setup_teardown(test_check_done, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_damaged_and_crash_windows, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
