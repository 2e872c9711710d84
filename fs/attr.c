/*
 * attr: what a node is. Objects come from the cache as rendered objects
 * (robj.h), so attributes are read off them: nothing here parses JSON or
 * renders a file.
 */
#include "fs_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void got_release(struct got *g)
{
	robj_release(g->o);
	g->o = NULL;
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

int attr_node_of_ino(struct ifs *fs, uint64_t ino, struct node *n, char *id)
{
	int rc = node_from_ino(ino, fs->conf.nregions, n);

	id[0] = '\0';
	if (!rc && n->obj && objtab_get(fs->objs, n->obj, &n->region, id))
		rc = -ENOENT;
	if (!rc && n->type == NT_META_FILE && !meta_name(n->slot))
		rc = -ENOENT;
	return rc;
}

int attr_get(struct ifs *fs, struct rq *rq, const struct node *n,
	     const char *id, struct got *g)
{
	struct kstate *ks = &fs->kinds[n->kind];
	struct cache_item it = {0};
	int rc = cache_get(ks->cache, fs->conf.regions[n->region], id, rq,
			   rq ? &rq->intr : NULL, &it);

	if (rc)
		return rc;
	g->o = it.value;
	g->gen = it.gen;
	g->expires = it.expires;
	g->changed_at = it.changed_at;
	g->stale = it.stale;
	return 0;
}

void attr_got_of(const struct cache_listing *l, size_t i,
		 const struct cache_item *it, struct got *g)
{
	g->o = cache_listing_value(l, i);
	robj_hold(g->o);
	g->gen = cache_listing_gen(l, i);
	g->changed_at = cache_listing_changed_at(l, i);
	g->expires = it->expires;
	g->stale = it->stale;
}

/* What a subdirectory entry of a child of kind `child` points to, in a
 * parent of kind `parent`. */
static const struct subdir_def *sub_of(enum kind_id parent,
				       enum kind_id child)
{
	const struct kind *p = kind_get(parent);
	int s = kind_subdir_of(p, child);

	return s >= 0 ? &p->subdirs[s] : NULL;
}

int attr_of_obj(struct ifs *fs, const struct node *n, const struct got *g,
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
		if (!(sd = sub_of((enum kind_id)n->slot, n->kind)))
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
	int rc = cache_list(probe->cache, region, rq, rq ? &rq->intr : NULL,
			    &it);

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
	int rc = cache_list(ks->cache, fs->conf.regions[n->region], rq,
			    rq ? &rq->intr : NULL, &it);

	if (rc)
		return rc;
	attr_base(fs, &a->st, node_ino(n), S_IFLNK | 0777, 1,
		  (off_t)(strlen(ks->k->byname_target) + CONN_ID_MAX),
		  attr_changed_time(fs, it.changed_at));
	a->timeout = attr_timeout(fs, ks, it.expires, false);
	cache_item_release(ks->cache, &it);
	return 0;
}

/* Rendered now, kept for the reads that follow: size and content agree.
 * Always revalidated (timeout 0, a new mtime each time, so the page cache
 * is dropped), but for the version. */
static int meta_attr(struct ifs *fs, const struct node *n, struct answer *a)
{
	struct timespec now;
	char *buf;
	size_t len;
	int rc = fs_render_meta(fs, n->slot, &buf, &len);

	if (rc)
		return rc;
	pthread_mutex_lock(&fs->meta_lock);
	free(fs->meta[n->slot]);
	fs->meta[n->slot] = buf;
	fs->meta_len[n->slot] = len;
	pthread_mutex_unlock(&fs->meta_lock);
	clock_gettime(CLOCK_REALTIME, &now);
	attr_base(fs, &a->st, node_ino(n), S_IFREG | 0444, 1, (off_t)len,
		  n->slot == MF_VERSION ? fs->mounted : now);
	a->timeout = n->slot == MF_VERSION ? STATIC_TIMEOUT : 0;
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

int attr_describe(struct ifs *fs, struct rq *rq, const struct node *n,
		  const char *id, struct answer *a)
{
	uint64_t ino = node_ino(n);
	struct got g = {0};
	int rc;

	a->timeout = STATIC_TIMEOUT;
	a->entry = 0;
	switch (n->type) {
	case NT_ROOT:
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 4, 0, fs->mounted);
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
		attr_base(fs, &a->st, ino, S_IFDIR | 0555, 2, 0, fs->mounted);
		return 0;
	case NT_META_FILE:
		return meta_attr(fs, n, a);
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
		if ((rc = attr_get(fs, rq, n, id, &g)))
			return rc;
		rc = attr_of_obj(fs, n, &g, a);
		got_release(&g);
		return rc;
	default:
		return -ENOENT;
	}
}

/* A by-name entry's object: its id into id. */
static int byname_find(struct ifs *fs, struct rq *rq, const struct node *n,
		       const char *name, char *id)
{
	struct kstate *ks = &fs->kinds[n->kind];
	struct cache_item it = {0};
	struct names_index *ix;
	long k;
	int rc = byname_lock(fs, rq, ks, n->region, &it, &ix);

	if (rc)
		return rc;
	k = names_index_find(ix, name);
	if (k >= 0)
		snprintf(id, CONN_ID_MAX + 1, "%s", robj_id(cache_listing_value(
			ks->byname[n->region].list, (size_t)k)));
	byname_unlock(ks, n->region);
	cache_item_release(ks->cache, &it);
	return k >= 0 ? 0 : -ENOENT;
}

/* Is the child object g in the subdirectory of parent pid? */
static bool child_of_parent(const struct node *n, const struct got *g,
			    const char *pid)
{
	const struct subdir_def *sd = sub_of((enum kind_id)n->slot, n->kind);
	const char *to;
	size_t len;

	return sd && robj_link(g->o, sd->link, &to, &len) == 0 &&
	       len == strlen(pid) && memcmp(to, pid, len) == 0;
}

int attr_child(struct ifs *fs, struct rq *rq, const struct node *p,
	       const char *pid, const char *name, struct node *n, char *id)
{
	struct got g = {0};
	int rc = node_child(p, name, fs->conf.regions, fs->conf.nregions, n);

	if (rc)
		return rc;
	id[0] = '\0';
	switch (n->type) {
	case NT_OBJ:
	case NT_SUB_ENTRY:
		/* An id the cache does not know costs a request: only then
		 * is a number given out. */
		snprintf(id, CONN_ID_MAX + 1, "%s", name);
		if ((rc = attr_get(fs, rq, n, id, &g)))
			return rc;
		if (n->type == NT_SUB_ENTRY && !child_of_parent(n, &g, pid))
			rc = -ENOENT;
		got_release(&g);
		break;
	case NT_BYNAME:
		rc = byname_find(fs, rq, n, name, id);
		break;
	case NT_FILE:
	case NT_LINK:
	case NT_SUBDIR:
		snprintf(id, CONN_ID_MAX + 1, "%s", pid);
		return 0;
	default:
		return 0;
	}
	if (rc)
		return rc;
	n->obj = objtab_intern(fs->objs, n->kind, n->region, id);
	return n->obj ? 0 : -ENOMEM;
}

int attr_link_target(struct ifs *fs, struct rq *rq, const struct node *n,
		     const char *id, char *buf, size_t len)
{
	const struct kind *k = kind_get(n->kind);
	const struct subdir_def *sd;
	struct got g = {0};
	const char *to;
	size_t tlen;
	int rc;

	switch (n->type) {
	case NT_BYNAME:
		snprintf(buf, len, "%s%s", k->byname_target, id);
		return 0;
	case NT_SUB_ENTRY:
		if (!(sd = sub_of((enum kind_id)n->slot, n->kind)))
			return -ENOENT;
		snprintf(buf, len, "%s%s", sd->target, id);
		return 0;
	case NT_LINK:
		if ((rc = attr_get(fs, rq, n, id, &g)))
			return rc;
		rc = robj_link(g.o, n->slot, &to, &tlen);
		if (!rc)
			snprintf(buf, len, "%s%.*s", k->links[n->slot].target,
				 (int)tlen, to);
		got_release(&g);
		return rc;
	default:
		return -EINVAL;
	}
}

/* ---- by-name ------------------------------------------------------------ */

void byname_update(struct kstate *ks, uint32_t r, struct cache_listing *l,
		   bool invalidate)
{
	struct byname *b = &ks->byname[r];
	size_t n = cache_listing_size(l);
	struct names_in *in = calloc(n ? n : 1, sizeof *in);
	struct names_index *ix = NULL, *old_ix;
	struct cache_listing *old;

	for (size_t i = 0; in && i < n; i++) {
		const struct robj *o = cache_listing_value(l, i);
		in[i].id = robj_id(o);
		if (robj_name(o, &in[i].name, &in[i].len))
			in[i].name = NULL;
	}
	if (!in || names_index_new(in, n, &ix)) {
		free(in);
		return; /* the kernel's timeouts still bound staleness */
	}
	free(in);
	pthread_mutex_lock(&b->lock);
	if (b->list && cache_listing_seq(b->list) >= cache_listing_seq(l)) {
		/* This one, or a newer one, is there already. */
		pthread_mutex_unlock(&b->lock);
		names_index_free(ix);
		return;
	}
	if (invalidate && b->ix) {
		uint64_t dir = node_kind_dir_ino(r, ks->k->id, true);
		for (size_t i = 0; i < names_index_size(b->ix); i++) {
			const char *name = names_index_name(b->ix, i);
			long k = names_index_find(ix, name);
			if (k < 0 || strcmp(robj_id(cache_listing_value(
					l, (size_t)k)), robj_id(
					cache_listing_value(b->list, i))))
				keeper_entry(ks->fs, dir, name);
		}
		keeper_inode(ks->fs, dir);
	}
	old = b->list;
	old_ix = b->ix;
	cache_listing_hold(l);
	b->list = l;
	b->ix = ix;
	pthread_mutex_unlock(&b->lock);
	cache_listing_release(old);
	names_index_free(old_ix);
}

int byname_lock(struct ifs *fs, struct rq *rq, struct kstate *ks, uint32_t r,
		struct cache_item *it, struct names_index **ix)
{
	struct byname *b = &ks->byname[r];
	int rc = cache_list(ks->cache, fs->conf.regions[r], rq,
			    rq ? &rq->intr : NULL, it);

	if (rc)
		return rc;
	pthread_mutex_lock(&b->lock);
	if (!b->list || cache_listing_seq(b->list) < cache_listing_seq(it->list)) {
		pthread_mutex_unlock(&b->lock);
		byname_update(ks, r, it->list, false);
		pthread_mutex_lock(&b->lock);
	}
	if (!b->ix) {
		pthread_mutex_unlock(&b->lock);
		cache_item_release(ks->cache, it);
		return -ENOMEM;
	}
	*ix = b->ix;
	return 0;
}

void byname_unlock(struct kstate *ks, uint32_t r)
{
	pthread_mutex_unlock(&ks->byname[r].lock);
}
