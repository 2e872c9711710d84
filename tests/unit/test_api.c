/*
 * api: the client against interlink-sim on 127.0.0.1 — pagination, filters,
 * parsing, every row of the error table, retries and Retry-After (timed
 * with the simulator's request timestamps), the shared 429 cool-down, rate
 * limit, cancellation, headers and connection reuse, and the secret never
 * showing in logs.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
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
#include <curl/curl.h>

#include "api.h"
#include "conn.h"
#include "log.h"
#include "simctl.h"

#define TOKEN "5ec2e7e5-0000-4000-8000-5ec2e7e5ec2e"
#define FR "fr-par"

static struct simctl sim;
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

static void log_clear(void)
{
	pthread_mutex_lock(&loglock);
	free(logtext);
	logtext = NULL;
	loglen = 0;
	pthread_mutex_unlock(&loglock);
}

static bool log_has(const char *s)
{
	bool r;
	pthread_mutex_lock(&loglock);
	r = logtext && strstr(logtext, s);
	pthread_mutex_unlock(&loglock);
	return r;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start(const char *const *args)
{
	const char *a[40] = {"--token", TOKEN, "--regions", FR};
	int n = 4;

	for (; args && *args; args++)
		a[n++] = *args;
	a[n] = NULL;
	simctl_start(&sim, a);
}

static struct api *client(long timeout_ms, void (*tweak)(struct api_opts *))
{
	struct api_opts o;
	struct api *a = NULL;

	api_opts_default(&o);
	o.base_url = sim.url;
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

static int teardown(void **st)
{
	(void)st;
	if (sim.pid > 0)
		assert_int_equal(simctl_stop(&sim), 0);
	log_clear();
	return 0;
}

/* The API's own order, fetched page by page without the client. */
static json_t *reference_ids(int page_size)
{
	json_t *ids = json_array();
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "X-Auth-Token: " TOKEN);

	for (int page = 1;; page++) {
		char url[256];
		FILE *mem;
		char *buf = NULL;
		size_t len = 0;
		json_t *body, *c;
		size_t i, n;

		snprintf(url, sizeof url, "%s/interlink/v1beta1/regions/" FR
			 "/dedicated-connections?page=%d&page_size=%d",
			 sim.url, page, page_size);
		mem = open_memstream(&buf, &len);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, mem);
		assert_int_equal(curl_easy_perform(e), CURLE_OK);
		fclose(mem);
		body = json_loads(buf, 0, NULL);
		free(buf);
		n = json_array_size(json_object_get(body, "connections"));
		json_array_foreach(json_object_get(body, "connections"), i, c)
			json_array_append(ids, json_object_get(c, "id"));
		json_decref(body);
		if (n == 0)
			break;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return ids;
}

/* Serialises and releases j. */
static char *dump_new(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void check_list(int n, int cap, int want_requests)
{
	char ns[16], caps[16];
	const char *args[] = {"--connections", ns, "--max-page-size", caps,
			      NULL};
	struct api *a;
	json_t *items = NULL, *ref, *seen = json_object(), *c;
	size_t i;

	snprintf(ns, sizeof ns, "%d", n);
	snprintf(caps, sizeof caps, "%d", cap);
	start(args);
	ref = reference_ids(cap);
	simctl_reset(&sim);
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), (size_t)n);
	json_array_foreach(items, i, c) {
		assert_string_equal(conn_id(c), json_string_value(
			json_array_get(ref, i)));
		assert_null(json_object_get(seen, conn_id(c)));
		json_object_set(seen, conn_id(c), json_true());
	}
	assert_int_equal(simctl_counter(&sim, "list"), want_requests);
	assert_int_equal(simctl_counter(&sim, "get"), 0);
	json_decref(seen);
	json_decref(ref);
	json_decref(items);
	api_free(a);
}

static void test_list_zero(void **st)
{
	(void)st;
	check_list(0, 100, 1);
}

static void test_list_one(void **st)
{
	(void)st;
	check_list(1, 100, 1);
}

