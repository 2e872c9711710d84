/* SPDX-License-Identifier: Apache-2.0 */
/*
 * problems: what is wrong with the objects the API sends, said in the log
 * once per change of the object: when an object with a problem is first
 * seen, and again only when it comes back different. A listing refreshed
 * every ttl brings the same objects again and again; their problems were
 * said the first time.
 *
 * Thread-safety: problems_note() may be called from any thread at the
 * same time (one mutex, never held while logging); problems_new() and
 * problems_free() are not.
 */
#ifndef INTERLINKFS_PROBLEMS_H
#define INTERLINKFS_PROBLEMS_H

#include "robj.h"

struct problems;

/* 0 or -ENOMEM. */
int problems_new(struct problems **out);
void problems_free(struct problems *p);   /* NULL is a no-op */

/*
 * Logs (warning) what is wrong with o (borrowed), of region, unless the
 * same object, byte for byte, was said before. Nothing when nothing is
 * wrong with it.
 */
void problems_note(struct problems *p, const char *region,
		   const struct robj *o);

#endif
