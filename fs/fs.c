/*
 * fs: libfuse low-level callbacks over the cache.
 *
 * Speed comes from letting the kernel answer: open and opendir are
 * answered with ENOSYS (zero-message opens, so the page cache and the
 * readdir cache are kept), lookups and attributes carry timeouts equal to
 * the data's remaining freshness, and readdirplus hands out full
 * attributes. Freshness comes from honest attributes: true sizes, st_mtime
 * from the API's updated_at (moved forward when the content changed
 * without it), FUSE_CAP_AUTO_INVAL_DATA, and explicit invalidations sent by
 * the keeper thread (never from a request handler, so they cannot
 * deadlock with the request that caused them).
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "cache.h"
#include "conn.h"
#include "log.h"
#include "names.h"
#include "node.h"
#include "render.h"

/* Nodes that never change keep their kernel entries this long. */
#define STATIC_TIMEOUT 3600.0

/* Parsed connections kept for the requests that follow each other on one
 * connection (a readdirplus of its directory, then its files). */
#define MEMO_SLOTS 128

/* The by-name directory of one region, for one listing generation. */
struct view {
	pthread_mutex_t lock;
	bool valid;
	uint64_t gen;
	size_t n;
	char **names;
	char (*ids)[CONN_ID_MAX + 1];
	size_t *slot;           /* open addressing: name -> index + 1 */
	size_t cap;
};

/* What the keeper tells the kernel, in order. */
struct inval {
	uint64_t parent;        /* inval_entry(parent, name) when name */
	uint64_t ino;           /* else inval_inode(ino), or store data */
	char *name;
	char *data;             /* store: the file's bytes, for generation */
	size_t len;             /* gen of connection id in region */
	uint64_t gen;
	uint32_t region;
	char id[CONN_ID_MAX + 1];
};

struct ifs {
	struct fs_conf conf;
	struct api *api;
	struct cache *conns, *pops;
	struct objtab *objs;
	struct view *views;
	struct fuse_session *se;
	struct timespec mounted;        /* wall clock */
	double wall_minus_mono;

	pthread_mutex_t meta_lock;      /* latest stats/metrics renders */
	char *meta[MF_COUNT + 1];
	size_t meta_len[MF_COUNT + 1];

	pthread_mutex_t q_lock;         /* kernel invalidations to send */
	struct inval *q;
	size_t qn, qcap;
	int evfd, sigfd;
	pthread_t keeper;
	bool keeper_running;
	atomic_bool stopping;

	bool no_open, no_opendir;

	/* Per region: when the connection and PoP listings last expired, as
	 * the keeper told the kernel (see invalidate_expired). Keeper only. */
	double *conns_expired, *pops_expired;

	/* Requests from the kernel: how much the kernel caches spare us. */
	atomic_uint_fast64_t n_lookup, n_getattr, n_read, n_readdir, n_store,
			     n_resync;

	/* Connections are cached as compact text (see blob_of); the last
	 * few parsed back are kept here, keyed by the cached value. */
	pthread_mutex_t memo_lock;
	struct memo_slot {
		json_t *blob, *obj;
	} memo[MEMO_SLOTS];
};

/* One FUSE request that may wait on the API: what an interrupt cancels. */
struct rq {
	struct ifs *fs;
	fuse_req_t req;
	atomic_int intr;
	struct api_call call;
	/* The last object this request got: a readdirplus describes 16 files
	 * of one connection, and with ttl=0 each would be a request. */
	struct cache_item last;
	bool last_pop;
	char last_id[CONN_ID_MAX + 1];
	uint32_t last_region;
};

