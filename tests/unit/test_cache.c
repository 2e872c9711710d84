/*
 * cache: each rule of cache/cache.h with an injected clock and fake loaders
 * that count calls and fail on demand, then a concurrency stress test
 * (run under ThreadSanitizer by tests/check.sh).
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

#include "cache.h"

#define R "fr-par"

/* The fake API: objects {"id", "v"} per region, call counters, faults. */
struct fake {
	pthread_mutex_t lock;
	double now;
	bool real_clock;
	json_t *data;              /* {"region": [objects]} */
	int list_calls, one_calls;
	int fail_list, fail_one;   /* -errno to return, 0 = succeed */
	int fail_times;            /* how many more failures; < 0 forever */
	unsigned delay_us;
	unsigned changed_delay_us; /* the change callback takes this long */
	unsigned rng;
	/* change log */
	char log[64][64];
	int nlog;
};

static struct fake F;

static double fake_now(void *ud)
{
	struct fake *f = ud;
	double t;

	if (f->real_clock) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	pthread_mutex_lock(&f->lock);
	t = f->now;
	pthread_mutex_unlock(&f->lock);
	return t;
}

static void advance(double s)
{
	pthread_mutex_lock(&F.lock);
	F.now += s;
	pthread_mutex_unlock(&F.lock);
}

static int take_failure(int err)
{
	if (!err || F.fail_times == 0)
		return 0;
	if (F.fail_times > 0)
		F.fail_times--;
	return err;
}

/* The values are jansson objects {"id", "v"}. */
static void v_hold(void *v) { json_incref(v); }
static void v_release(void *v) { json_decref(v); }
static bool v_equal(const void *a, const void *b) { return json_equal(a, b); }
static size_t v_size(const void *v) { (void)v; return 128; }
static const char *v_id(const void *v)
{
	return json_string_value(json_object_get(v, "id"));
}

static int load_list(void *ud, const char *region, void *ctx, void ***items,
		     size_t *n)
{
	struct fake *f = ud;
	json_t *arr;
	int err;

	(void)ctx;
	if (f->delay_us)
		usleep(f->delay_us);
	pthread_mutex_lock(&f->lock);
	f->list_calls++;
	err = take_failure(f->fail_list);
	arr = json_object_get(f->data, region);
	if (!err && !arr)
		err = -ENOENT;
	if (!err) {
		*n = json_array_size(arr);
		*items = calloc(*n + 1, sizeof **items);
		for (size_t i = 0; i < *n; i++)
			(*items)[i] = json_deep_copy(json_array_get(arr, i));
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int load_one(void *ud, const char *region, const char *id, void *ctx,
		    void **out)
{
	struct fake *f = ud;
	json_t *o;
	size_t i;
	int err;

	(void)ctx;
	if (f->delay_us)
		usleep(f->delay_us);
	pthread_mutex_lock(&f->lock);
	f->one_calls++;
	err = take_failure(f->fail_one);
	if (!err) {
		err = -ENOENT;
		json_array_foreach(json_object_get(f->data, region), i, o) {
			if (strcmp(json_string_value(json_object_get(o, "id")),
				   id) == 0) {
				*out = json_deep_copy(o);
				err = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static void changed(void *ud, const char *region,
		    const struct cache_change *ch, size_t n,
		    const struct cache_listing *listing)
{
	struct fake *f = ud;
	static const char k[] = "+~-";

	(void)region;
	(void)listing;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < n && f->nlog < 64; i++)
		snprintf(f->log[f->nlog++], sizeof f->log[0], "%c%s",
			 k[ch[i].kind], ch[i].id);
	pthread_mutex_unlock(&f->lock);
	if (f->changed_delay_us)
		usleep(f->changed_delay_us);
}

static bool logged(const char *what)
{
	for (int i = 0; i < F.nlog; i++)
		if (strcmp(F.log[i], what) == 0)
			return true;
	return false;
}

static void set_data(int n)
{
	json_t *arr = json_array();
	char id[16];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "id%d", i);
		json_array_append_new(arr, json_pack("{s:s, s:i}", "id", id,
						     "v", 1));
	}
	pthread_mutex_lock(&F.lock);
	json_object_set_new(F.data, R, arr);
	pthread_mutex_unlock(&F.lock);
}

static void set_field(const char *id, int v)
{
	size_t i;
	json_t *o;

	pthread_mutex_lock(&F.lock);
	json_array_foreach(json_object_get(F.data, R), i, o)
		if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0)
			json_object_set_new(o, "v", json_integer(v));
	pthread_mutex_unlock(&F.lock);
}

#define VALUES {v_hold, v_release, v_equal, v_size, v_id}

static struct cache *mk(double ttl, void (*tweak)(struct cache_conf *))
{
	struct cache_conf conf;
	struct cache_ops ops = {.load_list = load_list, .load_one = load_one,
				.changed = changed, .now = fake_now,
				.values = VALUES, .ud = &F};
	struct cache *c = NULL;

	cache_conf_default(&conf);
	conf.ttl = ttl;
	if (tweak)
		tweak(&conf);
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	return c;
}

static int setup(void **st)
{
	(void)st;
	json_decref(F.data);
	memset(&F, 0, sizeof F);
	pthread_mutex_init(&F.lock, NULL);
	F.now = 1000;
	F.data = json_object();
	set_data(10);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	json_decref(F.data);
	F.data = NULL;
	return 0;
}

static int get_v(struct cache *c, const char *id, int *v)
{
	struct cache_item it;
	int rc = cache_get(c, R, id, NULL, NULL, &it);

	if (rc == 0) {
		*v = (int)json_integer_value(json_object_get(it.value, "v"));
		cache_item_release(c, &it);
	}
	return rc;
}

/* Gets id0 .. id(n-1), each must succeed. */
static void get_all(struct cache *c, int n)
{
	int v;

	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "id%d", i);
		assert_int_equal(get_v(c, id, &v), 0);
	}
}

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
	assert_int_equal(s.hits, 10);
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
	assert_int_equal(s.loads, 1);
	assert_int_equal(s.hits + s.misses, 16);
	assert_int_equal(s.misses, 1 + s.coalesced);
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
	assert_int_equal(s.loads, (uint64_t)F.list_calls);
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
	assert_true(s.bytes <= 4096);
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
	assert_true(s.bytes > 4096);
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
	assert_int_equal(s.hits, 2);
	assert_int_equal(s.misses, 2);
	assert_int_equal(s.negative_hits, 1);
	assert_int_equal(s.loads, 2);
	assert_int_equal(s.load_errors, 1);
	assert_int_equal(s.stale_served, 1);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.objects, 10);
	assert_true(s.bytes > 10 * 100);
	double age;
	assert_int_equal(cache_listing_age(c, R, &age), 0);
	assert_true(age > 30.9 && age < 31.1);
	assert_int_equal(cache_listing_age(c, "pl-waw", &age), -ENOENT);
	cache_free(c);
}

