/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_refresh: the rules of cache/cache.h on what waits for the API:
 * interrupts, refresh-ahead, and the grace of a slow refresh (on the real
 * clock), with the fake loaders of cachefake.h.
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

static int intr_loads;

static int load_list_intr(void *ud, const char *region, void *ctx,
			  void ***items, size_t *n, struct cache_note *note)
{
	(void)ctx;
	if (__atomic_add_fetch(&intr_loads, 1, __ATOMIC_SEQ_CST) == 1) {
		usleep(200000);
		return -EINTR;
	}
	return fake_load_list(ud, region, ctx, items, n, note);
}

struct intr_reader {
	struct cache *c;
	atomic_int flag;
	int rc;
};

static void *intr_reader(void *p)
{
	struct intr_reader *r = p;
	struct cache_item it;

	r->rc = cache_list(r->c, R, NULL, &r->flag, &it);
	if (!r->rc)
		cache_item_release(r->c, &it);
	return NULL;
}

static void test_interrupts(void **st)
{
	struct cache_conf conf;
	struct cache_ops ops = {.load_list = load_list_intr,
				.load_one = fake_load_one, .changed = fake_changed,
				.now = fake_now, .values = VALUES, .ud = &F};
	struct cache *c = NULL;
	struct intr_reader a = {0}, b = {0};
	pthread_t ta, tb;

	(void)st;
	cache_conf_default(&conf);
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	a.c = b.c = c;
	atomic_init(&a.flag, 0);
	atomic_init(&b.flag, 0);
	pthread_create(&ta, NULL, intr_reader, &a); /* the cancelled loader */
	usleep(50000);
	pthread_create(&tb, NULL, intr_reader, &b); /* waits, then loads */
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, -EINTR);
	assert_int_equal(b.rc, 0);
	assert_int_equal(intr_loads, 2);

	/* A waiter whose request is interrupted returns -EINTR now. */
	cache_drop(c, NULL, NULL);
	F.delay_us = 2000000;
	struct intr_reader w = {.c = c}, l = {.c = c};
	atomic_init(&w.flag, 0);
	atomic_init(&l.flag, 0);
	pthread_create(&ta, NULL, intr_reader, &l);
	usleep(50000);
	pthread_create(&tb, NULL, intr_reader, &w);
	usleep(50000);
	atomic_store(&w.flag, 1);
	cache_wake(c);
	pthread_join(tb, NULL);
	assert_int_equal(w.rc, -EINTR);
	pthread_join(ta, NULL);
	assert_int_equal(l.rc, 0);
	cache_free(c);
}

static void test_refresh_ahead_due_only_when_used(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	char *due[4];
	int v;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	json_object_set_new(F.data, "nl-ams", json_array());
	assert_int_equal(cache_list(c, "nl-ams", NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	advance(1);
	get_v(c, "id1", &v); /* fr-par used since its load */
	advance(20);
	assert_int_equal(cache_due(c, 5, false, 0, due, 4), 0); /* 9 s left */
	advance(5);
	assert_int_equal(cache_due(c, 5, false, 0, due, 4), 1); /* 4 s left */
	assert_string_equal(due[0], R);
	free(due[0]);
	/* The refresh runs on a thread of its own. */
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	assert_int_equal(F.list_calls, 3);
	/* Refreshed, and not used since: not due again. */
	advance(27);
	assert_int_equal(cache_due(c, 5, false, 0, due, 4), 0);
	cache_free(c);
}

static void test_refresh_ahead_due_for_every_listing_when_all(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	char *due[4];

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	/* Never used since its load: due only when every listing is
	 * (a mount being watched). */
	advance(26);
	assert_int_equal(cache_due(c, 5, false, 0, due, 4), 0);
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 1);
	assert_string_equal(due[0], R);
	free(due[0]);
	/* Not while it fails and waits out its back-off. */
	F.fail_list = -EIO;
	F.fail_times = -1;
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 0);
	cache_free(c);
}

/* A listing that took 8 s is due 8 s earlier than one that took none:
 * its refresh ends before the data it replaces expires. */
static void test_refresh_ahead_starts_as_early_as_the_last_load_took(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	char *due[4];

	(void)st;
	F.list_takes = 8;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	F.list_takes = 0;
	advance(16); /* 14 s left: more than 5, less than 5 + 8 + 2 */
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 0);
	advance(2); /* 12 s left: less than 5 + 8 */
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 1);
	free(due[0]);
	/* A quick one restores the usual lead. */
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	advance(18);
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 0);
	advance(8);
	assert_int_equal(cache_due(c, 5, true, 0, due, 4), 1);
	free(due[0]);
	cache_free(c);
}

