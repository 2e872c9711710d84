/*
 * cache: one hash table of entries (a region's listing, or one object),
 * one mutex, one condition variable for lookups waiting on a load.
 *
 * A load runs without the lock: the entry is marked `loading` (which also
 * keeps it from being freed), the loader is called, the result is applied
 * under the lock, the owner is told what changed (without the lock), and
 * only then are the waiters woken, so they see the new data and whatever
 * the owner did about it.
 */
#include "cache.h"

/* Threads for background loads: enough that one slow region does not hold
 * up the others' refreshes. */
#define BG_WORKERS 4

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct centry {
	struct centry *hnext;         /* hash chain */
	struct centry *lprev, *lnext; /* LRU of objects no listing holds */
	bool in_lru;
	char *region;
	char *id;                     /* NULL: the region's listing */
	uint64_t hash;
	json_t *val;
	uint64_t gen;
	double loaded_at, fresh_until, changed_at, last_used;
	bool neg;                     /* a 404, until neg_until */
	double neg_until;
	int err;                      /* last failure, until retry_at */
	int fails;
	double retry_at;
	bool loading;
	double grace_until;           /* real clock: how long readers with an
				       * old value wait for this load */
	int pins;                     /* lookups waiting on this entry */
	uint64_t load_seq;            /* completed loads */
	int last_rc;
	bool held;                    /* in the current listing */
	unsigned gets;                /* listing: single loads since it */
	uint64_t list_gen;
	size_t bytes;
};

struct cache {
	struct cache_conf conf;
	struct cache_ops ops;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* on CLOCK_MONOTONIC (grace waits) */
	/* Loads nobody waits for to the end (refresh-ahead, refreshes past
	 * their grace) run on a few threads of the cache's own. */
	struct bgload *jobs, *jobs_tail;
	unsigned bg_running;          /* queued or running */
	pthread_cond_t bg_cond;       /* workers wait for jobs on it */
	pthread_t workers[BG_WORKERS];
	unsigned nworkers, idle;
	bool quitting;
	struct centry **buckets;
	size_t nbuckets, count;
	struct centry *lru_head, *lru_tail;
	uint64_t gen_counter;
	struct cache_stats st;
};

struct bgload {
	struct centry *e;
	char *id;
	struct bgload *next;
};

struct changes {
	struct cache_change *v;
	size_t n, cap;
	bool oom;
};

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
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cache_now(struct cache *c)
{
	return c->ops.now ? c->ops.now(c->ops.ud) : mono_now();
}

size_t cache_json_size(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t n = 0, i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = 96;
		json_object_foreach((json_t *)v, k, x)
			n += 48 + strlen(k) + cache_json_size(x);
		return n;
	case JSON_ARRAY:
		n = 48 + 8 * json_array_size(v);
		json_array_foreach(v, i, x)
			n += cache_json_size(x);
		return n;
	case JSON_STRING:
		return 48 + json_string_length(v);
	case JSON_INTEGER:
	case JSON_REAL:
		return 32;
	default:
		return 0; /* true, false and null are shared singletons */
	}
}

/* ---- table ---------------------------------------------------------------- */

static uint64_t key_hash(const char *region, const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = region; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = id ? id : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return id ? h : h ^ 0x5bd1e995;
}

static struct centry *find(struct cache *c, const char *region,
			   const char *id)
{
	uint64_t h = key_hash(region, id);
	struct centry *e;

	for (e = c->buckets[h % c->nbuckets]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->region, region) == 0 &&
		    (id ? e->id && strcmp(e->id, id) == 0 : !e->id))
			return e;
	return NULL;
}

static void grow(struct cache *c)
{
	size_t nb = c->nbuckets * 2;
	struct centry **b = calloc(nb, sizeof *b);

	if (!b)
		return; /* keep the longer chains */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash % nb];
			b[e->hash % nb] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

static struct centry *entry_new(struct cache *c, const char *region,
				const char *id)
{
	struct centry *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->region = strdup(region);
	e->id = id ? strdup(id) : NULL;
	if (!e->region || (id && !e->id)) {
		free(e->region);
		free(e->id);
		free(e);
		return NULL;
	}
	e->hash = key_hash(region, id);
	e->hnext = c->buckets[e->hash % c->nbuckets];
	c->buckets[e->hash % c->nbuckets] = e;
	if (++c->count > c->nbuckets)
		grow(c);
	return e;
}

static void lru_remove(struct cache *c, struct centry *e)
{
	if (!e->in_lru)
		return;
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
	e->in_lru = false;
}