static void test_list_exactly_one_page(void **st)
{
	(void)st;
	check_list(100, 100, 1);
}

static void test_list_one_more_than_a_page(void **st)
{
	(void)st;
	check_list(101, 100, 2);
}

static void test_list_2500_in_25_concurrent_pages_in_order(void **st)
{
	const char *args[] = {"--connections", "2500", "--max-page-size", "100",
			      "--latency", "100", NULL};
	struct api *a;
	json_t *items = NULL, *ref, *reqs, *r;
	double t0, wall;
	size_t i, best = 0;

	(void)st;
	start(args);
	ref = reference_ids(100);
	simctl_reset(&sim);
	a = client(15000, NULL);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	wall = now_s() - t0;
	assert_int_equal(json_array_size(items), 2500);
	for (i = 0; i < 2500; i++)
		assert_string_equal(conn_id(json_array_get(items, i)),
				    json_string_value(json_array_get(ref, i)));
	assert_int_equal(simctl_counter(&sim, "list"), 25);
	/* Sequentially this takes 25 x 100 ms; concurrently far less. */
	assert_true(wall < 1.25);
	/* Several pages were answered within the same 50 ms. */
	reqs = simctl_requests(&sim);
	json_array_foreach(reqs, i, r) {
		double t = json_real_value(json_object_get(r, "t_ms"));
		size_t k, together = 0;
		json_t *q;
		json_array_foreach(reqs, k, q) {
			double u = json_real_value(json_object_get(q, "t_ms"));
			together += u >= t && u < t + 50;
		}
		if (together > best)
			best = together;
	}
	assert_true(best >= 4);
	json_decref(reqs);
	json_decref(ref);
	json_decref(items);
	api_free(a);
}

static void test_list_stops_at_an_empty_page(void **st)
{
	const char *args[] = {"--connections", "300", "--max-page-size", "100",
			      NULL};
	struct api *a;
	json_t *items = NULL;

	(void)st;
	start(args);
	simctl_fault(&sim, "{\"kind\": \"body\", \"match\": \"list\", "
		     "\"page\": 2, \"body\": \"{\\\"connections\\\": [], "
		     "\\\"total_count\\\": 300}\"}");
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 100);
	json_decref(items);
	api_free(a);
}

/* Page 2 of the list shows entries 0 and 120 of p1 (150 entries):
 * entry 0 again, and one missing. times: how many answers (0: all). */
static void page2_repeats_page1(const json_t *p1, int times)
{
	char *body = dump_new(json_pack("{s:[O, O], s:i}", "connections",
					json_array_get(p1, 0),
					json_array_get(p1, 120),
					"total_count", 150));
	json_t *spec = json_pack("{s:s, s:s, s:i, s:s}", "kind", "body",
				 "match", "list", "page", 2, "body", body);
	char *text;

	if (times)
		json_object_set_new(spec, "count", json_integer(times));
	text = dump_new(spec);
	simctl_fault(&sim, text);
	free(text);
	free(body);
}

static void test_list_drops_duplicates_across_pages(void **st)
{
	const char *args[] = {"--connections", "150", "--max-page-size", "100",
			      NULL};
	struct api *a;
	json_t *items = NULL, *p1 = NULL;

	(void)st;
	start(args);
	a = client(15000, NULL);
	/* Page 2 repeats an id of page 1, as when the list moves. */
	assert_int_equal(api_list(a, FR, NULL, NULL, &p1, NULL), 0);
	page2_repeats_page1(p1, 0);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 101);
	json_decref(p1);
	json_decref(items);
	api_free(a);
}

static void test_a_list_that_moves_while_read_is_read_again(void **st)
{
	const char *args[] = {"--connections", "150", "--max-page-size", "100",
			      NULL};
	struct api *a;
	json_t *items = NULL, *p1 = NULL;

	(void)st;
	start(args);
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &p1, NULL), 0);
	/* Once, page 2 shows an entry of page 1 again (and misses one). */
	page2_repeats_page1(p1, 1);
	simctl_reset(&sim);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 150);
	assert_true(json_equal(items, p1));
	assert_int_equal(simctl_counter(&sim, "list"), 4); /* read twice */
	json_decref(p1);
	json_decref(items);
	api_free(a);
}

