/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backref: the objects of a listing by the id one of their links points
 * to (the links of a connection, for connections/<id>/links/), so that a
 * walk that enters every object's subdirectory costs a search each, not a
 * scan of the listing.
 *
 * One index per (region, subdirectory) slot, built once per listing (its
 * positions sorted by the target id, then by position) and kept until a
 * newer listing comes.
 *
 * Thread-safety: a lock per slot; every function but backref_new() and
 * backref_free() may be called from any thread.
 */
#ifndef INTERLINKFS_BACKREF_H
#define INTERLINKFS_BACKREF_H

#include <stddef.h>

#include "cache.h"

struct backref;

/* nslots indexes. 0 with *out, or -ENOMEM. */
int backref_new(size_t nslots, struct backref **out);
void backref_free(struct backref *b);   /* NULL is a no-op */

/* Told the position, in the listing, of each object that links to the id
 * (in the listing's order); returns non-zero to stop. */
typedef int (*backref_visit_fn)(void *ud, size_t pos);

/*
 * The objects of listing l (borrowed; its values are robj) whose link
 * `link` points to id, each told to visit, under the slot's lock (visit
 * must not call back into b). Returns what visit returned to stop, 0
 * when every one was told, or -ENOMEM (then none was).
 */
int backref_each(struct backref *b, size_t slot,
		 const struct cache_listing *l, unsigned link, const char *id,
		 backref_visit_fn visit, void *ud);

#endif
