/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's data and request logic: generated data covers every field
 * and awkward case, pagination arithmetic, filters, orders, errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "field.h"
#include "simdata.h"

static const char *const documented[] = {
	"id", "project_id", "organization_id", "status", "name", "tags",
	"pop_id", "bandwidth_mbps", "available_link_bandwidths", "created_at",
	"updated_at", "demarcation_info", "vlan_range", "region",
};

static struct simdata *gen(unsigned n, uint64_t seed)
{
	struct simdata *d = NULL;
	assert_int_equal(simdata_generate(&d, "fr-par,nl-ams", n, seed), 0);
	return d;
}

static json_t *conns(struct simdata *d, const char *region)
{
	json_t *dump = simdata_dump(d);
	json_t *c = json_incref(json_object_get(json_object_get(dump, region),
						"connections"));
	json_decref(dump);
	return c;
}

static struct sim_reply list_q(struct simdata *d, const char *qs,
			       unsigned cap)
{
	/* qs: "k=v&k=v" */
	struct sim_kv kv[32];
	size_t n = 0;
	char *copy = strdup(qs), *save = NULL, *tok;
	struct sim_reply r;

	for (tok = strtok_r(copy, "&", &save); tok && n < 32;
	     tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		kv[n++] = (struct sim_kv){tok, eq};
	}
	r = simdata_list(d, SC_CONNS, "fr-par", kv, n, cap);
	free(copy);
	return r;
}

static void test_same_seed_gives_identical_bytes(void **st)
{
	struct simdata *a = gen(50, 7), *b = gen(50, 7), *c = gen(50, 8);
	json_t *da = simdata_dump(a), *db = simdata_dump(b), *dc;
	char *sa = json_dumps(da, JSON_COMPACT), *sb = json_dumps(db,
								   JSON_COMPACT);
	char *sc;

	(void)st;
	dc = simdata_dump(c);
	sc = json_dumps(dc, JSON_COMPACT);
	assert_string_equal(sa, sb);
	assert_string_not_equal(sa, sc);
	free(sa);
	free(sb);
	free(sc);
	json_decref(da);
	json_decref(db);
	json_decref(dc);
	simdata_free(a);
	simdata_free(b);
	simdata_free(c);
}

static void test_every_documented_field_on_every_connection(void **st)
{
	struct simdata *d = gen(200, 3);
	json_t *arr = conns(d, "fr-par"), *c;
	size_t i;

	(void)st;
	assert_int_equal(json_array_size(arr), 200);
	json_array_foreach(arr, i, c) {
		for (size_t f = 0; f < sizeof documented / sizeof *documented;
		     f++)
			assert_non_null(json_object_get(c, documented[f]));
		assert_string_equal(json_string_value(json_object_get(
			c, "region")), "fr-par");
	}
	json_decref(arr);
	simdata_free(d);
}

static void test_awkward_cases_are_generated(void **st)
{
	struct simdata *d = gen(30, 1);
	json_t *arr = conns(d, "fr-par"), *c;
	size_t i;
	int empty = 0, dot = 0, dotdot = 0, slash = 0, nonascii = 0, dups = 0,
	    longname = 0, space = 0, null_demarc = 0, null_upd = 0,
	    null_vlan = 0, empty_tags = 0, multi_tags = 0, multiline = 0,
	    extra = 0;
	int statuses = 0;
	const char *seen[8] = {0};

	(void)st;
	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *dm = json_string_value(json_object_get(
			c, "demarcation_info"));
		const char *s = json_string_value(json_object_get(c, "status"));
		size_t t = json_array_size(json_object_get(c, "tags"));

		empty += *n == '\0';
		dot += strcmp(n, ".") == 0;
		dotdot += strcmp(n, "..") == 0;
		slash += strchr(n, '/') != NULL;
		space += strchr(n, ' ') != NULL;
		longname += strlen(n) > 255;
		dups += strcmp(n, "dup-name") == 0;
		for (const char *p = n; *p; p++)
			if ((unsigned char)*p >= 0x80) {
				nonascii++;
				break;
			}
		null_demarc += json_is_null(json_object_get(c,
							    "demarcation_info"));
		null_upd += json_is_null(json_object_get(c, "updated_at"));
		null_vlan += json_is_null(json_object_get(c, "vlan_range"));
		empty_tags += t == 0;
		multi_tags += t > 1;
		multiline += dm && strchr(dm, '\n');
		extra += json_object_size(c) > 15;
		for (int k = 0; k < 8; k++) {
			if (seen[k] && strcmp(seen[k], s) == 0)
				break;
			if (!seen[k]) {
				seen[k] = s;
				statuses++;
				break;
			}
		}
	}
	assert_int_equal(empty, 1);
	assert_int_equal(dot, 1);
	assert_int_equal(dotdot, 1);
	assert_true(slash >= 1);
	assert_true(nonascii >= 2); /* one plain, one long */
	assert_int_equal(dups, 2);
	assert_true(longname >= 1);
	assert_true(space >= 2);
	assert_true(null_demarc && null_upd && null_vlan);
	assert_true(empty_tags && multi_tags && multiline && extra);
	assert_int_equal(statuses, 8);
	json_decref(arr);
	simdata_free(d);
}

