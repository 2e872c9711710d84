/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: listings and the journal saved as they change (state.h): the
 * hand-over of listings to the state's thread, the hook every batch of
 * the journal goes through, and catching up after a failure.
 *
 * Disk I/O happens under st->io, which the hook takes inside the
 * changes' writer lock: batches are written in the order of their
 * offsets, and the journal in memory does not move while its copy is
 * written. Readers of the journal never wait for it; a cache's loading
 * thread never does either (its listing is handed over, not written).
 */
#include "state_i.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "journal.h"
#include "log.h"

/* Past this many times the lines it keeps, the journal's file is written
 * again from memory (with only those). */
#define COMPACT_AT 2

/* A listing's turn comes at most once per this: its kind's ttl, at least
 * a second. */
static double window(const struct state *st, enum kind_id k)
{
	double ttl = st->fs->kinds[k].ttl;

	return ttl > CACHE_FRESH_FLOOR ? ttl : CACHE_FRESH_FLOOR;
}

static size_t nslots(const struct state *st)
{
	return (size_t)K_COUNT * st->nregions;
}

static uint64_t count_lines(const char *text, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

/* ---- writing (io held) ------------------------------------------------- */

/* Nothing is written before the back-off ends. */
static void back_off(struct state *st)
{
	st->retry_wait = st->retry_wait ? fmin(st->retry_wait * 2, 30) : 1;
	st->retry_at = clock_mono() + st->retry_wait;
}

static void failed(struct state *st, const char *what, int err)
{
	atomic_fetch_add(&st->errors, 1);
	statedir_failed(st->dir, what, err);
	back_off(st);
}

/* s's listing (kind k, region r) into its file, with the batch text that
 * begins at offset off of the journal. */
static int save_listing(struct state *st, const struct kind *k, uint32_t r,
			struct slot *s, const char *text, size_t len,
			uint64_t off)
{
	struct statefile_listing h = {.kind = k, .born = s->saved_born,
				      .off = off};
	char name[STATEFILE_NAME], *buf = NULL;
	double t0 = clock_mono();
	size_t blen = 0;
	int rc;

	memcpy(h.key, statedir_key(st->dir), STATEFILE_KEY);
	snprintf(h.region, sizeof h.region, "%s", st->fs->conf.regions[r]);
	h.batch = (struct statefile_slice){text ? text : "", len};
	statefile_name(h.key, SF_LISTING, h.region, k, name);
	rc = statefile_listing_encode(&h, s->saved, &buf, &blen);
	if (!rc) {
		struct iovec iov = {buf, blen};
		rc = statedir_write(st->dir, name, &iov, 1);
	}
	free(buf);
	if (rc) {
		s->on_disk = false;
		failed(st, name, rc);
		return rc;
	}
	memcpy(s->sum, h.sum, sizeof s->sum);
	s->on_disk = true;
	s->recorded = s->saved_born;
	atomic_fetch_add(&st->saves, 1);
	atomic_fetch_add(&st->bytes, blen);
	log_debug("state: %s saved, %zu bytes, in %.2f ms", name, blen,
		  (clock_mono() - t0) * 1000);
	return 0;
}

/* The journal's file written again, from memory: every line kept. */
static int rewrite_journal(struct state *st)
{
	struct statefile_journal h = {0};
	char head[256], name[STATEFILE_NAME], *text = NULL;
	size_t len = 0, hl;
	int rc;

	memcpy(h.key, statedir_key(st->dir), STATEFILE_KEY);
	statefile_name(h.key, SF_JOURNAL, NULL, NULL, name);
	rc = journal_kept(st->fs->journal, &text, &len, &h.base, &h.dropped);
	hl = statefile_journal_header(&h, head, sizeof head);
	if (!rc) {
		struct iovec iov[2] = {{head, hl}, {text, len}};
		rc = statedir_write(st->dir, name, iov, len ? 2 : 1);
	}
	if (rc) {
		st->journal_ok = false;
		failed(st, name, rc);
	} else {
		st->journal_ok = true;
		st->journal_lines = count_lines(text, len);
		atomic_fetch_add(&st->bytes, hl + len);
	}
	free(text);
	return rc;
}

static int append(struct state *st, const char *text, size_t len)
{
	char name[STATEFILE_NAME];
	int rc;

	statefile_name(statedir_key(st->dir), SF_JOURNAL, NULL, NULL, name);
	rc = statedir_append(st->dir, name, (size_t)-1, text, len);
	if (rc) {
		st->journal_ok = false;
		failed(st, name, rc);
		return rc;
	}
	st->journal_lines += count_lines(text, len);
	atomic_fetch_add(&st->bytes, len);
	return 0;
}

/* Whether something readers saw is not on disk yet. */
static bool behind(struct state *st)
{
	if (!st->journal_ok)
		return true;
	for (size_t i = 0; i < nslots(st); i++)
		if (st->slots[i].saved && !st->slots[i].on_disk)
			return true;
	return false;
}

/*
 * Before a batch: the directory ready, and what it lacks written (but
 * the listing of slot except, written next): the listings first, each
 * saying the journal holds everything up to its end, then the journal
 * from memory. A crash between leaves a journal shorter than a listing
 * says, which the next mount fills with a comment (restore.c): lines
 * lost, and said so, rather than journalled twice. 0, or -EAGAIN.
 */
static int catch_up(struct state *st, const struct slot *except)
{
	uint64_t end = journal_size(st->fs->journal, NULL);
	size_t max = st->fs->conf.journal_lines;

	if (st->retry_at > clock_mono())
		return -EAGAIN;
	if (!statedir_ready(st->dir)) {
		back_off(st);
		return -EAGAIN;
	}
	if (statedir_generation(st->dir) != st->dir_gen) {
		/* A directory made anew holds nothing. */
		st->dir_gen = statedir_generation(st->dir);
		st->journal_ok = false;
		for (size_t i = 0; i < nslots(st); i++)
			st->slots[i].on_disk = false;
	}
	for (size_t i = 0; i < nslots(st); i++) {
		struct slot *s = &st->slots[i];

		if (s != except && s->saved && !s->on_disk &&
		    save_listing(st, kind_get((enum kind_id)(i / st->nregions)),
				 (uint32_t)(i % st->nregions), s, NULL, 0, end))
			return -EAGAIN;
	}
	if ((!st->journal_ok || st->journal_lines > COMPACT_AT * max) &&
	    rewrite_journal(st))
		return -EAGAIN;
	return 0;
}

/* The hook (changes.h): a batch, written before readers see it. */
static void on_batch(void *ud, const struct kind *k, uint32_t r,
		     const struct cache_listing *l, double born,
		     const char *text, size_t len, uint64_t off)
{
	struct state *st = ud;
	struct slot *s = l && r < st->nregions ? state_slot(st, k->id, r) :
			 NULL;
	struct cache_listing *old = NULL;

	pthread_mutex_lock(&st->io);
	if (s) {
		/* What the journal speaks of from now on. */
		old = s->saved;
		cache_listing_hold((struct cache_listing *)l);
		s->saved = (struct cache_listing *)l;
		s->saved_seq = cache_listing_seq(l);
		s->saved_born = born;
		s->on_disk = false;
	}
	if (catch_up(st, s)) {
		if (len)
			st->journal_ok = false;
	} else if (s && save_listing(st, k, r, s, text, len, off)) {
		/* Not appended either: the listing on disk is the one the
		 * journal's file last spoke of. */
		if (len)
			st->journal_ok = false;
	} else if (!len || !append(st, text, len)) {
		st->retry_wait = st->retry_at = 0;
		statedir_ok(st->dir);
	}
	pthread_mutex_unlock(&st->io);
	cache_listing_release(old);
}

/* ---- when each listing was last seen unchanged ---------------------------- */

/* The seen file, when a listing on disk was seen unchanged since (once
 * per window, or now when all). io held. */
static void write_seen(struct state *st, bool all, double now)
{
	size_t n = nslots(st), k = 0;
	struct statefile_seen *e = calloc(n + 1, sizeof *e);
	double *seen = calloc(n + 1, sizeof *seen);
	char name[STATEFILE_NAME], *buf = NULL;
	bool due = false;
	size_t len = 0;

	if (!e || !seen)
		goto out;
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &st->slots[i];

		seen[i] = s->last_seq == s->saved_seq ? s->seen : 0;
		due |= s->on_disk && seen[i] > s->recorded &&
		       (all || now - s->seen_at >= window(st, (enum kind_id)
							   (i / st->nregions)));
	}
	pthread_mutex_unlock(&st->lock);
	if (!due || (!all && st->retry_at > now) || !statedir_ready(st->dir))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &st->slots[i];

		if (!s->on_disk)
			continue;
		snprintf(e[k].region, sizeof e[k].region, "%s",
			 st->fs->conf.regions[i % st->nregions]);
		e[k].kind = kind_get((enum kind_id)(i / st->nregions));
		memcpy(e[k].sum, s->sum, sizeof e[k].sum);
		e[k++].born = fmax(s->recorded, seen[i]);
	}
	statefile_name(statedir_key(st->dir), SF_SEEN, NULL, NULL, name);
	if (statefile_seen_encode(statedir_key(st->dir), e, k, &buf, &len) ==
	    0) {
		struct iovec iov = {buf, len};
		int rc = statedir_write(st->dir, name, &iov, 1);

		if (rc) {
			failed(st, name, rc);
			goto out;
		}
		atomic_fetch_add(&st->bytes, len);
		for (size_t i = 0; i < n; i++) {
			if (!st->slots[i].on_disk)
				continue;
			st->slots[i].recorded = fmax(st->slots[i].recorded,
						     seen[i]);
			st->slots[i].seen_at = now;
		}
	}
