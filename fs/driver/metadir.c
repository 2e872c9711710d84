/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metadir: .interlinkfs/, the mount's own files.
 *
 *   stats, metrics, version   the counters (meta.h), rendered when a path
 *                             is walked to them
 *   changes                   the journal (journal.h), as it is
 *   health                    the sight of every listing (health.h)
 *   prometheus/interlink.prom InterLink's state (prom.h)
 *   prometheus/interlinkfs.prom  the counters, as metrics has them
 *
 * A rendered file's bytes are kept: the reads that follow get exactly
 * those, so size and content agree. Attributes are never cached by the
 * kernel (timeout 0, a new time each rendering), but the version's, and
 * the kernel asks for them again before every read(): a new rendering
 * between two read() calls of one reader would hand it the start of one
 * and the end of another (a stats line cut in two). So a getattr renders
 * again only when the last rendering is over half a second old and no
 * read of it came in the last 200 ms (or it is 10 s old). A counter
 * file's lookup (every open or stat of its path: its entry timeout is 0)
 * always renders anew, so each cat sees the counters of that moment.
 * A Prometheus file's lookup follows the getattr rule too: node_exporter
 * reads 4 KiB at a time, and one scrape must see one rendering.
 *
 * Reading the journal, a Prometheus file or health marks the mount as
 * watched: the keeper then keeps every listing fresh (keeper.c). The
 * kernel does not always send a read (a file it holds the pages of, one
 * it knows is empty), but every read() makes it ask for the attributes
 * through the open file first (FUSE_CAP_AUTO_INVAL_DATA): such a getattr
 * counts. So does one without a file that no lookup of the same file
 * came just before: tail -f polls an open file with fstat, and reads only
 * when its size or time moved, while stat, ls -l and every open walk the
 * path first (their entries never stay cached). A look at .interlinkfs/
 * costs no request.
 */
#include "metadir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "clock.h"
#include "fs_i.h"
#include "health.h"
#include "keeper.h"
#include "log.h"
#include "meta.h"
#include "prom.h"
#include "render.h"
#include "state.h"

/* Renderings kept: the meta files (by slot), then the Prometheus files. */
#define SLOTS (MF_COUNT + 1 + NODE_PROM_FILES)

struct rendering {
	char *bytes;
	size_t len;
	double at;                    /* clock_mono of the rendering */
	double read_at;               /* of the last read */
	struct timespec mtime;
	bool loaded;                  /* what it shows was loaded first */
};

/* A getattr this long after a lookup of the same file is a look through
 * an open file (see above), in seconds. */
#define LOOKUP_SHADOW 1.0

struct metadir {
	pthread_mutex_t lock;         /* the renderings, looked_up */
	struct rendering r[SLOTS];
	double looked_up[SLOTS];      /* clock_mono of the last lookup */
	bool read_ever[SLOTS];        /* a reader came, once at least */
};

