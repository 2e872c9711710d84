/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsontext: repairs and record splitting of JSON text, byte by byte.
 */
#include "jsontext.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned c = p[0], cp, min;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The code unit of a "\uXXXX" escape at p (6 bytes available), or -1. */
static long escape_unit(const char *p, size_t left)
{
	long v = 0;

	if (left < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* The length of the number token at p (JSON's characters for numbers). */
static size_t number_len(const char *p, size_t left)
{
	size_t n = 0;

	while (n < left && strchr("0123456789+-.eE", p[n]) && p[n])
		n++;
	return n;
}

/* Can jansson hold this number: an integer within int64, or a real that
 * does not overflow a double? (Malformed numbers are left for jansson to
 * refuse.) */
static bool fits(const char *p, size_t n)
{
	static const char max[] = "9223372036854775807";
	char buf[64];
	size_t i = p[0] == '-', digits;

	if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n)) {
		double d;
		if (n >= sizeof buf)
			return true; /* leave it to jansson */
		memcpy(buf, p, n);
		buf[n] = '\0';
		d = strtod(buf, NULL);
		return !isinf(d);
	}
	digits = n - i;
	if (digits != 19)
		return digits < 19;
	/* -9223372036854775808 fits too. */
	return memcmp(p + i, max, 18) < 0 ||
	       (memcmp(p + i, max, 18) == 0 && p[i + 18] <= (i ? '8' : '7'));
}

struct out {
	char *p;
	size_t len;
};

static void put(struct out *o, const void *s, size_t n)
{
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* One escape inside a string at in[*i]; a lone surrogate becomes \ufffd. */
static void copy_escape(const char *in, size_t len, size_t *i, struct out *o,
			struct jsontext_repairs *r)
{
	long u = escape_unit(in + *i, len - *i), lo;

	if (u >= 0xd800 && u <= 0xdbff) {
		lo = escape_unit(in + *i + 6, len - *i - 6);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			put(o, in + *i, 12);
			*i += 12;
			return;
		}
	}
	if (u >= 0xd800 && u <= 0xdfff) {
		put(o, "\\ufffd", 6);
		r->surrogates++;
		*i += 6;
		return;
	}
	/* Any other escape: copied (a bad one is jansson's to refuse), but
	 * a byte past ASCII after the backslash is left to the caller's
	 * UTF-8 check, as any other such byte. */
	if (*i + 1 < len && (unsigned char)in[*i + 1] < 0x80) {
		put(o, in + *i, 2);
		*i += 2;
	} else {
		put(o, in + *i, 1);
		*i += 1;
	}
}

int jsontext_repair(const char *in, size_t len, char **outp, size_t *outlen,
		    struct jsontext_repairs *r)
{
	struct out o = {malloc(len * 3 + 32), 0};
	bool in_string = false;
	size_t i = 0;

	memset(r, 0, sizeof *r);
	if (!o.p)
		return -ENOMEM;
	while (i < len) {
		char c = in[i];
		size_t n;

		if (in_string && c == '\\') {
			copy_escape(in, len, &i, &o, r);
		} else if (c == '"') {
			in_string = !in_string;
			put(&o, &c, 1);
			i++;
		} else if (!in_string && (c == '-' || (c >= '0' && c <= '9'))) {
			n = number_len(in + i, len - i);
			if (!fits(in + i, n)) {
				put(&o, "\"" JT_NUM_MARK, 1 + strlen(JT_NUM_MARK));
				put(&o, in + i, n);
				put(&o, "\"", 1);
				r->numbers++;
			} else {
				put(&o, in + i, n);
			}
			i += n;
		} else if ((n = utf8_seq((const unsigned char *)in + i,
					 len - i))) {
			put(&o, in + i, n);
			i += n;
		} else {
			put(&o, "\xef\xbf\xbd", 3);
			r->bad_utf8++;
			i++;
		}
	}
	o.p[o.len] = '\0';
	*outp = o.p;
	*outlen = o.len;
	return 0;
}

/* A scanner over JSON text that knows strings and nesting, nothing else. */
struct scan {
	const char *t;
	size_t len, i;
};

static void skip_ws(struct scan *s)
{
	while (s->i < s->len && strchr(" \t\r\n", s->t[s->i]) && s->t[s->i])
		s->i++;
}

/* At a '"': past the string's closing quote. false if it never closes. */
static bool skip_string(struct scan *s)
{
	for (s->i++; s->i < s->len; s->i++) {
		if (s->t[s->i] == '\\')
			s->i++;
		else if (s->t[s->i] == '"')
			return ++s->i, true;
	}
	return false;
}

/* Past one value: a string, an object or array (any depth, without
 * recursion), or a scalar. false if the text ends first. Brackets are not
 * matched by kind: a record with a mismatch is jansson's to refuse. */
static bool skip_value(struct scan *s)
{
	size_t depth = 0;

	skip_ws(s);
	if (s->i >= s->len)
		return false;
	if (s->t[s->i] != '{' && s->t[s->i] != '[' && s->t[s->i] != '"') {
		while (s->i < s->len && s->t[s->i] &&
		       !strchr(",}] \t\r\n", s->t[s->i]))
			s->i++;
		return true;
	}
	do {
		char c;

		if (s->i >= s->len)
			return false;
		c = s->t[s->i];
		if (c == '"') {
			if (!skip_string(s))
				return false;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		s->i++;
	} while (depth > 0);
	return true;
}

/* The records of the array starting at s->i (a '['). */
static int split_array(struct scan *s, struct jsontext_span **spans, size_t *n,
		       size_t *arr_start, size_t *arr_end)
{
	size_t cap = 0;

	*arr_start = ++s->i;
	for (;;) {
		skip_ws(s);
		if (s->i < s->len && s->t[s->i] == ']' && *n == 0)
			break;
		if (*n == cap) {
			struct jsontext_span *v = realloc(*spans, (cap = cap ? cap * 2
							     : 64) * sizeof *v);
			if (!v)
				return -ENOMEM;
			*spans = v;
		}
		(*spans)[*n].start = s->i;
		if (!skip_value(s))
			return -EINVAL;
		(*spans)[(*n)++].end = s->i;
		skip_ws(s);
		if (s->i < s->len && s->t[s->i] == ',') {
			s->i++;
			continue;
		}
		if (s->i < s->len && s->t[s->i] == ']')
			break;
		return -EINVAL;
	}
	*arr_end = s->i;
	return 0;
}

int jsontext_split(const char *text, size_t len, const char *key,
		   struct jsontext_span **spans, size_t *n, size_t *arr_start,
		   size_t *arr_end)
{
	struct scan s = {text, len, 0};
	size_t klen = strlen(key);
	int rc = -EINVAL;

	*spans = NULL;
	*n = 0;
	skip_ws(&s);
	if (s.i >= len || text[s.i] != '{')
		return -EINVAL;
	s.i++;
	for (;;) {
		size_t k, klen_here;

		skip_ws(&s);
		if (s.i >= len || text[s.i] != '"')
			break;
		k = s.i + 1;
		if (!skip_string(&s))
			break;
		/* skip_string leaves s.i just past the closing quote. */
		klen_here = s.i - 1 - k;
		skip_ws(&s);
		if (s.i >= len || text[s.i++] != ':')
			break;
		skip_ws(&s);
		if (s.i < len && text[s.i] == '[' &&
		    klen_here == klen && memcmp(text + k, key, klen) == 0) {
			rc = split_array(&s, spans, n, arr_start, arr_end);
			break;
		}
		if (!skip_value(&s))
			break;
		skip_ws(&s);
		if (s.i < len && text[s.i] == ',') {
			s.i++;
			continue;
		}
		break;
	}
	if (rc) {
		free(*spans);
		*spans = NULL;
		*n = 0;
	}
	return rc;
}

bool jsontext_record_id(const char *text, size_t len, char *id, size_t idlen)
{
	struct scan s = {text, len, 0};

	skip_ws(&s);
	if (s.i >= len || text[s.i] != '{' || idlen == 0)
		return false;
	s.i++;
	for (;;) {
		size_t k, v;
		bool is_id;

		skip_ws(&s);
		if (s.i >= len || text[s.i] != '"')
			return false;
		k = s.i;
		if (!skip_string(&s))
			return false;
		is_id = s.i - k == 4 && memcmp(text + k, "\"id\"", 4) == 0;
		skip_ws(&s);
		if (s.i >= len || text[s.i++] != ':')
			return false;
		skip_ws(&s);
		v = s.i;
		if (!skip_value(&s))
			return false;
		if (is_id && text[v] == '"') {
			size_t n = s.i - v - 2; /* between the quotes */
			if (n > idlen - 1)
				n = idlen - 1;
			memcpy(id, text + v + 1, n);
			id[n] = '\0';
			return true;
		}
		skip_ws(&s);
		if (s.i >= len || text[s.i] != ',')
			return false;
		s.i++;
	}
}

/* ---- numbers jansson cannot hold, back as the API sent them ---------- */

bool jsontext_num_text(const json_t *v, const char **text, size_t *len)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s || n <= JT_NUM_PREFIX_LEN ||
	    memcmp(s, JT_NUM_PREFIX, JT_NUM_PREFIX_LEN) != 0 ||
	    strspn(s + JT_NUM_PREFIX_LEN, "0123456789+-.eE") !=
	    n - JT_NUM_PREFIX_LEN)
		return false;
	*text = s + JT_NUM_PREFIX_LEN;
	*len = n - JT_NUM_PREFIX_LEN;
	return true;
}

