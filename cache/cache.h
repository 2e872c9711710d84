/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache: the TTL cache between the FUSE callbacks and the API client.
 *
 * It holds, per region, the region's listing (every object of a kind, as
 * one generation) and single objects fetched by id. It knows nothing of
 * HTTP, FUSE or what the objects are: it calls the loaders and the clock
 * it was given, handles values through the value operations it was given,
 * and tells its owner what changed. Values are the owner's immutable,
 * refcounted objects, handed out as new references and never modified
 * once in the cache, so readers share them without copying.
 *
 * Semantics, in short (details at each function):
 *  - data is as old as its loader says it was when it came (the API's
 *    own clock, through any HTTP cache), and fresh until ttl seconds after
 *    it was made; ttl 0 asks the API on every lookup; a load that brings
 *    data older than what is held does not replace it, and one that
 *    brings data already past its ttl is retried after a back-off;
 *  - while a listing is fresh, an id not in it is -ENOENT with no request;
 *    an expired object that was in the listing is refreshed by reloading
 *    the listing (one request for all), an object never listed by a get
 *    (after gets_before_list such gets in a region, by its listing);
 *  - a 404 is remembered for min(ttl, neg_ttl) seconds;
 *  - concurrent misses for one key wait for a single load; no lock is held
 *    while a loader runs;
 *  - when a refresh fails with a transient error and a value younger than
 *    stale seconds exists, that value is served; 404/401/403 are never
 *    masked; after a failure the key is not loaded again before a back-off
 *    interval (retry_min doubling up to retry_max), so a failing API does
 *    not cost a request per read;
 *  - while such a value exists, a refresh runs on a thread of its own and
 *    readers wait for it at most `grace` seconds from its start, then get
 *    the old value; the refresh goes on, and its result (and the change
 *    callback) comes when it ends. An authoritative answer within the
 *    grace wins;
 *  - objects fetched alone (not in a listing) beyond the byte budget are
 *    evicted, least recently used first;
 *  - a listing an earlier run saved may be seeded before any load
 *    (cache_seed_list): served by its true age, never said fresh.
 *
 * Memory: an object of a listing costs the listing 32 bytes besides the
 * value itself (no per-object entry): a listing of 10,000 connections is
 * one array. Objects fetched by id have an entry of their own.
 *
 * Thread-safety: every function is thread-safe except cache_new() and
 * cache_free(). One mutex guards the cache; it is never held while a
 * loader, a value operation that may free, or the change callback runs.
 * Loaders and the change callback may run on the cache's own threads
 * (refreshes nobody waits for to the end), with ctx NULL; cache_free()
 * waits for them.
 */
#ifndef INTERLINKFS_CACHE_H
#define INTERLINKFS_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache;

/* What the cache needs to know of a value (an opaque object of the
 * owner's). Every operation is called without the cache's lock, may be
 * called from any thread, and must be thread-safe on shared values. */
struct cache_value_ops {
	void (*hold)(void *v);                  /* one more reference */
	void (*release)(void *v);               /* one fewer (may free) */
	bool (*equal)(const void *a, const void *b);
	size_t (*size)(const void *v);          /* bytes, for the budget */
	const char *(*id)(const void *v);       /* borrowed; never NULL */
};

enum cache_change_kind {
	CACHE_ADDED,
	CACHE_CHANGED,
	CACHE_REMOVED,
};

/* One change, everything borrowed for the callback's duration. */
struct cache_change {
	const char *id;
	enum cache_change_kind kind;
	const void *before;           /* the value shown before; NULL: added */
	const void *after;            /* the value shown now; NULL: removed */
};

/*
 * A region's listing: its objects in the API's order, each with the
 * generation it has had since it last changed, and when the cache saw it
 * change. Immutable; refcounted (cache_listing_hold/release). The
 * accessors below are pure and thread-safe; their results are borrowed
 * from the listing.
 */
struct cache_listing;

