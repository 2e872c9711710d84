/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mend: the journal's file as a crash left it, mended (mend.h).
 */
#include "mend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The longest line a gap's comment makes, its newline included (the
 * journal's own lines of comment are no longer). */
#define PAD_LINE 4096

struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* n bytes of comment lines that say lines were lost, none longer than
 * PAD_LINE: the first begins with '#', the others with a space (as the
 * journal's own comments do), a line of one byte is blank. */
static int pad(struct buf *b, uint64_t n)
{
	static const char text[] = "# lines lost here: they did not reach "
				   "the state directory (read-only, full or "
				   "missing), and nothing else holds them";
	char line[PAD_LINE];
	bool first = true;

	while (n) {
		size_t l = n < PAD_LINE ? (size_t)n : PAD_LINE;
		size_t t = first ? sizeof text - 1 : 0;

		memset(line, ' ', l);
		memcpy(line, text, t < l - 1 ? t : l - 1);
		line[l - 1] = '\n';
		if (put(b, line, l))
			return -ENOMEM;
		n -= l;
		first = false;
	}
	return 0;
}

static int cmp_batch(const void *a, const void *b)
{
	const struct mend_batch *x = *(const struct mend_batch *const *)a;
	const struct mend_batch *y = *(const struct mend_batch *const *)b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int mend_journal(const char *lines, size_t len, uint64_t base,
		 const struct mend_batch *b, size_t n, size_t *keep,
		 char **add, size_t *addlen)
{
	const struct mend_batch **s = calloc(n + 1, sizeof *s);
	struct buf out = {0};
	uint64_t end;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	*keep = len;
	while (*keep && lines[*keep - 1] != '\n')
		(*keep)--;                    /* a torn last line */
	end = base + *keep;
	for (size_t i = 0; i < n; i++)
		s[i] = &b[i];
	qsort(s, n, sizeof *s, cmp_batch);
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t off = s[i]->off, e = off + s[i]->len;

		if (e <= end || off < base)
			continue;             /* there already, or lost */
		if (off < base + *keep) {
			*keep = (size_t)(off - base);
			out.len = 0;
		} else if (off < end) {
			out.len = (size_t)(off - base - *keep);
		} else if (off > end) {
			rc = pad(&out, off - end);
		}
		if (!rc)
			rc = put(&out, s[i]->text, s[i]->len);
		end = e;
	}
	free(s);
	if (rc || !out.len) {
		free(out.p);
		out.p = NULL;
		out.len = 0;
	}
	*add = out.p;
	*addlen = out.len;
	return rc;
}