/* ---- small helpers ------------------------------------------------------- */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec ts_of(double t)
{
	struct timespec ts;
	ts.tv_sec = (time_t)floor(t);
	ts.tv_nsec = (long)((t - floor(t)) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* A cache clock time as wall-clock time. */
static struct timespec wall_of(struct ifs *fs, double t)
{
	return ts_of(t + fs->wall_minus_mono);
}

static int region_index(struct ifs *fs, const char *region)
{
	for (uint32_t r = 0; r < fs->conf.nregions; r++)
		if (strcmp(fs->conf.regions[r], region) == 0)
			return (int)r;
	return -1;
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct rq *r = data;

	(void)req;
	atomic_store(&r->intr, 1);
	api_call_cancel(&r->call);
	cache_wake(r->fs->conns);
	cache_wake(r->fs->pops);
}

static void rq_begin(struct rq *r, fuse_req_t req)
{
	memset(&r->last, 0, sizeof r->last);
	r->last_id[0] = '\0';
	r->fs = fuse_req_userdata(req);
	r->req = req;
	atomic_init(&r->intr, 0);
	api_call_init(&r->call);
	fuse_req_interrupt_func(req, on_interrupt, r);
}

/* Before replying: after this no interrupt callback can touch r. */
static void rq_end(struct rq *r)
{
	fuse_req_interrupt_func(r->req, NULL, NULL);
	api_call_destroy(&r->call);
	cache_item_release(&r->last);
}

/* ---- loaders: the cache's view of the API -------------------------------- */

static struct api_call *call_of(void *ctx)
{
	return ctx ? &((struct rq *)ctx)->call : NULL;
}

/*
 * A connection as the cache keeps it: its id, a newline, and the object
 * in compact JSON, as one JSON string. jansson's objects take about 3.6
 * KiB per connection, this about 0.7 KiB; the text holds everything the
 * API sent, in its order, and is parsed back on use (see obj_of).
 * New reference, NULL on failure.
 */
static json_t *blob_of(const json_t *obj)
{
	const char *id = conn_id(obj);
	char *text = json_dumps(obj, JSON_COMPACT), *b;
	size_t n;
	json_t *blob = NULL;

	if (!id || !text) {
		free(text);
		return NULL;
	}
	n = strlen(text);
	b = malloc(CONN_ID_MAX + 1 + n);
	if (b) {
		memcpy(b, id, CONN_ID_MAX);
		b[CONN_ID_MAX] = '\n';
		memcpy(b + CONN_ID_MAX + 1, text, n);
		blob = json_stringn_nocheck(b, CONN_ID_MAX + 1 + n);
	}
	free(b);
	free(text);
	return blob;
}

static int blob_id(void *ud, const json_t *item, char *buf, size_t len)
{
	const char *s = json_string_value(item);

	(void)ud;
	if (!s || json_string_length(item) <= CONN_ID_MAX ||
	    s[CONN_ID_MAX] != '\n' || len <= CONN_ID_MAX)
		return -EINVAL;
	memcpy(buf, s, CONN_ID_MAX);
	buf[CONN_ID_MAX] = '\0';
	return 0;
}

/* The object behind a cached value (a blob, or a PoP object). New
 * reference; NULL only when out of memory. */
static json_t *obj_of(struct ifs *fs, json_t *v)
{
	struct memo_slot *m;
	json_t *obj;

	if (!json_is_string(v))
		return json_incref(v);
	m = &fs->memo[((uintptr_t)v >> 4) % MEMO_SLOTS];
	pthread_mutex_lock(&fs->memo_lock);
	if (m->blob == v) {
		obj = json_incref(m->obj);
		pthread_mutex_unlock(&fs->memo_lock);
		return obj;
	}
	pthread_mutex_unlock(&fs->memo_lock);
	/* Text we wrote ourselves from valid JSON: it parses. */
	obj = json_loadb(json_string_value(v) + CONN_ID_MAX + 1,
			 json_string_length(v) - CONN_ID_MAX - 1,
			 JSON_ALLOW_NUL, NULL);
	if (!obj)
		return NULL;
	pthread_mutex_lock(&fs->memo_lock);
	json_decref(m->blob); /* the slot holds the blob: its address cannot */
	json_decref(m->obj);  /* be reused by another value meanwhile */
	m->blob = json_incref(v);
	m->obj = json_incref(obj);
	pthread_mutex_unlock(&fs->memo_lock);
	return obj;
}

static json_t *blob_fn(const json_t *obj, void *ud)
{
	(void)ud;
	return blob_of(obj);
}

static int load_conns(void *ud, const char *region, void *ctx, json_t **out)
{
	struct ifs *fs = ud;

	/* Each page becomes blobs as it arrives: a 10,000-connection list
	 * never exists as jansson objects all at once. */
	return api_list_map(fs->api, region, &fs->conf.filters, blob_fn, NULL,
			    call_of(ctx), out, NULL);
}

static int load_conn(void *ud, const char *region, const char *id, void *ctx,
		     json_t **out)
{
	struct ifs *fs = ud;
	json_t *obj = NULL;
	int rc = api_get(fs->api, region, id, &fs->conf.filters, call_of(ctx),
			 &obj, NULL);

	if (rc == 0 && !(*out = blob_of(obj)))
		rc = -ENOMEM;
	json_decref(obj);
	return rc;
}

static int load_pops(void *ud, const char *region, void *ctx, json_t **out)
{
	struct ifs *fs = ud;
	return api_list_pops(fs->api, region, call_of(ctx), out, NULL);
}

static int load_pop(void *ud, const char *region, const char *id, void *ctx,
		    json_t **out)
{
	struct ifs *fs = ud;
	return api_get_pop(fs->api, region, id, call_of(ctx), out, NULL);
}

/* ---- invalidations --------------------------------------------------------- */

/* A new, zeroed entry at the end of the queue, with q_lock held (the
 * caller unlocks); NULL (unlocked) when out of memory: the kernel's
 * timeouts still bound how stale its caches get. */
static struct inval *queue_slot(struct ifs *fs)
{
	struct inval *q;

	pthread_mutex_lock(&fs->q_lock);
	if (fs->qn == fs->qcap) {
		size_t cap = fs->qcap ? fs->qcap * 2 : 256;
		q = realloc(fs->q, cap * sizeof *q);
		if (!q) {
			pthread_mutex_unlock(&fs->q_lock);
			return NULL;
		}
		fs->q = q;
		fs->qcap = cap;
	}
	q = &fs->q[fs->qn++];
	memset(q, 0, sizeof *q);
	return q;
}

static void queue(struct ifs *fs, uint64_t parent, uint64_t ino,
		  const char *name)
{
	struct inval *q = queue_slot(fs);

	if (!q)
		return;
	q->parent = parent;
	q->ino = ino;
	if (name && !(q->name = strdup(name)))
		fs->qn--; /* dropped, as above */
	pthread_mutex_unlock(&fs->q_lock);
}

/* Queue the bytes of a file for the kernel's page cache (data: malloc'ed,
 * taken over). */
static void queue_store(struct ifs *fs, uint64_t ino, char *data, size_t len,
			uint32_t region, const char *id, uint64_t gen)
{
	struct inval *q = queue_slot(fs);

	if (!q) {
		free(data);
		return;
	}
	q->ino = ino;
	q->data = data;
	q->len = len;
	q->gen = gen;
	q->region = region;
	snprintf(q->id, sizeof q->id, "%s", id);
	pthread_mutex_unlock(&fs->q_lock);
}

static void kick(struct ifs *fs)
{
	uint64_t one = 1;
	if (write(fs->evfd, &one, sizeof one) < 0)
		return; /* the counter is full: the keeper is awake anyway */
}

static uint64_t ino_of(enum node_kind kind, uint32_t region, uint64_t obj,
		       uint32_t slot)
{
	struct node n = {.kind = kind, .region = region, .obj = obj,
			 .slot = slot};
	return node_ino(&n);
}

/* Everything below a connection object. */
static void queue_conn_inodes(struct ifs *fs, uint32_t r, uint64_t obj)
{
	queue(fs, 0, ino_of(NK_CONN, r, obj, 0), NULL);
	for (uint32_t s = 1; s <= CF_COUNT; s++)
		queue(fs, 0, ino_of(NK_CONN_FILE, r, obj, s), NULL);
	queue(fs, 0, ino_of(NK_CONN_POP, r, obj, SLOT_POPLINK), NULL);
	queue(fs, 0, ino_of(NK_BYNAME_LINK, r, obj, SLOT_BYNAME), NULL);
}

static void queue_pop_inodes(struct ifs *fs, uint32_t r, uint64_t obj)
{
	queue(fs, 0, ino_of(NK_POP, r, obj, 0), NULL);
	for (uint32_t s = 1; s <= PF_COUNT; s++)
		queue(fs, 0, ino_of(NK_POP_FILE, r, obj, s), NULL);
}

/* ---- by-name views ------------------------------------------------------------ */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void view_clear(struct view *v)
{
	names_free(v->names, v->n);
	free(v->ids);
	free(v->slot);
	v->names = NULL;
	v->ids = NULL;
	v->slot = NULL;
	v->n = v->cap = 0;
	v->valid = false;
}

/* Index of name in v, or -1. Called with v->lock held. */
static long view_find(const struct view *v, const char *name)
{
	size_t i;

	if (!v->cap)
		return -1;
	for (i = name_hash(name) & (v->cap - 1); v->slot[i];
	     i = (i + 1) & (v->cap - 1))
		if (strcmp(v->names[v->slot[i] - 1], name) == 0)
			return (long)v->slot[i] - 1;
	return -1;
}

/* A view of listing (generation gen) into *nv. 0 or -ENOMEM. */
static int view_build(const json_t *listing, uint64_t gen, struct view *nv)
{
	size_t n = json_array_size(listing), i;
	struct names_in *in = calloc(n ? n : 1, sizeof *in);
	json_t *c, **objs = NULL;
	int rc = -ENOMEM;

	memset(nv, 0, sizeof *nv);
	nv->ids = calloc(n ? n : 1, sizeof *nv->ids);
	nv->cap = 16;
	while (nv->cap < 2 * n + 1)
		nv->cap *= 2;
	nv->slot = calloc(nv->cap, sizeof *nv->slot);
	if (!in || !nv->ids || !nv->slot)
		goto out;
	objs = calloc(n ? n : 1, sizeof *objs);
	if (!objs)
		goto out;
	json_array_foreach(listing, i, c) {
		if (blob_id(NULL, c, nv->ids[i], sizeof nv->ids[i]))
			snprintf(nv->ids[i], sizeof nv->ids[i], "%s",
				 conn_id(c) ? conn_id(c) : "");
		in[i].id = nv->ids[i];
		/* Parsed directly, not through the memo: a whole listing
		 * would only flush it. */
		objs[i] = json_is_string(c) ? json_loadb(
			json_string_value(c) + CONN_ID_MAX + 1,
			json_string_length(c) - CONN_ID_MAX - 1,
			JSON_ALLOW_NUL, NULL) : json_incref(c);
		if (conn_str(objs[i], "name", &in[i].name, &in[i].len))
			in[i].name = NULL;
	}
	if (names_assign(in, n, &nv->names))
		goto out;
	nv->n = n;
	for (i = 0; i < n; i++) {
		size_t k = name_hash(nv->names[i]) & (nv->cap - 1);
		while (nv->slot[k])
			k = (k + 1) & (nv->cap - 1);
		nv->slot[k] = i + 1;
	}
	nv->gen = gen;
	nv->valid = true;
	rc = 0;
out:
	for (i = 0; objs && i < n; i++)
		json_decref(objs[i]);
	free(objs);
	free(in);
	if (rc)
		view_clear(nv);
	return rc;
}

/* Replace region r's view by one of listing. When invalidate, queue the
 * kernel entries of names that disappeared or now point elsewhere. */
static void view_update(struct ifs *fs, uint32_t r, const json_t *listing,
			uint64_t gen, bool invalidate)
{
	struct view *v = &fs->views[r], nv;

	if (view_build(listing, gen, &nv))
		return;
	pthread_mutex_lock(&v->lock);
	if (v->valid && v->gen == gen) {
		pthread_mutex_unlock(&v->lock);
		view_clear(&nv);
		return;
	}
	if (invalidate && v->valid) {
		uint64_t dir = ino_of(NK_BYNAME, r, 0, 0);
		for (size_t i = 0; i < v->n; i++) {
			long k = view_find(&nv, v->names[i]);
			if (k < 0 || strcmp(nv.ids[k], v->ids[i]) != 0)
				queue(fs, dir, 0, v->names[i]);
		}
		queue(fs, 0, dir, NULL);
	}
	view_clear(v);
	nv.lock = v->lock;
	*v = nv;
	pthread_mutex_unlock(&v->lock);
}

/* The cache tells us what changed: tell the kernel (through the keeper).
 * An added or removed id changes its directory's entry; a changed or
 * removed one, everything below it. */
static int queue_changes(struct ifs *fs, enum obj_kind kind,
			 const char *region, const struct cache_change *ch,
			 size_t n)
{
	int r = region_index(fs, region);
	uint64_t dir;

	if (r < 0)
		return -1;
	dir = ino_of(kind == OBJ_CONN ? NK_CONNS : NK_POPS, (uint32_t)r, 0, 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t obj = objtab_find(fs->objs, kind, (uint32_t)r,
					   ch[i].id);
		if (ch[i].kind != CACHE_CHANGED)
			queue(fs, dir, 0, ch[i].id);
		if (!obj || ch[i].kind == CACHE_ADDED)
			continue;
		if (kind == OBJ_CONN)
			queue_conn_inodes(fs, (uint32_t)r, obj);
		else
			queue_pop_inodes(fs, (uint32_t)r, obj);
	}
	queue(fs, 0, dir, NULL);
	return r;
}

static void on_conn_changes(void *ud, const char *region,
			    const struct cache_change *ch, size_t n,
			    const json_t *listing, uint64_t gen)
{
	struct ifs *fs = ud;
	int r = queue_changes(fs, OBJ_CONN, region, ch, n);

	if (r < 0)
		return;
	if (listing)
		view_update(fs, (uint32_t)r, listing, gen, true);
	else
		queue(fs, 0, ino_of(NK_BYNAME, (uint32_t)r, 0, 0), NULL);
	kick(fs);
}

static void on_pop_changes(void *ud, const char *region,
			   const struct cache_change *ch, size_t n,
			   const json_t *listing, uint64_t gen)
{
	struct ifs *fs = ud;

	(void)listing;
	(void)gen;
	if (queue_changes(fs, OBJ_POP, region, ch, n) >= 0)
		kick(fs);
}

/* ---- .interlinkfs ----------------------------------------------------------------- */

static int render_meta(struct ifs *fs, unsigned slot, char **out,
		       size_t *len)
{
	struct meta_snapshot s;
	struct cache_stats p;
	struct cache *caches[2] = {fs->conns, fs->pops};
	double *ages = calloc(2 * (fs->conf.nregions + 1), sizeof *ages);
	int rc;

	if (!ages)
		return -ENOMEM;
	memset(&s, 0, sizeof s);
	api_get_stats(fs->api, &s.api);
	cache_get_stats(fs->conns, &s.cache);
	cache_get_stats(fs->pops, &p);
	s.kinds[0].name = "connections";
	s.kinds[0].objects = s.cache.objects;
	s.kinds[1].name = "pops";
	s.kinds[1].objects = p.objects;
	s.cache.hits += p.hits;
	s.cache.misses += p.misses;
	s.cache.loads += p.loads;
	s.cache.load_errors += p.load_errors;
	s.cache.coalesced += p.coalesced;
	s.cache.negative_hits += p.negative_hits;
	s.cache.stale_served += p.stale_served;
	s.cache.grace_stale += p.grace_stale;
	s.cache.evictions += p.evictions;
	s.cache.bytes += p.bytes;
	s.cache.objects += p.objects;
	s.kernel_lookups = atomic_load(&fs->n_lookup);
	s.kernel_getattrs = atomic_load(&fs->n_getattr);
	s.kernel_reads = atomic_load(&fs->n_read);
	s.kernel_readdirs = atomic_load(&fs->n_readdir);
	s.pages_pushed = atomic_load(&fs->n_store);
	s.size_resyncs = atomic_load(&fs->n_resync);
	s.nkinds = 2;
	for (size_t k = 0; k < 2; k++) {
		double *a = ages + k * (fs->conf.nregions + 1);
		for (uint32_t r = 0; r < fs->conf.nregions; r++)
			if (cache_listing_age(caches[k], fs->conf.regions[r],
					      &a[r]))
				a[r] = -1;
		s.kinds[k].listing_age = a;
	}
	s.regions = fs->conf.regions;
	s.nregions = fs->conf.nregions;
	rc = meta_render(slot, &s, out, len);
	free(ages);
	return rc;
}

/* ---- attributes ---------------------------------------------------------------------- */

static void base_attr(struct ifs *fs, struct stat *st, uint64_t ino,
		      mode_t mode, nlink_t nlink, off_t size,
		      struct timespec mtime)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = nlink;
	st->st_uid = fs->conf.uid;
	st->st_gid = fs->conf.gid;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim = mtime;
	st->st_ctim = mtime;
	st->st_atim = mtime;
}

/* A connection's (or PoP's) time: updated_at, else created_at, else the
 * mount time; later if the cache saw it change after that. */
static struct timespec obj_mtime(struct ifs *fs, const struct cache_item *it)
{
	struct timespec t;

	if (conn_time(it->value, "updated_at", &t) &&
	    conn_time(it->value, "created_at", &t))
		t = fs->mounted;
	if (it->changed_at > 0) {
		struct timespec seen = wall_of(fs, it->changed_at);
		if (ts_after(seen, t))
			t = seen;
	}
	return t;
}

/* How long the kernel may keep what came from it. */
static double timeout_of(struct ifs *fs, const struct cache_item *it)
{
	double left;

	if (it->stale)
		return 0;
	left = it->expires - cache_now(fs->conns);
	if (left < 0)
		left = 0;
	return left > fs->conf.ttl ? fs->conf.ttl : left;
}

/* What a lookup/getattr/readdirplus needs to say about a node. */
struct answer {
	struct stat st;
	double timeout;
};

static int pop_link_target(const json_t *conn, char *buf, size_t len)
{
	const char *pop;

	if (conn_str(conn, "pop_id", &pop, NULL) ||
	    !conn_id_valid(pop, strlen(pop)))
		return -ENOENT;
	snprintf(buf, len, "../../pops/%s", pop);
	return 0;
}

/*
 * Fill in the id and kind of an object node from the object table.
 * Returns -ENOENT for numbers never given out.
 */
static int resolve_obj(struct ifs *fs, struct node *n, char *id)
{
	enum obj_kind k;
	uint32_t region;

	if (objtab_get(fs->objs, n->obj, &k, &region, id))
		return -ENOENT;
	n->region = region;
	if (k == OBJ_POP) {
		if (n->kind == NK_CONN)
			n->kind = NK_POP;
		else if (n->kind == NK_CONN_FILE && n->slot <= PF_COUNT)
			n->kind = NK_POP_FILE;
		else
			return -ENOENT;
	}
	return 0;
}

/* The cached object behind an object node (connection or PoP). */
static int get_obj(struct ifs *fs, struct rq *rq, const struct node *n,
		   const char *id, struct cache_item *it)
{
	bool pop = n->kind == NK_POP || n->kind == NK_POP_FILE;
	int rc;
	json_t *obj;

	/* One request sees one version of an object, fetched once. */
	if (rq && rq->last.value && rq->last_pop == pop &&
	    rq->last_region == n->region && strcmp(rq->last_id, id) == 0) {
		*it = rq->last;
		it->value = json_incref(rq->last.value);
		return 0;
	}
	rc = cache_get(pop ? fs->pops : fs->conns, fs->conf.regions[n->region],
		       id, rq, rq ? &rq->intr : NULL, it);
	if (rc)
		return rc;
	/* Hand out the object, not the cache's compact text. */
	obj = obj_of(fs, it->value);
	json_decref(it->value);
	it->value = obj;
	if (!obj)
		return -ENOMEM;
	if (rq) {
		cache_item_release(&rq->last);
		rq->last = *it;
		rq->last.value = json_incref(obj);
		rq->last_pop = pop;
		rq->last_region = n->region;
		snprintf(rq->last_id, sizeof rq->last_id, "%s", id);
	}
	return 0;
}

/* by-name: the view of the current listing (rebuilt when it changed). */
static int byname_view(struct ifs *fs, struct rq *rq, uint32_t r,
		       struct cache_item *it)
{
	int rc = cache_list(fs->conns, fs->conf.regions[r], rq, &rq->intr, it);
	struct view *v = &fs->views[r];
	bool current;

	if (rc)
		return rc;
	pthread_mutex_lock(&v->lock);
	current = v->valid && v->gen == it->gen;
	pthread_mutex_unlock(&v->lock);
	if (!current)
		view_update(fs, r, it->value, it->gen, false);
	return 0;
}

static int byname_target(struct ifs *fs, uint32_t r, const char *name,
			 char *id)
{
	struct view *v = &fs->views[r];
	long k;

	pthread_mutex_lock(&v->lock);
	k = view_find(v, name);
	if (k >= 0)
		memcpy(id, v->ids[k], CONN_ID_MAX + 1);
	pthread_mutex_unlock(&v->lock);
	return k >= 0 ? 0 : -ENOENT;
}

static int render_node(const struct node *n, const json_t *obj, char **buf,
		       size_t *len)
{
	return n->kind == NK_POP_FILE ? render_pop(obj, n->slot, buf, len)
				      : render_conn(obj, n->slot, buf, len);
}

/*
 * Attributes of a node whose object id is known (id) or that needs none.
 * For a by-name link, id is the target connection.
 */
static int describe(struct ifs *fs, struct rq *rq, const struct node *n,
		    const char *id, struct answer *a)
{
	struct cache_item it = {0};
	uint64_t ino = node_ino(n);
	char *buf = NULL, target[128];
	size_t len = 0;
	int rc = 0;

	a->timeout = STATIC_TIMEOUT;
	switch (n->kind) {
	case NK_ROOT:
		base_attr(fs, &a->st, ino, S_IFDIR | 0555, 4, 0, fs->mounted);
		break;
	case NK_REGIONS:
		base_attr(fs, &a->st, ino, S_IFDIR | 0555, 2 + fs->conf.nregions,
			  0, fs->mounted);
		break;
	case NK_REGION:
		base_attr(fs, &a->st, ino, S_IFDIR | 0555, 5, 0, fs->mounted);
		break;
	case NK_META:
		base_attr(fs, &a->st, ino, S_IFDIR | 0555, 2, 0, fs->mounted);
		break;
	case NK_META_FILE:
		/* Rendered now, kept for the reads that follow: size and
		 * content agree. Always revalidated (timeout 0, a new mtime
		 * each time, so the page cache is dropped). */
		rc = render_meta(fs, n->slot, &buf, &len);
		if (rc)
			break;
		pthread_mutex_lock(&fs->meta_lock);
		free(fs->meta[n->slot]);
		fs->meta[n->slot] = buf;
		fs->meta_len[n->slot] = len;
		pthread_mutex_unlock(&fs->meta_lock);
		buf = NULL;
		if (n->slot == MF_VERSION) {
			base_attr(fs, &a->st, ino, S_IFREG | 0444, 1,
				  (off_t)len, fs->mounted);
		} else {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			base_attr(fs, &a->st, ino, S_IFREG | 0444, 1,
				  (off_t)len, now);
			a->timeout = 0;
		}
		break;
	case NK_CONNS:
	case NK_POPS:
	case NK_BYNAME:
		/* Does the API serve this region at all? Its PoP list (one
		 * small request, kept for pop_ttl) says: a 404 makes every
		 * directory of the region "No such file". It is asked here,
		 * at lookup, because a failed readdir cannot say so: the C
		 * library turns ENOENT from getdents into an empty
		 * directory. Any other outcome leaves the answer to the
		 * listing itself. */
		rc = cache_list(fs->pops, fs->conf.regions[n->region], rq,
				rq ? &rq->intr : NULL, &it);
		cache_item_release(&it);
		if (rc == -ENOENT || rc == -EINTR)
			break;
		rc = 0;
		/* Otherwise what the cache knows, without asking the API:
		 * looking a directory up must not cost a listing (a cat of
		 * one file costs one get). Unknown yet: revalidated at
		 * once. */
		if (cache_peek_list(n->kind == NK_POPS ? fs->pops : fs->conns,
				    fs->conf.regions[n->region], &it) == 0) {
			base_attr(fs, &a->st, ino, S_IFDIR | 0555,
				  2 + (n->kind == NK_BYNAME ? 0 :
				       json_array_size(it.value)), 0,
				  wall_of(fs, it.changed_at));
			a->timeout = timeout_of(fs, &it);
		} else {
			base_attr(fs, &a->st, ino, S_IFDIR | 0555, 2, 0,
				  fs->mounted);
			a->timeout = 0;
		}
		break;
	case NK_CONN:
	case NK_POP:
	case NK_CONN_FILE:
	case NK_POP_FILE:
	case NK_CONN_POP:
		rc = get_obj(fs, rq, n, id, &it);
		if (rc)
			break;
		a->timeout = timeout_of(fs, &it);
		if (n->kind == NK_CONN || n->kind == NK_POP) {
			base_attr(fs, &a->st, ino, S_IFDIR | 0555, 2, 0,
				  obj_mtime(fs, &it));
		} else if (n->kind == NK_CONN_POP) {
			rc = pop_link_target(it.value, target, sizeof target);
			if (!rc)
				base_attr(fs, &a->st, ino, S_IFLNK | 0777, 1,
					  (off_t)strlen(target),
					  obj_mtime(fs, &it));
		} else {
			/* A field of the wrong type: listed, but neither stat
			 * nor read can give an honest size or content: EIO
			 * (connection.json shows what the API sent). */
			rc = render_node(n, it.value, &buf, &len);
			if (!rc) {
				base_attr(fs, &a->st, ino, S_IFREG | 0444, 1,
					  (off_t)len, obj_mtime(fs, &it));
				objtab_size_told(fs->objs, n->obj, n->slot,
						 len);
			}
		}
		break;
	case NK_BYNAME_LINK:
		rc = cache_list(fs->conns, fs->conf.regions[n->region], rq,
				&rq->intr, &it);
		if (rc)
			break;
		base_attr(fs, &a->st, ino, S_IFLNK | 0777, 1,
			  (off_t)strlen("../connections/") + CONN_ID_MAX,
			  wall_of(fs, it.changed_at));
		a->timeout = timeout_of(fs, &it);
		break;
	default:
		rc = -ENOENT;
	}
	free(buf);
	cache_item_release(&it);
	return rc;
}

/* ---- lookup / getattr ---------------------------------------------------------------------- */

/* Node and object id of an inode number. */
static int node_of_ino(struct ifs *fs, fuse_ino_t ino, struct node *n,
		       char *id)
{
	int rc = node_from_ino(ino, fs->conf.nregions, n);

	id[0] = '\0';
	if (!rc && n->obj)
		rc = resolve_obj(fs, n, id);
	if (!rc && n->kind == NK_META_FILE && !meta_name(n->slot))
		rc = -ENOENT;
	return rc;
}

static void fill_entry(struct fuse_entry_param *e, const struct answer *a)
{
	memset(e, 0, sizeof *e);
	e->ino = a->st.st_ino;
	e->generation = 1;
	e->attr = a->st;
	e->attr_timeout = a->timeout;
	e->entry_timeout = a->timeout;
}

/* lookup(parent, name): the child node with its object resolved. */
static int child_of(struct ifs *fs, struct rq *rq, const struct node *parent,
		    const char *pid, const char *name, struct node *n,
		    char *id)
{
	struct cache_item it = {0};
	int rc = node_child(parent, name, fs->conf.regions, fs->conf.nregions,
			    n);

	if (rc)
		return rc;
	id[0] = '\0';
	switch (n->kind) {
	case NK_CONN:
	case NK_POP:
		snprintf(id, CONN_ID_MAX + 1, "%s", name);
		/* An id the cache does not know costs a request: only then
		 * is a number given out. */
		rc = get_obj(fs, rq, n, id, &it);
		cache_item_release(&it);
		if (rc)
			return rc;
		n->obj = objtab_intern(fs->objs, n->kind == NK_CONN ? OBJ_CONN
				       : OBJ_POP, n->region, id);
		return n->obj ? 0 : -ENOMEM;
	case NK_BYNAME_LINK:
		rc = byname_view(fs, rq, n->region, &it);
		cache_item_release(&it);
		if (!rc)
			rc = byname_target(fs, n->region, name, id);
		if (rc)
			return rc;
		n->obj = objtab_intern(fs->objs, OBJ_CONN, n->region, id);
		return n->obj ? 0 : -ENOMEM;
	case NK_CONN_FILE:
	case NK_POP_FILE:
	case NK_CONN_POP:
		snprintf(id, CONN_ID_MAX + 1, "%s", pid);
		return 0;
	default:
		return 0;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rq rq;
	struct node p, n;
	struct answer a;
	struct fuse_entry_param e;
	char pid[CONN_ID_MAX + 1], id[CONN_ID_MAX + 1];
	int rc;

	rq_begin(&rq, req);
	rc = node_of_ino(rq.fs, parent, &p, pid);
	/* Counted for the tree only: reading the stats must not change them
	 * between the size and the bytes. */
	if (!rc && p.kind != NK_META)
		atomic_fetch_add(&rq.fs->n_lookup, 1);
	if (!rc)
		rc = child_of(rq.fs, &rq, &p, pid, name, &n, id);
	if (!rc)
		rc = describe(rq.fs, &rq, &n, id, &a);
	rq_end(&rq);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	fill_entry(&e, &a);
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
	struct answer a;
	char id[CONN_ID_MAX + 1];
	int rc;

	(void)fi;
	rq_begin(&rq, req);
	rc = node_of_ino(rq.fs, ino, &n, id);
	if (!rc && n.kind != NK_META_FILE)
		atomic_fetch_add(&rq.fs->n_getattr, 1);
	if (!rc)
		rc = describe(rq.fs, &rq, &n, id, &a);
	rq_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &a.st, a.timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rq rq;
	struct node n;
	struct cache_item it = {0};
	char id[CONN_ID_MAX + 1], target[128];
	int rc;

	rq_begin(&rq, req);
	rc = node_of_ino(rq.fs, ino, &n, id);
	if (!rc && n.kind == NK_BYNAME_LINK) {
		snprintf(target, sizeof target, "../connections/%s", id);
	} else if (!rc && n.kind == NK_CONN_POP) {
		rc = get_obj(rq.fs, &rq, &n, id, &it);
		if (!rc)
			rc = pop_link_target(it.value, target, sizeof target);
	} else if (!rc) {
		rc = -EINVAL;
	}
	cache_item_release(&it);
	rq_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

/* ---- open / read ---------------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ifs *fs = fuse_req_userdata(req);

	(void)ino;
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
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
 * A walk reads every file of a connection one after the other, each read
 * a round trip to this daemon. When the first is read, the others are
 * rendered and handed to the kernel's page cache by the keeper (never from
 * here: a store waits on page locks a read in progress may hold), so the
 * reads that follow are answered by the kernel.
 */
static void push_siblings(struct ifs *fs, const struct node *n,
			  const char *id, const struct cache_item *it)
{
	struct node f = *n;

	for (f.slot = 1; f.slot <= CF_COUNT; f.slot++) {
		char *buf = NULL;
		size_t len = 0;

		if (f.slot == n->slot ||
		    render_conn(it->value, f.slot, &buf, &len) || !len) {
			free(buf);
			continue;
		}
		queue_store(fs, node_ino(&f), buf, len, n->region, id, it->gen);
	}
	kick(fs);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct rq rq;
	struct node n;
	struct cache_item it = {0};
	char id[CONN_ID_MAX + 1], *buf = NULL;
	size_t len = 0;
	int rc;

	(void)fi;
	rq_begin(&rq, req);
	rc = node_of_ino(rq.fs, ino, &n, id);
	if (!rc && n.kind != NK_META_FILE)
		atomic_fetch_add(&rq.fs->n_read, 1);
	if (!rc && n.kind == NK_META_FILE) {
		pthread_mutex_lock(&rq.fs->meta_lock);
		if (rq.fs->meta[n.slot]) {
			len = rq.fs->meta_len[n.slot];
			buf = malloc(len ? len : 1);
			if (buf)
				memcpy(buf, rq.fs->meta[n.slot], len);
			else
				rc = -ENOMEM;
		}
		pthread_mutex_unlock(&rq.fs->meta_lock);
		if (!rc && !buf)
			rc = render_meta(rq.fs, n.slot, &buf, &len);
	} else if (!rc && (n.kind == NK_CONN_FILE || n.kind == NK_POP_FILE)) {
		rc = get_obj(rq.fs, &rq, &n, id, &it);
		if (!rc)
			rc = render_node(&n, it.value, &buf, &len);
		/*
		 * The kernel cuts what we return at the size it holds for the
		 * file. If that is smaller than these bytes (the value grew,
		 * and the keeper has not told the kernel yet, or this read
		 * raced with the change), make it ask again: this read may
		 * still come out short, but the next one asks for the size
		 * first and returns the rest, instead of an early end of file.
		 * Never when the value shrank: the kernel then shrinks its
		 * size to what it got, unless attributes were invalidated
		 * during the read. Attributes only (offset -1): no page lock
		 * is taken, so this is safe from inside a read.
		 */
		if (!rc && objtab_size_read(rq.fs->objs, n.obj, n.slot, len,
					    off >= 0 &&
					    (size_t)off + size >= len)) {
			fuse_lowlevel_notify_inval_inode(rq.fs->se, ino, -1, 0);
			atomic_fetch_add(&rq.fs->n_resync, 1);
		}
		if (!rc && n.kind == NK_CONN_FILE && !it.stale &&
		    rq.fs->conf.ttl > 0 &&
		    objtab_claim(rq.fs->objs, n.obj, it.gen))
			push_siblings(rq.fs, &n, id, &it);
	} else if (!rc) {
		rc = node_is_dir(&n) ? -EISDIR : -EINVAL;
	}
	cache_item_release(&it);
	rq_end(&rq);
	if (rc) {
		fuse_reply_err(req, -rc);
	} else if (off < 0 || (size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
	} else {
		size_t n2 = len - (size_t)off;
		fuse_reply_buf(req, buf + off, n2 < size ? n2 : size);
	}
	free(buf);
}

/* ---- readdir ------------------------------------------------------------------------- */

struct dirbuf {
	char *p;
	size_t len, size;
	bool plus, full;
	fuse_req_t req;
};

/* Adds one entry (offset `next` resumes after it). false when full. */
static bool add_entry(struct dirbuf *b, const char *name,
		      const struct answer *a, off_t next)
{
	size_t need;

	if (b->full)
		return false;
	if (b->plus) {
		struct fuse_entry_param e;
		fill_entry(&e, a);
		need = fuse_add_direntry_plus(b->req, b->p + b->len,
					      b->size - b->len, name, &e, next);
	} else {
		need = fuse_add_direntry(b->req, b->p + b->len,
					 b->size - b->len, name, &a->st, next);
	}
	if (need > b->size - b->len) {
		b->full = true;
		return false;
	}
	b->len += need;
	return true;
}

/* A child without its attributes (plain readdir, or not cheap to know):
 * the kernel asks with getattr when it needs them. */
static void bare(struct answer *a, uint64_t ino, mode_t mode)
{
	memset(a, 0, sizeof *a);
	a->st.st_ino = ino;
	a->st.st_mode = mode;
	a->timeout = 0;
}

static int list_dir(struct ifs *fs, struct rq *rq, const struct node *d,
		    const char *did, struct dirbuf *b, off_t off)
{
	struct cache_item it = {0};
	struct answer a;
	struct node c = {.region = d->region, .obj = d->obj};
	off_t i = 0;
	int rc = 0;

	/* "." and ".." first (the kernel handles what they point to). */
#define EMIT(name, ans) \
	do { \
		if (i++ >= off && !add_entry(b, (name), (ans), i)) \
			goto out; \
	} while (0)
	bare(&a, node_ino(d), S_IFDIR);
	EMIT(".", &a);
	bare(&a, 1, S_IFDIR);
	EMIT("..", &a);

	switch (d->kind) {
	case NK_ROOT:
		c.kind = NK_REGIONS;
		if ((rc = describe(fs, rq, &c, NULL, &a)))
			goto out;
		EMIT("regions", &a);
		c.kind = NK_META;
		if ((rc = describe(fs, rq, &c, NULL, &a)))
			goto out;
		EMIT(".interlinkfs", &a);
		break;
	case NK_REGIONS:
		for (uint32_t r = 0; r < fs->conf.nregions; r++) {
			c.kind = NK_REGION;
			c.region = r;
			describe(fs, rq, &c, NULL, &a);
			EMIT(fs->conf.regions[r], &a);
		}
		break;
	case NK_META:
		for (uint32_t s = 1; s <= MF_COUNT; s++) {
			c.kind = NK_META_FILE;
			c.slot = s;
			bare(&a, node_ino(&c), S_IFREG);
			EMIT(meta_name(s), &a);
		}
		break;
	case NK_REGION: {
		static const struct {
			enum node_kind k;
			const char *name;
		} sub[] = {{NK_CONNS, "connections"}, {NK_BYNAME, "by-name"},
			   {NK_POPS, "pops"}};
		/* Listing a region must not cost API requests: these three
		 * get their attributes when asked for. */
		for (size_t s = 0; s < 3; s++) {
			c.kind = sub[s].k;
			bare(&a, node_ino(&c), S_IFDIR);
			EMIT(sub[s].name, &a);
		}
		break;
	}
	case NK_CONNS:
	case NK_POPS: {
		bool pops = d->kind == NK_POPS;
		size_t k;
		json_t *o;

		rc = cache_list(pops ? fs->pops : fs->conns,
				fs->conf.regions[d->region], rq, &rq->intr, &it);
		if (rc)
			goto out;
		json_array_foreach(it.value, k, o) {
			char oid[CONN_ID_MAX + 1];
			if (i++ < off)
				continue;
			if (blob_id(NULL, o, oid, sizeof oid))
				snprintf(oid, sizeof oid, "%s",
					 conn_id(o) ? conn_id(o) : "");
			c.kind = pops ? NK_POP : NK_CONN;
			c.obj = objtab_intern(fs->objs, pops ? OBJ_POP : OBJ_CONN,
					      d->region, oid);
			if (!c.obj) {
				rc = -ENOMEM;
				goto out;
			}
			if (!b->plus || describe(fs, rq, &c, oid, &a))
				bare(&a, node_ino(&c), S_IFDIR);
			if (!add_entry(b, oid, &a, i))
				goto out;
		}
		break;
	}
	case NK_BYNAME: {
		struct view *v = &fs->views[d->region];
		double t;

		rc = byname_view(fs, rq, d->region, &it);
		if (rc)
			goto out;
		t = timeout_of(fs, &it);
		pthread_mutex_lock(&v->lock);
		for (size_t k = 0; k < v->n; k++) {
			if (i++ < off)
				continue;
			c.kind = NK_BYNAME_LINK;
			c.obj = objtab_intern(fs->objs, OBJ_CONN, d->region,
					      v->ids[k]);
			base_attr(fs, &a.st, node_ino(&c), S_IFLNK | 0777, 1,
				  (off_t)strlen("../connections/") + CONN_ID_MAX,
				  wall_of(fs, it.changed_at));
			a.timeout = t;
			if (!c.obj || !add_entry(b, v->names[k], &a, i))
				break;
		}
		pthread_mutex_unlock(&v->lock);
		break;
	}
	case NK_CONN:
	case NK_POP: {
		bool pop = d->kind == NK_POP;
		unsigned count = pop ? PF_COUNT : CF_COUNT;

		rc = get_obj(fs, rq, d, did, &it);
		if (rc)
			goto out;
		for (unsigned s = 1; s <= count; s++) {
			c.kind = pop ? NK_POP_FILE : NK_CONN_FILE;
			c.slot = s;
			if (!b->plus || describe(fs, rq, &c, did, &a))
				bare(&a, node_ino(&c), S_IFREG);
			EMIT(pop ? render_pop_name(s) : render_conn_name(s), &a);
		}
		if (!pop) {
			char target[128];
			c.kind = NK_CONN_POP;
			c.slot = SLOT_POPLINK;
			if (pop_link_target(it.value, target, sizeof target) == 0) {
				if (!b->plus || describe(fs, rq, &c, did, &a))
					bare(&a, node_ino(&c), S_IFLNK);
				EMIT("pop", &a);
			}
		}
		break;
	}
	default:
		rc = -ENOTDIR;
	}
#undef EMIT
out:
	cache_item_release(&it);
	/* A directory whose listing failed is an error, even though "." and
	 * ".." fitted: an empty answer would look like an empty region. */
	return rc;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       bool plus)
{
	struct rq rq;
	struct node n;
	struct dirbuf b = {.plus = plus, .req = req, .size = size};
	char id[CONN_ID_MAX + 1];
	int rc;

	rq_begin(&rq, req);
	atomic_fetch_add(&rq.fs->n_readdir, 1);
	b.p = malloc(size ? size : 1);
	rc = b.p ? node_of_ino(rq.fs, ino, &n, id) : -ENOMEM;
	if (!rc && !node_is_dir(&n))
		rc = -ENOTDIR;
	if (!rc)
		rc = list_dir(rq.fs, &rq, &n, id, &b, off);
	rq_end(&rq);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, b.p, b.len);
	free(b.p);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

/* ---- the rest ---------------------------------------------------------------------------- */

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

static void op_nosys(fuse_req_t req)
{
	/* The kernel remembers ENOSYS and stops asking (xattrs). */
	fuse_reply_err(req, ENOSYS);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	op_nosys(req);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	(void)size;
	op_nosys(req);
}

/* Every write-like operation: a read-only filesystem. */
static void rofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)ino; (void)attr; (void)to_set; (void)fi;
	rofs(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent; (void)name; (void)mode; (void)rdev;
	rofs(req);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent; (void)name; (void)mode;
	rofs(req);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent; (void)name;
	rofs(req);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link; (void)parent; (void)name;
	rofs(req);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent; (void)name; (void)newparent; (void)newname; (void)flags;
	rofs(req);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino; (void)newparent; (void)newname;
	rofs(req);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino; (void)buf; (void)size; (void)off; (void)fi;
	rofs(req);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent; (void)name; (void)mode; (void)fi;
	rofs(req);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)ino; (void)name; (void)value; (void)size; (void)flags;
	rofs(req);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino; (void)name;
	rofs(req);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	(void)ino; (void)mode; (void)offset; (void)length; (void)fi;
	rofs(req);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ifs *fs = userdata;

	fs->no_open = conn->capable & FUSE_CAP_NO_OPEN_SUPPORT;
	fs->no_opendir = conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS;
		/* Always plus: a walk needs the attributes anyway. */
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	}
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_EXPORT_SUPPORT);
	log_debug("kernel: zero-message open %s, opendir %s",
		  fs->no_open ? "yes" : "no", fs->no_opendir ? "yes" : "no");
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_release,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
	.fallocate = op_fallocate,
};

