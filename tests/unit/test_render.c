/*
 * render and robj: every file of every kind, rendered from the fixtures of
 * tests/fixtures/conn (complete, nulls, missing, wrong types, odd numbers,
 * numbers past 64 bits, unknown fields), against bytes written out here by
 * hand; and the rendered object (robj) gives exactly the renderers' bytes,
 * at any offset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsontext.h"
#include "render.h"
#include "robj.h"

#define EIO_ "\x01EIO" /* expected: the file reads as EIO */

/* A fixture as the client reads an answer: repaired, then parsed. */
static json_t *fixture(const char *name)
{
	char path[512], *text = NULL, *fixed;
	size_t len = 0, flen;
	FILE *f;
	json_t *j;
	json_error_t je;
	struct jt_repairs rep;

	snprintf(path, sizeof path, "%s/conn/%s", getenv("FIXTURES"), name);
	assert_non_null(f = fopen(path, "rb"));
	text = malloc(1 << 16);
	len = fread(text, 1, 1 << 16, f);
	fclose(f);
	assert_int_equal(jt_repair(text, len, &fixed, &flen, &rep), 0);
	j = json_loadb(fixed, flen, JSON_ALLOW_NUL, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	free(text);
	free(fixed);
	return j;
}

/* What file `name` of kind k renders as from obj: 0 and bytes, or -EIO. */
static void expect_file(const struct kind *k, json_t *obj, const char *name,
			const char *want)
{
	int i = kind_file(k, name);
	char *buf = NULL;
	size_t len = 0;
	int rc;

	assert_true(i >= 0);
	rc = render_file(obj, &k->files[i], &buf, &len);
	if (strcmp(want, EIO_) == 0) {
		if (rc != -EIO)
			fail_msg("%s: want EIO, got %d", name, rc);
		return;
	}
	if (rc != 0)
		fail_msg("%s: want \"%s\", got %d", name, want, rc);
	if (len != strlen(want) || (len && memcmp(buf, want, len)))
		fail_msg("%s: want \"%s\", got \"%.*s\"", name, want,
			 (int)len, buf ? buf : "");
	free(buf);
}

/* The robj of obj agrees with the renderers on every file, link, name and
 * time, read whole and from every offset. */
static void check_robj(const struct kind *k, json_t *obj)
{
	struct robj *o = robj_new(k, obj);
	char got[8192];

	assert_non_null(o);
	assert_string_equal(robj_id(o), json_string_value(
		json_object_get(obj, "id")));
	for (unsigned i = 0; i < k->nfiles; i++) {
		char *buf = NULL;
		size_t len = 0;
		int rc = render_file(obj, &k->files[i], &buf, &len);

		if (rc) {
			assert_int_equal(rc, -EIO);
			assert_int_equal(robj_file_size(o, i), -EIO);
			continue;
		}
		assert_int_equal(robj_file_size(o, i), (long)len);
		assert_true(len < sizeof got);
		for (size_t off = 0; off <= len; off++) {
			size_t n = robj_read(o, i, off, got, sizeof got);
			assert_int_equal(n, len - off);
			assert_memory_equal(got, buf + off, n);
			/* and one byte at a time */
			if (off < len) {
				assert_int_equal(robj_read(o, i, off, got, 1), 1);
				assert_int_equal(got[0], buf[off]);
			}
		}
		free(buf);
	}
	for (unsigned j = 0; j < k->nlinks; j++) {
		const char *want, *id;
		size_t len;
		int rc = render_link(obj, &k->links[j], &want);

		assert_int_equal(robj_link(o, j, &id, &len), rc);
		if (!rc) {
			assert_int_equal(len, strlen(want));
			assert_memory_equal(id, want, len);
		}
	}
	{
		const json_t *v = json_object_get(obj, "name");
		const char *name;
		size_t len;
		int rc = robj_name(o, &name, &len);

		if (json_is_string(v)) {
			assert_int_equal(rc, 0);
			assert_int_equal(len, json_string_length(v));
			assert_memory_equal(name, json_string_value(v), len);
		} else if (kind_file(k, "name") >= 0) {
			assert_int_equal(rc, -ENOENT);
		}
	}
	{
		struct robj *again = robj_new(k, obj);
		assert_true(robj_equal(o, again));
		assert_true(robj_size(o) >= robj_size(o) / 2);
		robj_release(again);
	}
	robj_release(o);
}

static void test_full(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("full.json");

	(void)st;
	expect_file(k, c, "id", "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10\n");
	expect_file(k, c, "name", "par-transit-01\n");
	expect_file(k, c, "status", "active\n");
	expect_file(k, c, "bandwidth_mbps", "10000\n");
	expect_file(k, c, "demarcation_info",
		    "Facility: TH2\nCabinet: C-12\nPatch panel: PP-3 port 17\n");
	expect_file(k, c, "tags", "prod\nedge\n");
	expect_file(k, c, "pop_id", "11111111-2222-4333-8444-555555555555\n");
	expect_file(k, c, "project_id",
		    "0b5e9d3c-1a2b-4c3d-8e4f-5a6b7c8d9e0f\n");
	expect_file(k, c, "organization_id",
		    "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\n");
	expect_file(k, c, "available_link_bandwidths", "50\n100\n1000\n10000\n");
	expect_file(k, c, "created_at", "2024-02-29T23:59:59.123456Z\n");
	expect_file(k, c, "updated_at", "2024-03-01T01:00:00+02:00\n");
	expect_file(k, c, "vlan_range", "1500-3899\n");
	expect_file(k, c, "region", "fr-par\n");
	check_robj(k, c);
	json_decref(c);
}

static void test_nulls_and_missing_are_empty(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	const char *fx[] = {"nulls.json", "missing.json"};

	(void)st;
	for (size_t f = 0; f < 2; f++) {
		json_t *c = fixture(fx[f]);
		for (unsigned i = 0; i < k->nfiles; i++) {
			if (k->files[i].how == RH_JSON ||
			    !strcmp(k->files[i].name, "id"))
				continue;
			expect_file(k, c, k->files[i].name, "");
		}
		check_robj(k, c);
		json_decref(c);
	}
}

static void test_wrong_types_are_eio(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("wrong_types.json");
	struct robj *o;
	const char *id;
	size_t len;

	(void)st;
	expect_file(k, c, "project_id", EIO_);
	expect_file(k, c, "organization_id", EIO_);
	expect_file(k, c, "status", EIO_);
	expect_file(k, c, "name", EIO_);
	expect_file(k, c, "tags", EIO_);
	expect_file(k, c, "pop_id", EIO_);
	expect_file(k, c, "bandwidth_mbps", EIO_);
	expect_file(k, c, "available_link_bandwidths", EIO_);
	/* A string, if not a time: shown as it is. */
	expect_file(k, c, "created_at", "yesterday\n");
	expect_file(k, c, "updated_at", EIO_);
	expect_file(k, c, "demarcation_info", EIO_);
	expect_file(k, c, "vlan_range", EIO_);
	expect_file(k, c, "region", EIO_);
	check_robj(k, c);
	/* No link from a pop_id that is no id. */
	o = robj_new(k, c);
	assert_int_equal(robj_link(o, 0, &id, &len), -ENOENT);
	robj_release(o);
	json_decref(c);
}

static void test_odd_numbers(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("odd_numbers.json");

	(void)st;
	expect_file(k, c, "bandwidth_mbps", EIO_);
	expect_file(k, c, "available_link_bandwidths", EIO_);
	expect_file(k, c, "vlan_range", EIO_);
	check_robj(k, c);
	json_decref(c);
	c = fixture("u64_max.json");
	/* Past int64: kept as the API's digits. */
	expect_file(k, c, "bandwidth_mbps", "18446744073709551615\n");
	/* A lone surrogate: U+FFFD. */
	expect_file(k, c, "name", "\xef\xbf\xbd lone\n");
	check_robj(k, c);
	json_decref(c);
}

/* The .json file: the object as the API sent it, pretty-printed, every
 * member in its order, numbers past 64 bits as digits. */
static void test_json_file_is_the_whole_object(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("extra.json");
	char *want = json_dumps(c, JSON_INDENT(2));
	size_t n = strlen(want);

	(void)st;
	want = realloc(want, n + 2);
	memcpy(want + n, "\n", 2);
	expect_file(k, c, "connection.json", want);
	assert_non_null(strstr(want, "\"x_future\""));
	assert_non_null(strstr(want, "\"lag_members\": 4"));
	free(want);
	check_robj(k, c);
	json_decref(c);
	c = fixture("u64_max.json");
	{
		struct robj *o = robj_new(k, c);
		char buf[4096];
		size_t len = robj_read(o, (unsigned)kind_file(k,
				       "connection.json"), 0, buf, sizeof buf);
		buf[len] = '\0';
		assert_non_null(strstr(buf, "\"bandwidth_mbps\": "
				       "18446744073709551615"));
		assert_int_equal(buf[len - 1], '\n');
		robj_release(o);
	}
	json_decref(c);
}

static void test_times(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("full.json");
	struct robj *o = robj_new(k, c);
	struct timespec t;

	(void)st;
	/* updated_at, 01:00+02:00 = 2024-02-29T23:00:00Z */
	assert_true(robj_mtime(o, &t));
	assert_int_equal(t.tv_sec, 1709247600);
	robj_release(o);
	json_decref(c);
	/* created_at when there is no updated_at; nothing when neither. */
	c = json_pack("{s:s, s:s}", "id", "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
		      "created_at", "2024-02-29T23:59:59.5Z");
	o = robj_new(k, c);
	assert_true(robj_mtime(o, &t));
	assert_int_equal(t.tv_sec, 1709251199);
	assert_int_equal(t.tv_nsec, 500000000);
	robj_release(o);
	json_decref(c);
	c = fixture("missing.json");
	o = robj_new(k, c);
	assert_false(robj_mtime(o, &t));
	robj_release(o);
	json_decref(c);
}

static void test_pops(void **st)
{
	const struct kind *k = kind_get(K_POP);
	json_t *p = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:[i,i], s:s, s:n, s:b}",
		"id", "11111111-2222-4333-8444-555555555555",
		"name", "DC2", "display_name", "Paris DC2", "city", "Paris",
		"address", "1 rue\nParis", "hosting_provider_name", "Scaleway",
		"available_link_bandwidths_mbps", 50, 100, "region", "fr-par",
		"logo_url", "unknown", true);

	(void)st;
	expect_file(k, p, "name", "DC2\n");
	expect_file(k, p, "display_name", "Paris DC2\n");
	expect_file(k, p, "city", "Paris\n");
	expect_file(k, p, "address", "1 rue\nParis\n");
	expect_file(k, p, "hosting_provider_name", "Scaleway\n");
	expect_file(k, p, "available_link_bandwidths_mbps", "50\n100\n");
	expect_file(k, p, "region", "fr-par\n");
	check_robj(k, p);
	json_decref(p);
}

