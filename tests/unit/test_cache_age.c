/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_age: what the age a loader says does (cache/cache.h): data is
 * fresh until ttl after it was made; an answer older than what is held
 * does not replace it; no news (the same copy, an older one, data past
 * its ttl) is asked again after the back-off, never at every read; and a
 * listing that lacks an object is read again before the object counts as
 * gone. With the fake loaders and clock of cachefake.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cachefake.h"

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

static void test_fresh_until_ttl_after_it_was_made(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;

	(void)st;
	F.age = 20;                        /* made 20 s before it came */
	assert_int_equal(list_n(c, NULL), 10);
	cache_sight(c, R, &s);
	assert_true(s.age >= 20 && s.age < 20.1);
	assert_int_equal(s.state, CACHE_FRESH);
	/* 10 s later it is expired: the next lookup loads. */
	advance(10.1);
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 2);
	cache_free(c);
}

static void test_data_already_past_ttl_is_stale_and_backed_off(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;
	bool stale;

	(void)st;
	F.age = 45;
	assert_int_equal(list_n(c, &stale), 10);
	assert_true(stale);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_STALE);
	assert_true(s.last_old && s.trouble);
	assert_non_null(strstr(s.why, "came old"));
	/* Read again and again: served, not asked again before the
	 * back-off (1 s, then 2 s). */
	for (int i = 0; i < 10; i++)
		assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 1);
	advance(1.01);
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 2);
	advance(1.01);
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 2);
	advance(1.01);
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 3);
	/* New data: fresh again, and the back-off is forgotten. */
	F.age = 0;
	advance(4.1);
	assert_int_equal(list_n(c, &stale), 10);
	assert_false(stale);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_FRESH);
	cache_free(c);
}

static void test_an_older_answer_does_not_replace_the_held(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;
	int v;

	(void)st;
	assert_int_equal(list_n(c, NULL), 10);      /* made at 1000 */
	set_field("id3", 7);
	advance(31);
	F.age = 40;                                /* made at 991 */
	assert_int_equal(get_v(c, "id3", &v), 0);
	assert_int_equal(v, 1);                    /* the held value */
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_STALE);
	assert_non_null(strstr(s.why, "older than the data held"));
	assert_false(logged("~id3"));
	cache_free(c);
}

static void test_the_same_copy_again_is_no_news(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight s;

	(void)st;
	assert_int_equal(list_n(c, NULL), 10);      /* made at 1000 */
	/* A refresh ahead of expiry gets the copy held (a cache's): still
	 * fresh, asked again no later than its expiry. */
	advance(25);
	F.age = 25;
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_FRESH);
	assert_int_equal(F.list_calls, 2);
	assert_int_equal(cache_refresh_list(c, R), 0);   /* in back-off */
	cache_wait_background(c);
	assert_int_equal(F.list_calls, 2);
	advance(5);                                 /* expired: asked */
	F.age = 0;
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 3);
	cache_sight(c, R, &s);
	assert_true(s.state == CACHE_FRESH && s.age < 0.1);
	cache_free(c);
}

static void confirm(struct cache_conf *cf)
{
	cf->confirm_removals = true;
}

/* The next listings lack these ids, one each (NULL: none). */
static void hide(const char *a, const char *b, const char *c)
{
	F.hides[0] = a;
	F.hides[1] = b;
	F.hides[2] = c;
	F.nhides = 3;
}

static void test_an_object_missing_once_is_not_gone(void **st)
{
	struct cache *c = mk(30, confirm);

	(void)st;
	assert_int_equal(list_n(c, NULL), 10);
	/* One reading misses id4 (it moved between pages): read again, and
	 * the second reading has it. */
	hide("id4", NULL, NULL);
	advance(31);
	assert_int_equal(list_n(c, NULL), 10);
	assert_int_equal(F.list_calls, 3);
	assert_false(logged("-id4"));
	/* Two readings agree that it went: it is gone. */
	hide("id4", "id4", NULL);
	advance(31);
	assert_int_equal(list_n(c, NULL), 9);
	assert_int_equal(F.list_calls, 5);
	assert_true(logged("-id4"));
	cache_free(c);
}

static void test_readings_that_never_agree_are_incomplete(void **st)
{
	struct cache *c = mk(30, confirm);
	struct cache_sight s;
	bool stale;

	(void)st;
	assert_int_equal(list_n(c, NULL), 10);
	hide("id4", "id5", "id6");
	advance(31);
	assert_int_equal(list_n(c, &stale), 10);  /* the held, stale */
	assert_true(stale);
	assert_int_equal(F.list_calls, 4);
	cache_sight(c, R, &s);
	assert_int_equal(s.state, CACHE_STALE);
	assert_true(s.last_incomplete && s.trouble);
	assert_int_equal(s.last_rc, -EIO);
	assert_false(logged("-id4") || logged("-id5") || logged("-id6"));
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_fresh_until_ttl_after_it_was_made),
		T(test_data_already_past_ttl_is_stale_and_backed_off),
		T(test_an_older_answer_does_not_replace_the_held),
		T(test_the_same_copy_again_is_no_news),
		T(test_an_object_missing_once_is_not_gone),
		T(test_readings_that_never_agree_are_incomplete),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
