/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: InterLink's state as Prometheus series.
 */
#include "prom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robj.h"

/* A state set: one series per documented value of a file. */
struct state_def {
	enum kind_id kind;
	const char *name;
	const char *file;
	const char *family;          /* a "family" label, or NULL */
	const char *help;
};

/* Series of one name come one after the other. */
static const struct state_def states[] = {
	{K_CONN, "interlink_connection_status", "status", NULL,
	 "A dedicated connection's status: 1 for the one it has"},
	{K_LINK, "interlink_link_status", "status", NULL,
	 "A link's status: 1 for the one it has"},
	{K_LINK, "interlink_link_bgp_status", "bgp_v4_status", "ipv4",
	 "A link's BGP session status, per address family: 1 for the one it "
	 "has"},
	{K_LINK, "interlink_link_bgp_status", "bgp_v6_status", "ipv6", NULL},
};

struct gauge_def {
	enum kind_id kind;
	const char *name;
	const char *file;
	const char *help;
};

static const struct gauge_def gauges[] = {
	{K_CONN, "interlink_connection_bandwidth_mbps", "bandwidth_mbps",
	 "A dedicated connection's bandwidth, in Mbps"},
	{K_LINK, "interlink_link_bandwidth_mbps", "bandwidth_mbps",
	 "A link's bandwidth, in Mbps"},
};

/* The descriptive labels of a kind's *_info series, after region, id and
 * name: files of the object. A rename changes these, never a state
 * series. */
struct info_def {
	enum kind_id kind;
	const char *name;
	const char *const *labels;
	const char *help;
};

static const char *const conn_labels[] = {"pop_id", NULL};
static const char *const link_labels[] = {
	"connection_id", "partner_id", "pop_id", NULL,
};

static const struct info_def infos[] = {
	{K_CONN, "interlink_connection_info", conn_labels,
	 "A dedicated connection's name and what it hangs on (always 1; join "
	 "on region and id)"},
	{K_LINK, "interlink_link_info", link_labels,
	 "A link's name and what it hangs on (always 1; join on region and "
	 "id)"},
};

#define NINFOS (sizeof infos / sizeof *infos)

bool prom_kind_has_series(enum kind_id k)
{
	for (size_t i = 0; i < NINFOS; i++)
		if (infos[i].kind == k)
			return true;
	return false;
}

void prom_label_value(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default: fputc(s[i], f);
		}
	}
}

/* A file's value less its final newline: NULL when the kind has no such
 * file, or when it cannot be read (then *unreadable). */
static const char *value(const struct robj *o, const char *file,
			 size_t *len, bool *unreadable)
{
	const struct kind *k = robj_kind(o);
	int i = kind_file(k, file);
	struct robj_bytes b;

	*unreadable = false;
	if (i < 0)
		return NULL;
	if (robj_file(o, (unsigned)i, &b)) {
		*unreadable = true;
		return NULL;
	}
	*len = b.len;
	if (!b.nl && *len > 0 && b.p[*len - 1] == '\n')
		(*len)--;
	return b.p;
}

static void label(FILE *f, const char *name, const char *v, size_t len,
		  bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	prom_label_value(f, v, len);
	fputc('"', f);
}

/* "region=...,id=..." of object o: what identifies it, and never moves. */
static void identity(FILE *f, const char *region, const struct robj *o)
{
	label(f, "region", region, strlen(region), true);
	label(f, "id", robj_id(o), strlen(robj_id(o)), false);
}

