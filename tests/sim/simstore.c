/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simstore: the simulator's regions and collections, loading a data file,
 * the test controls that change data, and small helpers the other simdata
 * files share.
 */
#include "simdata_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t sim_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_uuid(uint64_t *s, char out[37])
{
	uint64_t a = sim_rng(s), b = sim_rng(s);
	a = (a & ~0xf000ULL) | 0x4000ULL;                 /* version 4 */
	b = (b & ~(3ULL << 62)) | (2ULL << 62);           /* RFC 4122 variant */
	snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64
		 "-%04" PRIx64 "-%012" PRIx64,
		 a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
		 b & (uint64_t)0xffffffffffffULL);
}

uint64_t sim_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Digits read by hand: sorting large lists parses many of them. */
double sim_time(const json_t *v)
{
	const char *s = json_string_value(v), *p;
	struct tm tm;
	double frac = 0, scale = 0.1;
	int off = 0;

	if (!s || strlen(s) < 20)
		return -1;
	for (int i = 0; i < 19; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? 0 :
		    (i == 13 || i == 16) ? s[i] != ':' :
		    (s[i] < '0' || s[i] > '9'))
			return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = two(s) * 100 + two(s + 2) - 1900;
	tm.tm_mon = two(s + 5) - 1;
	tm.tm_mday = two(s + 8);
	tm.tm_hour = two(s + 11);
	tm.tm_min = two(s + 14);
	tm.tm_sec = two(s + 17);
	p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if ((*p == '+' || *p == '-') && strlen(p) == 6)
		off = (two(p + 1) * 3600 + two(p + 4) * 60) * (*p == '+' ? 1 : -1);
	return (double)timegm(&tm) - off + frac;
}

bool sim_is_uuid(const char *s)
{
	static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');
		if (pat[i] == '-' ? c != '-' : !hex)
			return false;
	}
	return true;
}

json_t *sim_find(json_t *arr, const char *id, size_t *idx)
{
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c) {
		const char *s = json_string_value(json_object_get(c, "id"));
		if (s && strcmp(s, id) == 0) {
			if (idx)
				*idx = i;
			return c;
		}
	}
	return NULL;
}

void sim_memo_clear(struct sim_memo *m)
{
	free(m->key);
	json_decref(m->list);
	memset(m, 0, sizeof *m);
}

struct region *sim_region(const struct simdata *d, const char *name)
{
	for (size_t i = 0; i < d->nregions; i++)
		if (strcmp(d->regions[i].name, name) == 0)
			return &d->regions[i];
	return NULL;
}

struct region *sim_region_add(struct simdata *d, const char *name)
{
	struct region *r = sim_region(d, name), *nr;
	bool ok;

	if (r)
		return r;
	nr = realloc(d->regions, (d->nregions + 1) * sizeof *nr);
	if (!nr)
		return NULL;
	d->regions = nr;
	r = &nr[d->nregions];
	memset(r, 0, sizeof *r);
	r->name = strdup(name);
	ok = r->name != NULL;
	for (int c = 0; c < SC_COUNT; c++)
		ok = (r->items[c] = json_array()) && ok;
	if (!ok) {
		free(r->name);
		for (int c = 0; c < SC_COUNT; c++)
			json_decref(r->items[c]);
		return NULL;
	}
	d->nregions++;
	return r;
}

void simdata_set_exact_names(struct simdata *d, bool exact)
{
	d->exact_names = exact;
}

void simdata_free(struct simdata *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nregions; i++) {
		free(d->regions[i].name);
		for (int c = 0; c < SC_COUNT; c++) {
			json_decref(d->regions[i].items[c]);
			sim_memo_clear(&d->regions[i].memo[c]);
		}
	}
	free(d->regions);
	free(d);
}

/* Connections of a file, each in `region` or in its own "region" member. */
static int load_conns(struct simdata *d, const char *region, json_t *arr)
{
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c) {
		const char *rn = json_string_value(json_object_get(c, "region"));
		struct region *r = sim_region_add(d, region ? region :
						  rn ? rn : "fr-par");
		if (!r)
			return -ENOMEM;
		json_array_append(r->items[SC_CONNS], c);
	}
	return 0;
}

/* {"REGION": [conn...]} or {"regions": {...}, "pops": {...}, ...}: every
 * collection but connections by its list key, per region. */
