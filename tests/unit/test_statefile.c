/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statefile: the bytes a mount saves between runs (fs/views/statefile.h).
 * A listing reads back as the very objects it held (every fixture, the
 * awkward ones included: the object as the API sent it, byte for byte),
 * with its time and batch; a file cut at any length, with one bit
 * changed, of a future format or of another key is refused, saying why;
 * keys tell views apart; and the journal is mended after a crash
 * (mend.h).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cache.h"
#include "jsontext.h"
#include "kinds.h"
#include "mend.h"
#include "robj.h"
#include "statefile.h"

static const unsigned char KEY[STATEFILE_KEY] = {1, 2, 3, 4, 5};

/* ---- a listing of robj values ----------------------------------------- */

static void **items;
static size_t nitems;

static int load_list(void *ud, const char *region, void *ctx, void ***out,
		     size_t *n, struct cache_note *note)
{
	(void)ud;
	(void)region;
	(void)ctx;
	(void)note;
	*out = calloc(nitems + 1, sizeof **out);
	for (size_t i = 0; i < nitems; i++) {
		robj_hold(items[i]);
		(*out)[i] = items[i];
	}
	*n = nitems;
	return 0;
}

static int load_one(void *ud, const char *region, const char *id, void *ctx,
		    void **out, struct cache_note *note)
{
	(void)ud, (void)region, (void)id, (void)ctx, (void)out, (void)note;
	return -ENOENT;
}

/* A cache (the caller frees it) whose listing of "fr-par" holds items. */
static struct cache *listing_of(struct cache_item *it)
{
	struct cache_conf conf;
	struct cache_ops ops = {
		.load_list = load_list, .load_one = load_one,
		.values = {robj_hold_v, robj_release_v, robj_equal_v,
			   robj_size_v, robj_id_v},
	};
	struct cache *c;

	cache_conf_default(&conf);
	assert_int_equal(cache_new(&conf, &ops, &c), 0);
	assert_int_equal(cache_list(c, "fr-par", NULL, NULL, it), 0);
	return c;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Every fixture of kind k, as the client reads them, into items. */
static void fixtures(const struct kind *k)
{
	char dir[512], path[1024];
	struct dirent *e;
	DIR *dh;

	nitems = 0;
	snprintf(dir, sizeof dir, "%s/%s", getenv("FIXTURES"), k->dir);
	assert_non_null(dh = opendir(dir));
	while ((e = readdir(dh))) {
		struct jsontext_repairs rep;
		char *text, *fixed;
		size_t len, flen;
		json_t *j;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/object.json", dir,
			 e->d_name);
		text = slurp(path, &len);
		assert_int_equal(jsontext_repair(text, len, &fixed, &flen,
						 &rep), 0);
		assert_non_null(j = json_loadb(fixed, flen, JSON_ALLOW_NUL,
					       NULL));
		items = realloc(items, (nitems + 1) * sizeof *items);
		if ((items[nitems] = robj_new(k, j)))
			nitems++;
		json_decref(j);
		free(text);
		free(fixed);
	}
	closedir(dh);
	assert_true(nitems > 0);
}

static void drop_fixtures(void)
{
	for (size_t i = 0; i < nitems; i++)
		robj_release(items[i]);
	nitems = 0;
}

/* The file of the fixtures of kind k. */
static char *encoded(const struct kind *k, size_t *len,
		     struct statefile_listing *h)
{
	struct cache_item it;
	struct cache *c;
	char *out;

	fixtures(k);
	memset(h, 0, sizeof *h);
	memcpy(h->key, KEY, sizeof h->key);
	strcpy(h->region, "fr-par");
	h->kind = k;
	h->born = 1767000000.25;
	h->off = 123456;
	h->batch = (struct statefile_slice){"a line\nand another\n", 19};
	c = listing_of(&it);
	assert_int_equal(statefile_listing_encode(h, it.list, &out, len), 0);
	cache_item_release(c, &it);
	cache_free(c);
	return out;
}

static void test_a_listing_reads_back_as_the_very_objects(void **st)
{
	(void)st;
	for (int ki = 0; ki < K_COUNT; ki++) {
		const struct kind *k = kind_get((enum kind_id)ki);
		struct statefile_listing h, got;
		char why[160], *buf;
		size_t len;

		buf = encoded(k, &len, &h);
		assert_int_equal(statefile_listing_decode(buf, len, KEY, &got,
							  why, sizeof why), 0);
		assert_string_equal(got.region, "fr-par");
		assert_ptr_equal(got.kind, k);
		assert_true(got.born == 1767000000.25);
		assert_int_equal(got.off, 123456);
		assert_int_equal(got.batch.len, 19);
		assert_memory_equal(got.batch.p, "a line\nand another\n", 19);
		assert_memory_equal(got.sum, h.sum, sizeof h.sum);
		assert_int_equal(got.n, nitems);
		for (size_t i = 0; i < got.n; i++) {
			json_t *j = statefile_object(&got.objects[i]);
			struct robj *o = j ? robj_new(k, j) : NULL;

			/* The same object, every file the same bytes. */
			assert_non_null(o);
			assert_true(robj_equal(o, items[i]));
			robj_release(o);
			json_decref(j);
		}
		statefile_listing_clear(&got);
		free(buf);
		drop_fixtures();
	}
	free(items);
	items = NULL;
}

