/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health: the sight of every listing, one line each.
 */
#include "health.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"

/* What a person needs to act on a listing's sight, into buf. */
static void detail(const struct cache_sight *s, char *buf, size_t len)
{
	char pending[64] = "", served[64] = "";

	if (s->pending > 0)
		snprintf(pending, sizeof pending, "; a refresh under way for "
			 "%.1f s", s->pending);
	/* Old data handed to a reader lately: a script that read before it
	 * read this learns that what it read may be old (sight.sh). */
	if (s->stale_served >= 0 && s->stale_served < 3600)
		snprintf(served, sizeof served, "; old data served %.1f s ago",
			 s->stale_served);
	switch (s->state) {
	case CACHE_FRESH:
		snprintf(buf, len, "ok%s%s", served, pending);
		return;
	case CACHE_UNSERVED:
		snprintf(buf, len, "the API does not serve this region (404)");
		return;
	case CACHE_UNLOADED:
		snprintf(buf, len, "%s", s->pending > 0 ? "loading" :
			 "never read");
		return;
	default:
		break;
	}
	if (s->seeded)
		snprintf(buf, len, "%s%ssaved by an earlier run, not refreshed "
			 "since%s%s", s->why, s->why[0] ? "; shown: " : "",
			 served, pending);
	else if (s->why[0])
		snprintf(buf, len, "%s%s%s", s->why, served, pending);
	else if (s->pending > 0)
		snprintf(buf, len, "no answer yet%s%s", served, pending);
	else if (s->held && s->loaded && s->last_rc == 0)
		snprintf(buf, len, "expired, not refreshed since: nobody read "
			 "it%s", served);
	else
		snprintf(buf, len, "%s%s", s->held ? "old" : "nothing held",
			 served);
}

static void row(FILE *f, const struct health_row *r)
{
	const struct cache_sight *s = &r->sight;
	char why[400];

	tsv_put(f, r->region, strlen(r->region));
	fprintf(f, "\t%s\t%s\t", r->kind->dir, cache_sight_name(s->state));
	if (s->held)
		fprintf(f, "%.0f\t%zu\t", floor(s->age), s->objects);
	else
		fputs("-\t-\t", f);
	detail(s, why, sizeof why);
	tsv_put(f, why, strlen(why));
	fputc('\n', f);
}

int health_render(const struct health_row *rows, size_t n, char **out,
		  size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return -ENOMEM;
	fputs("region\tkind\tstate\tage\tobjects\tdetail\n", f);
	for (size_t i = 0; i < n; i++)
		row(f, &rows[i]);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