static void header(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* One series of a state set: status v at on. */
static void state_one(FILE *f, const struct state_def *d, const char *region,
		      const struct robj *o, const char *v, size_t len, bool on)
{
	fprintf(f, "%s{", d->name);
	identity(f, region, o);
	if (d->family)
		label(f, "family", d->family, strlen(d->family), false);
	label(f, "status", v, len, false);
	fprintf(f, "} %d\n", on);
}

static void state_series(FILE *f, const struct state_def *d,
			 const char *region, const struct robj *o)
{
	const struct kind *k = robj_kind(o);
	const char *const *values = k->files[kind_file(k, d->file)].values;
	size_t len = 0;
	bool unreadable, known = false;
	const char *cur = value(o, d->file, &len, &unreadable);

	for (const char *const *v = values; v && *v; v++) {
		bool on = cur && strlen(*v) == len && !memcmp(*v, cur, len);
		known |= on;
		state_one(f, d, region, o, *v, strlen(*v), on);
	}
	/* Never all zeros: what the object has is always at 1. */
	if (unreadable)
		state_one(f, d, region, o, "unreadable", 10, true);
	else if (cur && !len)
		state_one(f, d, region, o, "none", 4, true);
	else if (cur && !known)
		state_one(f, d, region, o, cur, len, true);
}

static void gauge_series(FILE *f, const struct gauge_def *d,
			 const char *region, const struct robj *o)
{
	size_t len = 0;
	bool unreadable;
	const char *v = value(o, d->file, &len, &unreadable);

	if (!unreadable && (!v || !len))
		return;
	fprintf(f, "%s{", d->name);
	identity(f, region, o);
	if (unreadable)
		fputs("} NaN\n", f);
	else
		fprintf(f, "} %.*s\n", (int)len, v);
}

static void info_series(FILE *f, const struct info_def *d,
			const char *region, const struct robj *o)
{
	const char *v;
	size_t len = 0;
	bool unreadable;

	fprintf(f, "%s{", d->name);
	identity(f, region, o);
	if (robj_name(o, &v, &len)) {
		v = "";
		len = 0;
	}
	label(f, "name", v, len, false);
	for (const char *const *l = d->labels; *l; l++) {
		len = 0;
		if (!(v = value(o, *l, &len, &unreadable)))
			len = 0;
		label(f, *l, v ? v : "", len, false);
	}
	fputs("} 1\n", f);
}

/* The series of one listing's sight: up, state, age, objects. */
static void listing_head(FILE *f, const char *name, const char *region,
			 const struct prom_listing *l)
{
	const char *kind = kind_get(l->kind)->dir;

	fprintf(f, "%s{", name);
	label(f, "region", region, strlen(region), true);
	label(f, "kind", kind, strlen(kind), false);
}

static void listing_series(FILE *f, const char *const *regions,
			   const struct prom_listing *ls, size_t n)
{
	header(f, "interlink_up", "Whether a region's listing of a kind is "
	       "fresh: its last refresh succeeded, complete, and its data is "
	       "younger than ttl, or than ttl+grace while a refresh is under way "
	       "(0: what is shown of it is old or missing)");
	for (size_t i = 0; i < n; i++)
		if (ls[i].sight.state != CACHE_UNLOADED) {
			listing_head(f, "interlink_up", regions[ls[i].region],
				     &ls[i]);
			fprintf(f, "} %d\n",
				ls[i].sight.state == CACHE_FRESH);
		}
	header(f, "interlink_listing_state", "How well a region's listing of "
	       "a kind is seen: 1 for its state (fresh, stale, blind, unserved, "
	       "unloaded)");
	for (size_t i = 0; i < n; i++)
		for (int st = CACHE_UNLOADED; st <= CACHE_UNSERVED; st++) {
			listing_head(f, "interlink_listing_state",
				     regions[ls[i].region], &ls[i]);
			label(f, "state", cache_sight_name(st),
			      strlen(cache_sight_name(st)), false);
			fprintf(f, "} %d\n", ls[i].sight.state ==
				(enum cache_sight_state)st);
		}
	header(f, "interlink_listing_age_seconds", "Seconds since the API made "
	       "the data of a region's listing of a kind (its own clock, "
	       "through any cache)");
	for (size_t i = 0; i < n; i++)
		if (ls[i].sight.held) {
			listing_head(f, "interlink_listing_age_seconds",
				     regions[ls[i].region], &ls[i]);
			fprintf(f, "} %.3f\n", ls[i].sight.age);
		}
	header(f, "interlink_listing_objects", "Objects in a region's listing "
	       "of a kind");
	for (size_t i = 0; i < n; i++)
		if (ls[i].sight.held) {
			listing_head(f, "interlink_listing_objects",
				     regions[ls[i].region], &ls[i]);
			fprintf(f, "} %zu\n", ls[i].sight.objects);
		}
}

/* A walk over the objects of one kind across the listings. */
struct walk {
	size_t li, oi;
	uint32_t region;             /* of the object returned last */
};

static const struct robj *next_object(const struct prom_listing *ls,
				      size_t n, enum kind_id k,
				      struct walk *w)
{
	for (; w->li < n; w->li++, w->oi = 0) {
		if (ls[w->li].kind != k || !ls[w->li].list ||
		    w->oi >= cache_listing_size(ls[w->li].list))
			continue;
		w->region = ls[w->li].region;
		return cache_listing_value(ls[w->li].list, w->oi++);
	}
	return NULL;
}

int prom_render(const char *const *regions, const struct prom_listing *ls,
		size_t n, char **out, size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	size_t ns = sizeof states / sizeof *states;

	if (!f)
		return -ENOMEM;
	listing_series(f, regions, ls, n);
	for (size_t d = 0; d < NINFOS; d++) {
		struct walk w = {0};
		const struct robj *o;

		header(f, infos[d].name, infos[d].help);
		while ((o = next_object(ls, n, infos[d].kind, &w)))
			info_series(f, &infos[d], regions[w.region], o);
	}
	for (size_t d = 0; d < ns; d++) {
		size_t e = d;
		/* The definitions of one name: d .. e. */
		while (e + 1 < ns && !strcmp(states[e + 1].name, states[d].name))
			e++;
		struct walk w = {0};
		const struct robj *o;

		header(f, states[d].name, states[d].help);
		while ((o = next_object(ls, n, states[d].kind, &w)))
			for (size_t x = d; x <= e; x++)
				state_series(f, &states[x],
					     regions[w.region], o);
		d = e;
	}
	for (size_t d = 0; d < sizeof gauges / sizeof *gauges; d++) {
		struct walk w = {0};
		const struct robj *o;

		header(f, gauges[d].name, gauges[d].help);
		while ((o = next_object(ls, n, gauges[d].kind, &w)))
			gauge_series(f, &gauges[d], regions[w.region], o);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
