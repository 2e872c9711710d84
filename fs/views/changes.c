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
	double restored;                   /* the held listing is an earlier
					    * run's, last seen then (wall
					    * time); 0: it is not */
};

struct changes {
	pthread_mutex_t lock;              /* the marks */
	/* Batches, one at a time: the held listings, the hook, the
	 * journal's appends (so that offsets come in order). Taken before
	 * lock when both are. */
	pthread_mutex_t write;
	struct journal *j;
	struct changes_hook hook;
	uint32_t nregions;
	struct cache_listing **held;       /* [kind * nregions + region] */
	struct mark *marks;                /* the same */
};

int changes_new(uint32_t nregions, struct journal *j,
		const struct changes_hook *hook, struct changes **out)
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
	pthread_mutex_init(&c->write, NULL);
	if (hook)
		c->hook = *hook;
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
	pthread_mutex_destroy(&c->write);
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

/* Seconds since the epoch as a timespec. */
static struct timespec wall(double t)
{
	struct timespec ts = {(time_t)t, 0};

	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec < 0 || ts.tv_nsec > 999999999)
		ts.tv_nsec = 0;
	return ts;
}

/* The lines from listing a to b into *buf (malloc'ed, *len; NULL when
 * there are none), after the line that says they changed while
 * interlinkfs was stopped when a is an earlier run's (since: when it last
 * saw it; born: when the API made b). 0 or -ENOMEM. */
static int lines(const char *time, const char *region, const struct kind *k,
		 const struct cache_listing *a, const struct cache_listing *b,
		 double since, double born, char **buf, size_t *len)
{
	struct timespec s = wall(since), e = wall(born);
	char t1[32], t2[32], *d = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&d, &dlen);

	*buf = NULL;
	*len = 0;
	if (!f)
		return -ENOMEM;
	diff(f, time, region, k, a, b);
	if (fclose(f) != 0) {
		free(d);
		return -ENOMEM;
	}
	if (!dlen || since <= 0) {
		if (dlen)
			*buf = d;
		else
			free(d);
		*len = dlen;
		return 0;
	}
	changes_time(&s, t1, sizeof t1);
	changes_time(&e, t2, sizeof t2);
	if (!(f = open_memstream(buf, len))) {
		free(d);
		return -ENOMEM;
	}
	fprintf(f, "# %s %s: changed between %s and %s, while interlinkfs "
		"was stopped\n", region, k->dir, t1, t2);
	fwrite(d, 1, dlen, f);
	free(d);
	if (fclose(f) != 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		return -ENOMEM;
	}
	return 0;
}

/* A batch: to the hook, then to the journal. Writer lock held. */
static int emit(struct changes *c, const struct kind *k, uint32_t r,
		const struct cache_listing *l, double born, const char *text,
		size_t len, const struct timespec *t)
{
	if (c->hook.batch)
		c->hook.batch(c->hook.ud, k, r, l, born, text, len,
			      journal_size(c->j, NULL));
	return len ? journal_append(c->j, text, len, t) : 0;
}

/* Whether the held listing of slot is an earlier run's: when it last saw
 * it (wall time), and from now on it is not. */
static double take_restored(struct changes *c, size_t slot)
{
	double since;

	pthread_mutex_lock(&c->lock);
	since = c->marks[slot].restored;
	c->marks[slot].restored = 0;
	pthread_mutex_unlock(&c->lock);
	return since;
}

void changes_confirmed(struct changes *c, const struct kind *k, uint32_t r,
		       double born)
{
	size_t slot = (size_t)k->id * c->nregions + r;

	if (r >= c->nregions)
		return;
	/* The earlier run's listing, confirmed by data the API made since:
	 * nothing changed while interlinkfs was stopped, and what changes
	 * from now on changes while it runs. */
	pthread_mutex_lock(&c->lock);
	if (c->marks[slot].restored > 0 && born > c->marks[slot].restored)
		c->marks[slot].restored = 0;
	pthread_mutex_unlock(&c->lock);
}

int changes_listed(struct changes *c, const struct kind *k, uint32_t r,
		   const char *region, const struct cache_listing *l,
		   const struct timespec *t, double born)
{
	size_t slot = (size_t)k->id * c->nregions + r;
	struct cache_listing *prev;
	char time[32], *buf = NULL;
	size_t len = 0;
	int rc = 0, rc2;

	if (r >= c->nregions)
		return 0;
	pthread_mutex_lock(&c->write);
	prev = c->held[slot];
	if (prev == l || (prev && cache_listing_seq(l) <
			  cache_listing_seq(prev))) {
		pthread_mutex_unlock(&c->write);
		if (prev == l)
			changes_confirmed(c, k, r, born);
		return 0;
	}
	changes_time(t, time, sizeof time);
	if (prev)
		rc = lines(time, region, k, prev, l, take_restored(c, slot),
			   born, &buf, &len);
	rc2 = emit(c, k, r, l, born, buf, len, t);
	cache_listing_hold((struct cache_listing *)l);
	c->held[slot] = (struct cache_listing *)l;
	pthread_mutex_unlock(&c->write);
	free(buf);
	cache_listing_release(prev);
	return rc ? rc : rc2;
}

int changes_seed(struct changes *c, const struct kind *k, uint32_t r,
		 const struct cache_listing *l, double seen)
{
	size_t slot = (size_t)k->id * c->nregions + r;
	int rc = 0;

	if (r >= c->nregions)
		return 0;
	pthread_mutex_lock(&c->write);
	if (c->held[slot]) {
		rc = -EEXIST;
	} else {
		cache_listing_hold((struct cache_listing *)l);
		c->held[slot] = (struct cache_listing *)l;
		pthread_mutex_lock(&c->lock);
		c->marks[slot].seen = c->marks[slot].restored = seen;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->write);
	return rc;
}

void changes_seed_sight(struct changes *c, const struct kind *k, uint32_t r,
			bool lost)
{
	if (r >= c->nregions)
		return;
	pthread_mutex_lock(&c->lock);
	c->marks[(size_t)k->id * c->nregions + r].lost = lost;
	pthread_mutex_unlock(&c->lock);
}

void changes_sync(struct changes *c)
{
	pthread_mutex_lock(&c->write);
	if (c->hook.batch)
		c->hook.batch(c->hook.ud, NULL, 0, NULL, 0, NULL, 0,
			      journal_size(c->j, NULL));
	pthread_mutex_unlock(&c->write);
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
		struct timespec t = wall(m->seen);

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
	pthread_mutex_lock(&c->write);
	n = emit(c, k, r, NULL, 0, line, (size_t)n, t);
	pthread_mutex_unlock(&c->write);
	return n;
}
