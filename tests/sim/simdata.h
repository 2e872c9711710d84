/*
 * simdata: the InterLink data that interlink-sim serves, and the pure request
 * logic (query validation, filters, ordering, pagination) behind its endpoints.
 *
 * Nothing here does I/O or locking: interlink-sim holds one mutex around every
 * call. Returned json_t values are new references owned by the caller.
 */
#ifndef SIMDATA_H
#define SIMDATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct simdata;

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

/*
 * Generate N connections per region (regions_csv: "fr-par,nl-ams"), fully
 * determined by seed. Returns 0 or -errno.
 */
int simdata_generate(struct simdata **out, const char *regions_csv,
		     unsigned n_per_region, uint64_t seed);

/*
 * Load connections from a JSON file: either {"REGION": [conn, ...], ...} or
 * an array of connections (each placed in its "region", default fr-par).
 * Optionally "pops" at the top level of the object form:
 * {"regions": {...}, "pops": {"REGION": [pop, ...]}}.
 * On error returns -errno and writes a message to err.
 */
int simdata_load(struct simdata **out, const char *path, char *err,
		 size_t errlen);

void simdata_free(struct simdata *d);

/* Is region known (exists in the data)? */
int simdata_has_region(const struct simdata *d, const char *region);

/* GET .../dedicated-connections?query */
struct sim_reply simdata_list(const struct simdata *d, const char *region,
			      const struct sim_kv *q, size_t nq,
			      unsigned max_page_size);
/* GET .../dedicated-connections/{id} */
struct sim_reply simdata_get(const struct simdata *d, const char *region,
			     const char *id);
/* GET .../pops?query */
struct sim_reply simdata_pops(const struct simdata *d, const char *region,
			      const struct sim_kv *q, size_t nq,
			      unsigned max_page_size);
/* GET .../pops/{id} */
struct sim_reply simdata_pop(const struct simdata *d, const char *region,
			     const char *id);

/* Test controls. Each returns 0 or -ENOENT / -EINVAL / -EEXIST. */
int simdata_patch(struct simdata *d, const char *region, const char *id,
		  json_t *fields /* borrowed object */);
int simdata_delete(struct simdata *d, const char *region, const char *id);
/* Adds conn (borrowed; copied). An id is generated if it has none. The new
 * id is written to idbuf. */
int simdata_add(struct simdata *d, const char *region, json_t *conn,
		char *idbuf, size_t idlen);

/* Every region with its connections and pops: {"REGION": {"connections":
 * [...], "pops": [...]}}. A deep copy: later changes do not show in it. New reference. */
json_t *simdata_dump(const struct simdata *d);

/* Error bodies shaped like the real API's. New references. */
json_t *simdata_error_body(const char *type, const char *message,
			   const char *resource, const char *resource_id);

#endif
