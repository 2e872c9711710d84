/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_transport: the client's errors and transport against interlink-sim
 * on 127.0.0.1 — every row of the error table, retries and Retry-After
 * (timed with the simulator's request timestamps), the shared 429
 * cool-down, timeouts, rate limit, cancellation, headers and connection
 * reuse, plain http, and the secret never showing in logs. Listing and
 * parsing are in test_api.c.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apitest.h"
#include "field.h"
#include "log.h"

/* RFC 9111 4.2.3: the larger of Age plus the request's delay and the
 * apparent age (received less Date, read as the end of its second). */
static void test_age_of_an_answer(void **st)
{
	/* Sun, 06 Dec 2026 10:00:00 GMT */
	const double d = 1796551200;
	const char *date = "Sun, 06 Dec 2026 10:00:00 GMT";
	struct {
		double sent, received, wall;
		const char *date, *age;
		double want;
	} t[] = {
		{10.0, 10.2, d + 0.5, date, NULL, 0.2},   /* straight: delay */
		{10.0, 10.2, d + 30.5, date, NULL, 29.5}, /* a cache's copy */
		{10.0, 10.2, d + 0.5, date, "40", 40.2},  /* Age wins */
		{10.0, 10.2, d + 50.5, date, "40", 49.5}, /* Date wins */
		{10.0, 10.2, d - 300, date, NULL, 0.2},   /* Date in the future */
		{10.0, 10.2, d + 30.5, NULL, NULL, 0.2},  /* no Date */
		{10.0, 10.2, d + 30.5, "garbage", "x1", 0.2},
		{10.0, 10.2, d + 0.5, date, "-5", 0.2},   /* not delta-seconds */
		{10.0, 10.2, d + 0.5, date, "30, 1", 30.2}, /* a list: the first */
		{10.0, 10.2, d + 0.5, date, "1.5e3", 0.2},  /* not delta-seconds */
	};

	(void)st;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		double got = api_age_initial(t[i].sent, t[i].received, t[i].wall,
					     t[i].date, t[i].age);
		if (got < t[i].want - 1e-6 || got > t[i].want + 1e-6)
			fail_msg("case %zu: age %.3f, want %.3f", i, got,
				 t[i].want);
	}
}

static void test_errno_table(void **st)
{
	(void)st;
	assert_int_equal(api_errno(200, CURLE_OK), 0);
	assert_int_equal(api_errno(400, CURLE_OK), -EINVAL);
	assert_int_equal(api_errno(401, CURLE_OK), -EACCES);
	assert_int_equal(api_errno(403, CURLE_OK), -EACCES);
	assert_int_equal(api_errno(404, CURLE_OK), -ENOENT);
	assert_int_equal(api_errno(429, CURLE_OK), -EAGAIN);
	assert_int_equal(api_errno(500, CURLE_OK), -EIO);
	assert_int_equal(api_errno(502, CURLE_OK), -EIO);
	assert_int_equal(api_errno(503, CURLE_OK), -EIO);
	assert_int_equal(api_errno(301, CURLE_OK), -EIO);
	assert_int_equal(api_errno(0, CURLE_OPERATION_TIMEDOUT), -ETIMEDOUT);
	assert_int_equal(api_errno(0, CURLE_COULDNT_CONNECT), -ECONNREFUSED);
	assert_int_equal(api_errno(0, CURLE_COULDNT_RESOLVE_HOST),
			 -EHOSTUNREACH);
	assert_int_equal(api_errno(0, CURLE_RECV_ERROR), -EIO);
	assert_int_equal(api_errno(0, CURLE_PARTIAL_FILE), -EIO);
	/* A TLS peer that cannot be trusted is not an answer of the API. */
	assert_int_equal(api_errno(0, CURLE_PEER_FAILED_VERIFICATION),
			 -EPROTO);
	assert_int_equal(api_errno(0, CURLE_SSL_CONNECT_ERROR), -EPROTO);
	assert_int_equal(api_errno(0, CURLE_SSL_CACERT_BADFILE), -EPROTO);
	assert_int_equal(api_errno(0, CURLE_COULDNT_RESOLVE_PROXY),
			 -EHOSTUNREACH);
}