static void test_page_cap_and_total_count(void **st)
{
	struct simdata *d = gen(130, 7);
	struct sim_reply r = list_q(d, "page_size=1000", 50);
	json_t *ids = json_object();

	(void)st;
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.body,
							 "connections")), 50);
	assert_int_equal(json_integer_value(json_object_get(r.body,
							    "total_count")), 130);
	json_decref(r.body);
	for (int p = 1; p <= 4; p++) {
		char qs[64];
		size_t i;
		json_t *c;

		snprintf(qs, sizeof qs, "page_size=1000&page=%d", p);
		r = list_q(d, qs, 50);
		assert_int_equal(r.status, 200);
		assert_int_equal(json_array_size(json_object_get(
			r.body, "connections")), p < 3 ? 50 : p == 3 ? 30 : 0);
		json_array_foreach(json_object_get(r.body, "connections"), i, c)
			json_object_set(ids, json_string_value(
				json_object_get(c, "id")), json_true());
		json_decref(r.body);
	}
	assert_int_equal(json_object_size(ids), 130);
	json_decref(ids);

	/* page_size below the cap is honoured */
	r = list_q(d, "page_size=7&page=19", 50);
	assert_int_equal(json_array_size(json_object_get(r.body,
							 "connections")), 4);
	json_decref(r.body);
	simdata_free(d);
}

static void test_bad_paging_arguments_are_400(void **st)
{
	static const char *const bad[] = {
		"page_size=0", "page_size=1001", "page_size=-1",
		"page_size=abc", "page=0", "page=-2", "page=x",
		"order_by=random", "status=up", "bandwidth_mbps=-5",
		"bandwidth_mbps=1.5", "project_id=not-a-uuid",
		"organization_id=1", "pop_id=",
	};
	struct simdata *d = gen(5, 1);

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct sim_reply r = list_q(d, bad[i], 100);
		assert_int_equal(r.status, 400);
		assert_string_equal(json_string_value(json_object_get(
			r.body, "type")), "invalid_arguments");
		json_decref(r.body);
	}
	simdata_free(d);
}

static int cmp_field(json_t *a, json_t *b, const char *f)
{
	const char *x = json_string_value(json_object_get(a, f));
	const char *y = json_string_value(json_object_get(b, f));
	return strcmp(x ? x : "", y ? y : "");
}

static const char *const status_order[] = {
	"unknown_status", "created", "configuring", "failed",
	"active", "disabled", "deleted", "locked",
};

/* Where a connection goes in an order: compared with the plainest code
 * (times parsed by the client's parser, statuses by the documented enum
 * order), ties broken by id. */
static int order_cmp(json_t *a, json_t *b, int order)
{
	int r = 0;

	if (order / 2 <= 1) {
		const char *f = order / 2 == 0 ? "created_at" : "updated_at";
		struct timespec x = {-1, 0}, y = {-1, 0};
		field_time(a, f, &x);
		field_time(b, f, &y);
		r = (x.tv_sec > y.tv_sec) - (x.tv_sec < y.tv_sec);
		if (!r)
			r = (x.tv_nsec > y.tv_nsec) - (x.tv_nsec < y.tv_nsec);
	} else if (order / 2 == 2) {
		r = cmp_field(a, b, "name");
	} else {
		int ra = -1, rb = -1;
		for (int k = 0; k < 8; k++) {
			if (!strcmp(status_order[k], json_string_value(
					json_object_get(a, "status"))))
				ra = k;
			if (!strcmp(status_order[k], json_string_value(
					json_object_get(b, "status"))))
				rb = k;
		}
		r = ra - rb;
	}
	if (order % 2)
		r = -r;
	return r ? r : cmp_field(a, b, "id");
}

