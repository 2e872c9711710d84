/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lookup: what a name is in a directory, and where a symbolic link points.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef INTERLINKFS_LOOKUP_H
#define INTERLINKFS_LOOKUP_H

#include <stddef.h>

#include "node.h"
#include "request.h"

struct ifs;

/*
 * What `name` is in directory p (pid: p's object id, or ""): 0 with the
 * node n and its object's id (at least FIELD_ID_MAX + 1 bytes), an object
 * being numbered only once it is known to exist; -ENOENT, -ENOTDIR,
 * -ENAMETOOLONG, or the cache's -errno.
 */
int lookup_child(struct ifs *fs, struct rq *rq, const struct node *p,
		 const char *pid, const char *name, struct node *n, char *id);
/* Where a symbolic link node points (buf: len bytes, at least 256). 0,
 * -ENOENT (no such link), -EINVAL (not a link) or the cache's -errno. */
int lookup_link_target(struct ifs *fs, struct rq *rq, const struct node *n,
		       const char *id, char *buf, size_t len);

#endif
