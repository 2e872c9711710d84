/* SPDX-License-Identifier: Apache-2.0 */
/*
 * field: reading the members of the API's objects.
 */
#include "field.h"

#include "jsontext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool field_id_valid(const char *s, size_t len)
{
	static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (!s || len != FIELD_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');
		if (pat[i] == '-' ? c != '-' : !hex)
			return false;
	}
	return true;
}

const char *field_id(const json_t *obj)
{
	const json_t *v = json_object_get(obj, "id");

	if (!json_is_string(v) ||
	    !field_id_valid(json_string_value(v), json_string_length(v)))
		return NULL;
	return json_string_value(v);
}

int field_str(const json_t *obj, const char *field, const char **out,
	     size_t *len)
{
	const json_t *v = json_object_get(obj, field);

	if (!v || json_is_null(v))
		return -ENOENT;
	if (!json_is_string(v))
		return -EINVAL;
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return 0;
}

/* An unsigned 64-bit integer past json_int_t, kept as its text. */
static int big_uint(const json_t *v, uint64_t *out)
{
	const char *t;
	size_t n;
	char buf[32], *end;

	if (!jsontext_num_text(v, &t, &n) || n >= sizeof buf ||
	    strspn(t, "0123456789") != n)
		return -EINVAL;
	memcpy(buf, t, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int field_uint_of(const json_t *v, uint64_t *out)
{
	if (!v || json_is_null(v))
		return -ENOENT;
	if (json_is_string(v))
		return big_uint(v, out);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int field_uint(const json_t *obj, const char *field, uint64_t *out)
{
	return field_uint_of(json_object_get(obj, field), out);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar,
 * in 400-year eras of 146,097 days (the arithmetic timegm does, without
 * its time zone machinery: attributes ask for this on every stat). Days
 * past the month's end count on, as with timegm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int field_parse_time(const char *s, struct timespec *out)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0;
	long nsec = 0;
	const char *p;

	if (!s || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' ||
	    digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
	    sec > 60)
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		long scale = 100000000L;
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	out->tv_sec = (time_t)(days_from_civil(Y, (unsigned)M, (unsigned)D) *
			       86400 + h * 3600 + m * 60 + sec -
			       (oh * 3600 + om * 60));
	out->tv_nsec = nsec;
	return 0;
}

int field_time(const json_t *obj, const char *field, struct timespec *out)
{
	const char *s;
	int rc = field_str(obj, field, &s, NULL);

	if (rc)
		return rc;
	return field_parse_time(s, out);
}
