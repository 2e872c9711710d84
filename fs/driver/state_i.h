/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_i.h: what state.c (saving, and when) and restore.c (reading back
 * at mount) share: struct state. No other file includes it.
 *
 * Thread-safety: fields are guarded as marked: "lock" fields by st->lock
 * (the hand-over of listings to the state's thread), "io" fields by
 * st->io (everything on disk: taken inside the changes' writer lock when
 * the hook runs; lock may be taken inside io, never the reverse).
 * restore.c runs before any thread, and takes neither.
 */
#ifndef INTERLINKFS_STATE_I_H
#define INTERLINKFS_STATE_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "fs_i.h"
#include "state.h"
#include "statedir.h"
#include "statefile.h"

/* One kind's listing of one region. */
struct slot {
	/* lock */
	struct cache_listing *pending;  /* waiting for its turn (held) */
	struct timespec pending_t;      /* when it came */
	double pending_born;            /* wall time the API made it */
	uint64_t last_seq;              /* the newest listing handed over */
	double last_save;               /* clock_mono: its last turn; 0: none
					 * since the start or SIGHUP */
	double seen;                    /* wall: when the API last made the
					 * newest listing handed over */
	/* io */
	struct cache_listing *saved;    /* what the journal last spoke of
					 * (held): its file holds it, or
					 * will (!on_disk) */
	uint64_t saved_seq;
	double saved_born;              /* wall, as its file says */
	unsigned char sum[STATEFILE_KEY]; /* its file's body */
	bool on_disk;                   /* its file holds saved */
	double recorded;                /* wall: the time the disk gives it
					 * (its file's, or the seen file's) */
	double seen_at;                 /* clock_mono: the seen file last
					 * written for it */
};

struct state {
	struct ifs *fs;
	struct statedir *dir;           /* NULL: nothing is saved */
	struct changes_hook hook;
	uint32_t nregions;
	struct slot *slots;             /* [kind * nregions + region] */
	pthread_mutex_t lock, io;
	pthread_cond_t cond;            /* lock; CLOCK_MONOTONIC */
	pthread_t thread;
	bool running, quit;             /* lock */
	/* io */
	bool journal_ok;                /* the journal's file holds every
					 * batch readers saw */
	uint64_t journal_lines;         /* lines in it */
	unsigned dir_gen;               /* the directory its files are in */
	double retry_at, retry_wait;    /* clock_mono: after a failure */
	/* state_counters: listings saved, bytes written, failures. */
	atomic_uint_fast64_t saves, bytes, errors;
};

/* The slot of kind k in region r. */
static inline struct slot *state_slot(struct state *st, enum kind_id k,
				      uint32_t r)
{
	return &st->slots[(size_t)k * st->nregions + r];
}

#endif
