/* test_aqlm_case.c -- rf_aqlm_quantize on the public reference case (RF_CASES_DIR/aqlm-256x512:
 * a [256, 512] down_proj and its XTX), when present: rel_act_err at most 1.05x the reference
 * AQLM's for its two configurations. Apart from test_aqlm_quantize.c because it reads the case
 * through io/ (safetensors, HDF5), which the kernels-only build (RF_KERNELS_ONLY) lacks. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "aqlm_fixtures.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"

static int load_case(const char *dir, float **W, float **X) {
    char path[4096];
    rf_st_model m;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (access(path, R_OK) != 0) return 0;
    assert_int_equal(rf_st_open(&m, path), RF_OK);
    const rf_st_tensor *t = rf_st_find(&m, "model.layers.0.mlp.down_proj.weight");
    assert_non_null(t);
    assert_true(t->shape[0] == 256 && t->shape[1] == 512);
    *W = rf_malloc(256 * 512 * sizeof **W);
    assert_int_equal(rf_st_to_f32(&m, t, *W), RF_OK);
    rf_st_close(&m);
    rf_xtx_file *f;
    snprintf(path, sizeof path, "%s/xtx.h5", dir);
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    *X = rf_malloc(512 * 512 * sizeof **X);
    int64_t ns;
    assert_int_equal(rf_xtx_read(f, "model.layers.0.mlp.down_proj", 512, *X, &ns), RF_OK);
    rf_xtx_close(f);
    return 1;
}

static void test_public_case_quality(void **state) {
    (void)state;
    float *W, *X;
    if (!load_case(RF_CASES_DIR "/aqlm-256x512", &W, &X)) skip();
    /* reference.json: Vahe1994/AQLM, 20 epochs x 100 steps, tol 0.01, init 100, lr 1e-4 */
    const struct {
        int M, nbits;
        double ref;
    } runs[] = {{2, 8, 0.02330026827444635}, {1, 10, 0.04686273223095412}};
    for (int i = 0; i < 2; i++) {
        rf_aqlm_config c = fx_config(runs[i].M, runs[i].nbits, 1, 8, 1);
        c.max_epochs = 20;
        c.steps_per_epoch = 100;
        rf_aqlm_matrix q;
        rf_aqlm_stats s;
        rf_aqlm_quantize(W, X, 256, 512, &c, 0, &q, &s, NULL, NULL);
        print_message(
            "%dx%d: rel_act_err %.5f (reference %.5f), rel_w_err %.4f, %d epochs, %.2f s\n",
            runs[i].M, runs[i].nbits, s.rel_act_err, runs[i].ref, s.rel_w_err, s.epochs, s.seconds);
        assert_true(s.rel_act_err <= 1.05 * runs[i].ref);
        rf_aqlm_free(&q);
    }
    free(X), free(W);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_public_case_quality)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