const struct fuse_lowlevel_ops *fs_ops(void)
{
	return &ops;
}

/* ---- the keeper thread -------------------------------------------------------------------- */

static void send_invalidations(struct ifs *fs)
{
	struct inval *q;
	size_t n;

	pthread_mutex_lock(&fs->q_lock);
	q = fs->q;
	n = fs->qn;
	fs->q = NULL;
	fs->qn = fs->qcap = 0;
	pthread_mutex_unlock(&fs->q_lock);
	for (size_t i = 0; i < n; i++) {
		uint64_t gen;

		/* -ENOENT: the kernel does not know that inode; fine. */
		if (q[i].name) {
			fuse_lowlevel_notify_inval_entry(fs->se, q[i].parent,
							 q[i].name,
							 strlen(q[i].name));
		} else if (q[i].data) {
			/* Only bytes of the generation the cache still holds:
			 * a change since was followed by an invalidation, and
			 * these bytes would be stale. */
			if (cache_peek_gen(fs->conns,
					   fs->conf.regions[q[i].region],
					   q[i].id, &gen) == 0 &&
			    gen == q[i].gen) {
				struct fuse_bufvec bv =
					FUSE_BUFVEC_INIT(q[i].len);
				struct node sn;

				bv.buf[0].mem = q[i].data;
				if (fuse_lowlevel_notify_store(fs->se, q[i].ino,
							       0, &bv, 0) == 0) {
					atomic_fetch_add(&fs->n_store, 1);
					if (node_from_ino(q[i].ino, fs->conf.nregions,
							  &sn) == 0)
						objtab_size_stored(fs->objs,
								   sn.obj,
								   sn.slot,
								   q[i].len);
				}
			}
		} else {
			fuse_lowlevel_notify_inval_inode(fs->se, q[i].ino, 0, 0);
		}
		free(q[i].name);
		free(q[i].data);
	}
	free(q);
}

