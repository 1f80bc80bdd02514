/* child_process.c -- posix_spawn, a captured stderr, a deadline (child_process.h). */
#define _GNU_SOURCE /* pipe2 */
#include "io/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/rf_error.h"

#define ERROR_PREFIX "riverforge: error: "
#define STDERR_KEEP 8192 /* the child's last bytes of stderr */
#define READ_BYTES 4096

extern char **environ;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Keeps the last STDERR_KEEP bytes the child writes (n <= READ_BYTES < STDERR_KEEP). */
static void keep_tail(char *tail, size_t *len, const char *buf, size_t n) {
    if (*len + n > STDERR_KEEP) {
        size_t drop = *len + n - STDERR_KEEP;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, n);
    *len += n;
}

/* Reads the child's stderr until it closes or the deadline passes; 0 when it closed. */
static int drain(int fd, double deadline, char *tail, size_t *len) {
    char buf[READ_BYTES];
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue; /* the deadline is checked at the top */
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        keep_tail(tail, len, buf, (size_t)n);
    }
}

/* waitpid until the deadline; 0 with *status when it ended, -1 past the deadline. */
static int wait_until(pid_t pid, double deadline, int *status) {
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 0;
        rf_check(r == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
        if (now_s() >= deadline) return -1;
        usleep(10000);
    }
}

/* The child's last error line, without its prefix, recorded as ours; RF_ERR, or RF_OK when the
 * child printed none. */
static int child_error_line(char *tail, size_t len) {
    tail[len] = '\0';
    char *line = NULL;
    for (char *p = strstr(tail, ERROR_PREFIX); p; p = strstr(p + 1, ERROR_PREFIX)) line = p;
    if (!line) return RF_OK;
    line += strlen(ERROR_PREFIX);
    line[strcspn(line, "\n")] = '\0';
    return rf_fail("%s", line);
}

int rf_child_run(char *const argv[], const char *what, double timeout_s) {
    int fds[2];
    rf_check(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    rf_check(posix_spawn_file_actions_init(&fa) == 0 &&
                 posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0 &&
                 posix_spawn_file_actions_adddup2(&fa, fds[1], 2) == 0,
             "cannot prepare a child process");
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return rf_fail("%s: cannot start a process to check it (%s: %s)", what, argv[0],
                       strerror(err));
    }
    const double deadline = now_s() + timeout_s;
    char tail[STDERR_KEEP + 1];
    size_t len = 0;
    int status = 0;
    int late = drain(fds[0], deadline, tail, &len) != 0 || wait_until(pid, deadline, &status) != 0;
    close(fds[0]);
    if (late) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return rf_fail("%s: reading it did not finish within %g s (HDF5 loops on some damaged "
                       "files); is it a complete HDF5 file?", what, timeout_s);
    }
    if (WIFSIGNALED(status))
        return rf_fail("%s: reading it crashed HDF5 (signal %d, %s): a damaged or non-HDF5 file",
                       what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (WEXITSTATUS(status) == 0) return RF_OK;
    if (child_error_line(tail, len) == RF_ERR) return RF_ERR;
    return rf_fail("%s: cannot be read (the process that checked it exited with %d)", what,
                   WEXITSTATUS(status));
}
