/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_i.h: what the parts of the FUSE driver share. Each file has one job:
 *
 *   fs.c       the mount's state, the cache of each kind and what a change
 *              means for the kernel; objects and nodes as requests see them
 *   request.c  a FUSE request that may wait on the API: interrupts, the
 *              entry a lookup or readdirplus hands out
 *   attr.c     attributes of any node
 *   lookup.c   what a name is in a directory, and where a link points
 *   dir.c      readdir and readdirplus
 *   metadir.c  .interlinkfs/: its files, rendered once per look
 *   keeper.c   the keeper thread: invalidations, pushes, refresh-ahead
 *   ops.c      the FUSE operations, each a few calls to the above
 *
 * byname.h, backref.h, objtab.h, robj.h, problems.h and node.h are
 * modules of their own, used by these.
 *
 * Nothing here branches on a kind: the kinds' table (kinds.h) says what
 * each one has.
 *
 * Thread-safety: unless a function says otherwise, it may be called from
 * any of libfuse's threads (and the cache's, for the change callback) at
 * the same time. Objects handed out (struct got) are references the caller
 * releases with got_release(); everything else is borrowed.
 */
#ifndef INTERLINKFS_FS_I_H
#define INTERLINKFS_FS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "backref.h"
#include "byname.h"
#include "cache.h"
#include "changes.h"
#include "field.h"
#include "fs.h"
#include "invalq.h"
#include "journal.h"
#include "kinds.h"
#include "meta.h"
#include "node.h"
#include "objtab.h"
#include "problems.h"
#include "robj.h"

/* Nodes that never change keep their kernel entries this long. */
#define STATIC_TIMEOUT 3600.0

/* One kind of object, as this mount has it. */
struct kstate {
	struct ifs *fs;
	const struct kind *k;
	struct cache *cache;
	struct api_filters filters;   /* the mount's that apply to it */
	double ttl;                   /* how long its data is fresh */
	struct byname *byname;        /* when it has by-name directories */
	struct backref *backrefs;     /* when it has subdirectories: slot
				       * region * KIND_MAX_SUBDIRS + subdir */
	double *expired;              /* per region: keeper only (keeper.c) */
};

/* What the kernel asks of this daemon: how much its caches spare us. Each
 * is named as in .interlinkfs/stats (struct meta_fs_stats). */
struct fs_counters {
	atomic_uint_fast64_t kernel_lookups, kernel_getattrs, kernel_reads,
			     kernel_readdirs, pages_pushed, size_resyncs;
};

struct metadir;
struct tabledir;

struct ifs {
	struct fs_conf conf;
	struct api *api;
	struct kstate kinds[K_COUNT];
	struct objtab *objs;
	struct problems *problems;
	struct metadir *meta;           /* .interlinkfs (metadir.c) */
	struct tabledir *tables;        /* tables/ (tabledir.c) */
	struct journal *journal;        /* .interlinkfs/changes */
	struct changes *changes;        /* what fills it */
	/* When .interlinkfs/changes or a Prometheus file was last looked
	 * at (clock_mono, in ms): while they are, every listing is kept
	 * fresh (keeper.c). */
	atomic_uint_fast64_t watched_ms;
	struct fuse_session *se;
	struct timespec mounted;        /* wall clock */
	double wall_minus_mono;

	/* Held by whoever sends the kernel stores or invalidations of data:
	 * the keeper for each batch, a handler for its object's stores (by
	 * trylock: when the keeper holds it, the handler queues instead).
	 * A store checks that its bytes are still the cache's and sends them
	 * under it, so an invalidation of the change that replaced them
	 * cannot land between the check and the store and leave old bytes
	 * behind it in the page cache. */
	pthread_mutex_t send_lock;
	struct invalq *q;               /* what the keeper is to send */
	int evfd, sigfd;
	pthread_t keeper;
	bool keeper_running;
	atomic_bool stopping;

	bool no_open, no_opendir;       /* set once, in op_init */
	struct fs_counters n;
};

/* ---- request.c ------------------------------------------------------------ */

/* One FUSE request that may wait on the API: what an interrupt cancels.
 * It lives on the handler's stack, between rq_begin and rq_end. */
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
 * (r must stay where it is until rq_end). On the handler's thread; the
 * interrupt callback may run on another until rq_end. */
void rq_begin(struct rq *r, fuse_req_t req);
/* Before replying: after this no interrupt callback can touch r. */
void rq_end(struct rq *r);
/* The entry of a lookup or readdirplus for what a says (e filled). Pure. */
void rq_entry(struct fuse_entry_param *e, const struct answer *a);

/* ---- fs.c: objects and nodes ----------------------------------------------- */

/* An object as a request holds it. */
struct got {
	struct robj *o;         /* a reference (got_release) */
	uint64_t gen;
	double expires;         /* cache clock */
	double changed_at;      /* cache clock; 0: never changed */
	bool stale;
};

/* Drops g's reference (an empty g is fine). */
void got_release(struct got *g);

/* The node of inode ino, with its object's id and region (id: at least
 * FIELD_ID_MAX + 1 bytes; "" above objects). 0 or -ENOENT. */
int fs_node(struct ifs *fs, uint64_t ino, struct node *n, char *id);

/* Object `id` of n's kind and region, from the cache (which may ask the
 * API; rq may be NULL). 0 with *g (a reference), or -errno. */
