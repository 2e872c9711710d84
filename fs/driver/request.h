/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request: a FUSE request that may wait on the API, and what a lookup or
 * readdirplus hands out about a node.
 *
 * Thread-safety: a struct rq lives on its handler's stack and belongs to
 * that thread, but for the interrupt callback, which may run on another
 * thread between request_begin and request_end.
 */
#ifndef INTERLINKFS_REQUEST_H
#define INTERLINKFS_REQUEST_H

#include <stdatomic.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "api.h"

struct ifs;

/* What an interrupt cancels: the request's API call, its waits. */
struct rq {
	struct ifs *fs;
	fuse_req_t req;
	atomic_int intr;
	struct api_call call;
};

/* What a lookup, getattr or readdirplus says about a node. */
struct answer {
	struct stat st;
	double timeout;         /* of the attributes (and of the name) */
	double entry;           /* of the name, when longer than timeout */
};

/* The request starts: r is set up and the interrupt callback registered
 * (r must stay where it is until request_end). */
void request_begin(struct rq *r, fuse_req_t req);
/* Before replying: after this no interrupt callback can touch r. */
void request_end(struct rq *r);
/* The entry of a lookup or readdirplus for what a says (e filled). Pure. */
void request_entry(struct fuse_entry_param *e, const struct answer *a);

#endif
