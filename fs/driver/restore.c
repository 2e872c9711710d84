/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore: the saved state read back at mount (restore.h).
 */
#include "restore.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"
#include "journal.h"
#include "kinds.h"
#include "log.h"
#include "mend.h"
#include "robj.h"
#include "state_i.h"

/* Larger files are not state files of interlinkfs. */
#define FILE_MAX ((size_t)1 << 30)
/* Objects are parsed and rendered (most of a restart's time) by this
 * many threads at most, this many objects at a time. */
#define BUILDERS 4
#define CHUNK 64

/* A listing file read, and what it says. */
struct saved {
	char name[STATEFILE_NAME];
	char *buf;
	size_t len;
	struct statefile_listing h;
	int region;                       /* of the mount's, or -1 */
	void **items;                     /* its objects, rendered */
};

/* What the directory holds for the key. */
struct found {
	struct statedir *d;
	char temp[STATEFILE_NAME];        /* the prefix of its temporaries */
	struct saved *v;
	size_t n, cap;
	bool nomem;
};

/* ---- the files ------------------------------------------------------------ */

static void ignored(struct statedir *d, const char *name, const char *why)
{
	log_warn("state file %s/%s ignored: %s", statedir_path(d), name, why);
}

/* A name of the key: a temporary is removed (a crash left it), a listing
 * is read. */
static void collect(void *ud, const char *name)
{
	struct found *f = ud;
	size_t len = strlen(name), sl = strlen(".listing");
	char why[160] = "";
	struct saved *s;

	if (strncmp(name, f->temp, strlen(f->temp)) == 0) {
		statedir_unlink(f->d, name);
		return;
	}
	if (name[0] == '.' || len <= sl || strcmp(name + len - sl, ".listing"))
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct saved *v = realloc(f->v, cap * sizeof *v);
		if (!v) {
			f->nomem = true;
			return;
		}
		f->v = v;
		f->cap = cap;
	}
	s = &f->v[f->n];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	if (statedir_read(f->d, name, FILE_MAX, &s->buf, &s->len, why,
			  sizeof why) == 0 &&
	    statefile_listing_decode(s->buf, s->len, statedir_key(f->d),
				     &s->h, why, sizeof why) == 0) {
		char want[STATEFILE_NAME];

		statefile_name(statedir_key(f->d), SF_LISTING, s->h.region,
			       s->h.kind, want);
		if (strcmp(want, name) == 0) {
			f->n++;
			return;
		}
		snprintf(why, sizeof why, "its name is not that of what it "
			 "holds (%s)", want);
		statefile_listing_clear(&s->h);
	}
	ignored(f->d, name, why);
	free(s->buf);
}

static void found_free(struct found *f)
{
	for (size_t i = 0; i < f->n; i++) {
		/* Those of a listing not seeded (ignored): still held. */
		for (size_t k = 0; f->v[i].items && k < f->v[i].h.n; k++)
			robj_release(f->v[i].items[k]);
		free(f->v[i].items);
		statefile_listing_clear(&f->v[i].h);
		free(f->v[i].buf);
	}
	free(f->v);
}

/* ---- the journal ----------------------------------------------------------- */

/* What the earlier run's journal said last of each listing's sight (its
 * "# REGION KIND: not seen ..." and "... seen again" lines), so that this
 * run says "seen again" of a listing that run lost. */
static void sight_of_lines(struct state *st, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char region[64], dir[64], rest[16];
		const struct kind *k;

		if (n > 2 && n < 512 && p[0] == '#' && p[1] == ' ') {
			char line[512];

			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "# %63s %63[^:]: %15[a-z ]", region, dir,
				   rest) == 3 && (k = kind_by_dir(dir))) {
				for (uint32_t r = 0;
				     r < st->fs->conf.nregions; r++)
					if (!strcmp(st->fs->conf.regions[r],
						    region))
						changes_seed_sight(
						    st->fs->changes, k, r,
						    !strncmp(rest, "not seen",
							     8));
			}
		}
		p += n + 1;
	}
}

/* The journal's file, mended with the batches the listings hold (on disk
 * when it can be written, in memory anyway), into the journal. */