static int load_object(struct simdata *d, const char *path, json_t *root,
		       char *err, size_t errlen)
{
	json_t *regions = json_object_get(root, "regions"), *v;
	const char *k;

	if (!regions)
		regions = root;
	json_object_foreach(regions, k, v) {
		if (regions == root && simdata_coll_of_key(k) > SC_CONNS)
			continue;
		if (!json_is_array(v)) {
			snprintf(err, errlen, "%s: region %s is not an array",
				 path, k);
			return -EINVAL;
		}
		if (!sim_region_add(d, k) || load_conns(d, k, v))
			return -ENOMEM;
	}
	for (int c = SC_CONNS + 1; c < SC_COUNT; c++) {
		json_t *per = json_object_get(root, simdata_key(c));
		json_object_foreach(per, k, v) {
			struct region *r = sim_region_add(d, k);
			if (r && json_is_array(v))
				json_array_extend(r->items[c], v);
		}
	}
	return 0;
}

int simdata_load(struct simdata **out, const char *path, char *err,
		 size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_ALLOW_NUL, &je);
	struct simdata *d;
	int rc = 0;

	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column,
			 je.text);
		return -EINVAL;
	}
	d = calloc(1, sizeof *d);
	if (!d) {
		json_decref(root);
		return -ENOMEM;
	}
	d->idstate = sim_hash(path);
	if (json_is_array(root)) {
		rc = load_conns(d, NULL, root);
	} else if (json_is_object(root)) {
		rc = load_object(d, path, root, err, errlen);
	} else {
		snprintf(err, errlen, "%s: expected an object or an array",
			 path);
		rc = -EINVAL;
	}
	json_decref(root);
	if (rc) {
		simdata_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

json_t *simdata_error_body(const char *type, const char *message,
			   const char *resource, const char *resource_id)
{
	json_t *b = json_object();

	json_object_set_new(b, "message", json_string(message));
	json_object_set_new(b, "type", json_string(type));
	if (resource)
		json_object_set_new(b, "resource", json_string(resource));
	if (resource_id)
		json_object_set_new(b, "resource_id", json_stringn(resource_id,
						strnlen(resource_id, 256)));
	return b;
}

int simdata_patch(struct simdata *d, enum sim_coll c, const char *region,
		  const char *id, json_t *fields)
{
	struct region *r = sim_region(d, region);
	json_t *o, *copy;
	size_t idx;

	if (!json_is_object(fields))
		return -EINVAL;
	if (!r || !(o = sim_find(r->items[c], id, &idx)))
		return -ENOENT;
	/* Replace rather than mutate: replies already built keep their
	 * reference to the old object and stay consistent. */
	copy = json_deep_copy(o);
	if (!copy)
		return -ENOMEM;
	json_object_update(copy, fields);
	json_array_set_new(r->items[c], idx, copy);
	r->version++;
	return 0;
}

int simdata_delete(struct simdata *d, enum sim_coll c, const char *region,
		   const char *id)
{
	struct region *r = sim_region(d, region);
	size_t idx;

	if (!r || !sim_find(r->items[c], id, &idx))
		return -ENOENT;
	json_array_remove(r->items[c], idx);
	r->version++;
	return 0;
}

int simdata_add(struct simdata *d, enum sim_coll c, const char *region,
		json_t *obj, char *idbuf, size_t idlen)
{
	struct region *r = sim_region(d, region);
	json_t *o;
	const char *id;
	char gen[37];

	if (!r)
		return -ENOENT;
	if (!json_is_object(obj))
		return -EINVAL;
	o = json_deep_copy(obj);
	if (!o)
		return -ENOMEM;
	id = json_string_value(json_object_get(o, "id"));
	if (!id) {
		sim_uuid(&d->idstate, gen);
		json_object_set_new(o, "id", json_string(gen));
		id = json_string_value(json_object_get(o, "id"));
	} else if (sim_find(r->items[c], id, NULL)) {
		json_decref(o);
		return -EEXIST;
	}
	if (!json_object_get(o, "region"))
		json_object_set_new(o, "region", json_string(region));
	snprintf(idbuf, idlen, "%s", id);
	json_array_append_new(r->items[c], o);
	r->version++;
	return 0;
}

json_t *simdata_dump(const struct simdata *d)
{
	json_t *o = json_object();

	for (size_t i = 0; i < d->nregions; i++) {
		json_t *reg = json_object();
		for (int c = 0; c < SC_COUNT; c++)
			json_object_set_new(reg, simdata_key((enum sim_coll)c),
				json_deep_copy(d->regions[i].items[c]));
		json_object_set_new(o, d->regions[i].name, reg);
	}
	return o;
}
