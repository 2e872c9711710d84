/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render: the bytes of one file, or the id a symbolic link points to, from
 * the API's object and the kind's table entry.
 *
 * Formats (the man page's "File formats"):
 *  - a string or number: the value, then "\n"; booleans: true or false;
 *  - null or missing: empty (0 bytes);
 *  - an array: one element per line;
 *  - a range {"start", "end"}: "START-END\n";
 *  - which of some members is there (a link's kind): its label, then
 *    "\n"; empty when none, or more than one, is;
 *  - *.json: the object as the API sent it (unknown fields, and numbers
 *    past 64 bits, included), pretty-printed, then "\n".
 * A field of the wrong type renders as -EIO, and so does a field inside
 * a member that should be an object and is not (scw_bgp_config: "x"
 * makes scw_bgp_asn, _ipv4 and _ipv6 -EIO); the .json file still shows
 * exactly what the API sent.
 *
 * Pure functions of their arguments: no I/O, no logging; thread-safe on
 * objects nobody mutates (json_t arguments are borrowed).
 */
#ifndef INTERLINKFS_RENDER_H
#define INTERLINKFS_RENDER_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "kinds.h"

/* Bytes being written: p[0 .. len) of cap (malloc'ed, grown as needed;
 * start from all zeros, free p when done). */
struct render_buf {
	char *p;
	size_t len, cap;
};

/* Appends n bytes. 0 or -ENOMEM (then nothing was appended). */
int render_put(struct render_buf *b, const char *s, size_t n);

/* What a read() at off of at most size bytes gets from the finished
 * bytes p[0 .. len): a copy in *out (malloc'ed, the caller frees it;
 * never NULL on success), its length in *out_len (0 at or past the end,
 * or at a negative off). 0 or -ENOMEM. */
int render_slice(const char *p, size_t len, off_t off, size_t size,
		 char **out, size_t *out_len);

/*
 * Appends the bytes of file f of obj to b: 0, -EIO (a field of the wrong
 * type) or -ENOMEM; on an error nothing was appended.
 */
int render_file_to(const json_t *obj, const struct file_def *f,
		   struct render_buf *b);

/*
 * Appends what is wrong with obj as an object of kind k, in words, to b:
 * each member of the wrong type once ("vlan is not an unsigned integer;
 * scw_bgp_config is not an object": every file that comes from them is
 * -EIO), and a choice of members that is not exactly one ("has both self
 * and partner: its kind is unknown"), separated by "; ". Nothing when all
 * is well. 0 or -ENOMEM.
 */
int render_problems(const struct kind *k, const json_t *obj,
		    struct render_buf *b);

/* The same into a buffer of its own: 0 with *buf (malloc'ed, the caller
 * frees; NULL when empty) and *len, or -EIO / -ENOMEM. */
int render_file(const json_t *obj, const struct file_def *f, char **buf,
		size_t *len);

/* The id link l of obj points to: 0 with *id (borrowed from obj), or
 * -ENOENT when the field is missing, null, or not a valid id. */
int render_link(const json_t *obj, const struct link_def *l,
		const char **id);

/* The member at path ("a.b": member b of object member a): borrowed, NULL
 * when missing, or when an object on the way is not one. */
const json_t *render_field(const json_t *obj, const char *path);

#endif
