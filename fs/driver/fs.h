/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs: the FUSE driver of interlinkfs: the low-level operations, the keeper
 * thread that refreshes recently used listings before they expire and
 * tells the kernel what changed, and the .interlinkfs/ files, for every
 * kind of object in the table of kinds.h.
 *
 * One struct ifs per mount, built by main and handed to libfuse as the
 * session's userdata; every callback reads it back from the request.
 *
 * Thread-safety: fs_new(), fs_start(), fs_stop() and fs_free() are called
 * by main, one after the other, from one thread; the operations run on
 * libfuse's threads, at the same time.
 */
#ifndef INTERLINKFS_FS_H
#define INTERLINKFS_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"

struct ifs;
struct fuse_session;
struct statedir;

struct fs_conf {
	const char *const *regions;   /* borrowed for the life of the mount */
	uint32_t nregions;
	double ttl;                   /* seconds; 0 = ask the API every time */
	double stale;                 /* seconds stale data may be served */
	double grace;                 /* longest wait for a refresh that could
				       * be answered with stale data */
	double catalog_ttl;           /* for Scaleway's catalogue (PoPs),
				       * which changes rarely: 3600 */
	size_t budget;                /* cache bytes */
	size_t journal_lines;         /* lines .interlinkfs/changes keeps */
	struct statedir *state_dir;   /* where the state is saved between
				       * runs (borrowed); NULL: nowhere */
	struct api_filters filters;   /* the mount's (borrowed); each kind
				       * takes those that apply to it */
	uid_t uid;
	gid_t gid;
	bool handlers_store;          /* a request handler may store files in
				       * the page cache itself: only when
				       * other handlers can answer a read
				       * meanwhile (not with -s or
				       * max_threads=1) */
};

/* A new filesystem over api (borrowed), with what conf->state_dir holds
 * of an earlier run read back (restore.h). 0 or -errno. */
int fs_new(const struct fs_conf *conf, struct api *api, struct ifs **out);

/*
 * Start the keeper thread (call after fuse_daemonize(), with SIGHUP
 * blocked in every thread: the keeper takes it from a signalfd and drops
 * the cache). 0 or -errno.
 */
int fs_start(struct ifs *fs, struct fuse_session *se);

/* Stop the keeper and cancel what is in flight. Idempotent. */
void fs_stop(struct ifs *fs);

/* NULL is a no-op. After fs_stop(). */
void fs_free(struct ifs *fs);

#endif
