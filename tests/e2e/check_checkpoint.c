/* check_checkpoint.c -- an independent check of an assembled checkpoint, used by the end-to-end
 * tests: check_checkpoint CHECKPOINT.h5 MODEL EXPECTED_MATRICES [XTX.h5]
 *
 * For every /matrices/NAME it reads the datasets with plain HDF5 calls and checks their types
 * and shapes against docs/formats.md (codes uint8/uint16 [out/og, in/ig, M], codebooks
 * float16 [M, K, og, ig], scales float16 [out/og]), dequantizes with the formula of
 * docs/formats.md written out here (not riverforge's own dequantizer), and recomputes
 * rel_act_err and rel_w_err against the model's original weights: they must equal the stored
 * attributes to 1e-6 relative.
 * For every /vit/NAME (a generated shared-block matrix) it reads the float32 weight and recomputes
 * rel_w_err against NAME.weight and shared_rel_w_err of shared_from against it; the generated
 * matrix must be no worse than plain sharing, and method "none" must be block A's matrix itself.
 * Exit 0 when everything holds; one line per problem otherwise. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_half.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"

static int failures = 0;
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s: ", name);                                                             \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static double attr_double(hid_t g, const char *a) {
    double v = NAN;
    hid_t id = H5Aopen(g, a, H5P_DEFAULT);
    if (id >= 0) {
        H5Aread(id, H5T_NATIVE_DOUBLE, &v);
        H5Aclose(id);
    }
    return v;
}

static int64_t attr_int(hid_t g, const char *a) {
    int64_t v = -1;
    hid_t id = H5Aopen(g, a, H5P_DEFAULT);
    if (id >= 0) {
        H5Aread(id, H5T_NATIVE_INT64, &v);
        H5Aclose(id);
    }
    return v;
}

/* Reads dataset g/d into a new buffer as raw bytes; checks its class, size, sign and shape. */
static void *read_dataset(const char *name, hid_t g, const char *d, H5T_class_t cls, size_t size,
                          int rank, const hsize_t *shape) {
    hid_t ds = H5Dopen2(g, d, H5P_DEFAULT);
    if (ds < 0) {
        printf("FAIL %s: no dataset %s\n", name, d);
        failures++;
        return NULL;
    }
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    hsize_t dims[8] = {0};
    int r = H5Sget_simple_extent_dims(sp, dims, NULL);
    EXPECT(H5Tget_class(t) == cls && H5Tget_size(t) == size, "%s has the wrong type", d);
    if (cls == H5T_INTEGER) EXPECT(H5Tget_sign(t) == H5T_SGN_NONE, "%s must be unsigned", d);
    EXPECT(r == rank, "%s has rank %d, expected %d", d, r, rank);
    size_t n = 1;
    for (int i = 0; i < rank && r == rank; i++) {
        EXPECT(dims[i] == shape[i], "%s dim %d is %llu, expected %llu", d, i,
               (unsigned long long)dims[i], (unsigned long long)shape[i]);
        n *= shape[i];
    }
    void *buf = malloc(n * size);
    EXPECT(H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "%s does not read back", d);
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
    return buf;
}

static herr_t collect(hid_t g, const char *n, const H5L_info_t *info, void *names) {
    char ***list = names;
    int i = 0;
    while ((*list)[i]) i++;
    (*list)[i] = strdup(n);
    return 0;
}