static void test_listed_after_every_listing_load(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_item it;
	uint64_t seq;
	int v;

	(void)st;
	/* The first listing, and each one after, changed or not. */
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.listed_calls, 1);
	assert_int_equal(F.listed_n, 10);
	seq = F.listed_seq;
	advance(31);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.listed_calls, 2);
	assert_true(F.listed_seq == seq);       /* the same listing */
	set_field("id3", 7);
	advance(31);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	assert_int_equal(F.listed_calls, 3);
	assert_true(F.listed_seq > seq);
	/* Not after a failed listing, nor after a get. */
	F.fail_list = -EIO;
	F.fail_times = 1;
	advance(31);
	cache_list(c, R, NULL, NULL, &it);
	cache_item_release(c, &it);
	cache_drop(c, R, "id4");
	assert_int_equal(get_v(c, "id4", &v), 0);
	assert_int_equal(F.listed_calls, 3);
	cache_free(c);
}

static void test_sight(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight ls;
	struct cache_item it;

	(void)st;
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_UNLOADED);
	assert_true(!ls.held && !ls.loaded);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	advance(4);
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_FRESH);
	assert_true(ls.held && ls.loaded && !ls.pending && ls.servable);
	assert_int_equal(ls.last_rc, 0);
	assert_int_equal(ls.objects, 10);
	assert_true(ls.age > 3.9 && ls.age < 4.1);
	/* Past ttl with no refresh under way: stale at once (nobody asked:
	 * no trouble). */
	advance(26.5);
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_STALE);
	assert_false(ls.trouble);
	/* With its refresh under way, fresh for the grace (a reader waits
	 * that long for it), then stale. */
	F.delay_us = 300000;
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_sight(c, R, &ls);
	assert_true(ls.pending > 0);
	assert_int_equal(ls.state, CACHE_FRESH);
	advance(0.6);
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_STALE);
	cache_wait_list(c, R, 5);
	F.delay_us = 0;
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_FRESH);
	assert_true(ls.checked < 0.1 && ls.stale_served < 0);
	advance(31);
	/* A failed refresh: the listing is still held (stale), the last
	 * load failed, and says why. */
	F.fail_list = -ECONNREFUSED;
	F.fail_times = -1;
	advance(3);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	assert_true(it.stale);
	cache_item_release(c, &it);
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_STALE);
	assert_true(ls.held && ls.loaded && ls.trouble && ls.servable);
	assert_int_equal(ls.last_rc, -ECONNREFUSED);
	assert_string_equal(ls.why, strerror(ECONNREFUSED));
	assert_true(ls.age > 33.9);
	/* ... and old data was handed to a reader just now. */
	assert_true(ls.stale_served >= 0 && ls.stale_served < 0.1);
	/* Older than stale: nothing servable. */
	advance(600);
	cache_sight(c, R, &ls);
	assert_int_equal(ls.state, CACHE_BLIND);
	assert_false(ls.servable);
	/* Asked for, never loaded. */
	F.fail_list = -ETIMEDOUT;
	assert_int_equal(cache_list(c, "nl-ams", NULL, NULL, &it),
			 -ETIMEDOUT);
	cache_sight(c, "nl-ams", &ls);
	assert_int_equal(ls.state, CACHE_BLIND);
	assert_true(!ls.held && ls.loaded && ls.trouble);
	assert_int_equal(ls.last_rc, -ETIMEDOUT);
	/* A region the API does not serve. */
	F.fail_list = 0;
	assert_int_equal(cache_list(c, "it-mil", NULL, NULL, &it), -ENOENT);
	cache_sight(c, "it-mil", &ls);
	assert_int_equal(ls.state, CACHE_UNSERVED);
	assert_false(ls.trouble);
	assert_string_equal(cache_sight_name(CACHE_UNSERVED), "unserved");
	cache_free(c);
}

static void test_wait_list_waits_for_the_load_at_most_so_long(void **st)
{
	struct cache *c = mk(30, NULL);
	struct cache_sight ls;
	double t0;

	(void)st;
	F.real_clock = true;
	F.delay_us = 300000;
	/* Nothing to wait for: at once. */
	t0 = real_now();
	cache_wait_list(c, R, 5);
	assert_true(real_now() - t0 < 0.1);
	/* A background load: waited for, up to the limit. */
	assert_int_equal(cache_refresh_list(c, R), 0);
	t0 = real_now();
	cache_wait_list(c, R, 0.05);
	assert_true(real_now() - t0 < 0.25);
	cache_sight(c, R, &ls);
	assert_true(ls.pending > 0 && !ls.held);
	cache_wait_list(c, R, 5);
	assert_true(real_now() - t0 < 2);
	cache_sight(c, R, &ls);
	assert_true(!ls.pending && ls.held);
	cache_free(c);
}

static void grace_50ms(struct cache_conf *cf)
{
	cf->grace = 0.05;
}

static void grace_2s(struct cache_conf *cf)
{
	cf->grace = 2;
}

static void grace_0(struct cache_conf *cf)
{
	cf->grace = 0;
}

/* Past ttl, with a slow refresh, and a value younger than stale: id1 read
 * after d seconds of waiting at most; *stale says whether it was old. */
