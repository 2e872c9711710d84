/*
 * cache: the TTL cache between the FUSE callbacks and the API client.
 *
 * It holds two kinds of entry per region: the region's listing (every
 * object, as one generation) and single objects keyed by id. Loading a
 * listing seeds the single entries. It knows nothing of HTTP or FUSE: it
 * calls the loaders and the clock it was given, and tells its owner what
 * changed. Values are refcounted jansson objects, handed out as new
 * references and never modified after they enter the cache, so readers
 * share them without copying.
 *
 * Semantics, in short (details at each function):
 *  - fresh for ttl seconds; ttl 0 asks the API on every lookup;
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
 *  - non-listed objects beyond the byte budget are evicted, least recently
 *    used first.
 *
 * Thread-safety: every function is thread-safe except cache_new() and
 * cache_free(). One mutex guards the cache; it is never held while a
 * loader or the change callback runs. Loaders and the change callback may
 * run on the cache's own threads (refreshes nobody waits for to the end),
 * with ctx NULL; cache_free() waits for them.
 */
#ifndef INTERLINKFS_CACHE_H
#define INTERLINKFS_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct cache;

enum cache_change_kind {
	CACHE_ADDED,
	CACHE_CHANGED,
	CACHE_REMOVED,
};

struct cache_change {
	const char *id;               /* borrowed for the callback's duration */
	enum cache_change_kind kind;
};

struct cache_ops {
	/*
	 * Load every object of a region. On success *items is a new reference
	 * to an array of objects, each with a string member "id" (unique).
	 * Returns 0 or -errno. ctx is the caller's, passed through.
	 */
	int (*load_list)(void *ud, const char *region, void *ctx,
			 json_t **items);
	/* Load one object: 0 with a new reference, -ENOENT, or -errno. */
	int (*load_one)(void *ud, const char *region, const char *id,
			void *ctx, json_t **obj);
	/*
	 * Optional. Called after a load replaced values, from the loading
	 * thread, without the cache lock, before anyone waiting for that load
	 * is released: which ids were added, changed or removed. After a
	 * listing load, listing is the new listing (borrowed) and gen its
	 * generation (as cache_list() would report it); NULL and 0 after a
	 * single object's load.
	 */
	void (*changed)(void *ud, const char *region,
			const struct cache_change *changes, size_t n,
			const json_t *listing, uint64_t gen);
	/* Optional: the clock, in seconds (monotonic). NULL: CLOCK_MONOTONIC. */
	double (*now)(void *ud);
	/*
	 * Optional: the id of a listing item, written to buf (NUL-terminated);
	 * 0, or -EINVAL if it has none. NULL: items are objects whose string
	 * member "id" is the id. Lets an owner cache items in a compact form
	 * of its own (a JSON string, say).
	 */
	int (*id_of)(void *ud, const json_t *item, char *buf, size_t len);
	void *ud;
};

struct cache_conf {
	double ttl;           /* seconds a value is fresh: 30 */
	double stale;         /* seconds a value may be served on errors: 600 */
	double neg_ttl;       /* cap on how long a 404 is remembered: 10 */
	double retry_min;     /* back-off after a failed load: 1 s ... */
	double retry_max;     /* ... doubling up to 30 s */
	size_t budget;        /* bytes for non-listed objects: 256 MiB */
	/* Objects of a region loaded one by one before the next miss loads
	 * the region's listing instead (a script reading many connections
	 * by id costs a few gets, then one listing for all): 8; 0 = never. */
	unsigned gets_before_list;
	/* Longest wait for a refresh when an old value (younger than stale)
	 * could be served instead: 1 s; 0: serve it at once. Real seconds,
	 * whatever the injected clock. */
	double grace;
};