static void test_401_and_403_are_eacces_and_say_which_key(void **st)
{
	const char *args[] = {"--forbid", FR, NULL};
	struct api_opts o;
	struct api *a = NULL;
	json_t *items = NULL;
	struct api_error e;

	(void)st;
	at_start(args);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EACCES);
	assert_int_equal(e.http_status, 403);
	assert_string_equal(e.type, "permissions_denied");
	assert_int_equal(e.attempts, 1); /* authoritative: not retried */
	api_free(a);
	api_opts_default(&o);
	o.base_url = at_sim.url;
	o.secret_key = "not-the-key";
	o.key_source = "profile 'x' of /some/config.yaml";
	assert_int_equal(api_new(&o, &a), 0);
	at_log_clear();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EACCES);
	assert_int_equal(e.http_status, 401);
	assert_string_equal(e.type, "denied_authentication");
	assert_true(at_log_has("HTTP 401 denied_authentication"));
	assert_true(at_log_has("profile 'x' of /some/config.yaml"));
	assert_false(at_log_has("not-the-key"));
	api_free(a);
}

static void test_5xx_is_retried_then_eio(void **st)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"status\", \"status\": 503}");
	a = at_client(5000, NULL);
	at_log_clear();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_int_equal(e.http_status, 503);
	assert_int_equal(e.attempts, 4);
	assert_string_equal(e.type, "service_unavailable");
	assert_true(e.request_id[0]);
	assert_int_equal(simctl_counter(&at_sim, "list"), 4);
	/* One line for the failure, naming status, type and request id. */
	assert_true(at_log_has("HTTP 503 service_unavailable"));
	assert_true(at_log_has(e.request_id));
	assert_true(at_log_has("after 4 attempts"));
	api_free(a);
}

static void test_5xx_recovers_on_retry(void **st)
{
	struct api *a;
	json_t *items = NULL;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"status\", \"status\": 500, "
		     "\"count\": 2}");
	a = at_client(5000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 20);
	assert_int_equal(simctl_counter(&at_sim, "list"), 3);
	json_decref(items);
	api_free(a);
}

static void test_429_after_retries_is_eagain(void **st)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;
	struct api_stats s;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"rate_limit\"}");
	a = at_client(5000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EAGAIN);
	assert_int_equal(e.http_status, 429);
	assert_int_equal(e.attempts, 4);
	api_get_stats(a, &s);
	assert_int_equal(s.api_rate_limited, 4);
	assert_int_equal(s.api_retries, 3);
	api_free(a);
}

static double gap_ms(int first, int second)
{
	json_t *reqs = simctl_requests(&at_sim);
	double g = json_real_value(json_object_get(json_array_get(reqs, second),
						   "t_ms")) -
		   json_real_value(json_object_get(json_array_get(reqs, first),
						   "t_ms"));
	json_decref(reqs);
	return g;
}

static void test_retry_after_seconds_is_honoured(void **st)
{
	struct api *a;
	json_t *items = NULL;
	double g;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"rate_limit\", \"retry_after\": 1, "
		     "\"count\": 1}");
	a = at_client(5000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	g = gap_ms(0, 1);
	/* 1 s as asked (plus at most the 20 ms base jitter, plus slack). */
	assert_true(g >= 1000 && g < 1600);
	json_decref(items);
	api_free(a);
}

static void test_retry_after_http_date_is_honoured(void **st)
{
	struct api *a;
	json_t *items = NULL;
	char spec[200], date[64];
	time_t t = time(NULL) + 3;
	struct tm tm;
	double g;

	(void)st;
	at_start(NULL);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(spec, sizeof spec, "{\"kind\": \"rate_limit\", \"retry_after\":"
		 " \"%s\", \"count\": 1}", date);
	simctl_fault(&at_sim, spec);
	a = at_client(8000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	g = gap_ms(0, 1);
	/* The date is 3 s ahead at one-second resolution. */
	assert_true(g >= 1900 && g < 3800);
	json_decref(items);
	api_free(a);
}

static void test_retry_after_past_the_deadline_fails_at_once(void **st)
{
	struct api *a;
	json_t *items = NULL;
	double t0;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"rate_limit\", \"retry_after\": 60}");
	a = at_client(2000, NULL);
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), -EAGAIN);
	assert_true(at_now() - t0 < 0.5);
	assert_int_equal(simctl_counter(&at_sim, "list"), 1);
	api_free(a);
}

struct bg {
	struct api *a;
	int rc;
	double done;
};

static void *bg_list(void *p)
{
	struct bg *b = p;
	json_t *items = NULL;

	b->rc = at_list(b->a, FR, NULL, NULL, &items, NULL);
	b->done = at_now();
	json_decref(items);
	return NULL;
}

