/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node and objtab: inode numbers round-trip for every node of every kind,
 * the path parser (node_child) says what each name is, and what the
 * object table remembers of the file sizes the kernel holds (what makes a
 * read of a value that grew ask the kernel to fetch the size again).
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

#include "meta.h"
#include "node.h"
#include "objtab.h"

#define ID1 "11111111-2222-4333-8444-555555555555"
#define ID2 "66666666-7777-4888-9999-000000000000"

static const char *const regions[] = {"fr-par", "nl-ams", "pl-waw"};
#define NREG 3

static unsigned file_of(enum kind_id k, const char *name)
{
	int i = kind_file(kind_get(k), name);
	assert_true(i >= 0);
	return (unsigned)i;
}

#define STATUS file_of(K_CONN, "status")
#define NAME file_of(K_CONN, "name")

static void test_object_numbers(void **st)
{
	struct objtab *t;
	uint64_t a, b;
	uint32_t r;
	char id[40];

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	a = objtab_intern(t, K_CONN, 1, ID1);
	assert_true(a >= 1);
	assert_int_equal(objtab_kind_of(a), K_CONN);
	assert_int_equal(objtab_intern(t, K_CONN, 1, ID1), a);
	assert_int_equal(objtab_find(t, K_CONN, 1, ID1), a);
	assert_int_equal(objtab_find(t, K_CONN, 1, ID2), 0);
	assert_int_not_equal(objtab_intern(t, K_CONN, 0, ID1), a);
	b = objtab_intern(t, K_POP, 1, ID1);
	assert_int_not_equal(b, a);
	assert_int_equal(objtab_kind_of(b), K_POP);
	/* Only ids can have numbers. */
	assert_int_equal(objtab_intern(t, K_CONN, 1, "../etc"), 0);
	assert_int_equal(objtab_intern(t, K_CONN, 1, ""), 0);
	assert_int_equal(objtab_get(t, a, &r, id), 0);
	assert_int_equal(r, 1);
	assert_string_equal(id, ID1);
	assert_int_equal(objtab_get(t, objtab_nth(K_CONN, 2), &r, id),
			 -ENOENT);
	assert_int_equal(objtab_get(t, 0, &r, id), -ENOENT);
	assert_int_equal(objtab_count(t, K_CONN), 2);
	assert_int_equal(objtab_count(t, K_POP), 1);
	/* Many: the hash grows, numbers stay. */
	for (unsigned i = 0; i < 5000; i++) {
		char x[40];
		snprintf(x, sizeof x, "%08x-0000-4000-8000-000000000000", i);
		assert_int_equal(objtab_intern(t, K_POP, 2, x),
				 objtab_nth(K_POP, i + 1));
	}
	assert_int_equal(objtab_find(t, K_POP, 1, ID1), b);
	/* Ids keep their case, and cases are told apart. */
	a = objtab_intern(t, K_CONN, 0, "ABCDEF01-2345-4789-aBcD-ef0123456789");
	b = objtab_intern(t, K_CONN, 0, "abcdef01-2345-4789-abcd-ef0123456789");
	assert_true(a && b && a != b);
	assert_int_equal(objtab_get(t, a, &r, id), 0);
	assert_string_equal(id, "ABCDEF01-2345-4789-aBcD-ef0123456789");
	assert_int_equal(objtab_get(t, b, &r, id), 0);
	assert_string_equal(id, "abcdef01-2345-4789-abcd-ef0123456789");
	objtab_free(t);
}