static void test_filters_and_order_are_passed_through(void **st)
{
	static const char *const orders[] = {
		"created_at_asc", "created_at_desc", "updated_at_asc",
		"updated_at_desc", "name_asc", "name_desc", "status_asc",
		"status_desc",
	};
	const char *args[] = {"--connections", "40", NULL};
	const char *tags[] = {"prod", "edge"};
	struct api_filters f = {
		.project_id = "0b5e9d3c-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
		.organization_id = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
		.pop_id = "11111111-2222-4333-8444-555555555555",
		.name = "a b&c=d",
		.status = "active",
		.bandwidth_mbps = "10000",
		.tags = tags,
		.ntags = 2,
		.order_by = "created_at_desc",
	};
	struct api *a;
	json_t *items = NULL, *reqs;
	const char *q;

	(void)st;
	start(args);
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, &f, NULL, &items, NULL), 0);
	json_decref(items);
	reqs = simctl_requests(&sim);
	q = json_string_value(json_object_get(json_array_get(reqs, 0),
					      "query"));
	/* The simulator shows the decoded query: every value arrived whole. */
	assert_string_equal(q, "page=1&page_size=1000&order_by=created_at_desc"
			    "&project_id=0b5e9d3c-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
			    "&organization_id=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
			    "&name=a b&c=d&status=active&bandwidth_mbps=10000"
			    "&pop_id=11111111-2222-4333-8444-555555555555"
			    "&tags=prod&tags=edge");
	json_decref(reqs);

	/* Each filter selects what the simulator selects. */
	struct api_filters act = {.status = "active"};
	json_t *all = NULL;
	size_t i, n_active = 0;
	json_t *c;
	assert_int_equal(api_list(a, FR, NULL, NULL, &all, NULL), 0);
	json_array_foreach(all, i, c)
		n_active += strcmp(json_string_value(json_object_get(c,
							"status")), "active") == 0;
	assert_int_equal(api_list(a, FR, &act, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), n_active);
	assert_true(n_active > 0 && n_active < 40);
	json_decref(items);
	json_decref(all);
	for (size_t o = 0; o < 8; o++) {
		struct api_filters of = {.order_by = orders[o]};
		assert_int_equal(api_list(a, FR, &of, NULL, &items, NULL), 0);
		assert_int_equal(json_array_size(items), 40);
		json_decref(items);
	}
	api_free(a);
}

static void test_get_one_and_unknown_id(void **st)
{
	const char *args[] = {"--connections", "5", NULL};
	struct api *a;
	json_t *items = NULL, *c = NULL;
	struct api_error e;
	const char *id;

	(void)st;
	start(args);
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	id = conn_id(json_array_get(items, 3));
	assert_int_equal(api_get(a, FR, id, NULL, NULL, &c, &e), 0);
	assert_true(json_equal(c, json_array_get(items, 3)));
	json_decref(c);
	assert_int_equal(api_get(a, FR, "00000000-0000-4000-8000-000000000000",
				 NULL, NULL, &c, &e), -ENOENT);
	assert_int_equal(e.http_status, 404);
	assert_string_equal(e.type, "not_found");
	assert_string_equal(e.resource, "dedicated_connection");
	assert_string_equal(e.resource_id,
			    "00000000-0000-4000-8000-000000000000");
	assert_true(e.request_id[0] != '\0');
	/* An id that cannot exist costs no request. */
	simctl_reset(&sim);
	assert_int_equal(api_get(a, FR, "../../etc", NULL, NULL, &c, &e), -ENOENT);
	assert_int_equal(simctl_counter(&sim, "total"), 0);
	json_decref(items);
	api_free(a);
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
	start(args);
	a = client(15000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EACCES);
	assert_int_equal(e.http_status, 403);
	assert_string_equal(e.type, "permissions_denied");
	assert_int_equal(e.attempts, 1); /* authoritative: not retried */
	api_free(a);
	api_opts_default(&o);
	o.base_url = sim.url;
	o.secret_key = "not-the-key";
	o.key_source = "profile 'x' of /some/config.yaml";
	assert_int_equal(api_new(&o, &a), 0);
	log_clear();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EACCES);
	assert_int_equal(e.http_status, 401);
	assert_string_equal(e.type, "denied_authentication");
	assert_true(log_has("HTTP 401 denied_authentication"));
	assert_true(log_has("profile 'x' of /some/config.yaml"));
	assert_false(log_has("not-the-key"));
	api_free(a);
}