/* SIGHUP: forget everything, and make the kernel forget it too. */
static void drop_everything(struct ifs *fs)
{
	uint64_t n = objtab_count(fs->objs);

	log_info("SIGHUP: dropping the cache");
	cache_drop(fs->conns, NULL, NULL);
	cache_drop(fs->pops, NULL, NULL);
	for (uint64_t obj = 1; obj <= n; obj++) {
		enum obj_kind k;
		uint32_t r;
		char id[CONN_ID_MAX + 1];
		if (objtab_get(fs->objs, obj, &k, &r, id))
			continue;
		if (k == OBJ_CONN)
			queue_conn_inodes(fs, r, obj);
		else
			queue_pop_inodes(fs, r, obj);
	}
	for (uint32_t r = 0; r < fs->conf.nregions; r++) {
		struct view *v = &fs->views[r];
		uint64_t dir = ino_of(NK_BYNAME, r, 0, 0);
		pthread_mutex_lock(&v->lock);
		for (size_t i = 0; i < v->n; i++)
			queue(fs, dir, 0, v->names[i]);
		view_clear(v);
		pthread_mutex_unlock(&v->lock);
		queue(fs, 0, dir, NULL);
		queue(fs, 0, ino_of(NK_CONNS, r, 0, 0), NULL);
		queue(fs, 0, ino_of(NK_POPS, r, 0, 0), NULL);
	}
}

