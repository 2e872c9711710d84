/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lookup: what a name is in a directory (the kernel's lookup), and where a
 * symbolic link points (its readlink). Both resolve a node to an object of
 * the cache; nothing here renders or describes.
 */
#include "lookup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "attr.h"
#include "fs_i.h"

/* Is the child object g in the subdirectory of parent pid? */
static bool child_of_parent(const struct node *n, const struct got *g,
			    const char *pid)
{
	const struct subdir_def *sd = kind_subdir_for((enum kind_id)n->slot, n->kind);
	const char *to;
	size_t len;

	return sd && robj_link(g->o, sd->link, &to, &len) == 0 &&
	       len == strlen(pid) && memcmp(to, pid, len) == 0;
}

/* A by-name entry's object: its id into id. */
static int byname_target(struct ifs *fs, struct rq *rq, const struct node *n,
			 const char *name, char *id)
{
	struct kstate *ks = &fs->kinds[n->kind];
	struct cache_item it = {0};
	int rc = access_listing(fs, rq, n->kind, n->region, &it);

	if (rc)
		return rc;
	rc = byname_find(ks->byname, n->region, it.list, name, id,
			 FIELD_ID_MAX + 1);
	cache_item_release(ks->cache, &it);
	return rc;
}

int lookup_child(struct ifs *fs, struct rq *rq, const struct node *p,
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
		snprintf(id, FIELD_ID_MAX + 1, "%s", name);
		if ((rc = access_object(fs, rq, n, id, &g)))
			return rc;
		if (n->type == NT_SUB_ENTRY && !child_of_parent(n, &g, pid))
			rc = -ENOENT;
		access_release(&g);
		break;
	case NT_BYNAME:
		rc = byname_target(fs, rq, n, name, id);
		break;
	case NT_FILE:
	case NT_LINK:
	case NT_SUBDIR:
		snprintf(id, FIELD_ID_MAX + 1, "%s", pid);
		return 0;
	default:
		return 0;
	}
	if (rc)
		return rc;
	n->obj = objtab_intern(fs->objs, n->kind, n->region, id);
	return n->obj ? 0 : -ENOMEM;
}

int lookup_link_target(struct ifs *fs, struct rq *rq, const struct node *n,
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
		if (!(sd = kind_subdir_for((enum kind_id)n->slot, n->kind)))
			return -ENOENT;
		snprintf(buf, len, "%s%s", sd->target, id);
		return 0;
	case NT_LINK:
		if ((rc = access_object(fs, rq, n, id, &g)))
			return rc;
		rc = robj_link(g.o, n->slot, &to, &tlen);
		if (!rc)
			snprintf(buf, len, "%s%.*s", k->links[n->slot].target,
				 (int)tlen, to);
		access_release(&g);
		return rc;
	default:
		return -EINVAL;
	}
}
