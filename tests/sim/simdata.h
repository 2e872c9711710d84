/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simdata: the InterLink data that interlink-sim serves, and the pure request
 * logic (query validation, filters, ordering, pagination) behind its endpoints.
 *
 * Every kind of object the simulator serves is a collection with a list and
 * a get endpoint under /interlink/v1beta1/regions/{region}/. Nothing here
 * does I/O or locking: interlink-sim holds one mutex around every call.
 * Returned json_t values are new references owned by the caller.
 */
#ifndef SIMDATA_H
#define SIMDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct simdata;

/* The collections, in the order of their endpoints' names. */
enum sim_coll {
	SC_CONNS,        /* dedicated-connections, "connections" */
	SC_POPS,         /* pops */
	SC_LINKS,        /* links */
	SC_PARTNERS,     /* partners */
	SC_RPS,          /* routing-policies, "routing_policies" */
	SC_COUNT,
};

/* One query parameter as it arrived (repeated keys appear repeatedly). */
struct sim_kv {
	const char *key;
	const char *value; /* may be NULL for "?key" without '=' */
};

/* The answer to one API request: an HTTP status and a JSON body. */
struct sim_reply {
	int status;
	json_t *body; /* new reference */
};

/* Names of a collection: the path segment of its endpoints
 * ("dedicated-connections"), the key of its list answers ("connections"),
 * the resource named by its 404 bodies ("dedicated_connection"), and the
 * names its list and get endpoints have in counters and fault matches
 * ("list", "get"; "pops_list", "pop_get"; "links_list", "link_get" ...).
 * Pure (simcoll.c). */
const char *simdata_path(enum sim_coll c);
const char *simdata_key(enum sim_coll c);
const char *simdata_resource(enum sim_coll c);
const char *simdata_list_name(enum sim_coll c);
const char *simdata_get_name(enum sim_coll c);

/* The collection whose path segment, or whose list key, is s; -1 if none. */
int simdata_coll_of_path(const char *s);
int simdata_coll_of_key(const char *s);

/*
 * Generate N connections per region (regions_csv: "fr-par,nl-ams") and what
 * goes with them, fully determined by seed. Returns 0 or -errno.
 */
int simdata_generate(struct simdata **out, const char *regions_csv,
		     unsigned n_per_region, uint64_t seed);

/*
 * Load data from a JSON file: either {"REGION": [conn, ...], ...}, an array
 * of connections (each placed in its "region", default fr-par), or
 * {"regions": {"REGION": [conn, ...]}, "pops": {"REGION": [pop, ...]},
 * "links": {...}, "partners": {...}, "routing_policies": {...}} (every
 * member but "regions" optional). On error returns -errno and writes a
 * message to err.
 */
int simdata_load(struct simdata **out, const char *path, char *err,
		 size_t errlen);

void simdata_free(struct simdata *d);

/* How the name= filter of the lists matches: part of the name, as its case
 * is (exact false: the default), or the whole name (exact true), as some
 * readings of the API's documentation ("name to filter for") would have
 * it. */
void simdata_set_exact_names(struct simdata *d, bool exact);

/* GET .../{path}?query: one page of a list. */
struct sim_reply simdata_list(const struct simdata *d, enum sim_coll c,
			      const char *region, const struct sim_kv *q,
			      size_t nq, unsigned max_page_size);
/* GET .../{path}/{id} */
struct sim_reply simdata_get(const struct simdata *d, enum sim_coll c,
			     const char *region, const char *id);

/* Test controls. Each returns 0 or -ENOENT / -EINVAL / -EEXIST. */
int simdata_patch(struct simdata *d, enum sim_coll c, const char *region,
		  const char *id, json_t *fields /* borrowed object */);
int simdata_delete(struct simdata *d, enum sim_coll c, const char *region,
		   const char *id);
/* Adds obj (borrowed; copied). An id is generated if it has none. The new
 * id is written to idbuf. */
int simdata_add(struct simdata *d, enum sim_coll c, const char *region,
		json_t *obj, char *idbuf, size_t idlen);

/* Every region with its collections: {"REGION": {"connections": [...],
 * "pops": [...], "links": [...], ...}} (by list key). A deep copy: later
 * changes do not show in it. New reference. */
json_t *simdata_dump(const struct simdata *d);

/* Error bodies shaped like the real API's. New references. */
json_t *simdata_error_body(const char *type, const char *message,
			   const char *resource, const char *resource_id);

#endif