static void test_5xx_is_retried_then_eio(void **st)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;

	(void)st;
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"status\", \"status\": 503}");
	a = client(5000, NULL);
	log_clear();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_int_equal(e.http_status, 503);
	assert_int_equal(e.attempts, 4);
	assert_string_equal(e.type, "service_unavailable");
	assert_true(e.request_id[0]);
	assert_int_equal(simctl_counter(&sim, "list"), 4);
	/* One line for the failure, naming status, type and request id. */
	assert_true(log_has("HTTP 503 service_unavailable"));
	assert_true(log_has(e.request_id));
	assert_true(log_has("after 4 attempts"));
	api_free(a);
}

static void test_5xx_recovers_on_retry(void **st)
{
	struct api *a;
	json_t *items = NULL;

	(void)st;
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"status\", \"status\": 500, "
		     "\"count\": 2}");
	a = client(5000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 20);
	assert_int_equal(simctl_counter(&sim, "list"), 3);
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"rate_limit\"}");
	a = client(5000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EAGAIN);
	assert_int_equal(e.http_status, 429);
	assert_int_equal(e.attempts, 4);
	api_get_stats(a, &s);
	assert_int_equal(s.rate_limited, 4);
	assert_int_equal(s.retries, 3);
	api_free(a);
}

static double gap_ms(int first, int second)
{
	json_t *reqs = simctl_requests(&sim);
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"rate_limit\", \"retry_after\": 1, "
		     "\"count\": 1}");
	a = client(5000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
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
	start(NULL);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(spec, sizeof spec, "{\"kind\": \"rate_limit\", \"retry_after\":"
		 " \"%s\", \"count\": 1}", date);
	simctl_fault(&sim, spec);
	a = client(8000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"rate_limit\", \"retry_after\": 60}");
	a = client(2000, NULL);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), -EAGAIN);
	assert_true(now_s() - t0 < 0.5);
	assert_int_equal(simctl_counter(&sim, "list"), 1);
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

	b->rc = api_list(b->a, FR, NULL, NULL, &items, NULL);
	b->done = now_s();
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"rate_limit\", \"retry_after\": 1, "
		     "\"count\": 1}");
	a = client(8000, NULL);
	b1 = (struct bg){.a = a};
	b2 = (struct bg){.a = a};
	pthread_create(&t1, NULL, bg_list, &b1);
	/* Once the 429 has been answered, start a second request. */
	for (int k = 0; k < 200 && simctl_counter(&sim, "faults") == 0; k++)
		usleep(10000);
	usleep(100000);
	pthread_create(&t2, NULL, bg_list, &b2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(b1.rc, 0);
	assert_int_equal(b2.rc, 0);
	reqs = simctl_requests(&sim);
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"hang\"}");
	a = client(1000, NULL);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -ETIMEDOUT);
	el = now_s() - t0;
	assert_true(el >= 0.9 && el < 1.6);
	simctl_clear_faults(&sim);
	api_free(a);
}

static void test_connection_refused(void **st)
{
	struct api *a;
	json_t *items = NULL;
	double t0;

	(void)st;
	start(NULL);
	a = client(2000, NULL);
	assert_int_equal(simctl_stop(&sim), 0);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL),
			 -ECONNREFUSED);
	assert_true(now_s() - t0 < 2.5);
	api_free(a);
}