out:
	free(buf);
	free(e);
	free(seen);
}

/* What the thread does besides listings: catching up after a failure,
 * the seen file. When it wants to run again. */
static double housekeeping(struct state *st, bool all)
{
	double now = clock_mono(), next = now + 1;
	bool sync;

	pthread_mutex_lock(&st->io);
	if (all)
		st->retry_at = 0;
	sync = behind(st) && st->retry_at <= now;
	if (behind(st) && st->retry_at > now)
		next = st->retry_at;
	write_seen(st, all, now);
	pthread_mutex_unlock(&st->io);
	/* No journal: a mount that failed before it had one. */
	if (sync && st->fs->changes)
		changes_sync(st->fs->changes);
	return next;
}

/* ---- listings' turns ------------------------------------------------------ */

/* The journal compares listing l of slot i with the last (and the hook
 * saves it). */
static void process(struct state *st, size_t i, struct cache_listing *l,
		    const struct timespec *t, double born)
{
	const struct kind *k = kind_get((enum kind_id)(i / st->nregions));
	uint32_t r = (uint32_t)(i % st->nregions);

	if (changes_listed(st->fs->changes, k, r, st->fs->conf.regions[r], l,
			   t, born))
		log_warn("out of memory: changes of %s in %s not written to "
			 "the journal", k->dir, st->fs->conf.regions[r]);
	cache_listing_release(l);
}

