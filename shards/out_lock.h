/* out_lock.h -- one run at a time on an output folder.
 *
 * Two runs writing one OUT race on its shards, manifest and checkpoint. Every rank of a run holds
 * a POSIX record lock (fcntl) on OUT/riverforge.lock until its process ends:
 *   rank 0   takes an exclusive lock (refused while any process holds any lock on the file),
 *            writes who holds it (host, pid, start time, ranks) into the file, and turns the lock
 *            into a shared one;
 *   others   then take a shared lock.
 * A new run's rank 0 cannot get its exclusive lock while one process of an older run lives --
 * also the ranks of a killed mpirun, which can outlive it for seconds. The kernel drops a
 * process's locks when it ends, however it ends, so a lock file left after a crash blocks
 * nothing: its text only says who held it last.
 *
 * fcntl rather than flock: fcntl locks are the ones NFS (lockd, NFSv4) and Lustre (mounted with
 * -o flock) carry between nodes, and ranks of one run live on several nodes; flock is local to a
 * node on some of them. A file system that supports no lock is refused, not ignored. Caveat of
 * fcntl locks: closing any descriptor of the file drops the process's lock, so nothing else in
 * riverforge opens it, and the descriptor stays open until the process ends.
 */
#ifndef RF_OUT_LOCK_H
#define RF_OUT_LOCK_H

#define RF_OUT_LOCK_FILE "riverforge.lock"

/* Rank 0, before anything is written in OUT: creates OUT when missing and takes the lock for a
 * run of nranks ranks. RF_ERR with one line naming --out and who holds it (host, pid, start
 * time), or why OUT cannot be created or locked. */
int rf_out_lock_take(const char *out_dir, int nranks);

/* Every other rank, after rank 0's rf_out_lock_take succeeded: a shared lock of the same run.
 * RF_ERR naming --out when it cannot be taken (OUT not on a file system all ranks share). */
int rf_out_lock_join(const char *out_dir);

#endif
