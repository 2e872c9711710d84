/* SPDX-License-Identifier: Apache-2.0 */
/*
 * objtab: the object table. Every object the kernel has been told about
 * (a connection, a PoP ... of a region) gets a number the first time it
 * is seen and keeps it for the life of the mount; its inode numbers are
 * computed from it (node.h). A number carries its object's kind in its
 * low 3 bits.
 *
 * The table also remembers, per object, what the kernel holds of it: the
 * size of each file, and the generation whose files were pushed to its
 * page cache.
 *
 * Thread-safety: every function is thread-safe (one mutex) except
 * objtab_new() and objtab_free().
 */
#ifndef INTERLINKFS_OBJTAB_H
#define INTERLINKFS_OBJTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kinds.h"

struct objtab;

/* 0 or -ENOMEM. */
int objtab_new(struct objtab **out);
void objtab_free(struct objtab *t);   /* NULL is a no-op */

/* The kind an object number carries. Pure. */
enum kind_id objtab_kind_of(uint64_t obj);

/*
 * The number of (kind, region, id), created if new (never 0, never
 * reused). id must be a valid id (a UUID). 0 on failure.
 */
uint64_t objtab_intern(struct objtab *t, enum kind_id kind, uint32_t region,
		       const char *id);

/* The number of (kind, region, id) if it has one, else 0. */
uint64_t objtab_find(struct objtab *t, enum kind_id kind, uint32_t region,
		     const char *id);

/* The object with that number: 0 with its region and id copied out (id:
 * at least FIELD_ID_MAX + 1 bytes), or -ENOENT. */
int objtab_get(struct objtab *t, uint64_t obj, uint32_t *region, char *id);

/* How many objects of kind k exist, and the number of the i-th
 * (0 .. count - 1). Pure. */
uint64_t objtab_count(struct objtab *t, enum kind_id k);
uint64_t objtab_nth(enum kind_id k, uint64_t i);

/* Record that the files of object obj, generation gen, were handed to the
 * kernel's page cache: true if this is new (not done for gen yet). */
bool objtab_claim(struct objtab *t, uint64_t obj, uint64_t gen);
/* Undo a claim of generation gen (the kernel did not take the files). */
void objtab_unclaim(struct objtab *t, uint64_t obj, uint64_t gen);

/*
 * Which generation of an object the kernel's page cache holds bytes of. A
 * read reply fills a page whole (the rest zeroed), but a store writes
 * into a page that is there already: storing a shorter value over an older
 * one left the older one's tail after it. objtab_seen records that a read
 * gave the kernel bytes of generation gen (when it had been given none
 * before). objtab_give records that the kernel is about to be given
 * (stored) bytes of generation gen, and returns true if it may hold bytes
 * of another one: the object's files must be invalidated first.
 */
void objtab_seen(struct objtab *t, uint64_t obj, uint64_t gen);
bool objtab_give(struct objtab *t, uint64_t obj, uint64_t gen);

/*
 * The size the kernel holds for each file of an object (file: the file's
 * index in its kind). The kernel keeps a file's size between reads and
 * cuts what a read returns at it, so bytes of a newer, longer value read
 * against an older size come out cut short; and a read returning fewer
 * bytes than that size makes the kernel shrink it. Sizes reach the kernel
 * in attributes (told), and grow when bytes are pushed to its page cache
 * (stored). objtab_size_read records that a read returned a file of `size`
 * bytes (to_end: up to its end, so the kernel takes a shorter file's
 * size), and says whether the kernel's size is smaller: then it must be
 * told to ask again. Unknown sizes (never told) are never smaller.
 */
void objtab_size_told(struct objtab *t, uint64_t obj, unsigned file,
		      size_t size);
void objtab_size_stored(struct objtab *t, uint64_t obj, unsigned file,
			size_t size);
bool objtab_size_read(struct objtab *t, uint64_t obj, unsigned file,
		      size_t size, bool to_end);

#endif
