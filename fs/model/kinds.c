/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kinds: the table of what interlinkfs shows.
 */
#include "kinds.h"

#include <string.h>

#include "field.h"
#include "filter.h"

/* The enums of the API's documentation. */
static const char *const link_statuses[] = {
	"unknown_link_status", "configuring", "failed", "requested",
	"refused", "expired", "provisioning", "active",
	"limited_connectivity", "all_down", "deprovisioning", "deleted",
	"locked", "ready", NULL,
};

static const char *const bgp_statuses[] = {
	"unknown_bgp_status", "up", "down", "disabled", NULL,
};

static const struct file_def conn_files[] = {
	{"id", RH_STR, "id", NULL},
	{"name", RH_STR, "name", NULL},
	{"status", RH_STR, "status", filter_statuses},
	{"bandwidth_mbps", RH_UINT, "bandwidth_mbps", NULL},
	{"demarcation_info", RH_STR, "demarcation_info", NULL},
	{"tags", RH_STRS, "tags", NULL},
	{"pop_id", RH_STR, "pop_id", NULL},
	{"project_id", RH_STR, "project_id", NULL},
	{"organization_id", RH_STR, "organization_id", NULL},
	{"available_link_bandwidths", RH_UINTS, "available_link_bandwidths", NULL},
	{"created_at", RH_STR, "created_at", NULL},
	{"updated_at", RH_STR, "updated_at", NULL},
	{"vlan_range", RH_RANGE, "vlan_range", NULL},
	{"region", RH_STR, "region", NULL},
	{"connection.json", RH_JSON, NULL, NULL},
};

static const struct link_def conn_links[] = {
	{"pop", "../../pops/", "pop_id"},
};

static const struct file_def pop_files[] = {
	{"id", RH_STR, "id", NULL},
	{"name", RH_STR, "name", NULL},
	{"display_name", RH_STR, "display_name", NULL},
	{"city", RH_STR, "city", NULL},
	{"address", RH_STR, "address", NULL},
	{"hosting_provider_name", RH_STR, "hosting_provider_name", NULL},
	{"available_link_bandwidths_mbps", RH_UINTS,
	 "available_link_bandwidths_mbps", NULL},
	{"region", RH_STR, "region", NULL},
	{"pop.json", RH_JSON, NULL, NULL},
};

static const struct subdir_def conn_subdirs[] = {
	/* Link 0 of a link is "connection". */
	{"links", K_LINK, 0, "../../../links/"},
};

static const struct file_def link_files[] = {
	{"id", RH_STR, "id", NULL},
	{"name", RH_STR, "name", NULL},
	{"status", RH_STR, "status", link_statuses},
	{"bgp_v4_status", RH_STR, "bgp_v4_status", bgp_statuses},
	{"bgp_v6_status", RH_STR, "bgp_v6_status", bgp_statuses},
	{"kind", RH_ONE_OF, "self=self_hosted partner=hosted", NULL},
	{"vlan", RH_UINT, "vlan", NULL},
	{"bandwidth_mbps", RH_UINT, "bandwidth_mbps", NULL},
	{"pop_id", RH_STR, "pop_id", NULL},
	{"vpc_id", RH_STR, "vpc_id", NULL},
	{"enable_route_propagation", RH_BOOL, "enable_route_propagation", NULL},
	{"routing_policy_v4_id", RH_STR, "routing_policy_v4_id", NULL},
	{"routing_policy_v6_id", RH_STR, "routing_policy_v6_id", NULL},
	{"connection_id", RH_STR, "self.connection_id", NULL},
	{"partner_id", RH_STR, "partner.partner_id", NULL},
	{"pairing_key", RH_STR, "partner.pairing_key", NULL},
	{"disapproved_reason", RH_STR, "partner.disapproved_reason", NULL},
	{"scw_bgp_asn", RH_UINT, "scw_bgp_config.asn", NULL},
	{"scw_bgp_ipv4", RH_STR, "scw_bgp_config.ipv4", NULL},
	{"scw_bgp_ipv6", RH_STR, "scw_bgp_config.ipv6", NULL},
	{"peer_bgp_asn", RH_UINT, "peer_bgp_config.asn", NULL},
	{"peer_bgp_ipv4", RH_STR, "peer_bgp_config.ipv4", NULL},
	{"peer_bgp_ipv6", RH_STR, "peer_bgp_config.ipv6", NULL},
	{"tags", RH_STRS, "tags", NULL},
	{"project_id", RH_STR, "project_id", NULL},
	{"organization_id", RH_STR, "organization_id", NULL},
	{"created_at", RH_STR, "created_at", NULL},
	{"updated_at", RH_STR, "updated_at", NULL},
	{"region", RH_STR, "region", NULL},
	{"link.json", RH_JSON, NULL, NULL},
};

