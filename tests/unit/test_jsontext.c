/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsontext: repairs of what jansson refuses (invalid UTF-8, lone surrogate
 * escapes, numbers past 64 bits), record splitting, and ids of records
 * that cannot be read. Each repaired text is also checked to parse, and
 * marked numbers to read back exactly (field_uint, jsontext_dump).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "field.h"
#include "jsontext.h"

static void check_repair(const char *in, size_t len, const char *want,
			 size_t bad_utf8, size_t surrogates, size_t numbers)
{
	char *out;
	size_t olen;
	struct jsontext_repairs r;

	assert_int_equal(jsontext_repair(in, len, &out, &olen, &r), 0);
	assert_int_equal(r.bad_utf8, bad_utf8);
	assert_int_equal(r.surrogates, surrogates);
	assert_int_equal(r.numbers, numbers);
	assert_int_equal(olen, strlen(want));
	assert_memory_equal(out, want, olen);
	assert_int_equal(out[olen], '\0');
	free(out);
}

static void test_invalid_utf8_becomes_replacement_characters(void **st)
{
	(void)st;
	check_repair("plain", 5, "plain", 0, 0, 0);
	check_repair("caf\xc3\xa9 \xe6\x9d\xb1 \xf0\x9f\x98\x80", 14,
		     "caf\xc3\xa9 \xe6\x9d\xb1 \xf0\x9f\x98\x80", 0, 0, 0);
	check_repair("a\xff" "b", 3, "a\xef\xbf\xbd" "b", 1, 0, 0);
	check_repair("\xc3\x28", 2, "\xef\xbf\xbd(", 1, 0, 0);      /* bad tail */
	check_repair("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 2, 0, 0);
	check_repair("\xed\xa0\x80", 3,                        /* surrogate */
		     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3, 0, 0);
	check_repair("\xe6\x9d", 2, "\xef\xbf\xbd\xef\xbf\xbd", 2, 0, 0);
	check_repair("\xf4\x90\x80\x80", 4,                    /* > U+10FFFF */
		     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 4, 0,
		     0);
	/* Inside a JSON string as well. */
	check_repair("{\"n\": \"bad \xff\xfe x\"}", 17,
		     "{\"n\": \"bad \xef\xbf\xbd\xef\xbf\xbd x\"}", 2, 0, 0);
	/* After a backslash too (found by fuzz_jsontext): the escape is
	 * jansson's to refuse, the bytes are UTF-8 either way. */
	check_repair("\"\\\x8b\"", 4, "\"\\\xef\xbf\xbd\"", 1, 0, 0);
	check_repair("\"\\\xc3\xa9\"", 5, "\"\\\xc3\xa9\"", 0, 0, 0);
	check_repair("\"\\\xc3\"", 4, "\"\\\xef\xbf\xbd\"", 1, 0, 0);
}

static void test_lone_surrogate_escapes_become_ufffd(void **st)
{
	static const char pair[] = "[\"\\ud83d\\ude00\"]";
	json_t *j;

	(void)st;
	check_repair("[\"\\ud800 x\"]", 12, "[\"\\ufffd x\"]", 0, 1, 0);
	check_repair("[\"\\uDC00\"]", 10, "[\"\\ufffd\"]", 0, 1, 0);
	check_repair("[\"a\\ud800\\u0041\"]", 17, "[\"a\\ufffd\\u0041\"]", 0,
		     1, 0);
	/* A pair is a character: kept. */
	check_repair(pair, sizeof pair - 1, pair, 0, 0, 0);
	/* Other escapes are left as they are. */
	check_repair("[\"\\\" \\n \\u00e9\"]", 16, "[\"\\\" \\n \\u00e9\"]", 0,
		     0, 0);
	/* What jansson refused now parses, to U+FFFD. */
	j = json_loads("[\"\\ufffd x\"]", 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_array_get(j, 0)),
			    "\xef\xbf\xbd x");
	json_decref(j);
}

