/* SPDX-License-Identifier: Apache-2.0 */
/*
 * robj: an object of the API in its final form: the bytes and exact sizes
 * of every file of its directory, the targets of its symbolic links, its
 * name for by-name, and its time. Made once, when a listing page or a get
 * arrives; after that nothing parses JSON or renders a file again.
 *
 * Compact: the bytes live in one buffer, the object's pretty-printed JSON
 * (the *.json file) first, and each other file is a slice of that buffer
 * when its bytes are there already (most values are), else bytes of its
 * own after it. A file is at most two pieces: a slice, then a newline.
 *
 * Immutable and refcounted: every function is thread-safe; robj_release()
 * frees on the last reference.
 */
#ifndef INTERLINKFS_ROBJ_H
#define INTERLINKFS_ROBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "kinds.h"

struct robj;

/*
 * The object obj (borrowed) of kind k, rendered. A new reference, or NULL
 * when out of memory or when obj has no valid id.
 */
struct robj *robj_new(const struct kind *k, const json_t *obj);

void robj_hold(struct robj *o);
void robj_release(struct robj *o);   /* NULL is a no-op */

const struct kind *robj_kind(const struct robj *o);
const char *robj_id(const struct robj *o);            /* borrowed */
/* Same kind and same JSON, byte for byte. */
bool robj_equal(const struct robj *a, const struct robj *b);
/* Bytes it takes in memory. */
size_t robj_size(const struct robj *o);

/* File i (0 .. nfiles - 1): its bytes are p[0 .. len) and then a newline
 * when nl (p borrowed from o). */
struct robj_bytes {
	const char *p;
	size_t len;
	bool nl;
};

/* 0 with *b, or -EIO when the field has the wrong type (the file is
 * listed, but neither stat nor read can give an honest answer). */
int robj_file(const struct robj *o, unsigned i, struct robj_bytes *b);
/* Its size, or -EIO. */
long robj_file_size(const struct robj *o, unsigned i);
/* Copies up to size bytes of file i from off into buf: how many. */
size_t robj_read(const struct robj *o, unsigned i, size_t off, char *buf,
		 size_t size);

/* The id link j points to: 0 with *id and *len (borrowed), or -ENOENT when
 * the object has no such link (the field is null, missing or no id). */
int robj_link(const struct robj *o, unsigned j, const char **id,
	      size_t *len);

/* The name, for by-name: 0 with *name and *len (borrowed; may hold any
 * byte), or -ENOENT when the object has none of the right type. */
int robj_name(const struct robj *o, const char **name, size_t *len);

/* What is wrong with the object, in words (render_problems), or NULL
 * when nothing is. Borrowed from o. */
const char *robj_problems(const struct robj *o);

/* A 64-bit digest of the object's bytes: equal objects have equal
 * digests, and different ones almost never do. */
uint64_t robj_digest(const struct robj *o);

/* updated_at, else created_at: true with *t; false when it has neither
 * (then the caller picks a time). */
bool robj_mtime(const struct robj *o, struct timespec *t);

/* For the cache: the value operations on robj. */
void robj_hold_v(void *v);
void robj_release_v(void *v);
bool robj_equal_v(const void *a, const void *b);
size_t robj_size_v(const void *v);
const char *robj_id_v(const void *v);

#endif
