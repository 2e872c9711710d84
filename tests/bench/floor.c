/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interlinkfs-floor: the least work a FUSE daemon can do to serve a tree,
 * the floor the benchmark sets interlinkfs against (tests/bench/floor.py).
 *
 *   interlinkfs-floor SOURCE PLACE MOUNTPOINT [-f] [-s] [-o OPTION[,...]]
 *
 * SOURCE is a directory of a mount of interlinkfs over interlink-sim
 * (regions/fr-par/connections): its directories, files and symbolic links
 * are read into memory once, before mounting, in the order interlinkfs
 * lists them, and appear at PLACE (the same path) below the mount point.
 * The benchmark's walks then read the same bytes in the same order from
 * both. Every request is answered from memory, with what interlinkfs asks
 * of the kernel and nothing more:
 *
 * - the same capabilities: readdirplus always (no plain readdir, no
 *   lookup per entry), zero-message open and opendir (ENOSYS), cached
 *   symbolic links, parallel directory operations, read-only;
 * - long entry and attribute timeouts (interlinkfs gives the data's
 *   remaining freshness, longer than a walk);
 * - the same page push: the readdirplus that comes back for more (offset
 *   > 0) and finds the end of a directory is answered, then that
 *   directory's files are stored in the kernel's page cache, in listing
 *   order, once (fs/dir.c and fs/keeper.c keeper_push_now make the same
 *   choice, for the same reason: before then the kernel has not made the
 *   files' inodes and refuses the store); or, when a read of one of them
 *   comes first, that read is answered and the others are stored, from
 *   the next one on (fs/ops.c op_read). Any number of handlers may
 *   store at once here, which is safe for the benchmark's one reader;
 *   interlinkfs lets one at a time store and leaves the others' files to
 *   its keeper thread, so that a store waiting for a read always leaves a
 *   handler free to answer that read (keeper.c).
 *
 * At exit it prints what reached it, one "name value" per line on
 * standard output: the benchmark compares those with interlinkfs's
 * .interlinkfs/stats.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer than any walk: the kernel never asks again during one. */
#define TIMEOUT 86400.0

struct fnode {
	char *name;
	struct stat st;         /* st_ino is the inode number */
	char *data;             /* a file's bytes, a link's target */
	fuse_ino_t *kids;       /* a directory's entries, in listing order */
	size_t nkids;
	fuse_ino_t parent;
	atomic_bool pushed;     /* its files were stored once */
};

struct floor {
	struct fnode *v;        /* inode i is v[i - 1]: the root is 1 */
	size_t n, cap;
	struct fuse_session *se;
	bool no_open, no_opendir;
	/* What reached the daemon; printed at exit. */
	atomic_ulong lookups, getattrs, readdirplus, reads, readlinks;
	atomic_ulong stored, refused;
};

/* ---- the tree, read once ------------------------------------------------ */

/* A new node (its inode number is its place), or 0 when out of memory. */
static fuse_ino_t add_node(struct floor *fl, const char *name,
			   const struct stat *st, fuse_ino_t parent)
{
	struct fnode *x;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 1024;
		struct fnode *v = realloc(fl->v, cap * sizeof *v);
		if (!v)
			return 0;
		fl->v = v;
		fl->cap = cap;
	}
	x = &fl->v[fl->n];
	memset(x, 0, sizeof *x);
	x->name = strdup(name);
	if (!x->name)
		return 0;
	x->st = *st;
	x->st.st_ino = ++fl->n;
	x->st.st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	x->parent = parent ? parent : x->st.st_ino;
	return x->st.st_ino;
}

/* A file's bytes, or a link's target, read from dir/name into x->data.
 * A link's size becomes its target's length, as lstat gives it on a
 * local filesystem. */
