/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: what a mount saves between runs, and when (statedir.h says
 * where, statefile.h in what bytes; restore.h reads it back at mount).
 *
 * What is saved: after a listing load that changed something, that
 * region's listing of that kind, as the API sent it, with the time the
 * API made it; the journal (.interlinkfs/changes), as it grows; and, for
 * a listing that comes back unchanged, the time it was seen so (the seen
 * file), so that after a restart it is as old as the API says and not as
 * old as its last change.
 *
 * How (the journal's batches go through changes.h's hook, one at a time,
 * in the order of their offsets): for a listing that changed, (1) its
 * file is written whole (temporary file, fsync, rename) with the batch of
 * lines its changes made and that batch's offset; (2) the batch is
 * appended to the journal's file (write, fdatasync); (3) only then do
 * readers see it. A crash between (1) and (2) leaves a listing whose
 * batch the journal's file lacks: the next mount writes it there
 * (restore.h). So a line a reader saw is on disk, and the listing the
 * next run compares with is the one the journal last spoke of: nothing
 * is journalled twice, nothing lost.
 *
 * When: a listing is saved at most once per ttl (its kind's, at least a
 * second). One that comes sooner waits, on the state's thread, for its
 * turn (the newest of its kind and region; its lines then carry the time
 * it came). SIGHUP ends the waits; a stop writes what waits.
 *
 * When the directory cannot be written (read-only, full, missing, in use)
 * the mount goes on as without it: the journal is kept in memory, and
 * when the directory can be written again, what it lacks is written
 * (the listings, then the journal from memory), tried again after a
 * back-off (1 s, doubling up to 30 s).
 *
 * Without a directory (state_dir=none) a listing's lines go to the
 * journal at once, from the thread that loaded it.
 *
 * Thread-safety: state_new(), state_start(), state_stop(), state_flush()
 * and state_free() are called by fs.c alone, from main's thread;
 * state_listed(), state_rearm() and state_counters() from any thread.
 */
#ifndef INTERLINKFS_STATE_H
#define INTERLINKFS_STATE_H

#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "changes.h"
#include "kinds.h"

struct ifs;
struct state;
struct statedir;

/* fs's state in dir (borrowed; NULL: nothing is saved), not yet read
 * back (restore_run) nor started. 0 or -ENOMEM. */
int state_new(struct ifs *fs, struct statedir *dir, struct state **out);
/* Releases the listings held: before the caches go. NULL is a no-op. */
void state_free(struct state *st);

/* The hook the journal's batches go through (changes_new), or NULL when
 * nothing is saved. Borrowed from st. */
const struct changes_hook *state_hook(struct state *st);

/* Starts the state's thread (after fuse_daemonize(), which forks): 0 or
 * -errno. */
int state_start(struct state *st);
/* Writes what waits, and stops the thread. Idempotent. */
void state_stop(struct state *st);
/* Writes what waits, in this thread (after the caches' background loads
 * ended, before the journal goes). */
void state_flush(struct state *st);

/* Listing l (borrowed) of kind k came for region r at wall time t, of
 * data the API made at wall time born: its turn is taken (the cache's
 * listed callback, for every listing, changed or not). */
void state_listed(struct state *st, const struct kind *k, uint32_t r,
		  const struct cache_listing *l, const struct timespec *t,
		  double born);

/* SIGHUP: the next listing of each kind and region is saved at once. */
void state_rearm(struct state *st);

/* What was written, named as .interlinkfs/stats shows it. */
struct state_counters {
	uint64_t state_listings_saved;  /* listing files written */
	uint64_t state_bytes_written;   /* every file's bytes, the
					 * journal's appends included */
	uint64_t state_errors;          /* writes that failed */
};
void state_counters(struct state *st, struct state_counters *out);

#endif
