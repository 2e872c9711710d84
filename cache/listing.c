/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listing: a region's objects as one immutable array, indexed by id.
 */
#include "cache_i.h"

#include <stdlib.h>
#include <string.h>

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct cache_listing *listing_new(const struct cache_value_ops *ops,
				  size_t room)
{
	struct cache_listing *l = malloc(sizeof *l + room * sizeof *l->items);
	size_t cap = 16;

	if (!l)
		return NULL;
	while (cap < room * 2)
		cap *= 2;
	l->index = calloc(cap, sizeof *l->index);
	if (!l->index) {
		free(l);
		return NULL;
	}
	atomic_init(&l->refs, 1);
	l->seq = 0;
	l->ops = ops;
	l->n = 0;
	l->cap = cap;
	return l;
}

void listing_add(struct cache_listing *l, void *v, uint64_t gen,
		 double changed_at)
{
	size_t k = id_hash(l->ops->id(v)) & (l->cap - 1);

	while (l->index[k])
		k = (k + 1) & (l->cap - 1);
	l->index[k] = (uint32_t)(l->n + 1);
	l->items[l->n++] = (struct litem){v, gen, changed_at};
}

size_t listing_bytes(const struct cache_listing *l)
{
	size_t b = sizeof *l + l->n * sizeof *l->items +
		   l->cap * sizeof *l->index;

	for (size_t i = 0; i < l->n; i++)
		b += l->ops->size(l->items[i].v);
	return b;
}

uint64_t cache_listing_seq(const struct cache_listing *l)
{
	return l->seq;
}

size_t cache_listing_size(const struct cache_listing *l)
{
	return l ? l->n : 0;
}

void *cache_listing_value(const struct cache_listing *l, size_t i)
{
	return l->items[i].v;
}

uint64_t cache_listing_gen(const struct cache_listing *l, size_t i)
{
	return l->items[i].gen;
}

double cache_listing_changed_at(const struct cache_listing *l, size_t i)
{
	return l->items[i].changed_at;
}

long cache_listing_find(const struct cache_listing *l, const char *id)
{
	size_t k;

	if (!l)
		return -1;
	for (k = id_hash(id) & (l->cap - 1); l->index[k];
	     k = (k + 1) & (l->cap - 1)) {
		size_t i = l->index[k] - 1;
		if (strcmp(l->ops->id(l->items[i].v), id) == 0)
			return (long)i;
	}
	return -1;
}

void cache_listing_hold(struct cache_listing *l)
{
	atomic_fetch_add(&l->refs, 1);
}

void cache_listing_release(struct cache_listing *l)
{
	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	for (size_t i = 0; i < l->n; i++)
		l->ops->release(l->items[i].v);
	free(l->index);
	free(l);
}
