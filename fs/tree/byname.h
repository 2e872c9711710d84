/* SPDX-License-Identifier: Apache-2.0 */
/*
 * byname: the by-name directories (regions/R/by-name/, links/by-name/,
 * routing-policies/by-name/): the rule that turns names into entries, the
 * index of one listing's names, and the state of a kind's directories,
 * one per region, as listings come and go.
 *
 * The rule. Names are free text; directory entries are not. It is a pure
 * function of the set of (name, id) pairs, so it does not depend on the
 * order the API lists objects in:
 *  1. A name that is unique, non-empty, not "." or "..", holds no '/' and
 *     no control character (U+0000-U+001F, U+007F), and is at most 255
 *     bytes appears unchanged.
 *  2. Otherwise it is made safe: '/' and control characters become '_'
 *     (so names are shell-safe: no newline, tab or NUL); an empty (or
 *     missing) name becomes "_"; "." and ".." become "_." and "_..";
 *     more than 255 bytes is cut on a UTF-8 character boundary.
 *  3. A name that is still not unique gets "~" and the first 8 characters
 *     of the object's id appended (the name part shortened so the whole
 *     fits 255 bytes); if that collides too, "~" and the whole id. When
 *     one of the colliding names is a name kept unchanged by rule 1 (the
 *     others being made safe), it keeps it.
 *
 * Thread-safety: the rule and the index are pure and immutable (safe from
 * any thread); a struct byname has a lock per region, and every function
 * on it is thread-safe but byname_new() and byname_free().
 */
#ifndef INTERLINKFS_BYNAME_H
#define INTERLINKFS_BYNAME_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* ---- the rule ------------------------------------------------------------ */

struct byname_in {
	const char *name; /* may be NULL (missing or not a string) */
	size_t len;       /* may hold NUL bytes */
	const char *id;   /* unique among the inputs */
};

#define BYNAME_MAX 255

/*
 * Entry names for n objects: (*out)[i] is the name of in[i], malloc'ed,
 * as is *out (the caller frees them with byname_names_free). 0 or -ENOMEM.
 */
int byname_assign(const struct byname_in *in, size_t n, char ***out);
void byname_names_free(char **names, size_t n);   /* NULL is a no-op */

/* ---- the index of one listing ------------------------------------------ */

/*
 * The entry names of n objects, by the rule, and the object of each name.
 * Immutable once built; results are borrowed from the index.
 */
struct byname_index;

/* 0 with *out (the caller frees it), or -ENOMEM. in is only read. */
int byname_index_new(const struct byname_in *in, size_t n,
		     struct byname_index **out);
void byname_index_free(struct byname_index *x);   /* NULL is a no-op */
size_t byname_index_size(const struct byname_index *x);
/* The entry name of in[i]. */
const char *byname_index_name(const struct byname_index *x, size_t i);
/* The i whose entry name is name, or -1. */
long byname_index_find(const struct byname_index *x, const char *name);

/* ---- a kind's directories, one per region -------------------------------- */

/* The by-name directories of one kind: per region, the index of the
 * newest listing seen (its objects are robj values: robj_id, robj_name)
 * and that listing, held. */
struct byname;

/* 0 with *out, or -ENOMEM. */
int byname_new(uint32_t nregions, struct byname **out);
/* Releases the listings held: call it before the cache they came from is
 * freed. NULL is a no-op. */
void byname_free(struct byname *b);

/* Told for each entry name that went away or now names another object. */
typedef void (*byname_gone_fn)(void *ud, const char *name);

/*
 * Indexes listing l (borrowed; held from now on) for region r, unless
 * that listing or a newer one is indexed already. Each name of the index
 * it replaces that is not in the new one, or names another object there,
 * is told to gone (may be NULL), with the region's lock held: gone must
 * not call back into b. When out of memory, nothing changes.
 */
void byname_update(struct byname *b, uint32_t r, struct cache_listing *l,
		   byname_gone_fn gone, void *ud);

/*
 * Region r's index, of listing l (borrowed) or a newer one (indexed first
 * when older), locked for the caller: 0 with *ix and *of (the listing it
 * indexes, whose positions match the index's), valid until
 * byname_release(b, r), which the caller must call; -ENOMEM (not locked).
 */
int byname_hold(struct byname *b, uint32_t r, struct cache_listing *l,
		const struct byname_index **ix,
		const struct cache_listing **of);
void byname_release(struct byname *b, uint32_t r);

/*
 * The id of the object named `name` in region r's directory of listing l
 * (as byname_hold): 0 with id copied (at most idlen bytes with its NUL),
 * -ENOENT, or -ENOMEM.
 */
int byname_find(struct byname *b, uint32_t r, struct cache_listing *l,
		const char *name, char *id, size_t idlen);

/* Forgets region r's index; each of its names is told to gone (may be
 * NULL), as for byname_update. */
void byname_drop(struct byname *b, uint32_t r, byname_gone_fn gone,
		 void *ud);

#endif