static void lru_front(struct cache *c, struct centry *e)
{
	lru_remove(c, e);
	e->lnext = c->lru_head;
	if (c->lru_head)
		c->lru_head->lprev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
	e->in_lru = true;
}

static void set_val(struct cache *c, struct centry *e, json_t *v)
{
	if (e->val && e->id)
		c->st.objects--;
	c->st.bytes -= e->bytes;
	json_decref(e->val);
	e->val = v;
	e->bytes = !v ? 0 : e->id ? cache_json_size(v)
			    : 48 + 8 * json_array_size(v);
	c->st.bytes += e->bytes;
	if (v && e->id)
		c->st.objects++;
}

static void entry_remove(struct cache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[e->hash % c->nbuckets];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_remove(c, e);
	set_val(c, e, NULL);
	c->count--;
	free(e->region);
	free(e->id);
	free(e);
}

/* Forget what an entry knows. An entry being loaded or waited on stays
 * (empty) so nobody holds a dangling pointer; others go. */
static void entry_forget(struct cache *c, struct centry *e)
{
	if (!e->loading && !e->pins) {
		entry_remove(c, e);
		return;
	}
	lru_remove(c, e);
	set_val(c, e, NULL);
	e->held = e->neg = false;
	e->fresh_until = e->retry_at = 0;
	e->err = e->fails = 0;
}

static void evict(struct cache *c)
{
	while (c->st.bytes > c->conf.budget && c->lru_tail) {
		struct centry *e = c->lru_tail;
		if (e->loading || e->pins) {
			lru_remove(c, e);
			continue;
		}
		entry_remove(c, e);
		c->st.evictions++;
	}
}

static void note(struct changes *ch, const char *id,
		 enum cache_change_kind kind)
{
	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? ch->cap * 2 : 16;
		struct cache_change *v = realloc(ch->v, cap * sizeof *v);
		if (!v) {
			ch->oom = true;
			return;
		}
		ch->v = v;
		ch->cap = cap;
	}
	ch->v[ch->n].id = strdup(id);
	if (!ch->v[ch->n].id) {
		ch->oom = true;
		return;
	}
	ch->v[ch->n++].kind = kind;
}

static void changes_free(struct changes *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		free((char *)ch->v[i].id);
	free(ch->v);
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

static void fill(struct cache_item *out, struct centry *e, bool stale)
{
	out->value = json_incref(e->val);
	out->gen = e->gen;
	out->expires = e->fresh_until;
	out->changed_at = e->changed_at;
	out->loaded_at = e->loaded_at;
	out->stale = stale;
}

/* After a failure: an old enough value, or the error. */
static int stale_or_err(struct cache *c, struct centry *e, int err,
			double now, struct cache_item *out)
{
	if (transient(err) && e && e->val && c->conf.stale > 0 &&
	    now - e->loaded_at < c->conf.stale) {
		c->st.stale_served++;
		fill(out, e, true);
		return 0;
	}
	return err;
}

/* Drops every object of a region (and its listing's value). */
static void forget_region(struct cache *c, const char *region,
			  struct changes *ch, bool keep_listing)
{
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct centry *e = c->buckets[b], *next;
		for (; e; e = next) {
			next = e->hnext;
			if (strcmp(e->region, region) != 0)
				continue;
			if (!e->id) {
				if (!keep_listing)
					entry_forget(c, e);
				continue;
			}
			if (ch && e->val)
				note(ch, e->id, CACHE_REMOVED);
			entry_forget(c, e);
		}
	}
}

/*
 * Apply a listing loaded from `started` to now. An object refreshed by a
 * get that finished after the listing was asked for is newer than what
 * the listing says: it is kept.
 */
static void apply_list(struct cache *c, struct centry *L, int rc,
		       json_t *items, double started, double now,
		       struct changes *ch)
{
	uint64_t lg;
	size_t i;
	json_t *item;
	char idbuf[256];

