/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tabledir: tables/, every object of a kind across the mounted regions in
 * one file (tables.h). A table is rendered when its attributes are asked
 * for and its listings moved since the last rendering, and kept: reads
 * get exactly those bytes, so size and content agree. Its freshness is
 * its listings' (a warm read is answered by the kernel), its time the
 * last change the cache saw in them.
 */
#include "tabledir.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "attr.h"
#include "fs_i.h"
#include "render.h"
#include "tables.h"

/* One table's last rendering. */
struct table {
	pthread_mutex_t lock;
	char *bytes;                /* NULL: never rendered */
	size_t len;
	uint64_t *seqs;             /* per region: the listing's seq, 0: none */
};

struct tabledir {
	uint32_t nregions;
	struct table t[K_COUNT * TABLE_FORMATS];
};

int tabledir_new(uint32_t nregions, struct tabledir **out)
{
	struct tabledir *d = calloc(1, sizeof *d);

	if (!d)
		return -ENOMEM;
	d->nregions = nregions;
	for (size_t i = 0; i < K_COUNT * TABLE_FORMATS; i++) {
		pthread_mutex_init(&d->t[i].lock, NULL);
		d->t[i].seqs = calloc(nregions ? nregions : 1, sizeof(uint64_t));
		if (!d->t[i].seqs) {
			tabledir_free(d);
			return -ENOMEM;
		}
	}
	*out = d;
	return 0;
}

void tabledir_free(struct tabledir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < K_COUNT * TABLE_FORMATS; i++) {
		free(d->t[i].bytes);
		free(d->t[i].seqs);
		pthread_mutex_destroy(&d->t[i].lock);
	}
	free(d);
}

static struct table *table_of(struct ifs *fs, const struct node *n)
{
	return &fs->tables->t[(size_t)n->kind * TABLE_FORMATS + n->slot];
}

/* The listings of n's kind in every region: what the table shows. */
struct views {
	struct cache_item *its;
	const struct cache_listing **lists;   /* NULL: a region not served */
	double expires, changed;
	bool stale;
};

static void views_release(struct ifs *fs, const struct node *n,
			  struct views *v)
{
	for (uint32_t r = 0; v->its && r < fs->conf.nregions; r++)
		cache_item_release(fs->kinds[n->kind].cache, &v->its[r]);
	free(v->its);
	free(v->lists);
}

/* 0, or the -errno of a listing that failed (nothing held then). A
 * region the API does not serve (a 404) has no rows. */
static int views_get(struct ifs *fs, struct rq *rq, const struct node *n,
		     struct views *v)
{
	uint32_t nr = fs->conf.nregions;
	int rc = 0;

	memset(v, 0, sizeof *v);
	v->its = calloc(nr ? nr : 1, sizeof *v->its);
	v->lists = calloc(nr ? nr : 1, sizeof *v->lists);
	v->expires = HUGE_VAL;
	if (!v->its || !v->lists)
		rc = -ENOMEM;
	for (uint32_t r = 0; !rc && r < nr; r++) {
		rc = cache_list(fs->kinds[n->kind].cache, fs->conf.regions[r],
				rq, rq ? &rq->intr : NULL, &v->its[r]);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		v->lists[r] = v->its[r].list;
		v->expires = fmin(v->expires, v->its[r].expires);
		v->changed = fmax(v->changed, v->its[r].changed_at);
		v->stale |= v->its[r].stale;
	}
	if (rc)
		views_release(fs, n, v);
	return rc;
}

/* Renders t from v unless its listings are those of the last rendering.
 * Lock held. */
static int render(struct ifs *fs, const struct node *n, struct table *t,
		  const struct views *v)
{
	uint32_t nr = fs->conf.nregions;
	bool same = t->bytes != NULL;
	char *bytes;
	size_t len;
	int rc;

	for (uint32_t r = 0; same && r < nr; r++)
		same = t->seqs[r] == (v->lists[r] ?
				      cache_listing_seq(v->lists[r]) : 0);
	if (same)
		return 0;
	rc = table_render(kind_get(n->kind), (enum table_format)n->slot,
			  fs->conf.regions, v->lists, nr, &bytes, &len);
	if (rc)
		return rc;
	free(t->bytes);
	t->bytes = bytes;
	t->len = len;
	for (uint32_t r = 0; r < nr; r++)
		t->seqs[r] = v->lists[r] ? cache_listing_seq(v->lists[r]) : 0;
	return 0;
}

bool tabledir_behind(struct tabledir *d, enum kind_id k, unsigned fmt,
		     uint32_t r, uint64_t seq)
{
	struct table *t = &d->t[(size_t)k * TABLE_FORMATS + fmt];
	bool behind;

	pthread_mutex_lock(&t->lock);
	behind = t->bytes && r < d->nregions && t->seqs[r] != seq;
	pthread_mutex_unlock(&t->lock);
	return behind;
}

int tabledir_attr(struct ifs *fs, struct rq *rq, const struct node *n,
		  struct answer *a)
{
	struct table *t = table_of(fs, n);
	struct views v;
	size_t len = 0;
	int rc = views_get(fs, rq, n, &v);

	if (rc)
		return rc;
	pthread_mutex_lock(&t->lock);
	rc = render(fs, n, t, &v);
	len = t->len;
	pthread_mutex_unlock(&t->lock);
	if (!rc) {
		memset(a, 0, sizeof *a);
		attr_base(fs, &a->st, node_ino(n), S_IFREG | 0444, 1,
			  (off_t)len, attr_changed_time(fs, v.changed));
		a->timeout = isinf(v.expires) ? 0 :
			     attr_timeout(fs, &fs->kinds[n->kind], v.expires,
					  v.stale);
	}
	views_release(fs, n, &v);
	return rc;
}

/* Bytes [off, off + size) of t's rendering into *buf: 1 when there is
 * none yet. Lock taken here. */
static int slice(struct table *t, off_t off, size_t size, char **buf,
		 size_t *len)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = t->bytes ? render_slice(t->bytes, t->len, off, size, buf, len) : 1;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int tabledir_read(struct ifs *fs, struct rq *rq, const struct node *n,
		  off_t off, size_t size, char **buf, size_t *len)
{
	struct answer a;
	int rc = slice(table_of(fs, n), off, size, buf, len);

	if (rc == 1 && !(rc = tabledir_attr(fs, rq, n, &a)))
		rc = slice(table_of(fs, n), off, size, buf, len);
	return rc;
}