/* A link: its derived kind, fields of nested objects, booleans, links. */
static void test_links(void **st)
{
	const struct kind *k = kind_get(K_LINK);
	json_t *l = json_pack(
		"{s:s, s:s, s:{s:s}, s:n, s:{s:i, s:s, s:s}, s:n, s:b, s:i, "
		"s:s, s:n}",
		"id", "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
		"name", "par-link-0001",
		"self", "connection_id", "11111111-2222-4333-8444-555555555555",
		"partner",
		"scw_bgp_config", "asn", 12876, "ipv4", "169.254.0.0/31",
		"ipv6", "fd00::2/127",
		"peer_bgp_config",
		"enable_route_propagation", 1,
		"vlan", 1600,
		"routing_policy_v4_id", "22222222-2222-4333-8444-555555555555",
		"routing_policy_v6_id");
	struct robj *o;
	const char *id;
	size_t len;

	(void)st;
	expect_file(k, l, "kind", "self_hosted\n");
	expect_file(k, l, "connection_id",
		    "11111111-2222-4333-8444-555555555555\n");
	expect_file(k, l, "partner_id", "");
	expect_file(k, l, "pairing_key", "");
	expect_file(k, l, "scw_bgp_asn", "12876\n");
	expect_file(k, l, "scw_bgp_ipv4", "169.254.0.0/31\n");
	expect_file(k, l, "scw_bgp_ipv6", "fd00::2/127\n");
	expect_file(k, l, "peer_bgp_asn", "");
	expect_file(k, l, "peer_bgp_ipv4", "");
	expect_file(k, l, "enable_route_propagation", "true\n");
	expect_file(k, l, "vlan", "1600\n");
	check_robj(k, l);
	o = robj_new(k, l);
	assert_int_equal(robj_link(o, (unsigned)kind_link(k, "connection"), &id,
				   &len), 0);
	assert_memory_equal(id, "11111111-2222-4333-8444-555555555555", 36);
	assert_int_equal(robj_link(o, (unsigned)kind_link(k, "partner"), &id,
				   &len), -ENOENT);
	assert_int_equal(robj_link(o, (unsigned)kind_link(
		k, "routing_policy_v6"), &id, &len), -ENOENT);
	robj_release(o);
	/* Hosted; then both; then neither: empty. */
	json_object_set_new(l, "self", json_null());
	json_object_set_new(l, "partner", json_pack(
		"{s:s, s:s, s:s}", "partner_id",
		"33333333-2222-4333-8444-555555555555", "pairing_key", "abc",
		"disapproved_reason", "VLAN in use"));
	expect_file(k, l, "kind", "hosted\n");
	expect_file(k, l, "disapproved_reason", "VLAN in use\n");
	json_object_set_new(l, "self", json_pack("{s:s}", "connection_id",
		"11111111-2222-4333-8444-555555555555"));
	expect_file(k, l, "kind", "");
	json_object_del(l, "self");
	json_object_del(l, "partner");
	expect_file(k, l, "kind", "");
	/* Wrong types in nested members are EIO too. */
	json_object_set_new(l, "scw_bgp_config", json_pack("{s:s}", "asn",
							   "12876"));
	expect_file(k, l, "scw_bgp_asn", EIO_);
	json_object_set_new(l, "enable_route_propagation", json_string("yes"));
	expect_file(k, l, "enable_route_propagation", EIO_);
	check_robj(k, l);
	json_decref(l);
}

