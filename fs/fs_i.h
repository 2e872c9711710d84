/*
 * fs_i.h: what the parts of the FUSE driver share.
 *
 *   fs.c      the mount's state, the cache wiring (loaders, and what a
 *             change means for the kernel), .interlinkfs numbers
 *   attr.c    what a node is: attributes, objects, by-name, the region
 *             probe
 *   ops.c     the FUSE operations but readdir
 *   dir.c     readdir and readdirplus
 *   keeper.c  the keeper thread: invalidations, pushes, refresh-ahead
 *
 * Nothing here branches on a kind: the kinds' table (kinds.h) says what
 * each one has.
 *
 * Thread-safety: every function here may be called from any of libfuse's
 * threads at the same time (and the cache's, for the change callback),
 * except keeper_free_queue() (fs_free only). Objects handed out (struct
 * got) are references the caller releases; everything else is borrowed.
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

#include "cache.h"
#include "conn.h"
#include "fs.h"
#include "kinds.h"
#include "meta.h"
#include "names.h"
#include "node.h"
#include "objtab.h"
#include "problems.h"
#include "robj.h"

/* Nodes that never change keep their kernel entries this long. */
#define STATIC_TIMEOUT 3600.0

/* The by-name directory of one region: the index of one listing. */
struct byname {
	pthread_mutex_t lock;
	struct cache_listing *list;   /* the listing it is of (a reference) */
	struct names_index *ix;       /* NULL: none yet */
};

/* A subdirectory's objects by the id they link to, for one listing of
 * the subdirectory's kind: positions in the listing, sorted by (that id,
 * position). One per region and subdirectory, so that a walk that enters
 * every object's subdirectory costs a search each, not a scan. */
struct backref {
	pthread_mutex_t lock;
	uint64_t seq;                 /* the listing's; 0: none yet */
	uint32_t *pos;
	size_t n;
};

/* One kind of object, as this mount has it. */
struct kstate {
	struct ifs *fs;
	const struct kind *k;
	struct cache *cache;
	struct api_filters filters;   /* the mount's that apply to it */
	double ttl;                   /* how long its data is fresh */
	struct byname *byname;        /* per region, when it has by-name */
	struct backref *backrefs;     /* [region * KIND_MAX_SUBDIRS + slot] */
	double *expired;              /* per region: keeper only (keeper.c) */
};

/*
 * What the keeper tells the kernel, in order: an entry (parent, name), an
 * inode (ino), or the bytes of a file pushed to the page cache (store).
 */
struct inval {
	uint64_t parent;        /* entry: the directory's inode */
	char *name;             /* entry: the name (malloc'ed) */
	uint64_t ino;           /* inode, store: the inode */
	struct robj *o;         /* store: the object (a reference) */
	unsigned file;          /* store: which of its files */
	uint64_t obj;           /* store: the object's number */
	uint64_t gen;           /* store: the generation of those bytes */
	uint32_t region;        /* store */
};

struct ifs {
	struct fs_conf conf;
	struct api *api;
	struct kstate kinds[K_COUNT];
	struct objtab *objs;
	struct problems *problems;
	struct fuse_session *se;
	struct timespec mounted;        /* wall clock */
	double wall_minus_mono;

	pthread_mutex_t meta_lock;      /* latest stats/metrics renders */
	char *meta[MF_COUNT + 1];
	size_t meta_len[MF_COUNT + 1];

	/* Held by whoever sends the kernel stores or invalidations of data:
	 * the keeper for each batch, a handler for its object's stores (by
	 * trylock: when the keeper holds it, the handler queues instead).
	 * A store checks that its bytes are still the cache's and sends them
	 * under it, so an invalidation of the change that replaced them
	 * cannot land between the check and the store and leave old bytes
	 * behind it in the page cache. */
	pthread_mutex_t send_lock;
	pthread_mutex_t q_lock;         /* kernel notifications to send */
	struct inval *q;
	size_t qn, qcap;
	int evfd, sigfd;
	pthread_t keeper;
	bool keeper_running;
	atomic_bool stopping;

	bool no_open, no_opendir;

	/* Requests from the kernel: how much the kernel caches spare us. */
	atomic_uint_fast64_t n_lookup, n_getattr, n_read, n_readdir, n_store,
			     n_resync;
};

/* One FUSE request that may wait on the API: what an interrupt cancels. */
struct rq {
	struct ifs *fs;
	fuse_req_t req;
	atomic_int intr;
	struct api_call call;
};

void rq_begin(struct rq *r, fuse_req_t req);
void rq_end(struct rq *r);          /* before replying */

