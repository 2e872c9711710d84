/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keeper: the thread that tells the kernel what changed (invalidations,
 * and files pushed to its page cache ahead of reads), refreshes recently
 * used listings before they expire, ends the kernel's readdir caches of
 * listings that expired, and drops everything on SIGHUP.
 *
 * Request handlers and the cache's change callback queue; the keeper
 * sends. One exception: the files of an object a reader has just listed
 * or started to read, which it reads next, are stored by that readdir's or
 * that read's handler after its reply (keeper_push_now), as waking the
 * keeper takes longer than the reader takes to get there. A store waits
 * on the page lock a read of that file in progress holds, until another
 * handler answers the read: so one handler at a time stores, and the
 * others queue.
 */
#include "keeper.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "clock.h"
#include "fs_i.h"
#include "invalq.h"
#include "log.h"
#include "node.h"
#include "state.h"

/* The keeper's own state: no other file sees it. */
struct keeper {
	struct invalq *q;               /* what it is to send */
	int evfd, sigfd;                /* its wake-ups: work, SIGHUP */
	pthread_t thread;
	bool running;
	atomic_bool stopping;
	/* Held by whoever sends the kernel stores or invalidations of data:
	 * the keeper for each batch, a handler for its object's stores (by
	 * trylock: when the keeper holds it, the handler queues instead).
	 * A store checks that its bytes are still the cache's and sends them
	 * under it, so an invalidation of the change that replaced them
	 * cannot land between the check and the store and leave old bytes
	 * behind it in the page cache. */
	pthread_mutex_t send_lock;
	/* When the journal, a Prometheus file or health was last read
	 * (clock_mono, in ms): while they are, every listing is kept
	 * fresh. */
	atomic_uint_fast64_t watched_ms;
	/* Per kind and region: the expiry of the listing whose directories
	 * were last invalidated (invalidate_expired). */
	double *expired[K_COUNT];
	/* ... and of the one that was older than stale. */
	double *blinded[K_COUNT];
	/* Why everything is to be dropped (keeper_drop_all), or NULL. */
	_Atomic(const char *) drop_why;
	/* The last thing the API said of the key (keeper_key). */
	atomic_bool refused;
};

int keeper_new(struct ifs *fs, struct keeper **out)
{
	struct keeper *k = calloc(1, sizeof *k);
	uint32_t nr = fs->conf.nregions ? fs->conf.nregions : 1;
	int rc = -ENOMEM;

	if (!k)
		return -ENOMEM;
	k->evfd = k->sigfd = -1;
	atomic_init(&k->stopping, false);
	atomic_init(&k->watched_ms, 0);
	pthread_mutex_init(&k->send_lock, NULL);
	for (int i = 0; i < K_COUNT; i++)
		if (!(k->expired[i] = calloc(nr, sizeof *k->expired[i])) ||
		    !(k->blinded[i] = calloc(nr, sizeof *k->blinded[i])))
			goto fail;
	if ((rc = invalq_new(&k->q)))
		goto fail;
	k->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->evfd < 0) {
		rc = -errno;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	keeper_free(k);
	return rc;
}

void keeper_free(struct keeper *k)
{
	if (!k)
		return;
	invalq_free(k->q);
	if (k->evfd >= 0)
		close(k->evfd);
	if (k->sigfd >= 0)
		close(k->sigfd);
	for (int i = 0; i < K_COUNT; i++) {
		free(k->expired[i]);
		free(k->blinded[i]);
	}
	pthread_mutex_destroy(&k->send_lock);
	free(k);
}

void keeper_watch(struct ifs *fs)
{
	atomic_store(&fs->keeper->watched_ms,
		     (uint64_t)(clock_mono() * 1000));
}

/* Whether the mount was watched within the last `window` seconds. */
static bool watched_within(struct ifs *fs, double window)
{
	uint64_t at = atomic_load(&fs->keeper->watched_ms);

	return at && clock_mono() * 1000 - (double)at < window * 1000;
}

