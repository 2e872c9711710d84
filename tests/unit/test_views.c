/* SPDX-License-Identifier: Apache-2.0 */
/*
 * views: what the operators read, from listings of rendered objects:
 * tables/KIND.tsv and .json (tables.h), the lines of the journal
 * (changes.h) and the Prometheus file (prom.h): their exact bytes on
 * objects with every awkward value (tabs, newlines, backslashes, quotes,
 * lists, a field of the wrong type, a status the API does not document).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cache.h"
#include "changes.h"
#include "journal.h"
#include "kinds.h"
#include "prom.h"
#include "robj.h"
#include "tables.h"
#include "tsv.h"

/* The API the caches below list: {"region": [objects]}, for the kind
 * being tested. */
static json_t *api;
static const struct kind *kind;

static int load_list(void *ud, const char *region, void *ctx, void ***items,
		     size_t *n, struct cache_note *note)
{
	(void)note;
	json_t *a = json_object_get(api, region), *o;
	size_t i;

	(void)ud;
	(void)ctx;
	if (!a)
		return -ENOENT;
	*items = calloc(json_array_size(a) + 1, sizeof **items);
	*n = 0;
	json_array_foreach(a, i, o)
		(*items)[(*n)++] = robj_new(kind, o);
	return 0;
}

static int load_one(void *ud, const char *region, const char *id, void *ctx,
		    void **out, struct cache_note *note)
{
	(void)note;
	(void)ud;
	(void)region;
	(void)id;
	(void)ctx;
	(void)out;
	return -ENOENT;
}

static struct cache *mk(void)
{
	struct cache_conf conf;
	struct cache_ops ops = {
		.load_list = load_list, .load_one = load_one,
		.values = {robj_hold_v, robj_release_v, robj_equal_v,
			   robj_size_v, robj_id_v},
	};
	struct cache *c;

	cache_conf_default(&conf);
	conf.ttl = 0;                /* every cache_list loads again */
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	return c;
}

/* The listing of region r now: a reference in *it. */
static const struct cache_listing *listing(struct cache *c, const char *r,
					   struct cache_item *it)
{
	assert_int_equal(cache_list(c, r, NULL, NULL, it), 0);
	return it->list;
}

#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"
#define ID3 "33333333-3333-4333-8333-333333333333"
#define POP "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"

static json_t *conn(const char *id, const char *name, const char *status)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:[s,s], s:s, s:{s:i,s:i},"
			 " s:s, s:s}",
			 "id", id, "name", name, "status", status,
			 "bandwidth_mbps", (json_int_t)10000,
			 "demarcation_info", "rack 4\tport 2\nback\\slash\r",
			 "tags", "a", "b=c", "pop_id", POP,
			 "vlan_range", "start", 1500, "end", 1599,
			 "region", "fr-par", "x_unknown", "kept");
}

static void test_a_field_is_escaped_and_recoverable(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)st;
	tsv_put(f, "a\\b\tc\nd\re", 9);
	fclose(f);
	assert_string_equal(buf, "a\\\\b\\tc\\nd\\re");
	free(buf);
}