int fs_object(struct ifs *fs, struct rq *rq, const struct node *n,
	      const char *id, struct got *g);

/* Object i of listing l (borrowed), as it item says: *g (a reference). */
void fs_object_at(const struct cache_listing *l, size_t i,
		  const struct cache_item *it, struct got *g);

/* Region r's listing of kind k, from the cache (which may ask the API;
 * rq may be NULL): 0 with *it (release with cache_item_release on that
 * kind's cache), or -errno. */
int fs_listing(struct ifs *fs, struct rq *rq, enum kind_id k, uint32_t r,
	       struct cache_item *it);

/* ---- attr.c ------------------------------------------------------------- */

/* The attributes of node n (id: its object's, or ""), but for the files
 * of .interlinkfs (metadir_attr). 0 or -errno. */
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

/* ---- lookup.c ------------------------------------------------------------ */

/*
 * What `name` is in directory p (pid: p's object id, or ""): 0 with the
 * node n and its object's id (at least FIELD_ID_MAX + 1 bytes), an object
 * being numbered only once it is known to exist; -ENOENT, -ENOTDIR,
 * -ENAMETOOLONG, or the cache's -errno.
 */
int lookup_child(struct ifs *fs, struct rq *rq, const struct node *p,
		 const char *pid, const char *name, struct node *n, char *id);
/* Where a symbolic link node points (buf: len bytes, at least 256). 0,
 * -ENOENT (no such link), -EINVAL (not a link) or the cache's -errno. */
int lookup_link_target(struct ifs *fs, struct rq *rq, const struct node *n,
		       const char *id, char *buf, size_t len);

/* ---- dir.c --------------------------------------------------------------- */

/* Answers a readdir (plus: readdirplus) of inode ino. */
void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus);

/* ---- metadir.c ----------------------------------------------------------- */

/* 0 with *out, or -ENOMEM. Not thread-safe. */
int metadir_new(struct metadir **out);
/* NULL is a no-op. Not thread-safe. */
void metadir_free(struct metadir *m);
/* The attributes of a file of .interlinkfs or .interlinkfs/prometheus,
 * for a lookup (walked: a path was walked to it) or a getattr: the
 * counters' files rendered now on a lookup; on a getattr, and for the
 * Prometheus files always, only when their last rendering is over half a
 * second old and no read of it is under way. The rendering is kept for
 * the reads that follow (size and content agree). The journal as it is.
 * Looking at the journal or a Prometheus file marks the mount as
 * watched. 0 or -errno. */
int metadir_attr(struct ifs *fs, const struct node *n, bool walked,
		 struct answer *a);
/* Bytes [off, off + size) of such a file, as its last attributes said
 * (rendered now when never rendered): 0 with *buf (malloc'ed, the caller
 * frees) and *len, or -errno. */
int metadir_read(struct ifs *fs, const struct node *n, off_t off,
		 size_t size, char **buf, size_t *len);
/* Whether the journal or a Prometheus file was looked at within the last
 * `window` seconds. */
bool metadir_watched(struct ifs *fs, double window);

/* ---- tabledir.c ---------------------------------------------------------- */

/* 0 with *out, or -ENOMEM. Not thread-safe. */
int tabledir_new(uint32_t nregions, struct tabledir **out);
/* NULL is a no-op. Not thread-safe. */
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
 * rendered (the kernel holds nothing of it). Thread-safe; called with no
 * table's lock held. */
bool tabledir_behind(struct tabledir *d, enum kind_id k, unsigned fmt,
		     uint32_t r, uint64_t seq);
/* Bytes [off, off + size) of table n's last rendering (rendered now when
 * there is none): 0 with *buf (malloc'ed, the caller frees) and *len, or
 * -errno. */
int tabledir_read(struct ifs *fs, struct rq *rq, const struct node *n,
		  off_t off, size_t size, char **buf, size_t *len);

/* ---- keeper.c ------------------------------------------------------------ */

/* Queue, for the keeper to send (invalq.h): the kernel forgets an entry,
 * an inode's attributes and pages, or everything below object obj of kind
 * k. Call keeper_kick() after a batch. */
void keeper_entry(struct ifs *fs, uint64_t parent, const char *name);
void keeper_inode(struct ifs *fs, uint64_t ino);
void keeper_object(struct ifs *fs, const struct kind *k, uint64_t obj);
/*
 * Push the files of object obj (g, borrowed) to the kernel's page cache
 * but file `skip` (-1: none), once per generation (objtab_claim), unless
 * the value is stale or the mount has ttl=0. A walk reads every file of an
 * object one after the other, each read a round trip to this daemon;
 * pushed, the reads are answered by the kernel. Sent by the calling
 * request handler itself, after its reply, from the file after `skip` on,
 * unless another handler or the keeper is sending (then queued for the
 * keeper). For the end of an object's readdirplus (the kernel has made the
 * files' inodes, the reader is about to read them) and for a read of one
 * of its files (the reader reads the others next): a store from this
 * thread needs no wake-up of the keeper, which comes later than the
 * reader's next read.
 */
void keeper_push_now(struct ifs *fs, uint64_t obj, uint32_t region,
		     const struct got *g, int skip);
/* Wakes the keeper up for what was queued. */
void keeper_kick(struct ifs *fs);
/* Starts and stops the keeper thread. Not thread-safe: from fs_start and
 * fs_stop only. */
int keeper_start(struct ifs *fs);
void keeper_stop(struct ifs *fs);

#endif