/* One listing whose turn came (all: every one waiting) processed: true
 * (the lock was dropped meanwhile), else false with *next, when the next
 * turn comes. lock held. */
static bool take_turn(struct state *st, bool all, double *next)
{
	double now = clock_mono();

	*next = now + 3600;
	for (size_t i = 0; i < nslots(st); i++) {
		struct slot *s = &st->slots[i];
		double due = s->last_save ? s->last_save +
			     window(st, (enum kind_id)(i / st->nregions)) : 0;
		struct cache_listing *l = s->pending;
		struct timespec t = s->pending_t;
		double born = s->pending_born;

		if (!l)
			continue;
		if (!all && now < due) {
			*next = fmin(*next, due);
			continue;
		}
		s->pending = NULL;
		s->last_save = now;
		pthread_mutex_unlock(&st->lock);
		process(st, i, l, &t, born);
		pthread_mutex_lock(&st->lock);
		return true;
	}
	return false;
}

static void *writer(void *arg)
{
	struct state *st = arg;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		double next, more;
		struct timespec ts;

		if (take_turn(st, st->quit, &next))
			continue;
		if (st->quit)
			break;
		pthread_mutex_unlock(&st->lock);
		more = housekeeping(st, false);
		pthread_mutex_lock(&st->lock);
		next = fmin(next, more);
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
		if (!st->quit && !take_turn(st, false, &more))
			pthread_cond_timedwait(&st->cond, &st->lock, &ts);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

void state_listed(struct state *st, const struct kind *k, uint32_t r,
		  const struct cache_listing *l, const struct timespec *t,
		  double born)
{
	struct cache_listing *old = NULL;
	uint64_t seq = cache_listing_seq(l);
	bool confirmed = false;
	struct slot *s;

	if (r >= st->nregions)
		return;
	if (!st->dir) {
		/* Nothing to write: the journal at once. */
		cache_listing_hold((struct cache_listing *)l);
		process(st, (size_t)k->id * st->nregions + r,
			(struct cache_listing *)l, t, born);
		return;
	}
	s = state_slot(st, k->id, r);
	pthread_mutex_lock(&st->lock);
	if (seq == s->last_seq) {
		s->seen = fmax(s->seen, born);
		confirmed = true;
	} else if (seq > s->last_seq) {
		old = s->pending;
		cache_listing_hold((struct cache_listing *)l);
		s->pending = (struct cache_listing *)l;
		s->pending_t = *t;
		s->pending_born = born;
		s->last_seq = seq;
		s->seen = born;
		pthread_cond_signal(&st->cond);
	}
	pthread_mutex_unlock(&st->lock);
	cache_listing_release(old);
	if (confirmed && st->fs->changes)
		changes_confirmed(st->fs->changes, k, r, born);
}

void state_rearm(struct state *st)
{
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < nslots(st); i++)
		st->slots[i].last_save = 0;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

void state_flush(struct state *st)
{
	double next;

	if (!st || !st->dir)
		return;
	pthread_mutex_lock(&st->lock);
	while (take_turn(st, true, &next))
		;
	pthread_mutex_unlock(&st->lock);
	housekeeping(st, true);
}

/* ---- life ------------------------------------------------------------------ */

int state_new(struct ifs *fs, struct statedir *dir, struct state **out)
{
	struct state *st = calloc(1, sizeof *st);
	pthread_condattr_t ca;

	if (!st)
		return -ENOMEM;
	st->fs = fs;
	st->dir = dir;
	st->nregions = fs->conf.nregions ? fs->conf.nregions : 1;
	if (!(st->slots = calloc(nslots(st), sizeof *st->slots))) {
		free(st);
		return -ENOMEM;
	}
	st->hook = (struct changes_hook){on_batch, st};
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->io, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = st;
	return 0;
}

const struct changes_hook *state_hook(struct state *st)
{
	return st->dir ? &st->hook : NULL;
}

int state_start(struct state *st)
{
	int rc;

	if (!st->dir)
		return 0;
	statedir_own(st->dir);
	rc = pthread_create(&st->thread, NULL, writer, st);
	if (rc)
		return -rc;
	st->running = true;
	return 0;
}

void state_stop(struct state *st)
{
	if (!st || !st->running)
		return;
	pthread_mutex_lock(&st->lock);
	st->quit = true;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	st->running = false;
	housekeeping(st, true);
}

void state_free(struct state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < nslots(st); i++) {
		cache_listing_release(st->slots[i].pending);
		cache_listing_release(st->slots[i].saved);
	}
	free(st->slots);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->io);
	pthread_cond_destroy(&st->cond);
	free(st);
}

void state_counters(struct state *st, struct state_counters *out)
{
	out->state_listings_saved = atomic_load(&st->saves);
	out->state_bytes_written = atomic_load(&st->bytes);
	out->state_errors = atomic_load(&st->errors);
}
