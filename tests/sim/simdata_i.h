/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simdata_i.h: what the files of simdata share (the store, the generator and
 * the query logic). No other module includes it.
 */
#ifndef SIMDATA_I_H
#define SIMDATA_I_H

#include <stdbool.h>
#include <stdint.h>

#include "simdata.h"

/* The last sorted, filtered list served from one collection of a region,
 * so that the pages of one large list do not each sort it again. */
struct sim_memo {
	char *key;
	uint64_t version;
	json_t *list;
};

struct region {
	char *name;
	json_t *items[SC_COUNT];  /* arrays of objects, in creation order */
	uint64_t version;         /* bumped by every change */
	struct sim_memo memo[SC_COUNT];
};

struct simdata {
	struct region *regions;
	size_t nregions;
	uint64_t idstate;         /* for ids of objects added at run time */
	bool exact_names;         /* name filters match the whole name */
};

struct region *sim_region(const struct simdata *d, const char *name);
/* The region, created (empty) if new; NULL when out of memory. */
struct region *sim_region_add(struct simdata *d, const char *name);

/* splitmix64 and a version-4 UUID from it: identical on every platform. */
uint64_t sim_rng(uint64_t *state);
void sim_uuid(uint64_t *state, char out[37]);
uint64_t sim_hash(const char *s);

/* Seconds since the epoch of an RFC 3339 time; -1 if unparsable or null. */
double sim_time(const json_t *v);

/* Is s a UUID (any case)? */
bool sim_is_uuid(const char *s);

/* The object with that id in arr; NULL if none (*idx its index). */
json_t *sim_find(json_t *arr, const char *id, size_t *idx);

void sim_memo_clear(struct sim_memo *m);

/* simvalues.c: an RFC 3339 time in one of three styles; the i-th name of
 * a region (awkward ones first); the i-th set of tags (new reference). */
void sim_fmt_time(char *buf, size_t len, int64_t t, unsigned style,
		  unsigned micros);
void sim_gen_name(char *buf, size_t len, const char *region, unsigned i,
		  const char *const *kinds);
json_t *sim_tags(unsigned i);

/* simlinks.c: the partners, routing policies and links of region r, from
 * its connections and PoPs (generated first), the account's projects and
 * organizations, and rng. */
void sim_gen_links(struct region *r, uint64_t *rng, char projects[3][37],
		   char orgs[2][37]);

#endif