static void test_every_order(void **st)
{
	static const char *const orders[] = {
		"created_at_asc", "created_at_desc", "updated_at_asc",
		"updated_at_desc", "name_asc", "name_desc", "status_asc",
		"status_desc",
	};
	struct simdata *d = gen(120, 5);

	(void)st;
	for (int o = 0; o < 8; o++) {
		char qs[64];
		struct sim_reply r;
		json_t *arr;
		size_t changes = 0;

		snprintf(qs, sizeof qs, "page_size=1000&order_by=%s", orders[o]);
		r = list_q(d, qs, 1000);
		assert_int_equal(r.status, 200);
		arr = json_object_get(r.body, "connections");
		assert_int_equal(json_array_size(arr), 120);
		for (size_t i = 1; i < json_array_size(arr); i++) {
			int c = order_cmp(json_array_get(arr, i - 1),
					  json_array_get(arr, i), o);
			if (c >= 0)
				fail_msg("%s: entries %zu and %zu out of order",
					 orders[o], i - 1, i);
			changes++;
		}
		assert_true(changes == 119);
		json_decref(r.body);
	}
	simdata_free(d);
}

static size_t count_q(struct simdata *d, const char *qs)
{
	struct sim_reply r = list_q(d, qs, 1000);
	size_t n;

	assert_int_equal(r.status, 200);
	n = json_array_size(json_object_get(r.body, "connections"));
	assert_int_equal((size_t)json_integer_value(json_object_get(
		r.body, "total_count")), n);
	json_decref(r.body);
	return n;
}

static int has_tag(json_t *c, const char *t)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(c, "tags"), i, v)
		if (strcmp(json_string_value(v), t) == 0)
			return 1;
	return 0;
}

/* Expected counts are computed here by scanning the data with the plainest
 * predicate, then compared with what the filter returns. */
static void test_every_filter(void **st)
{
	struct simdata *d = gen(60, 2);
	json_t *arr = conns(d, "fr-par"), *c0 = json_array_get(arr, 9), *c;
	const char *proj = json_string_value(json_object_get(c0, "project_id"));
	const char *org = json_string_value(json_object_get(c0,
							    "organization_id"));
	const char *pop = json_string_value(json_object_get(c0, "pop_id"));
	size_t e_proj = 0, e_org = 0, e_pop = 0, e_active = 0, e_locked = 0,
	       e_bw = 0, e_prod = 0, e_prod_edge = 0, e_dup = 0, e_bb = 0,
	       e_active_prod = 0, i;
	char qs[256];

	(void)st;
	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *s = json_string_value(json_object_get(c, "status"));
		e_proj += cmp_field(c, c0, "project_id") == 0;
		e_org += cmp_field(c, c0, "organization_id") == 0;
		e_pop += cmp_field(c, c0, "pop_id") == 0;
		e_active += strcmp(s, "active") == 0;
		e_locked += strcmp(s, "locked") == 0;
		e_bw += json_integer_value(json_object_get(c,
						"bandwidth_mbps")) == 1000;
		e_prod += has_tag(c, "prod");
		e_prod_edge += has_tag(c, "prod") && has_tag(c, "edge");
		e_dup += strstr(n, "dup-name") != NULL;
		e_bb += strstr(n, "backbone") != NULL;
		e_active_prod += strcmp(s, "active") == 0 && has_tag(c, "prod");
	}
	/* Every filter must actually select something, and not everything. */
	assert_true(e_proj && e_proj < 60 && e_org && e_org < 60);
	assert_true(e_pop && e_pop < 60 && e_active && e_active < 60);
	assert_true(e_locked && e_bw && e_prod && e_prod_edge && e_bb);
	assert_true(e_active_prod && e_active_prod < e_active);

	snprintf(qs, sizeof qs, "page_size=1000&project_id=%s", proj);
	assert_int_equal(count_q(d, qs), e_proj);
	snprintf(qs, sizeof qs, "page_size=1000&organization_id=%s", org);
	assert_int_equal(count_q(d, qs), e_org);
	snprintf(qs, sizeof qs, "page_size=1000&pop_id=%s", pop);
	assert_int_equal(count_q(d, qs), e_pop);
	assert_int_equal(count_q(d, "page_size=1000&status=active"), e_active);
	assert_int_equal(count_q(d, "page_size=1000&status=locked"), e_locked);
	assert_int_equal(count_q(d, "page_size=1000&bandwidth_mbps=1000"),
			 e_bw);
	assert_int_equal(count_q(d, "page_size=1000&tags=prod"), e_prod);
	assert_int_equal(count_q(d, "page_size=1000&tags=prod&tags=edge"),
			 e_prod_edge);
	assert_int_equal(count_q(d, "page_size=1000&tags=nope"), 0);
	assert_int_equal(count_q(d, "page_size=1000&name=dup-name"), e_dup);
	assert_int_equal(e_dup, 2);
	assert_int_equal(count_q(d, "page_size=1000&name=backbone"), e_bb);
	assert_int_equal(count_q(d, "page_size=1000&status=active&tags=prod"),
			 e_active_prod);
	json_decref(arr);
	simdata_free(d);
}

