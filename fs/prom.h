/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: the bytes of .interlinkfs/prometheus/interlink.prom, InterLink's
 * state in the Prometheus text exposition format, for node_exporter's
 * textfile collector (kube-state-metrics is the model):
 *
 *   interlink_up{region,kind}                  1: the last load of that
 *                                              listing succeeded; 0: it
 *                                              failed, or none ended yet
 *   interlink_listing_age_seconds{region,kind} since it was loaded
 *   interlink_connection_status{...,status}    1 for the status the
 *   interlink_link_status{...,status}          object has, 0 for every
 *   interlink_link_bgp_status{...,family,status} other the API documents
 *   interlink_connection_bandwidth_mbps{...}   gauges
 *   interlink_link_bandwidth_mbps{...}
 *
 * Per-object series carry region, id and name, and the ids of what the
 * object hangs on (pop_id; a link's connection_id, partner_id). A status
 * the API does not document is a series of its own, set to 1, so a state
 * never goes unseen.
 *
 * Pure: the caller gathers the listings and their states. Thread-safe.
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

/* One region's listing of one kind, as the cache knows it. */
struct prom_listing {
	enum kind_id kind;
	uint32_t region;
	struct cache_listing_state state;
	const struct cache_listing *list;   /* borrowed; NULL: none held */
};

/*
 * The file's bytes from n listings (each kind and region once, those the
 * cache never heard of left out): 0 with *out (malloc'ed, the caller
 * frees) and *len, or -ENOMEM.
 */
int prom_render(const char *const *regions, const struct prom_listing *ls,
		size_t n, char **out, size_t *len);

/* Writes s (len bytes) as a label value: \ " and newline escaped. */
void prom_label_value(FILE *f, const char *s, size_t len);

#endif
