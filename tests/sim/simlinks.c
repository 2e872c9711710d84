/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simlinks: the generated partners, routing policies and links of a
 * region, consistent with its connections and PoPs: a self-hosted link
 * sits on a connection, in its PoP, with a VLAN inside the connection's
 * vlan_range and a bandwidth it supports; a hosted link points at a
 * partner; a link's routing policies are of its family. The first links
 * carry every awkward case: both self and partner, neither, null BGP
 * configs, a disapproved_reason, the deprecated routing_policy_id, and
 * the names of the connections.
 */
#include "simdata_i.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *email, *portal;
} partner_names[] = {
	{"Free Pro", "interlink@free-pro.example", "https://portal.example/free"},
	{"Jaguar Network", NULL, "https://portal.example/jaguar"},
	{"Zayo \xe2\x80\x93 \xc3\x89quipe Paris", "noc@zayo.example", NULL},
	{"Partner/with slash", "ops@slash.example",
	 "https://portal.example/slash"},
};

#define NPARTNERS (sizeof partner_names / sizeof *partner_names)

static const char *const link_statuses[] = {
	"configuring", "failed", "requested", "refused", "expired",
	"provisioning", "limited_connectivity", "all_down", "deprovisioning",
	"deleted", "locked", "ready", "unknown_link_status",
};

static const char *const link_kinds[] = {"link", "uplink", "vpc", "peer",
					 "lab"};
static const char *const rp_kinds[] = {"policy", "filter", "default", "in",
				       "out"};

static int64_t when(uint64_t *rng, int64_t from, unsigned days)
{
	return from + (int64_t)(sim_rng(rng) % (days * 86400u));
}

static void times(json_t *o, uint64_t *rng, unsigned i, bool null_update)
{
	char c[40], u[40];
	int64_t ct = when(rng, 1672531200, 700), ut = when(rng, ct, 300);

	sim_fmt_time(c, sizeof c, ct, i % 3, (unsigned)sim_rng(rng));
	sim_fmt_time(u, sizeof u, ut, (i + 2) % 3, (unsigned)sim_rng(rng));
	json_object_set_new(o, "created_at", json_string(c));
	json_object_set_new(o, "updated_at",
			    null_update ? json_null() : json_string(u));
}

static json_t *make_partner(uint64_t *rng, unsigned j)
{
	char id[37];
	json_t *p;

	sim_uuid(rng, id);
	p = json_pack("{s:s, s:s}", "id", id, "name", partner_names[j].name);
	json_object_set_new(p, "contact_email", partner_names[j].email ?
			    json_string(partner_names[j].email) : json_null());
	json_object_set_new(p, "logo_url", json_sprintf(
		"https://logos.example/partner-%u.png", j));
	json_object_set_new(p, "portal_url", partner_names[j].portal ?
			    json_string(partner_names[j].portal) : json_null());
	times(p, rng, j, j == 1);
	return p;
}

/* CIDRs of one family. */
static json_t *prefixes(unsigned k, bool v6, unsigned n)
{
	json_t *a = json_array();

	for (unsigned x = 0; x < n; x++)
		json_array_append_new(a, v6 ?
			json_sprintf("2001:db8:%x:%x::/64", k, x) :
			json_sprintf("10.%u.%u.0/24", k % 250, x));
	return a;
}

static json_t *make_policy(uint64_t *rng, const char *region, unsigned k,
			   char projects[3][37], char orgs[2][37])
{
	char id[37], name[400];
	bool v6 = k % 2 == 1;
	json_t *p = json_object();

	sim_uuid(rng, id);
	sim_gen_name(name, sizeof name, region, k, rp_kinds);
	json_object_set_new(p, "id", json_string(id));
	json_object_set_new(p, "project_id", json_string(projects[k % 3]));
	json_object_set_new(p, "organization_id",
			    json_string(orgs[k % 3 == 2 ? 1 : 0]));
	json_object_set_new(p, "name", json_string(name));
	json_object_set_new(p, "tags", sim_tags(k));
	json_object_set_new(p, "prefix_filter_in",
			    prefixes(k, v6, 1 + k % 3));
	json_object_set_new(p, "prefix_filter_out", k % 5 == 4 ? json_array()
			    : prefixes(k + 100, v6, 1 + k % 2));
	json_object_set_new(p, "is_ipv6", json_boolean(v6));
	times(p, rng, k, false);
	json_object_set_new(p, "region", json_string(region));
	return p;
}