static void test_big_sizes(void **st)
{
	struct objtab *t;
	uint64_t o, p;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	o = objtab_intern(t, K_CONN, 0, ID1);
	p = objtab_intern(t, K_CONN, 0, ID2);
	/* Sizes past 16 bits are as exact as small ones. */
	objtab_size_told(t, o, STATUS, 70000);
	objtab_size_told(t, p, STATUS, 65534);
	assert_false(objtab_size_read(t, o, STATUS, 70000, false));
	assert_true(objtab_size_read(t, o, STATUS, 70001, false));
	assert_false(objtab_size_read(t, p, STATUS, 65534, false));
	assert_true(objtab_size_read(t, p, STATUS, 65535, false));
	/* Shrinking back under 16 bits, growing past again. */
	assert_false(objtab_size_read(t, o, STATUS, 10, true));
	assert_true(objtab_size_read(t, o, STATUS, 11, false));
	objtab_size_stored(t, o, STATUS, 1u << 20);
	assert_false(objtab_size_read(t, o, STATUS, 1u << 20, false));
	assert_true(objtab_size_read(t, o, STATUS, (1u << 20) + 1, false));
	/* Many big ones: the table grows. */
	for (unsigned i = 0; i < 3000; i++) {
		char x[40];
		uint64_t q;
		snprintf(x, sizeof x, "%08x-0000-4000-8000-000000000000", i);
		q = objtab_intern(t, K_CONN, 1, x);
		objtab_size_told(t, q, NAME, 100000 + i);
	}
	for (unsigned i = 0; i < 3000; i++) {
		char x[40];
		uint64_t q;
		snprintf(x, sizeof x, "%08x-0000-4000-8000-000000000000", i);
		q = objtab_find(t, K_CONN, 1, x);
		assert_false(objtab_size_read(t, q, NAME, 100000 + i, false));
		assert_true(objtab_size_read(t, q, NAME, 100001 + i, false));
	}
	objtab_free(t);
}

/* Every node of the tree, for every kind; checks each one's number
 * decodes to itself and that no two share one. */
static void check_round_trip(const struct node *n, uint64_t *seen,
			     size_t *nseen)
{
	struct node back;
	uint64_t ino = node_ino(n);

	assert_true(ino > 0);
	assert_int_equal(node_from_ino(ino, NREG, &back), 0);
	assert_int_equal(back.type, n->type);
	assert_int_equal(node_ino(&back), ino);
	if (n->type >= NT_KIND_DIR)
		assert_int_equal(back.kind, n->kind);
	for (size_t i = 0; i < *nseen; i++)
		assert_true(seen[i] != ino);
	seen[(*nseen)++] = ino;
}

static void test_inode_numbers_round_trip(void **st)
{
	static uint64_t seen[4096];
	size_t nseen = 0;
	struct node n;

	(void)st;
	for (enum node_type t = NT_ROOT; t <= NT_META; t++) {
		n = (struct node){.type = t};
		check_round_trip(&n, seen, &nseen);
	}
	for (unsigned s = 1; s <= MF_COUNT; s++) {
		n = (struct node){.type = NT_META_FILE, .slot = s};
		check_round_trip(&n, seen, &nseen);
	}
	for (uint32_t r = 0; r < NREG; r++) {
		n = (struct node){.type = NT_REGION, .region = r};
		check_round_trip(&n, seen, &nseen);
		for (int k = 0; k < K_COUNT; k++) {
			const struct kind *kd = kind_get(k);
			uint64_t obj = objtab_nth(k, r * 7 + 3);

			n = (struct node){.type = NT_KIND_DIR, .kind = k,
					  .region = r};
			check_round_trip(&n, seen, &nseen);
			if (kd->byname) {
				n.type = NT_BYNAME_DIR;
				check_round_trip(&n, seen, &nseen);
				n = (struct node){.type = NT_BYNAME, .kind = k,
						  .obj = obj};
				check_round_trip(&n, seen, &nseen);
			}
			n = (struct node){.type = NT_OBJ, .kind = k, .obj = obj};
			check_round_trip(&n, seen, &nseen);
			n.type = NT_FILE;
			for (n.slot = 0; n.slot < kd->nfiles; n.slot++)
				check_round_trip(&n, seen, &nseen);
			n.type = NT_LINK;
			for (n.slot = 0; n.slot < kd->nlinks; n.slot++)
				check_round_trip(&n, seen, &nseen);
			n.type = NT_SUBDIR;
			for (n.slot = 0; n.slot < kd->nsubdirs; n.slot++)
				check_round_trip(&n, seen, &nseen);
			n.type = NT_SUB_ENTRY;
			for (int p = 0; p < K_COUNT; p++) {
				n.slot = (uint32_t)p;
				if (kind_subdir_of(kind_get(p), k) >= 0)
					check_round_trip(&n, seen, &nseen);
			}
		}
	}
	/* Numbers that are nothing. */
	assert_int_equal(node_from_ino(0, NREG, &n), -ENOENT);
	assert_int_equal(node_from_ino(3 + MF_COUNT + 1, NREG, &n), -ENOENT);
	n = (struct node){.type = NT_REGION, .region = NREG};
	assert_int_equal(node_from_ino(node_ino(&n), NREG, &n), -ENOENT);
	/* An object slot past a PoP's files. */
	n = (struct node){.type = NT_FILE, .kind = K_POP,
			  .obj = objtab_nth(K_POP, 0),
			  .slot = kind_get(K_POP)->nfiles};
	assert_int_equal(node_from_ino(node_ino(&n), NREG, &n), -ENOENT);
	/* A kind number past the table. */
	n = (struct node){.type = NT_OBJ, .obj = (1 << 3) | 7};
	assert_int_equal(node_from_ino(node_ino(&n), NREG, &n), -ENOENT);
}

