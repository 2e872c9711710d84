/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: listing and getting against interlink-sim on 127.0.0.1 —
 * pagination, filters and order, gets, and the parsing of pages: bad
 * bodies, bad records, the fixture answers, huge and deep values, the body
 * cap. The errors, retries and transport are in test_api_transport.c.
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
#include "kinds.h"
#include "field.h"
#include "log.h"

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
			 at_sim.url, page, page_size);
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
	at_start(args);
	ref = reference_ids(cap);
	simctl_reset(&at_sim);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), (size_t)n);
	json_array_foreach(items, i, c) {
		assert_string_equal(field_id(c), json_string_value(
			json_array_get(ref, i)));
		assert_null(json_object_get(seen, field_id(c)));
		json_object_set(seen, field_id(c), json_true());
	}
	assert_int_equal(simctl_counter(&at_sim, "list"), want_requests);
	assert_int_equal(simctl_counter(&at_sim, "get"), 0);
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
	size_t i, best = 0;

	(void)st;
	at_start(args);
	ref = reference_ids(100);
	simctl_reset(&at_sim);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 2500);
	for (i = 0; i < 2500; i++)
		assert_string_equal(field_id(json_array_get(items, i)),
				    json_string_value(json_array_get(ref, i)));
	assert_int_equal(simctl_counter(&at_sim, "list"), 25);
	/* Concurrently, not one after the other (each takes 100 ms): several
	 * pages were answered within the same 50 ms. */
	reqs = simctl_requests(&at_sim);
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

/* An empty page ends the reading (the pages after it are not waited
 * for), but a list shorter than its total_count is not complete: it is
 * read again from page 1, then refused. */
static void test_a_list_short_of_its_total_is_refused(void **st)
{
	const char *args[] = {"--connections", "300", "--max-page-size", "100",
			      NULL};
	struct api *a;
	struct api_error e;
	json_t *items = NULL;

	(void)st;
	at_start(args);
	simctl_fault(&at_sim, "{\"kind\": \"body\", \"match\": \"list\", "
		     "\"page\": 2, \"body\": \"{\\\"connections\\\": [], "
		     "\\\"total_count\\\": 300}\"}");
	a = at_client(15000, NULL);
	simctl_reset(&at_sim);
	at_log_clear();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_null(items);
	assert_non_null(strstr(e.message, "incomplete"));
	assert_non_null(strstr(e.message, "total_count 300, 100 entries"));
	assert_true(at_log_has("list is incomplete"));
	/* Three readings of pages 1 and 2 (3 was never waited for, or not
	 * asked). */
	assert_true(simctl_counter(&at_sim, "list") >= 6);
	assert_true(simctl_counter(&at_sim, "list") <= 9);
	/* Once the API answers in full, the list is whole. */
	simctl_clear_faults(&at_sim);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 300);
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
	simctl_fault(&at_sim, text);
	free(text);
	free(body);
}

