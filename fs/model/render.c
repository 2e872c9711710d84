/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render: file contents from API objects, one function per way a file is
 * rendered (enum render_how).
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "jsontext.h"

int render_put(struct render_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;
		while (cap < b->len + n)
			cap *= 2;
		if (!(np = realloc(b->p, cap)))
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

int render_slice(const char *p, size_t len, off_t off, size_t size,
		 char **out, size_t *out_len)
{
	size_t at = off < 0 || (size_t)off > len ? len : (size_t)off;
	size_t n = len - at < size ? len - at : size;

	if (!(*out = malloc(n ? n : 1)))
		return -ENOMEM;
	memcpy(*out, p + at, n);
	*out_len = n;
	return 0;
}

/* Appending, with the first failure kept. */
struct out {
	struct render_buf *b;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->err)
		o->err = render_put(o->b, s, n);
}

static void put_u64(struct out *o, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRIu64 "\n", v);
	put(o, num, (size_t)n);
}

/*
 * The member at path ("a.b": member b of object member a) into *v
 * (borrowed; NULL when it, or an object on the way, is missing or null).
 * -EIO when an object on the way is there but is not an object: then the
 * name of that member goes to culprit (when not NULL, 64 bytes).
 */
static int field_of(const json_t *obj, const char *path, const json_t **v,
		    char *culprit)
{
	const char *dot = strchr(path, '.');
	const json_t *m;
	char head[64];

	*v = NULL;
	if (!dot) {
		*v = json_object_get(obj, path);
		return 0;
	}
	if ((size_t)(dot - path) >= sizeof head)
		return 0;
	memcpy(head, path, (size_t)(dot - path));
	head[dot - path] = '\0';
	m = json_object_get(obj, head);
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		if (culprit)
			snprintf(culprit, 64, "%s", head);
		return -EIO;
	}
	return field_of(m, dot + 1, v, culprit);
}

const json_t *render_field(const json_t *obj, const char *path)
{
	const json_t *v = NULL;

	return field_of(obj, path, &v, NULL) ? NULL : v;
}

/* A string: value + newline. */
static int str(struct out *o, const json_t *v)
{
	if (!json_is_string(v))
		return -EIO;
	put(o, json_string_value(v), json_string_length(v));
	put(o, "\n", 1);
	return 0;
}

/* An unsigned integer, up to 2^64 - 1 (past json_int_t, jsontext keeps
 * it as its text). */
static int unsigned_int(struct out *o, const json_t *v)
{
	uint64_t u;

	if (field_uint_of(v, &u))
		return -EIO;
	put_u64(o, u);
	return 0;
}

static int boolean(struct out *o, const json_t *v)
{
	if (!json_is_boolean(v))
		return -EIO;
	put(o, json_is_true(v) ? "true\n" : "false\n",
	    json_is_true(v) ? 5 : 6);
	return 0;
}

/* An array: one element per line, all strings or all unsigned ints. */
static int array(struct out *o, const json_t *v, bool strings)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return -EIO;
	json_array_foreach(v, i, e)
		if (strings ? !json_is_string(e) :
		    !json_is_integer(e) || json_integer_value(e) < 0)
			return -EIO;
	json_array_foreach(v, i, e) {
		if (strings) {
			put(o, json_string_value(e), json_string_length(e));
			put(o, "\n", 1);
		} else {
			put_u64(o, (uint64_t)json_integer_value(e));
		}
	}
	return 0;
}

static bool u32_of(const json_t *v, uint32_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		return false;
	*out = (uint32_t)json_integer_value(v);
	return true;
}

static int range(struct out *o, const json_t *v)
{
	uint32_t a, b;
	char r[32];
	int n;

	if (!json_is_object(v) || !u32_of(json_object_get(v, "start"), &a) ||
	    !u32_of(json_object_get(v, "end"), &b))
		return -EIO;
	n = snprintf(r, sizeof r, "%" PRIu32 "-%" PRIu32 "\n", a, b);
	put(o, r, (size_t)n);
	return 0;
}

/*
 * spec: "member=label member=label". The label of the one member of obj
 * that is there and not null; nothing when none is, or more than one
 * (*count says how many are). A member that is there but is not an object
 * is of the wrong type: -EIO, its name in culprit (64 bytes, may be NULL).
 */
static int one_of(struct out *o, const json_t *obj, const char *spec,
		  int *count, char *culprit)
{
	const char *found = NULL, *p = spec;
	size_t flen = 0;
	int n = 0;

	while (*p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ' ');
		const json_t *m;
		char member[64];

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end || (size_t)(eq - p) >= sizeof member)
			return -EIO; /* a bad table entry */
		memcpy(member, p, (size_t)(eq - p));
		member[eq - p] = '\0';
		m = json_object_get(obj, member);
		if (m && !json_is_null(m)) {
			if (!json_is_object(m)) {
				if (culprit)
					snprintf(culprit, 64, "%s", member);
				return -EIO;
			}
			n++;
			found = eq + 1;
			flen = (size_t)(end - found);
		}
		p = *end ? end + 1 : end;
	}
	*count = n;
	if (n == 1) {
		put(o, found, flen);
		put(o, "\n", 1);
	}
	return 0;
}

