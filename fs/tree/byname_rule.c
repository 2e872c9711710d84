/* SPDX-License-Identifier: Apache-2.0 */
/*
 * byname_rule: the by-name rule (byname.h) and the index of one listing's
 * names: pure functions of their input.
 */
#include "byname.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A set of strings for uniqueness checks: open addressing, no removal. */
struct sset {
	const char **slot;
	size_t cap;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int sset_init(struct sset *s, size_t n)
{
	s->cap = 16;
	while (s->cap < n * 2 + 1)
		s->cap *= 2;
	s->slot = calloc(s->cap, sizeof *s->slot);
	return s->slot ? 0 : -ENOMEM;
}

/* Adds str; false if it was already there. */
static bool sset_add(struct sset *s, const char *str)
{
	size_t i = str_hash(str) & (s->cap - 1);

	for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i], str) == 0)
			return false;
	s->slot[i] = str;
	return true;
}

static bool sset_has(const struct sset *s, const char *str)
{
	size_t i = str_hash(str) & (s->cap - 1);

	for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i], str) == 0)
			return true;
	return false;
}

/* The longest prefix of s (len bytes) of at most max bytes that does not
 * split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static char *sanitize(const char *name, size_t len, bool *original)
{
	char *out;

	*original = false;
	if (!name || len == 0)
		return strdup("_");
	if (len == 1 && name[0] == '.')
		return strdup("_.");
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return strdup("_..");
	*original = len <= BYNAME_MAX;
	len = utf8_cut(name, len, BYNAME_MAX);
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = name[i];
		/* '/' cannot be in a name; control characters (NUL, newline,
		 * tab, ...) break `ls | while read` and terminals. */
		if (c == '/' || c < 0x20 || c == 0x7f) {
			out[i] = '_';
			*original = false;
		}
	}
	out[len] = '\0';
	return out;
}

/* base shortened to fit, then "~" and suffix (idlen bytes of id). */
static char *suffixed(const char *base, const char *id, size_t idlen)
{
	size_t blen = strlen(base);
	size_t keep = utf8_cut(base, blen, BYNAME_MAX - 1 - idlen);
	char *out = malloc(keep + 1 + idlen + 1);

	if (!out)
		return NULL;
	memcpy(out, base, keep);
	out[keep] = '~';
	memcpy(out + keep + 1, id, idlen);
	out[keep + 1 + idlen] = '\0';
	return out;
}

struct item {
	char *base;
	bool original;
	size_t idx;
	const char *id;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->base, y->base);
	return c ? c : strcmp(x->id, y->id);
}

void byname_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int byname_assign(const struct byname_in *in, size_t n, char ***out)
{
	struct item *it = calloc(n ? n : 1, sizeof *it);
	char **final = calloc(n ? n : 1, sizeof *final);
	bool *pending = calloc(n ? n : 1, sizeof *pending);
	struct sset taken = {0};
	int rc = -ENOMEM;
	size_t i, j;

	if (!it || !final || !pending || sset_init(&taken, n * 2))
		goto out;
	for (i = 0; i < n; i++) {
		it[i].idx = i;
		it[i].id = in[i].id;
		it[i].base = sanitize(in[i].name, in[i].len, &it[i].original);
		if (!it[i].base)
			goto out;
	}
	/* Group equal bases; sorting makes the outcome order-independent. */
	qsort(it, n, sizeof *it, cmp_item);
	for (i = 0; i < n; i = j) {
		size_t originals = 0;
		for (j = i; j < n && strcmp(it[j].base, it[i].base) == 0; j++)
			originals += it[j].original;
		for (size_t k = i; k < j; k++) {
			bool keeps = j - i == 1 ||
				     (originals == 1 && it[k].original);
			if (keeps) {
				final[it[k].idx] = strdup(it[k].base);
				if (!final[it[k].idx])
					goto out;
				sset_add(&taken, final[it[k].idx]);
			} else {
				pending[it[k].idx] = true;
			}
		}
	}
	/* The others: "~" + 8 characters of the id, then the whole id, then
	 * (never seen in practice) a counter. Processed in sorted order. */
	for (i = 0; i < n; i++) {
		size_t x = it[i].idx;
		const char *id = it[i].id;
		char *c;

		if (!pending[x])
			continue;
		c = suffixed(it[i].base, id, strlen(id) < 8 ? strlen(id) : 8);
		if (c && sset_has(&taken, c)) {
			free(c);
			c = suffixed(it[i].base, id, strlen(id));
		}
		for (unsigned k = 2; c && sset_has(&taken, c); k++) {
			char extra[48];
			int m = snprintf(extra, sizeof extra, "%s~%u", id, k);
			free(c);
			c = suffixed(it[i].base, extra, (size_t)m);
		}
		if (!c)
			goto out;
		final[x] = c;
		sset_add(&taken, c);
	}
	*out = final;
	final = NULL;
	rc = 0;
out:
	for (i = 0; it && i < n; i++)
		free(it[i].base);
	free(it);
	free(pending);
	free(taken.slot);
	byname_names_free(final, n);
	return rc;
}

/* ---- the index ---------------------------------------------------------- */

struct byname_index {
	size_t n;
	uint32_t *off;          /* n: where each name starts in text */
	uint32_t *slot;         /* open addressing: name -> i + 1 */
	size_t cap;             /* a power of two */
	char *text;             /* the names, each NUL-terminated */
};

int byname_index_new(const struct byname_in *in, size_t n,
		    struct byname_index **out)
{
	struct byname_index *x = calloc(1, sizeof *x);
	char **names = NULL;
	size_t len = 0, at = 0;

	if (!x || n >= UINT32_MAX / 2 || byname_assign(in, n, &names))
		goto fail;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	x->cap = 16;
	while (x->cap < 2 * n + 1)
		x->cap *= 2;
	x->off = calloc(n ? n : 1, sizeof *x->off);
	x->slot = calloc(x->cap, sizeof *x->slot);
	x->text = malloc(len ? len : 1);
	if (!x->off || !x->slot || !x->text || len >= UINT32_MAX)
		goto fail;
	x->n = n;
	for (size_t i = 0; i < n; i++) {
		size_t k = str_hash(names[i]) & (x->cap - 1);
		size_t l = strlen(names[i]) + 1;

		x->off[i] = (uint32_t)at;
		memcpy(x->text + at, names[i], l);
		at += l;
		while (x->slot[k])
			k = (k + 1) & (x->cap - 1);
		x->slot[k] = (uint32_t)i + 1;
	}
	byname_names_free(names, n);
	*out = x;
	return 0;
fail:
	byname_names_free(names, n);
	byname_index_free(x);
	return -ENOMEM;
}

void byname_index_free(struct byname_index *x)
{
	if (!x)
		return;
	free(x->off);
	free(x->slot);
	free(x->text);
	free(x);
}

size_t byname_index_size(const struct byname_index *x)
{
	return x->n;
}

const char *byname_index_name(const struct byname_index *x, size_t i)
{
	return x->text + x->off[i];
}

long byname_index_find(const struct byname_index *x, const char *name)
{
	for (size_t k = str_hash(name) & (x->cap - 1); x->slot[k];
	     k = (k + 1) & (x->cap - 1))
		if (strcmp(byname_index_name(x, x->slot[k] - 1), name) == 0)
			return (long)x->slot[k] - 1;
	return -1;
}
