/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta: .interlinkfs/stats and metrics from one snapshot: every counter of
 * the table in both files, once, under its field's name, with its value;
 * counters as Prometheus counters (_total), gauges as gauges; the ages of
 * the listings per region and kind; the version.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meta.h"

static const char *const regions[] = {"fr-par", "nl-ams"};
static const double ages[2][2] = {{12.4, -1}, {-1, 3}};

/* A snapshot whose every counter holds a value of its own (1000 + its
 * place in the table). */
static void snapshot(struct meta_snapshot *s)
{
	uint64_t v = 1000;

	memset(s, 0, sizeof *s);
#define SET(group, name, counter, help) s->group.name = v++;
	META_COUNTERS(SET)
#undef SET
	s->nkinds = 2;
	s->kinds[0].name = "connections";
	s->kinds[0].objects = 7;
	s->kinds[0].listing_age = ages[0];
	s->kinds[1].name = "links";
	s->kinds[1].objects = 9;
	s->kinds[1].listing_age = ages[1];
	s->regions = regions;
	s->nregions = 2;
}

static char *render(unsigned slot, const struct meta_snapshot *s)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(meta_render(slot, s, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

/* How many lines of text are exactly line. */
static int count_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	int c = 0;

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			c++;
	return c;
}

static void test_stats_has_every_counter_once(void **st)
{
	struct meta_snapshot s;
	char line[160], *t;
	uint64_t v = 1000;

	(void)st;
	snapshot(&s);
	t = render(MF_STATS, &s);
#define CHECK(group, name, counter, help) \
	snprintf(line, sizeof line, "%s: %llu", #name, \
		 (unsigned long long)v++); \
	if (count_line(t, line) != 1) \
		fail_msg("stats: want \"%s\" once:\n%s", line, t);
	META_COUNTERS(CHECK)
#undef CHECK
	assert_int_equal(count_line(t, "connections: 7"), 1);
	assert_int_equal(count_line(t, "links: 9"), 1);
	/* Connections' ages have no prefix, the others their kind's. */
	assert_int_equal(count_line(t, "listing_age_fr-par: 12"), 1);
	assert_int_equal(count_line(t, "listing_age_nl-ams: never"), 1);
	assert_int_equal(count_line(t, "links_listing_age_fr-par: never"), 1);
	assert_int_equal(count_line(t, "links_listing_age_nl-ams: 3"), 1);
	free(t);
}

static void test_metrics_has_every_counter_once(void **st)
{
	struct meta_snapshot s;
	char line[200], *t;
	uint64_t v = 1000;

	(void)st;
	snapshot(&s);
	t = render(MF_METRICS, &s);
#define CHECK(group, name, counter, help) \
	snprintf(line, sizeof line, "interlinkfs_%s%s %llu", #name, \
		 counter ? "_total" : "", (unsigned long long)v++); \
	if (count_line(t, line) != 1) \
		fail_msg("metrics: want \"%s\" once", line); \
	snprintf(line, sizeof line, "# TYPE interlinkfs_%s%s %s", #name, \
		 counter ? "_total" : "", counter ? "counter" : "gauge"); \
	if (count_line(t, line) != 1) \
		fail_msg("metrics: want \"%s\" once", line); \
	snprintf(line, sizeof line, "# HELP interlinkfs_%s%s %s", #name, \
		 counter ? "_total" : "", help); \
	if (count_line(t, line) != 1) \
		fail_msg("metrics: want \"%s\" once", line);
	META_COUNTERS(CHECK)
#undef CHECK
	assert_int_equal(count_line(t, "interlinkfs_connections 7"), 1);
	assert_int_equal(count_line(
		t, "interlinkfs_listing_age_seconds{region=\"fr-par\"} 12.400"),
		1);
	assert_int_equal(count_line(
		t, "interlinkfs_links_listing_age_seconds{region=\"nl-ams\"} "
		"3.000"), 1);
	/* A listing never loaded has no sample. */
	assert_null(strstr(t, "listing_age_seconds{region=\"nl-ams\"} -"));
	free(t);
}

static void test_version_and_unknown_files(void **st)
{
	struct meta_snapshot s;
	char *out = NULL, *t;
	size_t len;

	(void)st;
	snapshot(&s);
	t = render(MF_VERSION, &s);
	assert_string_equal(t, INTERLINKFS_VERSION "\n");
	free(t);
	assert_int_equal(meta_render(0, &s, &out, &len), -ENOENT);
	assert_int_equal(meta_render(MF_COUNT + 1, &s, &out, &len), -ENOENT);
	assert_string_equal(meta_name(MF_STATS), "stats");
	assert_null(meta_name(0));
}

static void test_cache_counters_add_up(void **st)
{
	struct cache_stats sum = {0}, a = {0}, b = {0};

	(void)st;
	a.cache_hits = 3;
	a.bytes_cached = 100;
	a.objects = 1;
	b.cache_hits = 4;
	b.grace_stale_served = 2;
	b.objects = 5;
	meta_add_cache(&sum, &a);
	meta_add_cache(&sum, &b);
	assert_int_equal(sum.cache_hits, 7);
	assert_int_equal(sum.bytes_cached, 100);
	assert_int_equal(sum.grace_stale_served, 2);
	assert_int_equal(sum.objects, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_has_every_counter_once),
		cmocka_unit_test(test_metrics_has_every_counter_once),
		cmocka_unit_test(test_version_and_unknown_files),
		cmocka_unit_test(test_cache_counters_add_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