static void expect_fault_errno(const char *spec, int want, const char *msg)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;

	simctl_fault(&sim, spec);
	a = client(3000, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), want);
	if (msg && !strstr(e.message, msg))
		fail_msg("'%s' not in '%s'", msg, e.message);
	simctl_clear_faults(&sim);
	api_free(a);
}

static void test_bad_bodies_are_eio(void **st)
{
	(void)st;
	start(NULL);
	expect_fault_errno("{\"kind\": \"invalid_json\"}", -EIO, "invalid JSON");
	expect_fault_errno("{\"kind\": \"truncate\"}", -EIO, "invalid JSON");
	expect_fault_errno("{\"kind\": \"html\"}", -EIO, "non-JSON error body");
	expect_fault_errno("{\"kind\": \"status\", \"status\": 500, \"body\": "
			   "\"\"}", -EIO, "empty body");
	expect_fault_errno("{\"kind\": \"body\", \"status\": 200, "
			   "\"content_type\": \"text/html\", \"body\": "
			   "\"<html>hello</html>\"}", -EIO, "invalid JSON");
	expect_fault_errno("{\"kind\": \"shape\", \"shape\": "
			   "\"connections_not_array\"}", -EIO, "not an array");
	expect_fault_errno("{\"kind\": \"shape\", \"shape\": "
			   "\"total_count_string\"}", -EIO, "total_count");
	expect_fault_errno("{\"kind\": \"shape\", \"shape\": \"not_object\"}",
			   -EIO, "not a JSON object");
	expect_fault_errno("{\"kind\": \"reset\"}", -EIO, NULL);
	expect_fault_errno("{\"kind\": \"status\", \"status\": 400}", -EINVAL,
			   NULL);
}

static void test_entries_with_bad_ids_are_skipped_with_a_log_line(void **st)
{
	struct api *a;
	json_t *items = NULL;

	(void)st;
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"shape\", \"shape\": \"id_not_string\","
		     " \"count\": 1}");
	a = client(3000, NULL);
	log_clear();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 19);
	assert_true(log_has("id is not a UUID: 12345"));
	json_decref(items);
	/* Ids made to escape a directory, empty, with NUL: all skipped. */
	simctl_fault(&sim, "{\"kind\": \"body\", \"count\": 1, \"body\": "
		     "\"{\\\"connections\\\": [{\\\"id\\\": \\\"../x\\\"}, "
		     "{\\\"id\\\": \\\"\\\"}, {\\\"id\\\": \\\".\\\"}, "
		     "{\\\"id\\\": \\\"a\\\\u0000b\\\"}, {\\\"name\\\": 1}, 7, "
		     "{\\\"id\\\": \\\"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10\\\"}"
		     "], \\\"total_count\\\": 7}\"}");
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	api_free(a);
}

static void serve_file(const char *name, int status)
{
	char spec[700];
	snprintf(spec, sizeof spec, "{\"kind\": \"body\", \"count\": 1, "
		 "\"status\": %d, \"body_file\": \"%s/conn/%s\"}", status,
		 getenv("FIXTURES"), name);
	simctl_fault(&sim, spec);
}