/* Looked at within a ttl (at least CACHE_FRESH_FLOOR), and a half. */
bool keeper_watched(struct ifs *fs)
{
	double ttl = fs->conf.ttl > CACHE_FRESH_FLOOR ? fs->conf.ttl :
		     CACHE_FRESH_FLOOR;

	return watched_within(fs, ttl * 1.5 + 1);
}

void keeper_drop_all(struct ifs *fs, const char *why)
{
	atomic_store(&fs->keeper->drop_why, why);
	keeper_kick(fs);
}

void keeper_key(struct ifs *fs, bool refused)
{
	if (!refused) {
		if (atomic_load(&fs->keeper->refused))
			atomic_store(&fs->keeper->refused, false);
		return;
	}
	if (atomic_exchange(&fs->keeper->refused, true))
		return;
	log_warn("the API refused the key: dropping every listing held");
	keeper_drop_all(fs, "the API refused the key");
}

/* ---- the queue (invalq.h) ------------------------------------------------ */

void keeper_entry(struct ifs *fs, uint64_t parent, const char *name)
{
	invalq_entry(fs->keeper->q, parent, name);
}

void keeper_inode(struct ifs *fs, uint64_t ino)
{
	invalq_inode(fs->keeper->q, ino);
}

void keeper_object(struct ifs *fs, const struct kind *k, uint64_t obj)
{
	invalq_object(fs->keeper->q, k, obj);
}

/* Whether g's files are to be pushed now: fresh bytes, a mount that
 * caches, and the first claim on this generation of the object. */
static bool claim(struct ifs *fs, uint64_t obj, const struct got *g)
{
	return !g->stale && fs->conf.ttl > 0 &&
	       objtab_claim(fs->objs, obj, g->gen);
}

/* g's files but skip, claimed, queued for the keeper to store. */
static void queue_push(struct ifs *fs, uint64_t obj, uint32_t region,
		       const struct got *g, int skip)
{
	const struct kind *k = robj_kind(g->o);

	for (unsigned i = 0; i < k->nfiles; i++)
		if ((int)i != skip && robj_file_size(g->o, i) > 0)
			invalq_store(fs->keeper->q, g->o, i, obj, region, g->gen);
	keeper_kick(fs);
}

static void store(struct ifs *fs, const struct inval *q);

void keeper_push_now(struct ifs *fs, uint64_t obj, uint32_t region,
		     const struct got *g, int skip)
{
	const struct kind *k = robj_kind(g->o);
	struct inval q = {.o = g->o, .obj = obj, .gen = g->gen,
			  .region = region};

	if (!claim(fs, obj, g))
		return;
	/* One handler at a time, and only when there are others: a store
	 * may wait for a read of that file to be answered, and the other
	 * handlers must be free to answer it. Not while the keeper sends
	 * (see send_lock). Otherwise the keeper stores. */
	if (!fs->conf.handlers_store ||
	    pthread_mutex_trylock(&fs->keeper->send_lock)) {
		queue_push(fs, obj, region, g, skip);
		return;
	}
	/* From the file after skip on, the order a reader goes on in. */
	for (unsigned i = 1; i <= k->nfiles; i++) {
		q.file = (unsigned)(skip + (int)i) % k->nfiles;
		if ((int)q.file == skip)
			continue;
		q.ino = node_obj_ino(obj, NT_FILE, q.file);
		store(fs, &q);
	}
	pthread_mutex_unlock(&fs->keeper->send_lock);
}

void keeper_kick(struct ifs *fs)
{
	uint64_t one = 1;

	if (write(fs->keeper->evfd, &one, sizeof one) < 0)
		return; /* the counter is full: the keeper is awake anyway */
}

/* ---- sending ------------------------------------------------------------------ */

/* Only bytes of the generation the cache still holds: a change since was
 * followed by an invalidation, and these bytes would be stale. */
