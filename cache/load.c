/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load: running a load (a listing, or one object) without the lock, in the
 * caller's thread or on one of a few worker threads of the cache's own,
 * and waiting for one, with or without a grace.
 */
#include "cache_i.h"

#include "clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- running loads ------------------------------------------------------ */

/* Marks s loading from now: readers with an old value wait for this load
 * at most the grace, counted from its start. */
static void load_begin(struct cache *c, struct lstate *s)
{
	s->loading = true;
	s->started = clock_mono();
	s->grace_until = s->started + c->conf.grace;
}

/*
 * The end of a load: evictions, then (without the lock) the owner told
 * what changed and what was let go of released, then the waiters woken.
 * Lock held on entry and return.
 */
static void load_end(struct cache *c, struct lstate *s, int rc,
		     const char *region, struct cache_listing *listing,
		     bool listed, struct after *a)
{
	store_evict(c, a);
	if (listing)
		cache_listing_hold(listing);
	pthread_mutex_unlock(&c->lock);
	if (a->n && c->ops.changed)
		c->ops.changed(c->ops.ud, region, a->v, a->n, listing);
	if (listed && listing && c->ops.listed)
		c->ops.listed(c->ops.ud, region, listing);
	cache_listing_release(listing);
	store_after_run(c, a);
	pthread_mutex_lock(&c->lock);
	s->last_rc = rc;
	s->load_seq++;
	s->loading = false;
	pthread_cond_broadcast(&c->cond);
}

/* Cancelled: nothing learnt. Waiters will load themselves. */
static int load_cancelled(struct cache *c, struct lstate *s)
{
	s->loading = false;
	pthread_cond_broadcast(&c->cond);
	return -EINTR;
}

/* What a listing lacks of prev (both borrowed): how many, and a digest
 * of which, to tell whether two readings agree on what went. */