	if (rc) {
		L->err = rc;
		L->fails++;
		L->retry_at = now + (rc == -ENOENT ?
				     fmin(c->conf.ttl, c->conf.neg_ttl) :
				     backoff(c, L->fails));
		if (!transient(rc)) {
			/* An answer such as 401: what we had must not be
			 * served any more. */
			forget_region(c, L->region, ch, true);
			set_val(c, L, NULL);
		}
		return;
	}
	lg = ++c->gen_counter;
	json_array_foreach(items, i, item) {
		const char *id = idbuf;
		struct centry *e;

		if (c->ops.id_of) {
			if (c->ops.id_of(c->ops.ud, item, idbuf, sizeof idbuf))
				continue;
		} else if (!(id = json_string_value(json_object_get(item,
								    "id")))) {
			continue;
		}
		e = find(c, L->region, id);
		if (!e && !(e = entry_new(c, L->region, id)))
			continue;
		if (e->val && e->loaded_at > started) {
			json_array_set(items, i, e->val);
			e->held = true;
			e->list_gen = lg;
			lru_remove(c, e);
			continue;
		}
		if (!e->val) {
			if (L->val || e->neg)
				note(ch, id, CACHE_ADDED);
			set_val(c, e, json_incref(item));
			e->changed_at = L->val ? now : 0;
			e->gen = ++c->gen_counter;
		} else if (!json_equal(e->val, item)) {
			note(ch, id, CACHE_CHANGED);
			set_val(c, e, json_incref(item));
			e->changed_at = now;
			e->gen = ++c->gen_counter;
		} else {
			/* Unchanged: keep one copy, shared by both. */
			json_array_set(items, i, e->val);
		}
		lru_remove(c, e);
		e->held = true;
		e->list_gen = lg;
		e->loaded_at = now;
		e->fresh_until = now + c->conf.ttl;
		e->neg = false;
		e->err = e->fails = 0;
		e->retry_at = 0;
	}
	/* What the new listing does not hold is gone. */
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct centry *e = c->buckets[b], *next;
		for (; e; e = next) {
			next = e->hnext;
			if (!e->id || strcmp(e->region, L->region) != 0 ||
			    (e->held && e->list_gen == lg))
				continue;
			if (e->val)
				note(ch, e->id, CACHE_REMOVED);
			entry_forget(c, e);
		}
	}
	if (!L->val || !json_equal(L->val, items)) {
		L->changed_at = now;
		L->gen = ++c->gen_counter;
	}
	set_val(c, L, items);
	L->gets = 0;
	L->loaded_at = now;
	L->fresh_until = now + c->conf.ttl;
	L->err = L->fails = 0;
	L->retry_at = 0;
}

/* Returns the outcome to report: 0 when a listing brought newer data
 * while this get ran (that data is kept). */
static int apply_one(struct cache *c, struct centry *e, int rc, json_t *obj,
		     double started, double now, struct changes *ch)
{
	if (e->val && e->loaded_at > started) {
		json_decref(obj);
		return 0;
	}
	if (rc == 0) {
		if (!e->val || !json_equal(e->val, obj)) {
			if (e->val) {
				note(ch, e->id, CACHE_CHANGED);
				e->changed_at = now;
			} else if (e->neg) {
				note(ch, e->id, CACHE_ADDED);
			}
			set_val(c, e, obj);
			e->gen = ++c->gen_counter;
		} else {
			json_decref(obj);
		}
		e->loaded_at = now;
		e->fresh_until = now + c->conf.ttl;
		e->neg = false;
		e->err = e->fails = 0;
		e->retry_at = 0;
		if (!e->held)
			lru_front(c, e);
		return 0;
	}
	if (rc == -ENOENT) {
		if (e->val)
			note(ch, e->id, CACHE_REMOVED);
		lru_remove(c, e);
		set_val(c, e, NULL);
		e->held = false;
		e->neg = true;
		e->neg_until = now + fmin(c->conf.ttl, c->conf.neg_ttl);
		e->err = 0;
		return rc;
	}
	e->err = rc;
	e->fails++;
	e->retry_at = now + backoff(c, e->fails);
	if (!transient(rc)) {
		if (e->val)
			note(ch, e->id, CACHE_REMOVED);
		lru_remove(c, e);
		set_val(c, e, NULL);
		e->held = false;
	}
	return rc;
}

/*
 * Runs the loader for e (a listing when id is NULL), which the caller has
 * marked loading. Called and returns with the lock held; drops it while
 * the loader and the change callback run. Returns the loader's result.
 */
