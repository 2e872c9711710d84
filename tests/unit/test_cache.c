/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache: the rules of cache/cache.h on lookups, freshness, 404s, shared
 * loads, stale data, changes, the byte budget, invalidation and counters,
 * with an injected clock and the fake loaders of cachefake.h.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "cachefake.h"

/* 1 */
static void test_listing_seeds_objects(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	struct cache_stats s;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	assert_int_equal(cache_listing_size(it.list), 10);
	cache_item_release(c, &it);
	get_all(c, 10);
	assert_int_equal(F.list_calls, 1);
	assert_int_equal(F.one_calls, 0);
	cache_get_stats(c, &s);
	assert_int_equal(s.cache_hits, 10);
	assert_int_equal(s.objects, 10);
	cache_free(c);
}

/* 2 */
static void test_fresh_listing_answers_unknown_ids(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	struct cache_stats s;
	int v;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(get_v(c, "nope", &v), -ENOENT);
	assert_int_equal(F.list_calls + F.one_calls, 1);
	cache_get_stats(c, &s);
	assert_int_equal(s.negative_hits, 1);
	cache_free(c);
}

static void test_get_before_any_listing_costs_one_get(void **st)
{
	struct cache *c = mk(30, NULL);
	int v;

	(void)st;
	assert_int_equal(get_v(c, "id3", &v), 0);
	assert_int_equal(get_v(c, "id3", &v), 0);
	assert_int_equal(F.one_calls, 1);
	assert_int_equal(F.list_calls, 0);
	cache_free(c);
}

/* 3 */
static void test_ttl_expiry_per_entry(void **st)
{
	struct cache *c = mk(30, NULL);
	int v;

	(void)st;
	assert_int_equal(get_v(c, "id1", &v), 0);  /* t=0 */
	advance(20);
	assert_int_equal(get_v(c, "id2", &v), 0);  /* t=20 */
	advance(9.9);
	assert_int_equal(get_v(c, "id1", &v), 0);  /* t=29.9: fresh */
	assert_int_equal(F.one_calls, 2);
	advance(0.2);                               /* t=30.1 */
	set_field("id1", 7);
	assert_int_equal(get_v(c, "id1", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(get_v(c, "id2", &v), 0);  /* loaded at 20: fresh */
	assert_int_equal(F.one_calls, 3);
	cache_free(c);
}

static void test_expired_listed_object_is_refreshed_by_the_listing(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	advance(31);
	get_all(c, 10);
	/* one listing for all ten, no get */
	assert_int_equal(F.list_calls, 2);
	assert_int_equal(F.one_calls, 0);
	cache_free(c);
}

static void test_ttl_zero_always_asks(void **st)
{
	struct cache *c = mk(0, NULL);
	struct cache_item it;
	int v;

	(void)st;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
		cache_item_release(c, &it);
		assert_int_equal(get_v(c, "id4", &v), 0);
	}
	assert_int_equal(F.list_calls, 3);
	assert_int_equal(F.one_calls, 3);
	set_field("id4", 9);
	assert_int_equal(get_v(c, "id4", &v), 0);
	assert_int_equal(v, 9);
	cache_free(c);
}

/* 4 */
static void test_404_is_remembered_for_min_ttl_10s(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache *c5 = mk(5, NULL);
	int v;

	(void)st;
	assert_int_equal(get_v(c, "gone", &v), -ENOENT);
	advance(9.9);
	assert_int_equal(get_v(c, "gone", &v), -ENOENT);
	assert_int_equal(F.one_calls, 1);
	advance(0.2);
	assert_int_equal(get_v(c, "gone", &v), -ENOENT);
	assert_int_equal(F.one_calls, 2);

	F.one_calls = 0;
	assert_int_equal(get_v(c5, "gone", &v), -ENOENT);
	advance(4.9);
	assert_int_equal(get_v(c5, "gone", &v), -ENOENT);
	assert_int_equal(F.one_calls, 1);
	advance(0.2);
	assert_int_equal(get_v(c5, "gone", &v), -ENOENT);
	assert_int_equal(F.one_calls, 2);
	cache_free(c);
	cache_free(c5);
}

/* 5 */
struct reader {
	struct cache *c;
	const char *id;
	int rc, v;
	bool list;
};

static void *reader(void *p)
{
	struct reader *r = p;
	struct cache_item it;

	if (r->list) {
		r->rc = cache_list(r->c, R, NULL, NULL, &it);
		if (!r->rc)
			cache_item_release(r->c, &it);
	} else {
		r->rc = get_v(r->c, r->id, &r->v);
	}
	return NULL;
}

static void test_single_flight(void **st)
{
	struct cache *c = mk(30, NULL);
	struct reader rd[16];
	pthread_t t[16];
	struct cache_stats s;

	(void)st;
	F.delay_us = 100000;
	for (int i = 0; i < 16; i++) {
		rd[i] = (struct reader){.c = c, .id = "id5"};
		pthread_create(&t[i], NULL, reader, &rd[i]);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rd[i].rc, 0);
		assert_int_equal(rd[i].v, 1);
	}
	assert_int_equal(F.one_calls, 1);
	cache_get_stats(c, &s);
	assert_int_equal(s.cache_loads, 1);
	assert_int_equal(s.cache_hits + s.cache_misses, 16);
	assert_int_equal(s.cache_misses, 1 + s.coalesced);
	assert_true(s.coalesced >= 1);

	/* The same for a listing, also with ttl 0 (no fresh data at all). */
	cache_free(c);
	c = mk(0, NULL);
	for (int i = 0; i < 16; i++) {
		rd[i] = (struct reader){.c = c, .list = true};
		pthread_create(&t[i], NULL, reader, &rd[i]);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rd[i].rc, 0);
	}
	cache_get_stats(c, &s);
	assert_int_equal(s.cache_loads, (uint64_t)F.list_calls);
	assert_true(F.list_calls <= 2); /* a late thread may start a 2nd */
	cache_free(c);
}