static const struct link_def link_links[] = {
	{"connection", "../../connections/", "self.connection_id"},
	{"partner", "../../partners/", "partner.partner_id"},
	{"pop", "../../pops/", "pop_id"},
	{"routing_policy_v4", "../../routing-policies/", "routing_policy_v4_id"},
	{"routing_policy_v6", "../../routing-policies/", "routing_policy_v6_id"},
};

static const struct file_def partner_files[] = {
	{"id", RH_STR, "id", NULL},
	{"name", RH_STR, "name", NULL},
	{"contact_email", RH_STR, "contact_email", NULL},
	{"portal_url", RH_STR, "portal_url", NULL},
	{"logo_url", RH_STR, "logo_url", NULL},
	{"created_at", RH_STR, "created_at", NULL},
	{"updated_at", RH_STR, "updated_at", NULL},
	{"partner.json", RH_JSON, NULL, NULL},
};

static const struct file_def rp_files[] = {
	{"id", RH_STR, "id", NULL},
	{"name", RH_STR, "name", NULL},
	{"is_ipv6", RH_BOOL, "is_ipv6", NULL},
	{"prefix_filter_in", RH_STRS, "prefix_filter_in", NULL},
	{"prefix_filter_out", RH_STRS, "prefix_filter_out", NULL},
	{"tags", RH_STRS, "tags", NULL},
	{"project_id", RH_STR, "project_id", NULL},
	{"organization_id", RH_STR, "organization_id", NULL},
	{"created_at", RH_STR, "created_at", NULL},
	{"updated_at", RH_STR, "updated_at", NULL},
	{"region", RH_STR, "region", NULL},
	{"routing_policy.json", RH_JSON, NULL, NULL},
};

#define N(a) (sizeof a / sizeof *a)