static int load_run(struct cache *c, struct centry *e, const char *id,
		    void *ctx)
{
	struct changes ch = {0};
	json_t *v = NULL;
	char *region = strdup(e->region);
	double started = cache_now(c);
	int rc;

	if (!region) {
		e->loading = false;
		pthread_cond_broadcast(&c->cond);
		return -ENOMEM;
	}
	c->st.loads++;
	pthread_mutex_unlock(&c->lock);
	rc = id ? c->ops.load_one(c->ops.ud, region, id, ctx, &v)
		: c->ops.load_list(c->ops.ud, region, ctx, &v);
	pthread_mutex_lock(&c->lock);
	if (rc == -EINTR) {
		/* Cancelled: nothing learnt. Waiters will load themselves. */
		json_decref(v);
		e->loading = false;
		pthread_cond_broadcast(&c->cond);
		free(region);
		return rc;
	}
	if (rc)
		c->st.load_errors++;
	if (id) {
		struct centry *L = find(c, region, NULL);
		rc = apply_one(c, e, rc, v, started, cache_now(c), &ch);
		/* Count single loads: past a few, one listing is cheaper. */
		if (!L)
			L = entry_new(c, region, NULL);
		if (L)
			L->gets++;
	} else
		apply_list(c, e, rc, v, started, cache_now(c), &ch);
	if (ch.n && c->ops.changed) {
		json_t *listing = id ? NULL : json_incref(e->val);
		uint64_t gen = id ? 0 : e->gen;
		pthread_mutex_unlock(&c->lock);
		c->ops.changed(c->ops.ud, region, ch.v, ch.n, listing, gen);
		json_decref(listing);
		pthread_mutex_lock(&c->lock);
	}
	changes_free(&ch);
	e->last_rc = rc;
	e->load_seq++;
	e->loading = false;
	evict(c);
	pthread_cond_broadcast(&c->cond);
	free(region);
	return rc;
}

/* Marks e loading from now: readers with an old value wait for this load
 * at most the grace, counted from its start. */
static void load_begin(struct cache *c, struct centry *e)
{
	e->loading = true;
	e->grace_until = mono_now() + c->conf.grace;
}

/* Runs the loader for e in this thread. Lock held, as load_run(). */
static int load(struct cache *c, struct centry *e, const char *id, void *ctx)
{
	load_begin(c, e);
	return load_run(c, e, id, ctx);
}

/* A worker: runs queued loads until the cache is freed. Their results
 * update the cache and the owner (through `changed`) when they come. */
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
		load_run(c, b->e, b->id, NULL);
		c->bg_running--;
		pthread_cond_broadcast(&c->cond);
		free(b->id);
		free(b);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * Queues a load of e (a listing when id is NULL) for a worker and returns
 * at once: 0, or -ENOMEM / -EAGAIN (then nothing was queued). Lock held.
 * e is marked loading before this returns, so that others wait for this
 * load instead of starting theirs.
 */
static int load_bg(struct cache *c, struct centry *e, const char *id)
{
	struct bgload *b = calloc(1, sizeof *b);

	if (!b || (id && !(b->id = strdup(id)))) {
		free(b);
		return -ENOMEM;
	}
	if (!c->idle && c->nworkers < BG_WORKERS &&
	    pthread_create(&c->workers[c->nworkers], NULL, bg_main, c) == 0)
		c->nworkers++;
	if (!c->nworkers) {
		free(b->id);
		free(b);
		return -EAGAIN;
	}
	b->e = e;
	if (c->jobs_tail)
		c->jobs_tail->next = b;
	else
		c->jobs = b;
	c->jobs_tail = b;
	load_begin(c, e);
	c->bg_running++;
	pthread_cond_signal(&c->bg_cond);
	return 0;
}

/* Waits for e's load to end. Returns 1 with *rc when a load completed, 0
 * when it was cancelled (try again), -EINTR when intr was raised. */
static int wait_load(struct cache *c, struct centry *e, const atomic_int *intr,
		     int *rc)
{
	uint64_t seq = e->load_seq;

	c->st.coalesced++;
	e->pins++;
	while (e->loading && !(intr && atomic_load(intr)))
		pthread_cond_wait(&c->cond, &c->lock);
	e->pins--;
	if (intr && atomic_load(intr))
		return -EINTR;
	if (e->load_seq == seq)
		return 0;
	*rc = e->last_rc;
	return 1;
}

/*
 * Waits for e's load to end, but not past `until` (CLOCK_MONOTONIC
 * seconds). As wait_load(), and -ETIMEDOUT when until came first.
 */