/*
 * A plain `ls` is answered from the kernel's readdir cache, which only an
 * invalidation ends: when a listing expires, used or not, its directories
 * are invalidated, so the next readdir asks (and the listing is reloaded
 * then, not before: an idle region costs nothing).
 */
static void invalidate_expired(struct ifs *fs, struct cache *c,
			       double *expired, enum node_kind dir,
			       enum node_kind dir2)
{
	double now = cache_now(c);

	for (uint32_t r = 0; r < fs->conf.nregions; r++) {
		struct cache_item it;

		if (cache_peek_list(c, fs->conf.regions[r], &it))
			continue;
		if (it.expires <= now && expired[r] != it.expires) {
			expired[r] = it.expires;
			queue(fs, 0, ino_of(dir, r, 0, 0), NULL);
			if (dir2 != NK_NONE)
				queue(fs, 0, ino_of(dir2, r, 0, 0), NULL);
		}
		cache_item_release(&it);
	}
}

static void refresh_ahead(struct ifs *fs, struct cache *c, double lead)
{
	char *due[NODE_MAX_REGIONS];
	size_t n = cache_due(c, lead, due, fs->conf.nregions);

	for (size_t i = 0; i < n; i++) {
		int rc = cache_refresh_list(c, due[i], NULL);
		if (rc)
			log_debug("refresh of %s failed: %s", due[i],
				  strerror(-rc));
		free(due[i]);
	}
}

