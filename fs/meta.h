/*
 * meta: the files of .interlinkfs/ (stats, metrics, version), from one
 * table of counters, so that stats and metrics always list the same
 * counters under the same names.
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

enum meta_file { MF_STATS = 1, MF_VERSION, MF_METRICS, MF_COUNT = MF_METRICS };

/* The name of a file slot (1..MF_COUNT), or NULL. */
const char *meta_name(unsigned slot);

#define META_MAX_KINDS 8

/* The numbers behind the files, at one moment. */
struct meta_snapshot {
	struct api_stats api;
	struct cache_stats cache;             /* summed over the kinds */
	uint64_t kernel_lookups, kernel_getattrs, kernel_reads,
		 kernel_readdirs, pages_pushed, size_resyncs;
	size_t nkinds;
	struct {
		const char *name;             /* "connections", "pops" */
		uint64_t objects;             /* cached */
		const double *listing_age;    /* per region, < 0: never */
	} kinds[META_MAX_KINDS];
	const char *const *regions;
	uint32_t nregions;
};

/*
 * The bytes of file `slot` for the snapshot: *out malloc'ed (the caller
 * frees), *len its length. 0, -ENOENT (no such file) or -ENOMEM.
 */
int meta_render(unsigned slot, const struct meta_snapshot *s, char **out,
		size_t *len);

#endif
