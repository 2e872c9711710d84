/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sight: how well the cache sees a region's listing (cache.h's
 * cache_sight): the one model of freshness, completeness and blindness
 * that every view of interlinkfs reads.
 */
#include "cache_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

/* r's listing's sight at now (cache clock; real: the real clock). Lock
 * held. */
static void sight_of(struct cache *c, const struct rentry *r, double now,
		     double real, struct cache_sight *out)
{
	const struct lstate *s = &r->s;
	double ttl = c->conf.ttl > 0 ? c->conf.ttl : CACHE_FRESH_FLOOR;
	bool ok = s->load_seq > 0 && s->last_rc == 0 && !s->old;

	memset(out, 0, sizeof *out);
	out->held = r->val != NULL;
	out->loaded = s->load_seq > 0;
	out->last_rc = s->last_rc;
	out->last_old = s->old;
	out->last_incomplete = s->incomplete;
	out->pending = s->loading ? fmax(0, real - s->started) : 0;
	snprintf(out->why, sizeof out->why, "%s", s->why);
	if (out->held) {
		out->seeded = s->seeded;
		out->born = s->born;
		out->age = fmax(0, now - s->born);
		out->objects = r->val->n;
	}
	out->checked = out->loaded ? fmax(0, now - s->ended) : 0;
	out->stale_served = s->stale_at > 0 ? fmax(0, now - s->stale_at) : -1;
	/* Past its ttl, data stays fresh for the grace while its refresh is
	 * under way: a reader waits that long for it. A refresh under way
	 * longer than that makes it stale; one that is merely slow while
	 * the data is young (a big account's listing) does not, as it
	 * starts as much ahead as the last one took. */
	if (out->held && ok && (out->age < ttl ||
				(s->loading && out->age < ttl + c->conf.grace)))
		out->state = CACHE_FRESH;
	else if (out->held && (out->age < c->conf.stale ||
			       (s->seeded && out->age < ttl)))
		/* An earlier run's listing is served without a request
		 * while younger than ttl, whatever stale is: said stale
		 * until a refresh succeeds, never blind while served. */
		out->state = CACHE_STALE;
	else if (!out->held && out->loaded && s->last_rc == -ENOENT)
		out->state = CACHE_UNSERVED;
	else if (!out->held && !out->loaded &&
		 out->pending <= c->conf.grace)
		out->state = CACHE_UNLOADED;
	else
		out->state = CACHE_BLIND;
	out->servable = out->state == CACHE_FRESH ||
			out->state == CACHE_STALE;
	out->trouble = (out->state == CACHE_STALE ||
			out->state == CACHE_BLIND) &&
		       ((out->loaded && (s->last_rc || s->old)) ||
			out->pending > c->conf.grace);
}

const char *cache_sight_name(enum cache_sight_state st)
{
	static const char *const names[] = {
		[CACHE_UNLOADED] = "unloaded", [CACHE_FRESH] = "fresh",
		[CACHE_STALE] = "stale", [CACHE_BLIND] = "blind",
		[CACHE_UNSERVED] = "unserved",
	};

	return (unsigned)st < sizeof names / sizeof *names ? names[st] : "?";
}

void cache_sight(struct cache *c, const char *region,
		 struct cache_sight *out)
{
	struct rentry *r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&c->lock);
	r = store_find_region(c, region);
	if (r)
		sight_of(c, r, store_now(c), clock_mono(), out);
	pthread_mutex_unlock(&c->lock);
}