static void test_tsv_table(void **st)
{
	struct cache *c;
	struct cache_item a, b;
	const struct cache_listing *lists[3];
	const char *regions[] = {"fr-par", "nl-ams", "pl-waw"};
	json_t *bad = conn(ID3, "bad", "active");
	char *out;
	size_t len;

	(void)st;
	kind = kind_get(K_CONN);
	json_object_set_new(bad, "bandwidth_mbps", json_string("many"));
	api = json_pack("{s:[o,o], s:[o]}", "fr-par",
			conn(ID1, "par\t1", "active"),
			conn(ID2, "par-2", "down"), "nl-ams", bad);
	c = mk();
	lists[0] = listing(c, "fr-par", &a);
	lists[1] = listing(c, "nl-ams", &b);
	lists[2] = NULL;                  /* not served: no rows */
	assert_int_equal(table_render(kind, TABLE_TSV, regions, lists, 3,
				      &out, &len), 0);
	assert_string_equal(out,
		/* The object's own region is not a second column: the
		 * first is the region it is under. */
		"region\tid\tname\tstatus\tbandwidth_mbps\tdemarcation_info\t"
		"tags\tpop_id\tproject_id\torganization_id\t"
		"available_link_bandwidths\tcreated_at\tupdated_at\t"
		"vlan_range\n"
		"fr-par\t" ID1 "\tpar\\t1\tactive\t10000\t"
		"rack 4\\tport 2\\nback\\\\slash\\r\ta\\nb=c\t" POP
		"\t\t\t\t\t\t1500-1599\n"
		"fr-par\t" ID2 "\tpar-2\tdown\t10000\t"
		"rack 4\\tport 2\\nback\\\\slash\\r\ta\\nb=c\t" POP
		"\t\t\t\t\t\t1500-1599\n"
		"nl-ams\t" ID3 "\tbad\tactive\t\\N\t"
		"rack 4\\tport 2\\nback\\\\slash\\r\ta\\nb=c\t" POP
		"\t\t\t\t\t\t1500-1599\n");
	assert_int_equal(len, strlen(out));
	free(out);
	/* The JSON: every object as the API sent it, unknown fields
	 * included, region after region. */
	assert_int_equal(table_render(kind, TABLE_JSON, regions, lists, 3,
				      &out, &len), 0);
	{
		json_error_t e;
		json_t *got = json_loads(out, 0, &e), *want = json_array();
		assert_non_null(got);
		json_array_extend(want, json_object_get(api, "fr-par"));
		json_array_extend(want, json_object_get(api, "nl-ams"));
		assert_true(json_equal(got, want));
		json_decref(got);
		json_decref(want);
	}
	free(out);
	/* No object at all: a header alone, an empty array. */
	lists[0] = lists[1] = NULL;
	assert_int_equal(table_render(kind, TABLE_TSV, regions, lists, 3,
				      &out, &len), 0);
	assert_int_equal(strchr(out, '\n') - out + 1, (long)len);
	free(out);
	assert_int_equal(table_render(kind, TABLE_JSON, regions, lists, 3,
				      &out, &len), 0);
	assert_string_equal(out, "[]\n");
	free(out);
	cache_item_release(c, &a);
	cache_item_release(c, &b);
	cache_free(c);
	json_decref(api);
}

/* The journal's whole text. */
static char *journal_text(struct journal *j)
{
	uint64_t size = journal_size(j, NULL);
	char *buf = calloc(1, size + 1);

	assert_non_null(buf);
	assert_int_equal(journal_read(j, 0, buf, size), size);
	return buf;
}

static void test_journal_lines(void **st)
{
	struct timespec t0 = {0, 0}, t = {1764700867, 123456789};
	struct cache *c;
	struct cache_item it;
	struct journal *j;
	struct changes *ch;
	json_t *a;
	char *text;

	(void)st;
	kind = kind_get(K_CONN);
	api = json_pack("{s:[o,o]}", "fr-par", conn(ID1, "par-1", "active"),
			conn(ID2, "par-2", "active"));
	c = mk();
	assert_int_equal(journal_new(100, &t0, &j), 0);
	assert_int_equal(changes_new(2, j, NULL, &ch), 0);
	/* The first listing is not a change; the same again neither. */
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par",
					listing(c, "fr-par", &it), &t, 0), 0);
	cache_item_release(c, &it);
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par",
					listing(c, "fr-par", &it), &t, 0), 0);
	cache_item_release(c, &it);
	assert_int_equal(journal_size(j, NULL), 0);
	/* One changes status and name, one goes, one comes. */
	a = json_object_get(api, "fr-par");
	json_array_set_new(a, 0, conn(ID1, "par\t1\n", "failed"));
	json_array_remove(a, 1);
	json_array_append_new(a, conn(ID3, "par-3", "created"));
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par",
					listing(c, "fr-par", &it), &t, 0), 0);
	cache_item_release(c, &it);
	text = journal_text(j);
	assert_string_equal(text,
		"2025-12-02T18:41:07.123Z\tfr-par\tconnections\t" ID1
		"\tname\tpar-1\tpar\\t1\\n\n"
		"2025-12-02T18:41:07.123Z\tfr-par\tconnections\t" ID1
		"\tstatus\tactive\tfailed\n"
		"2025-12-02T18:41:07.123Z\tfr-par\tconnections\t" ID3
		"\t+\tpar-3\tpar-3\n"
		"2025-12-02T18:41:07.123Z\tfr-par\tconnections\t" ID2
		"\t-\tpar-2\tpar-2\n");
	free(text);
	changes_free(ch);
	journal_free(j);
	cache_free(c);
	json_decref(api);
}