static void test_429_cooldown_is_shared_by_concurrent_requests(void **st)
{
	struct api *a;
	struct bg b1, b2;
	pthread_t t1, t2;
	json_t *reqs;
	double t429 = -1, tlast = 0;
	size_t i;
	json_t *r;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"rate_limit\", \"retry_after\": 1, "
		     "\"count\": 1}");
	a = at_client(8000, NULL);
	b1 = (struct bg){.a = a};
	b2 = (struct bg){.a = a};
	pthread_create(&t1, NULL, bg_list, &b1);
	/* Once the 429 has been answered, start a second request. */
	for (int k = 0; k < 200 && simctl_counter(&at_sim, "faults") == 0; k++)
		usleep(10000);
	usleep(100000);
	pthread_create(&t2, NULL, bg_list, &b2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(b1.rc, 0);
	assert_int_equal(b2.rc, 0);
	reqs = simctl_requests(&at_sim);
	json_array_foreach(reqs, i, r) {
		double t = json_real_value(json_object_get(r, "t_ms"));
		if (json_integer_value(json_object_get(r, "status")) == 429)
			t429 = t;
		else if (t > tlast)
			tlast = t;
	}
	assert_int_equal(json_array_size(reqs), 3);
	/* Both successful requests waited for the cool-down. */
	json_array_foreach(reqs, i, r)
		if (json_integer_value(json_object_get(r, "status")) == 200)
			assert_true(json_real_value(json_object_get(r, "t_ms"))
				    >= t429 + 950);
	json_decref(reqs);
	api_free(a);
}

static void test_timeout_is_etimedout_within_the_deadline(void **st)
{
	struct api *a;
	json_t *items = NULL;
	double t0, el;
	struct api_error e;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"hang\"}");
	a = at_client(1000, NULL);
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -ETIMEDOUT);
	el = at_now() - t0;
	assert_true(el >= 0.9 && el < 1.6);
	simctl_clear_faults(&at_sim);
	api_free(a);
}

static void test_connection_refused(void **st)
{
	struct api *a;
	json_t *items = NULL;
	double t0;

	(void)st;
	at_start(NULL);
	a = at_client(2000, NULL);
	assert_int_equal(simctl_stop(&at_sim), 0);
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL),
			 -ECONNREFUSED);
	assert_true(at_now() - t0 < 2.5);
	api_free(a);
}


static void slow_rate(struct api_opts *o)
{
	o->rate = 4;
}

/* rate=4: the first 4 requests at once, then never more than 4 in any
 * second (by the simulator's clock: a little jitter is allowed). */
static void test_rate_limit_holds_over_every_second(void **st)
{
	struct api *a;
	json_t *c = NULL;

	(void)st;
	at_start(NULL);
	a = at_client(10000, slow_rate);
	for (int i = 0; i < 12; i++)
		assert_int_equal(at_get(a, FR, "00000000-0000-4000-8000-"
					 "000000000000", NULL, NULL, &c, NULL),
				 -ENOENT);
	assert_true(gap_ms(0, 3) < 500);
	for (int i = 0; i + 4 < 12; i++)
		assert_true(gap_ms(i, i + 4) >= 950);
	assert_true(gap_ms(0, 11) < 3000);
	api_free(a);
}

struct canceller {
	struct api_call *call;
	struct api *a;
	bool shutdown;
};

static void *cancel_later(void *p)
{
	struct canceller *c = p;

	usleep(200000);
	if (c->shutdown)
		api_shutdown(c->a);
	else
		api_call_cancel(c->call);
	return NULL;
}

static void test_cancel_from_another_thread(void **st)
{
	struct api *a;
	struct api_call call;
	struct canceller c;
	pthread_t t;
	json_t *items = NULL;
	double t0, el;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"hang\"}");
	a = at_client(10000, NULL);
	api_call_init(&call);
	c = (struct canceller){.call = &call, .a = a};
	pthread_create(&t, NULL, cancel_later, &c);
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, &call, &items, NULL), -EINTR);
	el = at_now() - t0;
	pthread_join(t, NULL);
	assert_true(el >= 0.19 && el < 0.5);
	api_call_destroy(&call);

	/* Shutting the client down cancels whatever is in flight. */
	c = (struct canceller){.a = a, .shutdown = true};
	pthread_create(&t, NULL, cancel_later, &c);
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), -EINTR);
	assert_true(at_now() - t0 < 0.5);
	pthread_join(t, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), -EINTR);
	simctl_clear_faults(&at_sim);
	api_free(a);
}