static int load_data(int dir, const char *name, struct fnode *x)
{
	size_t size = (size_t)x->st.st_size;
	char target[PATH_MAX];
	ssize_t got;
	int fd;

	if (S_ISLNK(x->st.st_mode)) {
		got = readlinkat(dir, name, target, sizeof target - 1);
		if (got < 0)
			return -errno;
		target[got] = '\0';
		x->st.st_size = got;
		return (x->data = strdup(target)) ? 0 : -ENOMEM;
	}
	if (!(x->data = malloc(size + 1)))
		return -ENOMEM;
	if ((fd = openat(dir, name, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = read(fd, x->data, size + 1);
	close(fd);
	/* Sizes are exact (interlinkfs promises it): any other length means
	 * the file changed while it was read. */
	return got == (ssize_t)size ? 0 : -EIO;
}

static int load_dir(struct floor *fl, int fd, fuse_ino_t ino);

/* Entry name of directory fd, as a child of directory ino. */
static int load_entry(struct floor *fl, int fd, fuse_ino_t ino,
		      const char *name, fuse_ino_t *out)
{
	struct stat st;
	int sub;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!(*out = add_node(fl, name, &st, ino)))
		return -ENOMEM;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ?
		       load_data(fd, name, &fl->v[*out - 1]) : -EINVAL;
	sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	return load_dir(fl, sub, *out);  /* closes sub */
}

/* The entries of directory fd (closed here) as the children of ino, in
 * the order the source lists them: interlinkfs's own order when the
 * source is a mount of it, so that the walks read the files in the same
 * order. */
static int load_dir(struct floor *fl, int fd, fuse_ino_t ino)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	char **names = NULL;
	fuse_ino_t *kids = NULL;
	size_t n = 0, cap = 0;
	int rc = d ? 0 : -errno;

	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap * 2 + 16) *
					   sizeof *v);
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[n] = strdup(e->d_name)))
			rc = -ENOMEM;
		else
			n++;
	}
	if (!rc && !(kids = calloc(n + 1, sizeof *kids)))
		rc = -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++)
		rc = load_entry(fl, dirfd(d), ino, names[i], &kids[i]);
	/* Set after the children: adding them may move fl->v. */
	fl->v[ino - 1].kids = kids;
	fl->v[ino - 1].nkids = rc ? 0 : n;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	else
		close(fd);
	return rc;
}

/* A directory at path place (a/b/c) below the root, holding only the
 * next one; the last is ino's. */
static int make_place(struct floor *fl, const char *place,
		      const struct stat *st, fuse_ino_t *ino)
{
	char *path = strdup(place), *save = NULL;

	if (!path)
		return -ENOMEM;
	for (char *c = strtok_r(path, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		fuse_ino_t kid = add_node(fl, c, st, *ino);
		struct fnode *d = &fl->v[*ino - 1];

		if (!kid || !(d->kids = malloc(sizeof *d->kids))) {
			free(path);
			return -ENOMEM;
		}
		d->kids[0] = kid;
		d->nkids = 1;
		*ino = kid;
	}
	free(path);
	return 0;
}

/* The tree: source's, read whole, at place below the root. */
static int load_tree(struct floor *fl, const char *source, const char *place)
{
	struct stat st;
	fuse_ino_t at;
	int rc, fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	at = add_node(fl, "", &st, 0);
	rc = at ? make_place(fl, place, &st, &at) : -ENOMEM;
	if (rc) {
		close(fd);
		return rc;
	}
	return load_dir(fl, fd, at);
}

static void free_tree(struct floor *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->v[i].name);
		free(fl->v[i].data);
		free(fl->v[i].kids);
	}
	free(fl->v);
}

/* ---- answers ------------------------------------------------------------ */

static struct fnode *node_of(struct floor *fl, fuse_ino_t ino)
{
	return ino >= 1 && ino <= fl->n ? &fl->v[ino - 1] : NULL;
}