static void test_numbers_past_64_bits_are_kept_exactly(void **st)
{
	static const char body[] = "{\"bandwidth_mbps\": 18446744073709551615,"
		" \"x\": -99999999999999999999, \"r\": 1e999999, \"ok\": "
		"9223372036854775807, \"neg\": -9223372036854775808, "
		"\"s\": \"18446744073709551615\"}";
	char *out, *dumped;
	size_t olen, dlen;
	struct jsontext_repairs r;
	json_t *j;
	uint64_t u;

	(void)st;
	assert_int_equal(jsontext_repair(body, sizeof body - 1, &out, &olen, &r), 0);
	assert_int_equal(r.numbers, 3);
	j = json_loadb(out, olen, JSON_ALLOW_NUL, NULL);
	assert_non_null(j);
	assert_int_equal(field_uint(j, "bandwidth_mbps", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(field_uint(j, "x", &u), -EINVAL);   /* negative */
	assert_int_equal(field_uint(j, "r", &u), -EINVAL);   /* a real */
	assert_int_equal(field_uint(j, "ok", &u), 0);
	assert_true(u == INT64_MAX);
	assert_int_equal(field_uint(j, "s", &u), -EINVAL);   /* a string */
	/* Written back as the API sent them. */
	dumped = jsontext_dump(j, JSON_COMPACT, &dlen);
	assert_string_equal(dumped, "{\"bandwidth_mbps\":18446744073709551615,"
			    "\"x\":-99999999999999999999,\"r\":1e999999,\"ok\":"
			    "9223372036854775807,\"neg\":-9223372036854775808,"
			    "\"s\":\"18446744073709551615\"}");
	assert_int_equal(dlen, strlen(dumped));
	free(dumped);
	json_decref(j);
	free(out);
	/* Digits inside strings are never touched. */
	check_repair("[\"99999999999999999999999\"]", 27,
		     "[\"99999999999999999999999\"]", 0, 0, 0);
}

static void test_records_are_split_by_structure(void **st)
{
	static const char page[] = "{\"total_count\": 3, \"connections\": "
		"[{\"id\": \"a\", \"n\": [1, {\"x\": \"]\"}]}, [[[[]]]] , "
		"{\"id\": \"c\\\"}\"}], \"z\": {}}";
	struct jsontext_span *sp;
	size_t n, a0, a1;

	(void)st;
	assert_int_equal(jsontext_split(page, sizeof page - 1, "connections", &sp,
				  &n, &a0, &a1), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(page + sp[0].start,
			    "{\"id\": \"a\", \"n\": [1, {\"x\": \"]\"}]}",
			    sp[0].end - sp[0].start);
	assert_memory_equal(page + sp[1].start, "[[[[]]]]",
			    sp[1].end - sp[1].start);
	assert_memory_equal(page + sp[2].start, "{\"id\": \"c\\\"}\"}",
			    sp[2].end - sp[2].start);
	assert_int_equal(page[a0 - 1], '[');
	assert_int_equal(page[a1], ']');
	free(sp);
	/* An empty list, and lists that do not end. */
	assert_int_equal(jsontext_split("{\"connections\": []}", 19, "connections",
				  &sp, &n, &a0, &a1), 0);
	assert_int_equal(n, 0);
	free(sp);
	assert_int_equal(jsontext_split("{\"connections\": [{\"id\": \"a\"", 27,
				  "connections", &sp, &n, &a0, &a1), -EINVAL);
	assert_int_equal(jsontext_split("[1, 2]", 6, "connections", &sp, &n, &a0,
				  &a1), -EINVAL);
	assert_int_equal(jsontext_split("{\"pops\": [1]}", 13, "connections", &sp,
				  &n, &a0, &a1), -EINVAL);
}

static void test_deep_nesting_is_split_without_recursion(void **st)
{
	size_t depth = 200000, len = depth * 2 + 64, n, a0, a1;
	char *page = malloc(len), *p = page;
	struct jsontext_span *sp;

	(void)st;
	p += sprintf(p, "{\"connections\": [");
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	p += 2 * depth;
	p += sprintf(p, ", {\"id\": \"x\"}]}");
	assert_int_equal(jsontext_split(page, (size_t)(p - page), "connections", &sp,
				  &n, &a0, &a1), 0);
	assert_int_equal(n, 2);
	free(sp);
	free(page);
}

static bool rid(const char *text, char *id, size_t idlen)
{
	return jsontext_record_id(text, strlen(text), id, idlen);
}

static void test_record_ids_for_log_lines(void **st)
{
	char id[40];

	(void)st;
	assert_true(rid("{\"name\": \"\\ud800\", \"id\": \"6f1c2e8a\"}", id,
			sizeof id));
	assert_string_equal(id, "6f1c2e8a");
	/* Not the id of a nested object. */
	assert_false(rid("{\"self\": {\"id\": \"x\"}}", id, sizeof id));
	assert_false(rid("[1]", id, sizeof id));
	/* Cut to the buffer. */
	assert_true(rid("{\"id\": \"0123456789\"}", id, 5));
	assert_string_equal(id, "0123");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
		cmocka_unit_test(test_lone_surrogate_escapes_become_ufffd),
		cmocka_unit_test(test_numbers_past_64_bits_are_kept_exactly),
		cmocka_unit_test(test_records_are_split_by_structure),
		cmocka_unit_test(test_deep_nesting_is_split_without_recursion),
		cmocka_unit_test(test_record_ids_for_log_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
