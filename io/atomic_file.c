/* atomic_file.c -- write PATH.tmp, fsync, rename to PATH, fsync the directory (atomic_file.h). */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"

/* fsync an existing file or directory by path. fsync works on a read-only descriptor on Linux,
 * which also lets us fsync directories. */
static int fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The directory part of path ("." when there is none), into buf. */
static void dir_of(const char *path, char *buf, size_t len) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, len, ".");
    } else if (slash == path) {
        snprintf(buf, len, "/");
    } else {
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
    }
}

int rf_atomic_commit(const char *tmp_path, const char *final_path) {
    if (fsync_path(tmp_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        return rf_fail("%s: cannot fsync: %s", tmp_path, strerror(e));
    }
    if (rename(tmp_path, final_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        return rf_fail("%s: cannot rename %s into place: %s", final_path, tmp_path, strerror(e));
    }
    char dir[4096];
    dir_of(final_path, dir, sizeof dir);
    if (fsync_path(dir) != 0)
        return rf_fail("%s: cannot fsync directory %s: %s", final_path, dir, strerror(errno));
    return RF_OK;
}

/* write(2) until done: it may write less than asked (signals, pipes, near-full disks). */
static int write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rf_atomic_write(const char *path, int nparts, const void *const *parts, const size_t *sizes) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s" RF_ATOMIC_TMP_SUFFIX, path) >= (int)sizeof tmp)
        return rf_fail("%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return rf_fail("%s: cannot create: %s", tmp, strerror(errno));
    for (int i = 0; i < nparts; i++) {
        if (write_all(fd, parts[i], sizes[i]) != 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return rf_fail("%s: cannot write: %s", tmp, strerror(e));
        }
    }
    /* close reports delayed write errors on some file systems (NFS, Lustre). */
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return rf_fail("%s: cannot write: %s", tmp, strerror(e));
    }
    return rf_atomic_commit(tmp, path);
}

int rf_make_dirs(const char *path) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash) *slash = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return rf_fail("cannot create %s: %s", p, strerror(errno));
        if (!slash) break;
        *slash = '/';
    }
    /* mkdir says EEXIST for a plain file too, and access() would pass it. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        return rf_fail("cannot create %s: %s", path, strerror(ENOTDIR));
    if (access(path, W_OK) != 0) return rf_fail("cannot write to %s: %s", path, strerror(errno));
    return RF_OK;
}
