/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keeper: the thread that tells the kernel what changed (invalidations,
 * files pushed to its page cache ahead of reads), refreshes listings
 * before they expire (and all of them while the mount is watched), ends
 * the kernel's readdir caches of listings that expired, says in the
 * journal when sight of a listing is lost or regained, and drops
 * everything on SIGHUP. Its state (the queue, its thread and descriptors,
 * when the mount was last watched) is its own: struct keeper is opaque.
 *
 * Request handlers and the cache's change callback queue; the keeper
 * sends, but for keeper_push_now.
 *
 * Thread-safety: keeper_new(), keeper_start(), keeper_stop() and
 * keeper_free() are called by fs.c alone, from main's thread; every other
 * function from any thread.
 */
#ifndef INTERLINKFS_KEEPER_H
#define INTERLINKFS_KEEPER_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "kinds.h"

struct ifs;
struct keeper;

/* fs's keeper, not started: 0 with *out, or -errno. */
int keeper_new(struct ifs *fs, struct keeper **out);
/* After keeper_stop(). NULL is a no-op. */
void keeper_free(struct keeper *k);
/* Starts the thread (after fuse_daemonize(), with SIGHUP blocked in every
 * thread: the keeper takes it from a signalfd): 0 or -errno. */
int keeper_start(struct ifs *fs);
/* Stops it and cancels the API calls in flight. Idempotent. */
void keeper_stop(struct ifs *fs);

/* Queue, for the keeper to send (invalq.h): the kernel forgets an entry,
 * an inode's attributes and pages, or everything below object obj of kind
 * k. Call keeper_kick() after a batch. */
void keeper_entry(struct ifs *fs, uint64_t parent, const char *name);
void keeper_inode(struct ifs *fs, uint64_t ino);
void keeper_object(struct ifs *fs, const struct kind *k, uint64_t obj);

/* A directory whose names the kernel is to forget, one at a time
 * (keeper_forget_name, a callback for byname_update and byname_drop). */
struct keeper_dir {
	struct ifs *fs;
	uint64_t dir;
};
void keeper_forget_name(void *dir, const char *name);

/*
 * Push the files of object obj (g, borrowed) to the kernel's page cache
 * but file `skip` (-1: none), once per generation (objtab_claim), unless
 * the value is stale or the mount has ttl=0. A walk reads every file of an
 * object one after the other, each read a round trip to this daemon;
 * pushed, the reads are answered by the kernel. Sent by the calling
 * request handler itself, after its reply, from the file after `skip` on,
 * unless another handler or the keeper is sending (then queued for the
 * keeper). For the end of an object's readdirplus (the kernel has made the
 * files' inodes, the reader is about to read them) and for a read of one
 * of its files (the reader reads the others next): a store from this
 * thread needs no wake-up of the keeper, which comes later than the
 * reader's next read.
 */
void keeper_push_now(struct ifs *fs, uint64_t obj, uint32_t region,
		     const struct got *g, int skip);
/* Wakes the keeper up for what was queued. */
void keeper_kick(struct ifs *fs);

/* The journal, a Prometheus file or health was read now: the mount is
 * watched (every listing kept fresh) for about 1.5 ttl. */
void keeper_watch(struct ifs *fs);
/* Whether it was watched within about 1.5 ttl. */
bool keeper_watched(struct ifs *fs);

/* Every cache dropped, the kernel's too, as on SIGHUP, by the keeper
 * soon; why (a constant string) is logged once. */
void keeper_drop_all(struct ifs *fs, const char *why);

/* What the API said of the key: refused (a 401) or accepted (a listing
 * loaded). The first refusal after an acceptance drops everything, once,
 * with a warning; later refusals drop nothing, so the cache keeps the
 * failure and backs off instead of asking again at every read. Any
 * thread. */
void keeper_key(struct ifs *fs, bool refused);

#endif
