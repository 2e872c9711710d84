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
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- running loads ------------------------------------------------------ */

/* Marks s loading from now: readers with an old value wait for this load
 * at most the grace, counted from its start. */
static void load_begin(struct cache *c, struct lstate *s)
{
	s->loading = true;
	s->grace_until = clock_mono() + c->conf.grace;
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

/* Runs r's listing loader, r being marked loading. Lock held on entry and
 * return; dropped while the loader runs. The loader's result. */
static int run_list(struct cache *c, struct rentry *r, void *ctx)
{
	struct after a = {0};
	void **items = NULL;
	size_t n = 0;
	double started = cache_now(c);
	int rc;

	c->st.cache_loads++;
	pthread_mutex_unlock(&c->lock);
	rc = c->ops.load_list(c->ops.ud, r->region, ctx, &items, &n);
	pthread_mutex_lock(&c->lock);
	if (rc == -EINTR)
		return load_cancelled(c, &r->s);
	if (rc)
		c->st.load_errors++;
	store_apply_list(c, r, rc, items, n, started, cache_now(c), &a);
	load_end(c, &r->s, rc, r->region, r->val, rc == 0, &a);
	return rc;
}

/* The same for one object o (marked loading). */
static int run_one(struct cache *c, struct oentry *o, void *ctx)
{
	struct after a = {0};
	void *v = NULL;
	double started = cache_now(c);
	int rc;

	c->st.cache_loads++;
	pthread_mutex_unlock(&c->lock);
	rc = c->ops.load_one(c->ops.ud, o->r->region, o->id, ctx, &v);
	pthread_mutex_lock(&c->lock);
	if (rc == -EINTR)
		return load_cancelled(c, &o->s);
	if (rc)
		c->st.load_errors++;
	rc = store_apply_one(c, o, rc, rc ? NULL : v, started, cache_now(c), &a);
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

/* Can a value loaded at loaded_at stand in while a refresh runs? */
bool load_can_stand_in(struct cache *c, const struct lstate *s, double now)
{
	return c->conf.stale > 0 && now - s->loaded_at < c->conf.stale;
}