static void check_matrix(hid_t file, const char *name, const rf_st_model *model, rf_xtx_file *xf) {
    char path[512], tensor[512];
    snprintf(path, sizeof path, "/matrices/%s", name);
    snprintf(tensor, sizeof tensor, "%s.weight", name);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    const rf_st_tensor *t = rf_st_find(model, tensor);
    EXPECT(t != NULL, "the model has no tensor %s", tensor);
    if (!t || g < 0) return;
    int64_t out = attr_int(g, "out_features"), in = attr_int(g, "in_features");
    int64_t M = attr_int(g, "num_codebooks"), nbits = attr_int(g, "nbits_per_codebook");
    int64_t ig = attr_int(g, "in_group_size"), og = attr_int(g, "out_group_size"), K = 1LL << nbits;
    EXPECT(out == t->shape[0] && in == t->shape[1], "shape attrs differ from the model's");
    hsize_t codes_shape[3] = {(hsize_t)(out / og), (hsize_t)(in / ig), (hsize_t)M};
    hsize_t cb_shape[4] = {(hsize_t)M, (hsize_t)K, (hsize_t)og, (hsize_t)ig};
    hsize_t sc_shape[1] = {(hsize_t)(out / og)};
    size_t code_size = nbits <= 8 ? 1 : 2;
    unsigned char *codes = read_dataset(name, g, "codes", H5T_INTEGER, code_size, 3, codes_shape);
    uint16_t *cb = read_dataset(name, g, "codebooks", H5T_FLOAT, 2, 4, cb_shape);
    uint16_t *sc = read_dataset(name, g, "scales", H5T_FLOAT, 2, 1, sc_shape);
    if (codes && cb && sc) {
        float *w = malloc((size_t)(out * in) * sizeof *w), *dw = malloc((size_t)(out * in) * sizeof *dw);
        rf_st_to_f32(model, t, w);
        double dw2 = 0, w2 = 0;
        for (int64_t r = 0; r < out; r++)
            for (int64_t c = 0; c < in; c++) {
                /* W[o*og+a, i*ig+b] = scales[o] * sum_m codebooks[m, codes[o,i,m], a, b] */
                int64_t o = r / og, a = r % og, i = c / ig, b = c % ig;
                double v = 0;
                for (int64_t m = 0; m < M; m++) {
                    int64_t at = (o * (in / ig) + i) * M + m;
                    int64_t k = code_size == 1 ? codes[at] : ((uint16_t *)codes)[at];
                    v += rf_fp16_to_f32(cb[((m * K + k) * og + a) * ig + b]);
                }
                v *= rf_fp16_to_f32(sc[o]);
                dw[r * in + c] = (float)(v - w[r * in + c]);
                dw2 += (v - w[r * in + c]) * (v - w[r * in + c]);
                w2 += (double)w[r * in + c] * w[r * in + c];
            }
        double rel_w = sqrt(dw2 / w2), rel_act = dw2 / w2;
        if (xf) { /* tr(dW XTX dW^T) / tr(W XTX W^T) */
            float *xtx = malloc((size_t)(in * in) * sizeof *xtx);
            int64_t ns;
            rf_xtx_read(xf, name, in, xtx, &ns);
            double num = 0, den = 0;
            for (int64_t r = 0; r < out; r++)
                for (int64_t c = 0; c < in; c++) {
                    double pd = 0, pw = 0;
                    for (int64_t k = 0; k < in; k++) {
                        pd += (double)dw[r * in + k] * xtx[k * in + c];
                        pw += (double)w[r * in + k] * xtx[k * in + c];
                    }
                    num += pd * dw[r * in + c];
                    den += pw * w[r * in + c];
                }
            rel_act = num / den;
            free(xtx);
        }
        double st_act = attr_double(g, "rel_act_err"), st_w = attr_double(g, "rel_w_err");
        EXPECT(fabs(rel_act - st_act) <= 1e-6 * fabs(rel_act), "rel_act_err %.9g, stored %.9g", rel_act, st_act);
        EXPECT(fabs(rel_w - st_w) <= 1e-6 * fabs(rel_w), "rel_w_err %.9g, stored %.9g", rel_w, st_w);
        free(w);
        free(dw);
    }
    free(codes);
    free(cb);
    free(sc);
    H5Gclose(g);
}

static char *attr_string(hid_t g, const char *a) {
    char *v = NULL;
    hid_t id = H5Aopen(g, a, H5P_DEFAULT);
    if (id < 0) return strdup("");
    hid_t t = H5Aget_type(id);
    H5Aread(id, t, &v);
    H5Tclose(t);
    H5Aclose(id);
    return v ? v : strdup("");
}

/* ||a - b|| / ||b|| */
static double rel_err(const float *a, const float *b, int64_t n) {
    double d2 = 0, b2 = 0;
    for (int64_t i = 0; i < n; i++) {
        d2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        b2 += (double)b[i] * b[i];
    }
    return sqrt(d2 / b2);
}

