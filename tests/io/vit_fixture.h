/* vit_fixture.h -- a generated ViT matrix for the /vit tests (test_vit_record.c,
 * test_checkpoint.c): a 6 x 4 weight and one generator tensor, with stats that beat both plain
 * sharing and the baseline, written as a shard in the test's folder. Include after cmocka and
 * tests/fixtures/tmpdir.h. */
#ifndef RF_VIT_FIXTURE_H
#define RF_VIT_FIXTURE_H

#include <string.h>

#include "common/rf_error.h"
#include "io/vit_record.h"

#define VIT_NAME "vision_model.encoder.layers.1.mlp.fc1"
#define VIT_SHARED_FROM "vision_model.encoder.layers.0.mlp.fc1"

typedef struct {
    float weight[6 * 4], angles[2 * 5 * 3];
    rf_gen_result res;
    rf_gen_stats stats;
    rf_vit_record rec;
} vit_fixture;

static inline void make_vit_fixture(vit_fixture *f) {
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 24; i++) f->weight[i] = 0.25f * (float)i - 3.0f;
    for (int i = 0; i < 30; i++) f->angles[i] = 0.01f * (float)i;
    f->res = (rf_gen_result){.out_features = 6, .in_features = 4, .weight = f->weight, .ntensors = 1};
    f->res.tensors[0] = (rf_gen_tensor){.name = "angles", .ndim = 3, .dims = {2, 5, 3}, .data = f->angles};
    f->stats = (rf_gen_stats){.rel_w_err = 0.5, .shared_rel_w_err = 0.8, .baseline_rel_w_err = 0.6,
                              .qubits = 5, .layers = 2, .params = 131, .baseline_params = 140,
                              .steps = 200, .seconds = 1.25};
    f->rec = (rf_vit_record){.name = VIT_NAME, .shared_from = VIT_SHARED_FROM,
                             .kind = RF_GEN_QGP, .res = &f->res, .stats = &f->stats, .device = "cpu"};
}

/* The fixture's shard as DIR/vit.h5 (path [4096]) of config. */
static inline void write_vit_shard(void **state, char *path, vit_fixture *f, const char *config) {
    make_vit_fixture(f);
    in_dir(path, state, "vit.h5");
    if (rf_vit_shard_write(path, config, &f->rec) != RF_OK) fail_msg("%s", rf_last_error());
}

#endif