size_t cache_listing_size(const struct cache_listing *l);
void *cache_listing_value(const struct cache_listing *l, size_t i);
uint64_t cache_listing_gen(const struct cache_listing *l, size_t i);
/* 0 if the object never changed since it was first listed. */
double cache_listing_changed_at(const struct cache_listing *l, size_t i);
/* Grows with every new listing of the cache: a listing replaces the one
 * before exactly when something in it changed (value, presence, order). */
uint64_t cache_listing_seq(const struct cache_listing *l);
/* The position of id in the listing, or -1. */
long cache_listing_find(const struct cache_listing *l, const char *id);
void cache_listing_hold(struct cache_listing *l);
void cache_listing_release(struct cache_listing *l); /* NULL is a no-op */

/* What a loader says of a load besides its values (the cache zeroes it
 * before the call). */
struct cache_note {
	double age;           /* seconds the data was already old when the
			       * loader returned (0: made just now) */
	bool incomplete;      /* a failure: the listing did not add up */
	char why[160];        /* a failure's reason, for a person ("" if
			       * none: the errno says it) */
};

struct cache_ops {
	/*
	 * Load every object of a region: 0 with *items (malloc'ed, *n values,
	 * each a new reference, ids unique; the cache takes it all), or
	 * -errno. ctx is the caller's, passed through (NULL on the cache's
	 * own threads). note: how old the data is, or why it failed.
	 */
	int (*load_list)(void *ud, const char *region, void *ctx,
			 void ***items, size_t *n, struct cache_note *note);
	/* Load one object: 0 with a new reference, -ENOENT, or -errno. */
	int (*load_one)(void *ud, const char *region, const char *id,
			void *ctx, void **obj, struct cache_note *note);
	/*
	 * Optional. Called after a load replaced values, from the loading
	 * thread, without the cache lock, before anyone waiting for that load
	 * is released: which ids were added, changed or removed. After a
	 * listing load, listing is the new listing (borrowed); NULL after a
	 * single object's load.
	 */
	void (*changed)(void *ud, const char *region,
			const struct cache_change *changes, size_t n,
			const struct cache_listing *listing);
	/*
	 * Optional. Called after every listing load that succeeded, after
	 * changed, from the loading thread, without the cache lock: listing
	 * is the region's listing now (borrowed; the one before when nothing
	 * in it changed). Loads of one region's listing never overlap, so
	 * calls for one region come one after the other, in load order.
	 */
	void (*listed)(void *ud, const char *region,
		       const struct cache_listing *listing);
	/* Optional: the clock, in seconds (monotonic). NULL: CLOCK_MONOTONIC. */
	double (*now)(void *ud);
	struct cache_value_ops values;
	void *ud;
};

struct cache_conf {
	double ttl;           /* seconds a value is fresh: 30 */
	double stale;         /* seconds a value may be served on errors: 600 */
	double neg_ttl;       /* cap on how long a 404 is remembered: 10 */
	double retry_min;     /* back-off after a failed load: 1 s ... */
	double retry_max;     /* ... doubling up to 30 s */
	size_t budget;        /* bytes for objects fetched alone: 256 MiB */
	/* Objects of a region loaded one by one before the next miss loads
	 * the region's listing instead (a script reading many connections
	 * by id costs a few gets, then one listing for all): 8; 0 = never. */
	unsigned gets_before_list;
	/* Longest wait for a refresh when an old value (younger than stale)
	 * could be served instead: 1 s; 0: serve it at once. Real seconds,
	 * whatever the injected clock. */
	double grace;
	/* A listing that lacks objects the one before held is read again
	 * before it is believed: an object is gone when two readings agree
	 * on it (a listing read page by page while objects come and go can
	 * miss one that never left). Costs one more listing per removal. */
	bool confirm_removals;
};