static void test_fixture_answers(void **st)
{
	struct api *a;
	json_t *items = NULL, *c = NULL;
	const char *name;
	uint64_t u;
	const char *id17 = "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f17";

	(void)st;
	start(NULL);
	a = client(3000, NULL);
	/* Invalid UTF-8 in a list: repaired, not fatal. */
	serve_file("invalid_utf8_list.json", 200);
	log_clear();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(conn_str(json_array_get(items, 0), "name", &name,
				  NULL), 0);
	assert_string_equal(name, "bad \xef\xbf\xbd\xef\xbf\xbd utf8 "
			    "\xef\xbf\xbd( end");
	assert_true(log_has("invalid UTF-8"));
	json_decref(items);
	serve_file("invalid_utf8_get.json", 200);
	assert_int_equal(api_get(a, FR, id17, NULL, NULL, &c, NULL), 0);
	json_decref(c);
	/* Wrong types: kept as sent, reported per field. */
	serve_file("wrong_types.json", 200);
	assert_int_equal(api_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f13",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(conn_uint(c, "bandwidth_mbps", &u), -EINVAL);
	json_decref(c);
	/* The answer for another id than asked is refused. */
	serve_file("full.json", 200);
	assert_int_equal(api_get(a, FR, id17, NULL, NULL, &c, NULL), -EIO);
	/* A number past every integer type is kept as sent (the field is
	 * -EINVAL); the largest u64 is read exactly; a lone surrogate is
	 * U+FFFD. */
	serve_file("too_big_number.json", 200);
	assert_int_equal(api_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f19",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(conn_uint(c, "bandwidth_mbps", &u), -EINVAL);
	json_decref(c);
	serve_file("u64_max.json", 200);
	assert_int_equal(api_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f1a",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(conn_uint(c, "bandwidth_mbps", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(conn_str(c, "name", &name, NULL), 0);
	assert_string_equal(name, "\xef\xbf\xbd lone");
	json_decref(c);
	/* Truncated JSON, a gateway page. */
	serve_file("truncated.json", 200);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), -EIO);
	serve_file("gateway_error.html", 400);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), -EINVAL);
	api_free(a);
}

static void test_huge_strings_and_deep_nesting(void **st)
{
	struct api *a;
	json_t *c = NULL, *obj;
	char *big = malloc(2 << 20), *body, *spec, *deep;
	const char *name;
	size_t len;

	(void)st;
	start(NULL);
	memset(big, 'x', (2 << 20) - 1);
	big[(2 << 20) - 1] = '\0';
	obj = json_pack("{s:s, s:s}", "id",
			"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "name", big);
	body = json_dumps(obj, JSON_COMPACT);
	spec = dump_new(json_pack("{s:s, s:i, s:s}", "kind", "body", "count",
				  1, "body", body));
	simctl_fault(&sim, spec);
	a = client(5000, NULL);
	assert_int_equal(api_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(conn_str(c, "name", &name, &len), 0);
	assert_int_equal(len, (2u << 20) - 1);
	json_decref(c);
	free(spec);
	/* 100,000 levels of nesting: refused by the parser, no crash. */
	deep = malloc(200100);
	len = (size_t)sprintf(deep, "{\"id\": \"6f1c2e8a-93b4-4d0e-9a77-"
			      "0c2b5d1e4f10\", \"x\": ");
	for (int i = 0; i < 100000; i++)
		deep[len++] = '[';
	for (int i = 0; i < 100000; i++)
		deep[len++] = ']';
	deep[len++] = '}';
	deep[len] = '\0';
	spec = dump_new(json_pack("{s:s, s:i, s:s}", "kind", "body", "count",
				  1, "body", deep));
	simctl_fault(&sim, spec);
	assert_int_equal(api_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
				 NULL, NULL, &c, NULL), -EIO);
	free(spec);
	free(deep);
	free(body);
	free(big);
	json_decref(obj);
	api_free(a);
}

static void small_body(struct api_opts *o)
{
	o->max_body = 1 << 20;
}

static void test_answers_above_the_body_cap_are_refused(void **st)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;
	double t0;

	(void)st;
	start(NULL);
	a = client(10000, small_body);
	simctl_fault(&sim, "{\"kind\": \"huge\", \"size\": 104857600}");
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "larger than 1048576 bytes"));
	assert_int_equal(e.attempts, 1);
	simctl_clear_faults(&sim);
	simctl_fault(&sim, "{\"kind\": \"huge\", \"size\": 104857600, "
		     "\"chunked\": true}");
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "larger than 1048576 bytes"));
	assert_true(now_s() - t0 < 5);
	api_free(a);
}

static void slow_rate(struct api_opts *o)
{
	o->rate = 10;
	o->burst = 2;
}

