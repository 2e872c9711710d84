/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: the bytes of .interlinkfs/prometheus/interlink.prom, InterLink's
 * state in the Prometheus text exposition format, for node_exporter's
 * textfile collector (kube-state-metrics is the model: identity labels on
 * state series, descriptive ones on *_info series joined by id):
 *
 *   interlink_up{region,kind}                  1: that listing is fresh
 *                                              (cache.h's sight); 0: not
 *   interlink_listing_state{region,kind,state} 1 for its sight (fresh,
 *                                              stale, blind, unserved,
 *                                              unloaded), 0 for others
 *   interlink_listing_age_seconds{region,kind} since the API made it
 *   interlink_listing_objects{region,kind}     objects in it
 *   interlink_connection_info{region,id,name,pop_id}             1
 *   interlink_link_info{region,id,name,connection_id,partner_id,pop_id} 1
 *   interlink_connection_status{region,id,status}  1 for the status the
 *   interlink_link_status{region,id,status}        object has, 0 for
 *   interlink_link_bgp_status{region,id,family,status}  every other the
 *                                              API documents
 *   interlink_connection_bandwidth_mbps{region,id}  gauges
 *   interlink_link_bandwidth_mbps{region,id}
 *
 * A status the API does not document is a series of its own, set to 1; a
 * status that cannot be read (a field of the wrong type) is
 * status="unreadable" at 1, a null one status="none" at 1: a state never
 * goes unseen, and a state set is never all zeros. A bandwidth that cannot
 * be read is NaN. The objects of a listing older than stale are not
 * exported (their listing's series say why).
 *
 * Pure: the caller gathers the listings and their sight. Thread-safe.
 */
#ifndef INTERLINKFS_PROM_H
#define INTERLINKFS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "kinds.h"

/* The kinds whose objects have series (the rest have interlink_up and
 * the age only). */
bool prom_kind_has_series(enum kind_id k);

/* One region's listing of one kind, as the cache sees it. */
struct prom_listing {
	enum kind_id kind;
	uint32_t region;
	struct cache_sight sight;
	const struct cache_listing *list;   /* borrowed; NULL: none held, or
					     * too old to export */
};

/*
 * The file's bytes from n listings (each kind and region once): 0 with
 * *out (malloc'ed, the caller frees) and *len, or -ENOMEM.
 */
int prom_render(const char *const *regions, const struct prom_listing *ls,
		size_t n, char **out, size_t *len);

/* Writes s (len bytes) as a label value: \ " and newline escaped. */
void prom_label_value(FILE *f, const char *s, size_t len);

#endif