/* What robj says is wrong with obj: exactly `want` (NULL: nothing). */
static void expect_problems(const struct kind *k, json_t *obj,
			    const char *want)
{
	struct robj *o = robj_new(k, obj);
	const char *got;

	assert_non_null(o);
	got = robj_problems(o);
	if (!want && got)
		fail_msg("want no problem, got \"%s\"", got);
	if (want && (!got || strcmp(got, want) != 0))
		fail_msg("want \"%s\", got \"%s\"", want, got ? got : "none");
	robj_release(o);
}

/* A member that should be an object and is not (a string, a number):
 * every file that comes from it is EIO, not empty as for a null one, and
 * each wrong member is named once among the object's problems. */
static void test_wrong_types_in_nested_members(void **st)
{
	const struct kind *k = kind_get(K_LINK);
	json_t *l = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:i, s:s, s:i}",
			      "id", "7a1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
			      "name", "x", "scw_bgp_config", "str",
			      "self", "connection_id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
			      "vlan", "1500", "bgp_v4_status", 5,
			      "tags", "t", "peer_bgp_config", 7);

	(void)st;
	for (const char *const *f = (const char *const[]){"scw_bgp_asn",
	     "scw_bgp_ipv4", "scw_bgp_ipv6", "peer_bgp_asn", "peer_bgp_ipv4",
	     "peer_bgp_ipv6", "vlan", "bgp_v4_status", "tags", NULL}; *f; f++)
		expect_file(k, l, *f, EIO_);
	expect_file(k, l, "kind", "self_hosted\n");
	expect_file(k, l, "connection_id",
		    "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10\n");
	expect_problems(k, l, "bgp_v4_status is not a string; vlan is not an "
			"unsigned integer; scw_bgp_config is not an object; "
			"peer_bgp_config is not an object; tags is not an "
			"array of strings");
	check_robj(k, l);
	/* partner: "str" besides self: the kind and every partner file are
	 * EIO, and the link is not taken for one with both. */
	json_object_set_new(l, "partner", json_string("str"));
	for (const char *const *f = (const char *const[]){"kind",
	     "partner_id", "pairing_key", "disapproved_reason", NULL}; *f; f++)
		expect_file(k, l, *f, EIO_);
	expect_problems(k, l, "bgp_v4_status is not a string; partner is not "
			"an object; vlan is not an unsigned integer; "
			"scw_bgp_config is not an object; peer_bgp_config is "
			"not an object; tags is not an array of strings");
	check_robj(k, l);
	/* Both, then neither: the kind is empty, and said. */
	json_object_set_new(l, "partner", json_pack("{s:s}", "partner_id",
						    "x"));
	expect_file(k, l, "kind", "");
	json_object_del(l, "bgp_v4_status");
	json_object_del(l, "vlan");
	json_object_del(l, "tags");
	json_object_del(l, "scw_bgp_config");
	json_object_del(l, "peer_bgp_config");
	expect_problems(k, l, "has both self and partner: its kind is "
			"unknown");
	json_object_del(l, "partner");
	json_object_del(l, "self");
	expect_problems(k, l, "has neither self nor partner: its kind is "
			"unknown");
	json_object_set_new(l, "self", json_null());
	json_object_set_new(l, "partner", json_pack("{s:s}", "partner_id",
						    "x"));
	expect_problems(k, l, NULL);
	json_decref(l);
}

