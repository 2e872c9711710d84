/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tables: the bytes of tables/KIND.tsv and tables/KIND.json, every object
 * of a kind across the mounted regions in one file.
 *
 *   KIND.tsv   a header line: "region", then the names of the kind's
 *              columns (tsv.h: every file but the JSON, in the tree's
 *              order); then one line per object: its region, then each
 *              column's field (tsv.h)
 *   KIND.json  a JSON array of the objects exactly as the API sent them
 *              (each object's *.json file), region after region
 *
 * Rows come region after region, in the order of the mount's regions,
 * each in its listing's order.
 *
 * Pure: the caller hands the listings (cache.h; their values are robj).
 * Thread-safe.
 */
#ifndef INTERLINKFS_TABLES_H
#define INTERLINKFS_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "kinds.h"

enum table_format { TABLE_TSV, TABLE_JSON, TABLE_FORMATS };

/* "tsv" or "json". */
const char *table_ext(enum table_format f);

/*
 * The bytes of kind k's table in format f, from the listings of the n
 * regions (lists[r] borrowed; NULL: that region has none, and no row).
 * 0 with *out (malloc'ed, the caller frees) and *len, or -ENOMEM.
 */
int table_render(const struct kind *k, enum table_format f,
		 const char *const *regions,
		 const struct cache_listing *const *lists, uint32_t n,
		 char **out, size_t *len);

#endif