/* A BGP config: {"asn", "ipv4", "ipv6"}; the peer's side of the /31 and
 * /127 when peer. */
static json_t *bgp(unsigned i, bool peer)
{
	return json_pack("{s:i, s:o, s:o}",
			 "asn", peer ? 64512 + (int)(i % 1000) : 12876,
			 "ipv4", json_sprintf("169.254.%u.%u/31", i / 128 % 256,
					      i % 128 * 2 + peer),
			 "ipv6", json_sprintf("fd00:%x::%x/127", i,
					      peer ? 3 : 2));
}

static const char *bgp_status(unsigned i, bool v6)
{
	if (v6)
		return i % 11 == 5 ? "down" : i % 7 == 2 ? "disabled" : "up";
	return i % 9 == 4 ? "down" : i % 13 == 6 ? "disabled" :
	       i % 17 == 8 ? "unknown_bgp_status" : "up";
}

/* The connection a self-hosted link i sits on: one with a VLAN range,
 * or NULL. */
static const json_t *carrier(const struct region *r, unsigned i)
{
	size_t n = json_array_size(r->items[SC_CONNS]);

	for (size_t k = 0; k < n; k++) {
		const json_t *c = json_array_get(r->items[SC_CONNS],
						 (i + k) % n);
		if (json_is_object(json_object_get(c, "vlan_range")))
			return c;
	}
	return NULL;
}

/* self (on connection c, VLAN in its range, one of its link sizes). */
static void self_hosted(json_t *l, const json_t *c, uint64_t *rng)
{
	const json_t *vr = json_object_get(c, "vlan_range");
	json_int_t a = json_integer_value(json_object_get(vr, "start"));
	json_int_t b = json_integer_value(json_object_get(vr, "end"));
	const json_t *sizes = json_object_get(c, "available_link_bandwidths");
	size_t ns = json_array_size(sizes);

	json_object_set_new(l, "self", json_pack(
		"{s:O}", "connection_id", json_object_get(c, "id")));
	json_object_set(l, "pop_id", json_object_get(c, "pop_id"));
	json_object_set_new(l, "vlan", json_integer(
		a + (json_int_t)(sim_rng(rng) % (uint64_t)(b - a + 1))));
	json_object_set_new(l, "bandwidth_mbps", ns ?
		json_incref(json_array_get(sizes, sim_rng(rng) % ns)) :
		json_integer(100));
}

/* partner (j, at one of the region's PoPs). */
static void hosted(json_t *l, const struct region *r, unsigned i,
		   uint64_t *rng)
{
	const json_t *pa = json_array_get(r->items[SC_PARTNERS],
					  i % NPARTNERS);
	const json_t *pop = json_array_get(r->items[SC_POPS],
					   (i / 4) % json_array_size(
						   r->items[SC_POPS]));
	char key[17];

	snprintf(key, sizeof key, "%016llx",
		 (unsigned long long)sim_rng(rng));
	json_object_set_new(l, "partner", json_pack(
		"{s:O, s:s, s:o}", "partner_id", json_object_get(pa, "id"),
		"pairing_key", key, "disapproved_reason", i % 8 == 7 ?
		json_string("VLAN already in use on the partner's port") :
		json_null()));
	if (!json_object_get(l, "pop_id"))
		json_object_set(l, "pop_id", json_object_get(pop, "id"));
	if (!json_object_get(l, "vlan"))
		json_object_set_new(l, "vlan", json_integer(
			1500 + (json_int_t)(sim_rng(rng) % 2400)));
	if (!json_object_get(l, "bandwidth_mbps"))
		json_object_set_new(l, "bandwidth_mbps", json_integer(
			(json_int_t[]){100, 200, 500, 1000}[i % 4]));
}

