/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ops: the libfuse low-level operations (readdir is in dir.c).
 *
 * Speed comes from letting the kernel answer: open and opendir are
 * answered with ENOSYS (zero-message opens, so the page cache and the
 * readdir cache are kept), lookups and attributes carry timeouts equal to
 * the data's remaining freshness, and readdirplus hands out full
 * attributes. Freshness comes from honest attributes: true sizes, st_mtime
 * from the API's updated_at (moved forward when the content changed
 * without it), FUSE_CAP_AUTO_INVAL_DATA, and explicit invalidations sent by
 * the keeper thread. Notifications that wait on the kernel's page locks
 * (stores, and invalidations of data) are sent by the keeper, not by the
 * handler of the request that caused them, so they cannot deadlock with
 * it; the one exception, the stores a readdirplus or a read makes after
 * its reply, is in keeper.c. A read sends one kind of notification itself, which
 * takes no page lock (see resync_size).
 *
 * A read-only filesystem: only what reads is registered.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include "access.h"
#include "attr.h"
#include "dir.h"
#include "fs_i.h"
#include "keeper.h"
#include "log.h"
#include "lookup.h"
#include "metadir.h"
#include "request.h"
#include "tabledir.h"

/* The mount's own files, whose reads and looks are not counted (reading
 * the stats must not change them between the size and the bytes). */
static bool own(const struct node *n)
{
	return n->type == NT_META || n->type == NT_META_FILE ||
	       n->type == NT_PROM || n->type == NT_PROM_FILE;
}

/* What a lookup or getattr says about node n: .interlinkfs's files are
 * rendered by metadir, the tables by tabledir, every other node described
 * by attr. */
static int describe(struct ifs *fs, struct rq *rq, const struct node *n,
		    const char *id, bool walked, bool open, struct answer *a)
{
	switch (n->type) {
	case NT_META_FILE:
	case NT_PROM_FILE:
		return metadir_attr(fs, n, walked, open, a);
	case NT_TABLE:
		return tabledir_attr(fs, rq, n, a);
	default:
		return attr_of_node(fs, rq, n, id, a);
	}
}

/* ---- lookup, getattr, readlink -------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rq rq;
	struct node p, n;
	struct answer a = {0};
	struct fuse_entry_param e;
	char pid[FIELD_ID_MAX + 1], id[FIELD_ID_MAX + 1];
	int rc;

	request_begin(&rq, req);
	rc = access_node(rq.fs, parent, &p, pid);
	if (!rc && !own(&p))
		atomic_fetch_add(&rq.fs->n.kernel_lookups, 1);
	if (!rc)
		rc = lookup_child(rq.fs, &rq, &p, pid, name, &n, id);
	if (!rc)
		rc = describe(rq.fs, &rq, &n, id, true, false, &a);
	request_end(&rq);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	request_entry(&e, &a);
	fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	/* Inode numbers are computed, nothing to free. */
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct rq rq;
	struct node n;
	struct answer a = {0};
	char id[FIELD_ID_MAX + 1];
	int rc;

	request_begin(&rq, req);
	rc = access_node(rq.fs, ino, &n, id);
	if (!rc && !own(&n))
		atomic_fetch_add(&rq.fs->n.kernel_getattrs, 1);
	/* fi: through an open file, as before each read() (see metadir). */
	if (!rc)
		rc = describe(rq.fs, &rq, &n, id, false, fi != NULL, &a);
	request_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &a.st, a.timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rq rq;
	struct node n;
	char id[FIELD_ID_MAX + 1], target[256];
	int rc;

	request_begin(&rq, req);
	rc = access_node(rq.fs, ino, &n, id);
	if (!rc)
		rc = lookup_link_target(rq.fs, &rq, &n, id, target,
					sizeof target);
	request_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