static void *keeper(void *arg)
{
	struct ifs *fs = arg;
	double ttl = fs->conf.ttl;
	double lead = ttl * 0.2 < 5 ? ttl * 0.2 : 5;
	double trimmed = mono(), refreshed = 0;

	while (!atomic_load(&fs->stopping)) {
		struct pollfd p[2] = {{.fd = fs->evfd, .events = POLLIN},
				      {.fd = fs->sigfd, .events = POLLIN}};
		uint64_t v;
		struct signalfd_siginfo si;

		if (poll(p, fs->sigfd >= 0 ? 2 : 1, 200) > 0) {
			if (p[0].revents & POLLIN &&
			    read(fs->evfd, &v, sizeof v) < 0)
				v = 0;
			if (fs->sigfd >= 0 && p[1].revents & POLLIN &&
			    read(fs->sigfd, &si, sizeof si) == sizeof si &&
			    si.ssi_signo == SIGHUP)
				drop_everything(fs);
		}
		if (fuse_session_exited(fs->se)) {
			/* Unmounted or signalled: do not let a slow API hold
			 * up the exit. */
			api_shutdown(fs->api);
			break;
		}
		/* Woken for each batch of work, but the refresh check (a walk
		 * over the cache) runs five times a second at most. */
		if (mono() - refreshed >= 0.2) {
			if (ttl > 0) {
				refresh_ahead(fs, fs->conns, lead);
				refresh_ahead(fs, fs->pops, lead);
			}
			invalidate_expired(fs, fs->conns, fs->conns_expired,
					   NK_CONNS, NK_BYNAME);
			invalidate_expired(fs, fs->pops, fs->pops_expired,
					   NK_POPS, NK_NONE);
			refreshed = mono();
		}
		send_invalidations(fs);
		/* Replaced values are freed by whichever thread drops the last
		 * reference, across malloc's per-thread arenas: give the free
		 * pages back now and then so a long-running mount stays at its
		 * size. */
		if (mono() - trimmed > 10) {
			malloc_trim(0);
			trimmed = mono();
		}
	}
	return NULL;
}

