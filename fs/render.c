/*
 * render: file contents from API objects.
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

static const char *const conn_names[CF_COUNT + 1] = {
	NULL, "id", "name", "status", "bandwidth_mbps", "demarcation_info",
	"tags", "pop_id", "project_id", "organization_id",
	"available_link_bandwidths", "created_at", "updated_at", "vlan_range",
	"region", "connection.json",
};

static const char *const pop_names[PF_COUNT + 1] = {
	NULL, "name", "display_name", "city", "address",
	"hosting_provider_name", "available_link_bandwidths_mbps", "region",
	"pop.json",
};

const char *render_conn_name(unsigned slot)
{
	return slot >= 1 && slot <= CF_COUNT ? conn_names[slot] : NULL;
}

const char *render_pop_name(unsigned slot)
{
	return slot >= 1 && slot <= PF_COUNT ? pop_names[slot] : NULL;
}

unsigned render_conn_slot(const char *name)
{
	for (unsigned i = 1; i <= CF_COUNT; i++)
		if (strcmp(name, conn_names[i]) == 0)
			return i;
	return 0;
}

unsigned render_pop_slot(const char *name)
{
	for (unsigned i = 1; i <= PF_COUNT; i++)
		if (strcmp(name, pop_names[i]) == 0)
			return i;
	return 0;
}

/* A growable buffer; on allocation failure it stays failed. */
struct out {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->err || n == 0)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		char *np;
		while (cap < o->len + n)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np) {
			o->err = -ENOMEM;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_u64(struct out *o, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRIu64 "\n", v);
	put(o, num, (size_t)n);
}

/* A string field: value + newline; null/missing: empty. */
static int string_field(struct out *o, const json_t *obj, const char *f)
{
	const char *s;
	size_t len;
	int rc = conn_str(obj, f, &s, &len);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return -EIO;
	put(o, s, len);
	put(o, "\n", 1);
	return 0;
}

static int uint_field(struct out *o, const json_t *obj, const char *f)
{
	uint64_t v;
	int rc = conn_uint(obj, f, &v);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return -EIO;
	put_u64(o, v);
	return 0;
}

/* An array: one element per line. Strings or unsigned integers. */
static int array_field(struct out *o, const json_t *obj, const char *f,
		       bool strings)
{
	const json_t *arr = json_object_get(obj, f), *e;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return -EIO;
	json_array_foreach(arr, i, e) {
		if (strings ? !json_is_string(e) :
		    !json_is_integer(e) || json_integer_value(e) < 0)
			return -EIO;
	}
	json_array_foreach(arr, i, e) {
		if (strings) {
			put(o, json_string_value(e), json_string_length(e));
			put(o, "\n", 1);
		} else {
			put_u64(o, (uint64_t)json_integer_value(e));
		}
	}
	return 0;
}

static int json_file(struct out *o, const json_t *obj)
{
	size_t n;
	char *s = conn_dump(obj, JSON_INDENT(2), &n);

	if (!s)
		return -ENOMEM;
	put(o, s, n);
	put(o, "\n", 1);
	free(s);
	return 0;
}

static int finish(struct out *o, int rc, char **buf, size_t *len)
{
	if (!rc)
		rc = o->err;
	if (rc) {
		free(o->p);
		return rc;
	}
	*buf = o->p;
	*len = o->len;
	return 0;
}

int render_conn(const json_t *c, unsigned slot, char **buf, size_t *len)
{
	struct out o = {0};
	uint32_t a, b;
	int rc;

	switch (slot) {
	case CF_ID:
	case CF_NAME:
	case CF_STATUS:
	case CF_DEMARCATION:
	case CF_POP_ID:
	case CF_PROJECT_ID:
	case CF_ORGANIZATION_ID:
	case CF_CREATED_AT:
	case CF_UPDATED_AT:
	case CF_REGION:
		rc = string_field(&o, c, conn_names[slot]);
		break;
	case CF_BANDWIDTH:
		rc = uint_field(&o, c, "bandwidth_mbps");
		break;
	case CF_TAGS:
		rc = array_field(&o, c, "tags", true);
		break;
	case CF_AVAILABLE:
		rc = array_field(&o, c, "available_link_bandwidths", false);
		break;
	case CF_VLAN_RANGE:
		rc = conn_vlan(c, &a, &b);
		if (rc == 0) {
			char r[32];
			int n = snprintf(r, sizeof r, "%" PRIu32 "-%" PRIu32 "\n",
					 a, b);
			put(&o, r, (size_t)n);
		}
		rc = rc == -ENOENT ? 0 : rc ? -EIO : 0;
		break;
	case CF_JSON:
		rc = json_file(&o, c);
		break;
	default:
		rc = -ENOENT;
	}
	return finish(&o, rc, buf, len);
}

int render_pop(const json_t *p, unsigned slot, char **buf, size_t *len)
{
	struct out o = {0};
	int rc;

	switch (slot) {
	case PF_NAME:
	case PF_DISPLAY_NAME:
	case PF_CITY:
	case PF_ADDRESS:
	case PF_PROVIDER:
	case PF_REGION:
		rc = string_field(&o, p, pop_names[slot]);
		break;
	case PF_BANDWIDTHS:
		rc = array_field(&o, p, "available_link_bandwidths_mbps", false);
		break;
	case PF_JSON:
		rc = json_file(&o, p);
		break;
	default:
		rc = -ENOENT;
	}
	return finish(&o, rc, buf, len);
}
