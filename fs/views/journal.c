/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: a file that only grows, keeping its last lines.
 *
 * The file's offsets are split in three: [0, ancient) dropped lines no
 * longer remembered one by one; [ancient, base) dropped lines whose start
 * offsets are remembered (dstart); [base, end) the lines kept, whose bytes
 * are buf[head .. tail) and whose lengths are lens. Arrays are used from
 * a head index and compacted when their dead front outgrows them.
 *
 * A dropped line reads as a comment of its own length: "# N lines
 * missed", N the lines from it to the first one kept, so that a reader
 * who stopped there learns how many it missed. Every dropped line's start
 * is a place a reader may have stopped, so each must begin with that
 * text; but a reader who stopped earlier reads through them, and must
 * meet one such line, not one per line it missed. So each comment line
 * but the last ends one byte early, and its last byte, a space, begins
 * the next: a reader meets one line that begins with '#', then lines that
 * begin with " #" (the rest of the comment), then the lines kept. No
 * line of it is longer than SEG + 1 bytes: a long dropped line reads as
 * several, the others blank. The ancient part reads as one such dropped
 * line, its count every line dropped.
 */
#include "journal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dropped lines remembered by offset: eight times as many as are kept,
 * within these bounds (8 bytes each). A reader further behind than that
 * finds blank lines, then the count of the oldest remembered. */
#define DROPPED_MIN 65536
#define DROPPED_MAX (1u << 20)
/* The longest line a comment makes, less its leading space: under 4 KiB,
 * the line length tools such as awk and read(1) are happy with. */
#define SEG 4095

struct journal {
	pthread_mutex_t lock;
	size_t max_lines;
	char *buf;                    /* kept bytes: buf[head .. tail) */
	size_t head, tail, cap;
	size_t *lens;                 /* kept lines: lens[lhead ..] */
	size_t lhead, nlines, lcap;
	uint64_t *dstart;             /* dropped lines: dstart[dhead ..] */
	size_t dhead, nd, dcap, dmax;
	uint64_t ancient, base, end;
	uint64_t appended, dropped;
	struct timespec mtime;
};