int fs_start(struct ifs *fs, struct fuse_session *se)
{
	sigset_t hup;
	int rc;

	fs->se = se;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	fs->sigfd = signalfd(-1, &hup, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fs->sigfd < 0)
		log_warn("SIGHUP will not drop the cache: signalfd: %s",
			 strerror(errno));
	rc = pthread_create(&fs->keeper, NULL, keeper, fs);
	if (rc)
		return -rc;
	fs->keeper_running = true;
	return 0;
}

void fs_stop(struct ifs *fs)
{
	if (!fs)
		return;
	atomic_store(&fs->stopping, true);
	api_shutdown(fs->api);
	if (fs->keeper_running) {
		kick(fs);
		pthread_join(fs->keeper, NULL);
		fs->keeper_running = false;
	}
}

int fs_new(const struct fs_conf *conf, struct api *api, struct ifs **out)
{
	struct ifs *fs = calloc(1, sizeof *fs);
	struct cache_conf cc;
	struct cache_ops co = {.load_list = load_conns, .load_one = load_conn,
			       .changed = on_conn_changes, .id_of = blob_id};
	struct cache_ops po = {.load_list = load_pops, .load_one = load_pop,
			       .changed = on_pop_changes};
	struct timespec now;
	int rc = -ENOMEM;

	if (!fs)
		return -ENOMEM;
	fs->conf = *conf;
	fs->api = api;
	fs->evfd = fs->sigfd = -1;
	atomic_init(&fs->stopping, false);
	pthread_mutex_init(&fs->meta_lock, NULL);
	pthread_mutex_init(&fs->q_lock, NULL);
	pthread_mutex_init(&fs->memo_lock, NULL);
	clock_gettime(CLOCK_REALTIME, &fs->mounted);
	clock_gettime(CLOCK_REALTIME, &now);
	fs->wall_minus_mono = (double)now.tv_sec + (double)now.tv_nsec / 1e9 -
			      mono(); /* the caches' clock */
	fs->views = calloc(conf->nregions ? conf->nregions : 1,
			   sizeof *fs->views);
	fs->conns_expired = calloc(conf->nregions + 1, sizeof(double));
	fs->pops_expired = calloc(conf->nregions + 1, sizeof(double));
	if (!fs->views || !fs->conns_expired || !fs->pops_expired)
		goto fail;
	for (uint32_t r = 0; r < conf->nregions; r++)
		pthread_mutex_init(&fs->views[r].lock, NULL);
	fs->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fs->evfd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = objtab_new(&fs->objs)))
		goto fail;
	cache_conf_default(&cc);
	cc.ttl = conf->ttl;
	cc.stale = conf->stale;
	cc.grace = conf->grace;
	if (conf->budget)
		cc.budget = conf->budget;
	co.ud = po.ud = fs;
	if ((rc = cache_new(&cc, &co, &fs->conns)))
		goto fail;
	cc.ttl = conf->ttl > 0 ? conf->pop_ttl : 0;
	if ((rc = cache_new(&cc, &po, &fs->pops)))
		goto fail;
	*out = fs;
	return 0;
fail:
	fs_free(fs);
	return rc;
}

void fs_free(struct ifs *fs)
{
	if (!fs)
		return;
	cache_free(fs->conns);
	cache_free(fs->pops);
	objtab_free(fs->objs);
	for (uint32_t r = 0; fs->views && r < fs->conf.nregions; r++) {
		view_clear(&fs->views[r]);
		pthread_mutex_destroy(&fs->views[r].lock);
	}
	free(fs->views);
	free(fs->conns_expired);
	free(fs->pops_expired);
	for (unsigned s = 0; s <= MF_COUNT; s++)
		free(fs->meta[s]);
	for (unsigned m = 0; m < MEMO_SLOTS; m++) {
		json_decref(fs->memo[m].blob);
		json_decref(fs->memo[m].obj);
	}
	pthread_mutex_destroy(&fs->memo_lock);
	for (size_t i = 0; i < fs->qn; i++) {
		free(fs->q[i].name);
		free(fs->q[i].data);
	}
	free(fs->q);
	if (fs->evfd >= 0)
		close(fs->evfd);
	if (fs->sigfd >= 0)
		close(fs->sigfd);
	pthread_mutex_destroy(&fs->meta_lock);
	pthread_mutex_destroy(&fs->q_lock);
	free(fs);
}
