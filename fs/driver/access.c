/* SPDX-License-Identifier: Apache-2.0 */
/*
 * access: objects, listings and nodes as requests see them.
 */
#include "access.h"

#include <errno.h>

#include "fs_i.h"
#include "meta.h"
#include "request.h"

void access_release(struct got *g)
{
	robj_release(g->o);
	g->o = NULL;
}

int access_node(struct ifs *fs, uint64_t ino, struct node *n, char *id)
{
	int rc = node_from_ino(ino, fs->conf.nregions, n);

	id[0] = '\0';
	if (!rc && n->obj && objtab_get(fs->objs, n->obj, &n->region, id))
		rc = -ENOENT;
	if (!rc && n->type == NT_META_FILE && !meta_name(n->slot))
		rc = -ENOENT;
	return rc;
}

int access_object(struct ifs *fs, struct rq *rq, const struct node *n,
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

void access_object_at(const struct cache_listing *l, size_t i,
		      const struct cache_item *it, struct got *g)
{
	g->o = cache_listing_value(l, i);
	robj_hold(g->o);
	g->gen = cache_listing_gen(l, i);
	g->changed_at = cache_listing_changed_at(l, i);
	g->expires = it->expires;
	g->stale = it->stale;
}

int access_listing(struct ifs *fs, struct rq *rq, enum kind_id k, uint32_t r,
		   struct cache_item *it)
{
	return cache_list(fs->kinds[k].cache, fs->conf.regions[r], rq,
			  rq ? &rq->intr : NULL, it);
}
