/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the bytes of .interlinkfs/changes: what is appended is read
 * back at the same offsets for the life of the journal; dropped lines read
 * as comment lines of their own length, the first a reader meets saying
 * how many it missed; no read ever starts a line that is not whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

static const struct timespec T0 = {1000, 0}, T1 = {2000, 5};

/* Line i of the test: "line <i> ..." of varying length, newline ended. */
static size_t line(unsigned i, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "2026-12-02T18:41:07Z\tfr-par\t"
				"links\tid-%u\tstatus\tactive\t%.*s\n", i,
				(int)(i % 37), "down-down-down-down-down-down"
				"-down-down-down-down");
}

static void append(struct journal *j, unsigned from, unsigned to)
{
	char *text = malloc(256 * (to - from) + 1);
	size_t len = 0;

	assert_non_null(text);
	for (unsigned i = from; i < to; i++)
		len += line(i, text + len, 256);
	assert_int_equal(journal_append(j, text, len, &T1), 0);
	free(text);
}

/* The whole file. */
static char *all(struct journal *j, size_t *len)
{
	uint64_t size = journal_size(j, NULL);
	char *buf = malloc(size + 1);

	assert_non_null(buf);
	*len = journal_read(j, 0, buf, size + 100);
	assert_int_equal(*len, size);
	buf[*len] = '\0';
	return buf;
}

static void test_appended_lines_read_back_at_their_offsets(void **st)
{
	struct journal *j;
	struct timespec m;
	char expect[4096], buf[4096];
	size_t elen = 0, got;
	uint64_t lines, dropped;

	(void)st;
	assert_int_equal(journal_new(100, &T0, &j), 0);
	assert_int_equal(journal_size(j, &m), 0);
	assert_int_equal(m.tv_sec, 1000);
	assert_int_equal(journal_read(j, 0, buf, sizeof buf), 0);
	for (unsigned i = 0; i < 10; i++)
		elen += line(i, expect + elen, sizeof expect - elen);
	append(j, 0, 4);
	append(j, 4, 10);
	assert_int_equal(journal_size(j, &m), elen);
	assert_int_equal(m.tv_sec, 2000);
	got = journal_read(j, 0, buf, sizeof buf);
	assert_int_equal(got, elen);
	assert_memory_equal(buf, expect, elen);
	/* Any window of it, at any offset. */
	for (size_t off = 0; off < elen; off += 7) {
		got = journal_read(j, off, buf, 13);
		assert_int_equal(got, off + 13 <= elen ? 13 : elen - off);
		assert_memory_equal(buf, expect + off, got);
	}
	assert_int_equal(journal_read(j, elen, buf, 10), 0);
	journal_counts(j, &lines, &dropped);
	assert_int_equal(lines, 10);
	assert_int_equal(dropped, 0);
	journal_free(j);
}

static void test_dropped_lines_read_as_comments_of_their_length(void **st)
{
	struct journal *j;
	char expect[8192], *text, *l, *nl;
	size_t elen = 0, len, starts[20];
	unsigned k = 0;

	(void)st;
	for (unsigned i = 0; i < 12; i++) {
		starts[i] = elen;
		elen += line(i, expect + elen, sizeof expect - elen);
	}
	starts[12] = elen;
	assert_int_equal(journal_new(5, &T0, &j), 0);
	append(j, 0, 3);
	append(j, 3, 12);
	text = all(j, &len);
	/* Offsets kept: the same size, the last 5 lines where they were. */
	assert_int_equal(len, elen);
	assert_memory_equal(text + starts[7], expect + starts[7],
			    elen - starts[7]);
	/* Lines 0 .. 6: comments, of their own length, counting down. */
	for (l = text; k < 7; l = nl + 1, k++) {
		char want[64];
		nl = strchr(l, '\n');
		assert_non_null(nl);
		assert_int_equal((size_t)(nl + 1 - text), starts[k + 1]);
		snprintf(want, sizeof want, "# %u line%s missed (the journal "
			 "keeps the last 5)", 7 - k, 7 - k == 1 ? "" : "s");
		assert_memory_equal(l, want, strlen(want));
	}
	free(text);
	journal_free(j);
}

static void test_a_reader_that_fell_behind_learns_how_many_it_missed(
	void **st)
{
	struct journal *j;
	char buf[8192];
	size_t at, got;

	(void)st;
	assert_int_equal(journal_new(4, &T0, &j), 0);
	append(j, 0, 3);
	at = journal_size(j, NULL);          /* a tail -f stopped here */
	append(j, 3, 4);
	append(j, 4, 12);                    /* 11 ... 8 kept */
	got = journal_read(j, at, buf, sizeof buf - 1);
	buf[got] = '\0';
	/* Lines 3 .. 7 were missed: the first line it reads says 5. */
	assert_true(strncmp(buf, "# 5 lines missed", 16) == 0);
	/* Then comments, then whole lines of the journal: 4 of them. */
	{
		unsigned comments = 0, lines = 0;
		for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
			if (*l == '#') {
				comments++;
			} else {
				assert_true(strncmp(l, "2026-", 5) == 0);
				lines++;
			}
		}
		assert_int_equal(comments, 5);
		assert_int_equal(lines, 4);
	}
	journal_free(j);
}

static void test_past_what_is_remembered_old_lines_read_as_hashes(void **st)
{
	struct journal *j;
	char *text;
	size_t len;
	unsigned n = 0, hashes = 0;
	uint64_t lines, dropped;

	(void)st;
	/* 1 line kept; the offsets of 4096 dropped ones remembered. */
	assert_int_equal(journal_new(1, &T0, &j), 0);
	for (unsigned i = 0; i < 5000; i += 100)
		append(j, i, i + 100);
	text = all(j, &len);
	journal_counts(j, &lines, &dropped);
	assert_int_equal(lines, 5000);
	assert_int_equal(dropped, 4999);
	/* Every line whole: '#' lines, then the one kept. */
	for (char *l = text; l < text + len; l = strchr(l, '\n') + 1, n++) {
		assert_non_null(strchr(l, '\n'));
		if (l[0] == '#' && l[1] == '#')
			hashes++;
		else if (l[0] != '#')
			assert_true(strchr(l, '\n') + 1 == text + len);
	}
	assert_int_equal(hashes, 1);
	assert_int_equal(n, 1 + 4096 + 1);
	free(text);
	journal_free(j);
}

static void test_a_batch_longer_than_the_journal(void **st)
{
	struct journal *j;
	char *text;
	size_t len;

	(void)st;
	assert_int_equal(journal_new(2, &T0, &j), 0);
	append(j, 0, 10);
	text = all(j, &len);
	assert_true(strncmp(text, "# 8 lines missed", 16) == 0);
	free(text);
	journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appended_lines_read_back_at_their_offsets),
		cmocka_unit_test(
			test_dropped_lines_read_as_comments_of_their_length),
		cmocka_unit_test(
			test_a_reader_that_fell_behind_learns_how_many_it_missed),
		cmocka_unit_test(
			test_past_what_is_remembered_old_lines_read_as_hashes),
		cmocka_unit_test(test_a_batch_longer_than_the_journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
