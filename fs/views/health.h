/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health: the bytes of .interlinkfs/health, how well this mount sees each
 * region's listing of each kind, for shell scripts and monitors: a header
 * line, then one tab-separated line per region and kind,
 *
 *   REGION  KIND  STATE  AGE  OBJECTS  DETAIL
 *
 * STATE is the cache's sight (cache.h: fresh, stale, blind, unserved,
 * unloaded), AGE the whole seconds since the API made the data shown ("-"
 * when none is held), OBJECTS how many objects it holds ("-" when none),
 * DETAIL what a person needs to act, escaped as a table's field (tsv.h):
 * "ok", what failed, and whether what is shown was saved by an earlier
 * run (a restart's seed, not refreshed since).
 *
 * Pure: the caller gathers the sight of each listing. Thread-safe.
 */
#ifndef INTERLINKFS_HEALTH_H
#define INTERLINKFS_HEALTH_H

#include <stddef.h>

#include "cache.h"
#include "kinds.h"

struct health_row {
	const char *region;           /* borrowed */
	const struct kind *kind;
	struct cache_sight sight;
};

/* The file's bytes for n rows, in their order: 0 with *out (malloc'ed,
 * the caller frees) and *len, or -ENOMEM. */
int health_render(const struct health_row *rows, size_t n, char **out,
		  size_t *len);

#endif