static void refused(const char *buf, size_t len, const unsigned char *key,
		    const char *why_has)
{
	struct statefile_listing got;
	char why[160] = "";

	assert_int_equal(statefile_listing_decode(buf, len, key, &got, why,
						  sizeof why), -EINVAL);
	if (!strstr(why, why_has))
		fail_msg("\"%s\" does not say \"%s\"", why, why_has);
	assert_null(got.objects);
}

static void test_a_damaged_file_is_refused_saying_why(void **st)
{
	unsigned char other[STATEFILE_KEY] = {9};
	struct statefile_listing h;
	size_t len;
	char *buf = encoded(kind_get(K_CONN), &len, &h), *copy;

	(void)st;
	/* Cut at any length. */
	for (size_t n = 0; n < len; n++) {
		struct statefile_listing got;
		char why[160];

		assert_int_equal(statefile_listing_decode(buf, n, KEY, &got,
							  why, sizeof why),
				 -EINVAL);
	}
	refused(buf, len - 1, KEY, "truncated");
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 'x';
	refused(copy, len + 1, KEY, "garbage after its end");
	/* One bit anywhere in the body. */
	for (size_t i = len - 1; i > len - 2000 && i > 400; i -= 97) {
		memcpy(copy, buf, len);
		copy[i] ^= 4;
		refused(copy, len, KEY, "checksum");
	}
	memcpy(copy, buf, len);
	memcpy(copy + strlen("interlinkfs-state "), "2", 1);
	refused(copy, len, KEY, "a future format (version 2");
	refused(buf, len, other, "another key");
	refused("\x7f" "ELF\2\1\1", 7, KEY, "not a state file");
	memcpy(copy, buf, len);
	memcpy(copy + strlen("interlinkfs-state 1 "), "seen   ", 7);
	refused(copy, len, KEY, "not a listing file");
	free(copy);
	free(buf);
	drop_fixtures();
	free(items);
	items = NULL;
}

static void key(const struct statefile_view *v, unsigned char *out)
{
	statefile_key(v, out);
}

static void test_keys_tell_views_apart(void **st)
{
	const char *tags_ab[] = {"a", "b"}, *tags_ba[] = {"b", "a"};
	struct api_filters f = {0}, g = {0}, t1 = {.tags = tags_ab, .ntags = 2},
			   t2 = {.tags = tags_ba, .ntags = 2};
	struct statefile_view v = {"https://api.scaleway.com", "secret-1",
				   NULL, 0, &f};
	unsigned char k[8][STATEFILE_KEY];
	char hex[2 * STATEFILE_KEY + 1], name[STATEFILE_NAME];

	(void)st;
	key(&v, k[0]);
	v.secret = "secret-2";
	key(&v, k[1]);
	v.secret = "secret-1";
	v.url = "https://other.example";
	key(&v, k[2]);
	v.url = "https://api.scaleway.com";
	g.project_id = "5c654a88-61c4-41d4-a668-2e16c42deded";
	v.filters = &g;
	key(&v, k[3]);
	v.filters = &t1;
	key(&v, k[4]);
	v.filters = &t2;
	key(&v, k[5]);
	v.filters = &f;
	v.secret = NULL;
	v.identity = (const unsigned char *)"CN=host-1";
	v.identity_len = 9;
	key(&v, k[6]);
	v.identity = (const unsigned char *)"CN=host-2";
	key(&v, k[7]);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < i; j++)
			if (!(i == 5 && j == 4))
				assert_memory_not_equal(k[i], k[j],
							STATEFILE_KEY);
	/* The order tags were given in is not a view. */
	assert_memory_equal(k[4], k[5], STATEFILE_KEY);
	/* The same view, the same key; the secret is not in it. */
	v = (struct statefile_view){"https://api.scaleway.com", "secret-1",
				    NULL, 0, &f};
	key(&v, k[6]);
	assert_memory_equal(k[0], k[6], STATEFILE_KEY);
	statefile_hex(k[0], STATEFILE_KEY, hex);
	assert_int_equal(strlen(hex), 64);
	statefile_name(k[0], SF_LISTING, "nl-ams", kind_get(K_LINK), name);
	assert_int_equal(strncmp(name, hex, 16), 0);
	assert_string_equal(name + 16, ".nl-ams.links.listing");
	statefile_name(k[0], SF_JOURNAL, NULL, NULL, name);
	assert_string_equal(name + 16, ".journal");
}

