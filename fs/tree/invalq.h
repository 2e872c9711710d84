/* SPDX-License-Identifier: Apache-2.0 */
/*
 * invalq: what the kernel is to be told, in order, queued by whoever
 * learns it (request handlers, the cache's change callback) and taken by
 * the keeper thread, which sends it: forget an entry (a name in a
 * directory), forget an inode's attributes and pages, or take the bytes of
 * a file ahead of reads (a store).
 *
 * An object's inodes are all computed from its number (node.h), so
 * forgetting "everything below an object" is a list of inodes made here.
 *
 * When out of memory a notification is dropped: the kernel's timeouts
 * still bound how stale its caches get.
 *
 * Thread-safety: every function but invalq_new() and invalq_free() may be
 * called from any thread (one mutex, never held while the caller sends).
 */
#ifndef INTERLINKFS_INVALQ_H
#define INTERLINKFS_INVALQ_H

#include <stddef.h>
#include <stdint.h>

#include "kinds.h"
#include "robj.h"

/* One notification. */
struct inval {
	uint64_t parent;        /* entry: the directory's inode */
	char *name;             /* entry: the name (malloc'ed); else NULL */
	uint64_t ino;           /* inode, store: the inode */
	struct robj *o;         /* store: the object (a reference); else
				 * NULL */
	unsigned file;          /* store: which of its files */
	uint64_t obj;           /* store: the object's number */
	uint64_t gen;           /* store: the generation of those bytes */
	uint32_t region;        /* store */
};

struct invalq;

/* 0 with *out, or -ENOMEM. */
int invalq_new(struct invalq **out);
/* Frees what is still queued. NULL is a no-op. */
void invalq_free(struct invalq *q);

/* The kernel forgets `name` in directory parent (name copied). */
void invalq_entry(struct invalq *q, uint64_t parent, const char *name);
/* The kernel forgets inode ino's attributes and pages. */
void invalq_inode(struct invalq *q, uint64_t ino);
/* Every inode below object obj of kind k: its directory, files, links,
 * subdirectories, by-name entry, and its entries in the subdirectories of
 * other kinds. */
void invalq_object(struct invalq *q, const struct kind *k, uint64_t obj);
/* The bytes of file `file` of o (a reference is taken), generation gen of
 * object obj of region, to be stored in the kernel's page cache. */
void invalq_store(struct invalq *q, struct robj *o, unsigned file,
		  uint64_t obj, uint32_t region, uint64_t gen);

/* Everything queued, in order, taken out: *out (malloc'ed) of *n; the
 * caller sends them, then gives them back to invalq_done. */
void invalq_take(struct invalq *q, struct inval **out, size_t *n);
/* Frees what invalq_take gave (NULL is a no-op). */
void invalq_done(struct inval *v, size_t n);

#endif