static void test_headers_and_connection_reuse(void **st)
{
	struct api *a;
	json_t *c = NULL, *reqs, *r;
	size_t i;
	regex_t re;
	char pat[256];

	(void)st;
	at_start(NULL);
	a = at_client(10000, NULL);
	simctl_reset(&at_sim);
	for (int k = 0; k < 10; k++)
		at_get(a, FR, "00000000-0000-4000-8000-000000000000", NULL, NULL, &c,
			NULL);
	snprintf(pat, sizeof pat, "^interlinkfs/%s \\(libcurl/%s; [a-z]+; "
		 "[a-z0-9_]+\\)$", INTERLINKFS_VERSION,
		 curl_version_info(CURLVERSION_NOW)->version);
	assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	reqs = simctl_requests(&at_sim);
	assert_int_equal(json_array_size(reqs), 10);
	json_array_foreach(reqs, i, r) {
		const char *ua = json_string_value(json_object_get(r,
								   "user_agent"));
		if (regexec(&re, ua, 0, NULL, 0))
			fail_msg("user agent '%s' does not match %s", ua, pat);
		assert_string_equal(json_string_value(json_object_get(
			r, "accept")), "application/json");
		assert_non_null(strstr(json_string_value(json_object_get(
			r, "accept_encoding")), "gzip"));
		assert_string_equal(json_string_value(json_object_get(
			r, "auth")), "ok");
	}
	regfree(&re);
	json_decref(reqs);
	/* Keep-alive: ten requests, one TCP connection. */
	assert_int_equal(simctl_counter(&at_sim, "api_connections"), 1);
	assert_string_equal(api_user_agent(a) + 0, api_user_agent(a));
	api_free(a);
}

static void test_plain_http_only_to_loopback(void **st)
{
	static const struct {
		const char *url;
		bool insecure;
		int want;
	} cases[] = {
		{"http://192.0.2.1", false, -EINVAL},
		{"http://api.scaleway.com", false, -EINVAL},
		{"http://192.0.2.1", true, 0},
		{"http://127.0.0.1:1", false, 0},
		{"http://127.8.9.10:1", false, 0},
		{"http://localhost:1", false, 0},
		{"http://[::1]:1", false, 0},
		{"https://api.scaleway.com", false, 0},
		{"https://api.scaleway.com/", false, 0},
		{"ftp://127.0.0.1", false, -EINVAL},
		{"not a url", false, -EINVAL},
	};
	struct api_opts o;

	(void)st;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct api *a = NULL;
		api_opts_default(&o);
		o.base_url = cases[i].url;
		o.secret_key = TOKEN;
		o.insecure = cases[i].insecure;
		assert_int_equal(api_new(&o, &a), cases[i].want);
		api_free(a);
	}
}

static void test_secret_never_logged_even_at_debug(void **st)
{
	const char *args[] = {"--connections", "150", "--max-page-size", "100",
			      NULL};
	struct api *a;
	json_t *items = NULL, *c = NULL;

	(void)st;
	at_start(args);
	log_setup(LOGL_DEBUG, false);
	a = at_client(3000, NULL);
	at_log_clear();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	json_decref(items);
	at_get(a, FR, "00000000-0000-4000-8000-000000000000", NULL, NULL, &c, NULL);
	simctl_fault(&at_sim, "{\"kind\": \"status\", \"status\": 503}");
	at_list(a, FR, NULL, NULL, &items, NULL);
	simctl_clear_faults(&at_sim);
	json_decref(simctl_ctl(&at_sim, "POST", "/token", "{\"token\": \"new\"}"));
	at_list(a, FR, NULL, NULL, &items, NULL);
	log_setup(LOGL_WARNING, false);
	/* The header was logged, redacted; the key itself never. */
	assert_true(at_log_has("X-Auth-Token: [REDACTED]"));
	assert_true(at_log_has("HTTP 401"));
	assert_false(at_log_has(TOKEN));
	assert_false(at_log_has("5ec2e7e5"));
	api_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, at_teardown)
		T(test_errno_table),
		T(test_age_of_an_answer),
		T(test_401_and_403_are_eacces_and_say_which_key),
		T(test_5xx_is_retried_then_eio),
		T(test_5xx_recovers_on_retry),
		T(test_429_after_retries_is_eagain),
		T(test_retry_after_seconds_is_honoured),
		T(test_retry_after_http_date_is_honoured),
		T(test_retry_after_past_the_deadline_fails_at_once),
		T(test_429_cooldown_is_shared_by_concurrent_requests),
		T(test_timeout_is_etimedout_within_the_deadline),
		T(test_connection_refused),
		T(test_rate_limit_holds_over_every_second),
		T(test_cancel_from_another_thread),
		T(test_headers_and_connection_reuse),
		T(test_plain_http_only_to_loopback),
		T(test_secret_never_logged_even_at_debug),
#undef T
	};
	int rc;

	at_begin();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	at_end();
	return rc;
}