static int restore_journal(struct state *st, const struct found *f)
{
	struct statedir *d = st->dir;
	struct statefile_journal h = {0};
	struct mend_batch *b = calloc(f->n + 1, sizeof *b);
	char name[STATEFILE_NAME], why[160] = "", *buf = NULL, *add = NULL;
	size_t len = 0, keep = 0, addlen = 0;
	const char *lines = "";
	int rc;

	if (!b)
		return -ENOMEM;
	statefile_name(statedir_key(d), SF_JOURNAL, NULL, NULL, name);
	for (size_t i = 0; i < f->n; i++) {
		b[i] = (struct mend_batch){f->v[i].h.off, f->v[i].h.batch.p,
					  f->v[i].h.batch.len};
		/* A new journal begins where the listings say it ended. */
		h.base = fmax(h.base, f->v[i].h.off + f->v[i].h.batch.len);
	}
	rc = statedir_read(d, name, FILE_MAX, &buf, &len, why, sizeof why);
	if (!rc && statefile_journal_decode(buf, len, statedir_key(d), &h, why,
					    sizeof why) == 0) {
		lines = buf + h.header_len;
		len -= h.header_len;
		st->journal_ok = true;
	} else {
		if (rc != -ENOENT)
			ignored(d, name, why);
		len = 0;
	}
	rc = mend_journal(lines, len, h.base, b, f->n, &keep, &add, &addlen);
	if (!rc && st->journal_ok && (keep < len || addlen)) {
		int wrc = statedir_append(d, name, h.header_len + keep, add ?
					  add : "", addlen);
		if (wrc) {
			st->journal_ok = false;
			statedir_failed(d, name, wrc);
		}
	}
	if (!rc && addlen) {
		/* The lines as mended, in one piece. */
		char *all = malloc(keep + addlen);
		rc = all ? 0 : -ENOMEM;
		if (all) {
			memcpy(all, lines, keep);
			memcpy(all + keep, add, addlen);
			free(add);
			add = all;
			lines = all;
			keep += addlen;
		}
	}
	if (!rc) {
		st->journal_lines = 0;
		for (size_t i = 0; i < keep; i++)
			st->journal_lines += lines[i] == '\n';
		sight_of_lines(st, lines, keep);
		rc = journal_restore(st->fs->journal, h.base, h.dropped, lines,
				     keep, &st->fs->mounted);
	}
	free(add);
	free(buf);
	free(b);
	return rc;
}

/* ---- the listings ---------------------------------------------------------- */

/* When the listing with body sum was last seen unchanged (wall), 0 if
 * the seen file does not say. */
static double seen_of(const struct statefile_seen *e, size_t n,
		      const struct statefile_listing *h)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].kind == h->kind && strcmp(e[i].region, h->region) == 0 &&
		    memcmp(e[i].sum, h->sum, STATEFILE_KEY) == 0)
			return e[i].born;
	return 0;
}

/* The seen file's entries (*n of them; NULL when there are none). */
static struct statefile_seen *read_seen(struct statedir *d, size_t *n)
{
	struct statefile_seen *e = NULL;
	char name[STATEFILE_NAME], why[160] = "", *buf = NULL;
	size_t len = 0;
	int rc;

	*n = 0;
	statefile_name(statedir_key(d), SF_SEEN, NULL, NULL, name);
	rc = statedir_read(d, name, FILE_MAX, &buf, &len, why, sizeof why);
	if (!rc)
		rc = statefile_seen_decode(buf, len, statedir_key(d), &e, n, why,
					   sizeof why);
	if (rc && rc != -ENOENT)
		ignored(d, name, why);
	free(buf);
	return e;
}

/* The objects of the listings to seed, built by a few threads at once:
 * chunks of CHUNK objects, taken in turn. */
struct build {
	struct found *f;
	size_t chunks;
	atomic_size_t next;
};

/* Chunk c: its listing and its first object. */
static struct saved *chunk_at(struct found *f, size_t c, size_t *from)
{
	for (size_t i = 0; i < f->n; i++) {
		struct saved *s = &f->v[i];
		size_t k = s->items ? (s->h.n + CHUNK - 1) / CHUNK : 0;

		if (c < k) {
			*from = c * CHUNK;
			return s;
		}
		c -= k;
	}
	return NULL;
}

static void *builder(void *arg)
{
	struct build *b = arg;
	struct saved *s;
	size_t c, from;

	while ((c = atomic_fetch_add(&b->next, 1)) < b->chunks &&
	       (s = chunk_at(b->f, c, &from))) {
		for (size_t i = from; i < s->h.n && i < from + CHUNK; i++) {
			json_t *j = statefile_object(&s->h.objects[i]);

			/* NULL: unreadable, said by seed(). */
			s->items[i] = j ? robj_new(s->h.kind, j) : NULL;
			json_decref(j);
		}
	}
	return NULL;
}