static int wait_until(struct cache *c, struct centry *e,
		      const atomic_int *intr, double until, int *rc)
{
	uint64_t seq = e->load_seq;
	struct timespec ts;
	int w = 0;

	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
	c->st.coalesced++;
	e->pins++;
	while (e->loading && !(intr && atomic_load(intr)) && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	e->pins--;
	if (intr && atomic_load(intr))
		return -EINTR;
	if (e->load_seq != seq) {
		*rc = e->last_rc;
		return 1;
	}
	return e->loading ? -ETIMEDOUT : 0;
}

/* Can v (an entry's value) stand in while a refresh runs? */
static bool can_stand_in(struct cache *c, struct centry *v, double now)
{
	return v && v->val && c->conf.stale > 0 &&
	       now - v->loaded_at < c->conf.stale;
}

enum grace { G_DONE, G_AGAIN, G_STALE, G_INTR, G_HERE };

/*
 * Refreshes T while v holds a value young enough to be served instead: the
 * refresh runs on a thread of its own, and readers wait for it at most
 * conf.grace seconds from its start (one who comes later gets the old
 * value at once, instead of each waiting a grace of their own). G_DONE with *rc when the refresh ended in time
 * (its result is the reader's); G_STALE with the old value in *out when it
 * did not (the refresh goes on, and its result comes to the cache and the
 * owner later); G_AGAIN when it was cancelled; G_INTR; G_HERE when no
 * thread could start (then load in this one).
 */
static enum grace refresh_in_grace(struct cache *c, struct centry *T,
				   struct centry *v, const char *id,
				   const atomic_int *intr,
				   struct cache_item *out, int *rc)
{
	int w;

	if (!T->loading && load_bg(c, T, id))
		return G_HERE;
	w = wait_until(c, T, intr, T->grace_until, rc);
	switch (w) {
	case 1:
		return G_DONE;
	case -EINTR:
		return G_INTR;
	case -ETIMEDOUT:
		c->st.grace_stale++;
		c->st.stale_served++;
		fill(out, v, true);
		return G_STALE;
	default:
		return G_AGAIN;
	}
}

#define NO_RESULT 1

int cache_get(struct cache *c, const char *region, const char *id,
	      void *ctx, const atomic_int *intr, struct cache_item *out)
{
	int pending = NO_RESULT, rc;
	bool missed = false;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		double now = cache_now(c);
		struct centry *L = find(c, region, NULL);
		struct centry *C = find(c, region, id), *T;
		bool via_list;

		if (C && C->val && now < C->fresh_until) {
			c->st.hits += !missed;
			C->last_used = now;
			if (C->held && L)
				L->last_used = now;
			else if (!C->held)
				lru_front(c, C);
			fill(out, C, false);
			rc = 0;
			break;
		}
		if ((C && C->neg && now < C->neg_until) ||
		    (L && L->val && now < L->fresh_until &&
		     !(C && C->held))) {
			c->st.negative_hits += !missed;
			if (L)
				L->last_used = now;
			rc = -ENOENT;
			break;
		}
		if (!missed) {
			c->st.misses++;
			missed = true;
		}
		if (pending != NO_RESULT) {
			/* The outcome of the load we ran or waited for, even
			 * if already expired (ttl 0). */
			if (pending == 0 && C && C->val) {
				fill(out, C, false);
				rc = 0;
			} else {
				rc = pending == 0 ? -ENOENT
				     : stale_or_err(c, C, pending, now, out);
			}
			break;
		}
		/* While the region's listing is failing, do not try each
		 * object on its own: that would be a request per read. */
		if (L && L->retry_at > now && L->err) {
			rc = stale_or_err(c, C, L->err, now, out);
			break;
		}
		via_list = c->conf.ttl > 0 && L &&
			   ((L->val && C && C->held) ||
			    (c->conf.gets_before_list &&
			     L->gets >= c->conf.gets_before_list));
		if (via_list) {
			T = L;
		} else {
			if (!C && !(C = entry_new(c, region, id))) {
				rc = -ENOMEM;
				break;
			}
			T = C;
		}
		if (T->retry_at > now) {
			rc = stale_or_err(c, C, T->err, now, out);
			break;
		}
		if (can_stand_in(c, C, now)) {
			enum grace g = refresh_in_grace(c, T, C, via_list ?
						       NULL : id, intr, out,
						       &pending);
			if (g == G_STALE || g == G_INTR) {
				rc = g == G_STALE ? 0 : -EINTR;
				break;
			}
			if (g != G_HERE)
				continue;
		}
		if (T->loading) {
			int w = wait_load(c, T, intr, &pending);
			if (w == -EINTR) {
				rc = -EINTR;
				break;
			}
			continue;
		}
		pending = load(c, T, via_list ? NULL : id, ctx);
		if (pending == -EINTR) {
			rc = -EINTR;
			break;
		}
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
		double now = cache_now(c);
		struct centry *L = find(c, region, NULL);

		if (L && L->val && now < L->fresh_until) {
			c->st.hits += !missed;
			L->last_used = now;
			fill(out, L, false);
			rc = 0;
			break;
		}
		if (!missed) {
			c->st.misses++;
			missed = true;
		}
		if (pending != NO_RESULT) {
			if (pending == 0 && L && L->val) {
				fill(out, L, false);
				rc = 0;
			} else {
				rc = stale_or_err(c, L, pending ? pending
						  : -ENOENT, now, out);
			}
			if (L)
				L->last_used = now;
			break;
		}
		if (!L && !(L = entry_new(c, region, NULL))) {
			rc = -ENOMEM;
			break;
		}
		if (L->retry_at > now) {
			rc = stale_or_err(c, L, L->err, now, out);
			L->last_used = now;
			break;
		}
		if (can_stand_in(c, L, now)) {
			enum grace g = refresh_in_grace(c, L, L, NULL, intr,
						       out, &pending);
			if (g == G_STALE || g == G_INTR) {
				rc = g == G_STALE ? 0 : -EINTR;
				L->last_used = now;
				break;
			}
			if (g != G_HERE)
				continue;
		}
		if (L->loading) {
			int w = wait_load(c, L, intr, &pending);
			if (w == -EINTR) {
				rc = -EINTR;
				break;
			}
			continue;
		}
		pending = load(c, L, NULL, ctx);
		if (pending == -EINTR) {
			rc = -EINTR;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_refresh_list(struct cache *c, const char *region, void *ctx)
{
	struct centry *L;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	L = find(c, region, NULL);
	if (!L)
		L = entry_new(c, region, NULL);
	(void)ctx;
	if (!L)
		rc = -ENOMEM;
	else if (!L->loading && L->retry_at <= cache_now(c))
		rc = load_bg(c, L, NULL);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_peek_list(struct cache *c, const char *region,
		    struct cache_item *out)
{
	struct centry *L;
	int rc = -ENOENT;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	L = find(c, region, NULL);
	if (L && L->val) {
		fill(out, L, false);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_peek_gen(struct cache *c, const char *region, const char *id,
		   uint64_t *gen)
{
	struct centry *e;
	int rc = -ENOENT;

	pthread_mutex_lock(&c->lock);
	e = find(c, region, id);
	if (e && e->val) {
		*gen = e->gen;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

size_t cache_due(struct cache *c, double lead, char **regions, size_t max)
{
	size_t n = 0;
	double now;

	pthread_mutex_lock(&c->lock);
	now = cache_now(c);
	for (size_t b = 0; b < c->nbuckets && n < max; b++) {
		for (struct centry *e = c->buckets[b]; e && n < max;
		     e = e->hnext) {
			if (e->id || !e->val || e->loading ||
			    e->retry_at > now || e->last_used <= e->loaded_at ||
			    e->fresh_until - now >= lead)
				continue;
			regions[n] = strdup(e->region);
			if (regions[n])
				n++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

void cache_wake(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void cache_drop(struct cache *c, const char *region, const char *id)
{
	pthread_mutex_lock(&c->lock);
	if (!region) {
		for (size_t b = 0; b < c->nbuckets; b++) {
			struct centry *e = c->buckets[b], *next;
			for (; e; e = next) {
				next = e->hnext;
				entry_forget(c, e);
			}
		}
	} else if (!id) {
		forget_region(c, region, NULL, false);
	} else {
		struct centry *e = find(c, region, id);
		struct centry *L = find(c, region, NULL);
		if (e)
			entry_forget(c, e);
		/* The listing would otherwise say the id does not exist. */
		if (L)
			L->fresh_until = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

int cache_listing_age(struct cache *c, const char *region, double *age)
{
	struct centry *L;
	int rc = -ENOENT;

	pthread_mutex_lock(&c->lock);
	L = find(c, region, NULL);
	if (L && L->val) {
		*age = cache_now(c) - L->loaded_at;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	pthread_mutex_unlock(&c->lock);
}

void cache_item_release(struct cache_item *it)
{
	json_decref(it->value);
	it->value = NULL;
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

void cache_wait_background(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->bg_running)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void cache_free(struct cache *c)
{
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
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct centry *e = c->buckets[b], *next;
		for (; e; e = next) {
			next = e->hnext;
			json_decref(e->val);
			free(e->region);
			free(e->id);
			free(e);
		}
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	pthread_cond_destroy(&c->bg_cond);
	free(c);
}