static void store(struct ifs *fs, const struct inval *q)
{
	const struct kind *k = robj_kind(q->o);
	struct fuse_bufvec bv;
	long size = robj_file_size(q->o, q->file);
	uint64_t gen;
	char *buf;
	int rc;

	if (size <= 0 ||
	    cache_peek_gen(fs->kinds[k->id].cache, fs->conf.regions[q->region],
			   robj_id(q->o), &gen) || gen != q->gen ||
	    !(buf = malloc((size_t)size)))
		return;
	/* The kernel's pages may hold an older generation: they go first,
	 * every file's (one of them may be a stored page this store would
	 * only overwrite the start of). */
	if (objtab_give(fs->objs, q->obj, q->gen))
		for (unsigned i = 0; i < k->nfiles; i++)
			fuse_lowlevel_notify_inval_inode(fs->se,
				node_obj_ino(q->obj, NT_FILE, i), 0, 0);
	robj_read(q->o, q->file, 0, buf, (size_t)size);
	bv = FUSE_BUFVEC_INIT((size_t)size);
	bv.buf[0].mem = buf;
	rc = fuse_lowlevel_notify_store(fs->se, q->ino, 0, &bv, 0);
	if (rc == 0) {
		atomic_fetch_add(&fs->n.pages_pushed, 1);
		objtab_size_stored(fs->objs, q->obj, q->file, (size_t)size);
	} else if (rc == -ENOENT) {
		/* Pushed right after a readdirplus, before the kernel made
		 * the inode: the first read pushes again. */
		objtab_unclaim(fs->objs, q->obj, q->gen);
	}
	free(buf);
}

static void send_all(struct ifs *fs)
{
	struct inval *q;
	size_t n;

	invalq_take(fs->keeper->q, &q, &n);
	for (size_t i = 0; i < n; i++) {
		/* -ENOENT: the kernel does not know that inode; fine. */
		if (q[i].name)
			fuse_lowlevel_notify_inval_entry(fs->se, q[i].parent,
							 q[i].name,
							 strlen(q[i].name));
		else if (q[i].o)
			store(fs, &q[i]);
		else
			fuse_lowlevel_notify_inval_inode(fs->se, q[i].ino, 0, 0);
	}
	invalq_done(q, n);
}

/* ---- SIGHUP, expiry, refresh-ahead --------------------------------------- */

void keeper_forget_name(void *dir, const char *name)
{
	const struct keeper_dir *d = dir;

	keeper_entry(d->fs, d->dir, name);
}

/* Every directory of a kind in region r, and the names of its by-name
 * directory (forgotten). */
static void drop_kind_dirs(struct ifs *fs, struct kstate *ks, uint32_t r)
{
	struct keeper_dir g = {fs, node_kind_dir_ino(r, ks->k->id, true)};

	keeper_inode(fs, node_kind_dir_ino(r, ks->k->id, false));
	if (!ks->byname)
		return;
	byname_drop(ks->byname, r, keeper_forget_name, &g);
	keeper_inode(fs, g.dir);
}

/* SIGHUP, or a refused key: forget everything, and make the kernel
 * forget it too. */
static void drop_everything(struct ifs *fs, const char *why)
{
	log_info("%s: dropping the cache", why);
	/* What comes next is saved at once. */
	state_rearm(fs->state);
	for (int k = 0; k < K_COUNT; k++) {
		struct kstate *ks = &fs->kinds[k];
		uint64_t n = objtab_count(fs->objs, (enum kind_id)k);

		cache_drop(ks->cache, NULL, NULL);
		for (uint64_t i = 0; i < n; i++)
			keeper_object(fs, ks->k, objtab_nth((enum kind_id)k, i));
		for (uint32_t r = 0; r < fs->conf.nregions; r++)
			drop_kind_dirs(fs, ks, r);
	}
}

/* The subdirectories of region r's objects that list objects of kind k
 * (connections/ID/links/ for links). */
static void expire_subdirs(struct ifs *fs, const struct kind *k, uint32_t r)
{
	for (int p = 0; p < K_COUNT; p++) {
		int s = kind_subdir_of(kind_get(p), k->id);
		uint64_t n = s < 0 ? 0 : objtab_count(fs->objs, (enum kind_id)p);

		for (uint64_t i = 0; i < n; i++) {
			uint64_t obj = objtab_nth((enum kind_id)p, i);
			char id[FIELD_ID_MAX + 1];
			uint32_t region;

			if (objtab_get(fs->objs, obj, &region, id) == 0 &&
			    region == r)
				keeper_inode(fs, node_obj_ino(obj, NT_SUBDIR,
							      (uint32_t)s));
		}
	}
}