static const struct kind kinds[K_COUNT] = {
	[K_CONN] = {
		.id = K_CONN, .dir = "connections", .singular = "connection",
		.api = {.path = "dedicated-connections", .key = "connections"},
		.files = conn_files, .nfiles = N(conn_files),
		.links = conn_links, .nlinks = N(conn_links),
		.subdirs = conn_subdirs, .nsubdirs = N(conn_subdirs),
		.byname = "by-name", .byname_in_dir = false,
		.byname_target = "../connections/",
		.fresh = FRESH_TTL,
		.filters = FILTER_PROJECT | FILTER_ORGANIZATION | FILTER_NAME |
			   FILTER_STATUS | FILTER_BANDWIDTH | FILTER_POP |
			   FILTER_TAGS,
		/* Pages of a list ordered by creation do not shift when
		 * objects are renamed (the API's default is by name). */
		.order_by = "created_at_asc",
	},
	[K_POP] = {
		.id = K_POP, .dir = "pops", .singular = "PoP",
		.api = {.path = "pops", .key = "pops"},
		.files = pop_files, .nfiles = N(pop_files),
		.fresh = FRESH_CATALOG,
		.probe = true,
	},
	[K_LINK] = {
		.id = K_LINK, .dir = "links", .singular = "link",
		.api = {.path = "links", .key = "links"},
		.files = link_files, .nfiles = N(link_files),
		.links = link_links, .nlinks = N(link_links),
		.byname = "by-name", .byname_in_dir = true,
		.byname_target = "../",
		.fresh = FRESH_TTL,
		.filters = FILTER_PROJECT | FILTER_ORGANIZATION,
		.order_by = "created_at_asc",
	},
	[K_PARTNER] = {
		.id = K_PARTNER, .dir = "partners", .singular = "partner",
		.api = {.path = "partners", .key = "partners"},
		.files = partner_files, .nfiles = N(partner_files),
		.fresh = FRESH_CATALOG,
	},
	[K_RP] = {
		.id = K_RP, .dir = "routing-policies",
		.singular = "routing policy",
		.api = {.path = "routing-policies", .key = "routing_policies"},
		.files = rp_files, .nfiles = N(rp_files),
		.byname = "by-name", .byname_in_dir = true,
		.byname_target = "../",
		.fresh = FRESH_TTL,
		.filters = FILTER_PROJECT | FILTER_ORGANIZATION,
		.order_by = "created_at_asc",
	},
};

const struct kind *kind_get(enum kind_id id)
{
	return &kinds[id];
}

const struct kind *kind_by_dir(const char *dir)
{
	for (int k = 0; k < K_COUNT; k++)
		if (strcmp(kinds[k].dir, dir) == 0)
			return &kinds[k];
	return NULL;
}

const struct kind *kind_by_region_byname(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (kinds[k].byname && !kinds[k].byname_in_dir &&
		    strcmp(kinds[k].byname, name) == 0)
			return &kinds[k];
	return NULL;
}

int kind_file(const struct kind *k, const char *name)
{
	for (unsigned i = 0; i < k->nfiles; i++)
		if (strcmp(k->files[i].name, name) == 0)
			return (int)i;
	return -1;
}

int kind_link(const struct kind *k, const char *name)
{
	for (unsigned i = 0; i < k->nlinks; i++)
		if (strcmp(k->links[i].name, name) == 0)
			return (int)i;
	return -1;
}

int kind_subdir(const struct kind *k, const char *name)
{
	for (unsigned i = 0; i < k->nsubdirs; i++)
		if (strcmp(k->subdirs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int kind_subdir_of(const struct kind *k, enum kind_id child)
{
	for (unsigned i = 0; i < k->nsubdirs; i++)
		if (k->subdirs[i].kind == child)
			return (int)i;
	return -1;
}

const struct subdir_def *kind_subdir_for(enum kind_id parent,
					 enum kind_id child)
{
	int s = kind_subdir_of(&kinds[parent], child);

	return s >= 0 ? &kinds[parent].subdirs[s] : NULL;
}

const struct kind *kind_probe(void)
{
	for (int k = 0; k < K_COUNT; k++)
		if (kinds[k].probe)
			return &kinds[k];
	return &kinds[0];
}

void kind_filters(const struct kind *k, const struct api_filters *f,
		  struct api_filters *out)
{
	memset(out, 0, sizeof *out);
	if (k->filters & FILTER_PROJECT)
		out->project_id = f->project_id;
	if (k->filters & FILTER_ORGANIZATION)
		out->organization_id = f->organization_id;
	if (k->filters & FILTER_NAME)
		out->name = f->name;
	if (k->filters & FILTER_STATUS)
		out->status = f->status;
	if (k->filters & FILTER_BANDWIDTH)
		out->bandwidth_mbps = f->bandwidth_mbps;
	if (k->filters & FILTER_POP)
		out->pop_id = f->pop_id;
	if (k->filters & FILTER_TAGS) {
		out->tags = f->tags;
		out->ntags = f->ntags;
	}
	out->order_by = k->order_by;
}