/* Walks path from the root: the last node into *out; 0 or -errno. Object
 * numbers are made up (the parser leaves them to its caller). */
static int walk(const char *path, struct node *out)
{
	struct node n = {.type = NT_ROOT}, c;
	char buf[1024], *save = NULL, *name;

	snprintf(buf, sizeof buf, "%s", path);
	for (name = strtok_r(buf, "/", &save); name;
	     name = strtok_r(NULL, "/", &save)) {
		int rc = node_child(&n, name, regions, NREG, &c);
		if (rc)
			return rc;
		if (c.type == NT_OBJ || c.type == NT_SUB_ENTRY ||
		    c.type == NT_BYNAME) {
			assert_int_equal(c.obj, 0);
			c.obj = objtab_nth(c.kind, 5);
		}
		n = c;
	}
	*out = n;
	return 0;
}

static void test_path_parser(void **st)
{
	struct node n;
	char path[512];

	(void)st;
	assert_int_equal(walk("regions", &n), 0);
	assert_int_equal(n.type, NT_REGIONS);
	assert_int_equal(walk("regions/nl-ams", &n), 0);
	assert_int_equal(n.type, NT_REGION);
	assert_int_equal(n.region, 1);
	assert_int_equal(walk("regions/fr-par/connections", &n), 0);
	assert_int_equal(n.type, NT_KIND_DIR);
	assert_int_equal(n.kind, K_CONN);
	assert_int_equal(walk("regions/pl-waw/pops", &n), 0);
	assert_int_equal(n.type, NT_KIND_DIR);
	assert_int_equal(n.kind, K_POP);
	assert_int_equal(n.region, 2);
	assert_int_equal(walk("regions/fr-par/by-name", &n), 0);
	assert_int_equal(n.type, NT_BYNAME_DIR);
	assert_int_equal(n.kind, K_CONN);
	assert_int_equal(walk(".interlinkfs/stats", &n), 0);
	assert_int_equal(n.type, NT_META_FILE);
	assert_int_equal(n.slot, MF_STATS);

	/* Every file and link of every kind. */
	for (int k = 0; k < K_COUNT; k++) {
		const struct kind *kd = kind_get(k);
		for (unsigned i = 0; i < kd->nfiles; i++) {
			snprintf(path, sizeof path, "regions/fr-par/%s/%s/%s",
				 kd->dir, ID1, kd->files[i].name);
			assert_int_equal(walk(path, &n), 0);
			assert_int_equal(n.type, NT_FILE);
			assert_int_equal(n.kind, k);
			assert_int_equal(n.slot, i);
		}
		for (unsigned j = 0; j < kd->nlinks; j++) {
			snprintf(path, sizeof path, "regions/fr-par/%s/%s/%s",
				 kd->dir, ID1, kd->links[j].name);
			assert_int_equal(walk(path, &n), 0);
			assert_int_equal(n.type, NT_LINK);
			assert_int_equal(n.slot, j);
		}
		snprintf(path, sizeof path, "regions/fr-par/%s/%s", kd->dir,
			 ID2);
		assert_int_equal(walk(path, &n), 0);
		assert_int_equal(n.type, NT_OBJ);
		assert_true(node_is_dir(&n));
		/* Only an id names an object. */
		snprintf(path, sizeof path, "regions/fr-par/%s/not-an-id",
			 kd->dir);
		assert_int_equal(walk(path, &n), -ENOENT);
		snprintf(path, sizeof path, "regions/fr-par/%s/%s/nothing",
			 kd->dir, ID1);
		assert_int_equal(walk(path, &n), -ENOENT);
		/* A file is no directory. */
		snprintf(path, sizeof path, "regions/fr-par/%s/%s/%s/x",
			 kd->dir, ID1, kd->files[0].name);
		assert_int_equal(walk(path, &n), -ENOTDIR);
	}

	/* by-name: any name but ".", ".." and the empty one. */
	assert_int_equal(walk("regions/fr-par/by-name/edge 1 (backup)", &n), 0);
	assert_int_equal(n.type, NT_BYNAME);
	assert_true(node_is_link(&n));
	assert_int_equal(n.kind, K_CONN);
	{
		struct node d, c;
		assert_int_equal(walk("regions/fr-par/by-name", &d), 0);
		assert_int_equal(node_child(&d, ".", regions, NREG, &c),
				 -ENOENT);
		assert_int_equal(node_child(&d, "..", regions, NREG, &c),
				 -ENOENT);
		assert_int_equal(node_child(&d, "", regions, NREG, &c),
				 -ENOENT);
		memset(path, 'x', 256);
		path[256] = '\0';
		assert_int_equal(node_child(&d, path, regions, NREG, &c),
				 -ENAMETOOLONG);
	}
	/* What is not there. */
	assert_int_equal(walk("nothing", &n), -ENOENT);
	assert_int_equal(walk("regions/xx-yyy", &n), -ENOENT);
	assert_int_equal(walk("regions/fr-par/links-not", &n), -ENOENT);
	assert_int_equal(walk(".interlinkfs/other", &n), -ENOENT);
	assert_int_equal(walk(".interlinkfs/stats/x", &n), -ENOTDIR);
}

