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
 * Thread-safe: listings of different kinds and regions may come at the
 * same time; those of one come one after the other (the cache's listed
 * callback).
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

/* For nregions regions, into journal j (borrowed: it outlives this). 0 or
 * -ENOMEM. */
int changes_new(uint32_t nregions, struct journal *j, struct changes **out);

/* Releases the listings held. Call it while the caches they came from
 * are alive (a listing releases its values through its cache). NULL is a
 * no-op. */
void changes_free(struct changes *c);

/* Listing l (borrowed; a reference is kept) of kind k came for region r
 * (named region) at wall time t: its changes since the last one are
 * appended to the journal. -ENOMEM when the lines could not be (the
 * listing is still kept), else 0. */
int changes_listed(struct changes *c, const struct kind *k, uint32_t r,
		   const char *region, const struct cache_listing *l,
		   const struct timespec *t);

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
