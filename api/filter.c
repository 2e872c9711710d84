/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter: the API's list filters, their form, their query, their rule.
 */
#include "filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "field.h"

const char *const filter_statuses[] = {
	"unknown_status", "created", "configuring", "failed", "active",
	"disabled", "deleted", "locked", NULL,
};

bool filter_status_known(const char *s)
{
	for (size_t i = 0; s && filter_statuses[i]; i++)
		if (strcmp(s, filter_statuses[i]) == 0)
			return true;
	return false;
}

/* A decimal unsigned 64-bit integer, digits only. */
static bool is_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

int filter_check(const char *name, const char *value, char *why,
		 size_t whylen)
{
	unsigned long long u;

	if (!value || !*value) {
		snprintf(why, whylen, "%s: empty value", name);
		return -EINVAL;
	}
	if (!strcmp(name, "project_id") || !strcmp(name, "organization_id") ||
	    !strcmp(name, "pop_id")) {
		if (field_id_valid(value, strlen(value)))
			return 0;
		snprintf(why, whylen, "%s=%s: not a UUID", name, value);
		return -EINVAL;
	}
	if (!strcmp(name, "status")) {
		if (filter_status_known(value))
			return 0;
		snprintf(why, whylen, "status=%s: not a status (use one of "
			 "unknown_status, created, configuring, failed, active, "
			 "disabled, deleted, locked)", value);
		return -EINVAL;
	}
	if (!strcmp(name, "bandwidth_mbps")) {
		if (is_u64(value, &u))
			return 0;
		snprintf(why, whylen, "bandwidth_mbps=%s: not an unsigned "
			 "integer", value);
		return -EINVAL;
	}
	if (!strcmp(name, "name") || !strcmp(name, "tags"))
		return 0;
	return -ENOENT;
}

static bool str_is(const json_t *obj, const char *field, const char *want)
{
	const char *s;

	return field_str(obj, field, &s, NULL) == 0 && strcmp(s, want) == 0;
}

static bool has_tag(const json_t *obj, const char *tag)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(obj, "tags"), i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return true;
	return false;
}

bool filter_match(const struct api_filters *f, const json_t *obj)
{
	const char *name;
	unsigned long long want;
	uint64_t bw;

	if (!f)
		return true;
	if ((f->project_id && !str_is(obj, "project_id", f->project_id)) ||
	    (f->organization_id &&
	     !str_is(obj, "organization_id", f->organization_id)) ||
	    (f->status && !str_is(obj, "status", f->status)) ||
	    (f->pop_id && !str_is(obj, "pop_id", f->pop_id)))
		return false;
	/* The name filter matches part of a name, ignoring ASCII case: the
	 * public documentation says no more, and the widest reading never
	 * hides what the API itself returned for the filter. */
	if (f->name && *f->name &&
	    (field_str(obj, "name", &name, NULL) || !strcasestr(name, f->name)))
		return false;
	if (f->bandwidth_mbps &&
	    (!is_u64(f->bandwidth_mbps, &want) ||
	     field_uint(obj, "bandwidth_mbps", &bw) || bw != want))
		return false;
	for (size_t i = 0; i < f->ntags; i++)
		if (!has_tag(obj, f->tags[i]))
			return false;
	return true;
}

static int add(CURLU *u, const char *k, const char *v)
{
	char *kv = NULL;
	int rc;

	if (!v)
		return 0;
	if (asprintf(&kv, "%s=%s", k, v) < 0)
		return -ENOMEM;
	rc = curl_url_set(u, CURLUPART_QUERY, kv,
			  CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK ?
	     0 : -EINVAL;
	free(kv);
	return rc;
}

/*
 * Only the filters whose meaning at the API is certain to hold everything
 * ours does are sent: equality with an id, a status or a number. The API's
 * documentation says of name only "name to filter for" (an API that
 * matches whole names would hide what ours, part of a name in any case,
 * shows) and of tags only "tags to filter for" (all of them, or any?):
 * those two are applied here alone, to the whole listing.
 */
int filter_query(const struct api_filters *f, CURLU *u)
{
	int rc;

	if (!f)
		return 0;
	if ((rc = add(u, "order_by", f->order_by)) ||
	    (rc = add(u, "project_id", f->project_id)) ||
	    (rc = add(u, "organization_id", f->organization_id)) ||
	    (rc = add(u, "status", f->status)) ||
	    (rc = add(u, "bandwidth_mbps", f->bandwidth_mbps)) ||
	    (rc = add(u, "pop_id", f->pop_id)))
		return rc;
	return 0;
}
