/* out_lock.c -- the fcntl lock on OUT/riverforge.lock (out_lock.h). */
#include "shards/out_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

/* How long a refused run waits for the holder's text while the holder still writes it (it holds
 * the exclusive lock only for that write). */
#define HOLDER_WAIT_TRIES 40
#define HOLDER_WAIT_US 50000

static void lock_path(const char *out_dir, char *path, size_t len) {
    snprintf(path, len, "%s/%s", out_dir, RF_OUT_LOCK_FILE);
}

/* type on the whole file, without waiting: 0, or -1 with errno. */
static int set_lock(int fd, short type) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_SETLK, &fl);
}

/* The lock type another process holds on the file (F_UNLCK: none), and its pid. */
static short held_lock(int fd, pid_t *pid) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_GETLK, &fl) != 0) return F_UNLCK;
    *pid = fl.l_pid;
    return fl.l_type;
}

static int lock_error(const char *out_dir, const char *path, int err) {
    if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL)
        return rf_fail("--out %s: cannot lock %s: %s (the file system supports no POSIX locks, "
                       "which keep two runs apart; on Lustre mount with -o flock)", out_dir, path,
                       strerror(err));
    return rf_fail("--out %s: cannot lock %s: %s", out_dir, path, strerror(err));
}

/* The refusal: who holds the lock, from the text its rank 0 wrote. */
static int refuse(const char *out_dir, const char *path, int fd) {
    char holder[512] = "";
    pid_t pid = 0;
    for (int i = 0; i < HOLDER_WAIT_TRIES && held_lock(fd, &pid) == F_WRLCK; i++)
        usleep(HOLDER_WAIT_US);
    ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
    holder[n > 0 ? n : 0] = '\0';
    holder[strcspn(holder, "\n")] = '\0';
    const short type = held_lock(fd, &pid);
    char now[64] = "", named[32];
    snprintf(named, sizeof named, ", pid %ld,", (long)pid);
    if (type != F_UNLCK && pid > 0 && !strstr(holder, named)) /* a rank that outlived rank 0 */
        snprintf(now, sizeof now, "; process %ld holds it now", (long)pid);
    close(fd);
    return rf_fail("--out %s is in use by another run (%s%s; lock %s): wait for it to end or stop "
                   "it (the ranks of a killed mpirun can live on for seconds)", out_dir,
                   holder[0] ? holder : "it is starting", now, path);
}

int rf_out_lock_take(const char *out_dir, int nranks) {
    if (rf_make_dirs(out_dir) != RF_OK) return rf_fail_prefix("--out: ");
    char path[4200];
    lock_path(out_dir, path, sizeof path);
    /* Never closed once locked: closing any descriptor of the file would drop the lock. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return rf_fail("--out %s: cannot open %s: %s", out_dir, path, strerror(errno));
    if (set_lock(fd, F_WRLCK) != 0) {
        const int e = errno;
        if (e == EACCES || e == EAGAIN) return refuse(out_dir, path, fd);
        close(fd);
        return lock_error(out_dir, path, e);
    }
    char host[256] = "?", started[64];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    const time_t t = time(NULL);
    struct tm tm;
    strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
    char holder[512];
    const int len = snprintf(holder, sizeof holder, "host %s, pid %ld, started %s, %d rank%s\n",
                             host, (long)getpid(), started, nranks, nranks == 1 ? "" : "s");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, holder, (size_t)len, 0) != len)
        return rf_fail("--out %s: cannot write %s: %s", out_dir, path, strerror(errno));
    /* Exclusive -> shared in one step: no other run can slip in between. */
    rf_check(set_lock(fd, F_RDLCK) == 0, "%s: cannot share the lock: %s", path, strerror(errno));
    return RF_OK;
}

int rf_out_lock_join(const char *out_dir) {
    char path[4200];
    lock_path(out_dir, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC); /* never closed: see rf_out_lock_take */
    if (fd < 0)
        return rf_fail("--out %s: cannot open %s, which rank 0 created: %s (is --out on a file "
                       "system every rank shares?)", out_dir, path, strerror(errno));
    if (set_lock(fd, F_RDLCK) != 0) {
        const int e = errno;
        close(fd);
        return lock_error(out_dir, path, e);
    }
    return RF_OK;
}
