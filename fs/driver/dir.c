/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dir: readdir and readdirplus. A kind's directory is answered from its
 * listing alone, attributes included: the objects in it are rendered
 * already, so a readdirplus of 10,000 connections costs no lookup per
 * entry.
 */
#include "dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "attr.h"
#include "fs_i.h"
#include "keeper.h"
#include "meta.h"
#include "request.h"
#include "tables.h"

struct dirbuf {
	struct ifs *fs;
	struct rq *rq;
	char *p;
	size_t len, size;
	bool plus, full;
	off_t off;      /* entries before this one are skipped */
	off_t i;        /* entries so far */
	struct got push; /* an object whose files to push after the reply */
	struct node push_node;
};

/* Whether entry number b->i is wanted (and counts it). */
static bool wanted(struct dirbuf *b)
{
	return b->i++ >= b->off;
}

/* Adds the current entry (offset b->i resumes after it). false when
 * full. */
static bool add(struct dirbuf *b, const char *name, const struct answer *a)
{
	size_t need;

	if (b->full)
		return false;
	if (b->plus) {
		struct fuse_entry_param e;
		request_entry(&e, a);
		need = fuse_add_direntry_plus(b->rq->req, b->p + b->len,
					      b->size - b->len, name, &e, b->i);
	} else {
		need = fuse_add_direntry(b->rq->req, b->p + b->len,
					 b->size - b->len, name, &a->st, b->i);
	}
	if (need > b->size - b->len) {
		b->full = true;
		return false;
	}
	b->len += need;
	return true;
}

/* Adds the object at position k of it's listing, as node c (numbered
 * here; c's kind and region are set). 0 added, 1 the buffer is full,
 * -ENOMEM. */
static int add_listed(struct dirbuf *b, struct node *c,
		      const struct cache_item *it, size_t k, mode_t mode)
{
	const struct robj *o = cache_listing_value(it->list, k);
	struct answer a = {0};
	struct got g;

	c->obj = objtab_intern(b->fs->objs, c->kind, c->region, robj_id(o));
	if (!c->obj)
		return -ENOMEM;
	attr_bare(&a, node_ino(c), mode);
	if (b->plus) {
		access_object_at(it->list, k, it, &g);
		attr_of_object(b->fs, c, &g, &a);
		access_release(&g);
	}
	return add(b, robj_id(o), &a) ? 0 : 1;
}

/* An entry whose attributes the kernel asks for when it needs them. */
static bool add_bare(struct dirbuf *b, const char *name, uint64_t ino,
		     mode_t mode)
{
	struct answer a = {0};

	if (!wanted(b))
		return true;
	attr_bare(&a, ino, mode);
	return add(b, name, &a);
}

/* An entry described in full (readdirplus), or bare when that fails. */
static bool add_node(struct dirbuf *b, const char *name,
		     const struct node *n, mode_t mode)
{
	struct answer a = {0};

	if (!wanted(b))
		return true;
	if (!b->plus || attr_of_node(b->fs, b->rq, n, "", &a))
		attr_bare(&a, node_ino(n), mode);
	return add(b, name, &a);
}

static int list_root(struct dirbuf *b)
{
	struct node c = {.type = NT_REGIONS};

	if (!add_node(b, "regions", &c, S_IFDIR))
		return 0;
	c.type = NT_TABLES;
	if (!add_node(b, "tables", &c, S_IFDIR))
		return 0;
	c.type = NT_META;
	add_node(b, ".interlinkfs", &c, S_IFDIR);
	return 0;
}

/* Tables get their attributes when asked for: listing them costs no
 * request. */
static int list_tables(struct dirbuf *b)
{
	struct node c = {.type = NT_TABLE};
	char name[80];

	for (int k = 0; k < K_COUNT; k++) {
		for (unsigned f = 0; f < TABLE_FORMATS; f++) {
			c.kind = (enum kind_id)k;
			c.slot = f;
			snprintf(name, sizeof name, "%s.%s", kind_get(k)->dir,
				 table_ext((enum table_format)f));
			if (!add_bare(b, name, node_ino(&c), S_IFREG))
				return 0;
		}
	}
	return 0;
}

static int list_prom(struct dirbuf *b)
{
	struct node c = {.type = NT_PROM_FILE};

	for (c.slot = 1; c.slot <= NODE_PROM_FILES; c.slot++)
		if (!add_bare(b, node_prom_name(c.slot), node_ino(&c),
			      S_IFREG))
			break;
	return 0;
}