/* Every member of the wrong type is named, and nothing else is. */
static void test_problems_name_every_wrong_member(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	const char *none[] = {"full.json", "nulls.json", "missing.json",
			      "u64_max.json", "extra.json"};
	json_t *c = fixture("wrong_types.json");

	(void)st;
	expect_problems(k, c, "name is not a string; status is not a "
			"string; bandwidth_mbps is not an unsigned integer; "
			"demarcation_info is not a string; tags is not an "
			"array of strings; pop_id is not a string; project_id "
			"is not a string; organization_id is not a string; "
			"available_link_bandwidths is not an array of "
			"unsigned integers; updated_at is not a string; "
			"vlan_range is not {\"start\": N, \"end\": N}; region "
			"is not a string");
	json_decref(c);
	c = fixture("odd_numbers.json");
	expect_problems(k, c, "bandwidth_mbps is not an unsigned integer; "
			"available_link_bandwidths is not an array of "
			"unsigned integers; vlan_range is not {\"start\": N, "
			"\"end\": N}");
	json_decref(c);
	for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
		c = fixture(none[i]);
		expect_problems(k, c, NULL);
		json_decref(c);
	}
}

static void test_every_kind_and_fixture(void **st)
{
	const char *fx[] = {"full.json", "nulls.json", "missing.json",
			    "wrong_types.json", "odd_numbers.json",
			    "u64_max.json", "extra.json"};

	(void)st;
	for (int k = 0; k < K_COUNT; k++)
		for (size_t f = 0; f < sizeof fx / sizeof *fx; f++) {
			json_t *c = fixture(fx[f]);
			check_robj(kind_get(k), c);
			json_decref(c);
		}
}

