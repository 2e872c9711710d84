/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attr: the attributes of every node (but .interlinkfs's files, metadir.h,
 * and the tables, tabledir.h), read off rendered objects and listings.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef INTERLINKFS_ATTR_H
#define INTERLINKFS_ATTR_H

#include <sys/stat.h>
#include <time.h>

#include "access.h"
#include "node.h"
#include "request.h"

struct ifs;
struct kstate;

/* The attributes of node n (id: its object's, or ""). 0 or -errno. */
int attr_of_node(struct ifs *fs, struct rq *rq, const struct node *n,
		 const char *id, struct answer *a);
/* The attributes of a node below object g (n's object). 0, -EIO (a field
 * of the wrong type) or -ENOENT (a link that is not there). Records the
 * size told to the kernel. */
int attr_of_object(struct ifs *fs, const struct node *n, const struct got *g,
		   struct answer *a);
/* A directory entry with only its inode and type (the kernel asks for the
 * rest when it needs it). Pure. */
void attr_bare(struct answer *a, uint64_t ino, mode_t mode);
/* st filled in: mode, links, size and time as given; owner, blocks. */
void attr_base(struct ifs *fs, struct stat *st, uint64_t ino, mode_t mode,
	       nlink_t nlink, off_t size, struct timespec mtime);
/* How long the kernel may keep what came from a value of ks that is
 * fresh until expires (cache clock): at most ttl, 0 when stale. */
double attr_timeout(struct ifs *fs, const struct kstate *ks, double expires,
		    bool stale);
/* The time of something that changed at t (cache clock), or the mount's
 * time when it never changed since it was first loaded (t == 0): a
 * directory's time does not move when it is first listed. */
struct timespec attr_changed_time(struct ifs *fs, double t);

#endif