static void entry_of(const struct fnode *x, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = x->st.st_ino;
	e->generation = 1;
	e->attr = x->st;
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct floor *fl = fuse_req_userdata(req);
	struct fnode *d = node_of(fl, parent);
	struct fuse_entry_param e;

	atomic_fetch_add(&fl->lookups, 1);
	/* Linear: a walk looks up only the path to its start (readdirplus
	 * hands the kernel every entry below). */
	for (size_t i = 0; d && i < d->nkids; i++) {
		struct fnode *x = node_of(fl, d->kids[i]);
		if (!strcmp(x->name, name)) {
			entry_of(x, &e);
			fuse_reply_entry(req, &e);
			return;
		}
	}
	fuse_reply_err(req, d ? ENOENT : ENOTDIR);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct floor *fl = fuse_req_userdata(req);
	struct fnode *x = node_of(fl, ino);

	(void)fi;
	atomic_fetch_add(&fl->getattrs, 1);
	if (x)
		fuse_reply_attr(req, &x->st, TIMEOUT);
	else
		fuse_reply_err(req, ENOENT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct floor *fl = fuse_req_userdata(req);
	struct fnode *x = node_of(fl, ino);

	atomic_fetch_add(&fl->readlinks, 1);
	if (x && S_ISLNK(x->st.st_mode))
		fuse_reply_readlink(req, x->data);
	else
		fuse_reply_err(req, EINVAL);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct floor *fl = fuse_req_userdata(req);

	(void)ino;
	if (fl->no_open) {
		/* Zero-message opens: the kernel stops asking. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct floor *fl = fuse_req_userdata(req);

	(void)ino;
	if (fl->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* Directory d's files, stored in the kernel's page cache once, in listing
 * order from the one after `read` (a file of d a reader has just read, 0
 * for none), which is the order the reader goes on in. Called after a
 * reply, never before: the reader reads these next, and a store before
 * the reply would be on its path. */
static void push_files(struct floor *fl, struct fnode *d, fuse_ino_t read)
{
	size_t first = 0;

	if (atomic_exchange(&d->pushed, true))
		return;
	for (size_t i = 0; i < d->nkids; i++)
		if (d->kids[i] == read)
			first = i + 1;
	for (size_t k = 0; k < d->nkids; k++) {
		struct fnode *x = node_of(fl, d->kids[(first + k) % d->nkids]);
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT((size_t)x->st.st_size);

		if (!S_ISREG(x->st.st_mode) || x->st.st_size == 0 ||
		    x->st.st_ino == read)
			continue;
		bv.buf[0].mem = x->data;
		if (fuse_lowlevel_notify_store(fl->se, x->st.st_ino, 0, &bv,
					       0) == 0)
			atomic_fetch_add(&fl->stored, 1);
		else
			atomic_fetch_add(&fl->refused, 1);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct floor *fl = fuse_req_userdata(req);
	struct fnode *x = node_of(fl, ino);
	size_t len;

	(void)fi;
	atomic_fetch_add(&fl->reads, 1);
	if (!x || !S_ISREG(x->st.st_mode)) {
		fuse_reply_err(req, x ? EISDIR : ENOENT);
		return;
	}
	len = (size_t)x->st.st_size;
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, x->data + off,
			       len - (size_t)off < size ? len - (size_t)off :
			       size);
	/* A read that came before its directory's push: the others next. */
	push_files(fl, node_of(fl, x->parent), ino);
}

/* "." and "..", then the children; entry k resumes at offset k + 1. */
static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	struct floor *fl = fuse_req_userdata(req);
	struct fnode *d = node_of(fl, ino);
	char *buf = malloc(size ? size : 1);
	size_t len = 0, i = off > 0 ? (size_t)off : 0;
	bool full = false;

	(void)fi;
	atomic_fetch_add(&fl->readdirplus, 1);
	if (!d || !S_ISDIR(d->st.st_mode) || !buf) {
		fuse_reply_err(req, !buf ? ENOMEM : d ? ENOTDIR : ENOENT);
		free(buf);
		return;
	}
	for (; i < d->nkids + 2; i++) {
		struct fnode *x = i == 0 ? d : i == 1 ? node_of(fl, d->parent) :
				  node_of(fl, d->kids[i - 2]);
		const char *name = i == 0 ? "." : i == 1 ? ".." : x->name;
		struct fuse_entry_param e;
		size_t need;

		entry_of(x, &e);
		need = fuse_add_direntry_plus(req, buf + len, size - len, name,
					      &e, (off_t)i + 1);
		if (need > size - len) {
			full = true;
			break;
		}
		len += need;
	}
	fuse_reply_buf(req, buf, len);
	free(buf);
	if (off > 0 && !full)
		push_files(fl, d, 0);
}

/* ---- the session -------------------------------------------------------- */

/* Capabilities, through the interface of the libfuse at hand (fs/ops.c
 * says why there are two). */
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 17)
static bool cap_has(const struct fuse_conn_info *c, uint64_t f)
{
	return (c->capable_ext & f) != 0;
}

static void cap_set(struct fuse_conn_info *c, uint64_t f, bool on)
{
	if (on)
		fuse_set_feature_flag(c, f);
	else
		fuse_unset_feature_flag(c, f);
}
#else
static bool cap_has(const struct fuse_conn_info *c, uint64_t f)
{
	return (c->capable & f) != 0;
}

static void cap_set(struct fuse_conn_info *c, uint64_t f, bool on)
{
	if (on && cap_has(c, f))
		c->want |= (uint32_t)f;
	else if (!on)
		c->want &= ~(uint32_t)f;
}
#endif

/* What interlinkfs's init asks of the kernel, the same. */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct floor *fl = userdata;

	fl->no_open = cap_has(conn, FUSE_CAP_NO_OPEN_SUPPORT);
	fl->no_opendir = cap_has(conn, FUSE_CAP_NO_OPENDIR_SUPPORT);
	cap_set(conn, FUSE_CAP_AUTO_INVAL_DATA, true);
	cap_set(conn, FUSE_CAP_READDIRPLUS, true);
	cap_set(conn, FUSE_CAP_READDIRPLUS_AUTO, false);
	cap_set(conn, FUSE_CAP_CACHE_SYMLINKS, true);
	cap_set(conn, FUSE_CAP_PARALLEL_DIROPS, true);
	cap_set(conn, FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_EXPORT_SUPPORT,
		false);
}

