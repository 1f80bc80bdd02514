/* test_out_lock.c -- the lock on OUT (shards/out_lock.h) between real processes: a second run is
 * refused with the holder named while any process of the first lives (its rank 0 or only a rank
 * that outlived it), and a lock left by a killed run blocks nothing. Every run here is a forked
 * process: fcntl locks never conflict inside one process. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "shards/out_lock.h"

/* A process that takes (rank 0) or joins (another rank) the lock on dir and holds it until it is
 * killed. Returns its pid once it holds the lock. */
static pid_t run_rank(const char *dir, int rank0) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char ok = (rank0 ? rf_out_lock_take(dir, 2) : rf_out_lock_join(dir)) == RF_OK ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1 || ok != 'y') _exit(1);
        for (;;) pause();
    }
    close(p[1]);
    char ok = 0;
    assert_int_equal(read(p[0], &ok, 1), 1);
    close(p[0]);
    assert_int_equal(ok, 'y');
    return pid;
}

static void kill_rank(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* rf_out_lock_take in a child process of its own: its result. */
static int try_take(const char *dir) {
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(rf_out_lock_take(dir, 1) == RF_OK ? 0 : 1);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? RF_OK : RF_ERR;
}

static void test_take_creates_out_and_names_the_holder(void **state) {
    char out[4096], path[4200], text[512] = "";
    in_dir(out, state, "a/b/out");
    assert_int_equal(rf_out_lock_take(out, 3), RF_OK);
    snprintf(path, sizeof path, "%s/%s", out, RF_OUT_LOCK_FILE);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    char pid[64];
    snprintf(pid, sizeof pid, ", pid %ld, started ", (long)getpid());
    assert_non_null(strstr(text, "host "));
    assert_non_null(strstr(text, pid));
    assert_non_null(strstr(text, " UTC, 3 ranks"));
}

static void test_second_run_refused_until_the_first_ends(void **state) {
    char out[4096], pid[64];
    in_dir(out, state, "out");
    const pid_t first = run_rank(out, 1);
    assert_int_equal(rf_out_lock_take(out, 1), RF_ERR); /* this process: a second run */
    snprintf(pid, sizeof pid, ", pid %ld, started ", (long)first);
    assert_non_null(strstr(rf_last_error(), "--out "));
    assert_non_null(strstr(rf_last_error(), "is in use by another run (host "));
    assert_non_null(strstr(rf_last_error(), pid));
    assert_non_null(strstr(rf_last_error(), RF_OUT_LOCK_FILE));
    kill_rank(first); /* a crash: the lock file stays, its lock goes */
    assert_int_equal(try_take(out), RF_OK);
}

/* mpirun killed: rank 0 is gone, another rank of the run lives on for a while. */
static void test_a_surviving_rank_keeps_out_locked(void **state) {
    char out[4096], now[64];
    in_dir(out, state, "out");
    const pid_t rank0 = run_rank(out, 1), rank1 = run_rank(out, 0);
    kill_rank(rank0);
    assert_int_equal(rf_out_lock_take(out, 1), RF_ERR);
    snprintf(now, sizeof now, "process %ld holds it now", (long)rank1);
    assert_non_null(strstr(rf_last_error(), now));
    kill_rank(rank1);
    assert_int_equal(try_take(out), RF_OK);
}

static void test_join_and_take_errors(void **state) {
    char out[4096], file[4096], below[4200];
    in_dir(out, state, "never-taken");
    assert_int_equal(mkdir(out, 0777), 0);
    assert_int_equal(rf_out_lock_join(out), RF_ERR); /* rank 0 made no lock file here */
    assert_non_null(strstr(rf_last_error(), "on a file system every rank shares?"));
    FILE *f = fopen(in_dir(file, state, "afile"), "w");
    fclose(f);
    snprintf(below, sizeof below, "%s/out", file);
    assert_int_equal(rf_out_lock_take(below, 1), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--out: cannot create "));
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_take_creates_out_and_names_the_holder),
                                       T(test_second_run_refused_until_the_first_ends),
                                       T(test_a_surviving_rank_keeps_out_locked),
                                       T(test_join_and_take_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
