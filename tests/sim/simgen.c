/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simgen: the data interlink-sim generates from a seed. Deterministic: the
 * same seed gives the same bytes. The first objects of every region carry
 * every awkward case a client must survive.
 */
#include "simdata_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const statuses[] = {
	"unknown_status", "created", "configuring", "failed",
	"active", "disabled", "deleted", "locked",
};

static const struct {
	const char *name, *display, *provider, *city, *address;
} known_pops[] = {
	{"DC2", "DC2 - Vitry-sur-Seine", "Scaleway", "Paris",
	 "61 rue Julian Grimau, 94400 Vitry-sur-Seine"},
	{"DC3", "DC3 - Vitry-sur-Seine", "Scaleway", "Paris",
	 "8 rue de la Fraternite, 94400 Vitry-sur-Seine"},
	{"TH2", "TH2 - Telehouse 2", "Telehouse", "Paris",
	 "137 boulevard Voltaire, 75011 Paris"},
};

static json_t *make_pop(uint64_t *rng, const char *region, unsigned i)
{
	char id[37], name[64], display[128];
	const char *provider, *city, *address;
	json_t *bw = json_array();

	sim_uuid(rng, id);
	if (strcmp(region, "fr-par") == 0 && i < 3) {
		snprintf(name, sizeof name, "%s", known_pops[i].name);
		snprintf(display, sizeof display, "%s", known_pops[i].display);
		provider = known_pops[i].provider;
		city = known_pops[i].city;
		address = known_pops[i].address;
	} else {
		snprintf(name, sizeof name, "%.2s%c%u", region + 3,
			 'A' + (char)(i % 26), i + 1);
		for (char *p = name; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		snprintf(display, sizeof display, "%s - %s campus %u", name,
			 region, i + 1);
		provider = i % 2 ? "Equinix" : "Data4";
		city = region;
		address = "1 Datacenter Way";
	}
	for (unsigned k = 0; k < 4 + i % 3; k++)
		json_array_append_new(bw, json_integer(
			(json_int_t[]){50, 100, 200, 500, 1000, 10000, 100000}[k]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
			 "id", id, "name", name, "hosting_provider_name",
			 provider, "address", address, "city", city,
			 "logo_url", "https://example.invalid/logo.png",
			 "available_link_bandwidths_mbps", bw,
			 "display_name", display, "region", region);
}

static const char *const conn_kinds[] = {"transit", "backbone", "peering",
					 "backup", "lab"};

/* Link sizes this connection supports: some of those up to its own. */
static json_t *conn_link_sizes(unsigned i, json_int_t bw)
{
	static const json_int_t links[] = {50, 100, 200, 300, 400, 500, 1000,
					   2000, 5000, 10000, 25000, 50000,
					   100000};
	json_t *avail = json_array();

	for (size_t k = 0; k < sizeof links / sizeof links[0]; k++)
		if (links[k] <= bw && (k + i) % 2 == 0)
			json_array_append_new(avail, json_integer(links[k]));
	return avail;
}

/* Multi-line, one-line, or null. */
static json_t *conn_demarcation(unsigned i, const json_t *pop)
{
	switch (i % 5) {
	case 0:
		return json_sprintf(
			"Facility: %s, room 2.%u\nCabinet: C-%02u\n"
			"Patch panel: PP-%u port %u\nMedia: 10GBASE-LR SMF LC",
			json_string_value(json_object_get(pop, "name")),
			i % 4, i % 40, i % 8, i % 48 + 1);
	case 2:
		return json_null();
	default:
		return json_sprintf("Cabinet C-%02u, PP-%u port %u, LC duplex",
				    i % 40, i % 8, i % 48 + 1);
	}
}

/* Both ends included, inside 1500..3899, or null. */
static json_t *conn_vlan_range(uint64_t *rng, unsigned i)
{
	json_int_t start, end;

	if (i % 6 == 4)
		return json_null();
	start = 1500 + (json_int_t)(sim_rng(rng) % 1000);
	end = start + (json_int_t)(sim_rng(rng) % 500);
	return json_pack("{s:I, s:I}", "start", start, "end", end);
}

/* Fields a client may meet: informational, or not known to it at all. */
static void conn_extras(json_t *c, const char *region, const char *id,
			unsigned i)
{
	if (i % 3 == 0)
		json_object_set_new(c, "srn", json_sprintf(
			"srn:scw:interlink:%s:dedicated-connection/%s", region,
			id));
	if (i % 4 == 1)
		json_object_set_new(c, "x_sim_future_field", json_pack(
			"{s:s, s:[i, f, n, b]}", "note", "a field no client "
			"knows", "values", 1, 2.5, 1));
}

static json_t *make_conn(uint64_t *rng, const char *region, unsigned i,
			 char projects[3][37], char orgs[2][37],
			 json_t *pops)
{
	static const json_int_t bws[] = {1000, 10000, 100000, 2000, 5000,
					 25000, 50000};
	char id[37], name[400], created[40], updated[40];
	json_t *c;
	int64_t t0 = 1672531200; /* 2023-01-01T00:00:00Z */
	int64_t ct, ut;
	unsigned p = i % 3, st;
	json_int_t bw = bws[i % 7];
	const json_t *pop = json_array_get(pops, i % json_array_size(pops));

	sim_uuid(rng, id);
	sim_gen_name(name, sizeof name, region, i, conn_kinds);
	ct = t0 + (int64_t)(sim_rng(rng) % (2u * 365 * 86400));
	ut = ct + (int64_t)(sim_rng(rng) % (365u * 86400));
	sim_fmt_time(created, sizeof created, ct, i % 3,
		     (unsigned)sim_rng(rng));
	sim_fmt_time(updated, sizeof updated, ut, (i + 1) % 3,
		 (unsigned)sim_rng(rng));

	/* Mostly active, every status present among the first 30. */
	st = i % 10 < 6 ? 4 : (unsigned[]){2, 1, 3, 5, 6, 7, 0, 2, 4, 3}
		[(i / 10 * 4 + i % 10 - 6) % 10];

	c = json_object();
	json_object_set_new(c, "id", json_string(id));
	json_object_set_new(c, "project_id", json_string(projects[p]));
	json_object_set_new(c, "organization_id",
			    json_string(orgs[p == 2 ? 1 : 0]));
	json_object_set_new(c, "status", json_string(statuses[st]));
	json_object_set_new(c, "name", json_string(name));
	json_object_set_new(c, "tags", sim_tags(i));
	json_object_set(c, "pop_id", json_object_get(pop, "id"));
	json_object_set_new(c, "bandwidth_mbps", json_integer(bw));
	json_object_set_new(c, "available_link_bandwidths",
			    conn_link_sizes(i, bw));
	json_object_set_new(c, "created_at", json_string(created));
	json_object_set_new(c, "updated_at",
			    i % 7 == 3 ? json_null() : json_string(updated));
	json_object_set_new(c, "demarcation_info", conn_demarcation(i, pop));
	json_object_set_new(c, "vlan_range", conn_vlan_range(rng, i));
	json_object_set_new(c, "region", json_string(region));
	conn_extras(c, region, id, i);
	return c;
}

int simdata_generate(struct simdata **out, const char *regions_csv,
		     unsigned n, uint64_t seed)
{
	struct simdata *d = calloc(1, sizeof *d);
	char *list = NULL, *save = NULL, *tok;
	char projects[3][37], orgs[2][37];
	uint64_t acct = seed ^ 0xacc0u;

	if (!d)
		return -ENOMEM;
	d->idstate = seed ^ 0x1d5eedULL;
	for (int k = 0; k < 3; k++)
		sim_uuid(&acct, projects[k]);
	for (int k = 0; k < 2; k++)
		sim_uuid(&acct, orgs[k]);
	list = strdup(regions_csv);
	if (!list)
		goto fail;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct region *r;
		uint64_t rng = seed * 0x100000001b3ULL ^ sim_hash(tok);

		if (!*tok || sim_region(d, tok))
			continue;
		r = sim_region_add(d, tok);
		if (!r)
			goto fail;
		for (unsigned k = 0; k < 3; k++)
			json_array_append_new(r->items[SC_POPS],
					      make_pop(&rng, tok, k));
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(r->items[SC_CONNS],
				make_conn(&rng, tok, i, projects, orgs,
					  r->items[SC_POPS]));
		/* A stream of their own: the connections stay what they
		 * were before links existed. */
		rng = seed * 0x100000001b3ULL ^ sim_hash(tok) ^ 0x11c5ULL;
		sim_gen_links(r, &rng, projects, orgs);
	}
	free(list);
	*out = d;
	return 0;
fail:
	free(list);
	simdata_free(d);
	return -ENOMEM;
}