/* Every listing of a mounted region: its objects, rendered. */
static void build_all(struct state *st, struct found *f)
{
	struct build b = {.f = f};
	pthread_t t[BUILDERS - 1];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct saved *s = &f->v[i];

		s->region = -1;
		for (uint32_t r = 0; r < st->fs->conf.nregions; r++)
			if (strcmp(st->fs->conf.regions[r], s->h.region) == 0)
				s->region = (int)r;
		if (s->region >= 0 &&
		    (s->items = calloc(s->h.n + 1, sizeof *s->items)))
			b.chunks += (s->h.n + CHUNK - 1) / CHUNK;
	}
	atomic_init(&b.next, 0);
	/* Joined before anything forks (fuse_daemonize). */
	while (n < BUILDERS - 1 && n < cpus - 1 &&
	       pthread_create(&t[n], NULL, builder, &b) == 0)
		n++;
	builder(&b);
	while (n--)
		pthread_join(t[n], NULL);
}

/* Listing s's objects, each rendered, taken from it: NULL (none taken)
 * with why when one is not. */
static void **objects(struct saved *s, char *why, size_t whylen)
{
	void **items = s->items;

	for (size_t i = 0; items && i < s->h.n; i++) {
		if (items[i])
			continue;
		snprintf(why, whylen, "object %zu cannot be read", i);
		for (size_t k = 0; k < s->h.n; k++)
			robj_release(items[k]);
		free(items);
		items = NULL;
	}
	if (!s->items)
		snprintf(why, whylen, "out of memory");
	s->items = NULL;
	return items;
}

/* Listing s, made (or last seen) at wall time `at`, into region r's
 * cache of its kind and the journal's comparisons. Whether it was. */
static bool seed(struct state *st, struct saved *s, uint32_t r,
		 double at)
{
	struct ifs *fs = st->fs;
	struct cache *c = fs->kinds[s->h.kind->id].cache;
	struct slot *sl = state_slot(st, s->h.kind->id, r);
	struct cache_item it;
	char why[96];
	void **items = objects(s, why, sizeof why);

	if (!items) {
		ignored(st->dir, s->name, why);
		return false;
	}
	if (cache_seed_list(c, s->h.region, items, s->h.n,
			    at - fs->wall_minus_mono) ||
	    cache_peek_list(c, s->h.region, &it))
		return false;
	changes_seed(fs->changes, s->h.kind, r, it.list, at);
	sl->saved = it.list;                  /* the reference it.list held */
	sl->saved_seq = sl->last_seq = cache_listing_seq(it.list);
	sl->saved_born = sl->recorded = sl->seen = at;
	memcpy(sl->sum, s->h.sum, sizeof sl->sum);
	sl->on_disk = true;
	return true;
}

/* Each listing of a mounted region seeded: how many, and the oldest's
 * time (wall) into *oldest. */
static size_t seed_all(struct state *st, struct found *f,
		       const struct statefile_seen *e, size_t ne,
		       double *oldest)
{
	size_t n = 0;
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	*oldest = 0;
	build_all(st, f);
	for (size_t i = 0; i < f->n; i++) {
		struct saved *s = &f->v[i];
		double at = fmax(s->h.born, seen_of(e, ne, &s->h));

		if (s->region < 0)
			continue;
		/* Made after now: a clock set back since, or an edit; its
		 * age cannot be told, and served it would look new at every
		 * start. A second's slack for a restart within one. */
		if (at > now + 1) {
			ignored(st->dir, s->name, "made after now (a clock "
				"set back since?): its age cannot be told");
			continue;
		}
		if (!seed(st, s, (uint32_t)s->region, at))
			continue;
		n++;
		if (!*oldest || at < *oldest)
			*oldest = at;
	}
	return n;
}

int restore_run(struct state *st)
{
	struct found f = {.d = st->dir};
	struct statefile_seen *seen;
	char prefix[STATEFILE_NAME];
	size_t nseen = 0, n;
	double oldest;
	int rc;

	if (!st->dir || !statedir_ready(st->dir))
		return 0;
	st->dir_gen = statedir_generation(st->dir);
	statefile_name(statedir_key(st->dir), SF_TEMP, NULL, NULL, f.temp);
	/* Its names: the key's first 16 digits (and its temporaries, a dot
	 * before them). */
	snprintf(prefix, sizeof prefix, "%.16s", f.temp + 1);
	statedir_each(st->dir, f.temp, collect, &f);
	statedir_each(st->dir, prefix, collect, &f);
	if (f.nomem) {
		found_free(&f);
		return -ENOMEM;
	}
	rc = restore_journal(st, &f);
	seen = read_seen(st->dir, &nseen);
	n = rc ? 0 : seed_all(st, &f, seen, nseen, &oldest);
	if (n)
		log_info("state directory %s: %zu listings restored, the oldest "
			 "made %.0f s ago", statedir_path(st->dir), n,
			 fmax(0, (double)st->fs->mounted.tv_sec - oldest));
	free(seen);
	found_free(&f);
	return rc;
}
