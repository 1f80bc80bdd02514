/* assembly_rss.c -- the memory of the final assembly: rank 0's resident set while it builds
 * checkpoint.h5 from the shards (io/checkpoint.h), for models of growing size.
 *
 *   assembly_rss [--layers 8] [--hidden 1024] [--intermediate 3072] [--dir .]
 *
 * Writes the shards of a synthetic Qwen-style model -- per layer q, k, v, o [hidden, hidden], gate,
 * up [intermediate, hidden] and down [hidden, intermediate], AQLM 2x8 in groups of 8 (2 bits per
 * weight, random codes) and a provenance of 300 bytes per matrix, about what summary.json holds --
 * then assembles them with rf_checkpoint_assemble, as `riverforge run`'s rank 0 does, and prints
 * one line: layers, matrices, the shards' and the checkpoint's MiB, the resident memory before the
 * assembly, its peak during it, and the time. What grows with the model is the checkpoint's bytes
 * and its number of records; the shapes only have to make it large while the shards are quick to
 * write (no quantization runs). Shards and checkpoint go in a fresh folder under --dir, removed at
 * the end: put it on the file system you care about (a tmpfs counts as memory).
 *
 * The peak is Linux's VmHWM of this process, reset through /proc/self/clear_refs just before the
 * assembly (without that reset it is the whole process's peak, and the line says so).
 * docs/perf.md has the numbers.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rf_error.h"
#include "common/rf_log.h" /* rf_now */
#include "common/rf_rng.h"
#include "io/checkpoint.h"
#include "io/matrix_record.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2,\"nbits_per_codebook\":8}";
static const char *PROJ[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                              "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                              "mlp.down_proj"};

/* A field of /proc/self/status in MiB ("VmRSS", "VmHWM"); -1 when it cannot be read. */
static double status_mib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    double kib = -1;
    const size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') kib = atof(line + n + 1);
    fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

/* Starts VmHWM again from the current resident set (Linux 4.0 and later); 0 when it worked. */
static int reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static double file_mib(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / (1 << 20) : 0;
}

/* One shard of random codes, codebooks and scales, as a quantization would leave it. */
static void write_shard(const char *path, const char *name, int64_t out, int64_t in, rf_rng *r) {
    const rf_aqlm_config cfg = {.num_codebooks = 2, .nbits_per_codebook = 8, .in_group_size = 8,
                                .out_group_size = 1};
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, out, in, &cfg);
    const size_t ncodes = (size_t)out * (size_t)(in / 8) * 2, nbook = 2 * 256 * 8;
    for (size_t i = 0; i < ncodes; i++) q.codes[i] = (uint16_t)rf_rng_below(r, 256);
    for (size_t i = 0; i < nbook; i++) q.codebooks[i] = (float)rf_rng_uniform(r) - 0.5f;
    for (int64_t i = 0; i < out; i++) q.scales[i] = 1.0f;
    const rf_aqlm_stats st = {.bits_per_weight = 2.0};
    const rf_matrix_record rec = {.name = name, .q = &q, .stats = &st, .device = "cpu"};
    rf_check(rf_matrix_shard_write(path, CONFIG, &rec) == RF_OK, "%s", rf_last_error());
    rf_aqlm_free(&q);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(p);
}

int main(int argc, char **argv) {
    int layers = 8;
    int64_t hidden = 1024, inter = 3072;
    const char *parent = ".";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--layers")) layers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--hidden")) hidden = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--intermediate")) inter = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir")) parent = argv[i + 1];
        else rf_fatal("unknown flag %s", argv[i]);
    }
    rf_check(layers > 0 && hidden > 0 && inter > 0 && hidden % 8 == 0 && inter % 8 == 0,
             "--layers, --hidden, --intermediate must be positive; the sizes multiples of 8");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/assembly-rss.XXXXXX", parent);
    rf_check(mkdtemp(dir) != NULL, "cannot create a folder under %s", parent);

    const int n = 7 * layers;
    char **paths = rf_calloc((size_t)n, sizeof *paths);
    char **names = rf_calloc((size_t)n, sizeof *names);
    rf_record_kind *kinds = rf_calloc((size_t)n, sizeof *kinds);
    rf_rng r;
    rf_rng_init(&r, 1);
    double shards_mib = 0;
    for (int i = 0; i < n; i++) {
        const int p = i % 7;
        names[i] = rf_malloc(96);
        paths[i] = rf_malloc(4200);
        snprintf(names[i], 96, "model.layers.%d.%s", i / 7, PROJ[p]);
        snprintf(paths[i], 4200, "%s/%s.h5", dir, names[i]);
        const int64_t out = p == 4 || p == 5 ? inter : hidden, in = p == 6 ? inter : hidden;
        write_shard(paths[i], names[i], out, in, &r);
        shards_mib += file_mib(paths[i]);
        kinds[i] = RF_RECORD_MATRIX;
    }
    const size_t plen = 300 * (size_t)n + 2;
    char *provenance = rf_malloc(plen + 1);
    memset(provenance, ' ', plen);
    provenance[0] = '{', provenance[plen - 1] = '}', provenance[plen] = '\0';

    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", dir);
    const double before = status_mib("VmRSS");
    const int reset = reset_peak();
    const double t0 = rf_now();
    rf_check(rf_checkpoint_assemble(ckpt, CONFIG, provenance, n, (const char *const *)paths,
                                    (const char *const *)names, kinds) == RF_OK,
             "%s", rf_last_error());
    const double seconds = rf_now() - t0, peak = status_mib("VmHWM");
    printf("layers %4d  matrices %4d  shards %7.1f MiB  checkpoint %7.1f MiB  RSS before %6.1f MiB"
           "  peak %s %6.1f MiB  %.1f s\n",
           layers, n, shards_mib, file_mib(ckpt), before,
           reset == 0 ? "during assembly" : "of the process (VmHWM could not be reset)", peak,
           seconds);

    nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < n; i++) free(paths[i]), free(names[i]);
    free(paths), free(names), free(kinds), free(provenance);
    return 0;
}
