/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attr: the attributes of every node. Objects come from the cache as
 * rendered objects (robj.h), so attributes are read off them: nothing here
 * parses JSON or renders a file.
 */
#include "attr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "fs_i.h"

static struct timespec ts_of(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)floor(t);
	ts.tv_nsec = (long)((t - floor(t)) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static struct timespec attr_wall(struct ifs *fs, double t)
{
	return ts_of(t + fs->wall_minus_mono);
}

struct timespec attr_changed_time(struct ifs *fs, double t)
{
	return t > 0 ? attr_wall(fs, t) : fs->mounted;
}

void attr_base(struct ifs *fs, struct stat *st, uint64_t ino, mode_t mode,
	       nlink_t nlink, off_t size, struct timespec mtime)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = nlink;
	st->st_uid = fs->conf.uid;
	st->st_gid = fs->conf.gid;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim = mtime;
	st->st_ctim = mtime;
	st->st_atim = mtime;
}

void attr_bare(struct answer *a, uint64_t ino, mode_t mode)
{
	memset(a, 0, sizeof *a);
	a->st.st_ino = ino;
	a->st.st_mode = mode;
	a->timeout = 0;
}

double attr_timeout(struct ifs *fs, const struct kstate *ks, double expires,
		    bool stale)
{
	double left;

	if (stale)
		return 0;
	left = expires - cache_now(ks->cache);
	if (left < 0)
		left = 0;
	return left > fs->conf.ttl ? fs->conf.ttl : left;
}

/* An object's time: updated_at, else created_at, else the mount time;
 * later if the cache saw it change after that. */
static struct timespec obj_mtime(struct ifs *fs, const struct got *g)
{
	struct timespec t;

	if (!robj_mtime(g->o, &t))
		t = fs->mounted;
	if (g->changed_at > 0) {
		struct timespec seen = attr_wall(fs, g->changed_at);
		if (ts_after(seen, t))
			t = seen;
	}
	return t;
}

int attr_of_object(struct ifs *fs, const struct node *n, const struct got *g,
		   struct answer *a)
{
	const struct kind *k = kind_get(n->kind);
	const struct subdir_def *sd;
	uint64_t ino = node_ino(n);
	struct timespec mt = obj_mtime(fs, g);
	const char *id;
	size_t len;
	long size;

	a->timeout = attr_timeout(fs, &fs->kinds[n->kind], g->expires,
				  g->stale);
	switch (n->type) {
	case NT_OBJ:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 2 + k->nsubdirs, 0,
			  mt);
		return 0;
	case NT_SUBDIR:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 2, 0, mt);
		return 0;
	case NT_FILE:
		/* A field of the wrong type: listed, but neither stat nor read
		 * can give an honest size or content: EIO (the .json file
		 * shows what the API sent). */
		if ((size = robj_file_size(g->o, n->slot)) < 0)
			return -EIO;
		attr_base(fs, &a->st, ino, S_IFREG | 0444, 1, size, mt);
		objtab_size_told(fs->objs, n->obj, n->slot, (size_t)size);
		return 0;
	case NT_LINK:
		if (robj_link(g->o, n->slot, &id, &len))
			return -ENOENT;
		attr_base(fs, &a->st, ino, S_IFLNK | 0777, 1,
			  (off_t)(strlen(k->links[n->slot].target) + len), mt);
		return 0;
	case NT_SUB_ENTRY:
		if (!(sd = kind_subdir_for((enum kind_id)n->slot, n->kind)))
			return -ENOENT;
		attr_base(fs, &a->st, ino, S_IFLNK | 0777, 1,
			  (off_t)(strlen(sd->target) +
				  strlen(robj_id(g->o))), mt);
		return 0;
	default:
		return -ENOENT;
	}
}

/*
 * A kind's directory, or a by-name directory. Does the API serve this
 * region at all? The probe kind's listing (one small request, kept long)
 * says: a 404 makes every directory of the region "No such file". It is
 * asked here, at lookup, because a failed readdir cannot say so: the C
 * library turns ENOENT from getdents into an empty directory. Any other
 * outcome leaves the answer to the listing itself.
 */
