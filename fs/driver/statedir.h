/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statedir: the directory where a mount keeps its state between runs
 * (statefile.h says what the files hold; state.h when they are written).
 *
 * It is found (-o state_dir=, else $STATE_DIRECTORY, else
 * $XDG_STATE_HOME/interlinkfs or ~/.local/state/interlinkfs for a user,
 * /var/lib/interlinkfs for root), made if missing (0700), and checked: a
 * symbolic link, or a directory (or lock file) that belongs to another
 * user, is refused; one readable by others is made 0700. One mount at a
 * time per key: the lock file is flock()ed, and a second mount of the
 * same key is refused.
 *
 * Files are read and written without following a symbolic link
 * (O_NOFOLLOW), and only if they belong to the user who mounts; a file is
 * written whole through a temporary file (O_EXCL, 0600), fsync()ed, then
 * renamed over the old one, and the directory fsync()ed: a reader (and a
 * crash) sees the old file or the new one, never a part. The journal is
 * appended to (write, then fdatasync()).
 *
 * Whether the directory can be written is a condition (writable,
 * read-only, full, missing, in use, not the user's, failing), said in the
 * log once per change. A directory that went is made again (and locked
 * again) when it can be: statedir_generation() then changes, for the
 * caller to write everything again.
 *
 * Thread-safety: statedir_open() and statedir_close() are called by main
 * alone; the other functions are not thread-safe: their caller (state.c)
 * serializes them under its own lock.
 */
#ifndef INTERLINKFS_STATEDIR_H
#define INTERLINKFS_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "statefile.h"

struct statedir;

/*
 * The default directory of user uid into buf: $STATE_DIRECTORY (its first
 * path, as systemd sets it for StateDirectory=), else for root
 * /var/lib/interlinkfs, else $XDG_STATE_HOME/interlinkfs or
 * $HOME/.local/state/interlinkfs. *parents: whether missing parents may
 * be made too (not for a directory systemd makes). 0, or -ENOENT when
 * there is none (no HOME).
 */
int statedir_default(uid_t uid, char *buf, size_t len, bool *parents);

/*
 * The directory at path (absolute), for key, of the user uid: 0 with *out,
 * which may not be writable yet (missing, read-only: said in the log, and
 * tried again later), or -1 after one line on standard error saying why
 * it is refused (a symbolic link, not a directory, another user's, in use
 * by another mount of the same key).
 */
int statedir_open(const char *path, bool parents,
		  const unsigned char key[STATEFILE_KEY], uid_t uid,
		  struct statedir **out);
void statedir_close(struct statedir *d);          /* NULL is a no-op */

const char *statedir_path(const struct statedir *d);
const unsigned char *statedir_key(const struct statedir *d);

/* The process that holds the lock is this one (after fuse_daemonize(),
 * which forks): its pid in the lock file, for the message another mount
 * gets. */
void statedir_own(struct statedir *d);

/* Whether the directory is there, ours and locked, made and locked again
 * if it went (which statedir_generation() tells). Says a change of
 * condition in the log. */
bool statedir_ready(struct statedir *d);
unsigned statedir_generation(const struct statedir *d);

/* A write failed with err (-errno) while doing `what`: the condition it
 * means, said when it changes. statedir_ok(): a write succeeded. */
void statedir_failed(struct statedir *d, const char *what, int err);
void statedir_ok(struct statedir *d);

/* File name written whole from iov (n pieces), as above: 0 or -errno. */
int statedir_write(struct statedir *d, const char *name,
		   const struct iovec *iov, int n);

/* File name, whole, ours, at most max bytes: 0 with *out (malloc'ed) and
 * *len, -ENOENT, or -errno with why (for a log line). */
int statedir_read(struct statedir *d, const char *name, size_t max,
		  char **out, size_t *len, char *why, size_t whylen);

/* Appends text to file name (which must exist), then fdatasync(). With
 * at != (size_t)-1, the file is cut to at bytes first. 0 or -errno. */
int statedir_append(struct statedir *d, const char *name, size_t at,
		    const char *text, size_t len);

/* Calls fn with each name in the directory that begins with prefix. */
void statedir_each(struct statedir *d, const char *prefix,
		   void (*fn)(void *ud, const char *name), void *ud);

/* Removes file name: 0 or -errno. */
int statedir_unlink(struct statedir *d, const char *name);

#endif
