/*
 * simdata: generated or loaded InterLink data and the request logic of the
 * simulator. Deterministic: the same seed gives the same bytes.
 */
#include "simdata.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct region {
	char *name;
	json_t *conns; /* array of objects, in creation order */
	json_t *pops;  /* array of objects */
	uint64_t version;  /* bumped by every change */
	/* The last sorted, filtered list served, so that the pages of one
	 * large list do not each sort it again. */
	char *memo_key;
	uint64_t memo_version;
	json_t *memo;
};

struct simdata {
	struct region *regions;
	size_t nregions;
	uint64_t idstate; /* for ids of connections added at run time */
};

static const char *const statuses[] = {
	"unknown_status", "created", "configuring", "failed",
	"active", "disabled", "deleted", "locked",
};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

static const char *const orders[] = {
	"created_at_asc", "created_at_desc", "updated_at_asc",
	"updated_at_desc", "name_asc", "name_desc", "status_asc",
	"status_desc",
};
#define NORDER (sizeof orders / sizeof orders[0])

/* splitmix64: small, good enough, and identical on every platform. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_uuid(uint64_t *s, char out[37])
{
	uint64_t a = rng_next(s), b = rng_next(s);
	a = (a & ~0xf000ULL) | 0x4000ULL;                 /* version 4 */
	b = (b & ~(3ULL << 62)) | (2ULL << 62);           /* RFC 4122 variant */
	snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64
		 "-%04" PRIx64 "-%012" PRIx64,
		 a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
		 b & (uint64_t)0xffffffffffffULL);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Three ways the API writes RFC 3339 times, so clients parse all of them. */
