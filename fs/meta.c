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
	NULL, "stats", "version", "metrics",
};

const char *meta_name(unsigned slot)
{
	return slot >= 1 && slot <= MF_COUNT ? names[slot] : NULL;
}

/* One counter: its name in both files, whether it only grows, its help. */
struct counter {
	const char *name;
	bool counter;          /* else a gauge */
	const char *help;
	size_t off;            /* of its uint64_t in struct meta_snapshot */
};

#define AT(f) offsetof(struct meta_snapshot, f)

static const struct counter table[] = {
	{"api_requests", true, "HTTP requests sent to the API", AT(api.requests)},
	{"api_errors", true, "failed API requests (404 excluded)", AT(api.errors)},
	{"api_retries", true, "API requests retried", AT(api.retries)},
	{"api_rate_limited", true, "429 answers from the API",
	 AT(api.rate_limited)},
	{"api_bytes", true, "bytes received from the API", AT(api.bytes)},
	{"api_fast_failures", true, "requests failed without being sent, "
	 "the API having just not answered (back-off)",
	 AT(api.fast_failures)},
	{"api_records_skipped", true, "list entries not shown: no valid id, "
	 "or unreadable", AT(api.records_skipped)},
	{"cache_hits", true, "lookups answered from fresh data", AT(cache.hits)},
	{"cache_misses", true, "lookups that needed the API",
	 AT(cache.misses)},
	{"cache_loads", true, "loads from the API", AT(cache.loads)},
	{"coalesced", true, "lookups that shared a load", AT(cache.coalesced)},
	{"negative_hits", true, "not found, without a request",
	 AT(cache.negative_hits)},
	{"stale_served", true, "old values served while the API failed or "
	 "was slow", AT(cache.stale_served)},
	{"grace_stale_served", true, "of which: the refresh took longer than "
	 "grace (it went on in the background)", AT(cache.grace_stale)},
	{"evictions", true, "values evicted by the memory budget",
	 AT(cache.evictions)},
	{"bytes_cached", false, "estimated bytes of cached values",
	 AT(cache.bytes)},
	{"kernel_lookups", true, "lookups the kernel sent", AT(kernel_lookups)},
	{"kernel_getattrs", true, "getattrs the kernel sent",
	 AT(kernel_getattrs)},
	{"kernel_reads", true, "reads the kernel sent", AT(kernel_reads)},
	{"kernel_readdirs", true, "readdirs the kernel sent",
	 AT(kernel_readdirs)},
	{"pages_pushed", true, "files handed to the page cache ahead of reads",
	 AT(pages_pushed)},
	{"size_resyncs", true, "reads of a value newer than the size the "
	 "kernel held", AT(size_resyncs)},
};

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
