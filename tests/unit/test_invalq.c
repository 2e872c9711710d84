/* SPDX-License-Identifier: Apache-2.0 */
/*
 * invalq: the keeper's queue of what the kernel is to be told: kept in
 * order, taken whole, an object's inodes all listed, a store holding its
 * object until it is sent.
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

#include "invalq.h"
#include "node.h"

static void test_kept_in_order_and_taken_whole(void **st)
{
	struct invalq *q;
	struct inval *v;
	size_t n;
	char name[] = "par-transit-01";

	(void)st;
	assert_int_equal(invalq_new(&q), 0);
	invalq_inode(q, 17);
	invalq_entry(q, 17, name);
	name[0] = 'X'; /* the queue holds its own copy */
	for (int i = 0; i < 1000; i++)
		invalq_inode(q, 100 + (uint64_t)i);
	invalq_take(q, &v, &n);
	assert_int_equal(n, 1002);
	assert_int_equal(v[0].ino, 17);
	assert_null(v[0].name);
	assert_int_equal(v[1].parent, 17);
	assert_string_equal(v[1].name, "par-transit-01");
	for (size_t i = 2; i < n; i++)
		assert_int_equal(v[i].ino, 100 + i - 2);
	invalq_done(v, n);
	invalq_take(q, &v, &n);
	assert_int_equal(n, 0);
	invalq_done(v, n);
	invalq_free(q);
}

/* Is ino among the n notifications of v? */
static bool has(const struct inval *v, size_t n, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i].name && v[i].ino == ino)
			return true;
	return false;
}

static void test_an_object_is_every_inode_below_it(void **st)
{
	struct invalq *q;
	struct inval *v;
	size_t n;

	(void)st;
	assert_int_equal(invalq_new(&q), 0);
	for (int ki = 0; ki < K_COUNT; ki++) {
		const struct kind *k = kind_get((enum kind_id)ki);
		uint64_t obj = (7ULL << 3) | (uint64_t)ki;
		size_t want = 1 + k->nfiles + k->nlinks + k->nsubdirs +
			      (k->byname != NULL);

		for (int p = 0; p < K_COUNT; p++)
			want += kind_subdir_of(kind_get((enum kind_id)p),
					       k->id) >= 0;
		invalq_object(q, k, obj);
		invalq_take(q, &v, &n);
		assert_int_equal(n, want);
		assert_true(has(v, n, node_obj_ino(obj, NT_OBJ, 0)));
		for (unsigned i = 0; i < k->nfiles; i++)
			assert_true(has(v, n, node_obj_ino(obj, NT_FILE, i)));
		for (unsigned j = 0; j < k->nlinks; j++)
			assert_true(has(v, n, node_obj_ino(obj, NT_LINK, j)));
		invalq_done(v, n);
	}
	/* A link is listed in its connection's links/: forgotten there. */
	invalq_object(q, kind_get(K_LINK), 9ULL << 3 | K_LINK);
	invalq_take(q, &v, &n);
	assert_true(has(v, n, node_obj_ino(9ULL << 3 | K_LINK, NT_SUB_ENTRY,
					   K_CONN)));
	invalq_done(v, n);
	invalq_free(q);
}

static void test_a_store_holds_its_object(void **st)
{
	json_t *j = json_pack("{s:s, s:s}", "id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "status",
			      "active");
	struct robj *o = robj_new(kind_get(K_CONN), j);
	struct invalq *q;
	struct inval *v;
	size_t n;
	uint64_t obj = (3ULL << 3) | K_CONN;

	(void)st;
	json_decref(j);
	assert_int_equal(invalq_new(&q), 0);
	invalq_store(q, o, 2, obj, 1, 42);
	robj_release(o); /* the queue's reference keeps it */
	invalq_take(q, &v, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(v[0].o, o);
	assert_string_equal(robj_id(v[0].o),
			    "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10");
	assert_int_equal(v[0].ino, node_obj_ino(obj, NT_FILE, 2));
	assert_true(v[0].file == 2 && v[0].gen == 42 && v[0].region == 1);
	invalq_done(v, n); /* frees it (valgrind, ASan: no leak) */
	/* What is still queued is freed with the queue. */
	o = robj_new(kind_get(K_CONN), j = json_pack("{s:s}", "id",
			"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f11"));
	json_decref(j);
	invalq_store(q, o, 0, obj, 0, 1);
	invalq_entry(q, 1, "x");
	robj_release(o);
	invalq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_in_order_and_taken_whole),
		cmocka_unit_test(test_an_object_is_every_inode_below_it),
		cmocka_unit_test(test_a_store_holds_its_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
