/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache: the lookups (a region's listing, one object) and the rest of the
 * public functions. See cache_i.h for how the files share the work.
 */
#include "cache_i.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* ---- the configuration and the clock ---------------------------------------- */

void cache_conf_default(struct cache_conf *c)
{
	c->ttl = 30;
	c->stale = 600;
	c->neg_ttl = 10;
	c->retry_min = 1;
	c->retry_max = 30;
	c->budget = 256u << 20;
	c->gets_before_list = 8;
	c->grace = 1;
	c->confirm_removals = false;
}

double cache_now(struct cache *c)
{
	return store_now(c);
}

/* ---- lookups ---------------------------------------------------------------- */

#define NO_RESULT 1

/* What cache_get decided, one pass of its loop: a result in *rc
 * (returns true), or a load to run or wait for (returns false). */
struct get_pass {
	struct rentry *r;
	struct oentry *o;
	long pos;
	struct view v;
	double now;
};

/* Fresh data, or a fresh answer that there is none: true with *rc. */
static bool get_fresh(struct cache *c, struct get_pass *g, bool counted,
		      struct cache_item *out, int *rc)
{
	struct rentry *r = g->r;
	struct oentry *o = g->o;
	bool neg = o && o->neg && g->now < o->neg_until &&
		   (!r || o->s.loaded_at >= r->s.loaded_at);

	if (g->v.val && g->now < g->v.s->fresh_until && !neg) {
		c->st.cache_hits += !counted;
		if (g->v.s == &r->s) {
			r->s.last_used = g->now;
		} else {
			o->s.last_used = g->now;
			store_lru_front(c, o);
		}
		store_fill(c, out, &g->v, false);
		*rc = 0;
		return true;
	}
	if (neg || (r && r->val && g->now < r->s.fresh_until && g->pos < 0 &&
		    !(o && o->val))) {
		c->st.negative_hits += !counted;
		if (r)
			r->s.last_used = g->now;
		*rc = -ENOENT;
		return true;
	}
	return false;
}

/* Past the grace of a refresh still running: what the cache shows now,
 * fresh if the refresh has replaced it already, else the old value. */
static void serve_after_grace(struct cache *c, const struct get_pass *g,
			      struct cache_item *out)
{
	bool stale = g->now >= g->v.s->fresh_until;

	if (stale) {
		c->st.grace_stale_served++;
		c->st.stale_served++;
	}
	store_fill(c, out, &g->v, stale);
}

/* What a pass can answer without loading anything: true with *rc. */
static bool get_known(struct cache *c, const struct get_pass *g, int pending,
		      bool graced, struct cache_item *out, int *rc)
{
	if (graced && g->v.val) {
		serve_after_grace(c, g, out);
		*rc = 0;
		return true;
	}
	if (pending != NO_RESULT) {
		/* The outcome of the load we ran or waited for, even if
		 * already expired (ttl 0). */
		if (pending == 0 && g->v.val) {
			store_fill(c, out, &g->v,
				   store_is_stale(c, g->v.s, g->now));
			*rc = 0;
		} else {
			*rc = pending == 0 ? -ENOENT :
			      store_stale_or_err(c, &g->v, pending, g->now, out);
		}
		return true;
	}
	/* While the region's listing is failing, do not try each object on
	 * its own: that would be a request per read. */
	if (g->r && g->r->s.retry_at > g->now && g->r->s.err) {
		*rc = store_stale_or_err(c, &g->v, g->r->s.err, g->now, out);
		return true;
	}
	return false;
}

/* The load of what g needs, run here or waited for (the lock is dropped
 * meanwhile): false to look again (*pending, *graced set), true with *rc
 * to answer. */
static bool get_load(struct cache *c, struct get_pass *g, const char *region,
		     const char *id, void *ctx, const atomic_int *intr,
		     int *pending, bool *graced, struct cache_item *out,
		     int *rc)
{
	bool via_list = c->conf.ttl > 0 && g->r &&
			((g->r->val && g->pos >= 0) ||
			 (c->conf.gets_before_list &&
			  g->r->gets >= c->conf.gets_before_list));
	struct lstate *T;

	if ((!g->r && !(g->r = store_region_of(c, region))) ||
	    (!via_list && !g->o && !(g->o = store_obj_new(c, g->r, id)))) {
		*rc = -ENOMEM;
		return true;
	}
	T = via_list ? &g->r->s : &g->o->s;
	if (T->retry_at > g->now) {
		*rc = store_stale_or_err(c, &g->v, T->err, g->now, out);
		return true;
	}
	if (g->v.val && load_can_stand_in(c, g->v.s, g->now)) {
		enum grace gr = load_in_grace(c, g->r, via_list ? NULL : g->o,
						 intr, pending);
		/* The lock was dropped while waiting: the next pass looks at
		 * everything again (the view, even g->o). */
		*graced = gr == G_STALE;
		if (gr == G_INTR)
			*rc = -EINTR;
		if (gr != G_HERE)
			return gr == G_INTR;
	}
	if (T->loading) {
		*rc = load_join(c, T, intr, HUGE_VAL, pending);
		return *rc == -EINTR;
	}
	*pending = load_now(c, g->r, via_list ? NULL : g->o, ctx);
	*rc = *pending;
	return *pending == -EINTR;
}

int cache_get(struct cache *c, const char *region, const char *id,
	      void *ctx, const atomic_int *intr, struct cache_item *out)
{
	int pending = NO_RESULT, rc;
	bool missed = false, graced = false;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct get_pass g;

		g.now = store_now(c);
		g.r = store_find_region(c, region);
		g.o = store_find_obj(c, g.r, id);
		g.pos = store_pos(g.r, id);
		g.v = store_view(g.r, g.o, g.pos);
		if (get_fresh(c, &g, missed, out, &rc))
			break;
		if (!missed) {
			c->st.cache_misses++;
			missed = true;
		}
		if (get_known(c, &g, pending, graced, out, &rc) ||
		    get_load(c, &g, region, id, ctx, intr, &pending, &graced,
			     out, &rc))
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_list(struct cache *c, const char *region, void *ctx,
	       const atomic_int *intr, struct cache_item *out)
{
	int pending = NO_RESULT, rc;
	bool missed = false;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		double now = store_now(c);
		struct rentry *r = store_find_region(c, region);

		if (r && r->val && now < r->s.fresh_until) {
			c->st.cache_hits += !missed;
			r->s.last_used = now;
			store_fill_list(c, out, r, false);
			rc = 0;
			break;
		}
		if (!missed) {
			c->st.cache_misses++;
			missed = true;
		}
		if (!r && !(r = store_region_of(c, region))) {
			rc = -ENOMEM;
			break;
		}
		if (pending != NO_RESULT || r->s.retry_at > now) {
			int err = pending != NO_RESULT ? pending : r->s.err;
			if (err == 0 && r->val) {
				store_fill_list(c, out, r,
						store_is_stale(c, &r->s, now));
				rc = 0;
			} else {
				rc = store_stale_or_err_list(c, r, err ? err : -ENOENT,
						       now, out);
			}
			r->s.last_used = now;
			break;
		}
		if (r->val && load_can_stand_in(c, &r->s, now)) {
			enum grace gr = load_in_grace(c, r, NULL, intr,
							 &pending);
			if (gr == G_STALE && !r->val)
				continue; /* forgotten meanwhile: wait */
			if (gr == G_STALE) {
				/* The listing now: the refresh may have
				 * replaced it already. */
				bool stale = store_now(c) >= r->s.fresh_until;
				if (stale) {
					c->st.grace_stale_served++;
					c->st.stale_served++;
				}
				store_fill_list(c, out, r, stale);
			}
			if (gr == G_STALE || gr == G_INTR) {
				rc = gr == G_STALE ? 0 : -EINTR;
				r->s.last_used = now;
				break;
			}
			if (gr != G_HERE)
				continue;
		}
		if (r->s.loading) {
			if (load_join(c, &r->s, intr, HUGE_VAL, &pending) ==
			    -EINTR) {
				rc = -EINTR;
				break;
			}
			continue;
		}
		pending = load_now(c, r, NULL, ctx);
		if (pending == -EINTR) {
			rc = -EINTR;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- the rest ------------------------------------------------------------ */

int cache_refresh_list(struct cache *c, const char *region)
{
	struct rentry *r;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	r = store_region_of(c, region);
	if (!r)
		rc = -ENOMEM;
	else if (!r->s.loading && r->s.retry_at <= store_now(c))
		rc = load_bg(c, r, NULL);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* A listing of items (taken; duplicates released), built without the
 * lock: its generations are given when it is installed. NULL when out of
 * memory (every item released). */
static struct cache_listing *seed_listing(struct cache *c, void **items,
					  size_t n)
{
	struct cache_listing *l = listing_new(&c->ops.values, n);

	for (size_t i = 0; i < n; i++) {
		if (l && cache_listing_find(l, c->ops.values.id(items[i])) < 0)
			listing_add(l, items[i], 0, 0);
		else
			c->ops.values.release(items[i]);
	}
	free(items);
	return l;
}

int cache_seed_list(struct cache *c, const char *region, void **items,
		    size_t n, double born)
{
	struct cache_listing *l = seed_listing(c, items, n);
	struct after a = {0};
	struct rentry *r;
	double now;
	int rc = 0;

	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	now = store_now(c);
	r = store_region_of(c, region);
	if (!r)
		rc = -ENOMEM;
	else if (r->val || r->s.loading || r->s.load_seq)
		rc = -EEXIST;
	if (!rc) {
		for (size_t i = 0; i < l->n; i++)
			l->items[i].gen = ++c->gen_counter;
		r->gen = l->seq = ++c->gen_counter;
		store_region_set(c, r, l, &a);
		/* Loaded now, of data made at born: by its true age. */
		r->s.loaded_at = now;
		r->s.born = born < now ? born : now;
		r->s.fresh_until = r->s.born + c->conf.ttl;
		r->s.changed_at = 0;
		r->s.seeded = true;
		l = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	cache_listing_release(l);
	store_after_run(c, &a);
	return rc;
}

int cache_peek_list(struct cache *c, const char *region,
		    struct cache_item *out)
{
	struct rentry *r;
	int rc = -ENOENT;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	r = store_find_region(c, region);
	if (r && r->val) {
		store_fill_list(c, out, r, false);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_peek_gen(struct cache *c, const char *region, const char *id,
		   uint64_t *gen)
{
	struct rentry *r;
	struct view v;
	int rc = -ENOENT;

	pthread_mutex_lock(&c->lock);
	r = store_find_region(c, region);
	v = store_view(r, store_find_obj(c, r, id), store_pos(r, id));
	if (v.val) {
		*gen = v.gen;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

size_t cache_due(struct cache *c, double lead, bool all, double floor,
		 char **regions, size_t max)
{
	size_t n = 0;
	double now;

	pthread_mutex_lock(&c->lock);
	now = store_now(c);
	for (struct rentry *r = c->regions; r && n < max; r = r->next) {
		if (!r->val || r->s.loading || r->s.retry_at > now ||
		    (!all && r->s.last_used <= r->s.loaded_at) ||
		    r->s.fresh_until - now >= lead + r->s.took ||
		    now - r->s.loaded_at < floor)
			continue;
		regions[n] = strdup(r->region);
		if (regions[n])
			n++;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

void cache_wait_background(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->bg_running)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void cache_wake(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Forgets r's listing and objects (without telling the owner). */
static void drop_region(struct cache *c, struct rentry *r, struct after *a)
{
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct oentry *o = c->buckets[b], *next;
		for (; o; o = next) {
			next = o->hnext;
			if (o->r == r)
				store_obj_forget(c, o, a);
		}
	}
	store_region_set(c, r, NULL, a);
	r->s.fresh_until = r->s.retry_at = 0;
	r->s.err = r->s.fails = 0;
	r->gets = 0;
}

void cache_drop(struct cache *c, const char *region, const char *id)
{
	struct after a = {0};
	struct rentry *r;

	pthread_mutex_lock(&c->lock);
	if (!region) {
		for (r = c->regions; r; r = r->next)
			drop_region(c, r, &a);
	} else if ((r = store_find_region(c, region)) && !id) {
		drop_region(c, r, &a);
	} else if (r) {
		struct oentry *o = store_find_obj(c, r, id);
		if (o)
			store_obj_forget(c, o, &a);
		/* The listing would otherwise answer for the id. */
		r->s.fresh_until = 0;
	}
	pthread_mutex_unlock(&c->lock);
	store_after_run(c, &a);
}

void cache_wait_list(struct cache *c, const char *region, double seconds)
{
	struct rentry *r;
	int rc;

	pthread_mutex_lock(&c->lock);
	r = store_find_region(c, region);
	if (r && r->s.loading)
		(void)load_wait(c, &r->s, NULL, clock_mono() + seconds, &rc);
	pthread_mutex_unlock(&c->lock);
}

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->bytes_cached = c->obj_bytes + c->list_bytes;
	pthread_mutex_unlock(&c->lock);
}

void cache_item_release(struct cache *c, struct cache_item *it)
{
	if (it->value)
		c->ops.values.release(it->value);
	cache_listing_release(it->list);
	it->value = NULL;
	it->list = NULL;
}

int cache_new(const struct cache_conf *conf, const struct cache_ops *ops,
	      struct cache **out)
{
	struct cache *c = calloc(1, sizeof *c);
	pthread_condattr_t ca;

	if (!c)
		return -ENOMEM;
	c->conf = *conf;
	c->ops = *ops;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&c->bg_cond, NULL);
	*out = c;
	return 0;
}

void cache_free(struct cache *c)
{
	struct after a = {0};

	if (!c)
		return;
	/* Background loads hold entries: wait for them (the owner made the
	 * loaders return quickly, by shutting its client down), then for the
	 * workers to end. */
	cache_wait_background(c);
	pthread_mutex_lock(&c->lock);
	c->quitting = true;
	pthread_cond_broadcast(&c->bg_cond);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < c->nworkers; i++)
		pthread_join(c->workers[i], NULL);
	while (c->regions) {
		struct rentry *r = c->regions;
		drop_region(c, r, &a);
		c->regions = r->next;
		free(r->region);
		free(r);
	}
	store_after_run(c, &a);
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	pthread_cond_destroy(&c->bg_cond);
	free(c);
}
