/* SPDX-License-Identifier: Apache-2.0 */
/*
 * byname: the by-name rule (byname.h) on every awkward case, the index
 * built from it, and the directories' state as listings come and go.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "byname.h"

#define A "aaaaaaaa-0000-4000-8000-000000000001"
#define B "bbbbbbbb-0000-4000-8000-000000000002"
#define C "cccccccc-0000-4000-8000-000000000003"
#define A2 "aaaaaaaa-0000-4000-8000-000000000004" /* A's first 8 */

#define IN(s, id) {(s), sizeof(s) - 1, (id)}

/* names_assign on in[0..n), each output checked for being a valid entry
 * name; *out is freed by the caller with names_free. */
static char **assign(const struct byname_in *in, size_t n)
{
	char **out = NULL;

	assert_int_equal(byname_assign(in, n, &out), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(out[i]);
		assert_true(len > 0 && len <= BYNAME_MAX);
		assert_null(strchr(out[i], '/'));
		assert_true(strcmp(out[i], ".") && strcmp(out[i], ".."));
		for (size_t k = 0; k < len; k++)
			assert_true((unsigned char)out[i][k] >= 0x20 &&
				    out[i][k] != 0x7f);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(out[i], out[k]);
	}
	return out;
}

static void test_unique_names_are_kept(void **st)
{
	struct byname_in in[] = {IN("par-transit-01", A),
				IN("edge 1 (backup) é ü 東京", B),
				IN("-dash ~tilde *star", C)};
	char **out = assign(in, 3);

	(void)st;
	assert_string_equal(out[0], "par-transit-01");
	assert_string_equal(out[1], "edge 1 (backup) é ü 東京");
	assert_string_equal(out[2], "-dash ~tilde *star");
	byname_names_free(out, 3);
}

static void test_unsafe_names_are_made_safe(void **st)
{
	struct byname_in in[] = {
		IN("a/b", A), IN("tab\there", B), IN("nl\ncr\rdel\x7f", C),
		IN("nul\0inside", "dddddddd-0000-4000-8000-000000000005"),
		IN("", "eeeeeeee-0000-4000-8000-000000000006"),
		{NULL, 0, "ffffffff-0000-4000-8000-000000000007"},
		IN(".", "11111111-0000-4000-8000-000000000008"),
		IN("..", "22222222-0000-4000-8000-000000000009"),
		IN("/", "33333333-0000-4000-8000-00000000000a"),
	};
	char **out = assign(in, 9);

	(void)st;
	assert_string_equal(out[0], "a_b");
	assert_string_equal(out[1], "tab_here");
	assert_string_equal(out[2], "nl_cr_del_");
	assert_string_equal(out[3], "nul_inside");
	/* Empty and missing both want "_", and so does "/": all three
	 * suffixed, none of them being an unchanged name. */
	assert_string_equal(out[4], "_~eeeeeeee");
	assert_string_equal(out[5], "_~ffffffff");
	assert_string_equal(out[8], "_~33333333");
	assert_string_equal(out[6], "_.");
	assert_string_equal(out[7], "_..");
	byname_names_free(out, 9);
}

static void test_long_names_are_cut_on_a_character(void **st)
{
	char name[300], two[300];
	struct byname_in in[2];
	char **out;

	(void)st;
	/* 254 bytes, then a 2-byte character: it does not fit 255. */
	memset(name, 'a', 254);
	memcpy(name + 254, "\xc3\xa9tail", 6);
	in[0] = (struct byname_in){name, 260, A};
	/* Exactly 255 bytes: kept. */
	memset(two, 'b', 255);
	in[1] = (struct byname_in){two, 255, B};
	out = assign(in, 2);
	assert_int_equal(strlen(out[0]), 254);
	assert_int_equal(strspn(out[0], "a"), 254);
	assert_int_equal(strlen(out[1]), 255);
	byname_names_free(out, 2);
}

static void test_duplicates_get_the_id(void **st)
{
	struct byname_in in[] = {IN("edge", A), IN("edge", B), IN("edge", C)};
	char **out = assign(in, 3);

	(void)st;
	assert_string_equal(out[0], "edge~aaaaaaaa");
	assert_string_equal(out[1], "edge~bbbbbbbb");
	assert_string_equal(out[2], "edge~cccccccc");
	byname_names_free(out, 3);
}