static void test_get_and_not_found(void **st)
{
	struct simdata *d = gen(3, 1);
	json_t *arr = conns(d, "nl-ams");
	const char *id = json_string_value(json_object_get(json_array_get(arr,
									  1), "id"));
	struct sim_reply r = simdata_get(d, SC_CONNS, "nl-ams", id);

	(void)st;
	assert_int_equal(r.status, 200);
	assert_true(json_equal(r.body, json_array_get(arr, 1)));
	json_decref(r.body);
	r = simdata_get(d, SC_CONNS, "nl-ams", "nope");
	assert_int_equal(r.status, 404);
	assert_string_equal(json_string_value(json_object_get(r.body,
							      "message")),
			    "resource is not found");
	assert_string_equal(json_string_value(json_object_get(r.body, "type")),
			    "not_found");
	assert_string_equal(json_string_value(json_object_get(r.body,
							      "resource")),
			    "dedicated_connection");
	assert_string_equal(json_string_value(json_object_get(r.body,
							      "resource_id")),
			    "nope");
	json_decref(r.body);
	r = simdata_list(d, SC_CONNS, "xx-yyy", NULL, 0, 100);
	assert_int_equal(r.status, 404);
	json_decref(r.body);
	json_decref(arr);
	simdata_free(d);
}

static void test_mutations(void **st)
{
	struct simdata *d = gen(4, 1);
	json_t *arr = conns(d, "fr-par");
	char id[64];
	const char *first = json_string_value(json_object_get(
		json_array_get(arr, 0), "id"));
	json_t *patch = json_pack("{s:s}", "status", "failed");
	struct sim_reply r;

	(void)st;
	assert_int_equal(simdata_patch(d, SC_CONNS, "fr-par", first, patch), 0);
	r = simdata_get(d, SC_CONNS, "fr-par", first);
	assert_string_equal(json_string_value(json_object_get(r.body,
							      "status")), "failed");
	json_decref(r.body);
	assert_int_equal(simdata_delete(d, SC_CONNS, "fr-par", first), 0);
	assert_int_equal(simdata_delete(d, SC_CONNS, "fr-par", first), -ENOENT);
	assert_int_equal(count_q(d, "page_size=10"), 3);
	assert_int_equal(simdata_add(d, SC_CONNS, "fr-par", patch, id, sizeof id), 0);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(count_q(d, "page_size=10"), 4);
	json_decref(patch);
	json_decref(arr);
	simdata_free(d);
}

static void test_pops_are_consistent_with_connections(void **st)
{
	struct simdata *d = gen(12, 4);
	json_t *arr = conns(d, "fr-par"), *c;
	struct sim_reply r = simdata_list(d, SC_POPS, "fr-par", NULL, 0, 100);
	size_t i;

	(void)st;
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.body, "pops")), 3);
	json_array_foreach(arr, i, c) {
		struct sim_reply p = simdata_get(d, SC_POPS, "fr-par", json_string_value(
			json_object_get(c, "pop_id")));
		assert_int_equal(p.status, 200);
		assert_non_null(json_object_get(p.body, "display_name"));
		json_decref(p.body);
	}
	json_decref(r.body);
	json_decref(arr);
	simdata_free(d);
}

static json_t *coll(struct simdata *d, const char *region, const char *key)
{
	json_t *dump = simdata_dump(d);
	json_t *c = json_incref(json_object_get(json_object_get(dump, region),
						key));
	json_decref(dump);
	return c;
}

static const json_t *by_id(const json_t *arr, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (id && !strcmp(json_string_value(json_object_get(o, "id")), id))
			return o;
	return NULL;
}

/* Self-hosted links sit on a connection (its PoP, a VLAN in its range, a
 * size it supports), hosted ones point at a partner, policies are of
 * their family; the awkward cases are all there. */
