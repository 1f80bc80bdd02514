/* child_process.h -- runs a helper process under a time limit and tells its ends apart: it
 * finished (exit 0), it refused (a non-zero exit and its last "riverforge: error: " line), it
 * crashed (a signal), or it ran past the limit (then it is killed).
 *
 * The helper is started with posix_spawn, which glibc implements with clone(CLONE_VM |
 * CLONE_VFORK) and an immediate exec: nothing of the parent's memory is copied or touched. That
 * is what makes it sound inside an MPI rank (Open MPI 4.1 warns about fork() because a forked
 * child that touches memory registered with an InfiniBand card (MADV_DONTFORK) crashes; fork
 * followed at once by exec, as here, is the pattern its FAQ calls safe), and cheap in a rank
 * whose address space maps a whole model. Used by h5_probe.h.
 */
#ifndef RF_CHILD_PROCESS_H
#define RF_CHILD_PROCESS_H

/* Runs argv (argv[0] a path, NULL-terminated) with stdout to /dev/null and stderr captured, and
 * waits at most timeout_s seconds. RF_OK when it exits 0; otherwise RF_ERR with one line: the
 * child's own error line (the text after "riverforge: error: "), or one naming `what` and how the
 * child ended (exit status, signal, time limit). */
int rf_child_run(char *const argv[], const char *what, double timeout_s);

#endif
