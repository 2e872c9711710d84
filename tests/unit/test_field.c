/* SPDX-License-Identifier: Apache-2.0 */
/*
 * field: the readers of members, on fixture files shaped like real API
 * answers (complete, null, missing, wrong types, odd numbers, extra fields).
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

#include "field.h"

static json_t *fixture(const char *name)
{
	char path[512];
	json_error_t je;
	json_t *j;

	/* name: a case of tests/fixtures/connections */
	snprintf(path, sizeof path, "%s/connections/%s/object.json",
		 getenv("FIXTURES"), name);
	j = json_load_file(path, JSON_ALLOW_NUL, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

static const char *const string_fields[] = {
	"project_id", "organization_id", "status", "name", "pop_id",
	"demarcation_info", "region",
};

static void test_full_object_reads_every_field(void **st)
{
	json_t *c = fixture("full");
	const char *s;
	size_t len;
	uint64_t u;
	struct timespec ts;

	(void)st;
	assert_string_equal(field_id(c), "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10");
	for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++)
		assert_int_equal(field_str(c, string_fields[i], &s, &len), 0);
	assert_int_equal(field_str(c, "demarcation_info", &s, &len), 0);
	assert_int_equal(len, strlen("Facility: TH2\nCabinet: C-12\n"
				     "Patch panel: PP-3 port 17"));
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), 0);
	assert_int_equal(u, 10000);
	assert_int_equal(field_time(c, "created_at", &ts), 0);
	assert_int_equal(ts.tv_sec, 1709251199); /* 2024-02-29T23:59:59Z */
	assert_int_equal(ts.tv_nsec, 123456000);
	assert_int_equal(field_time(c, "updated_at", &ts), 0);
	assert_int_equal(ts.tv_sec, 1709247600); /* 2024-02-29T23:00:00Z */
	json_decref(c);
}

static void test_null_and_missing_fields_are_enoent(void **st)
{
	const char *names[] = {"nulls", "missing"};
	const char *s;
	uint64_t u;
	struct timespec ts;

	(void)st;
	for (int f = 0; f < 2; f++) {
		json_t *c = fixture(names[f]);
		for (size_t i = 0;
		     i < sizeof string_fields / sizeof *string_fields; i++)
			assert_int_equal(field_str(c, string_fields[i], &s,
						  NULL), -ENOENT);
		assert_int_equal(field_uint(c, "bandwidth_mbps", &u), -ENOENT);
		assert_int_equal(field_time(c, "created_at", &ts), -ENOENT);
		assert_int_equal(field_time(c, "updated_at", &ts), -ENOENT);
		json_decref(c);
	}
}

static void test_wrong_types_are_einval_never_a_crash(void **st)
{
	json_t *c = fixture("wrong_types");
	const char *s;
	uint64_t u;
	struct timespec ts;

	(void)st;
	for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++)
		assert_int_equal(field_str(c, string_fields[i], &s, NULL),
				 -EINVAL);
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), -EINVAL);
	assert_int_equal(field_time(c, "created_at", &ts), -EINVAL);
	assert_int_equal(field_time(c, "updated_at", &ts), -EINVAL);
	json_decref(c);
}

static void test_odd_numbers(void **st)
{
	json_t *c = fixture("odd_numbers");
	uint64_t u;

	(void)st;
	assert_int_equal(field_uint(c, "bandwidth_mbps", &u), -EINVAL);
	json_decref(c);
}

static void test_unknown_fields_are_kept(void **st)
{
	json_t *c = fixture("extra");

	(void)st;
	assert_non_null(json_object_get(c, "x_future"));
	assert_int_equal(json_integer_value(json_object_get(c, "lag_members")),
			 4);
	json_decref(c);
}

static void test_time_formats(void **st)
{
	struct timespec ts;

	(void)st;
	assert_int_equal(field_parse_time("2024-01-31T10:00:00Z", &ts), 0);
	assert_int_equal(ts.tv_sec, 1706695200);
	assert_int_equal(ts.tv_nsec, 0);
	assert_int_equal(field_parse_time("2024-01-31t10:00:00.5z", &ts), 0);
	assert_int_equal(ts.tv_nsec, 500000000);
	assert_int_equal(field_parse_time("2024-01-31T12:00:00+02:00", &ts), 0);
	assert_int_equal(ts.tv_sec, 1706695200);
	assert_int_equal(field_parse_time("2024-01-31T04:30:00-05:30", &ts), 0);
	assert_int_equal(ts.tv_sec, 1706695200);
	assert_int_equal(field_parse_time("2024-01-31T10:00:00.123456789Z",
					 &ts), 0);
	assert_int_equal(ts.tv_nsec, 123456789);
	assert_int_equal(field_parse_time("1970-01-01T00:00:00Z", &ts), 0);
	assert_int_equal(ts.tv_sec, 0);
	static const char *const bad[] = {
		"", "2024-01-31", "2024-01-31T10:00:00", "2024-13-01T00:00:00Z",
		"2024-01-31T10:00:00+0200", "2024-01-31T10:00:00.Z",
		"2024-01-31T25:00:00Z", "2024-01-31T10:00:00Zjunk",
		"yesterday at noon, more or less",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(field_parse_time(bad[i], &ts), -EINVAL);
}

/* The calendar arithmetic agrees with timegm on every day of 1600 to
 * 2500 (leap years, centuries, days past a month's end). */
static void test_times_agree_with_timegm(void **st)
{
	(void)st;
	for (int y = 1600; y <= 2500; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= 31; d += (y % 7 == 0 ? 1 : 10)) {
				struct tm tm = {.tm_year = y - 1900,
						.tm_mon = m - 1, .tm_mday = d,
						.tm_hour = 23, .tm_min = 59,
						.tm_sec = 60};
				struct timespec ts;
				char s[40];

				snprintf(s, sizeof s,
					 "%04d-%02d-%02dT23:59:60-01:30", y, m,
					 d);
				assert_int_equal(field_parse_time(s, &ts), 0);
				assert_int_equal(ts.tv_sec,
						 timegm(&tm) + 5400);
			}
		}
	}
}

static void test_ids_that_could_escape_a_directory_are_invalid(void **st)
{
	static const char *const bad[] = {
		"", ".", "..", "../../etc/passwd", "a/b",
		"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f1",
		"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f100",
		"6f1c2e8a/93b4-4d0e-9a77-0c2b5d1e4f10",
		"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f1\n",
		"zf1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
	};

	(void)st;
	assert_true(field_id_valid("6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", 36));
	assert_true(field_id_valid("6F1C2E8A-93B4-4D0E-9A77-0C2B5D1E4F10", 36));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(field_id_valid(bad[i], strlen(bad[i])));
	/* An id with a NUL inside has the right length but is invalid. */
	assert_false(field_id_valid("6f1c2e8a-93b4-4d0e\0" "9a77-0c2b5d1e4f10",
				   36));
	json_t *o = json_pack("{s:i}", "id", 12345);
	assert_null(field_id(o));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_object_reads_every_field),
		cmocka_unit_test(test_null_and_missing_fields_are_enoent),
		cmocka_unit_test(test_wrong_types_are_einval_never_a_crash),
		cmocka_unit_test(test_odd_numbers),
		cmocka_unit_test(test_unknown_fields_are_kept),
		cmocka_unit_test(test_time_formats),
		cmocka_unit_test(test_times_agree_with_timegm),
		cmocka_unit_test(test_ids_that_could_escape_a_directory_are_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