static void test_links_are_consistent(void **st)
{
	struct simdata *d = gen(40, 4);
	json_t *cs = conns(d, "fr-par"), *ls = coll(d, "fr-par", "links");
	json_t *ps = coll(d, "fr-par", "partners");
	json_t *rps = coll(d, "fr-par", "routing_policies"), *l;
	size_t i, both = 0, neither = 0, nullbgp = 0, reason = 0, old = 0;
	size_t down = 0, v4 = 0, v6 = 0;

	(void)st;
	assert_int_equal(json_array_size(ls), 40);
	assert_true(json_array_size(ps) >= 4 && json_array_size(rps) >= 4);
	json_array_foreach(ls, i, l) {
		const json_t *self = json_object_get(l, "self");
		const json_t *partner = json_object_get(l, "partner");
		const json_t *p4 = json_object_get(l, "routing_policy_v4_id");
		const json_t *p6 = json_object_get(l, "routing_policy_v6_id");
		json_int_t vlan = json_integer_value(json_object_get(l, "vlan"));

		both += self && partner;
		neither += !self && !partner;
		nullbgp += json_is_null(json_object_get(l, "scw_bgp_config"));
		old += json_object_get(l, "routing_policy_id") != NULL;
		down += !strcmp(json_string_value(json_object_get(
			l, "bgp_v4_status")), "down");
		if (partner) {
			assert_non_null(by_id(ps, json_string_value(
				json_object_get(partner, "partner_id"))));
			reason += json_is_string(json_object_get(
				partner, "disapproved_reason"));
		}
		if (self) {
			const json_t *c = by_id(cs, json_string_value(
				json_object_get(self, "connection_id")));
			const json_t *vr = json_object_get(c, "vlan_range");
			assert_non_null(c);
			assert_true(json_equal(json_object_get(c, "pop_id"),
					       json_object_get(l, "pop_id")));
			assert_true(vlan >= json_integer_value(
				json_object_get(vr, "start")) &&
				vlan <= json_integer_value(json_object_get(vr,
									   "end")));
		}
		if (json_is_string(p4)) {
			const json_t *p = by_id(rps, json_string_value(p4));
			assert_true(p && json_is_false(json_object_get(p, "is_ipv6")));
			v4++;
		}
		if (json_is_string(p6)) {
			const json_t *p = by_id(rps, json_string_value(p6));
			assert_true(p && json_is_true(json_object_get(p, "is_ipv6")));
			v6++;
		}
	}
	assert_true(both == 1 && neither == 1 && nullbgp >= 1 && reason >= 1 &&
		    old >= 1 && down >= 1 && v4 >= 1 && v6 >= 1);
	json_array_foreach(rps, i, l) {
		const char *cidr = json_string_value(json_array_get(
			json_object_get(l, "prefix_filter_in"), 0));
		assert_non_null(cidr);
		assert_true((strchr(cidr, ':') != NULL) ==
			    json_is_true(json_object_get(l, "is_ipv6")));
	}
	/* Listed, got, and filtered through the same table. */
	{
		struct sim_kv q[] = {{"kind", "hosted"}};
		struct sim_reply r = simdata_list(d, SC_LINKS, "fr-par", q, 1,
						  100);
		json_t *x;
		assert_int_equal(r.status, 200);
		json_array_foreach(json_object_get(r.body, "links"), i, x)
			assert_true(json_object_get(x, "partner") &&
				    !json_object_get(x, "self"));
		json_decref(r.body);
		q[0] = (struct sim_kv){"kind", "both"};
		r = simdata_list(d, SC_LINKS, "fr-par", q, 1, 100);
		assert_int_equal(r.status, 400);
		json_decref(r.body);
		r = simdata_get(d, SC_RPS, "fr-par", "00000000-0000-4000-8000-"
				"000000000000");
		assert_int_equal(r.status, 404);
		assert_string_equal(json_string_value(json_object_get(
			r.body, "resource")), "routing_policy");
		json_decref(r.body);
	}
	json_decref(cs);
	json_decref(ls);
	json_decref(ps);
	json_decref(rps);
	simdata_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_gives_identical_bytes),
		cmocka_unit_test(test_every_documented_field_on_every_connection),
		cmocka_unit_test(test_awkward_cases_are_generated),
		cmocka_unit_test(test_page_cap_and_total_count),
		cmocka_unit_test(test_bad_paging_arguments_are_400),
		cmocka_unit_test(test_every_order),
		cmocka_unit_test(test_every_filter),
		cmocka_unit_test(test_get_and_not_found),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_pops_are_consistent_with_connections),
		cmocka_unit_test(test_links_are_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