static void test_no_id_no_object(void **st)
{
	json_t *c = json_pack("{s:s}", "id", "../../etc");

	(void)st;
	assert_null(robj_new(kind_get(K_CONN), c));
	json_decref(c);
	c = json_pack("{s:i}", "id", 7);
	assert_null(robj_new(kind_get(K_CONN), c));
	json_decref(c);
}

static void test_equal_and_fields(void **st)
{
	json_t *a = json_pack("{s:s, s:s}", "id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "status",
			      "active");
	json_t *b = json_pack("{s:s, s:s}", "id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "status",
			      "failed");
	json_t *nest = json_pack("{s:{s:s}}", "self", "connection_id", "x");
	struct robj *x = robj_new(kind_get(K_CONN), a);
	struct robj *y = robj_new(kind_get(K_CONN), b);

	(void)st;
	/* Same length, different bytes: not equal. */
	assert_false(robj_equal(x, y));
	robj_release(x);
	robj_release(y);
	assert_string_equal(json_string_value(render_field(nest,
			    "self.connection_id")), "x");
	assert_null(render_field(nest, "self.nothing"));
	assert_null(render_field(nest, "nothing.x"));
	json_decref(a);
	json_decref(b);
	json_decref(nest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_nulls_and_missing_are_empty),
		cmocka_unit_test(test_wrong_types_are_eio),
		cmocka_unit_test(test_odd_numbers),
		cmocka_unit_test(test_json_file_is_the_whole_object),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_pops),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_wrong_types_in_nested_members),
		cmocka_unit_test(test_problems_name_every_wrong_member),
		cmocka_unit_test(test_every_kind_and_fixture),
		cmocka_unit_test(test_no_id_no_object),
		cmocka_unit_test(test_equal_and_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
