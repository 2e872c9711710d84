/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta: .interlinkfs/stats and metrics from one table of counters.
 */
#include "meta.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[MF_COUNT + 1] = {
	NULL, "stats", "version", "metrics", "changes", "health",
};

const char *meta_name(unsigned slot)
{
	return slot >= 1 && slot <= MF_COUNT ? names[slot] : NULL;
}

/* One counter: its name in both files, whether it only grows, its help,
 * where it is in the snapshot. */
struct counter {
	const char *name;
	bool counter;          /* else a gauge */
	const char *help;
	size_t off;            /* of its uint64_t in struct meta_snapshot */
};

#define ROW(group, name, counter, help) \
	{#name, counter, help, offsetof(struct meta_snapshot, group.name)},

static const struct counter table[] = {
	META_COUNTERS(ROW)
};

#undef ROW

void meta_add_cache(struct cache_stats *sum, const struct cache_stats *s)
{
	/* Every member is a uint64_t count or size: added one by one. */
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *v = (const uint64_t *)s;

	_Static_assert(sizeof *s % sizeof(uint64_t) == 0,
		       "cache_stats holds uint64_t only");
	for (size_t i = 0; i < sizeof *s / sizeof(uint64_t); i++)
		d[i] += v[i];
}

static uint64_t value(const struct meta_snapshot *s, const struct counter *c)
{
	uint64_t v;

	memcpy(&v, (const char *)s + c->off, sizeof v);
	return v;
}

/* "listing_age" for the first kind (connections), "pops_listing_age" ... */
static void age_name(const struct meta_snapshot *s, size_t k, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s%slisting_age", k ? s->kinds[k].name : "",
		 k ? "_" : "");
}

static void write_stats(FILE *f, const struct meta_snapshot *s)
{
	char age[64];

	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		fprintf(f, "%s: %" PRIu64 "\n", table[i].name,
			value(s, &table[i]));
	for (size_t k = 0; k < s->nkinds; k++)
		fprintf(f, "%s: %" PRIu64 "\n", s->kinds[k].name,
			s->kinds[k].objects);
	for (size_t k = 0; k < s->nkinds; k++) {
		age_name(s, k, age, sizeof age);
		for (uint32_t r = 0; r < s->nregions; r++) {
			double a = s->kinds[k].listing_age[r];
			if (a >= 0)
				fprintf(f, "%s_%s: %.0f\n", age, s->regions[r],
					a);
			else
				fprintf(f, "%s_%s: never\n", age, s->regions[r]);
		}
	}
}

static void family(FILE *f, const char *name, const char *suffix,
		   bool counter, const char *help)
{
	fprintf(f, "# HELP interlinkfs_%s%s %s\n", name, suffix, help);
	fprintf(f, "# TYPE interlinkfs_%s%s %s\n", name, suffix,
		counter ? "counter" : "gauge");
}

static void write_metrics(FILE *f, const struct meta_snapshot *s)
{
	char age[64], help[96];

	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		const char *suffix = table[i].counter ? "_total" : "";
		family(f, table[i].name, suffix, table[i].counter,
		       table[i].help);
		fprintf(f, "interlinkfs_%s%s %" PRIu64 "\n", table[i].name,
			suffix, value(s, &table[i]));
	}
	for (size_t k = 0; k < s->nkinds; k++) {
		snprintf(help, sizeof help, "%s in the cache", s->kinds[k].name);
		family(f, s->kinds[k].name, "", false, help);
		fprintf(f, "interlinkfs_%s %" PRIu64 "\n", s->kinds[k].name,
			s->kinds[k].objects);
	}
	for (size_t k = 0; k < s->nkinds; k++) {
		age_name(s, k, age, sizeof age);
		snprintf(help, sizeof help, "age of a region's %s listing",
			 s->kinds[k].name);
		family(f, age, "_seconds", false, help);
		for (uint32_t r = 0; r < s->nregions; r++)
			if (s->kinds[k].listing_age[r] >= 0)
				fprintf(f, "interlinkfs_%s_seconds{region=\"%s\"}"
					" %.3f\n", age, s->regions[r],
					s->kinds[k].listing_age[r]);
	}
}

int meta_render(unsigned slot, const struct meta_snapshot *s, char **out,
		size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;

	if (slot == MF_VERSION) {
		*out = strdup(INTERLINKFS_VERSION "\n");
		*len = *out ? strlen(*out) : 0;
		return *out ? 0 : -ENOMEM;
	}
	if (slot != MF_STATS && slot != MF_METRICS)
		return -ENOENT;
	f = open_memstream(&buf, &sz);
	if (!f)
		return -ENOMEM;
	if (slot == MF_STATS)
		write_stats(f, s);
	else
		write_metrics(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