static int list_regions(struct dirbuf *b)
{
	struct node c = {.type = NT_REGION};

	for (c.region = 0; c.region < b->fs->conf.nregions; c.region++)
		if (!add_node(b, b->fs->conf.regions[c.region], &c, S_IFDIR))
			break;
	return 0;
}

static int list_meta(struct dirbuf *b)
{
	struct node c = {.type = NT_META_FILE};

	for (c.slot = 1; c.slot <= MF_COUNT; c.slot++)
		if (!add_bare(b, meta_name(c.slot), node_ino(&c), S_IFREG))
			return 0;
	c = (struct node){.type = NT_PROM};
	add_bare(b, "prometheus", node_ino(&c), S_IFDIR);
	return 0;
}

/* Listing a region must not cost API requests: its directories get their
 * attributes when asked for. */
static int list_region(struct dirbuf *b, uint32_t r)
{
	for (int k = 0; k < K_COUNT; k++) {
		const struct kind *kd = kind_get(k);
		if (!add_bare(b, kd->dir, node_kind_dir_ino(r, k, false),
			      S_IFDIR))
			return 0;
		if (kd->byname && !kd->byname_in_dir &&
		    !add_bare(b, kd->byname, node_kind_dir_ino(r, k, true),
			      S_IFDIR))
			return 0;
	}
	return 0;
}

/* A kind's directory: its listing, each object described from it. */
static int list_kind(struct dirbuf *b, const struct node *d)
{
	struct kstate *ks = &b->fs->kinds[d->kind];
	struct cache_item it = {0};
	struct node c = {.type = NT_OBJ, .kind = d->kind, .region = d->region};
	int rc = access_listing(b->fs, b->rq, d->kind, d->region, &it);

	if (rc)
		return rc;
	if (ks->k->byname && ks->k->byname_in_dir &&
	    !add_bare(b, ks->k->byname,
		      node_kind_dir_ino(d->region, d->kind, true), S_IFDIR))
		goto out;
	for (size_t k = 0; k < cache_listing_size(it.list); k++) {
		if (!wanted(b))
			continue;
		if ((rc = add_listed(b, &c, &it, k, S_IFDIR)))
			break;
	}
	rc = rc < 0 ? rc : 0;
out:
	cache_item_release(ks->cache, &it);
	return rc;
}

/* A by-name directory: one symbolic link per object, named by the rule
 * of byname.h. Their time and freshness are the listing's. */
static int list_byname(struct dirbuf *b, const struct node *d)
{
	struct kstate *ks = &b->fs->kinds[d->kind];
	struct cache_item it = {0};
	const struct byname_index *ix;
	const struct cache_listing *l;
	struct node c = {.type = NT_BYNAME, .kind = d->kind,
			 .region = d->region};
	struct answer a = {0};
	int rc = access_listing(b->fs, b->rq, d->kind, d->region, &it);

	if (rc)
		return rc;
	if ((rc = byname_hold(ks->byname, d->region, it.list, &ix, &l))) {
		cache_item_release(ks->cache, &it);
		return rc;
	}
	a.timeout = attr_timeout(b->fs, ks, it.expires, it.stale);
	for (size_t k = 0; k < byname_index_size(ix); k++) {
		if (!wanted(b))
			continue;
		c.obj = objtab_intern(b->fs->objs, d->kind, d->region,
				      robj_id(cache_listing_value(l, k)));
		if (!c.obj) {
			rc = -ENOMEM;
			break;
		}
		attr_base(b->fs, &a.st, node_ino(&c), S_IFLNK | 0777, 1,
			  (off_t)(strlen(ks->k->byname_target) + FIELD_ID_MAX),
			  attr_changed_time(b->fs, it.changed_at));
		if (!add(b, byname_index_name(ix, k), &a))
			break;
	}
	byname_release(ks->byname, d->region);
	cache_item_release(ks->cache, &it);
	return rc;
}

/* An object's directory: its files, its links that point somewhere, its
 * subdirectories; all described from the one object. */