/* 6 */
static void test_stale_if_error_and_backoff(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	struct cache_stats s;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	advance(31);
	F.fail_list = -EIO;
	F.fail_times = -1;
	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &it), 0);
	assert_true(it.stale);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 2);
	/* During the back-off (1 s): no request, still the old value. */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &it), 0);
		assert_true(it.stale);
		cache_item_release(c, &it);
	}
	assert_int_equal(F.list_calls, 2);
	advance(1.1);
	assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 3);
	/* The back-off doubles: 2 s now. */
	advance(1.5);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 3);
	advance(0.6);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	assert_true(it.stale);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 4);
	cache_get_stats(c, &s);
	assert_int_equal(s.stale_served, 54);
	/* Older than `stale` (600 s): the error. */
	advance(600);
	assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &it), -EIO);
	/* The API recovers: fresh values on the next access after the
	 * back-off. */
	F.fail_times = 0;
	advance(60);
	set_field("id2", 5);
	assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &it), 0);
	assert_false(it.stale);
	assert_int_equal(json_integer_value(json_object_get(it.value, "v")), 5);
	cache_item_release(c, &it);
	cache_free(c);
}

static void test_authoritative_answers_are_never_masked(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	int v;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	advance(31);
	F.fail_list = -EACCES;
	F.fail_times = -1;
	assert_int_equal(get_v(c, "id1", &v), -EACCES);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), -EACCES);
	/* ... and they do not cost a request per read either. */
	int calls = F.list_calls + F.one_calls;
	for (int i = 0; i < 20; i++)
		assert_int_equal(get_v(c, "id3", &v), -EACCES);
	assert_int_equal(F.list_calls + F.one_calls, calls);
	assert_true(logged("-id1"));

	/* A get-loaded object that now answers 404. */
	cache_free(c);
	c = mk(30, NULL);
	F.fail_list = 0;
	assert_int_equal(get_v(c, "id7", &v), 0);
	advance(31);
	pthread_mutex_lock(&F.lock);
	json_array_remove(json_object_get(F.data, R), 7);
	pthread_mutex_unlock(&F.lock);
	assert_int_equal(get_v(c, "id7", &v), -ENOENT);
	cache_free(c);
}

/* 7 */
static void test_a_listing_refresh_replaces_objects_together(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it, a, b;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "id%d", i);
		set_field(id, 2);
	}
	advance(31);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	assert_int_equal(cache_get(c, R, "id0", NULL, NULL, &a), 0);
	assert_int_equal(cache_get(c, R, "id9", NULL, NULL, &b), 0);
	/* Same load, same moment, new values everywhere. */
	assert_true(a.loaded_at == b.loaded_at && a.loaded_at == it.loaded_at);
	assert_true(a.expires == it.expires);
	assert_int_equal(json_integer_value(json_object_get(a.value, "v")), 2);
	assert_int_equal(json_integer_value(json_object_get(b.value, "v")), 2);
	/* The listing and the object are one and the same value. */
	assert_ptr_equal(cache_listing_value(it.list, 0), a.value);
	cache_item_release(c, &it);
	cache_item_release(c, &a);
	cache_item_release(c, &b);
	cache_free(c);
}

/* 8 */
static void test_change_detection(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it, before, after, same1, same2;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.nlog, 0); /* a first load is not a change */
	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &before), 0);
	assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &same1), 0);
	assert_true(before.changed_at == 0);
	set_field("id1", 3);
	pthread_mutex_lock(&F.lock);
	json_array_remove(json_object_get(F.data, R), 5);
	json_array_append_new(json_object_get(F.data, R),
			      json_pack("{s:s, s:i}", "id", "new", "v", 1));
	pthread_mutex_unlock(&F.lock);
	advance(31);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.nlog, 3);
	assert_true(logged("~id1"));
	assert_true(logged("-id5"));
	assert_true(logged("+new"));
	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &after), 0);
	assert_true(after.changed_at == F.now);
	assert_true(after.gen != before.gen);
	/* Unchanged objects keep their value, generation and date. */
	assert_int_equal(cache_get(c, R, "id2", NULL, NULL, &same2), 0);
	assert_ptr_equal(same1.value, same2.value);
	assert_true(same1.gen == same2.gen && same2.changed_at == 0);
	cache_item_release(c, &before);
	cache_item_release(c, &after);
	cache_item_release(c, &same1);
	cache_item_release(c, &same2);
	cache_free(c);
}