static void test_a_list_that_keeps_moving_is_refused(void **st)
{
	const char *args[] = {"--connections", "150", "--max-page-size", "100",
			      NULL};
	struct api *a;
	struct api_error e;
	json_t *items = NULL, *p1 = NULL;

	(void)st;
	at_start(args);
	a = at_client(15000, NULL);
	/* Page 2 always repeats an id of page 1 (and misses one), as when
	 * the list moves at every reading: never believed. */
	assert_int_equal(at_list(a, FR, NULL, NULL, &p1, NULL), 0);
	page2_repeats_page1(p1, 0);
	simctl_reset(&at_sim);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "3 readings"));
	assert_non_null(strstr(e.message, "1 seen twice"));
	assert_int_equal(simctl_counter(&at_sim, "list"), 6);
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
	at_start(args);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &p1, NULL), 0);
	/* Once, page 2 shows an entry of page 1 again (and misses one). */
	page2_repeats_page1(p1, 1);
	simctl_reset(&at_sim);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 150);
	assert_true(json_equal(items, p1));
	assert_int_equal(simctl_counter(&at_sim, "list"), 4); /* read twice */
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
	at_start(args);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, &f, NULL, &items, NULL), 0);
	json_decref(items);
	reqs = simctl_requests(&at_sim);
	q = json_string_value(json_object_get(json_array_get(reqs, 0),
					      "query"));
	/* The simulator shows the decoded query: every value arrived whole.
	 * name and tags are not sent: the API's meaning of them is not
	 * certain to hold what ours does; they apply here. */
	assert_string_equal(q, "page=1&page_size=1000&order_by=created_at_desc"
			    "&project_id=0b5e9d3c-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
			    "&organization_id=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
			    "&status=active&bandwidth_mbps=10000"
			    "&pop_id=11111111-2222-4333-8444-555555555555");
	json_decref(reqs);

	/* Each filter selects what the simulator selects. */
	struct api_filters act = {.status = "active"};
	json_t *all = NULL;
	size_t i, n_active = 0;
	json_t *c;
	assert_int_equal(at_list(a, FR, NULL, NULL, &all, NULL), 0);
	json_array_foreach(all, i, c)
		n_active += strcmp(json_string_value(json_object_get(c,
							"status")), "active") == 0;
	assert_int_equal(at_list(a, FR, &act, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), n_active);
	assert_true(n_active > 0 && n_active < 40);
	json_decref(items);
	json_decref(all);
	for (size_t o = 0; o < 8; o++) {
		struct api_filters of = {.order_by = orders[o]};
		assert_int_equal(at_list(a, FR, &of, NULL, &items, NULL), 0);
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
	at_start(args);
	a = at_client(15000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	id = field_id(json_array_get(items, 3));
	assert_int_equal(at_get(a, FR, id, NULL, NULL, &c, &e), 0);
	assert_true(json_equal(c, json_array_get(items, 3)));
	json_decref(c);
	assert_int_equal(at_get(a, FR, "00000000-0000-4000-8000-000000000000",
				 NULL, NULL, &c, &e), -ENOENT);
	assert_int_equal(e.http_status, 404);
	assert_string_equal(e.type, "not_found");
	assert_string_equal(e.resource, "dedicated_connection");
	assert_string_equal(e.resource_id,
			    "00000000-0000-4000-8000-000000000000");
	assert_true(e.request_id[0] != '\0');
	/* An id that cannot exist costs no request. */
	simctl_reset(&at_sim);
	assert_int_equal(at_get(a, FR, "../../etc", NULL, NULL, &c, &e), -ENOENT);
	assert_int_equal(simctl_counter(&at_sim, "total"), 0);
	json_decref(items);
	api_free(a);
}


static void expect_fault_errno(const char *spec, int want, const char *msg)
{
	struct api *a;
	json_t *items = NULL;
	struct api_error e;

	simctl_fault(&at_sim, spec);
	a = at_client(3000, NULL);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), want);
	if (msg && !strstr(e.message, msg))
		fail_msg("'%s' not in '%s'", msg, e.message);
	simctl_clear_faults(&at_sim);
	api_free(a);
}

static void test_bad_bodies_are_eio(void **st)
{
	(void)st;
	at_start(NULL);
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

/* An entry that cannot be read makes the list incomplete: refused (not
 * read again: it would not change), with the entry named in the log. */
static void test_entries_with_bad_ids_make_a_list_incomplete(void **st)
{
	struct api *a;
	struct api_error e;
	struct api_info info;
	json_t *items = NULL;
	void **raw = NULL;
	size_t n = 0;

	(void)st;
	at_start(NULL);
	simctl_fault(&at_sim, "{\"kind\": \"shape\", \"shape\": \"id_not_string\","
		     " \"count\": 1}");
	a = at_client(3000, NULL);
	at_log_clear();
	simctl_reset(&at_sim);
	assert_int_equal(api_list_items(a, &kind_get(K_CONN)->api, FR, NULL,
					NULL, NULL, &raw, &n, &info, &e), -EIO);
	assert_null(raw);
	assert_true(info.incomplete);
	assert_non_null(strstr(e.message, "1 entry of 20 cannot be read"));
	assert_int_equal(simctl_counter(&at_sim, "list"), 1);
	assert_true(at_log_has("id is not a UUID: 12345"));
	/* Ids made to escape a directory, empty, with NUL: none served. */
	simctl_fault(&at_sim, "{\"kind\": \"body\", \"count\": 1, \"body\": "
		     "\"{\\\"connections\\\": [{\\\"id\\\": \\\"../x\\\"}, "
		     "{\\\"id\\\": \\\"\\\"}, {\\\"id\\\": \\\".\\\"}, "
		     "{\\\"id\\\": \\\"a\\\\u0000b\\\"}, {\\\"name\\\": 1}, 7, "
		     "{\\\"id\\\": \\\"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10\\\"}"
		     "], \\\"total_count\\\": 7}\"}");
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "6 entries of 7 cannot be read"));
	/* The API fixed: whole again. */
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(json_array_size(items), 20);
	json_decref(items);
	api_free(a);
}

