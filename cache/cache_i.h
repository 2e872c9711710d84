/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_i.h: what the files of the cache share. cache.c holds the lookups
 * and the public functions; store.c the entries and what a load brings
 * to them; load.c the running of loads (here or on the cache's worker
 * threads) and the waiting for them; listing.c the listings (an immutable
 * array of values with an index by id); sight.c how well a listing is
 * seen. No other module includes this header.
 *
 * Thread-safety: everything here runs under the cache's one lock (c->lock)
 * unless said otherwise: the store's and load's functions expect it held
 * on entry and hold it on return (a load drops it while the loader, the
 * change callback or the release of values runs). A listing, once built,
 * is immutable and shared (refcounted, thread-safe).
 */
#ifndef INTERLINKFS_CACHE_I_H
#define INTERLINKFS_CACHE_I_H

#include <pthread.h>

#include "cache.h"

/* Threads for background loads: enough that one slow region does not hold
 * up the others' refreshes. */
#define BG_WORKERS 4

/* The state of one thing that is loaded: a listing or an object. */
struct lstate {
	double loaded_at;             /* when the last load that replaced the
				       * value ended */
	double born;                  /* when its data was made: loaded_at
				       * less the age the loader said */
	double fresh_until, changed_at, last_used;
	int err;                      /* last failure, until retry_at */
	int fails;
	double retry_at;
	bool loading;
	double started;               /* real clock: the load's start */
	double grace_until;           /* real clock: how long readers with an
				       * old value wait for this load */
	int pins;                     /* lookups waiting on this entry */
	uint64_t load_seq;            /* completed loads */
	int last_rc;
	bool old;                     /* the last load brought data past its
				       * ttl, or older than what was held */
	double took;                  /* how long the last load took (cache
				       * clock): a refresh starts that much
				       * ahead */
	double ended;                 /* when the last load ended (cache
				       * clock) */
	double stale_at;              /* when data past its ttl was last
				       * handed to a reader (cache clock) */
	bool incomplete;              /* it failed: the listing did not add
				       * up */
	bool seeded;                  /* what is held was saved by an earlier
				       * run (cache_seed_list), and no load
				       * has replaced it since */
	char why[160];                /* its failure or old data, said */
};

struct rentry {                       /* a region */
	struct rentry *next;
	char *region;
	struct cache_listing *val;
	uint64_t gen;
	unsigned gets;                /* single loads since the listing */
	struct lstate s;
};

struct oentry {                       /* an object fetched alone */
	struct oentry *hnext;
	struct oentry *lprev, *lnext; /* LRU of entries holding a value */
	bool in_lru;
	struct rentry *r;
	uint64_t hash;
	void *val;
	uint64_t gen;
	bool neg;                     /* a 404, until neg_until */
	double neg_until;
	size_t bytes;
	struct lstate s;
	char id[];
};

struct bgload {
	struct rentry *r;
	struct oentry *o;             /* NULL: r's listing */
	struct bgload *next;
};

struct cache {
	struct cache_conf conf;
	struct cache_ops ops;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* on CLOCK_MONOTONIC (grace waits) */
	struct rentry *regions;
	struct oentry **buckets;
	size_t nbuckets, count;
	struct oentry *lru_head, *lru_tail;
	uint64_t gen_counter;
	struct cache_stats st;        /* bytes: see obj_bytes, list_bytes */
	size_t obj_bytes;             /* of the objects fetched alone */
	size_t list_bytes;            /* of the listings */
	/* Loads nobody waits for to the end (refresh-ahead, refreshes past
	 * their grace) run on a few threads of the cache's own. */
	struct bgload *jobs, *jobs_tail;
	unsigned bg_running;          /* queued or running */
	pthread_cond_t bg_cond;       /* workers wait for jobs on it */
	pthread_t workers[BG_WORKERS];
	unsigned nworkers, idle;
	bool quitting;
};

/* Changes to tell the owner, and values to let go of, gathered under the
 * lock and handled without it. */
struct after {
	struct cache_change *v;
	size_t n, cap;
	void **trash;
	size_t ntrash, trashcap;
	struct cache_listing **lists;
	size_t nlists, listcap;
};

struct cache_listing {
	atomic_uint refs;
	uint64_t seq;             /* see cache_listing_seq */
	const struct cache_value_ops *ops;
	size_t n;
	uint32_t *index;          /* open addressing: id -> position + 1 */
	size_t cap;               /* slots in index (a power of two) */
	struct litem {
		void *v;          /* a reference */
		uint64_t gen;
		double changed_at;
	} items[];
};

/* listing.c. A new listing (a reference) with room for n items, none set
 * yet (n is 0 until listing_add()). NULL when out of memory. */
struct cache_listing *listing_new(const struct cache_value_ops *ops,
				  size_t room);
/* Appends an item (the reference v is taken) and indexes it: only while
 * the listing is being built, by its builder. */
void listing_add(struct cache_listing *l, void *v, uint64_t gen,
		 double changed_at);
/* Bytes the listing takes, values included. Pure. */
size_t listing_bytes(const struct cache_listing *l);

