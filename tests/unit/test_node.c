/*
 * node: inode numbers round-trip, and what the object table remembers of
 * the file sizes the kernel holds (what makes a read of a value that grew
 * ask the kernel to fetch the size again).
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

#include "node.h"
#include "render.h"

#define ID1 "11111111-2222-4333-8444-555555555555"
#define ID2 "66666666-7777-4888-9999-000000000000"

static void test_inode_numbers_round_trip(void **st)
{
	struct objtab *t;
	struct node n = {.kind = NK_CONN_FILE, .region = 1, .slot = CF_STATUS},
		    back;
	char id[40];
	enum obj_kind k;
	uint32_t r;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	n.obj = objtab_intern(t, OBJ_CONN, 1, ID1);
	assert_true(n.obj >= 1);
	assert_int_equal(objtab_intern(t, OBJ_CONN, 1, ID1), n.obj);
	assert_int_not_equal(objtab_intern(t, OBJ_CONN, 0, ID1), n.obj);
	assert_int_not_equal(objtab_intern(t, OBJ_POP, 1, ID1), n.obj);
	assert_int_equal(objtab_intern(t, OBJ_CONN, 1, "../etc"), 0);
	assert_int_equal(node_from_ino(node_ino(&n), 4, &back), 0);
	assert_int_equal(back.kind, NK_CONN_FILE);
	assert_int_equal(back.obj, n.obj);
	assert_int_equal(back.slot, CF_STATUS);
	assert_int_equal(objtab_get(t, n.obj, &k, &r, id), 0);
	assert_int_equal(k, OBJ_CONN);
	assert_int_equal(r, 1);
	assert_string_equal(id, ID1);
	objtab_free(t);
}

static void test_read_of_a_longer_value_than_the_kernel_holds(void **st)
{
	struct objtab *t;
	uint64_t o;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	o = objtab_intern(t, OBJ_CONN, 0, ID1);
	/* Never told: nothing known, nothing to fix. */
	assert_false(objtab_size_read(t, o, CF_STATUS, 12, true));
	/* Told "active\n"; the value is now "configuring\n". */
	objtab_size_told(t, o, CF_STATUS, 7);
	assert_false(objtab_size_read(t, o, CF_STATUS, 7, true));
	assert_true(objtab_size_read(t, o, CF_STATUS, 12, true));
	/* Still smaller until the kernel is told the new size. */
	assert_true(objtab_size_read(t, o, CF_STATUS, 12, true));
	objtab_size_told(t, o, CF_STATUS, 12);
	assert_false(objtab_size_read(t, o, CF_STATUS, 12, true));
	/* Files are kept apart, objects too. */
	assert_false(objtab_size_read(t, o, CF_NAME, 100, true));
	o = objtab_intern(t, OBJ_CONN, 0, ID2);
	assert_false(objtab_size_read(t, o, CF_STATUS, 100, true));
	objtab_free(t);
}

static void test_short_reads_and_stores_move_the_kernel_size(void **st)
{
	struct objtab *t;
	uint64_t o;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	o = objtab_intern(t, OBJ_CONN, 0, ID1);
	objtab_size_told(t, o, CF_STATUS, 12);
	/* A read that stops before the end shrinks nothing. */
	assert_false(objtab_size_read(t, o, CF_STATUS, 7, false));
	assert_false(objtab_size_read(t, o, CF_STATUS, 12, true));
	/* One up to the end that returns less: the kernel shrinks to it. */
	assert_false(objtab_size_read(t, o, CF_STATUS, 7, true));
	assert_true(objtab_size_read(t, o, CF_STATUS, 12, true));
	/* Bytes pushed to the page cache grow the size, never shrink it. */
	objtab_size_stored(t, o, CF_STATUS, 20);
	assert_false(objtab_size_read(t, o, CF_STATUS, 20, true));
	objtab_size_stored(t, o, CF_STATUS, 3);
	assert_true(objtab_size_read(t, o, CF_STATUS, 21, true));
	/* Out of range: no slot, never "smaller", no crash. */
	objtab_size_told(t, o, 0, 1);
	objtab_size_told(t, o, 99, 1);
	objtab_size_told(t, 999, CF_STATUS, 1);
	assert_false(objtab_size_read(t, 999, CF_STATUS, 5, true));
	assert_false(objtab_size_read(t, o, 99, 5, true));
	objtab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inode_numbers_round_trip),
		cmocka_unit_test(test_read_of_a_longer_value_than_the_kernel_holds),
		cmocka_unit_test(test_short_reads_and_stores_move_the_kernel_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