/* What a lookup returns. Release with cache_item_release(). */
struct cache_item {
	json_t *value;        /* new reference: an object, or for a listing an
			       * array of objects */
	uint64_t gen;         /* changes whenever the value does */
	double expires;       /* clock time it stops being fresh (may be past) */
	double changed_at;    /* clock time the cache saw it change; 0 if it
			       * never changed since it was first loaded */
	double loaded_at;     /* clock time of the load it came from */
	bool stale;           /* served past its TTL because a refresh failed */
};

struct cache_stats {
	uint64_t hits;        /* answered from fresh data */
	uint64_t misses;      /* needed a load (or waited for one) */
	uint64_t loads;       /* loader calls */
	uint64_t load_errors; /* loader calls that failed */
	uint64_t coalesced;   /* lookups that waited for another's load */
	uint64_t negative_hits; /* -ENOENT without a request */
	uint64_t stale_served;
	uint64_t grace_stale;   /* of which: a refresh took longer than grace */
	uint64_t evictions;
	uint64_t bytes;       /* estimated size of cached values */
	uint64_t objects;     /* single entries holding a value */
};

void cache_conf_default(struct cache_conf *c);

/* A new cache; conf and ops are copied. 0 or -ENOMEM. */
int cache_new(const struct cache_conf *conf, const struct cache_ops *ops,
	      struct cache **out);
/* Frees everything. Nothing may be using the cache. NULL is a no-op. */
void cache_free(struct cache *c);

/*
 * One object. 0 with *out filled (new reference), -ENOENT, -EINTR when
 * *intr became non-zero while waiting or loading, or the loader's -errno.
 * intr may be NULL.
 */
int cache_get(struct cache *c, const char *region, const char *id,
	      void *ctx, const atomic_int *intr, struct cache_item *out);

/* A region's listing (an array). Same returns as cache_get(). */
int cache_list(struct cache *c, const char *region, void *ctx,
	       const atomic_int *intr, struct cache_item *out);

/*
 * Reload a region's listing now even if fresh (refresh-ahead), on a thread
 * of its own, unless a load of it is already running or it is in its
 * back-off interval. Returns at once: 0, or -ENOMEM / -EAGAIN when the
 * load could not start. ctx is unused (the load belongs to no request).
 */
int cache_refresh_list(struct cache *c, const char *region, void *ctx);

/*
 * Listings that were used since they were loaded and stop being fresh
 * within lead seconds: up to max region names, each malloc'ed (caller
 * frees). Returns how many were written.
 */
size_t cache_due(struct cache *c, double lead, char **regions, size_t max);

/* Waits until no background load (refresh-ahead, or a refresh that
 * outlived its grace) is under way. Thread-safe. */
void cache_wait_background(struct cache *c);

/* Wake every waiting lookup so it re-checks its intr flag. */
void cache_wake(struct cache *c);

/*
 * A region's listing if the cache holds one, fresh or not, without ever
 * loading it: 0 with *out (expires tells whether it is fresh), or -ENOENT.
 * Not counted as a hit or a miss.
 */
int cache_peek_list(struct cache *c, const char *region,
		    struct cache_item *out);

/*
 * The generation of an object the cache holds, fresh or not, without
 * loading it: 0 with *gen, or -ENOENT. Not counted.
 */
int cache_peek_gen(struct cache *c, const char *region, const char *id,
		   uint64_t *gen);

/* Forget: one object (id), a region's listing and objects (id NULL), or
 * everything (region NULL). */
void cache_drop(struct cache *c, const char *region, const char *id);

/* Age in seconds of a region's listing: 0 or -ENOENT if never loaded. */
int cache_listing_age(struct cache *c, const char *region, double *age);

void cache_get_stats(struct cache *c, struct cache_stats *out);

/* The clock the cache uses (for callers converting times). */
double cache_now(struct cache *c);

/* Drops the reference in it; NULL value is fine. */
void cache_item_release(struct cache_item *it);

/* Estimated bytes a JSON value takes in memory. Pure, thread-safe. */
size_t cache_json_size(const json_t *v);

#endif
