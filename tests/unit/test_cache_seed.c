/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_seed: a listing an earlier run saved, seeded before any load
 * (cache_seed_list, cache/cache.h): served by its true age under the rule
 * of data held in memory (fresh until ttl after it was made, within stale
 * when the API fails), never said fresh until a load succeeds, and the
 * first load compared with it. With the fake loaders and clock of
 * cachefake.h (the clock starts at 1000).
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

#include "cachefake.h"

/* Seeds region R with id0 .. id(n-1), each {"v": v}, made at born. */
static int seed(struct cache *c, int n, int v, double born)
{
	void **items = calloc((size_t)n + 2, sizeof *items);
	char id[16];

	assert_non_null(items);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "id%d", i);
		items[i] = json_pack("{s:s, s:i}", "id", id, "v", v);
	}
	/* An id twice: the second one is dropped. */
	items[n] = json_pack("{s:s, s:i}", "id", "id0", "v", 99);
	return cache_seed_list(c, R, items, (size_t)n + 1, born);
}

static int list_n(struct cache *c, bool *stale)
{
	struct cache_item it;
	int rc = cache_list(c, R, NULL, NULL, &it);
	int n = rc ? rc : (int)cache_listing_size(it.list);

	if (stale)
		*stale = it.stale;
	cache_item_release(c, &it);
	return n;
}

static void test_young_seed_is_served_without_a_load_and_said_stale(
	void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;
	bool stale;
	int v;

	(void)st;
	assert_int_equal(seed(c, 10, 1, 990), 0);
	/* Made 10 s ago, ttl 30: served as fresh data would be. */
	assert_int_equal(list_n(c, &stale), 10);
	assert_false(stale);
	assert_int_equal(get_v(c, "id0", &v), 0);
	assert_int_equal(v, 1);                  /* the first of two */
	assert_int_equal(get_v(c, "nope", &v), -ENOENT);
	assert_int_equal(F.list_calls + F.one_calls, 0);
	/* But this cache did not load it: never fresh. */
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_STALE);
	assert_true(s.held && s.seeded && !s.loaded && !s.trouble);
	assert_true(s.age >= 10 && s.age < 10.1);
	assert_int_equal(s.objects, 10);
	/* A load that succeeds ends the seed: fresh. */
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_FRESH);
	assert_false(s.seeded);
	assert_int_equal(F.listed_calls, 1);
	cache_free(c);
}

static void test_the_first_load_is_compared_with_the_seed(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	uint64_t seq;

	(void)st;
	assert_int_equal(seed(c, 10, 1, 900), 0);
	assert_int_equal(cache_peek_list(c, R, &it), 0);
	seq = cache_listing_seq(it.list);
	cache_item_release(c, &it);
	/* The same data: the seed is the listing still (no change). */
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 1);
	assert_int_equal(F.listed_seq, seq);
	assert_int_equal(F.nlog, 0);
	cache_free(c);

	setup(NULL);
	c = mk(30, NULL);
	assert_int_equal(seed(c, 10, 1, 900), 0);
	set_data(11);                            /* id10 came */
	set_field("id3", 7);
	assert_int_equal(list_n(c, NULL), 11);
	assert_true(logged("+id10") && logged("~id3"));
	assert_int_equal(F.nlog, 2);
	assert_true(F.listed_seq > seq);
	cache_free(c);
}

static void test_an_old_seed_is_served_within_stale_when_the_api_fails(
	void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;
	bool stale;

	(void)st;
	F.fail_list = -ECONNREFUSED;
	F.fail_times = -1;
	assert_int_equal(seed(c, 10, 1, 500), 0);   /* 500 s old */
	assert_int_equal(list_n(c, &stale), 10);
	assert_true(stale);
	assert_int_equal(F.list_calls, 1);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_STALE);
	assert_true(s.seeded && s.loaded && s.trouble);
	assert_int_equal(s.last_rc, -ECONNREFUSED);
	/* Past stale (600 s), nothing may be served. */
	advance(101);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_BLIND);
	assert_int_equal(list_n(c, NULL), -ECONNREFUSED);
	cache_free(c);
}

static void test_a_born_in_the_future_counts_as_now(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;

	(void)st;
	assert_int_equal(seed(c, 3, 1, 5000), 0);
	cache_sight(c, R, &s);
	assert_true(s.age >= 0 && s.age < 0.1);
	cache_free(c);
}

static void test_only_before_any_load(void **st)
{
	struct cache *c = mk(30, NULL);

	(void)st;
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(seed(c, 3, 1, 990), -EEXIST);
	assert_int_equal(list_n(c, NULL), 10);
	cache_free(c);
	/* A failed load counts too: what the API said comes first. */
	setup(NULL);
	c = mk(30, NULL);
	F.fail_list = -EIO;
	F.fail_times = 1;
	assert_int_equal(list_n(c, NULL), -EIO);
	assert_int_equal(seed(c, 3, 1, 990), -EEXIST);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_young_seed_is_served_without_a_load_and_said_stale),
		T(test_the_first_load_is_compared_with_the_seed),
		T(test_an_old_seed_is_served_within_stale_when_the_api_fails),
		T(test_a_born_in_the_future_counts_as_now),
		T(test_only_before_any_load),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
