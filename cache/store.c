/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the cache's entries (a listing entry per region, an object entry
 * per object fetched alone), what is shown for an object, and what a load
 * brings to them. Every function here is called with the lock held;
 * values to let go of are gathered and released after.
 */
#include "cache_i.h"

#include "clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double store_now(struct cache *c)
{
	return c->ops.now ? c->ops.now(c->ops.ud) : clock_mono();
}

/* ---- what to do after the lock ----------------------------------------- */

static void trash(struct after *a, void *v);

/* A change to tell the owner, with the values before and after it (held
 * until the callback has run). */
static void note_change(struct cache *c, struct after *a, const char *id,
		 enum cache_change_kind k, void *before, void *after)
{
	char *copy;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct cache_change *v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return; /* the kernel's timeouts still bound staleness */
		a->v = v;
		a->cap = cap;
	}
	if (!(copy = strdup(id)))
		return;
	if (before) {
		c->ops.values.hold(before);
		trash(a, before);
	}
	if (after) {
		c->ops.values.hold(after);
		trash(a, after);
	}
	a->v[a->n++] = (struct cache_change){copy, k, before, after};
}

/* A reference to drop once the lock is released. */
static void trash(struct after *a, void *v)
{
	if (!v)
		return;
	if (a->ntrash == a->trashcap) {
		size_t cap = a->trashcap ? a->trashcap * 2 : 16;
		void **t = realloc(a->trash, cap * sizeof *t);
		if (!t)
			return; /* leaked rather than freed under the lock */
		a->trash = t;
		a->trashcap = cap;
	}
	a->trash[a->ntrash++] = v;
}

/* A listing to release once the lock is released. */
static void trash_listing(struct after *a, struct cache_listing *l)
{
	if (!l)
		return;
	if (a->nlists == a->listcap) {
		size_t cap = a->listcap ? a->listcap * 2 : 4;
		struct cache_listing **t = realloc(a->lists, cap * sizeof *t);
		if (!t)
			return;
		a->lists = t;
		a->listcap = cap;
	}
	a->lists[a->nlists++] = l;
}

/* Called without the lock. */
void store_after_run(struct cache *c, struct after *a)
{
	for (size_t i = 0; i < a->ntrash; i++)
		c->ops.values.release(a->trash[i]);
	for (size_t i = 0; i < a->nlists; i++)
		cache_listing_release(a->lists[i]);
	for (size_t i = 0; i < a->n; i++)
		free((char *)a->v[i].id);
	free(a->v);
	free(a->trash);
	free(a->lists);
	memset(a, 0, sizeof *a);
}

/* ---- regions and objects ------------------------------------------------ */

struct rentry *store_find_region(struct cache *c, const char *region)
{
	for (struct rentry *r = c->regions; r; r = r->next)
		if (strcmp(r->region, region) == 0)
			return r;
	return NULL;
}

struct rentry *store_region_of(struct cache *c, const char *region)
{
	struct rentry *r = store_find_region(c, region);

	if (r)
		return r;
	r = calloc(1, sizeof *r);
	if (!r || !(r->region = strdup(region))) {
		free(r);
		return NULL;
	}
	r->next = c->regions;
	c->regions = r;
	return r;
}

static uint64_t key_hash(const struct rentry *r, const char *id)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)r;

	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

struct oentry *store_find_obj(struct cache *c, struct rentry *r,
			       const char *id)
{
	uint64_t h;

	if (!r)
		return NULL;
	h = key_hash(r, id);
	for (struct oentry *o = c->buckets[h % c->nbuckets]; o; o = o->hnext)
		if (o->hash == h && o->r == r && strcmp(o->id, id) == 0)
			return o;
	return NULL;
}

