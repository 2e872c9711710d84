/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metadir: the files of .interlinkfs/ and .interlinkfs/prometheus/.
 *
 * Thread-safety: metadir_new() and metadir_free() are called by fs.c
 * alone; the others from any thread.
 */
#ifndef INTERLINKFS_METADIR_H
#define INTERLINKFS_METADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "node.h"
#include "request.h"

struct ifs;
struct metadir;

/* 0 with *out, or -ENOMEM. */
int metadir_new(struct metadir **out);
/* NULL is a no-op. */
void metadir_free(struct metadir *m);
/* The attributes of a file of .interlinkfs or .interlinkfs/prometheus,
 * for a lookup (walked: a path was walked to it) or a getattr (open:
 * through an open file, as the kernel asks before each read()): the
 * counters' and health's files rendered now on a lookup; on a getattr,
 * and for the Prometheus files always, only when their last rendering is
 * over half a second old and no read of it is under way. The rendering is
 * kept for the reads that follow (size and content agree). The journal
 * as it is. A read() of the journal, a Prometheus file or health, or a
 * poll of it through an open file, marks the mount as watched
 * (keeper_watch); stat and ls do not. 0 or -errno. */
int metadir_attr(struct ifs *fs, const struct node *n, bool walked,
		 bool open, struct answer *a);
/* Bytes [off, off + size) of such a file, as its last attributes said
 * (rendered now when never rendered): 0 with *buf (malloc'ed, the caller
 * frees) and *len, or -errno. */
int metadir_read(struct ifs *fs, const struct node *n, off_t off,
		 size_t size, char **buf, size_t *len);

#endif