/* What the hook was given, in order. */
static struct {
	int calls;
	bool listing[8];
	size_t len[8];
	uint64_t off[8], size[8];
	double born[8];
} hooked;
static struct journal *hooked_j;

static void hook(void *ud, const struct kind *k, uint32_t r,
		 const struct cache_listing *l, double born, const char *text,
		 size_t len, uint64_t off)
{
	int i = hooked.calls++;

	(void)ud, (void)k, (void)r, (void)text;
	assert_true(i < 8);
	hooked.listing[i] = l != NULL;
	hooked.len[i] = len;
	hooked.off[i] = off;
	hooked.born[i] = born;
	/* Before readers see it. */
	hooked.size[i] = journal_size(hooked_j, NULL);
}

static void test_journal_hook_and_seed(void **st)
{
	struct timespec t0 = {0, 0}, t = {1764700867, 123456789};
	struct changes_hook h = {hook, NULL};
	struct cache_item a, b, c2;
	struct cache_sight sg = {0};
	struct cache *c;
	struct journal *j;
	struct changes *ch;
	char *text;

	(void)st;
	memset(&hooked, 0, sizeof hooked);
	kind = kind_get(K_CONN);
	api = json_pack("{s:[o]}", "fr-par", conn(ID1, "par-1", "active"));
	c = mk();
	assert_int_equal(journal_new(100, &t0, &j), 0);
	hooked_j = j;
	assert_int_equal(changes_new(2, j, &h, &ch), 0);
	/* An earlier run's listing, last seen at 1764700000.5. */
	listing(c, "fr-par", &a);
	assert_int_equal(changes_seed(ch, kind, 0, a.list, 1764700000.5), 0);
	assert_int_equal(changes_seed(ch, kind, 0, a.list, 1), -EEXIST);
	/* The first after it: what changed, after the line that says
	 * when. */
	json_array_set_new(json_object_get(api, "fr-par"), 0,
			   conn(ID1, "par-1", "failed"));
	listing(c, "fr-par", &b);
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par", b.list, &t,
					1764700860.25), 0);
	text = journal_text(j);
	assert_string_equal(text,
		"# fr-par connections: changed between 2025-12-02T18:26:40.500Z "
		"and 2025-12-02T18:41:00.250Z, while interlinkfs was stopped\n"
		"2025-12-02T18:41:07.123Z\tfr-par\tconnections\t" ID1
		"\tstatus\tactive\tfailed\n");
	assert_int_equal(hooked.calls, 1);
	assert_true(hooked.listing[0] && hooked.born[0] == 1764700860.25);
	assert_int_equal(hooked.off[0], 0);
	assert_int_equal(hooked.size[0], 0);
	assert_int_equal(hooked.len[0], strlen(text));
	/* An older listing than the last: nothing. */
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par", a.list, &t, 0),
			 0);
	assert_int_equal(hooked.calls, 1);
	/* The next change has no such line; its batch begins at the end. */
	json_array_set_new(json_object_get(api, "fr-par"), 0,
			   conn(ID1, "par-1", "active"));
	listing(c, "fr-par", &c2);
	assert_int_equal(changes_listed(ch, kind, 0, "fr-par", c2.list, &t, 0),
			 0);
	assert_int_equal(hooked.calls, 2);
	assert_int_equal(hooked.off[1], strlen(text));
	assert_int_equal(hooked.size[1], strlen(text));
	free(text);
	/* A line of sight, and a sync, go through it too. */
	sg.state = CACHE_STALE;
	sg.trouble = sg.loaded = true;
	sg.last_rc = -ECONNREFUSED;
	strcpy(sg.why, "Connection refused");
	assert_int_equal(changes_sight(ch, kind, 0, "fr-par", &sg, 0, &t), 0);
	changes_sync(ch);
	assert_int_equal(hooked.calls, 4);
	assert_false(hooked.listing[2] || hooked.listing[3]);
	assert_true(hooked.len[2] > 0 && hooked.len[3] == 0);
	/* Not seen since the earlier run saw it (no sight was fresh). */
	text = journal_text(j);
	assert_non_null(strstr(text, "# fr-par connections: not seen since "
			       "2025-12-02T18:26:40.500Z: Connection refused\n"));
	free(text);
	cache_item_release(c, &a);
	cache_item_release(c, &b);
	cache_item_release(c, &c2);
	changes_free(ch);
	journal_free(j);
	cache_free(c);
	json_decref(api);
}