static void grow(struct cache *c)
{
	size_t nb = c->nbuckets * 2;
	struct oentry **b = calloc(nb, sizeof *b);

	if (!b)
		return; /* keep the longer chains */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct oentry *o = c->buckets[i], *next;
		for (; o; o = next) {
			next = o->hnext;
			o->hnext = b[o->hash % nb];
			b[o->hash % nb] = o;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

struct oentry *store_obj_new(struct cache *c, struct rentry *r,
			      const char *id)
{
	size_t n = strlen(id);
	struct oentry *o = calloc(1, sizeof *o + n + 1);

	if (!o)
		return NULL;
	memcpy(o->id, id, n + 1);
	o->r = r;
	o->hash = key_hash(r, id);
	o->hnext = c->buckets[o->hash % c->nbuckets];
	c->buckets[o->hash % c->nbuckets] = o;
	if (++c->count > c->nbuckets)
		grow(c);
	return o;
}

static void lru_remove(struct cache *c, struct oentry *o)
{
	if (!o->in_lru)
		return;
	if (o->lprev)
		o->lprev->lnext = o->lnext;
	else
		c->lru_head = o->lnext;
	if (o->lnext)
		o->lnext->lprev = o->lprev;
	else
		c->lru_tail = o->lprev;
	o->lprev = o->lnext = NULL;
	o->in_lru = false;
}

void store_lru_front(struct cache *c, struct oentry *o)
{
	lru_remove(c, o);
	o->lnext = c->lru_head;
	if (c->lru_head)
		c->lru_head->lprev = o;
	c->lru_head = o;
	if (!c->lru_tail)
		c->lru_tail = o;
	o->in_lru = true;
}

/* Replaces o's value (the old one goes to the trash). */
static void obj_set(struct cache *c, struct oentry *o, void *v,
		    struct after *a)
{
	if (o->val) {
		c->st.objects--;
		c->obj_bytes -= o->bytes;
		trash(a, o->val);
	}
	o->val = v;
	o->bytes = v ? c->ops.values.size(v) : 0;
	if (v) {
		c->st.objects++;
		c->obj_bytes += o->bytes;
		store_lru_front(c, o);
	} else {
		lru_remove(c, o);
	}
}

/* Forgets what o knows. An entry being loaded or waited on stays (empty)
 * so nobody holds a dangling pointer; others go. */
void store_obj_forget(struct cache *c, struct oentry *o, struct after *a)
{
	struct oentry **pp;

	obj_set(c, o, NULL, a);
	o->neg = false;
	o->s.fresh_until = o->s.retry_at = 0;
	o->s.err = o->s.fails = 0;
	if (o->s.loading || o->s.pins)
		return;
	for (pp = &c->buckets[o->hash % c->nbuckets]; *pp != o;
	     pp = &(*pp)->hnext)
		;
	*pp = o->hnext;
	c->count--;
	free(o);
}

/* Replaces r's listing (the old one is released after the lock). */
void store_region_set(struct cache *c, struct rentry *r,
		       struct cache_listing *l, struct after *a)
{
	if (r->val) {
		c->st.objects -= r->val->n;
		c->list_bytes -= listing_bytes(r->val);
		trash_listing(a, r->val);
	}
	r->val = l;
	r->s.seeded = false;
	if (l) {
		c->st.objects += l->n;
		c->list_bytes += listing_bytes(l);
	}
}

void store_evict(struct cache *c, struct after *a)
{
	while (c->obj_bytes > c->conf.budget && c->lru_tail) {
		struct oentry *o = c->lru_tail;
		if (o->s.loading || o->s.pins) {
			lru_remove(c, o);
			continue;
		}
		store_obj_forget(c, o, a);
		c->st.evictions++;
	}
}

/* ---- policy ---------------------------------------------------------------- */

/* Failures worth hiding behind stale data. 404, 401/403 and bad requests
 * are answers, not failures: they are never masked. */
static bool transient(int err)
{
	switch (-err) {
	case ETIMEDOUT:
	case EIO:
	case EAGAIN:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ECONNRESET:
	case ENOMEM:
	/* A TLS peer that cannot be trusted (or a failed handshake): what
	 * the cache holds came over a verified connection, and nothing of
	 * the failing peer is used. */
	case EPROTO:
		return true;
	default:
		return false;
	}
}

static double backoff(struct cache *c, int fails)
{
	double b = c->conf.retry_min * pow(2, fails > 1 ? fails - 1 : 0);
	return fmin(b, c->conf.retry_max);
}

struct view store_view(struct rentry *r, struct oentry *o, long pos)
{
	struct view v = {0};

	if (o && o->val && (pos < 0 || o->s.loaded_at >= r->s.loaded_at))
		v = (struct view){o->val, o->gen, o->s.changed_at, &o->s};
	else if (pos >= 0)
		v = (struct view){r->val->items[pos].v, r->val->items[pos].gen,
				  r->val->items[pos].changed_at, &r->s};
	return v;
}

long store_pos(struct rentry *r, const char *id)
{
	return r && r->val ? cache_listing_find(r->val, id) : -1;
}

void store_fill(struct cache *c, struct cache_item *out,
		 const struct view *v, bool stale)
{
	/* A reader got old data: a script that read it can learn so
	 * (cache_sight's stale_served). */
	if (stale)
		((struct lstate *)v->s)->stale_at = store_now(c);
	c->ops.values.hold(v->val);
	out->value = v->val;
	out->gen = v->gen;
	out->expires = v->s->fresh_until;
	out->changed_at = v->changed_at;
	out->loaded_at = v->s->loaded_at;
	out->born = v->s->born;
	out->stale = stale;
}

void store_fill_list(struct cache *c, struct cache_item *out,
		     struct rentry *r, bool stale)
{
	if (stale)
		r->s.stale_at = store_now(c);
	cache_listing_hold(r->val);
	out->list = r->val;
	out->gen = r->gen;
	out->expires = r->s.fresh_until;
	out->changed_at = r->s.changed_at;
	out->loaded_at = r->s.loaded_at;
	out->born = r->s.born;
	out->stale = stale;
}

bool store_is_stale(const struct cache *c, const struct lstate *s,
		    double now)
{
	return c->conf.ttl > 0 && now >= s->fresh_until;
}

/* May this value be served now that a refresh failed with err? */
static bool servable(struct cache *c, const struct lstate *s, int err,
		     double now)
{
	return transient(err) && c->conf.stale > 0 &&
	       now - s->born < c->conf.stale;
}

int store_stale_or_err(struct cache *c, const struct view *v, int err,
			double now, struct cache_item *out)
{
	if (v->val && servable(c, v->s, err, now)) {
		c->st.stale_served++;
		store_fill(c, out, v, true);
		return 0;
	}
	return err;
}

int store_stale_or_err_list(struct cache *c, struct rentry *r, int err,
			     double now, struct cache_item *out)
{
	if (r->val && servable(c, &r->s, err, now)) {
		c->st.stale_served++;
		store_fill_list(c, out, r, true);
		return 0;
	}
	return err;
}

/* A failed load: retried after a back-off; what the loader said is
 * kept, for a person. */
static void set_failed(struct cache *c, struct lstate *s, int rc,
		       const struct cache_note *note, double now)
{
	s->err = rc;
	s->fails++;
	s->retry_at = now + (rc == -ENOENT ? fmin(c->conf.ttl, c->conf.neg_ttl)
			     : backoff(c, s->fails));
	s->incomplete = note && note->incomplete;
	s->old = false;
	snprintf(s->why, sizeof s->why, "%s", note && note->why[0] ?
		 note->why : strerror(-rc));
}

/* A load that brought no news: data older than what is held, the very
 * copy held again, or data already past its ttl (a cache in front of the
 * API serving what it kept). It is asked again after a back-off, as after
 * a failure, so that a cache that keeps answering old data is not asked
 * at every read; meanwhile what is held is served (as stale once past its
 * ttl). While what is held is fresh, the back-off never goes past its
 * expiry, when a cache in front has a newer copy to give. */
static void set_no_news(struct cache *c, struct lstate *s, double born,
			double now, int fails, const char *what)
{
	s->fails = fails + 1;
	s->err = -EIO;
	s->retry_at = now + backoff(c, s->fails);
	s->incomplete = false;
	if (now < s->fresh_until) {
		s->retry_at = fmin(s->retry_at, s->fresh_until);
		s->old = false;
		s->why[0] = '\0';
		return;
	}
	s->old = true;
	snprintf(s->why, sizeof s->why, "%s: it was made %.0f s ago (ttl "
		 "%g s)", what, floor(now - born), c->conf.ttl);
}

/* A load brought data made at born (cache clock). held: s held data
 * before it (made at s->born). */
static void set_loaded(struct cache *c, struct lstate *s, bool held,
		       double now, double born)
{
	int fails = s->fails;
	bool same = held && born <= s->born;

	s->loaded_at = now;
	s->born = born;
	s->fresh_until = born + c->conf.ttl;
	s->err = s->fails = 0;
	s->retry_at = 0;
	s->old = s->incomplete = s->seeded = false;
	s->why[0] = '\0';
	/* With ttl 0 every lookup loads: nothing to wait for. */
	if (c->conf.ttl > 0 && (same || now >= s->fresh_until))
		set_no_news(c, s, born, now, fails, same ?
			    "the answer was no newer than the data held" :
			    "the answer came old");
}

/* When data that came at now with the loader's note was made. */
static double born_of(const struct cache_note *note, double now)
{
	return note && note->age > 0 ? now - note->age : now;
}

/* Whether data made at born is older than what s holds: it does not
 * replace it (the held stays; no news). */
static bool older_than_held(struct cache *c, struct lstate *s, bool held,
			    double born, double now)
{
	if (!held || born >= s->born || c->conf.ttl <= 0)
		return false;
	set_no_news(c, s, born, now, s->fails,
		    "the answer was older than the data held");
	return true;
}

/* ---- applying what a load brought ------------------------------------- */

/* Drops r's listing and every object of r, noting what was visible as
 * removed. */
static void forget_region(struct cache *c, struct rentry *r, struct after *a)
{
	for (size_t i = 0; r->val && i < r->val->n; i++)
		note_change(c, a, c->ops.values.id(r->val->items[i].v),
			    CACHE_REMOVED, r->val->items[i].v, NULL);
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct oentry *o = c->buckets[b], *next;
		for (; o; o = next) {
			next = o->hnext;
			if (o->r != r)
				continue;
			if (o->val && store_pos(r, o->id) < 0)
				note_change(c, a, o->id, CACHE_REMOVED, o->val,
					    NULL);
			store_obj_forget(c, o, a);
		}
	}
	store_region_set(c, r, NULL, a);
}

/* One object of a new listing: its value, generation and change time
 * from what was visible before. Returns whether the listing changed. */
static bool list_one(struct cache *c, struct rentry *r,
		     struct cache_listing *l, void *v, double started,
		     double now, struct after *a)
{
	const char *id = c->ops.values.id(v);
	struct oentry *o = store_find_obj(c, r, id);
	long pos = store_pos(r, id);
	struct view prev = store_view(r, o, pos);
	/* Moved in the list: its order is what readdir shows. */
	bool changed = pos < 0 || (size_t)pos != cache_listing_size(l);

	if (o && o->val && o->s.loaded_at > started) {
		/* A get that ended after this listing was asked for is
		 * newer: its value is kept. */
		changed |= pos >= 0 && r->val->items[pos].v != o->val;
		c->ops.values.hold(o->val);
		trash(a, v);
		listing_add(l, o->val, o->gen, o->s.changed_at);
	} else if (!prev.val) {
		if (r->val || (o && o->neg))
			note_change(c, a, id, CACHE_ADDED, NULL, v);
		listing_add(l, v, ++c->gen_counter, r->val ? now : 0);
		changed = true;
	} else if (c->ops.values.equal(prev.val, v)) {
		/* Unchanged: keep one copy. */
		c->ops.values.hold(prev.val);
		trash(a, v);
		listing_add(l, prev.val, prev.gen, prev.changed_at);
	} else {
		note_change(c, a, id, CACHE_CHANGED, prev.val, v);
		listing_add(l, v, ++c->gen_counter, now);
		changed = true;
	}
	/* Its value lives in the listing now. */
	if (o)
		store_obj_forget(c, o, a);
	return changed;
}

/*
 * Apply a listing loaded from `started` to now (items: taken). What the
 * new listing does not hold is gone.
 */
bool store_apply_list(struct cache *c, struct rentry *r, int rc,
		      void **items, size_t n, const struct cache_note *note,
		      double started, double now, struct after *a)
{
	struct cache_listing *l = NULL;
	double born = born_of(note, now);
	bool changed, held = r->val != NULL;

	if (!rc && !older_than_held(c, &r->s, r->val != NULL, born, now) &&
	    !(l = listing_new(&c->ops.values, n)))
		rc = -ENOMEM;
	if (rc || !l) {
		for (size_t i = 0; i < n; i++)
			trash(a, items[i]);
		free(items);
		if (!rc)
			return false; /* older than what is held */
		set_failed(c, &r->s, rc, note, now);
		/* An answer such as 401: what we had must not be served. */
		if (!transient(rc))
			forget_region(c, r, a);
		return false;
	}
	changed = !r->val || r->val->n != n;
	for (size_t i = 0; i < n; i++)
		changed |= list_one(c, r, l, items[i], started, now, a);
	free(items);
	for (size_t i = 0; r->val && i < r->val->n; i++) {
		const char *id = c->ops.values.id(r->val->items[i].v);
		if (cache_listing_find(l, id) < 0) {
			note_change(c, a, id, CACHE_REMOVED,
				    r->val->items[i].v, NULL);
			changed = true;
		}
	}
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct oentry *o = c->buckets[b], *next;
		for (; o; o = next) {
			next = o->hnext;
			if (o->r != r || cache_listing_find(l, o->id) >= 0)
				continue;
			if (o->val && store_pos(r, o->id) < 0)
				note_change(c, a, o->id, CACHE_REMOVED, o->val,
					    NULL);
			store_obj_forget(c, o, a);
		}
	}
	if (changed) {
		r->gen = ++c->gen_counter;
		/* A first listing is not a change (as for an object). */
		r->s.changed_at = r->val ? now : 0;
		l->seq = r->gen;
		store_region_set(c, r, l, a);
	} else {
		/* The same listing: the one readers hold stays, so a listing
		 * is new exactly when something in it is. */
		trash_listing(a, l);
	}
	r->gets = 0;
	set_loaded(c, &r->s, held, now, born);
	return true;
}