/* The dump callback: the text, with every marked number written back as
 * the number it was. */
struct dumpbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static int dump_put(const char *buf, size_t n, void *ud)
{
	struct dumpbuf *d = ud;

	if (d->len + n + 1 > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;
		char *np;
		while (cap < d->len + n + 1)
			cap *= 2;
		if (!(np = realloc(d->p, cap))) {
			d->oom = true;
			return -1;
		}
		d->p = np;
		d->cap = cap;
	}
	memcpy(d->p + d->len, buf, n);
	d->len += n;
	d->p[d->len] = '\0';
	return 0;
}

/* "\u0000#123..." with its quotes becomes 123...: in place. */
static void unmark_numbers(struct dumpbuf *d)
{
	static const char mark[] = "\"" JT_NUM_MARK;
	size_t ml = sizeof mark - 1, r = 0, w = 0;
	const char *at;

	/* Most objects have none: one search, nothing moved. */
	while ((at = memmem(d->p + r, d->len - r, mark, ml))) {
		size_t m = (size_t)(at - d->p), n;

		memmove(d->p + w, d->p + r, m - r);
		w += m - r;
		n = strspn(at + ml, "0123456789+-.eE");
		if (n && m + ml + n < d->len && at[ml + n] == '"') {
			memmove(d->p + w, at + ml, n);
			w += n;
			r = m + ml + n + 1;
		} else {
			d->p[w++] = d->p[m];
			r = m + 1;
		}
	}
	memmove(d->p + w, d->p + r, d->len - r);
	w += d->len - r;
	d->len = w;
	d->p[w] = '\0';
}

char *jsontext_dump(const json_t *obj, size_t flags, size_t *len)
{
	struct dumpbuf d = {0};

	if (json_dump_callback(obj, dump_put, &d, flags) || d.oom || !d.p) {
		free(d.p);
		return NULL;
	}
	unmark_numbers(&d);
	*len = d.len;
	return d.p;
}