/* ---- open / read ------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ifs *fs = fuse_req_userdata(req);

	/* A read-only mount: the kernel refuses an open for writing itself
	 * (EROFS), it never comes here. */
	(void)ino;
	if (fs->no_open) {
		/* Zero-message opens: the kernel stops asking and keeps its
		 * page cache between opens. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct ifs *fs = fuse_req_userdata(req);

	(void)ino;
	if (fs->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/*
 * The kernel cuts what we return at the size it holds for the file. If
 * that is smaller than these bytes (the value grew, and the keeper has not
 * told the kernel yet, or this read raced with the change), make it ask
 * again: this read may still come out short, but the next one asks for
 * the size first and returns the rest, instead of an early end of file.
 * Never when the value shrank: the kernel then shrinks its size to what it
 * got, unless attributes were invalidated during the read. Attributes
 * only (offset -1): no page lock is taken, so this is safe from inside a
 * read.
 */
static void resync_size(struct ifs *fs, fuse_ino_t ino, const struct node *n,
			size_t len, size_t size, off_t off)
{
	if (objtab_size_read(fs->objs, n->obj, n->slot, len,
			     off >= 0 && (size_t)off + size >= len)) {
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
		atomic_fetch_add(&fs->n.size_resyncs, 1);
	}
}

/* Replies with bytes [off, off + size) of b. */
static void reply_bytes(fuse_req_t req, const struct robj_bytes *b,
			size_t size, off_t off)
{
	struct iovec iov[2];
	size_t total = b->len + b->nl, at = (size_t)off;
	int n = 0;

	if (off < 0 || at >= total) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (at < b->len) {
		size_t take = b->len - at < size ? b->len - at : size;
		iov[n++] = (struct iovec){(void *)(b->p + at), take};
		size -= take;
	}
	if (b->nl && size > 0)
		iov[n++] = (struct iovec){(void *)"\n", 1};
	fuse_reply_iov(req, iov, n);
}

/* A read of a file made here, not of an object: .interlinkfs's, or a
 * table. */
static void read_made(fuse_req_t req, struct rq *rq, const struct node *n,
		      size_t size, off_t off)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = n->type == NT_TABLE ?
		 tabledir_read(rq->fs, rq, n, off, size, &buf, &len) :
		 metadir_read(rq->fs, n, off, size, &buf, &len);

	request_end(rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct rq rq;
	struct node n;
	struct got g = {0};
	struct robj_bytes b;
	char id[FIELD_ID_MAX + 1];
	int rc;

	(void)fi;
	request_begin(&rq, req);
	rc = access_node(rq.fs, ino, &n, id);
	if (!rc && !own(&n))
		atomic_fetch_add(&rq.fs->n.kernel_reads, 1);
	if (!rc && (own(&n) || n.type == NT_TABLE)) {
		read_made(req, &rq, &n, size, off);
		return;
	}
	if (!rc && n.type != NT_FILE)
		rc = node_is_dir(&n) ? -EISDIR : -EINVAL;
	if (!rc)
		rc = access_object(rq.fs, &rq, &n, id, &g);
	if (!rc)
		rc = robj_file(g.o, n.slot, &b);
	if (!rc) {
		objtab_seen(rq.fs->objs, n.obj, g.gen);
		resync_size(rq.fs, ino, &n, b.len + b.nl, size, off);
	}
	request_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		reply_bytes(req, &b, size, off);
	/* The other files of the object are read next: handed to the page
	 * cache now, after the reply, as at the end of its directory (a read
	 * that comes first would otherwise leave them to the keeper, later
	 * than the reader's next reads). */
	if (!rc)
		keeper_push_now(rq.fs, n.obj, n.region, &g, (int)n.slot);
	access_release(&g);
}

/* ---- readdir ------------------------------------------------------------------ */

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	dir_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	dir_readdir(req, ino, size, off, true);
}

/* ---- the rest ------------------------------------------------------------------- */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	/* Never a network call. */
	(void)ino;
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 255;
	sv.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	/* The kernel remembers ENOSYS and stops asking. */
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENOSYS);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	/* As getxattr: the kernel remembers ENOSYS, and answers every later
	 * call itself, for every file. */
	(void)ino;
	(void)size;
	fuse_reply_err(req, ENOSYS);
}

/*
 * Capabilities, through the interface of the libfuse at hand: from 3.17 the
 * 64-bit capable_ext/want_ext with fuse_set_feature_flag() (the 32-bit
 * want is kept only for binary compatibility there, and mixing the two is
 * refused), before it the 32-bit fields.
 */
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 17)
static bool cap_has(const struct fuse_conn_info *c, uint64_t f)
{
	return (c->capable_ext & f) != 0;
}

static void cap_want(struct fuse_conn_info *c, uint64_t f)
{
	fuse_set_feature_flag(c, f);
}

static void cap_unwant(struct fuse_conn_info *c, uint64_t f)
{
	fuse_unset_feature_flag(c, f);
}
#else
static bool cap_has(const struct fuse_conn_info *c, uint64_t f)
{
	return (c->capable & f) != 0;
}

static void cap_want(struct fuse_conn_info *c, uint64_t f)
{
	if (cap_has(c, f))
		c->want |= (uint32_t)f;
}

static void cap_unwant(struct fuse_conn_info *c, uint64_t f)
{
	c->want &= ~(uint32_t)f;
}
#endif

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ifs *fs = userdata;

	fs->no_open = cap_has(conn, FUSE_CAP_NO_OPEN_SUPPORT);
	fs->no_opendir = cap_has(conn, FUSE_CAP_NO_OPENDIR_SUPPORT);
	cap_want(conn, FUSE_CAP_AUTO_INVAL_DATA);
	if (cap_has(conn, FUSE_CAP_READDIRPLUS)) {
		cap_want(conn, FUSE_CAP_READDIRPLUS);
		/* Always plus: a walk needs the attributes anyway. */
		cap_unwant(conn, FUSE_CAP_READDIRPLUS_AUTO);
	}
	cap_want(conn, FUSE_CAP_CACHE_SYMLINKS);
	cap_want(conn, FUSE_CAP_PARALLEL_DIROPS);
	cap_unwant(conn, FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_EXPORT_SUPPORT);
	log_debug("kernel: zero-message open %s, opendir %s",
		  fs->no_open ? "yes" : "no", fs->no_opendir ? "yes" : "no");
}

/* A read-only filesystem: no operation that writes is registered. The
 * kernel refuses them on the mount (ro) with EROFS before they could come
 * here; a NULL operation would be ENOSYS. */
static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_release,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

const struct fuse_lowlevel_ops *ops_table(void)
{
	return &ops;
}