/* Apply one object loaded from `started` to now (v: taken). Returns the
 * outcome to report: 0 when something newer came meanwhile (a listing, or
 * another get), which is kept. */
int store_apply_one(struct cache *c, struct oentry *o, int rc, void *v,
		    const struct cache_note *note, double started, double now,
		    struct after *a)
{
	struct rentry *r = o->r;
	long pos = store_pos(r, o->id);
	struct view prev = store_view(r, o, pos);
	double born = born_of(note, now);

	if ((o->val && o->s.loaded_at > started) ||
	    (pos >= 0 && r->s.loaded_at > started) ||
	    (rc == 0 && prev.val && prev.s == &o->s &&
	     older_than_held(c, &o->s, true, born, now))) {
		trash(a, v);
		return 0;
	}
	if (rc == 0) {
		if (prev.val && c->ops.values.equal(prev.val, v)) {
			trash(a, v);
			c->ops.values.hold(prev.val);
			v = prev.val;
			o->gen = prev.gen;
			o->s.changed_at = prev.changed_at;
		} else {
			if (prev.val || o->neg)
				note_change(c, a, o->id, prev.val ? CACHE_CHANGED
				     : CACHE_ADDED, prev.val, v);
			o->gen = ++c->gen_counter;
			o->s.changed_at = prev.val ? now : 0;
		}
		bool held = prev.val && prev.s == &o->s;

		obj_set(c, o, v, a);
		o->neg = false;
		set_loaded(c, &o->s, held, now, born);
		return 0;
	}
	if (rc == -ENOENT) {
		if (prev.val)
			note_change(c, a, o->id, CACHE_REMOVED, prev.val, NULL);
		obj_set(c, o, NULL, a);
		o->neg = true;
		o->neg_until = now + fmin(c->conf.ttl, c->conf.neg_ttl);
		o->s.loaded_at = o->s.born = now;
		o->s.err = 0;
		return rc;
	}
	set_failed(c, &o->s, rc, note, now);
	if (!transient(rc)) {
		if (prev.val)
			note_change(c, a, o->id, CACHE_REMOVED, prev.val, NULL);
		obj_set(c, o, NULL, a);
	}
	return rc;
}