static int kind_dir_attr(struct ifs *fs, struct rq *rq, const struct node *n,
			 struct answer *a)
{
	struct kstate *ks = &fs->kinds[n->kind];
	struct kstate *probe = &fs->kinds[kind_probe()->id];
	const char *region = fs->conf.regions[n->region];
	struct cache_item it = {0};
	uint64_t ino = node_ino(n);
	int rc = access_listing(fs, rq, kind_probe()->id, n->region, &it);

	cache_item_release(probe->cache, &it);
	if (rc == -ENOENT || rc == -EINTR)
		return rc;
	/* The directory is there as long as the region is served: its name
	 * needs no revalidation (each path walk through it would cost a
	 * lookup while its listing is unknown), its attributes do. */
	a->entry = STATIC_TIMEOUT;
	/* Otherwise what the cache knows, without asking the API: looking a
	 * directory up must not cost a listing (a cat of one file costs one
	 * get). Unknown yet: revalidated at once. */
	if (cache_peek_list(ks->cache, region, &it) == 0) {
		nlink_t nlink = 2;
		if (n->type == NT_KIND_DIR)
			nlink += cache_listing_size(it.list) +
				 (ks->k->byname && ks->k->byname_in_dir);
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, nlink, 0,
			  attr_changed_time(fs, it.changed_at));
		a->timeout = attr_timeout(fs, ks, it.expires, false);
		cache_item_release(ks->cache, &it);
	} else {
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 2, 0, fs->mounted);
		a->timeout = 0;
	}
	return 0;
}

/* A by-name entry: its time and freshness are its listing's. */
static int byname_attr(struct ifs *fs, struct rq *rq, const struct node *n,
		       struct answer *a)
{
	struct kstate *ks = &fs->kinds[n->kind];
	struct cache_item it = {0};
	int rc = access_listing(fs, rq, n->kind, n->region, &it);

	if (rc)
		return rc;
	attr_base(fs, &a->st, node_ino(n), S_IFLNK | 0777, 1,
		  (off_t)(strlen(ks->k->byname_target) + FIELD_ID_MAX),
		  attr_changed_time(fs, it.changed_at));
	a->timeout = attr_timeout(fs, ks, it.expires, false);
	cache_item_release(ks->cache, &it);
	return 0;
}

/* Directories at the region: one per kind, one per by-name there. */
static nlink_t region_nlink(void)
{
	nlink_t n = 2;

	for (int k = 0; k < K_COUNT; k++)
		n += 1 + (kind_get(k)->byname && !kind_get(k)->byname_in_dir);
	return n;
}

int attr_of_node(struct ifs *fs, struct rq *rq, const struct node *n,
		 const char *id, struct answer *a)
{
	uint64_t ino = node_ino(n);
	struct got g = {0};
	int rc;

	a->timeout = STATIC_TIMEOUT;
	a->entry = 0;
	switch (n->type) {
	case NT_ROOT:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 5, 0, fs->mounted);
		return 0;
	case NT_TABLES:
	case NT_PROM:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 2, 0, fs->mounted);
		return 0;
	case NT_REGIONS:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555,
			  2 + fs->conf.nregions, 0, fs->mounted);
		return 0;
	case NT_REGION:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, region_nlink(), 0,
			  fs->mounted);
		return 0;
	case NT_META:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 3, 0, fs->mounted);
		return 0;
	case NT_KIND_DIR:
	case NT_BYNAME_DIR:
		return kind_dir_attr(fs, rq, n, a);
	case NT_BYNAME:
		return byname_attr(fs, rq, n, a);
	case NT_OBJ:
	case NT_FILE:
	case NT_LINK:
	case NT_SUBDIR:
	case NT_SUB_ENTRY:
		if ((rc = access_object(fs, rq, n, id, &g)))
			return rc;
		rc = attr_of_object(fs, n, &g, a);
		access_release(&g);
		return rc;
	default:
		return -ENOENT;
	}
}