static void serve_file(const char *name, int status)
{
	char spec[700];
	snprintf(spec, sizeof spec, "{\"kind\": \"body\", \"count\": 1, "
		 "\"status\": %d, \"body_file\": \"%s/%s\"}", status,
		 getenv("FIXTURES"), name);
	simctl_fault(&at_sim, spec);
}

static void test_fixture_answers(void **st)
{
	struct api *a;
	json_t *items = NULL, *c = NULL;
	const char *name;
	uint64_t u;
	const char *id17 = "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f17";

	(void)st;
	at_start(NULL);
	a = at_client(3000, NULL);
	/* Invalid UTF-8 in a list: repaired, not fatal. */
	serve_file("answers/invalid_utf8_list.json", 200);
	at_log_clear();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), 0);
	assert_int_equal(field_str(json_array_get(items, 0), "name", &name,
				  NULL), 0);
	assert_string_equal(name, "bad \xef\xbf\xbd\xef\xbf\xbd utf8 "
			    "\xef\xbf\xbd( end");
	assert_true(at_log_has("invalid UTF-8"));
	json_decref(items);
	serve_file("answers/invalid_utf8_get.json", 200);
	assert_int_equal(at_get(a, FR, id17, NULL, NULL, &c, NULL), 0);
	json_decref(c);
	/* Wrong types: kept as sent, reported per field. */
	serve_file("connections/wrong_types/object.json", 200);
	assert_int_equal(at_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f13",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), -EINVAL);
	json_decref(c);
	/* The answer for another id than asked is refused. */
	serve_file("connections/full/object.json", 200);
	assert_int_equal(at_get(a, FR, id17, NULL, NULL, &c, NULL), -EIO);
	/* A number past every integer type is kept as sent (the field is
	 * -EINVAL); the largest u64 is read exactly; a lone surrogate is
	 * U+FFFD. */
	serve_file("answers/too_big_number.json", 200);
	assert_int_equal(at_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f19",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), -EINVAL);
	json_decref(c);
	serve_file("connections/u64_max/object.json", 200);
	assert_int_equal(at_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f1a",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(field_str(c, "name", &name, NULL), 0);
	assert_string_equal(name, "\xef\xbf\xbd lone");
	json_decref(c);
	/* Truncated JSON, a gateway page. */
	serve_file("answers/truncated.json", 200);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), -EIO);
	serve_file("answers/gateway_error.html", 400);
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, NULL), -EINVAL);
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
	at_start(NULL);
	memset(big, 'x', (2 << 20) - 1);
	big[(2 << 20) - 1] = '\0';
	obj = json_pack("{s:s, s:s}", "id",
			"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "name", big);
	body = json_dumps(obj, JSON_COMPACT);
	spec = dump_new(json_pack("{s:s, s:i, s:s}", "kind", "body", "count",
				  1, "body", body));
	simctl_fault(&at_sim, spec);
	a = at_client(5000, NULL);
	assert_int_equal(at_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
				 NULL, NULL, &c, NULL), 0);
	assert_int_equal(field_str(c, "name", &name, &len), 0);
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
	simctl_fault(&at_sim, spec);
	assert_int_equal(at_get(a, FR, "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
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
	at_start(NULL);
	a = at_client(10000, small_body);
	simctl_fault(&at_sim, "{\"kind\": \"huge\", \"size\": 104857600}");
	t0 = at_now();
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "larger than 1048576 bytes"));
	assert_int_equal(e.attempts, 1);
	simctl_clear_faults(&at_sim);
	simctl_fault(&at_sim, "{\"kind\": \"huge\", \"size\": 104857600, "
		     "\"chunked\": true}");
	assert_int_equal(at_list(a, FR, NULL, NULL, &items, &e), -EIO);
	assert_non_null(strstr(e.message, "larger than 1048576 bytes"));
	assert_true(at_now() - t0 < 5);
	api_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, at_teardown)
		T(test_list_zero),
		T(test_list_one),
		T(test_list_exactly_one_page),
		T(test_list_one_more_than_a_page),
		T(test_list_2500_in_25_concurrent_pages_in_order),
		T(test_a_list_short_of_its_total_is_refused),
		T(test_a_list_that_keeps_moving_is_refused),
		T(test_a_list_that_moves_while_read_is_read_again),
		T(test_filters_and_order_are_passed_through),
		T(test_get_one_and_unknown_id),
		T(test_bad_bodies_are_eio),
		T(test_entries_with_bad_ids_make_a_list_incomplete),
		T(test_fixture_answers),
		T(test_huge_strings_and_deep_nesting),
		T(test_answers_above_the_body_cap_are_refused),
#undef T
	};
	int rc;

	at_begin();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	at_end();
	return rc;
}