int metadir_new(struct metadir **out)
{
	struct metadir *m = calloc(1, sizeof *m);

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void metadir_free(struct metadir *m)
{
	if (!m)
		return;
	for (unsigned s = 0; s < SLOTS; s++)
		free(m->r[s].bytes);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static unsigned slot_of(const struct node *n)
{
	return n->type == NT_PROM_FILE ? MF_COUNT + n->slot : n->slot;
}


/* The files whose readers watch: the journal, the Prometheus files,
 * health (not the counters, which are only numbers of this daemon). */
static bool watching(const struct node *n)
{
	return n->type == NT_PROM_FILE ||
	       (n->type == NT_META_FILE &&
		(n->slot == MF_CHANGES || n->slot == MF_HEALTH));
}

/* A lookup (walked) or a getattr (through an open file: open) of such a
 * file: whether it watches (see above). */
static bool looks_through_open_file(struct metadir *m, const struct node *n,
				    bool walked, bool open)
{
	unsigned s = slot_of(n);
	double now = clock_mono();
	bool through;

	pthread_mutex_lock(&m->lock);
	through = open || (!walked && now - m->looked_up[s] > LOOKUP_SHADOW);
	if (walked)
		m->looked_up[s] = now;
	pthread_mutex_unlock(&m->lock);
	return through;
}

/* ---- the counters ---------------------------------------------------------- */

/* The sight of every listing: nregions * K_COUNT rows, region after
 * region, each in the kinds' order. NULL when out of memory. */
static struct health_row *gather_sight(struct ifs *fs, size_t *n)
{
	uint32_t nr = fs->conf.nregions;
	struct health_row *rows = calloc((size_t)K_COUNT * (nr ? nr : 1),
					 sizeof *rows);

	*n = 0;
	for (uint32_t r = 0; rows && r < nr; r++)
		for (int k = 0; k < K_COUNT; k++) {
			struct health_row *h = &rows[(*n)++];
			h->region = fs->conf.regions[r];
			h->kind = fs->kinds[k].k;
			cache_sight(fs->kinds[k].cache, h->region, &h->sight);
		}
	return rows;
}

/* The numbers of every kind's cache, into s (ages: K_COUNT rows of
 * nregions, the caller's). */
static void gather_kinds(struct ifs *fs, struct meta_snapshot *s,
			 double *ages)
{
	uint32_t nr = fs->conf.nregions;

	for (int k = 0; k < K_COUNT; k++) {
		struct kstate *ks = &fs->kinds[k];
		struct cache_stats cs;
		double *a = ages + (size_t)k * nr;

		cache_get_stats(ks->cache, &cs);
		meta_add_cache(&s->cache, &cs);
		s->kinds[k].name = ks->k->api.key; /* names counters can hold */
		s->kinds[k].objects = cs.objects;
		for (uint32_t r = 0; r < nr; r++) {
			struct cache_sight sg;

			cache_sight(ks->cache, fs->conf.regions[r], &sg);
			a[r] = sg.held ? sg.age : -1;
		}
		s->kinds[k].listing_age = a;
	}
	s->nkinds = K_COUNT;
}

static int render_counters(struct ifs *fs, unsigned slot, char **out,
			   size_t *len)
{
	struct meta_snapshot s;
	struct state_counters sc;
	uint32_t nr = fs->conf.nregions;
	double *ages = calloc((size_t)K_COUNT * (nr ? nr : 1), sizeof *ages);
	int rc;

	if (!ages)
		return -ENOMEM;
	memset(&s, 0, sizeof s);
	api_get_stats(fs->api, &s.api);
	gather_kinds(fs, &s, ages);
	state_counters(fs->state, &sc);
	s.fs = (struct meta_fs_stats){
		atomic_load(&fs->n.kernel_lookups),
		atomic_load(&fs->n.kernel_getattrs),
		atomic_load(&fs->n.kernel_reads),
		atomic_load(&fs->n.kernel_readdirs),
		atomic_load(&fs->n.pages_pushed),
		atomic_load(&fs->n.size_resyncs),
		sc.state_listings_saved, sc.state_bytes_written,
		sc.state_errors,
	};
	s.regions = fs->conf.regions;
	s.nregions = nr;
	rc = meta_render(slot, &s, out, len);
	free(ages);
	return rc;
}

/* ---- InterLink's state ------------------------------------------------------ */

/* The listings the file shows are loaded when missing or expired, on the
 * cache's threads, and waited for at most the grace in all: a scrape never
 * waits on a slow API, it says the API is slow (interlink_up 0). A load
 * already under way longer than the grace is not waited for again. */
static void load_shown(struct ifs *fs)
{
	uint32_t nr = fs->conf.nregions;
	double until = clock_mono() + fs->conf.grace;
	bool *wait = calloc((size_t)K_COUNT * (nr ? nr : 1), sizeof *wait);

	if (!wait)
		return;
	for (int k = 0; k < K_COUNT; k++) {
		struct cache *c = fs->kinds[k].cache;
		for (uint32_t r = 0; prom_kind_has_series((enum kind_id)k) &&
		     r < nr; r++) {
			struct cache_item it;
			struct cache_sight sg;
			bool fresh = cache_peek_list(c, fs->conf.regions[r],
						     &it) == 0 &&
				     it.expires > cache_now(c);
			cache_item_release(c, &it);
			if (fresh ||
			    cache_refresh_list(c, fs->conf.regions[r]))
				continue;
			cache_sight(c, fs->conf.regions[r], &sg);
			wait[(size_t)k * nr + r] = sg.pending <= fs->conf.grace;
		}
	}
	for (size_t i = 0; i < (size_t)K_COUNT * nr; i++)
		if (wait[i] && clock_mono() < until)
			cache_wait_list(fs->kinds[i / nr].cache,
					fs->conf.regions[i % nr],
					until - clock_mono());
	free(wait);
}

/* InterLink's state; load: the listings shown loaded first (a read of
 * the file, not a look at it). */
static int render_state(struct ifs *fs, bool load, char **out, size_t *len)
{
	size_t n = 0;
	struct health_row *rows;
	struct prom_listing *ls;
	struct cache_item *its;
	int rc = -ENOMEM;

	if (load)
		load_shown(fs);
	rows = gather_sight(fs, &n);
	ls = calloc(n + 1, sizeof *ls);
	its = calloc(n + 1, sizeof *its);
	if (!rows || !ls || !its)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct cache *c = fs->kinds[rows[i].kind->id].cache;

		ls[i].kind = rows[i].kind->id;
		ls[i].region = (uint32_t)(i / K_COUNT);
		ls[i].sight = rows[i].sight;
		/* Objects older than stale are not shown: their listing's
		 * series say why. */
		if (rows[i].sight.servable &&
		    cache_peek_list(c, rows[i].region, &its[i]) == 0)
			ls[i].list = its[i].list;
	}
	rc = prom_render(fs->conf.regions, ls, n, out, len);
	for (size_t i = 0; i < n; i++)
		cache_item_release(fs->kinds[ls[i].kind].cache, &its[i]);
out:
	free(rows);
	free(ls);
	free(its);
	return rc;
}

/* .interlinkfs/health: never loads, never waits. */
static int render_health(struct ifs *fs, char **out, size_t *len)
{
	size_t n = 0;
	struct health_row *rows = gather_sight(fs, &n);
	int rc = rows ? health_render(rows, n, out, len) : -ENOMEM;

	free(rows);
	return rc;
}

/* ---- renderings --------------------------------------------------------------- */

static int render(struct ifs *fs, const struct node *n, bool watched,
		  char **out, size_t *len)
{
	if (n->type == NT_META_FILE && n->slot == MF_HEALTH)
		return render_health(fs, out, len);
	if (n->type == NT_META_FILE)
		return render_counters(fs, n->slot, out, len);
	if (n->slot == NODE_PROM_STATE)
		return render_state(fs, watched, out, len);
	return render_counters(fs, MF_METRICS, out, len);
}

/* Whether a rendering may serve another attribute request: it is young,
 * or being read. */
static bool still_good(const struct rendering *r, double now)
{
	return r->bytes && (now - r->at < 0.5 ||
			    (now - r->read_at < 0.2 && now - r->at < 10.0));
}

/* Slot s rendered now, unless its last rendering still serves (a
 * Prometheus file's always may; a counter file's only when no path was
 * walked to it, see metadir_attr): its length and time. watched: for a
 * reader (what it shows is loaded first), not for a stat. */
static int refresh(struct ifs *fs, const struct node *n, bool walked,
		   bool watched, size_t *len, struct timespec *mtime)
{
	struct metadir *m = fs->meta;
	unsigned s = slot_of(n);
	double now = clock_mono();
	char *buf;
	bool load;
	int rc;

	pthread_mutex_lock(&m->lock);
	/* A look's rendering, made without loading, does not serve a
	 * reader. */
	if ((n->type == NT_PROM_FILE || !walked) &&
	    still_good(&m->r[s], now) && (m->r[s].loaded || !watched)) {
		*len = m->r[s].len;
		*mtime = m->r[s].mtime;
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	/* The listings shown are loaded first for a reader, and for any look
	 * of a file that has had one, or while the mount is watched: a
	 * scrape's open walks the path, and its reads then reuse what that
	 * lookup rendered (one open sees one size). A stat of a file nobody
	 * reads, on an idle mount, costs no request. */
	load = watched || m->read_ever[s];
	pthread_mutex_unlock(&m->lock);
	load = load || keeper_watched(fs);
	if ((rc = render(fs, n, load, &buf, len)))
		return rc;
	clock_gettime(CLOCK_REALTIME, mtime);
	pthread_mutex_lock(&m->lock);
	free(m->r[s].bytes);
	/* Its age counts from when it was done: a rendering that waited a
	 * grace for the API is not already old for the getattr after it. */
	m->r[s] = (struct rendering){buf, *len, clock_mono(), 0, *mtime,
				     load};
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int metadir_attr(struct ifs *fs, const struct node *n, bool walked,
		 bool open, struct answer *a)
{
	bool journal = n->type == NT_META_FILE && n->slot == MF_CHANGES;
	bool version = n->type == NT_META_FILE && n->slot == MF_VERSION;
	struct timespec mtime;
	size_t len = 0;
	bool watched = watching(n) &&
		       looks_through_open_file(fs->meta, n, walked, open);
	int rc;

	if (watched)
		keeper_watch(fs);
	if (journal)
		len = (size_t)journal_size(fs->journal, &mtime);
	else if ((rc = refresh(fs, n, walked, watched, &len, &mtime)))
		return rc;
	if (version)
		mtime = fs->mounted;
	memset(a, 0, sizeof *a);
	attr_base(fs, &a->st, node_ino(n), S_IFREG | 0444, 1, (off_t)len,
		  mtime);
	a->timeout = version ? STATIC_TIMEOUT : 0;
	return 0;
}

int metadir_read(struct ifs *fs, const struct node *n, off_t off,
		 size_t size, char **buf, size_t *len)
{
	struct metadir *m = fs->meta;
	unsigned s = slot_of(n);
	int rc;

	if (off < 0)
		off = 0;
	if (watching(n))
		keeper_watch(fs);
	if (n->type == NT_META_FILE && n->slot == MF_CHANGES) {
		if (!(*buf = malloc(size ? size : 1)))
			return -ENOMEM;
		*len = journal_read(fs->journal, (uint64_t)off, *buf, size);
		return 0;
	}
	pthread_mutex_lock(&m->lock);
	if (!m->r[s].bytes) {
		struct timespec t;
		size_t l;

		pthread_mutex_unlock(&m->lock);
		if ((rc = refresh(fs, n, true, watching(n), &l, &t)))
			return rc;
		pthread_mutex_lock(&m->lock);
	}
	m->r[s].read_at = clock_mono();
	m->read_ever[s] = true;
	rc = render_slice(m->r[s].bytes, m->r[s].len, off, size, buf, len);
	pthread_mutex_unlock(&m->lock);
	return rc;
}