/* Interrupts: a waiter leaves at once; a cancelled loader leaves the
 * load to the others. */
static int intr_loads;

static int load_list_intr(void *ud, const char *region, void *ctx,
			  void ***items, size_t *n)
{
	(void)ctx;
	if (__atomic_add_fetch(&intr_loads, 1, __ATOMIC_SEQ_CST) == 1) {
		usleep(200000);
		return -EINTR;
	}
	return load_list(ud, region, ctx, items, n);
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
				.load_one = load_one, .changed = changed,
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
	assert_int_equal(cache_due(c, 5, due, 4), 0); /* 9 s left */
	advance(5);
	assert_int_equal(cache_due(c, 5, due, 4), 1); /* 4 s left */
	assert_string_equal(due[0], R);
	free(due[0]);
	/* The refresh runs on a thread of its own. */
	assert_int_equal(cache_refresh_list(c, R), 0);
	cache_wait_background(c);
	assert_int_equal(F.list_calls, 3);
	/* Refreshed, and not used since: not due again. */
	advance(27);
	assert_int_equal(cache_due(c, 5, due, 4), 0);
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

static double real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	assert_int_equal(s.grace_stale, 1);
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
	assert_int_equal(s.grace_stale, 0);
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

/* The stress test: 32 threads x 10,000 lookups over 1,000 keys, loaders
 * that sleep, fail and see values change. */
#define KEYS 1000
#define THREADS 32
#define LOOKUPS_DEFAULT 10000

/* STRESS_LOOKUPS lowers the count for slow runs (valgrind). */
static int lookups_per_thread(void)
{
	const char *e = getenv("STRESS_LOOKUPS");
	return e && atoi(e) > 0 ? atoi(e) : LOOKUPS_DEFAULT;
}

static atomic_int versions[KEYS];
static atomic_int stress_calls;

static int stress_one(void *ud, const char *region, const char *id,
		      void *ctx, void **out)
{
	unsigned r = (unsigned)atomic_fetch_add(&stress_calls, 1) * 2654435761u;
	int k = atoi(id + 1);

	(void)ud;
	(void)region;
	(void)ctx;
	usleep(r % 200);
	if (r % 100 < 5)
		return -EIO;
	*out = json_pack("{s:s, s:i}", "id", id, "v",
			 atomic_load(&versions[k]));
	return 0;
}

static int stress_list(void *ud, const char *region, void *ctx,
		       void ***items, size_t *n)
{
	unsigned r = (unsigned)atomic_fetch_add(&stress_calls, 1) * 2654435761u;
	char id[16];

	(void)ud;
	(void)region;
	(void)ctx;
	usleep(r % 500);
	if (r % 100 < 5)
		return -EIO;
	*items = calloc(KEYS, sizeof **items);
	for (int k = 0; k < KEYS; k++) {
		snprintf(id, sizeof id, "k%d", k);
		(*items)[k] = json_pack("{s:s, s:i}", "id", id, "v",
					atomic_load(&versions[k]));
	}
	*n = KEYS;
	return 0;
}

struct stresser {
	struct cache *c;
	unsigned seed;
	int last[KEYS];
	uint64_t lookups, errors, regressions;
};

static void *stress_thread(void *p)
{
	struct stresser *s = p;

	int n = lookups_per_thread();

	for (int i = 0; i < n; i++) {
		struct cache_item it;
		int k = (int)(rand_r(&s->seed) % KEYS), rc, v;
		char id[16];

		snprintf(id, sizeof id, "k%d", k);
		if (k == 0 && i % 500 == 0) {
			rc = cache_list(s->c, R, NULL, NULL, &it);
		} else {
			rc = cache_get(s->c, R, id, NULL, NULL, &it);
		}
		s->lookups++;
		if (rc) {
			s->errors++;
			continue;
		}
		if (it.list) {
			cache_item_release(s->c, &it);
			continue;
		}
		v = (int)json_integer_value(json_object_get(it.value, "v"));
		/* No lost update: one reader never sees a value go back. */
		if (v < s->last[k])
			s->regressions++;
		s->last[k] = v;
		cache_item_release(s->c, &it);
		if (rand_r(&s->seed) % 100 == 0)
			atomic_fetch_add(&versions[rand_r(&s->seed) % KEYS], 1);
	}
	return NULL;
}

static void test_concurrency_stress(void **st)
{
	struct cache_conf conf;
	struct cache_ops ops = {.load_list = stress_list,
				.load_one = stress_one, .values = VALUES};
	struct cache *c = NULL;
	struct stresser *s = calloc(THREADS, sizeof *s);
	pthread_t t[THREADS];
	struct cache_stats cs;
	uint64_t lookups = 0, errors = 0, regressions = 0;

	(void)st;
	cache_conf_default(&conf);
	conf.ttl = 0.002;          /* expire all the time */
	conf.retry_min = 0.001;
	conf.retry_max = 0.005;
	conf.budget = 64 * 1024;   /* and evict */
	conf.gets_before_list = 0;
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	for (int i = 0; i < THREADS; i++) {
		s[i].c = c;
		s[i].seed = (unsigned)i * 7919u + 1;
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		lookups += s[i].lookups;
		errors += s[i].errors;
		regressions += s[i].regressions;
	}
	cache_get_stats(c, &cs);
	assert_int_equal(lookups, (uint64_t)THREADS * lookups_per_thread());
	assert_int_equal(regressions, 0);
	/* Every lookup is counted once; every load was a loader call. */
	assert_int_equal(cs.hits + cs.misses + cs.negative_hits, lookups);
	assert_int_equal(cs.loads, (uint64_t)atomic_load(&stress_calls));
	assert_true(cs.loads <= cs.misses);
	assert_true(errors <= cs.misses);
	assert_true(cs.evictions > 0);
	print_message("lookups %llu hits %llu misses %llu loads %llu coalesced "
		      "%llu stale %llu errors %llu evictions %llu\n",
		      (unsigned long long)lookups, (unsigned long long)cs.hits,
		      (unsigned long long)cs.misses,
		      (unsigned long long)cs.loads,
		      (unsigned long long)cs.coalesced,
		      (unsigned long long)cs.stale_served,
		      (unsigned long long)errors,
		      (unsigned long long)cs.evictions);
	cache_free(c);
	free(s);
}

int main(int argc, char **argv)
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
		T(test_interrupts),
		T(test_refresh_ahead_due_only_when_used),
		T(test_a_slow_refresh_is_answered_after_the_grace),
		T(test_a_refresh_within_the_grace_is_waited_for),
		T(test_an_authoritative_answer_wins_within_the_grace),
		T(test_grace_zero_serves_the_old_value_at_once),
		T(test_a_grace_that_ends_after_the_values_changed),
		T(test_concurrency_stress),
#undef T
	};

	/* "--stress-only": just the stress test (helgrind/valgrind runs). */
	if (argc > 1 && strcmp(argv[1], "--stress-only") == 0) {
		const struct CMUnitTest one[] = {
			cmocka_unit_test_setup_teardown(test_concurrency_stress,
							setup, teardown),
		};
		return cmocka_run_group_tests(one, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