/* A policy of the family (v6 or not) for link i, or null. */
static json_t *policy(const struct region *r, unsigned i, bool v6)
{
	size_t n = json_array_size(r->items[SC_RPS]);

	for (size_t k = 0; k < n; k++) {
		const json_t *p = json_array_get(r->items[SC_RPS], (i + k) % n);
		if (json_is_true(json_object_get(p, "is_ipv6")) == v6)
			return json_incref(json_object_get(p, "id"));
	}
	return json_null();
}

static void routing(json_t *l, const struct region *r, unsigned i,
		    const char *vpc)
{
	json_object_set_new(l, "vpc_id", i % 5 == 0 ? json_null() :
			    json_string(vpc));
	json_object_set_new(l, "routing_policy_v4_id", i % 3 == 2 ?
			    json_null() : policy(r, i, false));
	json_object_set_new(l, "routing_policy_v6_id", i % 4 == 1 ?
			    policy(r, i, true) : json_null());
	/* The deprecated member, on some links only. */
	if (i % 6 == 0)
		json_object_set(l, "routing_policy_id",
				json_object_get(l, "routing_policy_v4_id"));
	json_object_set_new(l, "enable_route_propagation",
			    json_boolean(i % 2 == 0));
}

static json_t *make_link(const struct region *r, uint64_t *rng, unsigned i,
			 char projects[3][37], char orgs[2][37],
			 char vpcs[3][37])
{
	char id[37], name[400];
	const json_t *c = carrier(r, i);
	json_t *l = json_object();
	/* 0: both self and partner; 1: neither; every 4th: hosted. */
	bool self = c && i != 1 && i % 4 != 3;
	bool partner = i != 1 && (i == 0 || !self);

	sim_uuid(rng, id);
	sim_gen_name(name, sizeof name, r->name, i, link_kinds);
	json_object_set_new(l, "id", json_string(id));
	json_object_set_new(l, "project_id", json_string(projects[i % 3]));
	json_object_set_new(l, "organization_id",
			    json_string(orgs[i % 3 == 2 ? 1 : 0]));
	json_object_set_new(l, "name", json_string(name));
	json_object_set_new(l, "tags", sim_tags(i + 1));
	json_object_set_new(l, "status", json_string(i % 10 < 7 ? "active" :
		link_statuses[(i / 10 * 3 + i % 10) % 13]));
	json_object_set_new(l, "bgp_v4_status",
			    json_string(bgp_status(i, false)));
	json_object_set_new(l, "bgp_v6_status",
			    json_string(bgp_status(i, true)));
	if (self)
		self_hosted(l, c, rng);
	if (partner)
		hosted(l, r, i, rng);
	if (!self && !partner) {
		json_object_set(l, "pop_id", json_object_get(json_array_get(
			r->items[SC_POPS], 0), "id"));
		json_object_set_new(l, "vlan", json_integer(1500 + i % 2400));
		json_object_set_new(l, "bandwidth_mbps", json_integer(50));
	}
	routing(l, r, i, vpcs[i % 3]);
	json_object_set_new(l, "scw_bgp_config", i == 2 ? json_null() :
			    bgp(i, false));
	json_object_set_new(l, "peer_bgp_config",
			    i == 2 || i % 10 == 5 ? json_null() : bgp(i, true));
	times(l, rng, i, i % 7 == 3);
	json_object_set_new(l, "region", json_string(r->name));
	return l;
}

void sim_gen_links(struct region *r, uint64_t *rng, char projects[3][37],
		   char orgs[2][37])
{
	size_t n = json_array_size(r->items[SC_CONNS]);
	char vpcs[3][37];

	for (unsigned k = 0; k < 3; k++)
		sim_uuid(rng, vpcs[k]);
	for (unsigned j = 0; j < NPARTNERS; j++)
		json_array_append_new(r->items[SC_PARTNERS],
				      make_partner(rng, j));
	for (unsigned k = 0; k < 4 + n / 25; k++)
		json_array_append_new(r->items[SC_RPS],
				      make_policy(rng, r->name, k, projects,
						  orgs));
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(r->items[SC_LINKS],
				      make_link(r, rng, i, projects, orgs, vpcs));
}
