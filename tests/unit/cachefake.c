/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cachefake: the fake API the cache's tests share (cachefake.h).
 */
#include "cachefake.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct fake F;


double fake_now(void *ud)
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

void advance(double s)
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
void v_hold(void *v) { json_incref(v); }
void v_release(void *v) { json_decref(v); }
bool v_equal(const void *a, const void *b) { return json_equal(a, b); }
size_t v_size(const void *v) { (void)v; return 128; }
const char *v_id(const void *v)
{
	return json_string_value(json_object_get(v, "id"));
}

int fake_load_list(void *ud, const char *region, void *ctx, void ***items,
		     size_t *n, struct cache_note *note)
{
	struct fake *f = ud;
	json_t *arr;
	int err;

	(void)ctx;
	if (f->delay_us)
		usleep(f->delay_us);
	pthread_mutex_lock(&f->lock);
	f->now += f->list_takes;
	f->list_calls++;
	err = take_failure(f->fail_list);
	note->age = f->age;
	arr = json_object_get(f->data, region);
	if (!err && !arr)
		err = -ENOENT;
	if (!err) {
		const char *hide = NULL;
		size_t k = 0;

		if (f->nhides > 0) {
			hide = f->hides[0];
			memmove(f->hides, f->hides + 1,
				sizeof f->hides - sizeof *f->hides);
			f->nhides--;
		}
		*items = calloc(json_array_size(arr) + 1, sizeof **items);
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *o = json_array_get(arr, i);
			if (hide && strcmp(v_id(o), hide) == 0)
				continue;
			(*items)[k++] = json_deep_copy(o);
		}
		*n = k;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

int fake_load_one(void *ud, const char *region, const char *id, void *ctx,
		    void **out, struct cache_note *note)
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
	note->age = f->age;
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

void fake_changed(void *ud, const char *region,
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

void fake_listed(void *ud, const char *region,
		 const struct cache_listing *listing)
{
	struct fake *f = ud;

	(void)region;
	pthread_mutex_lock(&f->lock);
	f->listed_calls++;
	f->listed_seq = cache_listing_seq(listing);
	f->listed_n = cache_listing_size(listing);
	pthread_mutex_unlock(&f->lock);
}

bool logged(const char *what)
{
	for (int i = 0; i < F.nlog; i++)
		if (strcmp(F.log[i], what) == 0)
			return true;
	return false;
}

void set_data(int n)
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

void set_field(const char *id, int v)
{
	size_t i;
	json_t *o;

	pthread_mutex_lock(&F.lock);
	json_array_foreach(json_object_get(F.data, R), i, o)
		if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0)
			json_object_set_new(o, "v", json_integer(v));
	pthread_mutex_unlock(&F.lock);
}

struct cache *mk(double ttl, void (*tweak)(struct cache_conf *))
{
	struct cache_conf conf;
	struct cache_ops ops = {.load_list = fake_load_list,
				.load_one = fake_load_one,
				.changed = fake_changed,
				.listed = fake_listed, .now = fake_now,
				.values = VALUES, .ud = &F};
	struct cache *c = NULL;

	cache_conf_default(&conf);
	conf.ttl = ttl;
	if (tweak)
		tweak(&conf);
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	return c;
}

int setup(void **st)
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

int teardown(void **st)
{
	(void)st;
	json_decref(F.data);
	F.data = NULL;
	return 0;
}

int get_v(struct cache *c, const char *id, int *v)
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
void get_all(struct cache *c, int n)
{
	int v;

	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "id%d", i);
		assert_int_equal(get_v(c, id, &v), 0);
	}
}

double real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
