/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apitest: the fixture the api/ test programs share (see apitest.h).
 */
#include "apitest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "kinds.h"
#include "log.h"

struct simctl at_sim;
static pthread_mutex_t loglock = PTHREAD_MUTEX_INITIALIZER;
static char *logtext;
static size_t loglen;

static void sink(enum log_level l, const char *msg, void *ud)
{
	size_t n = strlen(msg);
	char *p;

	(void)l;
	(void)ud;
	pthread_mutex_lock(&loglock);
	p = realloc(logtext, loglen + n + 2);
	if (p) {
		logtext = p;
		memcpy(logtext + loglen, msg, n);
		loglen += n;
		logtext[loglen++] = '\n';
		logtext[loglen] = '\0';
	}
	pthread_mutex_unlock(&loglock);
}

void at_log_clear(void)
{
	pthread_mutex_lock(&loglock);
	free(logtext);
	logtext = NULL;
	loglen = 0;
	pthread_mutex_unlock(&loglock);
}

bool at_log_has(const char *s)
{
	bool r;
	pthread_mutex_lock(&loglock);
	r = logtext && strstr(logtext, s);
	pthread_mutex_unlock(&loglock);
	return r;
}

double at_now(void)
{
	return clock_mono();
}

void at_start(const char *const *args)
{
	const char *a[40] = {"--token", TOKEN, "--regions", FR};
	int n = 4;

	for (; args && *args; args++)
		a[n++] = *args;
	a[n] = NULL;
	simctl_start(&at_sim, a);
}

struct api *at_client(long timeout_ms, void (*tweak)(struct api_opts *))
{
	struct api_opts o;
	struct api *a = NULL;

	api_opts_default(&o);
	o.base_url = at_sim.url;
	o.secret_key = TOKEN;
	o.key_source = "the test";
	o.timeout_ms = timeout_ms;
	o.backoff_base_ms = 20;
	o.backoff_cap_ms = 100;
	if (tweak)
		tweak(&o);
	assert_int_equal(api_new(&o, &a), 0);
	return a;
}

int at_teardown(void **st)
{
	(void)st;
	if (at_sim.pid > 0)
		assert_int_equal(simctl_stop(&at_sim), 0);
	at_log_clear();
	return 0;
}

void at_begin(void)
{
	api_global_init();
	log_setup(LOGL_WARNING, false);
	log_set_sink(sink, NULL);
}

void at_end(void)
{
	api_global_cleanup();
	at_log_clear();
}

int at_list(struct api *a, const char *region, const struct api_filters *f,
	    struct api_call *call, json_t **items, struct api_error *err)
{
	void **v = NULL;
	size_t n = 0;
	int rc = api_list_items(a, &kind_get(K_CONN)->api, region, f, NULL,
				call, &v, &n, NULL, err);

	if (rc)
		return rc;
	*items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*items, v[i]);
	free(v);
	return 0;
}

int at_get(struct api *a, const char *region, const char *id,
	   const struct api_filters *f, struct api_call *call, json_t **obj,
	   struct api_error *err)
{
	return api_get_object(a, &kind_get(K_CONN)->api, region, id, f, call,
			      obj, NULL, err);
}