static void test_the_journal_header_and_the_seen_file(void **st)
{
	struct statefile_journal h = {.base = 987654321, .dropped = 42}, got;
	struct statefile_seen e[2] = {{"fr-par", NULL, {7}, 1767000001.5},
				      {"nl-ams", NULL, {8}, 1767000002}};
	struct statefile_seen *back;
	char buf[512], why[160], *out;
	size_t len, n;

	(void)st;
	memcpy(h.key, KEY, sizeof KEY);
	len = statefile_journal_header(&h, buf, sizeof buf);
	assert_true(len > 0);
	strcpy(buf + len, "lines\n");
	assert_int_equal(statefile_journal_decode(buf, len + 6, KEY, &got,
						  why, sizeof why), 0);
	assert_int_equal(got.base, 987654321);
	assert_int_equal(got.dropped, 42);
	assert_int_equal(got.header_len, len);
	assert_int_equal(statefile_journal_header(&h, buf, 10), 0);
	e[0].kind = kind_get(K_LINK);
	e[1].kind = kind_get(K_POP);
	assert_int_equal(statefile_seen_encode(KEY, e, 2, &out, &len), 0);
	assert_int_equal(statefile_seen_decode(out, len, KEY, &back, &n, why,
					       sizeof why), 0);
	assert_int_equal(n, 2);
	assert_string_equal(back[1].region, "nl-ams");
	assert_ptr_equal(back[1].kind, kind_get(K_POP));
	assert_true(back[0].born == 1767000001.5);
	assert_int_equal(back[1].sum[0], 8);
	free(back);
	out[len - 2] ^= 1;
	assert_int_equal(statefile_seen_decode(out, len, KEY, &back, &n, why,
					       sizeof why), -EINVAL);
	free(out);
}

/* The journal's lines after mending (base 100). */
static char *mended(const char *lines, const struct mend_batch *b,
		    size_t n, size_t *keep)
{
	char *add, *out;
	size_t addlen;

	assert_int_equal(mend_journal(lines, strlen(lines), 100, b, n, keep,
					&add, &addlen), 0);
	out = calloc(1, *keep + addlen + 1);
	memcpy(out, lines, *keep);
	if (add)
		memcpy(out + *keep, add, addlen);
	free(add);
	return out;
}

static void test_the_journal_is_mended_after_a_crash(void **st)
{
	struct mend_batch b[3];
	size_t keep;
	char *got;

	(void)st;
	/* A torn last line goes; batches there already stay. */
	b[0] = (struct mend_batch){100, "one\n", 4};
	got = mended("one\ntwo\nthr", b, 1, &keep);
	assert_string_equal(got, "one\ntwo\n");
	assert_int_equal(keep, 8);
	free(got);
	/* A batch the file lacks, whole or in part, at its offset. */
	b[1] = (struct mend_batch){108, "three\nfour\n", 11};
	got = mended("one\ntwo\nthree\n", b, 2, &keep);
	assert_string_equal(got, "one\ntwo\nthree\nfour\n");
	free(got);
	got = mended("one\ntwo\n", b + 1, 1, &keep);
	assert_string_equal(got, "one\ntwo\nthree\nfour\n");
	free(got);
	/* Two, in the order of their offsets whatever order they come in;
	 * before them, lines that never reached the disk, as a comment of
	 * their length. */
	b[0] = (struct mend_batch){119, "five\n", 5};
	b[2] = (struct mend_batch){130, "six\n", 4};
	got = mended("one\n", b, 3, &keep);
	assert_int_equal(keep, 4);
	assert_string_equal(got, "one\n# l\nthree\nfour\nfive\n# lin\nsix\n");
	free(got);
	/* A long gap: lines of at most 4 KiB, the first one saying it. */
	b[0] = (struct mend_batch){100 + 10000, "end\n", 4};
	got = mended("", b, 1, &keep);
	assert_int_equal(strlen(got), 10004);
	assert_true(strncmp(got, "# lines lost", 12) == 0);
	for (char *p = got, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		assert_true(nl - p < 4096);
	free(got);
	/* A batch before the file's lines cannot be placed: left. */
	b[0] = (struct mend_batch){50, "old\n", 4};
	got = mended("one\n", b, 1, &keep);
	assert_string_equal(got, "one\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_listing_reads_back_as_the_very_objects),
		cmocka_unit_test(test_a_damaged_file_is_refused_saying_why),
		cmocka_unit_test(test_keys_tell_views_apart),
		cmocka_unit_test(test_the_journal_header_and_the_seen_file),
		cmocka_unit_test(test_the_journal_is_mended_after_a_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
