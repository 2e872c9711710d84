/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_i.h: the mount's state, which the files of the driver share. Each
 * file has one job, and a header of its own:
 *
 *   fs.c       the mount's life: its state built, started, stopped, freed
 *   wiring.c   the cache of each kind: loaders that render what the API
 *              sends, and what a change or a listing means for the kernel,
 *              the journal and the tables
 *   access.c   objects, listings and nodes as requests see them
 *   request.c  a FUSE request that may wait on the API: interrupts, the
 *              entry a lookup or readdirplus hands out
 *   attr.c     attributes of any node
 *   lookup.c   what a name is in a directory, and where a link points
 *   dir.c      readdir and readdirplus
 *   metadir.c  .interlinkfs/: its files, rendered once per look
 *   tabledir.c tables/: its files, rendered when their listings move
 *   keeper.c   the keeper thread: invalidations, pushes, refresh-ahead,
 *              whether the mount is watched (its state is its own)
 *   state.c    what is saved between runs, and when (state_i.h, shared
 *              with restore.c, which reads it back at mount);
 *              statedir.c the directory it is saved in
 *   ops.c      the FUSE operations, each a few calls to the above
 *   options.c  the mount options;  main.c  the wiring of it all
 *
 * They call one another in one direction only (ops -> lookup, dir ->
 * attr -> access; metadir -> keeper, state; fs -> wiring -> keeper,
 * tabledir, state; fs -> restore -> statedir; state -> statedir;
 * keeper -> state),
 * which tests/py/test_layout.py checks. Nothing here branches on a kind:
 * the kinds' table (kinds.h) says what each one has.
 *
 * Thread-safety: struct ifs is built and freed by fs.c alone, from main's
 * thread; in between, what it holds is read by every thread, each part
 * guarded by its own module (the caches, objtab, the keeper's queue).
 */
#ifndef INTERLINKFS_FS_I_H
#define INTERLINKFS_FS_I_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "backref.h"
#include "byname.h"
#include "cache.h"
#include "changes.h"
#include "fs.h"
#include "journal.h"
#include "kinds.h"
#include "objtab.h"
#include "problems.h"

/* Nodes that never change keep their kernel entries this long. */
#define STATIC_TIMEOUT 3600.0

/* One kind of object, as this mount has it (wiring.c makes it). */
struct kstate {
	struct ifs *fs;
	const struct kind *k;
	struct cache *cache;
	struct api_filters filters;   /* the mount's that apply to it */
	double ttl;                   /* how long its data is fresh */
	struct byname *byname;        /* when it has by-name directories */
	struct backref *backrefs;     /* when it has subdirectories: slot
				       * region * KIND_MAX_SUBDIRS + subdir */
};

/* What the kernel asks of this daemon: how much its caches spare us. Each
 * is named as in .interlinkfs/stats (struct meta_fs_stats). */
struct fs_counters {
	atomic_uint_fast64_t kernel_lookups, kernel_getattrs, kernel_reads,
			     kernel_readdirs, pages_pushed, size_resyncs;
};

struct keeper;
struct metadir;
struct state;
struct tabledir;
struct fuse_session;

struct ifs {
	struct fs_conf conf;
	struct api *api;
	struct kstate kinds[K_COUNT];
	struct objtab *objs;
	struct problems *problems;
	struct metadir *meta;           /* .interlinkfs (metadir.c) */
	struct tabledir *tables;        /* tables/ (tabledir.c) */
	struct journal *journal;        /* .interlinkfs/changes */
	struct changes *changes;        /* what fills it */
	struct state *state;            /* what is saved between runs */
	struct keeper *keeper;          /* the keeper's own (keeper.c) */
	struct fuse_session *se;
	struct timespec mounted;        /* wall clock */
	double wall_minus_mono;
	bool no_open, no_opendir;       /* set once, in op_init */
	struct fs_counters n;
};

#endif
