/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the bytes of .interlinkfs/changes: what is appended is read
 * back at the same offsets for the life of the journal; a reader that fell
 * behind meets one comment line that says how many lines it missed, and
 * no line longer than 4 KiB; no read ever starts a line that is not
 * whole.
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

/* What a reader starting at offset `at` meets: how many lines begin with
 * '#', the count the first says, how many lines in all, and that none is
 * longer than 4 KiB. */
struct met {
	unsigned hashes, lines, kept;
	unsigned long count;
	size_t longest;
};

static struct met meet(struct journal *j, uint64_t at)
{
	uint64_t size = journal_size(j, NULL);
	char *buf = malloc(size - at + 1);
	struct met m = {0, 0, 0, 0, 0};
	size_t got;

	assert_non_null(buf);
	got = journal_read(j, at, buf, size - at);
	assert_int_equal(got, size - at);
	buf[got] = '\0';
	for (char *l = buf; *l; m.lines++) {
		char *nl = strchr(l, '\n');
		assert_non_null(nl);               /* never half a line */
		if ((size_t)(nl + 1 - l) > m.longest)
			m.longest = (size_t)(nl + 1 - l);
		if (*l == '#' && m.hashes++ == 0)
			m.count = strtoul(l + 2, NULL, 10);
		m.kept += strncmp(l, "2026-", 5) == 0;
		l = nl + 1;
	}
	free(buf);
	return m;
}

static void test_dropped_lines_keep_their_offsets(void **st)
{
	struct journal *j;
	char expect[8192], buf[64];
	size_t elen = 0, starts[20];

	(void)st;
	for (unsigned i = 0; i < 12; i++) {
		starts[i] = elen;
		elen += line(i, expect + elen, sizeof expect - elen);
	}
	starts[12] = elen;
	assert_int_equal(journal_new(5, &T0, &j), 0);
	append(j, 0, 3);
	append(j, 3, 12);
	/* The same size, the last 5 lines where they were. */
	assert_int_equal(journal_size(j, NULL), elen);
	for (unsigned k = 7; k < 12; k++) {
		assert_int_equal(journal_read(j, starts[k], buf, 20), 20);
		assert_memory_equal(buf, expect + starts[k], 20);
	}
	/* Where each dropped line began, its count begins: the lines from
	 * it to the first kept. */
	for (unsigned k = 0; k < 7; k++) {
		char want[64];
		snprintf(want, sizeof want, "# %u line%s missed (the journal "
			 "keeps the last 5)", 7 - k, 7 - k == 1 ? "" : "s");
		assert_int_equal(journal_read(j, starts[k], buf, strlen(want)),
				 strlen(want));
		assert_memory_equal(buf, want, strlen(want));
	}
	journal_free(j);
}

static void test_a_reader_that_fell_behind_meets_one_count(void **st)
{
	struct journal *j;
	uint64_t at;
	struct met m;

	(void)st;
	assert_int_equal(journal_new(4, &T0, &j), 0);
	append(j, 0, 3);
	at = journal_size(j, NULL);          /* a tail -f stopped here */
	append(j, 3, 4);
	append(j, 4, 12);                    /* 11 ... 8 kept */
	/* Lines 3 .. 7 were missed: one line says so, the rest of the
	 * comment begins with a space; then the 4 lines kept. */
	m = meet(j, at);
	assert_int_equal(m.hashes, 1);
	assert_int_equal(m.count, 5);
	assert_int_equal(m.kept, 4);
	assert_int_equal(m.lines, 5 + 4);
	/* From the start: the same, all 11 missed. */
	m = meet(j, 0);
	assert_int_equal(m.hashes, 1);
	assert_int_equal(m.count, 8);
	assert_int_equal(m.kept, 4);
	journal_free(j);
}

/* 6,000 changes, a journal keeping 1, 5 or 1,000 lines: whoever stopped
 * anywhere learns the true count, once, in lines of at most 4 KiB. */
static void test_6000_changes_any_reader_any_size(void **st)
{
	static const size_t keeps[] = {1, 5, 1000};
	char l[256];

	(void)st;
	for (size_t s = 0; s < 3; s++) {
		struct journal *j;
		uint64_t starts[6001], off = 0;

		assert_int_equal(journal_new(keeps[s], &T0, &j), 0);
		for (unsigned i = 0; i < 6000; i += 100) {
			for (unsigned k = i; k < i + 100; k++) {
				starts[k] = off;
				off += line(k, l, sizeof l);
			}
			append(j, i, i + 100);
		}
		starts[6000] = off;
		for (unsigned k = 0; k < 6000 - keeps[s]; k += 299) {
			struct met m = meet(j, starts[k]);
			assert_int_equal(m.hashes, 1);
			assert_int_equal(m.count, 6000 - keeps[s] - k);
			assert_int_equal(m.kept, keeps[s]);
			assert_int_equal(m.lines, 6000 - k);
			assert_true(m.longest <= 4096);
		}
		journal_free(j);
	}
}

