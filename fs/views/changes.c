/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changes: the lines of the journal, from successive listings.
 */
#include "changes.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robj.h"
#include "tsv.h"

/* What the journal said of a listing's sight. */
struct mark {
	bool lost;                         /* "not seen" was said */
	double seen;                       /* wall time of the data last
					    * seen fresh; 0: never */
};

struct changes {
	pthread_mutex_t lock;              /* the held listings, the marks */
	struct journal *j;
	uint32_t nregions;
	struct cache_listing **held;       /* [kind * nregions + region] */
	struct mark *marks;                /* the same */
};

int changes_new(uint32_t nregions, struct journal *j, struct changes **out)
{
	struct changes *c = calloc(1, sizeof *c);
	size_t slots = (size_t)K_COUNT * (nregions ? nregions : 1);

	if (!c || !(c->held = calloc(slots, sizeof *c->held)) ||
	    !(c->marks = calloc(slots, sizeof *c->marks))) {
		if (c)
			free(c->held);
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->j = j;
	c->nregions = nregions;
	*out = c;
	return 0;
}

void changes_free(struct changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < (size_t)K_COUNT * c->nregions; i++)
		cache_listing_release(c->held[i]);
	free(c->held);
	free(c->marks);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void changes_time(const struct timespec *t, char *buf, size_t len)
{
	struct tm tm;
	char s[24];

	gmtime_r(&t->tv_sec, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", s, t->tv_nsec / 1000000);
}

/* The start of a line: TIME, REGION, KIND, ID. */
static void head(FILE *f, const char *time, const char *region,
		 const struct kind *k, const struct robj *o)
{
	fprintf(f, "%s\t", time);
	tsv_put(f, region, strlen(region));
	fprintf(f, "\t%s\t", k->dir);
	tsv_put(f, robj_id(o), strlen(robj_id(o)));
	fputc('\t', f);
}

/* An object that came or went: FIELD "+" or "-", its name twice. */
static void came_or_went(FILE *f, const char *time, const char *region,
			 const struct kind *k, const struct robj *o, char sign)
{
	const char *name = "";
	size_t len = 0;

	robj_name(o, &name, &len);
	head(f, time, region, k, o);
	fprintf(f, "%c\t", sign);
	tsv_put(f, name, len);
	fputc('\t', f);
	tsv_put(f, name, len);
	fputc('\n', f);
}

/* A field of a file, as a string of its own (to compare). */
static char *field(const struct robj *o, unsigned i, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	tsv_file(f, o, i);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One line per column whose field differs. */
static void changed(FILE *f, const char *time, const char *region,
		    const struct kind *k, const struct robj *a,
		    const struct robj *b)
{
	for (unsigned i = 0; i < k->nfiles; i++) {
		size_t la = 0, lb = 0;
		char *fa, *fb;

		if (!tsv_is_column(k, i))
			continue;
		fa = field(a, i, &la);
		fb = field(b, i, &lb);
		if (fa && fb && (la != lb || memcmp(fa, fb, la) != 0)) {
			head(f, time, region, k, b);
			fprintf(f, "%s\t", k->files[i].name);
			fwrite(fa, 1, la, f);
			fputc('\t', f);
			fwrite(fb, 1, lb, f);
			fputc('\n', f);
		}
		free(fa);
		free(fb);
	}
}

/* Every change from listing a to listing b, as lines into f. */
static void diff(FILE *f, const char *time, const char *region,
		 const struct kind *k, const struct cache_listing *a,
		 const struct cache_listing *b)
{
	for (size_t i = 0; i < cache_listing_size(b); i++) {
		const struct robj *o = cache_listing_value(b, i);
		long at = cache_listing_find(a, robj_id(o));
		const struct robj *was = at < 0 ? NULL :
			cache_listing_value(a, (size_t)at);

		if (!was)
			came_or_went(f, time, region, k, o, '+');
		else if (was != o && !robj_equal(was, o))
			changed(f, time, region, k, was, o);
	}
	for (size_t i = 0; i < cache_listing_size(a); i++) {
		const struct robj *o = cache_listing_value(a, i);

		if (cache_listing_find(b, robj_id(o)) < 0)
			came_or_went(f, time, region, k, o, '-');
	}
}

int changes_listed(struct changes *c, const struct kind *k, uint32_t r,
		   const char *region, const struct cache_listing *l,
		   const struct timespec *t)
{
	struct cache_listing **slot = &c->held[(size_t)k->id * c->nregions + r];
	struct cache_listing *prev;
	char time[32], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = 0;

	if (r >= c->nregions)
		return 0;
	cache_listing_hold((struct cache_listing *)l);
	pthread_mutex_lock(&c->lock);
	prev = *slot;
	*slot = (struct cache_listing *)l;
	pthread_mutex_unlock(&c->lock);
	if (!prev || prev == l) {
		cache_listing_release(prev);
		return 0;
	}
	changes_time(t, time, sizeof time);
	if ((f = open_memstream(&buf, &len))) {
		diff(f, time, region, k, prev, l);
		if (fclose(f) != 0)
			rc = -ENOMEM;
	} else {
		rc = -ENOMEM;
	}
	if (!rc && len)
		rc = journal_append(c->j, buf, len, t);
	free(buf);
	cache_listing_release(prev);
	return rc;
}

/* The line that says what became of a listing's sight, into buf: its
 * length, 0 when nothing is to be said. Lock held. */
static int sight_line(struct mark *m, const struct kind *k,
		      const char *region, const struct cache_sight *s,
		      double born, char *buf, size_t len)
{
	char since[40] = "yet";

	if (s->state == CACHE_FRESH) {
		m->seen = born;
		if (!m->lost)
			return 0;
		m->lost = false;
		return snprintf(buf, len, "# %s %s: seen again\n", region,
				k->dir);
	}
	if (m->lost || !s->trouble)
		return 0;
	m->lost = true;
	if (m->seen > 0) {
		struct timespec t = {(time_t)m->seen,
				     (long)((m->seen - (double)(time_t)m->seen) *
					    1e9)};
		strcpy(since, "since ");
		changes_time(&t, since + 6, sizeof since - 6);
	}
	return snprintf(buf, len, "# %s %s: not seen %s: %s\n", region,
			k->dir, since, s->why[0] ? s->why : s->pending > 0 ?
			"the refresh takes longer than grace" : "old data");
}

int changes_sight(struct changes *c, const struct kind *k, uint32_t r,
		  const char *region, const struct cache_sight *s,
		  double born, const struct timespec *t)
{
	char line[512];
	int n;

	if (r >= c->nregions)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = sight_line(&c->marks[(size_t)k->id * c->nregions + r], k, region,
		       s, born, line, sizeof line);
	pthread_mutex_unlock(&c->lock);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* A reason holds no line break: the line stays one line. */
	for (int i = 0; i < n - 1; i++)
		if (line[i] == '\n' || line[i] == '\t')
			line[i] = ' ';
	return journal_append(c->j, line, (size_t)n, t);
}