static int whole(struct out *o, const json_t *obj)
{
	size_t n;
	char *s = jsontext_dump(obj, JSON_INDENT(2), &n);

	if (!s)
		return -ENOMEM;
	put(o, s, n);
	put(o, "\n", 1);
	free(s);
	return 0;
}

/* The file's bytes into o; -EIO with the member at fault in culprit, and
 * for a RH_ONE_OF file, how many of its members are there in *count. */
static int render(const json_t *obj, const struct file_def *f,
		  struct out *o, int *count, char *culprit)
{
	const json_t *v = obj;

	if (f->field && f->how != RH_ONE_OF &&
	    field_of(obj, f->field, &v, culprit))
		return -EIO;
	if (!v || json_is_null(v))
		return 0;
	if (culprit)
		snprintf(culprit, 64, "%s", f->field ? f->field : "");
	switch (f->how) {
	case RH_STR: return str(o, v);
	case RH_UINT: return unsigned_int(o, v);
	case RH_BOOL: return boolean(o, v);
	case RH_STRS: return array(o, v, true);
	case RH_UINTS: return array(o, v, false);
	case RH_RANGE: return range(o, v);
	case RH_ONE_OF: return one_of(o, obj, f->field, count, culprit);
	case RH_JSON: return whole(o, obj);
	}
	return 0;
}

int render_file_to(const json_t *obj, const struct file_def *f,
		   struct render_buf *b)
{
	struct out o = {b, 0};
	size_t start = b->len;
	int n = 1, rc = render(obj, f, &o, &n, NULL);

	if (!rc)
		rc = o.err;
	if (rc)
		b->len = start;
	return rc;
}

/* What a member of the wrong type should have been, in words. */
static const char *wanted(enum render_how how)
{
	switch (how) {
	case RH_STR: return "a string";
	case RH_UINT: return "an unsigned integer";
	case RH_BOOL: return "true or false";
	case RH_STRS: return "an array of strings";
	case RH_UINTS: return "an array of unsigned integers";
	case RH_RANGE: return "{\"start\": N, \"end\": N}";
	default: return "an object";
	}
}

/* Appends "; " (between problems) and the text. */
static void note(struct out *o, size_t start, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct out *o, size_t start, const char *fmt, ...)
{
	char line[192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	/* Several files come from one member (scw_bgp_config.asn, .ipv4
	 * ...): it is named once. */
	if (o->b->len > start && memmem(o->b->p + start, o->b->len - start,
					line, (size_t)n))
		return;
	if (o->b->len > start)
		put(o, "; ", 2);
	put(o, line, (size_t)n);
}

/* The members of a RH_ONE_OF spec of two ("self=... partner=..."). */
static bool two_members(const char *spec, char *a, char *b)
{
	return sscanf(spec, "%63[^=]=%*s %63[^=]=%*s", a, b) == 2;
}

int render_problems(const struct kind *k, const json_t *obj,
		    struct render_buf *b)
{
	struct out o = {b, 0};
	struct render_buf scratch = {0};
	size_t start = b->len;

	for (unsigned i = 0; i < k->nfiles && !o.err; i++) {
		const struct file_def *f = &k->files[i];
		struct out so = {&scratch, 0};
		char culprit[64] = "";
		int n = 1;

		scratch.len = 0;
		if (render(obj, f, &so, &n, culprit) == -EIO) {
			bool whole = f->how == RH_ONE_OF ||
				     strcmp(culprit, f->field) != 0;
			note(&o, start, "%s is not %s", culprit,
			     whole ? "an object" : wanted(f->how));
		} else if (f->how == RH_ONE_OF && n != 1) {
			char a[64], c[64];
			if (two_members(f->field, a, c))
				note(&o, start, "has %s %s %s %s: its %s is "
				     "unknown", n ? "both" : "neither", a,
				     n ? "and" : "nor", c, f->name);
			else
				note(&o, start, "has %s of %s: its %s is "
				     "unknown", n ? "more than one" : "none",
				     f->field, f->name);
		}
	}
	free(scratch.p);
	if (o.err)
		b->len = start;
	return o.err;
}

int render_file(const json_t *obj, const struct file_def *f, char **buf,
		size_t *len)
{
	struct render_buf b = {0};
	int rc = render_file_to(obj, f, &b);

	if (rc || !b.len) {
		free(b.p);
		b.p = NULL;
		b.len = 0;
	}
	*buf = b.p;
	*len = b.len;
	return rc;
}

int render_link(const json_t *obj, const struct link_def *l,
		const char **id)
{
	const json_t *v = render_field(obj, l->field);

	if (!json_is_string(v) ||
	    !field_id_valid(json_string_value(v), json_string_length(v)))
		return -ENOENT;
	*id = json_string_value(v);
	return 0;
}