int journal_new(size_t max_lines, const struct timespec *start,
		struct journal **out)
{
	struct journal *j = calloc(1, sizeof *j);

	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->max_lines = max_lines ? max_lines : 1;
	j->dmax = j->max_lines < DROPPED_MAX / 8 ? j->max_lines * 8 :
		  DROPPED_MAX;
	if (j->dmax < DROPPED_MIN)
		j->dmax = DROPPED_MIN;
	j->mtime = *start;
	*out = j;
	return 0;
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	free(j->buf);
	free(j->lens);
	free(j->dstart);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* Room for `more` elements of size `el` after arr[head + n]: the dead
 * front moved out first, then the array grown. */
static int room(void **arr, size_t el, size_t *head, size_t n, size_t *cap,
		size_t more)
{
	char *a = *arr;
	size_t want;

	if (*head + n + more <= *cap)
		return 0;
	if (*head) {
		memmove(a, a + *head * el, n * el);
		*head = 0;
		if (n + more <= *cap)
			return 0;
	}
	want = *cap ? *cap : 64;
	while (want < n + more)
		want *= 2;
	if (!(a = realloc(a, want * el)))
		return -ENOMEM;
	*arr = a;
	*cap = want;
	return 0;
}

/* The oldest kept line becomes a dropped one. */
static void drop_one(struct journal *j)
{
	size_t len = j->lens[j->lhead];

	j->dstart[j->dhead + j->nd++] = j->base;
	j->base += len;
	j->head += len;
	j->lhead++;
	j->nlines--;
	j->dropped++;
	if (j->nd > j->dmax) {
		/* Forget the oldest one's offset: it joins the ancient. */
		j->dhead++;
		j->nd--;
		j->ancient = j->dstart[j->dhead];
	}
}

int journal_append(struct journal *j, const char *text, size_t len,
		   const struct timespec *t)
{
	size_t n = 0, start = 0;
	int rc;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	pthread_mutex_lock(&j->lock);
	rc = room((void **)&j->buf, 1, &j->head, j->tail - j->head, &j->cap,
		  len);
	if (!rc)
		rc = room((void **)&j->lens, sizeof *j->lens, &j->lhead,
			  j->nlines, &j->lcap, n);
	if (!rc)
		rc = room((void **)&j->dstart, sizeof *j->dstart, &j->dhead,
			  j->nd, &j->dcap, n + 1);
	if (rc) {
		pthread_mutex_unlock(&j->lock);
		return rc;
	}
	/* room() may have moved the fronts: tail follows head. */
	j->tail = j->head + (size_t)(j->end - j->base);
	memcpy(j->buf + j->tail, text, len);
	j->tail += len;
	j->end += len;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		j->lens[j->lhead + j->nlines++] = i + 1 - start;
		start = i + 1;
	}
	j->appended += n;
	/* At most n lines go (the batch's own among them when it is longer
	 * than the journal): room was made for them in dstart. */
	while (j->nlines > j->max_lines)
		drop_one(j);
	j->mtime = *t;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

uint64_t journal_size(struct journal *j, struct timespec *mtime)
{
	uint64_t size;

	pthread_mutex_lock(&j->lock);
	size = j->end;
	if (mtime)
		*mtime = j->mtime;
	pthread_mutex_unlock(&j->lock);
	return size;
}

/* The remembered dropped line holding offset x (ancient <= x < base). */
static size_t dropped_at(const struct journal *j, uint64_t x)
{
	size_t lo = 0, hi = j->nd;        /* dstart[lo] <= x < dstart[hi] */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->dstart[j->dhead + mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Bytes [from, from + n) of a dropped span [s, e) that stands for
 * `missed` lines, as its comment; last: the span just before the lines
 * kept (it ends in a newline, not in the space that begins the next). */
static void comment(const struct journal *j, uint64_t s, uint64_t e,
		    uint64_t missed, bool last, uint64_t from, char *out,
		    size_t n)
{
	uint64_t len = e - s, content = last ? len : len - 1;
	char text[96];
	size_t tl = (size_t)snprintf(text, sizeof text,
				     "# %" PRIu64 " line%s missed (the journal "
				     "keeps the last %zu)", missed,
				     missed == 1 ? "" : "s", j->max_lines);

	/* Where the first segment's newline is: the text stops before it
	 * (cut, in a line too short for it all). */
	uint64_t first_nl = (SEG < content ? SEG : content) - 1;

	for (size_t k = 0; k < n; k++) {
		uint64_t p = from - s + k;
		uint64_t seg_end = (p / SEG + 1) * SEG;

		if (seg_end > content)
			seg_end = content;
		if (p >= content)
			out[k] = ' ';        /* begins the next comment */
		else if (p == seg_end - 1)
			out[k] = '\n';
		else if (p < first_nl && p < tl)
			out[k] = text[p];
		else
			out[k] = ' ';
	}
}

/* Bytes [off, off + size) of the dropped part (off < base) into buf: how
 * many. Lock held. */
static size_t read_dropped(const struct journal *j, uint64_t off, char *buf,
			   size_t size)
{
	uint64_t s, e, missed;
	size_t n;

	if (off < j->ancient) {
		/* One span for every line no longer remembered. */
		s = 0;
		e = j->ancient;
		missed = j->dropped;
	} else {
		size_t i = dropped_at(j, off);
		s = j->dstart[j->dhead + i];
		e = i + 1 < j->nd ? j->dstart[j->dhead + i + 1] : j->base;
		missed = j->nd - i;
	}
	n = (size_t)(e - off < size ? e - off : size);
	comment(j, s, e, missed, e == j->base, off, buf, n);
	return n;
}

size_t journal_read(struct journal *j, uint64_t off, char *buf,
		    size_t size)
{
	size_t got = 0;

	pthread_mutex_lock(&j->lock);
	while (got < size && off < j->end) {
		size_t n;

		if (off < j->base) {
			n = read_dropped(j, off, buf + got, size - got);
		} else {
			n = (size_t)(j->end - off < size - got ?
				     j->end - off : size - got);
			memcpy(buf + got, j->buf + j->head + (off - j->base), n);
		}
		got += n;
		off += n;
	}
	pthread_mutex_unlock(&j->lock);
	return got;
}

void journal_counts(struct journal *j, uint64_t *lines, uint64_t *dropped)
{
	pthread_mutex_lock(&j->lock);
	*lines = j->appended;
	*dropped = j->dropped;
	pthread_mutex_unlock(&j->lock);
}

int journal_restore(struct journal *j, uint64_t base, uint64_t dropped,
		    const char *text, size_t len, const struct timespec *mtime)
{
	int rc;

	pthread_mutex_lock(&j->lock);
	if (j->end || j->appended) {
		pthread_mutex_unlock(&j->lock);
		return -EBUSY;
	}
	/* Every line before base reads as one comment, as lines no longer
	 * remembered one by one do. */
	j->ancient = j->base = j->end = base;
	j->dropped = j->appended = dropped;
	pthread_mutex_unlock(&j->lock);
	rc = len ? journal_append(j, text, len, mtime) : 0;
	pthread_mutex_lock(&j->lock);
	j->mtime = *mtime;
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int journal_kept(struct journal *j, char **out, size_t *len, uint64_t *base,
		 uint64_t *dropped)
{
	pthread_mutex_lock(&j->lock);
	*len = (size_t)(j->end - j->base);
	*base = j->base;
	*dropped = j->dropped;
	*out = *len ? malloc(*len) : NULL;
	if (*out)
		memcpy(*out, j->buf + j->head, *len);
	pthread_mutex_unlock(&j->lock);
	return *len && !*out ? -ENOMEM : 0;
}