static void test_read_of_a_longer_value_than_the_kernel_holds(void **st)
{
	struct objtab *t;
	uint64_t o;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	o = objtab_intern(t, K_CONN, 0, ID1);
	/* Never told: nothing known, nothing to fix. */
	assert_false(objtab_size_read(t, o, STATUS, 12, true));
	/* Told "active\n"; the value is now "configuring\n". */
	objtab_size_told(t, o, STATUS, 7);
	assert_false(objtab_size_read(t, o, STATUS, 7, true));
	assert_true(objtab_size_read(t, o, STATUS, 12, true));
	/* Still smaller until the kernel is told the new size. */
	assert_true(objtab_size_read(t, o, STATUS, 12, true));
	objtab_size_told(t, o, STATUS, 12);
	assert_false(objtab_size_read(t, o, STATUS, 12, true));
	/* Files are kept apart, objects too. */
	assert_false(objtab_size_read(t, o, NAME, 100, true));
	o = objtab_intern(t, K_CONN, 0, ID2);
	assert_false(objtab_size_read(t, o, STATUS, 100, true));
	objtab_free(t);
}

static void test_short_reads_and_stores_move_the_kernel_size(void **st)
{
	struct objtab *t;
	uint64_t o;

	(void)st;
	assert_int_equal(objtab_new(&t), 0);
	o = objtab_intern(t, K_CONN, 0, ID1);
	objtab_size_told(t, o, STATUS, 12);
	/* A read that stops before the end shrinks nothing. */
	assert_false(objtab_size_read(t, o, STATUS, 7, false));
	assert_false(objtab_size_read(t, o, STATUS, 12, true));
	/* One up to the end that returns less: the kernel shrinks to it. */
	assert_false(objtab_size_read(t, o, STATUS, 7, true));
	assert_true(objtab_size_read(t, o, STATUS, 12, true));
	/* Bytes pushed to the page cache grow the size, never shrink it. */
	objtab_size_stored(t, o, STATUS, 20);
	assert_false(objtab_size_read(t, o, STATUS, 20, true));
	objtab_size_stored(t, o, STATUS, 3);
	assert_true(objtab_size_read(t, o, STATUS, 21, true));
	/* Out of range: no slot, never "smaller", no crash. */
	objtab_size_told(t, o, 99, 1);
	objtab_size_told(t, 999, STATUS, 1);
	assert_false(objtab_size_read(t, 999, STATUS, 5, true));
	assert_false(objtab_size_read(t, o, 99, 5, true));
	objtab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_numbers),
		cmocka_unit_test(test_inode_numbers_round_trip),
		cmocka_unit_test(test_path_parser),
		cmocka_unit_test(test_read_of_a_longer_value_than_the_kernel_holds),
		cmocka_unit_test(test_short_reads_and_stores_move_the_kernel_size),
		cmocka_unit_test(test_big_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