/* What the cache shows for an object: the one fetched alone when it is
 * newer than the listing, else the listing's item. Borrowed, under the
 * lock. */
struct view {
	void *val;                /* NULL: the cache holds nothing */
	uint64_t gen;
	double changed_at;
	const struct lstate *s;   /* whose freshness applies */
};

enum grace { G_DONE, G_AGAIN, G_STALE, G_INTR, G_HERE };

/* ---- store.c: entries, and what loads bring to them --------------------- */
/* Lock held throughout, but for store_after_run. Values to let go of and
 * changes to tell are gathered into an after (a), handled after the lock
 * is released. Pointers handed out (entries, views) are valid while the
 * lock is held. */

/* The cache's clock (cache_now): the owner's, or clock_mono(). */
double store_now(struct cache *c);
/* Tells the owner the changes of a and releases its values: without the
 * lock; a is emptied. */
void store_after_run(struct cache *c, struct after *a);
/* A region's entry, NULL when there is none; store_region_of makes it
 * (NULL when out of memory). */
struct rentry *store_find_region(struct cache *c, const char *region);
struct rentry *store_region_of(struct cache *c, const char *region);
/* An object fetched alone, NULL when there is none; store_obj_new makes
 * it (NULL when out of memory). */
struct oentry *store_find_obj(struct cache *c, struct rentry *r,
			      const char *id);
struct oentry *store_obj_new(struct cache *c, struct rentry *r,
			     const char *id);
/* Forgets what o knows (its value to a); frees o unless a load or a
 * waiter holds it. */
void store_obj_forget(struct cache *c, struct oentry *o, struct after *a);
/* r's listing becomes l (the reference taken; the old one to a). */
void store_region_set(struct cache *c, struct rentry *r,
		      struct cache_listing *l, struct after *a);
/* o was used: the last to be evicted. */
void store_lru_front(struct cache *c, struct oentry *o);
/* Objects fetched alone beyond the byte budget forgotten, least recently
 * used first. */
void store_evict(struct cache *c, struct after *a);
/* The position of id in r's listing, or -1. */
long store_pos(struct rentry *r, const char *id);
/* What the cache shows for an object (see struct view). */
struct view store_view(struct rentry *r, struct oentry *o, long pos);
/* out filled from a view (a new reference to its value) or r's listing
 * (a new reference to it), marked stale or not. */
void store_fill(struct cache *c, struct cache_item *out,
		const struct view *v, bool stale);
void store_fill_list(struct cache *c, struct cache_item *out,
		     struct rentry *r, bool stale);
/* After a load failed with err: what is there, filled as stale when it
 * may be served (0, counted), else err. */
int store_stale_or_err(struct cache *c, const struct view *v, int err,
		       double now, struct cache_item *out);
int store_stale_or_err_list(struct cache *c, struct rentry *r, int err,
			    double now, struct cache_item *out);
/* What a listing load (rc; items taken; note: the loader's) begun at
 * started brings to r. Returns whether r's listing is what the load
 * brought (false: it failed, or brought data older than r held). */
bool store_apply_list(struct cache *c, struct rentry *r, int rc,
		      void **items, size_t n, const struct cache_note *note,
		      double started, double now, struct after *a);
/* What a single load (rc; v taken) begun at started brings to o: the
 * outcome to report. */
int store_apply_one(struct cache *c, struct oentry *o, int rc, void *v,
		    const struct cache_note *note, double started, double now,
		    struct after *a);
/* Whether what s loaded is past its freshness at now (never with ttl 0:
 * each lookup loads then). Pure. */
bool store_is_stale(const struct cache *c, const struct lstate *s,
		    double now);

/* ---- load.c: running loads, here or on the workers, and waiting ---------- */
/* Lock held on entry and return, dropped while a loader runs or a waiter
 * waits: what the caller looked at before must be looked up again. */

/* A load of o (or of r's listing when o is NULL) in this thread: the
 * loader's outcome (-EINTR when cancelled). */
int load_now(struct cache *c, struct rentry *r, struct oentry *o,
	     void *ctx);
/* The same queued for a worker; returns at once: 0, or -ENOMEM / -EAGAIN
 * (nothing queued). */
int load_bg(struct cache *c, struct rentry *r, struct oentry *o);
/* Waits for the load of s, not past until (CLOCK_MONOTONIC seconds, as
 * clock_mono), s pinned meanwhile: 1 with *rc (it ended), 0 (it was
 * cancelled), -EINTR, -ETIMEDOUT. Lock held. */
int load_wait(struct cache *c, struct lstate *s, const atomic_int *intr,
	      double until, int *rc);
/* The same for a lookup that shares another's load: counted in
 * coalesced. */
int load_join(struct cache *c, struct lstate *s, const atomic_int *intr,
	      double until, int *rc);
/* A refresh while an old value may stand in: see load.c. */
enum grace load_in_grace(struct cache *c, struct rentry *r,
			 struct oentry *o, const atomic_int *intr, int *rc);
/* Whether a value loaded by s may stand in for a refresh at now. Pure. */
bool load_can_stand_in(struct cache *c, const struct lstate *s, double now);

#endif
