/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metadir: the files of .interlinkfs/ (stats, metrics, version). A file's
 * bytes are rendered when its attributes are asked for, and kept: the
 * reads that follow get exactly those bytes, so size and content agree.
 * Its attributes are never cached by the kernel (timeout 0, a new time
 * each look), but for the version's, which never changes.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct metadir {
	pthread_mutex_t lock;         /* the latest renders */
	char *bytes[MF_COUNT + 1];
	size_t len[MF_COUNT + 1];
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
	for (unsigned s = 0; s <= MF_COUNT; s++)
		free(m->bytes[s]);
	pthread_mutex_destroy(&m->lock);
	free(m);
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
		for (uint32_t r = 0; r < nr; r++)
			if (cache_listing_age(ks->cache, fs->conf.regions[r],
					      &a[r]))
				a[r] = -1;
		s->kinds[k].listing_age = a;
	}
	s->nkinds = K_COUNT;
}

/* The bytes of file `slot`, now. */
static int render(struct ifs *fs, unsigned slot, char **out, size_t *len)
{
	struct meta_snapshot s;
	uint32_t nr = fs->conf.nregions;
	double *ages = calloc((size_t)K_COUNT * (nr ? nr : 1), sizeof *ages);
	int rc;

	if (!ages)
		return -ENOMEM;
	memset(&s, 0, sizeof s);
	api_get_stats(fs->api, &s.api);
	gather_kinds(fs, &s, ages);
	s.fs = (struct meta_fs_stats){
		atomic_load(&fs->n.kernel_lookups),
		atomic_load(&fs->n.kernel_getattrs),
		atomic_load(&fs->n.kernel_reads),
		atomic_load(&fs->n.kernel_readdirs),
		atomic_load(&fs->n.pages_pushed),
		atomic_load(&fs->n.size_resyncs),
	};
	s.regions = fs->conf.regions;
	s.nregions = nr;
	rc = meta_render(slot, &s, out, len);
	free(ages);
	return rc;
}

int metadir_attr(struct ifs *fs, const struct node *n, struct answer *a)
{
	struct metadir *m = fs->meta;
	struct timespec now;
	char *buf;
	size_t len;
	int rc = render(fs, n->slot, &buf, &len);

	if (rc)
		return rc;
	pthread_mutex_lock(&m->lock);
	free(m->bytes[n->slot]);
	m->bytes[n->slot] = buf;
	m->len[n->slot] = len;
	pthread_mutex_unlock(&m->lock);
	clock_gettime(CLOCK_REALTIME, &now);
	memset(a, 0, sizeof *a);
	attr_base(fs, &a->st, node_ino(n), S_IFREG | 0444, 1, (off_t)len,
		  n->slot == MF_VERSION ? fs->mounted : now);
	a->timeout = n->slot == MF_VERSION ? STATIC_TIMEOUT : 0;
	return 0;
}

int metadir_read(struct ifs *fs, unsigned slot, char **buf, size_t *len)
{
	struct metadir *m = fs->meta;
	int rc = 0;

	*buf = NULL;
	pthread_mutex_lock(&m->lock);
	if (m->bytes[slot]) {
		*len = m->len[slot];
		if ((*buf = malloc(*len ? *len : 1)))
			memcpy(*buf, m->bytes[slot], *len);
		else
			rc = -ENOMEM;
	}
	pthread_mutex_unlock(&m->lock);
	if (!rc && !*buf)
		rc = render(fs, slot, buf, len);
	return rc;
}
