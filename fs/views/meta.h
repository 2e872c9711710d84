/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta: the bytes of .interlinkfs/stats and metrics (and version), from
 * one table of counters, so that stats and metrics always list the same
 * counters under the same names: the names of their fields, wherever they
 * are kept (struct api_stats, struct cache_stats, struct meta_fs_stats).
 *
 * Pure: the caller gathers a snapshot of the numbers, this module writes
 * them out. Thread-safe.
 */
#ifndef INTERLINKFS_META_H
#define INTERLINKFS_META_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "cache.h"

/* The files of .interlinkfs/ (changes: the journal, journal.h; health:
 * health.h). */
enum meta_file {
	MF_STATS = 1, MF_VERSION, MF_METRICS, MF_CHANGES, MF_HEALTH,
	MF_COUNT = MF_HEALTH,
};

/* The name of a file slot (1..MF_COUNT), or NULL. */
const char *meta_name(unsigned slot);

#define META_MAX_KINDS 8

/* The requests the kernel sent this daemon, and what it did for them;
 * what it saved between runs. */
struct meta_fs_stats {
	uint64_t kernel_lookups, kernel_getattrs, kernel_reads,
		 kernel_readdirs, pages_pushed, size_resyncs;
	uint64_t state_listings_saved, state_bytes_written, state_errors;
};

/*
 * Every counter, once: X(group, name, counter, help). group is the member
 * of struct meta_snapshot that holds it, name its field there and its name
 * in both files; counter is 1 for a count that only grows (metrics:
 * name_total, a counter), 0 for a gauge.
 */
#define META_COUNTERS(X) \
	X(api, api_requests, 1, "HTTP requests sent to the API") \
	X(api, api_errors, 1, "failed API requests (404 excluded)") \
	X(api, api_retries, 1, "API requests retried") \
	X(api, api_rate_limited, 1, "429 answers from the API") \
	X(api, api_bytes, 1, "bytes received from the API") \
	X(api, api_fast_failures, 1, "requests failed without being sent, " \
	  "the API having just not answered (back-off)") \
	X(api, api_records_skipped, 1, "list entries not shown: no valid " \
	  "id, or unreadable") \
	X(cache, cache_hits, 1, "lookups answered from fresh data") \
	X(cache, cache_misses, 1, "lookups that needed the API") \
	X(cache, cache_loads, 1, "loads from the API") \
	X(cache, coalesced, 1, "lookups that shared a load") \
	X(cache, negative_hits, 1, "not found, without a request") \
	X(cache, stale_served, 1, "old values served while the API failed " \
	  "or was slow") \
	X(cache, grace_stale_served, 1, "of which: the refresh took longer " \
	  "than grace (it went on in the background)") \
	X(cache, evictions, 1, "values evicted by the memory budget") \
	X(cache, bytes_cached, 0, "estimated bytes of cached values") \
	X(fs, kernel_lookups, 1, "lookups the kernel sent") \
	X(fs, kernel_getattrs, 1, "getattrs the kernel sent") \
	X(fs, kernel_reads, 1, "reads the kernel sent") \
	X(fs, kernel_readdirs, 1, "readdirs the kernel sent") \
	X(fs, pages_pushed, 1, "files handed to the page cache ahead of " \
	  "reads") \
	X(fs, size_resyncs, 1, "reads of a value newer than the size the " \
	  "kernel held") \
	X(fs, state_listings_saved, 1, "listings saved to the state " \
	  "directory") \
	X(fs, state_bytes_written, 1, "bytes written to the state " \
	  "directory (journal appends included)") \
	X(fs, state_errors, 1, "writes to the state directory that failed")

/* The numbers behind the files, at one moment. */
struct meta_snapshot {
	struct api_stats api;
	struct cache_stats cache;             /* summed over the kinds */
	struct meta_fs_stats fs;
	size_t nkinds;
	struct {
		const char *name;             /* "connections", "pops" */
		uint64_t objects;             /* cached */
		const double *listing_age;    /* per region, < 0: never */
	} kinds[META_MAX_KINDS];
	const char *const *regions;
	uint32_t nregions;
};

/* Adds the counters of one cache to a sum of them. Pure. */
void meta_add_cache(struct cache_stats *sum, const struct cache_stats *s);

/*
 * The bytes of file `slot` for the snapshot: *out malloc'ed (the caller
 * frees), *len its length. 0, -ENOENT (no such file) or -ENOMEM.
 */
int meta_render(unsigned slot, const struct meta_snapshot *s, char **out,
		size_t *len);

#endif