static size_t lost(const struct cache *c, const struct cache_listing *prev,
		   void **items, size_t n, uint64_t *digest)
{
	struct cache_listing *now = listing_new(&c->ops.values, n);
	size_t count = 0;

	*digest = 0;
	if (!now)
		return 0; /* out of memory: believed as it is */
	for (size_t i = 0; i < n; i++)
		listing_add(now, items[i], 0, 0);
	for (size_t i = 0; i < prev->n; i++) {
		const char *id = c->ops.values.id(prev->items[i].v);
		uint64_t h = 1469598103934665603ULL;

		if (cache_listing_find(now, id) >= 0)
			continue;
		for (const char *p = id; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		*digest ^= h;
		count++;
	}
	now->n = 0; /* its values are the caller's */
	cache_listing_release(now);
	return count;
}

/* The loader, without the lock. With confirm_removals, a listing that
 * lacks objects prev held is read again, up to three readings, until two
 * in a row lack the same ones; if they never agree, the load fails as
 * incomplete. */
static int load_confirmed(struct cache *c, const char *region, void *ctx,
			  const struct cache_listing *prev, void ***items,
			  size_t *n, struct cache_note *note)
{
	uint64_t last = 0;
	size_t lastn = 0;
	int rc;

	for (int reading = 1;; reading++) {
		uint64_t digest;
		size_t gone;

		memset(note, 0, sizeof *note);
		rc = c->ops.load_list(c->ops.ud, region, ctx, items, n, note);
		if (rc || !prev || !c->conf.confirm_removals)
			return rc;
		gone = lost(c, prev, *items, *n, &digest);
		if (!gone || (reading > 1 && gone == lastn && digest == last))
			return 0;
		if (reading == 3)
			break;
		last = digest;
		lastn = gone;
		for (size_t i = 0; i < *n; i++)
			c->ops.values.release((*items)[i]);
		free(*items);
		*items = NULL;
		*n = 0;
	}
	for (size_t i = 0; i < *n; i++)
		c->ops.values.release((*items)[i]);
	free(*items);
	*items = NULL;
	*n = 0;
	note->incomplete = true;
	snprintf(note->why, sizeof note->why, "the listing did not agree "
		 "with itself in 3 readings on which objects went");
	return -EIO;
}

/* Runs r's listing loader, r being marked loading. Lock held on entry and
 * return; dropped while the loader runs. The loader's result. */
static int run_list(struct cache *c, struct rentry *r, void *ctx)
{
	struct after a = {0};
	struct cache_note note;
	struct cache_listing *prev = r->val;
	void **items = NULL;
	size_t n = 0;
	double started = store_now(c);
	bool replaced;
	int rc;

	c->st.cache_loads++;
	if (prev)
		cache_listing_hold(prev);
	pthread_mutex_unlock(&c->lock);
	rc = load_confirmed(c, r->region, ctx, prev, &items, &n, &note);
	cache_listing_release(prev);
	pthread_mutex_lock(&c->lock);
	if (rc == -EINTR)
		return load_cancelled(c, &r->s);
	if (rc)
		c->st.load_errors++;
	replaced = store_apply_list(c, r, rc, items, n, &note, started,
				    store_now(c), &a);
	r->s.ended = store_now(c);
	r->s.took = r->s.ended - started;
	load_end(c, &r->s, rc, r->region, r->val, replaced, &a);
	return rc;
}

/* The same for one object o (marked loading). */
static int run_one(struct cache *c, struct oentry *o, void *ctx)
{
	struct after a = {0};
	struct cache_note note = {0};
	void *v = NULL;
	double started = store_now(c);
	int rc;

	c->st.cache_loads++;
	pthread_mutex_unlock(&c->lock);
	rc = c->ops.load_one(c->ops.ud, o->r->region, o->id, ctx, &v, &note);
	pthread_mutex_lock(&c->lock);
	if (rc == -EINTR)
		return load_cancelled(c, &o->s);
	if (rc)
		c->st.load_errors++;
	rc = store_apply_one(c, o, rc, rc ? NULL : v, &note, started,
			     store_now(c), &a);
	o->s.ended = store_now(c);
	o->s.took = o->s.ended - started;
	/* Count single loads: past a few, one listing is cheaper. */
	o->r->gets++;
	load_end(c, &o->s, rc, o->r->region, NULL, false, &a);
	return rc;
}

/* A load in this thread: of o, or of r's listing when o is NULL. */
int load_now(struct cache *c, struct rentry *r, struct oentry *o,
		void *ctx)
{
	load_begin(c, o ? &o->s : &r->s);
	return o ? run_one(c, o, ctx) : run_list(c, r, ctx);
}

/* A worker: runs queued loads until the cache is freed. */
static void *bg_main(void *arg)
{
	struct cache *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct bgload *b = c->jobs;

		if (!b) {
			if (c->quitting)
				break;
			c->idle++;
			pthread_cond_wait(&c->bg_cond, &c->lock);
			c->idle--;
			continue;
		}
		c->jobs = b->next;
		if (!c->jobs)
			c->jobs_tail = NULL;
		if (b->o)
			run_one(c, b->o, NULL);
		else
			run_list(c, b->r, NULL);
		c->bg_running--;
		pthread_cond_broadcast(&c->cond);
		free(b);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * Queues a load (of o, or of r's listing) for a worker and returns at
 * once: 0, or -ENOMEM / -EAGAIN (then nothing was queued). Lock held. The
 * entry is marked loading before this returns, so that others wait for
 * this load instead of starting theirs.
 */
int load_bg(struct cache *c, struct rentry *r, struct oentry *o)
{
	struct bgload *b = calloc(1, sizeof *b);

	if (!b)
		return -ENOMEM;
	if (!c->idle && c->nworkers < BG_WORKERS &&
	    pthread_create(&c->workers[c->nworkers], NULL, bg_main, c) == 0)
		c->nworkers++;
	if (!c->nworkers) {
		free(b);
		return -EAGAIN;
	}
	b->r = r;
	b->o = o;
	if (c->jobs_tail)
		c->jobs_tail->next = b;
	else
		c->jobs = b;
	c->jobs_tail = b;
	load_begin(c, o ? &o->s : &r->s);
	c->bg_running++;
	pthread_cond_signal(&c->bg_cond);
	return 0;
}

/*
 * Waits for the load of s to end, but not past `until` (CLOCK_MONOTONIC
 * seconds; HUGE_VAL: no limit). 1 with *rc when a load completed, 0 when
 * it was cancelled (try again), -EINTR when intr was raised, -ETIMEDOUT
 * when until came first.
 */
int load_wait(struct cache *c, struct lstate *s, const atomic_int *intr,
		     double until, int *rc)
{
	uint64_t seq = s->load_seq;
	struct timespec ts;
	int w = 0;

	ts.tv_sec = isinf(until) ? (time_t)0 : (time_t)until;
	ts.tv_nsec = isinf(until) ? 0 : (long)((until - (double)ts.tv_sec) *
						 1e9);
	s->pins++;
	while (s->loading && !(intr && atomic_load(intr)) && w != ETIMEDOUT)
		w = isinf(until) ? pthread_cond_wait(&c->cond, &c->lock)
		    : pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	s->pins--;
	if (intr && atomic_load(intr))
		return -EINTR;
	if (s->load_seq != seq) {
		*rc = s->last_rc;
		return 1;
	}
	return s->loading ? -ETIMEDOUT : 0;
}

/* A wait that shares another lookup's load: counted as coalesced. */
int load_join(struct cache *c, struct lstate *s, const atomic_int *intr,
	      double until, int *rc)
{
	c->st.coalesced++;
	return load_wait(c, s, intr, until, rc);
}

/*
 * Refreshes s (of o, or of r's listing) while an old value may be served
 * instead: the refresh runs on a worker, and readers wait for it at most
 * conf.grace seconds from its start (one who comes later gets the old
 * value at once, instead of each waiting a grace of their own). G_DONE
 * with *rc when it ended in time; G_STALE when it did not (the caller
 * serves what the cache shows now, which may already be what the refresh
 * brought: a refresh replaces the values before it ends; it goes on, and
 * its result comes to the cache and the owner later); G_AGAIN when it was
 * cancelled; G_INTR; G_HERE when no worker could take it (then load in
 * this thread). The lock is dropped while waiting: what the caller looked
 * at before must be looked up again.
 */
enum grace load_in_grace(struct cache *c, struct rentry *r,
				   struct oentry *o, const atomic_int *intr,
				   int *rc)
{
	struct lstate *s = o ? &o->s : &r->s;

	if (!s->loading && load_bg(c, r, o))
		return G_HERE;
	switch (load_join(c, s, intr, s->grace_until, rc)) {
	case 1:
		return G_DONE;
	case -EINTR:
		return G_INTR;
	case -ETIMEDOUT:
		return G_STALE;
	default:
		return G_AGAIN;
	}
}

/* Can a value made at born stand in while a refresh runs? */
bool load_can_stand_in(struct cache *c, const struct lstate *s, double now)
{
	return c->conf.stale > 0 && now - s->born < c->conf.stale;
}