static void fmt_time(char *buf, size_t len, int64_t t, unsigned style,
		     unsigned micros)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char base[32];

	if (style == 2)
		tt += 2 * 3600;
	gmtime_r(&tt, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	if (style == 0)
		snprintf(buf, len, "%s.%06uZ", base, micros % 1000000);
	else if (style == 1)
		snprintf(buf, len, "%sZ", base);
	else
		snprintf(buf, len, "%s+02:00", base);
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Seconds since the epoch of an RFC 3339 time; -1 if unparsable or null.
 * Digits read by hand: sorting large lists parses many of them. */
static double parse_time(const json_t *v)
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

static const struct {
	const char *name, *display, *provider, *city, *address;
} known_pops[] = {
	{"DC2", "DC2 - Vitry-sur-Seine", "Scaleway", "Paris",
	 "61 rue Julian Grimau, 94400 Vitry-sur-Seine"},
	{"DC3", "DC3 - Vitry-sur-Seine", "Scaleway", "Paris",
	 "8 rue de la Fraternite, 94400 Vitry-sur-Seine"},
	{"TH2", "TH2 - Telehouse 2", "Telehouse", "Paris",
	 "137 boulevard Voltaire, 75011 Paris"},
};

static json_t *make_pop(uint64_t *rng, const char *region, unsigned i)
{
	char id[37], name[64], display[128];
	const char *provider, *city, *address;
	json_t *bw = json_array();

	rng_uuid(rng, id);
	if (strcmp(region, "fr-par") == 0 && i < 3) {
		snprintf(name, sizeof name, "%s", known_pops[i].name);
		snprintf(display, sizeof display, "%s", known_pops[i].display);
		provider = known_pops[i].provider;
		city = known_pops[i].city;
		address = known_pops[i].address;
	} else {
		snprintf(name, sizeof name, "%.2s%c%u", region + 3,
			 'A' + (char)(i % 26), i + 1);
		for (char *p = name; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		snprintf(display, sizeof display, "%s - %s campus %u", name,
			 region, i + 1);
		provider = i % 2 ? "Equinix" : "Data4";
		city = region;
		address = "1 Datacenter Way";
	}
	for (unsigned k = 0; k < 4 + i % 3; k++)
		json_array_append_new(bw, json_integer(
			(json_int_t[]){50, 100, 200, 500, 1000, 10000, 100000}[k]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
			 "id", id, "name", name, "hosting_provider_name",
			 provider, "address", address, "city", city,
			 "logo_url", "https://example.invalid/logo.png",
			 "available_link_bandwidths_mbps", bw,
			 "display_name", display, "region", region);
}

/*
 * Names chosen so that the first connections of every region exercise every
 * awkward case a filesystem must survive.
 */
static void gen_name(char *buf, size_t len, const char *region, unsigned i)
{
	static const char *const kinds[] = {"transit", "backbone", "peering",
					    "backup", "lab"};
	switch (i) {
	case 0: snprintf(buf, len, "%s", ""); return;
	case 1: snprintf(buf, len, "."); return;
	case 2: snprintf(buf, len, ".."); return;
	case 3: snprintf(buf, len, "edge router/par 1"); return;
	case 4: snprintf(buf, len, "Z\xc3\xbcrich\xe2\x80\x93Paris \xe2\x98\x81 "
			 "\xe6\x9d\xb1\xe4\xba\xac"); return;
	case 5:
	case 6: snprintf(buf, len, "dup-name"); return;
	case 7: {
		size_t o = (size_t)snprintf(buf, len, "long-");
		for (int k = 0; k < 150 && o + 2 < len; k++, o += 2)
			memcpy(buf + o, "\xc3\xa9", 2); /* e-acute, 2 bytes */
		buf[o] = '\0';
		return;
	}
	case 8: snprintf(buf, len, "with space"); return;
	default:
		snprintf(buf, len, "%.3s-%s-%04u", region + 3, kinds[i % 5], i);
	}
}

static json_t *make_conn(uint64_t *rng, const char *region, unsigned i,
			 char projects[3][37], char orgs[2][37],
			 json_t *pops)
{
	static const json_int_t bws[] = {1000, 10000, 100000, 2000, 5000,
					 25000, 50000};
	static const json_int_t links[] = {50, 100, 200, 300, 400, 500, 1000,
					   2000, 5000, 10000, 25000, 50000,
					   100000};
	char id[37], name[400], created[40], updated[40];
	json_t *c, *tags, *avail;
	int64_t t0 = 1672531200; /* 2023-01-01T00:00:00Z */
	int64_t ct, ut;
	unsigned p = i % 3, st;
	json_int_t bw = bws[i % 7];
	const json_t *pop = json_array_get(pops, i % json_array_size(pops));

	rng_uuid(rng, id);
	gen_name(name, sizeof name, region, i);
	ct = t0 + (int64_t)(rng_next(rng) % (2u * 365 * 86400));
	ut = ct + (int64_t)(rng_next(rng) % (365u * 86400));
	fmt_time(created, sizeof created, ct, i % 3, (unsigned)rng_next(rng));
	fmt_time(updated, sizeof updated, ut, (i + 1) % 3,
		 (unsigned)rng_next(rng));

	/* Mostly active, every status present among the first 30. */
	st = i % 10 < 6 ? 4 : (unsigned[]){2, 1, 3, 5, 6, 7, 0, 2, 4, 3}
		[(i / 10 * 4 + i % 10 - 6) % 10];

	tags = json_array();
	switch (i % 4) {
	case 1: json_array_append_new(tags, json_string("prod")); break;
	case 2:
		json_array_append_new(tags, json_string("prod"));
		json_array_append_new(tags, json_string("edge"));
		break;
	case 3:
		json_array_append_new(tags, json_string("lab"));
		json_array_append_new(tags, json_string("team=netops"));
		json_array_append_new(tags, json_string("cost-center/42"));
		break;
	}
	avail = json_array();
	for (size_t k = 0; k < sizeof links / sizeof links[0]; k++)
		if (links[k] <= bw && (k + i) % 2 == 0)
			json_array_append_new(avail, json_integer(links[k]));

	c = json_object();
	json_object_set_new(c, "id", json_string(id));
	json_object_set_new(c, "project_id", json_string(projects[p]));
	json_object_set_new(c, "organization_id",
			    json_string(orgs[p == 2 ? 1 : 0]));
	json_object_set_new(c, "status", json_string(statuses[st]));
	json_object_set_new(c, "name", json_string(name));
	json_object_set_new(c, "tags", tags);
	json_object_set(c, "pop_id", json_object_get(pop, "id"));
	json_object_set_new(c, "bandwidth_mbps", json_integer(bw));
	json_object_set_new(c, "available_link_bandwidths", avail);
	json_object_set_new(c, "created_at", json_string(created));
	json_object_set_new(c, "updated_at",
			    i % 7 == 3 ? json_null() : json_string(updated));
	switch (i % 5) {
	case 0:
		json_object_set_new(c, "demarcation_info", json_sprintf(
			"Facility: %s, room 2.%u\nCabinet: C-%02u\n"
			"Patch panel: PP-%u port %u\nMedia: 10GBASE-LR SMF LC",
			json_string_value(json_object_get(pop, "name")),
			i % 4, i % 40, i % 8, i % 48 + 1));
		break;
	case 2:
		json_object_set_new(c, "demarcation_info", json_null());
		break;
	default:
		json_object_set_new(c, "demarcation_info", json_sprintf(
			"Cabinet C-%02u, PP-%u port %u, LC duplex", i % 40,
			i % 8, i % 48 + 1));
	}
	if (i % 6 == 4) {
		json_object_set_new(c, "vlan_range", json_null());
	} else {
		json_int_t start = 1500 + (json_int_t)(rng_next(rng) % 1000);
		json_int_t end = start + (json_int_t)(rng_next(rng) % 500);
		json_object_set_new(c, "vlan_range",
				    json_pack("{s:I, s:I}", "start", start,
					      "end", end));
	}
	json_object_set_new(c, "region", json_string(region));
	if (i % 3 == 0)
		json_object_set_new(c, "srn", json_sprintf(
			"srn:scw:interlink:%s:dedicated-connection/%s", region,
			id));
	if (i % 4 == 1)
		json_object_set_new(c, "x_sim_future_field", json_pack(
			"{s:s, s:[i, f, n, b]}", "note", "a field no client "
			"knows", "values", 1, 2.5, 1));
	return c;
}

static struct region *find_region(const struct simdata *d, const char *name)
{
	for (size_t i = 0; i < d->nregions; i++)
		if (strcmp(d->regions[i].name, name) == 0)
			return &d->regions[i];
	return NULL;
}

static struct region *add_region(struct simdata *d, const char *name)
{
	struct region *r = find_region(d, name), *nr;

	if (r)
		return r;
	nr = realloc(d->regions, (d->nregions + 1) * sizeof *nr);
	if (!nr)
		return NULL;
	d->regions = nr;
	r = &nr[d->nregions];
	memset(r, 0, sizeof *r);
	r->name = strdup(name);
	r->conns = json_array();
	r->pops = json_array();
	if (!r->name || !r->conns || !r->pops) {
		free(r->name);
		json_decref(r->conns);
		json_decref(r->pops);
		return NULL;
	}
	d->nregions++;
	return r;
}

int simdata_generate(struct simdata **out, const char *regions_csv,
		     unsigned n, uint64_t seed)
{
	struct simdata *d = calloc(1, sizeof *d);
	char *list = NULL, *save = NULL, *tok;
	char projects[3][37], orgs[2][37];
	uint64_t acct = seed ^ 0xacc0u;

	if (!d)
		return -ENOMEM;
	d->idstate = seed ^ 0x1d5eedULL;
	for (int k = 0; k < 3; k++)
		rng_uuid(&acct, projects[k]);
	for (int k = 0; k < 2; k++)
		rng_uuid(&acct, orgs[k]);
	list = strdup(regions_csv);
	if (!list)
		goto fail;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct region *r;
		uint64_t rng = seed * 0x100000001b3ULL ^ hash_str(tok);

		if (!*tok || find_region(d, tok))
			continue;
		r = add_region(d, tok);
		if (!r)
			goto fail;
		for (unsigned k = 0; k < 3; k++)
			json_array_append_new(r->pops, make_pop(&rng, tok, k));
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(r->conns, make_conn(&rng, tok, i,
						projects, orgs, r->pops));
	}
	free(list);
	*out = d;
	return 0;
fail:
	free(list);
	simdata_free(d);
	return -ENOMEM;
}

static int load_conns(struct simdata *d, const char *region, json_t *arr)
{
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c) {
		const char *rn = json_string_value(json_object_get(c, "region"));
		struct region *r = add_region(d, region ? region :
					      rn ? rn : "fr-par");
		if (!r)
			return -ENOMEM;
		json_array_append(r->conns, c);
	}
	return 0;
}

int simdata_load(struct simdata **out, const char *path, char *err,
		 size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_ALLOW_NUL, &je);
	json_t *regions, *pops, *v;
	struct simdata *d;
	const char *k;
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
	d->idstate = hash_str(path);
	if (json_is_array(root)) {
		rc = load_conns(d, NULL, root);
	} else if (json_is_object(root)) {
		regions = json_object_get(root, "regions");
		pops = json_object_get(root, "pops");
		if (!regions)
			regions = root;
		json_object_foreach(regions, k, v) {
			if (regions == root && strcmp(k, "pops") == 0)
				continue;
			if (!json_is_array(v)) {
				snprintf(err, errlen, "%s: region %s is not an "
					 "array", path, k);
				rc = -EINVAL;
				break;
			}
			if (!add_region(d, k) || load_conns(d, k, v)) {
				rc = -ENOMEM;
				break;
			}
		}
		json_object_foreach(pops, k, v) {
			struct region *r = add_region(d, k);
			if (r && json_is_array(v))
				json_array_extend(r->pops, v);
		}
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

void simdata_free(struct simdata *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nregions; i++) {
		free(d->regions[i].name);
		json_decref(d->regions[i].conns);
		json_decref(d->regions[i].pops);
		free(d->regions[i].memo_key);
		json_decref(d->regions[i].memo);
	}
	free(d->regions);
	free(d);
}

int simdata_has_region(const struct simdata *d, const char *region)
{
	return find_region(d, region) != NULL;
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

static struct sim_reply reply(int status, json_t *body)
{
	return (struct sim_reply){.status = status, .body = body};
}

static struct sim_reply bad_arg(const char *arg, const char *help)
{
	json_t *b = simdata_error_body("invalid_arguments",
				       "invalid argument(s)", NULL, NULL);
	json_object_set_new(b, "details", json_pack(
		"[{s:s, s:s, s:s}]", "argument_name", arg, "reason",
		"constraint", "help_message", help));
	return reply(400, b);
}

static struct sim_reply not_found(const char *resource, const char *id)
{
	return reply(404, simdata_error_body("not_found", "resource is not "
					     "found", resource, id));
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool is_uuid(const char *s)
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

static int status_rank(const json_t *c)
{
	const char *s = json_string_value(json_object_get(c, "status"));

	for (size_t i = 0; s && i < NSTATUS; i++)
		if (strcmp(s, statuses[i]) == 0)
			return (int)i;
	return -1;
}

struct query {
	uint64_t page, page_size;
	int order;        /* index into orders */
	const char *project_id, *organization_id, *name, *status, *pop_id;
	const char *tags[32];
	size_t ntags;
	bool has_bw;
	uint64_t bw;
};

/* Validates like the API: a bad value is a 400 naming the argument. */
static bool parse_query(const struct sim_kv *q, size_t nq, bool pops,
			struct query *out, struct sim_reply *err)
{
	memset(out, 0, sizeof *out);
	out->page = 1;
	out->page_size = 50;
	out->order = 4; /* name_asc */
	for (size_t i = 0; i < nq; i++) {
		const char *k = q[i].key, *v = q[i].value ? q[i].value : "";

		if (strcmp(k, "page") == 0) {
			if (!parse_uint(v, INT32_MAX, &out->page) ||
			    out->page < 1) {
				*err = bad_arg("page", "must be >= 1");
				return false;
			}
		} else if (strcmp(k, "page_size") == 0) {
			if (!parse_uint(v, 1000, &out->page_size) ||
			    out->page_size < 1) {
				*err = bad_arg("page_size",
					       "must be between 1 and 1000");
				return false;
			}
		} else if (strcmp(k, "order_by") == 0) {
			size_t o, lim = pops ? 0 : NORDER;
			out->order = -1;
			if (pops && strcmp(v, "name_asc") == 0)
				out->order = 4;
			else if (pops && strcmp(v, "name_desc") == 0)
				out->order = 5;
			for (o = 0; o < lim; o++)
				if (strcmp(v, orders[o]) == 0)
					out->order = (int)o;
			if (out->order < 0) {
				*err = bad_arg("order_by", "unknown value");
				return false;
			}
		} else if (pops) {
			continue;
		} else if (strcmp(k, "project_id") == 0 ||
			   strcmp(k, "organization_id") == 0 ||
			   strcmp(k, "pop_id") == 0) {
			if (!is_uuid(v)) {
				*err = bad_arg(k, "must be a UUID");
				return false;
			}
			if (k[0] == 'p' && k[1] == 'r')
				out->project_id = v;
			else if (k[0] == 'o')
				out->organization_id = v;
			else
				out->pop_id = v;
		} else if (strcmp(k, "name") == 0) {
			out->name = v;
		} else if (strcmp(k, "status") == 0) {
			size_t s;
			for (s = 0; s < NSTATUS; s++)
				if (strcmp(v, statuses[s]) == 0)
					break;
			if (s == NSTATUS) {
				*err = bad_arg("status", "unknown value");
				return false;
			}
			out->status = v;
		} else if (strcmp(k, "bandwidth_mbps") == 0) {
			if (!parse_uint(v, UINT64_MAX, &out->bw)) {
				*err = bad_arg("bandwidth_mbps",
					       "must be an unsigned integer");
				return false;
			}
			out->has_bw = true;
		} else if (strcmp(k, "tags") == 0) {
			if (out->ntags == sizeof out->tags / sizeof out->tags[0]) {
				*err = bad_arg("tags", "too many tags");
				return false;
			}
			out->tags[out->ntags++] = v;
		}
	}
	return true;
}

static bool str_field_is(const json_t *c, const char *f, const char *want)
{
	const char *s = json_string_value(json_object_get(c, f));
	return s && strcmp(s, want) == 0;
}

static bool has_tag(const json_t *c, const char *tag)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(c, "tags"), i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return true;
	return false;
}

static bool matches(const json_t *c, const struct query *q)
{
	if (q->project_id && !str_field_is(c, "project_id", q->project_id))
		return false;
	if (q->organization_id &&
	    !str_field_is(c, "organization_id", q->organization_id))
		return false;
	if (q->pop_id && !str_field_is(c, "pop_id", q->pop_id))
		return false;
	if (q->status && !str_field_is(c, "status", q->status))
		return false;
	/* The API's name filter matches part of the name (as the other
	 * Scaleway list endpoints do); an empty filter matches all. */
	if (q->name && *q->name) {
		const char *n = json_string_value(json_object_get(c, "name"));
		if (!n || !strstr(n, q->name))
			return false;
	}
	if (q->has_bw) {
		json_t *b = json_object_get(c, "bandwidth_mbps");
		if (!json_is_integer(b) ||
		    (uint64_t)json_integer_value(b) != q->bw)
			return false;
	}
	for (size_t t = 0; t < q->ntags; t++)
		if (!has_tag(c, q->tags[t]))
			return false;
	return true;
}

/* Sort keys, computed once per request (parsing times in the comparison
 * made large lists slow to serve). */
struct sortent {
	json_t *c;
	const char *name, *id;
	double t;
	int status;
};

static int cmp_ent(const void *pa, const void *pb, void *arg)
{
	const struct sortent *a = pa, *b = pb;
	int order = *(const int *)arg, r;

	switch (order / 2) {
	case 0:
	case 1: r = (a->t > b->t) - (a->t < b->t); break;
	case 2: r = strcmp(a->name, b->name); break;
	default: r = a->status - b->status; break;
	}
	if (order % 2)
		r = -r;
	return r ? r : strcmp(a->id, b->id);
}

static void sort_key(struct sortent *e, json_t *c, int order)
{
	const char *n = json_string_value(json_object_get(c, "name"));
	const char *id = json_string_value(json_object_get(c, "id"));

	e->c = c;
	e->name = n ? n : "";
	e->id = id ? id : "";
	e->status = status_rank(c);
	e->t = order / 2 == 0 ? parse_time(json_object_get(c, "created_at")) :
	       order / 2 == 1 ? parse_time(json_object_get(c, "updated_at")) : 0;
}

/* Everything about a query but its page, as a string. */
static char *query_key(const struct query *q, bool pops)
{
	char *k = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&k, &len);

	if (!f)
		return NULL;
	fprintf(f, "%d|%d|%s|%s|%s|%s|%s|%d|%llu", pops, q->order,
		q->project_id ? q->project_id : "",
		q->organization_id ? q->organization_id : "",
		q->name ? q->name : "\1", q->status ? q->status : "",
		q->pop_id ? q->pop_id : "", q->has_bw,
		(unsigned long long)q->bw);
	for (size_t t = 0; t < q->ntags; t++)
		fprintf(f, "|%s", q->tags[t]);
	fclose(f);
	return k;
}

static json_t *sorted_list(struct region *r, json_t *items,
			   const struct query *q, bool pops)
{
	size_t n = json_array_size(items), m = 0, i;
	struct sortent *sel;
	char *key = query_key(q, pops);
	json_t *out;

	if (key && r->memo && r->memo_version == r->version &&
	    strcmp(key, r->memo_key) == 0) {
		free(key);
		return json_incref(r->memo);
	}
	sel = malloc((n ? n : 1) * sizeof *sel);
	out = json_array();
	if (!sel || !out) {
		free(sel);
		free(key);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		json_t *c = json_array_get(items, i);
		if (pops || matches(c, q))
			sort_key(&sel[m++], c, q->order);
	}
	qsort_r(sel, m, sizeof *sel, cmp_ent, (void *)&q->order);
	for (i = 0; i < m; i++)
		json_array_append(out, sel[i].c);
	free(sel);
	if (key) {
		free(r->memo_key);
		json_decref(r->memo);
		r->memo_key = key;
		r->memo = json_incref(out);
		r->memo_version = r->version;
	}
	return out;
}

static struct sim_reply list_common(struct region *r, json_t *items,
				    const char *key, const struct query *q,
				    bool pops, unsigned max_page_size)
{
	json_t *sorted = sorted_list(r, items, q, pops), *page, *body;
	uint64_t ps = q->page_size, first;
	size_t m = json_array_size(sorted), i;

	if (!sorted)
		return reply(500, simdata_error_body("internal", "out of memory",
						     NULL, NULL));
	if (max_page_size && ps > max_page_size)
		ps = max_page_size;
	page = json_array();
	first = (q->page - 1) * ps;
	for (i = first; i < m && i < first + ps; i++)
		json_array_append(page, json_array_get(sorted, i));
	json_decref(sorted);
	body = json_object();
	json_object_set_new(body, key, page);
	json_object_set_new(body, "total_count", json_integer((json_int_t)m));
	return reply(200, body);
}

struct sim_reply simdata_list(const struct simdata *d, const char *region,
			      const struct sim_kv *q, size_t nq,
			      unsigned max_page_size)
{
	struct region *r = find_region(d, region);
	struct sim_reply err;
	struct query qq;

	if (!r)
		return not_found("region", region);
	if (!parse_query(q, nq, false, &qq, &err))
		return err;
	return list_common(r, r->conns, "connections", &qq, false,
			   max_page_size);
}

static json_t *find_by_id(json_t *arr, const char *id, size_t *idx)
{
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c) {
		if (str_field_is(c, "id", id)) {
			if (idx)
				*idx = i;
			return c;
		}
	}
	return NULL;
}