static json_t *link(const char *id, const char *name, const char *status,
		    const char *v4)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:{s:s}}",
			 "id", id, "name", name, "status", status,
			 "bgp_v4_status", v4, "bgp_v6_status", "disabled",
			 "bandwidth_mbps", (json_int_t)500, "pop_id", POP,
			 "self", "connection_id", ID3);
}

/* Whether text holds line. */
static bool has(const char *text, const char *line)
{
	const char *p = strstr(text, line);
	size_t n = strlen(line);

	return p && (p == text || p[-1] == '\n') && p[n] == '\n';
}

static void test_prometheus(void **st)
{
	struct cache *c;
	struct cache_item it;
	struct prom_listing ls[3];
	const char *regions[] = {"fr-par", "nl-ams"};
	char *out;
	size_t len;

	(void)st;
	kind = kind_get(K_LINK);
	api = json_pack("{s:[o,o]}", "fr-par",
			link(ID1, "a \"b\"\\c\nd", "active", "down"),
			link(ID2, "odd", "rebooting", "up"));
	c = mk();
	memset(ls, 0, sizeof ls);
	ls[0].kind = K_LINK;
	ls[0].region = 0;
	ls[0].list = listing(c, "fr-par", &it);
	cache_sight(c, "fr-par", &ls[0].sight);
	/* With ttl 0, a listing is fresh for CACHE_FRESH_FLOOR. */
	assert_int_equal(ls[0].sight.state, CACHE_FRESH);
	/* A listing that failed and was never held. */
	ls[1].kind = K_CONN;
	ls[1].region = 1;
	ls[1].sight.loaded = true;
	ls[1].sight.last_rc = -ECONNREFUSED;
	ls[1].sight.state = CACHE_BLIND;
	assert_int_equal(prom_render(regions, ls, 2, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	assert_true(has(out, "interlink_up{region=\"fr-par\",kind=\"links\"} 1"));
	assert_true(has(out, "interlink_up{region=\"nl-ams\",kind="
			"\"connections\"} 0"));
	assert_true(strstr(out, "interlink_listing_age_seconds{region=\""
			   "fr-par\",kind=\"links\"} "));
	assert_null(strstr(out, "interlink_listing_age_seconds{region=\""
			   "nl-ams\""));
#define L1 "region=\"fr-par\",id=\"" ID1 "\""
	/* Descriptive labels on the info series alone: a rename moves no
	 * state series. */
	assert_true(has(out, "interlink_link_info{" L1 ",name=\"a \\\"b\\\"\\\\c"
			"\\nd\",connection_id=\"" ID3 "\",partner_id=\"\",pop_id=\""
			POP "\"} 1"));
	assert_true(has(out, "interlink_listing_state{region=\"nl-ams\",kind="
			"\"connections\",state=\"blind\"} 1"));
	assert_true(has(out, "interlink_listing_state{region=\"fr-par\",kind="
			"\"links\",state=\"fresh\"} 1"));
	assert_true(has(out, "interlink_link_bgp_status{" L1
			",family=\"ipv4\",status=\"down\"} 1"));
	assert_true(has(out, "interlink_link_bgp_status{" L1
			",family=\"ipv4\",status=\"up\"} 0"));
	assert_true(has(out, "interlink_link_bgp_status{" L1
			",family=\"ipv6\",status=\"disabled\"} 1"));
	assert_true(has(out, "interlink_link_status{" L1
			",status=\"active\"} 1"));
	assert_true(has(out, "interlink_link_status{" L1
			",status=\"all_down\"} 0"));
	assert_true(has(out, "interlink_link_bandwidth_mbps{" L1 "} 500"));
	/* A status the API does not document is a series of its own. */
	assert_true(strstr(out, ",status=\"rebooting\"} 1\n"));
	/* Every family declared once. */
	assert_int_equal(strstr(strstr(out, "# TYPE interlink_link_bgp_status")
				+ 1, "# TYPE interlink_link_bgp_status"), NULL);
	free(out);
	cache_item_release(c, &it);
	cache_free(c);
	json_decref(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_field_is_escaped_and_recoverable),
		cmocka_unit_test(test_tsv_table),
		cmocka_unit_test(test_journal_lines),
		cmocka_unit_test(test_journal_hook_and_seed),
		cmocka_unit_test(test_prometheus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
