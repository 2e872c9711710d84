/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render and robj: every object of tests/fixtures (each kind, each case)
 * rendered, every file against its expected bytes (or EIO), every link
 * against its target, what is wrong with it against its problems; and the
 * rendered object (robj) gives exactly the renderers' bytes, at any
 * offset.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "jsontext.h"
#include "render.h"
#include "robj.h"

/* The bytes of file path (malloc'ed, NUL added; the caller frees); NULL
 * when there is no such file. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Object `kase` of kind directory `dir`, as the client reads an answer:
 * repaired, then parsed. */
static json_t *fixture(const char *dir, const char *kase)
{
	char path[512], *text, *fixed;
	size_t len, flen;
	json_t *j;
	json_error_t je;
	struct jsontext_repairs rep;

	snprintf(path, sizeof path, "%s/%s/%s/object.json", getenv("FIXTURES"),
		 dir, kase);
	assert_non_null(text = slurp(path, &len));
	assert_int_equal(jsontext_repair(text, len, &fixed, &flen, &rep), 0);
	j = json_loadb(fixed, flen, JSON_ALLOW_NUL, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	free(text);
	free(fixed);
	return j;
}

/* The robj of obj agrees with the renderers on every file, link, name and
 * time, read whole and from every offset. */
static void check_robj(const struct kind *k, json_t *obj)
{
	struct robj *o = robj_new(k, obj);
	char got[8192];

	assert_non_null(o);
	assert_string_equal(robj_id(o), json_string_value(
		json_object_get(obj, "id")));
	for (unsigned i = 0; i < k->nfiles; i++) {
		char *buf = NULL;
		size_t len = 0;
		int rc = render_file(obj, &k->files[i], &buf, &len);

		if (rc) {
			assert_int_equal(rc, -EIO);
			assert_int_equal(robj_file_size(o, i), -EIO);
			continue;
		}
		assert_int_equal(robj_file_size(o, i), (long)len);
		assert_true(len < sizeof got);
		for (size_t off = 0; off <= len; off++) {
			size_t n = robj_read(o, i, off, got, sizeof got);
			assert_int_equal(n, len - off);
			assert_memory_equal(got, buf + off, n);
			/* and one byte at a time */
			if (off < len) {
				assert_int_equal(robj_read(o, i, off, got, 1), 1);
				assert_int_equal(got[0], buf[off]);
			}
		}
		free(buf);
	}
	for (unsigned j = 0; j < k->nlinks; j++) {
		const char *want, *id;
		size_t len;
		int rc = render_link(obj, &k->links[j], &want);

		assert_int_equal(robj_link(o, j, &id, &len), rc);
		if (!rc) {
			assert_int_equal(len, strlen(want));
			assert_memory_equal(id, want, len);
		}
	}
	{
		const json_t *v = json_object_get(obj, "name");
		const char *name;
		size_t len;
		int rc = robj_name(o, &name, &len);

		if (json_is_string(v)) {
			assert_int_equal(rc, 0);
			assert_int_equal(len, json_string_length(v));
			assert_memory_equal(name, json_string_value(v), len);
		} else if (kind_file(k, "name") >= 0) {
			assert_int_equal(rc, -ENOENT);
		}
	}
	{
		struct robj *again = robj_new(k, obj);
		assert_true(robj_equal(o, again));
		assert_true(robj_size(o) >= robj_size(o) / 2);
		robj_release(again);
	}
	robj_release(o);
}

/* One file of the case in directory d against files/NAME or NAME.eio. */
static void expect_file(const char *d, const struct kind *k, unsigned i,
			const json_t *obj)
{
	char path[1024], *want, *buf = NULL;
	size_t wlen, len = 0;
	int rc = render_file(obj, &k->files[i], &buf, &len);

	snprintf(path, sizeof path, "%s/files/%s.eio", d, k->files[i].name);
	if ((want = slurp(path, &wlen))) {
		if (rc != -EIO)
			fail_msg("%s: want EIO, got %d", path, rc);
		free(want);
		return;
	}
	snprintf(path, sizeof path, "%s/files/%s", d, k->files[i].name);
	if (!(want = slurp(path, &wlen)))
		fail_msg("%s: no expectation", path);
	if (rc)
		fail_msg("%s: want %zu bytes, got %d", path, wlen, rc);
	if (len != wlen || (len && memcmp(buf, want, len)))
		fail_msg("%s: want \"%s\", got \"%.*s\"", path, want,
			 (int)len, buf ? buf : "");
	free(buf);
	free(want);
}

/* Every link of the case: there with links/NAME's target, or not there. */
static void expect_links(const char *d, const struct kind *k,
			 const struct robj *o)
{
	for (unsigned j = 0; j < k->nlinks; j++) {
		char path[1024], *want, got[300];
		const char *id;
		size_t wlen, len;
		int rc = robj_link(o, j, &id, &len);

		snprintf(path, sizeof path, "%s/links/%s", d, k->links[j].name);
		want = slurp(path, &wlen);
		if (!want) {
			if (rc != -ENOENT)
				fail_msg("%s: want no link", path);
			continue;
		}
		assert_int_equal(rc, 0);
		snprintf(got, sizeof got, "%s%.*s", k->links[j].target,
			 (int)len, id);
		if (strcmp(got, want))
			fail_msg("%s: want %s, got %s", path, want, got);
		free(want);
	}
}

/* What robj says is wrong with the object: exactly the problems file, or
 * nothing when there is none. */
static void expect_problems(const char *d, const struct robj *o)
{
	char path[1024], *want;
	size_t wlen;
	const char *got = robj_problems(o);

	snprintf(path, sizeof path, "%s/problems", d);
	want = slurp(path, &wlen);
	if (want && wlen && want[wlen - 1] == '\n')
		want[--wlen] = '\0';
	if (!want && got)
		fail_msg("%s: want no problem, got \"%s\"", path, got);
	if (want && (!got || strcmp(got, want)))
		fail_msg("%s: want \"%s\", got \"%s\"", path, want,
			 got ? got : "none");
	free(want);
}

/* Every case of every kind: each file, link and problem as the fixture
 * says, and the robj agreeing with the renderers. */
static void test_every_fixture(void **st)
{
	int cases = 0;

	(void)st;
	for (int ki = 0; ki < K_COUNT; ki++) {
		const struct kind *k = kind_get((enum kind_id)ki);
		char dir[512];
		DIR *dh;
		struct dirent *e;

		snprintf(dir, sizeof dir, "%s/%s", getenv("FIXTURES"), k->dir);
		assert_non_null(dh = opendir(dir));
		while ((e = readdir(dh))) {
			char d[768];
			json_t *obj;
			struct robj *o;

			if (e->d_name[0] == '.')
				continue;
			snprintf(d, sizeof d, "%s/%s", dir, e->d_name);
			obj = fixture(k->dir, e->d_name);
			for (unsigned i = 0; i < k->nfiles; i++)
				expect_file(d, k, i, obj);
			assert_non_null(o = robj_new(k, obj));
			expect_links(d, k, o);
			expect_problems(d, o);
			robj_release(o);
			check_robj(k, obj);
			json_decref(obj);
			cases++;
		}
		closedir(dh);
	}
	assert_true(cases >= K_COUNT);
}

/* Any object of any kind, rendered as another kind too: never a crash,
 * and the robj always agrees with the renderers. */
static void test_every_kind_on_every_object(void **st)
{
	const char *fx[][2] = {
		{"connections", "full"}, {"connections", "nulls"},
		{"connections", "wrong_types"}, {"connections", "u64_max"},
		{"links", "wrong_types"}, {"routing-policies", "wrong_types"},
	};

	(void)st;
	for (int k = 0; k < K_COUNT; k++)
		for (size_t f = 0; f < sizeof fx / sizeof *fx; f++) {
			json_t *c = fixture(fx[f][0], fx[f][1]);
			check_robj(kind_get((enum kind_id)k), c);
			json_decref(c);
		}
}

static void test_times(void **st)
{
	const struct kind *k = kind_get(K_CONN);
	json_t *c = fixture("connections", "full");
	struct robj *o = robj_new(k, c);
	struct timespec t;

	(void)st;
	/* updated_at, 01:00+02:00 = 2024-02-29T23:00:00Z */
	assert_true(robj_mtime(o, &t));
	assert_int_equal(t.tv_sec, 1709247600);
	robj_release(o);
	json_decref(c);
	/* created_at when there is no updated_at; nothing when neither. */
	c = json_pack("{s:s, s:s}", "id", "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10",
		      "created_at", "2024-02-29T23:59:59.5Z");
	o = robj_new(k, c);
	assert_true(robj_mtime(o, &t));
	assert_int_equal(t.tv_sec, 1709251199);
	assert_int_equal(t.tv_nsec, 500000000);
	robj_release(o);
	json_decref(c);
	c = fixture("connections", "missing");
	o = robj_new(k, c);
	assert_false(robj_mtime(o, &t));
	robj_release(o);
	json_decref(c);
}

static void test_no_id_no_object(void **st)
{
	json_t *c = json_pack("{s:s}", "id", "../../etc");

	(void)st;
	assert_null(robj_new(kind_get(K_CONN), c));
	json_decref(c);
	c = json_pack("{s:i}", "id", 7);
	assert_null(robj_new(kind_get(K_CONN), c));
	json_decref(c);
}

static void test_equal_and_fields(void **st)
{
	json_t *a = json_pack("{s:s, s:s}", "id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "status",
			      "active");
	json_t *b = json_pack("{s:s, s:s}", "id",
			      "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10", "status",
			      "failed");
	json_t *nest = json_pack("{s:{s:s}}", "self", "connection_id", "x");
	struct robj *x = robj_new(kind_get(K_CONN), a);
	struct robj *y = robj_new(kind_get(K_CONN), b);

	(void)st;
	/* Same length, different bytes: not equal. */
	assert_false(robj_equal(x, y));
	robj_release(x);
	robj_release(y);
	assert_string_equal(json_string_value(render_field(nest,
			    "self.connection_id")), "x");
	assert_null(render_field(nest, "self.nothing"));
	assert_null(render_field(nest, "nothing.x"));
	json_decref(a);
	json_decref(b);
	json_decref(nest);
}

/* What a read() at an offset gets: the bytes there, no more than asked,
 * nothing at or past the end or before the start. */
static void test_slice(void **st)
{
	static const char p[] = "active\n";
	static const struct {
		long long off;
		size_t size;
		const char *want;
	} cases[] = {
		{0, 4096, "active\n"}, {0, 3, "act"}, {4, 4096, "ve\n"},
		{7, 4096, ""}, {8, 4096, ""}, {1LL << 40, 4096, ""},
		{-1, 4096, ""}, {2, 0, ""},
	};

	(void)st;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *out = NULL;
		size_t len = 99;

		assert_int_equal(render_slice(p, 7, (off_t)cases[i].off,
					      cases[i].size, &out, &len), 0);
		assert_non_null(out);
		assert_int_equal(len, strlen(cases[i].want));
		assert_memory_equal(out, cases[i].want, len);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture),
		cmocka_unit_test(test_every_kind_on_every_object),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_no_id_no_object),
		cmocka_unit_test(test_equal_and_fields),
		cmocka_unit_test(test_slice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