struct sim_reply simdata_get(const struct simdata *d, const char *region,
			     const char *id)
{
	struct region *r = find_region(d, region);
	json_t *c;

	if (!r)
		return not_found("region", region);
	c = find_by_id(r->conns, id, NULL);
	if (!c)
		return not_found("dedicated_connection", id);
	return reply(200, json_incref(c));
}

struct sim_reply simdata_pops(const struct simdata *d, const char *region,
			      const struct sim_kv *q, size_t nq,
			      unsigned max_page_size)
{
	struct region *r = find_region(d, region);
	struct sim_reply err;
	struct query qq;

	if (!r)
		return not_found("region", region);
	if (!parse_query(q, nq, true, &qq, &err))
		return err;
	return list_common(r, r->pops, "pops", &qq, true, max_page_size);
}

struct sim_reply simdata_pop(const struct simdata *d, const char *region,
			     const char *id)
{
	struct region *r = find_region(d, region);
	json_t *p;

	if (!r)
		return not_found("region", region);
	p = find_by_id(r->pops, id, NULL);
	if (!p)
		return not_found("pop", id);
	return reply(200, json_incref(p));
}

int simdata_patch(struct simdata *d, const char *region, const char *id,
		  json_t *fields)
{
	struct region *r = find_region(d, region);
	json_t *c, *copy;
	size_t idx;

	if (!json_is_object(fields))
		return -EINVAL;
	if (!r || !(c = find_by_id(r->conns, id, &idx)))
		return -ENOENT;
	/* Replace rather than mutate: replies already built keep their
	 * reference to the old object and stay consistent. */
	copy = json_deep_copy(c);
	if (!copy)
		return -ENOMEM;
	json_object_update(copy, fields);
	json_array_set_new(r->conns, idx, copy);
	r->version++;
	return 0;
}