static void test_past_what_is_remembered_still_one_count(void **st)
{
	struct journal *j;
	uint64_t lines, dropped;
	struct met m;

	(void)st;
	/* 1 line kept; the offsets of 65,536 dropped ones remembered. */
	assert_int_equal(journal_new(1, &T0, &j), 0);
	for (unsigned i = 0; i < 70000; i += 1000)
		append(j, i, i + 1000);
	journal_counts(j, &lines, &dropped);
	assert_int_equal(lines, 70000);
	assert_int_equal(dropped, 69999);
	m = meet(j, 0);
	assert_int_equal(m.hashes, 1);
	assert_int_equal(m.count, 69999);
	assert_int_equal(m.kept, 1);
	assert_true(m.longest <= 4096);
	journal_free(j);
}

static void test_a_long_dropped_line_reads_as_short_ones(void **st)
{
	struct journal *j;
	size_t n = 10000;
	char *big = malloc(n + 1);
	struct met m;

	(void)st;
	assert_non_null(big);
	memset(big, 'x', n);
	big[n - 1] = '\n';
	assert_int_equal(journal_new(1, &T0, &j), 0);
	assert_int_equal(journal_append(j, big, n, &T1), 0);
	append(j, 0, 2);
	m = meet(j, 0);
	assert_int_equal(m.hashes, 1);
	assert_int_equal(m.count, 2);
	assert_int_equal(m.kept, 1);
	assert_true(m.longest <= 4096);
	free(big);
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

/* An earlier run's journal, restored, reads as it did: the same lines at
 * the same offsets, what came before as one count; and what is kept can
 * be copied out, to be written elsewhere. */
static void test_a_restored_journal_reads_as_it_did(void **st)
{
	struct journal *a, *b;
	char *before, *after, *kept;
	size_t blen, alen, klen;
	uint64_t base, dropped, lines, gone;

	(void)st;
	assert_int_equal(journal_new(5, &T0, &a), 0);
	append(a, 0, 12);
	before = all(a, &blen);
	assert_int_equal(journal_kept(a, &kept, &klen, &base, &dropped), 0);
	assert_int_equal(dropped, 7);
	assert_int_equal(base + klen, blen);
	assert_memory_equal(kept, before + base, klen);
	/* As the state saves it: the file from offset 0, 12 lines. */
	assert_int_equal(journal_new(5, &T0, &b), 0);
	{
		char *text = malloc(256 * 12);
		size_t len = 0;

		for (unsigned i = 0; i < 12; i++)
			len += line(i, text + len, 256);
		assert_int_equal(journal_restore(b, 0, 0, text, len, &T1), 0);
		free(text);
	}
	after = all(b, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	journal_counts(b, &lines, &gone);
	assert_int_equal(lines, 12);
	assert_int_equal(gone, 7);
	/* Only before anything is appended. */
	assert_int_equal(journal_restore(b, 0, 0, "x\n", 2, &T1), -EBUSY);
	free(after);
	journal_free(b);
	/* From the kept lines alone (a file compacted): the same lines at
	 * the same offsets, and one count of the 7 before them. */
	assert_int_equal(journal_new(5, &T0, &b), 0);
	assert_int_equal(journal_restore(b, base, dropped, kept, klen, &T1),
			 0);
	after = all(b, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after + base, before + base, klen);
	assert_true(strncmp(after, "# 7 lines missed", 16) == 0);
	free(after);
	free(before);
	free(kept);
	journal_free(b);
	journal_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appended_lines_read_back_at_their_offsets),
		cmocka_unit_test(test_dropped_lines_keep_their_offsets),
		cmocka_unit_test(test_a_reader_that_fell_behind_meets_one_count),
		cmocka_unit_test(test_6000_changes_any_reader_any_size),
		cmocka_unit_test(test_past_what_is_remembered_still_one_count),
		cmocka_unit_test(test_a_long_dropped_line_reads_as_short_ones),
		cmocka_unit_test(test_a_batch_longer_than_the_journal),
		cmocka_unit_test(test_a_restored_journal_reads_as_it_did),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