/* An object as a request holds it. */
struct got {
	struct robj *o;         /* a reference (got_release) */
	uint64_t gen;
	double expires;         /* cache clock */
	double changed_at;      /* cache clock; 0: never changed */
	bool stale;
};

void got_release(struct got *g);

/* What a lookup, getattr or readdirplus says about a node. */
struct answer {
	struct stat st;
	double timeout;         /* of the attributes (and of the name) */
	double entry;           /* of the name, when longer than timeout */
};

/* ---- attr.c ------------------------------------------------------------ */

/* Object id and region of an inode, the node filled in. 0 or -ENOENT. */
int attr_node_of_ino(struct ifs *fs, uint64_t ino, struct node *n,
		     char *id);
/* Object `id` of n's kind and region, from the cache. */
int attr_get(struct ifs *fs, struct rq *rq, const struct node *n,
	     const char *id, struct got *g);
/* Object i of a listing, held. */
void attr_got_of(const struct cache_listing *l, size_t i,
		 const struct cache_item *it, struct got *g);
/* The attributes of a node below an object, from the object. */
int attr_of_obj(struct ifs *fs, const struct node *n, const struct got *g,
		struct answer *a);
/* The attributes of any node (id: its object's, or ""). */
int attr_describe(struct ifs *fs, struct rq *rq, const struct node *n,
		  const char *id, struct answer *a);
/* lookup(parent, name): the child, its object resolved into n and id. */
int attr_child(struct ifs *fs, struct rq *rq, const struct node *parent,
	       const char *pid, const char *name, struct node *n, char *id);
/* The target of a symbolic link node (buf: at least 256 bytes). */
int attr_link_target(struct ifs *fs, struct rq *rq, const struct node *n,
		     const char *id, char *buf, size_t len);
/* A directory entry with only its inode and type. */
void attr_bare(struct answer *a, uint64_t ino, mode_t mode);
/* Attributes of a static node, or of kind dirs (no object needed). */
void attr_base(struct ifs *fs, struct stat *st, uint64_t ino, mode_t mode,
	       nlink_t nlink, off_t size, struct timespec mtime);
/* How long the kernel may keep what came from a value. */
double attr_timeout(struct ifs *fs, const struct kstate *ks, double expires,
		    bool stale);
/* The time of something that changed at t (cache clock), or the mount's
 * time when it never changed since it was first loaded (t == 0): a
 * directory's time does not move when it is first listed. */
struct timespec attr_changed_time(struct ifs *fs, double t);

/* The by-name index of region r of ks, for listing it (kept while the
 * caller holds it: *ix stays valid until byname_unlock). */
int byname_lock(struct ifs *fs, struct rq *rq, struct kstate *ks, uint32_t r,
		struct cache_item *it, struct names_index **ix);
void byname_unlock(struct kstate *ks, uint32_t r);
/* A new index of listing l for region r; when invalidate, the kernel's
 * entries of names that went or moved are queued. */
void byname_update(struct kstate *ks, uint32_t r, struct cache_listing *l,
		   bool invalidate);

/* ---- dir.c ------------------------------------------------------------- */

void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus);
void dir_fill_entry(struct fuse_entry_param *e, const struct answer *a);

/* ---- fs.c -------------------------------------------------------------- */

/* The bytes of an .interlinkfs file, now. */
int fs_render_meta(struct ifs *fs, unsigned slot, char **out, size_t *len);

/* ---- keeper.c ---------------------------------------------------------- */

void keeper_entry(struct ifs *fs, uint64_t parent, const char *name);
void keeper_inode(struct ifs *fs, uint64_t ino);
/* Every inode below object obj of kind ks. */
void keeper_object(struct ifs *fs, const struct kind *k, uint64_t obj);
/*
 * Push the files of object obj (g) to the kernel's page cache but file
 * `skip` (-1: none), once per generation (objtab_claim), unless the value
 * is stale or the mount has ttl=0. A walk reads every file of an object
 * one after the other, each read a round trip to this daemon; pushed, the
 * reads are answered by the kernel.
 */
void keeper_push(struct ifs *fs, uint64_t obj, uint32_t region,
		 const struct got *g, int skip);
/*
 * keeper_push (no file skipped), sent by the calling request handler
 * itself, after its reply, unless another handler is pushing (then queued
 * for the keeper). For the end of an object's readdirplus: the kernel has
 * made the files' inodes, the reader is about to read them, and a store
 * from this thread needs no wake-up of the keeper.
 */
void keeper_push_now(struct ifs *fs, uint64_t obj, uint32_t region,
		     const struct got *g);
void keeper_kick(struct ifs *fs);
void keeper_free_queue(struct ifs *fs);

#endif