/* The directories that show kind ks of region r, and the subdirectories
 * that list its objects, invalidated. */
static void invalidate_kind_dirs(struct ifs *fs, struct kstate *ks,
				 uint32_t r)
{
	keeper_inode(fs, node_kind_dir_ino(r, ks->k->id, false));
	if (ks->k->byname)
		keeper_inode(fs, node_kind_dir_ino(r, ks->k->id, true));
	expire_subdirs(fs, ks->k, r);
}

/*
 * A plain `ls` is answered from the kernel's readdir cache, which only an
 * invalidation ends: when a listing expires, used or not, its directories
 * are invalidated, so the next readdir asks (and the listing is reloaded
 * then, not before: an idle region costs nothing). Again when it gets
 * older than stale: an `ls` is then an error, not the kernel's copy.
 */
static void invalidate_expired(struct ifs *fs, struct kstate *ks)
{
	double now = cache_now(ks->cache);

	for (uint32_t r = 0; r < fs->conf.nregions; r++) {
		struct cache_item it;

		if (cache_peek_list(ks->cache, fs->conf.regions[r], &it))
			continue;
		double *expired = &fs->keeper->expired[ks->k->id][r];
		double *blinded = &fs->keeper->blinded[ks->k->id][r];
		double blind_at = it.born + fs->conf.stale;

		if (it.expires <= now && *expired != it.expires) {
			*expired = it.expires;
			invalidate_kind_dirs(fs, ks, r);
		}
		if (blind_at <= now && *blinded != blind_at) {
			*blinded = blind_at;
			invalidate_kind_dirs(fs, ks, r);
		}
		cache_item_release(ks->cache, &it);
	}
}

static void refresh(struct kstate *ks, char **due, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = cache_refresh_list(ks->cache, due[i]);
		if (rc)
			log_debug("refresh of %s %s failed: %s", ks->k->dir,
				  due[i], strerror(-rc));
		free(due[i]);
	}
}

/*
 * Listings used since they were loaded are reloaded shortly before they
 * expire (lead seconds), so readers never wait. While the mount is
 * watched (the journal, a Prometheus file or health is read), every
 * listing is reloaded about when it expires, once per ttl (with ttl 0,
 * once per CACHE_FRESH_FLOOR): those never loaded too, and those held
 * from an earlier run, so that changes show with nobody reading the tree
 * (but a region the API does not serve is not asked again and again). That reload starts a little ahead
 * (WATCH_LEAD, at most a twentieth of ttl): behind a shared cache whose
 * copies live a little less than ttl, a host that asks while another's
 * request refreshes the copy gets the old copy still younger than ttl,
 * not one already past it (a false alarm), and the new one next time.
 */
#define WATCH_LEAD 1.0

static void refresh_ahead(struct ifs *fs, struct kstate *ks, double lead,
			  bool watched)
{
	char *due[NODE_MAX_REGIONS];
	double floor = ks->ttl > 0 ? 0 : CACHE_FRESH_FLOOR;
	double ahead = ks->ttl * 0.05 < WATCH_LEAD ? ks->ttl * 0.05 :
		       WATCH_LEAD;

	if (ks->ttl > 0)
		refresh(ks, due, cache_due(ks->cache, lead, false, 0, due,
					   fs->conf.nregions));
	if (!watched)
		return;
	refresh(ks, due, cache_due(ks->cache, ahead, true, floor, due,
				   fs->conf.nregions));
	for (uint32_t r = 0; r < fs->conf.nregions; r++) {
		struct cache_sight st;

		cache_sight(ks->cache, fs->conf.regions[r], &st);
		/* Never loaded, or held from an earlier run (restore.h):
		 * loaded, so that sight says what it is now. A region the
		 * API said it does not serve is asked again once per
		 * catalog_ttl: a 404 may have been a passing one. */
		if ((!st.held || st.seeded) && !st.pending &&
		    !(st.loaded && st.last_rc == -ENOENT &&
		      st.checked < fs->conf.catalog_ttl))
			cache_refresh_list(ks->cache, fs->conf.regions[r]);
	}
}