int simdata_delete(struct simdata *d, const char *region, const char *id)
{
	struct region *r = find_region(d, region);
	size_t idx;

	if (!r || !find_by_id(r->conns, id, &idx))
		return -ENOENT;
	json_array_remove(r->conns, idx);
	r->version++;
	return 0;
}

int simdata_add(struct simdata *d, const char *region, json_t *conn,
		char *idbuf, size_t idlen)
{
	struct region *r = find_region(d, region);
	json_t *c;
	const char *id;
	char gen[37];

	if (!r)
		return -ENOENT;
	if (!json_is_object(conn))
		return -EINVAL;
	c = json_deep_copy(conn);
	if (!c)
		return -ENOMEM;
	id = json_string_value(json_object_get(c, "id"));
	if (!id) {
		rng_uuid(&d->idstate, gen);
		json_object_set_new(c, "id", json_string(gen));
		id = json_string_value(json_object_get(c, "id"));
	} else if (find_by_id(r->conns, id, NULL)) {
		json_decref(c);
		return -EEXIST;
	}
	if (!json_object_get(c, "region"))
		json_object_set_new(c, "region", json_string(region));
	snprintf(idbuf, idlen, "%s", id);
	json_array_append_new(r->conns, c);
	r->version++;
	return 0;
}

json_t *simdata_dump(const struct simdata *d)
{
	json_t *o = json_object();

	for (size_t i = 0; i < d->nregions; i++)
		json_object_set_new(o, d->regions[i].name, json_pack(
			"{s:o, s:o}",
			"connections", json_deep_copy(d->regions[i].conns),
			"pops", json_deep_copy(d->regions[i].pops)));
	return o;
}
