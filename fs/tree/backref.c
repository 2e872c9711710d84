/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backref: per slot, the positions of a listing's objects that have the
 * link, sorted by (target id, position), found by binary search.
 */
#include "backref.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robj.h"

struct slot {
	pthread_mutex_t lock;
	uint64_t seq;                 /* the listing's; 0: none yet */
	uint32_t *pos;
	size_t n;
};

struct backref {
	size_t n;
	struct slot s[];
};

int backref_new(size_t nslots, struct backref **out)
{
	struct backref *b = calloc(1, sizeof *b + nslots * sizeof *b->s);

	if (!b)
		return -ENOMEM;
	b->n = nslots;
	for (size_t i = 0; i < nslots; i++)
		pthread_mutex_init(&b->s[i].lock, NULL);
	*out = b;
	return 0;
}

void backref_free(struct backref *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->s[i].pos);
		pthread_mutex_destroy(&b->s[i].lock);
	}
	free(b);
}

struct by_target {
	const struct cache_listing *l;
	unsigned link;
};

/* The id position i of l links to (not NUL-terminated), or -1. */
static int target_at(const struct by_target *t, uint32_t i, const char **to,
		     size_t *len)
{
	return robj_link(cache_listing_value(t->l, i), t->link, to, len);
}

static int cmp_ids(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static int cmp_target(const void *pa, const void *pb, void *arg)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const char *ta, *tb;
	size_t la, lb;
	int c;

	target_at(arg, a, &ta, &la);
	target_at(arg, b, &tb, &lb);
	c = cmp_ids(ta, la, tb, lb);
	return c ? c : (a > b) - (a < b);
}

/* s made the index of t->l (s's lock held). 0 or -ENOMEM. */
static int build(struct slot *s, const struct by_target *t)
{
	size_t n = cache_listing_size(t->l), m = 0;
	uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
	const char *to;
	size_t len;

	if (!pos)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		if (!target_at(t, i, &to, &len))
			pos[m++] = i;
	qsort_r(pos, m, sizeof *pos, cmp_target, (void *)t);
	free(s->pos);
	s->pos = pos;
	s->n = m;
	s->seq = cache_listing_seq(t->l);
	return 0;
}

/* The first entry of s whose target is not below id. */
static size_t first(const struct slot *s, const struct by_target *t,
		    const char *id, size_t idlen)
{
	size_t lo = 0, hi = s->n;
	const char *to;
	size_t len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		target_at(t, s->pos[mid], &to, &len);
		if (cmp_ids(to, len, id, idlen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int backref_each(struct backref *b, size_t slot,
		 const struct cache_listing *l, unsigned link, const char *id,
		 backref_visit_fn visit, void *ud)
{
	struct slot *s = &b->s[slot];
	struct by_target t = {l, link};
	size_t idlen = strlen(id);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->seq != cache_listing_seq(l) || !s->pos)
		rc = build(s, &t);
	for (size_t e = rc ? s->n : first(s, &t, id, idlen); e < s->n; e++) {
		const char *to;
		size_t len;

		target_at(&t, s->pos[e], &to, &len);
		if (cmp_ids(to, len, id, idlen) || (rc = visit(ud, s->pos[e])))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