/* The journal says when sight of a listing is lost, and when it comes
 * back (changes.h). */
static void say_sight(struct ifs *fs, struct kstate *ks)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (uint32_t r = 0; r < fs->conf.nregions; r++) {
		struct cache_sight st;

		cache_sight(ks->cache, fs->conf.regions[r], &st);
		if (changes_sight(fs->changes, ks->k, r, fs->conf.regions[r],
				  &st, st.born + fs->wall_minus_mono, &now))
			log_warn("out of memory: the journal could not say "
				 "what became of %s in %s", ks->k->dir,
				 fs->conf.regions[r]);
	}
}

/* Waits up to 200 ms for work or SIGHUP. */
static void wait_work(struct ifs *fs)
{
	struct keeper *k = fs->keeper;
	struct pollfd p[2] = {{.fd = k->evfd, .events = POLLIN},
			      {.fd = k->sigfd, .events = POLLIN}};
	struct signalfd_siginfo si;
	const char *why;
	uint64_t v;

	if (poll(p, k->sigfd >= 0 ? 2 : 1, 200) <= 0)
		return;
	if (p[0].revents & POLLIN && read(k->evfd, &v, sizeof v) < 0)
		v = 0;
	if (k->sigfd >= 0 && p[1].revents & POLLIN &&
	    read(k->sigfd, &si, sizeof si) == sizeof si &&
	    si.ssi_signo == SIGHUP)
		drop_everything(fs, "SIGHUP");
	why = atomic_exchange(&k->drop_why, NULL);
	if (why)
		drop_everything(fs, why);
}

static void *keeper(void *arg)
{
	struct ifs *fs = arg;
	double trimmed = clock_mono(), refreshed = 0;

	while (!atomic_load(&fs->keeper->stopping)) {
		wait_work(fs);
		if (fuse_session_exited(fs->se)) {
			/* Unmounted or signalled: do not let a slow API hold
			 * up the exit. */
			api_shutdown(fs->api);
			break;
		}
		/* Woken for each batch of work, but the refresh check (a walk
		 * over the cache) runs five times a second at most. */
		if (clock_mono() - refreshed >= 0.2) {
			bool watched = keeper_watched(fs);
			for (int k = 0; k < K_COUNT; k++) {
				struct kstate *ks = &fs->kinds[k];
				double lead = ks->ttl * 0.2 < 5 ? ks->ttl * 0.2 : 5;
				refresh_ahead(fs, ks, lead, watched);
				invalidate_expired(fs, ks);
				say_sight(fs, ks);
			}
			refreshed = clock_mono();
		}
		pthread_mutex_lock(&fs->keeper->send_lock);
		send_all(fs);
		pthread_mutex_unlock(&fs->keeper->send_lock);
		/* Replaced values are freed by whichever thread drops the last
		 * reference, across malloc's per-thread arenas: give the free
		 * pages back now and then so a long-running mount stays at its
		 * size. */
		if (clock_mono() - trimmed > 10) {
			malloc_trim(0);
			trimmed = clock_mono();
		}
	}
	return NULL;
}

int keeper_start(struct ifs *fs)
{
	struct keeper *k = fs->keeper;
	sigset_t hup;
	int rc;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	k->sigfd = signalfd(-1, &hup, SFD_CLOEXEC | SFD_NONBLOCK);
	if (k->sigfd < 0)
		log_warn("SIGHUP will not drop the cache: signalfd: %s",
			 strerror(errno));
	rc = pthread_create(&k->thread, NULL, keeper, fs);
	if (rc)
		return -rc;
	k->running = true;
	return 0;
}

void keeper_stop(struct ifs *fs)
{
	struct keeper *k = fs->keeper;

	atomic_store(&k->stopping, true);
	api_shutdown(fs->api);
	if (k->running) {
		keeper_kick(fs);
		pthread_join(k->thread, NULL);
		k->running = false;
	}
}
