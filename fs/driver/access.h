/* SPDX-License-Identifier: Apache-2.0 */
/*
 * access: objects, listings and nodes as requests see them, from the cache
 * of their kind (which may ask the API).
 *
 * Thread-safety: every function may be called from any thread. Objects
 * handed out (struct got) are references the caller releases with
 * access_release(); everything else is borrowed.
 */
#ifndef INTERLINKFS_ACCESS_H
#define INTERLINKFS_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "field.h"
#include "node.h"
#include "robj.h"

struct ifs;
struct rq;

/* An object as a request holds it. */
struct got {
	struct robj *o;         /* a reference (access_release) */
	uint64_t gen;
	double expires;         /* cache clock */
	double changed_at;      /* cache clock; 0: never changed */
	bool stale;
};

/* Drops g's reference (an empty g is fine). */
void access_release(struct got *g);

/* The node of inode ino, with its object's id and region (id: at least
 * FIELD_ID_MAX + 1 bytes; "" above objects). 0 or -ENOENT. */
int access_node(struct ifs *fs, uint64_t ino, struct node *n, char *id);

/* Object `id` of n's kind and region (rq may be NULL). 0 with *g (a
 * reference), or -errno. */
int access_object(struct ifs *fs, struct rq *rq, const struct node *n,
		  const char *id, struct got *g);

/* Object i of listing l (borrowed), as its item says: *g (a reference). */
void access_object_at(const struct cache_listing *l, size_t i,
		      const struct cache_item *it, struct got *g);

/* Region r's listing of kind k (rq may be NULL): 0 with *it (release with
 * cache_item_release on that kind's cache), or -errno. */
int access_listing(struct ifs *fs, struct rq *rq, enum kind_id k, uint32_t r,
		   struct cache_item *it);

#endif
