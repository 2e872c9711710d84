/*
 * kinds: the table of what interlinkfs shows.
 */
#include "kinds.h"

#include <string.h>

#include "conn.h"

static const struct file_def conn_files[] = {
	{"id", RH_STR, "id"},
	{"name", RH_STR, "name"},
	{"status", RH_STR, "status"},
	{"bandwidth_mbps", RH_UINT, "bandwidth_mbps"},
	{"demarcation_info", RH_STR, "demarcation_info"},
	{"tags", RH_STRS, "tags"},
	{"pop_id", RH_STR, "pop_id"},
	{"project_id", RH_STR, "project_id"},
	{"organization_id", RH_STR, "organization_id"},
	{"available_link_bandwidths", RH_UINTS, "available_link_bandwidths"},
	{"created_at", RH_STR, "created_at"},
	{"updated_at", RH_STR, "updated_at"},
	{"vlan_range", RH_RANGE, "vlan_range"},
	{"region", RH_STR, "region"},
	{"connection.json", RH_JSON, NULL},
};

static const struct link_def conn_links[] = {
	{"pop", "../../pops/", "pop_id"},
};

static const struct file_def pop_files[] = {
	{"name", RH_STR, "name"},
	{"display_name", RH_STR, "display_name"},
	{"city", RH_STR, "city"},
	{"address", RH_STR, "address"},
	{"hosting_provider_name", RH_STR, "hosting_provider_name"},
	{"available_link_bandwidths_mbps", RH_UINTS,
	 "available_link_bandwidths_mbps"},
	{"region", RH_STR, "region"},
	{"pop.json", RH_JSON, NULL},
};

#define N(a) (sizeof a / sizeof *a)

static const struct kind kinds[K_COUNT] = {
	[K_CONN] = {
		.id = K_CONN, .dir = "connections", .singular = "connection",
		.api = {.path = "dedicated-connections", .key = "connections",
			.check = conn_check},
		.files = conn_files, .nfiles = N(conn_files),
		.links = conn_links, .nlinks = N(conn_links),
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