static void check_vit(hid_t file, const char *name, const rf_st_model *model) {
    char path[512], tensor[512], shared_tensor[600];
    snprintf(path, sizeof path, "/vit/%s", name);
    snprintf(tensor, sizeof tensor, "%s.weight", name);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    char *method = attr_string(g, "method"), *from = attr_string(g, "shared_from");
    snprintf(shared_tensor, sizeof shared_tensor, "%s.weight", from);
    const rf_st_tensor *t = rf_st_find(model, tensor), *ts = rf_st_find(model, shared_tensor);
    EXPECT(t && ts, "the model has no %s or no %s", tensor, shared_tensor);
    int64_t out = attr_int(g, "out_features"), in = attr_int(g, "in_features");
    if (t && ts) {
        EXPECT(out == t->shape[0] && in == t->shape[1], "shape attrs differ from the model's");
        hsize_t shape[2] = {(hsize_t)out, (hsize_t)in};
        float *gen = read_dataset(name, g, "weight", H5T_FLOAT, 4, 2, shape);
        float *w = malloc((size_t)(out * in) * sizeof *w), *ws = malloc((size_t)(out * in) * sizeof *ws);
        rf_st_to_f32(model, t, w);
        rf_st_to_f32(model, ts, ws);
        if (gen) {
            double rel = rel_err(gen, w, out * in), shared = rel_err(ws, w, out * in);
            double st = attr_double(g, "rel_w_err"), st_shared = attr_double(g, "shared_rel_w_err");
            EXPECT(fabs(rel - st) <= 1e-6 * rel, "rel_w_err %.9g, stored %.9g", rel, st);
            EXPECT(fabs(shared - st_shared) <= 1e-6 * shared, "shared_rel_w_err %.9g, stored %.9g",
                   shared, st_shared);
            EXPECT(rel <= shared * (1 + 1e-6), "rel_w_err %.9g is worse than plain sharing's %.9g",
                   rel, shared);
            EXPECT(attr_int(g, "beats_baseline") == (st < attr_double(g, "baseline_rel_w_err")),
                   "beats_baseline disagrees with the errors");
            if (!strcmp(method, "none"))
                EXPECT(memcmp(gen, ws, (size_t)(out * in) * sizeof *gen) == 0,
                       "method none: the weight is not %s", shared_tensor);
        }
        free(gen);
        free(w);
        free(ws);
    }
    free(method);
    free(from);
    H5Gclose(g);
}

/* The names under group (a NULL-terminated list), or an empty list when it is missing. */
static char **list_group(hid_t file, const char *group, hsize_t *n) {
    *n = 0;
    if (H5Lexists(file, group + 1, H5P_DEFAULT) <= 0) return calloc(1, sizeof(char *));
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    H5Gget_num_objs(g, n);
    char **names = calloc(*n + 1, sizeof *names);
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &names);
    H5Gclose(g);
    return names;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: check_checkpoint CHECKPOINT.h5 MODEL EXPECTED_MATRICES [XTX.h5]\n");
        return 2;
    }
    const char *name = argv[1];
    rf_st_model model;
    rf_xtx_file *xf = NULL;
    if (rf_st_open(&model, argv[2]) != 0 || (argc == 5 && rf_xtx_open(&xf, argv[4]) != 0)) {
        printf("FAIL: cannot open the model or XTX\n");
        return 1;
    }
    hid_t file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT(file >= 0, "cannot open");
    if (file < 0) return 1;
    hsize_t n = 0, nvit = 0;
    char **names = list_group(file, "/matrices", &n);
    EXPECT((long)n == atol(argv[3]), "%llu matrices, expected %s", (unsigned long long)n, argv[3]);
    for (hsize_t i = 0; i < n; i++) {
        check_matrix(file, names[i], &model, xf);
        free(names[i]);
    }
    free(names);
    names = list_group(file, "/vit", &nvit);
    for (hsize_t i = 0; i < nvit; i++) {
        check_vit(file, names[i], &model);
        free(names[i]);
    }
    free(names);
    H5Fclose(file);
    if (xf) rf_xtx_close(xf);
    rf_st_close(&model);
    printf("%s: %llu matrices and %llu generated ViT matrices checked, %d failures\n", argv[1],
           (unsigned long long)n, (unsigned long long)nvit, failures);
    return failures ? 1 : 0;
}