/* 9 */
static void small_budget(struct cache_conf *conf)
{
	conf->budget = 4096;
	conf->gets_before_list = 0; /* objects loaded one by one only */
}

static void test_many_gets_then_one_listing(void **st)
{
	struct cache *c = mk(30, NULL);

	(void)st;
	set_data(20);
	get_all(c, 20);
	/* 8 gets, then the listing answered the rest. */
	assert_int_equal(F.one_calls, 8);
	assert_int_equal(F.list_calls, 1);
	advance(31);
	get_all(c, 20);
	assert_int_equal(F.one_calls, 8);
	assert_int_equal(F.list_calls, 2);
	cache_free(c);
}

static void test_byte_budget_evicts_unlisted_objects_lru(void **st)
{
	struct cache *c = mk(30, small_budget);
	struct cache_stats s;
	struct cache_item it;
	int v;

	(void)st;
	set_data(200);
	for (int i = 0; i < 100; i++) {
		char id[16];
		snprintf(id, sizeof id, "id%d", i);
		assert_int_equal(get_v(c, id, &v), 0);
		assert_int_equal(get_v(c, "id0", &v), 0); /* kept hot */
	}
	cache_get_stats(c, &s);
	assert_true(s.evictions > 50);
	assert_true(s.bytes_cached <= 4096);
	int calls = F.one_calls;
	assert_int_equal(get_v(c, "id0", &v), 0);    /* hot: still there */
	assert_int_equal(get_v(c, "id99", &v), 0);   /* newest: still there */
	assert_int_equal(F.one_calls, calls);
	assert_int_equal(get_v(c, "id1", &v), 0);    /* cold: evicted */
	assert_int_equal(F.one_calls, calls + 1);

	/* A listing larger than the budget still works: nothing of it is
	 * evicted. */
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	calls = F.one_calls + F.list_calls;
	get_all(c, 200);
	assert_int_equal(F.one_calls + F.list_calls, calls);
	cache_get_stats(c, &s);
	assert_true(s.bytes_cached > 4096);
	cache_free(c);
}

/* 10 */
static void test_explicit_invalidation(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	int v;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	json_object_set_new(F.data, "nl-ams", json_array());
	assert_int_equal(cache_list(c, "nl-ams", NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	/* One object: asked again, through the listing it is in. */
	cache_drop(c, R, "id1");
	assert_int_equal(get_v(c, "id1", &v), 0);
	assert_int_equal(F.list_calls, 3);
	assert_int_equal(F.one_calls, 0);
	/* A region: its objects asked again, one by one. */
	cache_drop(c, R, NULL);
	assert_int_equal(get_v(c, "id2", &v), 0);
	assert_int_equal(F.one_calls, 1);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 4);
	assert_int_equal(cache_list(c, "nl-ams", NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 4);
	cache_drop(c, NULL, NULL);
	assert_int_equal(cache_list(c, "nl-ams", NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.list_calls, 5);
	cache_free(c);
}

/* 11 */
static void test_counters(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	struct cache_stats s;
	int v;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);  /* miss */
	cache_item_release(c, &it);
	get_v(c, "id1", &v);                                      /* hit */
	get_v(c, "id2", &v);                                      /* hit */
	get_v(c, "zz", &v);                                       /* neg */
	advance(31);
	F.fail_list = -ETIMEDOUT;
	F.fail_times = 1;
	get_v(c, "id1", &v);                              /* miss, stale */
	cache_get_stats(c, &s);
	assert_int_equal(s.cache_hits, 2);
	assert_int_equal(s.cache_misses, 2);
	assert_int_equal(s.negative_hits, 1);
	assert_int_equal(s.cache_loads, 2);
	assert_int_equal(s.load_errors, 1);
	assert_int_equal(s.stale_served, 1);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.objects, 10);
	assert_true(s.bytes_cached > 10 * 100);
	struct cache_sight ls;
	cache_sight(c, R, &ls);
	assert_true(ls.held && ls.age > 30.9 && ls.age < 31.1);
	cache_sight(c, "pl-waw", &ls);
	assert_int_equal(ls.state, CACHE_UNLOADED);
	cache_free(c);
}

/* Interrupts: a waiter leaves at once; a cancelled loader leaves the
 * load to the others. */

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_listing_seeds_objects),
		T(test_fresh_listing_answers_unknown_ids),
		T(test_get_before_any_listing_costs_one_get),
		T(test_ttl_expiry_per_entry),
		T(test_many_gets_then_one_listing),
		T(test_expired_listed_object_is_refreshed_by_the_listing),
		T(test_ttl_zero_always_asks),
		T(test_404_is_remembered_for_min_ttl_10s),
		T(test_single_flight),
		T(test_stale_if_error_and_backoff),
		T(test_authoritative_answers_are_never_masked),
		T(test_a_listing_refresh_replaces_objects_together),
		T(test_change_detection),
		T(test_byte_budget_evicts_unlisted_objects_lru),
		T(test_explicit_invalidation),
		T(test_counters),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
