/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changes: what changed between successive listings of each kind and
 * region that this mount loaded, as lines of .interlinkfs/changes
 * (journal.h holds them):
 *
 *   TIME \t REGION \t KIND \t ID \t FIELD \t OLD \t NEW
 *
 * TIME is when the listing came (RFC 3339, UTC, milliseconds), KIND the
 * kind's directory, FIELD a column of its table (tsv.h), OLD and NEW that
 * file's fields (escaped as in the tables). An object that appears has
 * FIELD "+", one that is gone "-", and OLD and NEW hold its name. The
 * first listing of a kind and region is not a change: it is what later
 * ones are compared with.
 *
 * Comment lines say when this mount loses sight of a listing and when it
 * sees it again (cache.h's sight), so that a reader is never left with
 * silence while interlinkfs cannot look:
 *
 *   # REGION KIND: not seen since TIME: WHY
 *   # REGION KIND: not seen yet: WHY
 *   # REGION KIND: seen again
 *
 * A listing an earlier run journalled may be the one the next is compared
 * with (changes_seed): what differs then changed while interlinkfs was
 * stopped, and follows a line that says so,
 *
 *   # REGION KIND: changed between T1 and T2, while interlinkfs was stopped
 *
 * T1 the time the earlier run last saw it, T2 the new listing's (both as
 * TIME, when the API made the data).
 *
 * Before readers see a batch of lines, it goes to a hook (the driver's
 * state, which writes it to disk first: a line a reader saw is never
 * lost by a crash, nor journalled again after it).
 *
 * Thread-safe: listings of different kinds and regions may come at the
 * same time. Batches go to the hook and the journal one at a time, under
 * a lock of this module's own (held while the hook runs; readers of the
 * journal never wait for it).
 */
#ifndef INTERLINKFS_CHANGES_H
#define INTERLINKFS_CHANGES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "journal.h"
#include "kinds.h"

struct changes;

/*
 * Where a batch goes before any reader sees it. Called with this module's
 * writer lock held, so batches come one at a time, in the order of their
 * offsets: off is where the batch begins in the journal (its size before
 * it). l is the listing whose changes text holds (borrowed), born the wall
 * time the API made it; l is NULL for a line of sight, and for a call of
 * changes_sync (len 0). A listing compared with none (the first of its
 * kind and region) comes with len 0. The batch is appended to the journal
 * after the hook returns, whatever became of it there: the hook must not
 * call back into this module.
 */
struct changes_hook {
	void (*batch)(void *ud, const struct kind *k, uint32_t r,
		      const struct cache_listing *l, double born,
		      const char *text, size_t len, uint64_t off);
	void *ud;
};

/* For nregions regions, into journal j (borrowed: it outlives this);
 * hook may be NULL (copied). 0 or -ENOMEM. */
int changes_new(uint32_t nregions, struct journal *j,
		const struct changes_hook *hook, struct changes **out);

/* Releases the listings held. Call it while the caches they came from
 * are alive (a listing releases its values through its cache). NULL is a
 * no-op. */
void changes_free(struct changes *c);

/* Listing l (borrowed; a reference is kept) of kind k came for region r
 * (named region) at wall time t, of data the API made at wall time born:
 * its changes since the last one are appended to the journal (through
 * the hook). A listing older than the last one (a smaller
 * cache_listing_seq) is ignored. -ENOMEM when the lines could not be
 * made (the listing is still kept), else 0. */
int changes_listed(struct changes *c, const struct kind *k, uint32_t r,
		   const char *region, const struct cache_listing *l,
		   const struct timespec *t, double born);

/* Listing l (borrowed; a reference is kept) is the one an earlier run
 * last journalled for kind k in region r, and last saw at wall time seen:
 * the next listing is compared with it, after the line above. Before any
 * listing of k in r came. 0, or -EEXIST (one came: nothing changes). */
int changes_seed(struct changes *c, const struct kind *k, uint32_t r,
		 const struct cache_listing *l, double seen);

/* The listing held of kind k in region r came again unchanged, made by
 * the API at wall time born: if it was an earlier run's and born is
 * later than when that run last saw it, what changes next changed while
 * interlinkfs ran, not while it was stopped. Any thread. */
void changes_confirmed(struct changes *c, const struct kind *k, uint32_t r,
		       double born);

/* An earlier run's journal said last, of kind k in region r, that it was
 * not seen (lost) or seen again: this run's first fresh listing then says
 * "seen again" when it was lost. Before any sight of k in r is said. */
void changes_seed_sight(struct changes *c, const struct kind *k, uint32_t r,
			bool lost);

/* The hook is called with an empty batch (l NULL, len 0, at the journal's
 * end), in the order of batches: for its owner to catch up with the
 * journal after a failure to write it. */
void changes_sync(struct changes *c);

/* The sight of kind k's listing of region r (named region) at wall time
 * t; born: the wall time its data was made (when held). A line is
 * appended when sight is lost (the cache tried and could not see) and
 * when it comes back. -ENOMEM when a line could not be, else 0. */
int changes_sight(struct changes *c, const struct kind *k, uint32_t r,
		  const char *region, const struct cache_sight *s,
		  double born, const struct timespec *t);

/* Writes t as RFC 3339 UTC with milliseconds ("2026-12-02T18:41:07.123Z")
 * into buf (at least 32 bytes). Pure. */
void changes_time(const struct timespec *t, char *buf, size_t len);

#endif
