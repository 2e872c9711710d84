/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_stress: the cache's concurrency, 32 threads of lookups over loaders
 * that sleep, fail and see values change (run under ThreadSanitizer by
 * tests/check.sh, and once under valgrind).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
		      void *ctx, void **out, struct cache_note *note)
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
		       void ***items, size_t *n, struct cache_note *note)
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
	assert_int_equal(cs.cache_hits + cs.cache_misses + cs.negative_hits, lookups);
	assert_int_equal(cs.cache_loads, (uint64_t)atomic_load(&stress_calls));
	assert_true(cs.cache_loads <= cs.cache_misses);
	assert_true(errors <= cs.cache_misses);
	assert_true(cs.evictions > 0);
	print_message("lookups %llu hits %llu misses %llu loads %llu coalesced "
		      "%llu stale %llu errors %llu evictions %llu\n",
		      (unsigned long long)lookups, (unsigned long long)cs.cache_hits,
		      (unsigned long long)cs.cache_misses,
		      (unsigned long long)cs.cache_loads,
		      (unsigned long long)cs.coalesced,
		      (unsigned long long)cs.stale_served,
		      (unsigned long long)errors,
		      (unsigned long long)cs.evictions);
	cache_free(c);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrency_stress, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
