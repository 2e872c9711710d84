/* SPDX-License-Identifier: Apache-2.0 */
/*
 * byname: a kind's by-name directories, one per region: the index of the
 * newest listing seen, rebuilt when a newer listing comes, and what its
 * replacement took away.
 */
#include "byname.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robj.h"

struct bydir {
	pthread_mutex_t lock;
	struct cache_listing *list;   /* the listing indexed (a reference) */
	struct byname_index *ix;      /* NULL: none yet */
};

struct byname {
	uint32_t n;
	struct bydir d[];
};

int byname_new(uint32_t nregions, struct byname **out)
{
	struct byname *b = calloc(1, sizeof *b + nregions * sizeof *b->d);

	if (!b)
		return -ENOMEM;
	b->n = nregions;
	for (uint32_t r = 0; r < nregions; r++)
		pthread_mutex_init(&b->d[r].lock, NULL);
	*out = b;
	return 0;
}

void byname_free(struct byname *b)
{
	if (!b)
		return;
	for (uint32_t r = 0; r < b->n; r++) {
		cache_listing_release(b->d[r].list);
		byname_index_free(b->d[r].ix);
		pthread_mutex_destroy(&b->d[r].lock);
	}
	free(b);
}

/* The index of listing l, built without any lock. NULL when out of
 * memory. */
static struct byname_index *index_of(const struct cache_listing *l)
{
	size_t n = cache_listing_size(l);
	struct byname_in *in = calloc(n ? n : 1, sizeof *in);
	struct byname_index *ix = NULL;

	for (size_t i = 0; in && i < n; i++) {
		const struct robj *o = cache_listing_value(l, i);
		in[i].id = robj_id(o);
		if (robj_name(o, &in[i].name, &in[i].len))
			in[i].name = NULL;
	}
	if (in && byname_index_new(in, n, &ix))
		ix = NULL;
	free(in);
	return ix;
}

/* Tells gone each name of d that the new index ix (of l) does not give to
 * the same object. d's lock held. */
static void tell_gone(const struct bydir *d, const struct byname_index *ix,
		      const struct cache_listing *l, byname_gone_fn gone,
		      void *ud)
{
	for (size_t i = 0; gone && d->ix && i < byname_index_size(d->ix); i++) {
		const char *name = byname_index_name(d->ix, i);
		long k = ix ? byname_index_find(ix, name) : -1;

		if (k < 0 || strcmp(robj_id(cache_listing_value(l, (size_t)k)),
				    robj_id(cache_listing_value(d->list, i))))
			gone(ud, name);
	}
}

void byname_update(struct byname *b, uint32_t r, struct cache_listing *l,
		   byname_gone_fn gone, void *ud)
{
	struct bydir *d = &b->d[r];
	struct byname_index *ix = index_of(l), *old_ix;
	struct cache_listing *old;

	if (!ix)
		return; /* the kernel's timeouts still bound staleness */
	pthread_mutex_lock(&d->lock);
	if (d->list && cache_listing_seq(d->list) >= cache_listing_seq(l)) {
		/* This one, or a newer one, is there already. */
		pthread_mutex_unlock(&d->lock);
		byname_index_free(ix);
		return;
	}
	tell_gone(d, ix, l, gone, ud);
	old = d->list;
	old_ix = d->ix;
	cache_listing_hold(l);
	d->list = l;
	d->ix = ix;
	pthread_mutex_unlock(&d->lock);
	cache_listing_release(old);
	byname_index_free(old_ix);
}

int byname_hold(struct byname *b, uint32_t r, struct cache_listing *l,
		const struct byname_index **ix,
		const struct cache_listing **of)
{
	struct bydir *d = &b->d[r];

	pthread_mutex_lock(&d->lock);
	if (!d->list || cache_listing_seq(d->list) < cache_listing_seq(l)) {
		pthread_mutex_unlock(&d->lock);
		byname_update(b, r, l, NULL, NULL);
		pthread_mutex_lock(&d->lock);
	}
	if (!d->ix) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	*ix = d->ix;
	*of = d->list;
	return 0;
}

void byname_release(struct byname *b, uint32_t r)
{
	pthread_mutex_unlock(&b->d[r].lock);
}

int byname_find(struct byname *b, uint32_t r, struct cache_listing *l,
		const char *name, char *id, size_t idlen)
{
	const struct byname_index *ix;
	const struct cache_listing *of;
	long k;
	int rc = byname_hold(b, r, l, &ix, &of);

	if (rc)
		return rc;
	k = byname_index_find(ix, name);
	if (k >= 0)
		snprintf(id, idlen, "%s",
			 robj_id(cache_listing_value(of, (size_t)k)));
	byname_release(b, r);
	return k >= 0 ? 0 : -ENOENT;
}

void byname_drop(struct byname *b, uint32_t r, byname_gone_fn gone,
		 void *ud)
{
	struct bydir *d = &b->d[r];
	struct cache_listing *old;
	struct byname_index *ix;

	pthread_mutex_lock(&d->lock);
	tell_gone(d, NULL, NULL, gone, ud);
	old = d->list;
	ix = d->ix;
	d->list = NULL;
	d->ix = NULL;
	pthread_mutex_unlock(&d->lock);
	cache_listing_release(old);
	byname_index_free(ix);
}
