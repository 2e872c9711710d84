/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cachefake: what the cache's test programs share: a fake API of objects
 * {"id", "v"} per region, with loaders that count their calls, fail on
 * demand and may be slow, a change log, an injected clock, and cmocka's
 * set-up and tear-down of it. Test helper only; the fake is one global
 * (F), reset by setup().
 */
#ifndef CACHEFAKE_H
#define CACHEFAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	double age;                /* the age the loaders say their data has */
	/* The next listings lack these ids, one each, in this order (NULL:
	 * none), as listings read while objects moved between pages. */
	const char *hides[4];
	int nhides;
	unsigned delay_us;
	double list_takes;         /* a listing moves the fake clock so far */
	unsigned changed_delay_us; /* the change callback takes this long */
	unsigned rng;
	/* change log */
	char log[64][64];
	int nlog;
	/* listed callbacks: how many, and the last listing's seq and size */
	int listed_calls;
	uint64_t listed_seq;
	size_t listed_n;
};

extern struct fake F;

/* The value operations on the fake's objects (jansson objects). */
void v_hold(void *v);
void v_release(void *v);
bool v_equal(const void *a, const void *b);
size_t v_size(const void *v);
const char *v_id(const void *v);
#define VALUES {v_hold, v_release, v_equal, v_size, v_id}

/* The fake's cache operations (ud: &F): the clock, the loaders, the
 * change callback that fills the change log, the listed callback that
 * counts. */
double fake_now(void *ud);
int fake_load_list(void *ud, const char *region, void *ctx, void ***items,
		   size_t *n, struct cache_note *note);
int fake_load_one(void *ud, const char *region, const char *id, void *ctx,
		  void **out, struct cache_note *note);
void fake_changed(void *ud, const char *region,
		  const struct cache_change *ch, size_t n,
		  const struct cache_listing *listing);
void fake_listed(void *ud, const char *region,
		 const struct cache_listing *listing);

/* The injected clock moves on by s seconds. */
void advance(double s);
/* CLOCK_MONOTONIC, in seconds (grace waits are on the real clock). */
double real_now(void);
/* Whether the change log holds what ("+id", "~id", "-id"). */
bool logged(const char *what);
/* Region R holds id0 .. id(n-1), each {"v": 1}. */
void set_data(int n);
/* Object id of region R gets v. */
void set_field(const char *id, int v);
/* A cache over the fake, fresh for ttl seconds, conf changed by tweak. */
struct cache *mk(double ttl, void (*tweak)(struct cache_conf *));
/* cmocka: the fake reset (10 objects, the clock at 1000), and freed. */
int setup(void **st);
int teardown(void **st);
/* cache_get of id: its "v" into *v; the get's return. */
int get_v(struct cache *c, const char *id, int *v);
/* Gets id0 .. id(n-1), each must succeed. */
void get_all(struct cache *c, int n);

#endif
