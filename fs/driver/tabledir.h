/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tabledir: the files of tables/, rendered from their listings (tables.h)
 * and kept while those listings do not move.
 *
 * Thread-safety: tabledir_new() and tabledir_free() are called by fs.c
 * alone; the others from any thread (one lock per table, never held while
 * a listing loads).
 */
#ifndef INTERLINKFS_TABLEDIR_H
#define INTERLINKFS_TABLEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kinds.h"
#include "node.h"
#include "request.h"

struct ifs;
struct tabledir;

/* 0 with *out, or -ENOMEM. */
int tabledir_new(uint32_t nregions, struct tabledir **out);
/* NULL is a no-op. */
void tabledir_free(struct tabledir *d);
/* The attributes of table n (tables/KIND.FMT): its listings in every
 * region (which may ask the API; rq may be NULL), rendered unless they
 * are those of the last rendering, which reads then get. 0 or the -errno
 * of a listing that failed. */
int tabledir_attr(struct ifs *fs, struct rq *rq, const struct node *n,
		  struct answer *a);
/* Whether the last rendering of kind k's table in format fmt shows
 * another listing of region r than the one numbered seq: then the kernel
 * may hold bytes that are no longer the table's. False when it was never
 * rendered (the kernel holds nothing of it). Called with no table's lock
 * held. */
bool tabledir_behind(struct tabledir *d, enum kind_id k, unsigned fmt,
		     uint32_t r, uint64_t seq);
/* Bytes [off, off + size) of table n's last rendering (rendered now when
 * there is none): 0 with *buf (malloc'ed, the caller frees) and *len, or
 * -errno. */
int tabledir_read(struct ifs *fs, struct rq *rq, const struct node *n,
		  off_t off, size_t size, char **buf, size_t *len);

#endif