/* No readdir: readdirplus always. No forget: inodes live as long as the
 * process (libfuse answers forgets itself). */
static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.opendir = op_opendir,
	.readdirplus = op_readdirplus,
};

static int serve(struct floor *fl, struct fuse_args *args,
		 const struct fuse_cmdline_opts *o)
{
	struct fuse_loop_config *lc;
	int rc = 1;

	fl->se = fuse_session_new(args, &ops, sizeof ops, fl);
	if (!fl->se)
		return 1;
	if (fuse_set_signal_handlers(fl->se) || fuse_session_mount(fl->se,
								   o->mountpoint))
		goto out;
	fuse_daemonize(o->foreground);
	if (o->singlethread) {
		rc = fuse_session_loop(fl->se);
	} else {
		/* libfuse's thread defaults, as interlinkfs runs with. */
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, o->clone_fd);
		rc = fuse_session_loop_mt(fl->se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	fuse_session_unmount(fl->se);
out:
	fuse_remove_signal_handlers(fl->se);
	fuse_session_destroy(fl->se);
	return rc == 0 || rc == SIGTERM || rc == SIGINT ? 0 : 1;
}

static void print_counts(struct floor *fl)
{
	printf("lookups %lu\ngetattrs %lu\nreaddirplus %lu\nreads %lu\n"
	       "readlinks %lu\npages_pushed %lu\npushes_refused %lu\n",
	       atomic_load(&fl->lookups), atomic_load(&fl->getattrs),
	       atomic_load(&fl->readdirplus), atomic_load(&fl->reads),
	       atomic_load(&fl->readlinks), atomic_load(&fl->stored),
	       atomic_load(&fl->refused));
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts o = {0};
	struct floor fl = {0};
	int rc, ret = 1;

	if (argc < 4 || argv[1][0] == '-' || argv[2][0] == '-') {
		fprintf(stderr, "usage: %s SOURCE PLACE MOUNTPOINT [-f] [-s] "
			"[-o OPTION[,...]]\n", argv[0]);
		return 2;
	}
	/* The tree is read whole before the mount: no request waits for it
	 * (and the source may go once it is read). */
	if ((rc = load_tree(&fl, argv[1], argv[2]))) {
		fprintf(stderr, "interlinkfs-floor: %s: %s\n", argv[1],
			strerror(-rc));
		goto out;
	}
	fuse_opt_add_arg(&args, argv[0]);
	for (int i = 3; i < argc; i++)
		fuse_opt_add_arg(&args, argv[i]);
	fuse_opt_add_arg(&args,
		"-ofsname=interlinkfs-floor,subtype=interlinkfs-floor,ro");
	if (fuse_parse_cmdline(&args, &o) || !o.mountpoint) {
		fprintf(stderr, "interlinkfs-floor: no mount point given\n");
		goto out;
	}
	ret = serve(&fl, &args, &o);
	print_counts(&fl);
out:
	free(o.mountpoint);
	fuse_opt_free_args(&args);
	free_tree(&fl);
	return ret;
}