static void test_rate_limit_token_bucket(void **st)
{
	struct api *a;
	json_t *c = NULL;
	double span;

	(void)st;
	start(NULL);
	a = client(10000, slow_rate);
	for (int i = 0; i < 12; i++)
		assert_int_equal(api_get(a, FR, "00000000-0000-4000-8000-"
					 "000000000000", NULL, NULL, &c, NULL),
				 -ENOENT);
	span = gap_ms(0, 11);
	/* 2 at once, then 10 more at 10 per second. */
	assert_true(span >= 900 && span < 2500);
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
	start(NULL);
	simctl_fault(&sim, "{\"kind\": \"hang\"}");
	a = client(10000, NULL);
	api_call_init(&call);
	c = (struct canceller){.call = &call, .a = a};
	pthread_create(&t, NULL, cancel_later, &c);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, &call, &items, NULL), -EINTR);
	el = now_s() - t0;
	pthread_join(t, NULL);
	assert_true(el >= 0.19 && el < 0.5);
	api_call_destroy(&call);

	/* Shutting the client down cancels whatever is in flight. */
	c = (struct canceller){.a = a, .shutdown = true};
	pthread_create(&t, NULL, cancel_later, &c);
	t0 = now_s();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), -EINTR);
	assert_true(now_s() - t0 < 0.5);
	pthread_join(t, NULL);
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), -EINTR);
	simctl_clear_faults(&sim);
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
	start(NULL);
	a = client(10000, NULL);
	simctl_reset(&sim);
	for (int k = 0; k < 10; k++)
		api_get(a, FR, "00000000-0000-4000-8000-000000000000", NULL, NULL, &c,
			NULL);
	snprintf(pat, sizeof pat, "^interlinkfs/%s \\(libcurl/%s; [a-z]+; "
		 "[a-z0-9_]+\\)$", INTERLINKFS_VERSION,
		 curl_version_info(CURLVERSION_NOW)->version);
	assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	reqs = simctl_requests(&sim);
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
	assert_int_equal(simctl_counter(&sim, "api_connections"), 1);
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
	start(args);
	log_setup(LOGL_DEBUG, false);
	a = client(3000, NULL);
	log_clear();
	assert_int_equal(api_list(a, FR, NULL, NULL, &items, NULL), 0);
	json_decref(items);
	api_get(a, FR, "00000000-0000-4000-8000-000000000000", NULL, NULL, &c, NULL);
	simctl_fault(&sim, "{\"kind\": \"status\", \"status\": 503}");
	api_list(a, FR, NULL, NULL, &items, NULL);
	simctl_clear_faults(&sim);
	json_decref(simctl_ctl(&sim, "POST", "/token", "{\"token\": \"new\"}"));
	api_list(a, FR, NULL, NULL, &items, NULL);
	log_setup(LOGL_WARNING, false);
	/* The header was logged, redacted; the key itself never. */
	assert_true(log_has("X-Auth-Token: [REDACTED]"));
	assert_true(log_has("HTTP 401"));
	assert_false(log_has(TOKEN));
	assert_false(log_has("5ec2e7e5"));
	api_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
		T(test_list_zero),
		T(test_list_one),
		T(test_list_exactly_one_page),
		T(test_list_one_more_than_a_page),
		T(test_list_2500_in_25_concurrent_pages_in_order),
		T(test_list_stops_at_an_empty_page),
		T(test_list_drops_duplicates_across_pages),
		T(test_a_list_that_moves_while_read_is_read_again),
		T(test_filters_and_order_are_passed_through),
		T(test_get_one_and_unknown_id),
		T(test_errno_table),
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
		T(test_bad_bodies_are_eio),
		T(test_entries_with_bad_ids_are_skipped_with_a_log_line),
		T(test_fixture_answers),
		T(test_huge_strings_and_deep_nesting),
		T(test_answers_above_the_body_cap_are_refused),
		T(test_rate_limit_token_bucket),
		T(test_cancel_from_another_thread),
		T(test_headers_and_connection_reuse),
		T(test_plain_http_only_to_loopback),
		T(test_secret_never_logged_even_at_debug),
#undef T
	};
	int rc;

	api_global_init();
	log_setup(LOGL_WARNING, false);
	log_set_sink(sink, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	api_global_cleanup();
	log_clear();
	return rc;
}