static void test_an_unchanged_name_wins_over_made_safe_ones(void **st)
{
	/* "a/b" is made "a_b", which is also a name as it is: that one
	 * keeps it. */
	struct byname_in in[] = {IN("a/b", A), IN("a_b", B)};
	char **out = assign(in, 2);

	(void)st;
	assert_string_equal(out[0], "a_b~aaaaaaaa");
	assert_string_equal(out[1], "a_b");
	byname_names_free(out, 2);
}

static void test_suffix_collisions_take_the_whole_id(void **st)
{
	/* Same first 8 characters of the id: the short suffix collides. */
	struct byname_in in[] = {IN("x", A), IN("x", A2)};
	char **out = assign(in, 2);

	(void)st;
	assert_string_equal(out[0], "x~aaaaaaaa");
	assert_string_equal(out[1], "x~" A2);
	byname_names_free(out, 2);
}

static void test_suffixed_long_names_fit(void **st)
{
	char name[255];
	struct byname_in in[2];
	char **out;

	(void)st;
	memset(name, 'n', sizeof name);
	in[0] = (struct byname_in){name, sizeof name, A};
	in[1] = (struct byname_in){name, sizeof name, B};
	out = assign(in, 2);
	assert_int_equal(strlen(out[0]), 255);
	assert_string_equal(out[0] + 246, "~aaaaaaaa");
	assert_string_equal(out[1] + 246, "~bbbbbbbb");
	byname_names_free(out, 2);
}

static void test_order_does_not_matter(void **st)
{
	struct byname_in in[] = {IN("edge", A), IN("a/b", B), IN("a_b", C),
				IN("edge", A2), IN("", "dddddddd-0000-4000-"
				"8000-000000000005")};
	struct byname_in rev[5];
	char **x, **y;

	(void)st;
	for (size_t i = 0; i < 5; i++)
		rev[i] = in[4 - i];
	x = assign(in, 5);
	y = assign(rev, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(x[i], y[4 - i]);
	byname_names_free(x, 5);
	byname_names_free(y, 5);
}

static void test_index(void **st)
{
	struct byname_in in[] = {IN("edge", A), IN("edge", B), IN("core", C)};
	struct byname_index *ix;

	(void)st;
	assert_int_equal(byname_index_new(in, 3, &ix), 0);
	assert_int_equal(byname_index_size(ix), 3);
	assert_string_equal(byname_index_name(ix, 2), "core");
	assert_int_equal(byname_index_find(ix, "core"), 2);
	assert_int_equal(byname_index_find(ix, "edge~bbbbbbbb"), 1);
	assert_int_equal(byname_index_find(ix, "edge"), -1);
	assert_int_equal(byname_index_find(ix, ""), -1);
	byname_index_free(ix);
	assert_int_equal(byname_index_new(NULL, 0, &ix), 0);
	assert_int_equal(byname_index_size(ix), 0);
	assert_int_equal(byname_index_find(ix, "x"), -1);
	byname_index_free(ix);
	byname_index_free(NULL);
}

static void test_many(void **st)
{
	enum { N = 20000 };
	struct byname_in *in = calloc(N, sizeof *in);
	char (*ids)[40] = calloc(N, sizeof *ids);
	char (*nm)[16] = calloc(N, sizeof *nm);
	struct byname_index *ix;

	(void)st;
	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i],
			 "%08zx-0000-4000-8000-000000000000", i);
		snprintf(nm[i], sizeof nm[i], "c%zu", i % (N / 2));
		in[i] = (struct byname_in){nm[i], strlen(nm[i]), ids[i]};
	}
	assert_int_equal(byname_index_new(in, N, &ix), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(byname_index_find(ix, byname_index_name(ix, i)),
				 (long)i);
	byname_index_free(ix);
	free(in);
	free(ids);
	free(nm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_names_are_kept),
		cmocka_unit_test(test_unsafe_names_are_made_safe),
		cmocka_unit_test(test_long_names_are_cut_on_a_character),
		cmocka_unit_test(test_duplicates_get_the_id),
		cmocka_unit_test(test_an_unchanged_name_wins_over_made_safe_ones),
		cmocka_unit_test(test_suffix_collisions_take_the_whole_id),
		cmocka_unit_test(test_suffixed_long_names_fit),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