static int timed_get(struct cache *c, double *took, bool *stale)
{
	struct cache_item it;
	double t0 = real_now();
	int v = -1;

	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &it), 0);
	*took = real_now() - t0;
	*stale = it.stale;
	v = (int)json_integer_value(json_object_get(it.value, "v"));
	cache_item_release(c, &it);
	return v;
}

/* 20 */
static void test_a_slow_refresh_is_answered_after_the_grace(void **st)
{
	struct cache *c = mk(30, grace_50ms);
	struct cache_stats s;
	double took;
	bool stale;
	int v;

	(void)st;
	assert_int_equal(get_v(c, "id1", &v), 0);
	get_all(c, 10); /* the listing, after 8 gets */
	set_field("id1", 2);
	advance(31);
	F.delay_us = 300000;
	assert_int_equal(timed_get(c, &took, &stale), 1);
	assert_true(stale);
	assert_true(took >= 0.04 && took < 0.25);
	cache_get_stats(c, &s);
	assert_int_equal(s.grace_stale_served, 1);
	assert_int_equal(s.stale_served, 1);
	/* The refresh went on, and landed, with its change event. */
	cache_wait_background(c);
	F.delay_us = 0;
	pthread_mutex_lock(&F.lock);
	assert_true(logged("~id1"));
	pthread_mutex_unlock(&F.lock);
	assert_int_equal(get_v(c, "id1", &v), 0);
	assert_int_equal(v, 2);
	cache_free(c);
}

/* 21 */
static void test_a_refresh_within_the_grace_is_waited_for(void **st)
{
	struct cache *c = mk(30, grace_2s);
	struct cache_stats s;
	double took;
	bool stale;

	(void)st;
	get_all(c, 10);
	set_field("id1", 3);
	advance(31);
	F.delay_us = 50000;
	assert_int_equal(timed_get(c, &took, &stale), 3);
	assert_false(stale);
	assert_true(took >= 0.04 && took < 1.5);
	cache_get_stats(c, &s);
	assert_int_equal(s.grace_stale_served, 0);
	cache_free(c);
}

/* 22 */
static void test_an_authoritative_answer_wins_within_the_grace(void **st)
{
	struct cache *c = mk(30, grace_2s);
	struct cache_item it;

	(void)st;
	get_all(c, 10);
	advance(31);
	F.fail_list = F.fail_one = -EACCES;
	F.fail_times = -1;
	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &it), -EACCES);
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), -EACCES);
	cache_free(c);
}

/* A refresh that has replaced the values, and is still telling the owner
 * what changed (the lock dropped) when the grace of a reader ends: the
 * reader gets the new value, fresh, not the old one it saw before waiting
 * (which that very refresh lets go of). */
static void test_a_grace_that_ends_after_the_values_changed(void **st)
{
	struct cache *c = mk(30, grace_50ms);
	struct cache_item it;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	set_field("id1", 5);
	advance(31);
	F.delay_us = 20000;          /* applied at 20 ms ... */
	F.changed_delay_us = 300000; /* ... told until 320 ms */
	assert_int_equal(cache_get(c, R, "id1", NULL, NULL, &it), 0);
	assert_int_equal(json_integer_value(json_object_get(it.value, "v")),
			 5);
	assert_false(it.stale);
	cache_item_release(c, &it);
	cache_wait_background(c);
	F.delay_us = F.changed_delay_us = 0;
	cache_free(c);
}

/* 23 */
static void test_grace_zero_serves_the_old_value_at_once(void **st)
{
	struct cache *c = mk(30, grace_0);
	struct cache_item it;
	double took;
	bool stale;

	(void)st;
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	cache_item_release(c, &it);
	set_field("id1", 4);
	advance(31);
	F.delay_us = 200000;
	assert_int_equal(timed_get(c, &took, &stale), 1);
	assert_true(stale && took < 0.1);
	/* The listing, too, while its refresh runs. */
	assert_int_equal(cache_list(c, R, NULL, NULL, &it), 0);
	assert_true(it.stale);
	cache_item_release(c, &it);
	cache_wait_background(c);
	F.delay_us = 0;
	assert_int_equal(timed_get(c, &took, &stale), 4);
	assert_false(stale);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_interrupts),
		T(test_refresh_ahead_due_only_when_used),
		T(test_refresh_ahead_due_for_every_listing_when_all),
		T(test_refresh_ahead_starts_as_early_as_the_last_load_took),
		T(test_listed_after_every_listing_load),
		T(test_sight),
		T(test_wait_list_waits_for_the_load_at_most_so_long),
		T(test_a_slow_refresh_is_answered_after_the_grace),
		T(test_a_refresh_within_the_grace_is_waited_for),
		T(test_an_authoritative_answer_wins_within_the_grace),
		T(test_grace_zero_serves_the_old_value_at_once),
		T(test_a_grace_that_ends_after_the_values_changed),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
