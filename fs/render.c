/*
 * render: file contents from API objects, one function per way a file is
 * rendered (enum render_how).
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

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

const json_t *render_field(const json_t *obj, const char *path)
{
	const char *dot = strchr(path, '.');
	char head[64];

	if (!dot)
		return json_object_get(obj, path);
	if ((size_t)(dot - path) >= sizeof head)
		return NULL;
	memcpy(head, path, (size_t)(dot - path));
	head[dot - path] = '\0';
	return render_field(json_object_get(obj, head), dot + 1);
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

	if (conn_uint_of(v, &u))
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

/* spec: "member=label member=label": the label of the one member of obj
 * that is there and not null; nothing when none is, or more than one. */
static int one_of(struct out *o, const json_t *obj, const char *spec)
{
	const char *found = NULL, *p = spec;
	size_t flen = 0;
	int n = 0;

	while (*p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ' ');
		char member[64];

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end || (size_t)(eq - p) >= sizeof member)
			return -EIO; /* a bad table entry */
		memcpy(member, p, (size_t)(eq - p));
		member[eq - p] = '\0';
		if (!json_is_null(json_object_get(obj, member)) &&
		    json_object_get(obj, member)) {
			n++;
			found = eq + 1;
			flen = (size_t)(end - found);
		}
		p = *end ? end + 1 : end;
	}
	if (n == 1) {
		put(o, found, flen);
		put(o, "\n", 1);
	}
	return 0;
}

static int whole(struct out *o, const json_t *obj)
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

int render_file_to(const json_t *obj, const struct file_def *f,
		   struct render_buf *b)
{
	struct out o = {b, 0};
	const json_t *v = f->field && f->how != RH_ONE_OF ?
			  render_field(obj, f->field) : obj;
	size_t start = b->len;
	int rc = 0;

	if (!v || json_is_null(v))
		return 0;
	switch (f->how) {
	case RH_STR: rc = str(&o, v); break;
	case RH_UINT: rc = unsigned_int(&o, v); break;
	case RH_BOOL: rc = boolean(&o, v); break;
	case RH_STRS: rc = array(&o, v, true); break;
	case RH_UINTS: rc = array(&o, v, false); break;
	case RH_RANGE: rc = range(&o, v); break;
	case RH_ONE_OF: rc = one_of(&o, obj, f->field); break;
	case RH_JSON: rc = whole(&o, obj); break;
	}
	if (!rc)
		rc = o.err;
	if (rc)
		b->len = start;
	return rc;
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
	    !conn_id_valid(json_string_value(v), json_string_length(v)))
		return -ENOENT;
	*id = json_string_value(v);
	return 0;
}
