/* replay_main.c -- runs a libFuzzer harness over files without libFuzzer: the ctest replay of
 * each harness's seed corpus (and of any crash file a fuzzing run left), built with whatever
 * compiler builds the project.
 *
 *   fuzz_NAME_replay FILE|DIR...   every file given, and every file directly inside each DIR
 *
 * Like libFuzzer it calls LLVMFuzzerInitialize (when the harness has one) with the command line
 * first, then LLVMFuzzerTestOneInput once per file, in a fresh malloc'd buffer of exactly the
 * file's size (so that AddressSanitizer sees a read past the end). Exits 0 when every input ran;
 * a harness's failed check aborts. A folder with no files fails: the corpus went missing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static void run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files directly inside dir, in name order; how many. */
static int run_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        exit(1);
    }
    char **paths = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        paths = realloc(paths, (size_t)(n + 1) * sizeof *paths);
        paths[n++] = strdup(path);
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof *paths, by_name);
    for (int i = 0; i < n; i++) {
        run_file(paths[i]);
        free(paths[i]);
    }
    free(paths);
    if (n == 0) {
        fprintf(stderr, "replay: no files in %s\n", dir);
        exit(1);
    }
    return n;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            total += run_dir(argv[i]);
        } else {
            run_file(argv[i]);
            total++;
        }
    }
    printf("replayed %d inputs through %s\n", total, argv[0]);
    return total > 0 ? 0 : 1;
}
