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

/* The labels of a kind's series, after region, id and name: files. */
static const char *const conn_labels[] = {"pop_id", NULL};
static const char *const link_labels[] = {
	"connection_id", "partner_id", "pop_id", NULL,
};

static const char *const *labels_of(enum kind_id k)
{
	return k == K_CONN ? conn_labels : k == K_LINK ? link_labels : NULL;
}

bool prom_kind_has_series(enum kind_id k)
{
	return labels_of(k) != NULL;
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

/* A file's value less its final newline (NULL when it cannot be read). */
static const char *value(const struct robj *o, const char *file,
			 size_t *len)
{
	const struct kind *k = robj_kind(o);
	int i = kind_file(k, file);
	struct robj_bytes b;

	if (i < 0 || robj_file(o, (unsigned)i, &b))
		return NULL;
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

/* "region=...,id=...,name=...,..." of object o. */
static void object_labels(FILE *f, const char *region, const struct robj *o)
{
	const char *const *ls = labels_of(robj_kind(o)->id);
	const char *v;
	size_t len = 0;

	label(f, "region", region, strlen(region), true);
	label(f, "id", robj_id(o), strlen(robj_id(o)), false);
	if (robj_name(o, &v, &len)) {
		v = "";
		len = 0;
	}
	label(f, "name", v, len, false);
	for (; ls && *ls; ls++) {
		len = 0;
		if (!(v = value(o, *ls, &len))) {
			v = "";
			len = 0;
		}
		label(f, *ls, v, len, false);
	}
}

static void header(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void state_series(FILE *f, const struct state_def *d,
			 const char *region, const struct robj *o)
{
	const struct kind *k = robj_kind(o);
	const char *const *values = k->files[kind_file(k, d->file)].values;
	size_t len = 0;
	const char *cur = value(o, d->file, &len);
	bool known = false;

	for (const char *const *v = values; v && *v; v++) {
		bool on = cur && strlen(*v) == len && !memcmp(*v, cur, len);
		known |= on;
		fprintf(f, "%s{", d->name);
		object_labels(f, region, o);
		if (d->family)
			label(f, "family", d->family, strlen(d->family), false);
		label(f, "status", *v, strlen(*v), false);
		fprintf(f, "} %d\n", on);
	}
	if (cur && len && !known) {
		fprintf(f, "%s{", d->name);
		object_labels(f, region, o);
		if (d->family)
			label(f, "family", d->family, strlen(d->family), false);
		label(f, "status", cur, len, false);
		fputs("} 1\n", f);
	}
}

static void gauge_series(FILE *f, const struct gauge_def *d,
			 const char *region, const struct robj *o)
{
	size_t len = 0;
	const char *v = value(o, d->file, &len);

	if (!v || !len)
		return;
	fprintf(f, "%s{", d->name);
	object_labels(f, region, o);
	fprintf(f, "} %.*s\n", (int)len, v);
}

/* The listings' states: interlink_up and the ages. */
static void listing_series(FILE *f, const char *const *regions,
			   const struct prom_listing *ls, size_t n)
{
	header(f, "interlink_up", "Whether the last load of a region's "
	       "listing of a kind succeeded (0: it failed or none ended yet; "
	       "what is shown of it is then old or missing)");
	for (size_t i = 0; i < n; i++) {
		const char *r = regions[ls[i].region];
		fputs("interlink_up{", f);
		label(f, "region", r, strlen(r), true);
		label(f, "kind", kind_get(ls[i].kind)->dir,
		      strlen(kind_get(ls[i].kind)->dir), false);
		fprintf(f, "} %d\n", ls[i].state.loaded &&
			ls[i].state.last_rc == 0);
	}
	header(f, "interlink_listing_age_seconds", "Seconds since a region's "
	       "listing of a kind was last loaded");
	for (size_t i = 0; i < n; i++) {
		const char *r = regions[ls[i].region];
		if (!ls[i].state.held)
			continue;
		fputs("interlink_listing_age_seconds{", f);
		label(f, "region", r, strlen(r), true);
		label(f, "kind", kind_get(ls[i].kind)->dir,
		      strlen(kind_get(ls[i].kind)->dir), false);
		fprintf(f, "} %.3f\n", ls[i].state.age);
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