/* What a lookup returns. Release with cache_item_release(). */
struct cache_item {
	void *value;          /* cache_get: the object (a new reference) */
	struct cache_listing *list; /* cache_list: the listing (a reference) */
	uint64_t gen;         /* changes whenever the value does */
	double expires;       /* clock time it stops being fresh (may be past) */
	double changed_at;    /* clock time the cache saw it change; 0 if it
			       * never changed since it was first loaded */
	double loaded_at;     /* clock time of the load it came from */
	double born;          /* clock time the data was made (by its age) */
	bool stale;           /* served past its TTL because a refresh failed,
			       * took longer than the grace, or brought old
			       * data */
};

/* Counters, named as .interlinkfs/stats shows them. */
struct cache_stats {
	uint64_t cache_hits;    /* answered from fresh data */
	uint64_t cache_misses;  /* needed a load (or waited for one) */
	uint64_t cache_loads;   /* loader calls */
	uint64_t load_errors;   /* loader calls that failed */
	uint64_t coalesced;     /* lookups that waited for another's load */
	uint64_t negative_hits; /* -ENOENT without a request */
	uint64_t stale_served;
	uint64_t grace_stale_served; /* of which: a refresh took longer than
				      * grace */
	uint64_t evictions;
	uint64_t bytes_cached;  /* estimated size of cached values */
	uint64_t objects;       /* objects held (listed or fetched alone) */
};

void cache_conf_default(struct cache_conf *c);

/* A new cache; conf and ops are copied. 0 or -ENOMEM. */
int cache_new(const struct cache_conf *conf, const struct cache_ops *ops,
	      struct cache **out);
/* Frees everything, after waiting for background loads (the owner makes
 * the loaders return quickly). Nothing else may be using the cache, and
 * every listing reference taken from it must be released first (a listing
 * releases its values through the cache's ops). NULL is a no-op. */
void cache_free(struct cache *c);

/*
 * One object. 0 with out->value filled (new reference), -ENOENT, -EINTR
 * when *intr became non-zero while waiting or loading, or the loader's
 * -errno. intr may be NULL.
 */
int cache_get(struct cache *c, const char *region, const char *id,
	      void *ctx, const atomic_int *intr, struct cache_item *out);

/* A region's listing, in out->list. Same returns as cache_get(). */
int cache_list(struct cache *c, const char *region, void *ctx,
	       const atomic_int *intr, struct cache_item *out);

/*
 * Reload a region's listing now even if fresh (refresh-ahead), on a thread
 * of the cache's own, unless a load of it is already running or it is in
 * its back-off interval. Returns at once: 0, or -ENOMEM / -EAGAIN when
 * the load could not start.
 */
int cache_refresh_list(struct cache *c, const char *region);

/*
 * Listings that were used since they were loaded (any listing held, when
 * all is true) and stop being fresh within lead seconds plus the time
 * their last load took (a slow listing starts that much earlier, and ends
 * before it expires), were loaded at least floor seconds ago, not loading
 * and not in a back-off: up to max region names, each malloc'ed (caller
 * frees). Returns how many were written.
 */
size_t cache_due(struct cache *c, double lead, bool all, double floor,
		 char **regions, size_t max);

/*
 * How well the cache sees a region's listing: the one model every view
 * (files, tables, the journal, Prometheus, .interlinkfs/health) reads.
 *
 *   fresh     the last load succeeded, its data was complete and not
 *             already old, and it is younger than ttl, or expired less
 *             than grace ago while its refresh is under way (a reader
 *             waits that long for it);
 *   stale     not fresh, but data younger than stale is held: it is
 *             served, said to be old;
 *   unserved  the last load was a 404 (the API does not serve the
 *             region) and nothing is held;
 *   unloaded  never loaded, and no load under way longer than grace;
 *   blind     anything else: nothing that may be served.
 *
 * With ttl 0, data counts as fresh for a second (fresh_floor).
 */
enum cache_sight_state {
	CACHE_UNLOADED, CACHE_FRESH, CACHE_STALE, CACHE_BLIND, CACHE_UNSERVED,
};

