/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simcoll: the names of the simulator's collections: the path of their
 * endpoints, the key of their list answers, the resource their 404s name,
 * and what counters and fault matches call their endpoints.
 */
#include "simdata_i.h"

#include <string.h>

static const struct {
	const char *path, *key, *resource, *list_name, *get_name;
} names[SC_COUNT] = {
	[SC_CONNS] = {"dedicated-connections", "connections",
		      "dedicated_connection", "list", "get"},
	[SC_POPS] = {"pops", "pops", "pop", "pops_list", "pop_get"},
	[SC_LINKS] = {"links", "links", "link", "links_list", "link_get"},
	[SC_PARTNERS] = {"partners", "partners", "partner", "partners_list",
			 "partner_get"},
	[SC_RPS] = {"routing-policies", "routing_policies", "routing_policy",
		    "routing_policies_list", "routing_policy_get"},
};

const char *simdata_path(enum sim_coll c) { return names[c].path; }
const char *simdata_key(enum sim_coll c) { return names[c].key; }
const char *simdata_resource(enum sim_coll c) { return names[c].resource; }
const char *simdata_list_name(enum sim_coll c) { return names[c].list_name; }
const char *simdata_get_name(enum sim_coll c) { return names[c].get_name; }

int simdata_coll_of_path(const char *s)
{
	for (int c = 0; c < SC_COUNT; c++)
		if (strcmp(s, names[c].path) == 0)
			return c;
	return -1;
}

int simdata_coll_of_key(const char *s)
{
	for (int c = 0; c < SC_COUNT; c++)
		if (strcmp(s, names[c].key) == 0)
			return c;
	return -1;
}