static int list_obj(struct dirbuf *b, const struct node *d, const char *id)
{
	const struct kind *k = kind_get(d->kind);
	struct node c = *d;
	struct got g = {0};
	const char *to;
	size_t len;
	int rc = access_object(b->fs, b->rq, d, id, &g);

#define ENTRY(name, mode) \
	do { \
		struct answer a = {0}; \
		if (!wanted(b)) \
			break; \
		if (!b->plus || attr_of_object(b->fs, &c, &g, &a)) \
			attr_bare(&a, node_ino(&c), (mode)); \
		if (!add(b, (name), &a)) \
			goto out; \
	} while (0)
	if (rc)
		return rc;
	c.type = NT_FILE;
	for (c.slot = 0; c.slot < k->nfiles; c.slot++)
		ENTRY(k->files[c.slot].name, S_IFREG);
	c.type = NT_LINK;
	for (c.slot = 0; c.slot < k->nlinks; c.slot++)
		if (robj_link(g.o, c.slot, &to, &len) == 0)
			ENTRY(k->links[c.slot].name, S_IFLNK);
	c.type = NT_SUBDIR;
	for (c.slot = 0; c.slot < k->nsubdirs; c.slot++)
		ENTRY(k->subdirs[c.slot].name, S_IFDIR);
#undef ENTRY
out:
	/* A walk reads an object's files right after listing it. Its
	 * readdirplus that comes back for more (off > 0) and gets the end
	 * is when the kernel has made their inodes (not before: a store to
	 * an inode the kernel has not made yet is refused): the files are
	 * pushed then, just after the reply. */
	if (b->plus && !b->full && b->off > 0) {
		b->push = g;
		b->push_node = *d;
		return 0;
	}
	access_release(&g);
	return 0;
}

/* ---- subdirectories: objects of another kind that link here ------------ */

/* One entry of a subdirectory, for backref_each: 1 stops (full, or out
 * of memory: b->err). */
struct sub_walk {
	struct dirbuf *b;
	struct node c;
	const struct cache_item *it;
	int err;
};

static int sub_entry(void *ud, size_t pos)
{
	struct sub_walk *w = ud;
	int rc;

	if (!wanted(w->b))
		return 0;
	rc = add_listed(w->b, &w->c, w->it, pos, S_IFLNK);
	if (rc < 0)
		w->err = rc;
	return rc ? 1 : 0;
}

/* An object's subdirectory: the objects of the child kind whose link
 * points to it, from the child kind's listing of the region, through that
 * listing's index by target (backref.h). */
static int list_subdir(struct dirbuf *b, const struct node *d, const char *id)
{
	const struct subdir_def *sd = &kind_get(d->kind)->subdirs[d->slot];
	struct kstate *ks = &b->fs->kinds[sd->kind];
	struct cache_item it = {0};
	struct sub_walk w = {b, {.type = NT_SUB_ENTRY, .kind = sd->kind,
				 .region = d->region,
				 .slot = (uint32_t)d->kind}, &it, 0};
	int rc = access_listing(b->fs, b->rq, sd->kind, d->region, &it);

	if (rc)
		return rc;
	rc = backref_each(b->fs->kinds[d->kind].backrefs,
			  (size_t)d->region * KIND_MAX_SUBDIRS + d->slot,
			  it.list, sd->link, id, sub_entry, &w);
	cache_item_release(ks->cache, &it);
	return rc < 0 ? rc : w.err;
}

static int list_dir(struct dirbuf *b, const struct node *d, const char *id)
{
	/* "." and ".." first (the kernel handles what they point to). */
	if (!add_bare(b, ".", node_ino(d), S_IFDIR) ||
	    !add_bare(b, "..", 1, S_IFDIR))
		return 0;
	switch (d->type) {
	case NT_ROOT: return list_root(b);
	case NT_REGIONS: return list_regions(b);
	case NT_META: return list_meta(b);
	case NT_PROM: return list_prom(b);
	case NT_TABLES: return list_tables(b);
	case NT_REGION: return list_region(b, d->region);
	case NT_KIND_DIR: return list_kind(b, d);
	case NT_BYNAME_DIR: return list_byname(b, d);
	case NT_OBJ: return list_obj(b, d, id);
	case NT_SUBDIR: return list_subdir(b, d, id);
	default: return -ENOTDIR;
	}
}

void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus)
{
	struct rq rq;
	struct node n;
	struct dirbuf b = {.plus = plus, .size = size, .off = off};
	char id[FIELD_ID_MAX + 1];
	int rc;

	request_begin(&rq, req);
	b.fs = rq.fs;
	b.rq = &rq;
	atomic_fetch_add(&rq.fs->n.kernel_readdirs, 1);
	b.p = malloc(size ? size : 1);
	rc = b.p ? access_node(rq.fs, ino, &n, id) : -ENOMEM;
	if (!rc && !node_is_dir(&n))
		rc = -ENOTDIR;
	/* A directory whose listing failed is an error, even though "." and
	 * ".." fitted: an empty answer would look like an empty region. */
	if (!rc)
		rc = list_dir(&b, &n, id);
	request_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, b.p, b.len);
	free(b.p);
	if (b.push.o) {
		keeper_push_now(b.fs, b.push_node.obj, b.push_node.region,
				&b.push, -1);
		access_release(&b.push);
	}
}