struct cache_sight {
	enum cache_sight_state state;
	bool held;            /* a listing is held */
	bool servable;        /* ... younger than stale */
	double age;           /* seconds since its data was made (held) */
	double born;          /* clock time its data was made (held) */
	size_t objects;       /* in it (held) */
	bool loaded;          /* a load of it has completed, ever */
	int last_rc;          /* that last load's result: 0 or -errno */
	bool last_old;        /* ... brought data already past ttl, or older
			       * than what was held */
	bool last_incomplete; /* ... failed: the listing did not add up */
	bool seeded;          /* what is held was saved by an earlier run
			       * (cache_seed_list) and no load has
			       * replaced it since: never fresh */
	double pending;       /* seconds a load has been under way (real
			       * time), 0: none */
	double checked;       /* seconds since the last load ended (loaded) */
	double stale_served;  /* seconds since data of it past its ttl was
			       * last handed to a reader; < 0: never */
	bool trouble;         /* not fresh because the cache tried and could
			       * not see: the last load failed or brought old
			       * data, or one has been under way past the
			       * data's ttl and grace (not: nobody asked) */
	char why[160];        /* the last failure or old data, for a person */
};

/* The name of a state: "fresh", "stale", "blind", "unserved",
 * "unloaded". Pure. */
const char *cache_sight_name(enum cache_sight_state s);

/* Seconds data of a ttl-0 cache counts as fresh in cache_sight. */
#define CACHE_FRESH_FLOOR 1.0

/* *out for region's listing (never asked for: unloaded, all zero). Never
 * loads, never waits. */
void cache_sight(struct cache *c, const char *region,
		 struct cache_sight *out);

/* Waits while a load of region's listing is under way, at most seconds
 * (real time). Returns at once when none is. */
void cache_wait_list(struct cache *c, const char *region, double seconds);

/* Waits until no background load (refresh-ahead, or a refresh that
 * outlived its grace) is under way. */
void cache_wait_background(struct cache *c);

/* Wake every waiting lookup so it re-checks its intr flag. */
void cache_wake(struct cache *c);

/*
 * Seeds a region's listing with data an earlier run saved: items (n new
 * references, ids unique; the cache takes them and the malloc'ed array,
 * whatever it returns), made at born (cache clock: the age is its true
 * one; a born in the future counts as now). It is then served as any
 * listing loaded at born is: fresh until born + ttl, then refreshed (a
 * reader waiting at most the grace), served while younger than stale
 * when the API fails. But it was not loaded by this cache: cache_sight
 * says it is never fresh (loaded false, seeded true) until a load
 * succeeds, and that load's listing is compared with it (the change
 * callback tells what differs). No callback is called for the seed
 * itself. 0, -EEXIST when the region holds a listing or a load of it
 * ran or runs (nothing changes), or -ENOMEM.
 */
int cache_seed_list(struct cache *c, const char *region, void **items,
		    size_t n, double born);

/*
 * A region's listing if the cache holds one, fresh or not, without ever
 * loading it: 0 with out->list (expires tells whether it is fresh), or
 * -ENOENT. Not counted as a hit or a miss.
 */
int cache_peek_list(struct cache *c, const char *region,
		    struct cache_item *out);

/*
 * The generation of an object the cache holds, fresh or not, without
 * loading it: 0 with *gen, or -ENOENT. Not counted.
 */
int cache_peek_gen(struct cache *c, const char *region, const char *id,
		   uint64_t *gen);

/* Forget: one object (id: the next lookup of it asks the API, through
 * the region's listing when it is in it), a region's listing and objects
 * (id NULL), or everything (region NULL). */
void cache_drop(struct cache *c, const char *region, const char *id);

void cache_get_stats(struct cache *c, struct cache_stats *out);

/* The clock the cache uses (for callers converting times). */
double cache_now(struct cache *c);

/* Drops the references in it; an empty item is fine. */
void cache_item_release(struct cache *c, struct cache_item *it);

#endif
