/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a list page as the client reads it (api_parse_list),
 * for every kind, then each entry rendered into its final form (robj) and
 * every file read back whole and in pieces, and the by-name index of the
 * page. Checks the invariants a directory needs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "byname.h"
#include "robj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every file of o: its size, and reads at two offsets that agree. */
static void check_files(const struct robj *o)
{
	const struct kind *k = robj_kind(o);
	static char whole[1 << 20], part[1 << 20];

	for (unsigned i = 0; i < k->nfiles; i++) {
		long size = robj_file_size(o, i);
		size_t n, half;

		if (size < 0)
			continue;
		if ((size_t)size > sizeof whole)
			abort(); /* bodies are capped far below */
		n = robj_read(o, i, 0, whole, sizeof whole);
		if (n != (size_t)size)
			abort();
		half = n / 2;
		if (robj_read(o, i, half, part, sizeof part) != n - half ||
		    memcmp(part, whole + half, n - half))
			abort();
	}
}

static void check_names(struct robj **objs, size_t n)
{
	struct byname_in *in = calloc(n ? n : 1, sizeof *in);
	struct byname_index *ix;

	for (size_t i = 0; i < n; i++) {
		in[i].id = robj_id(objs[i]);
		if (robj_name(objs[i], &in[i].name, &in[i].len))
			in[i].name = NULL;
	}
	if (byname_index_new(in, n, &ix) == 0) {
		for (size_t i = 0; i < n; i++) {
			const char *name = byname_index_name(ix, i);
			size_t len = strlen(name);
			if (len == 0 || len > BYNAME_MAX || strchr(name, '/') ||
			    !strcmp(name, ".") || !strcmp(name, ".."))
				abort();
			for (size_t k = 0; k < len; k++)
				if ((unsigned char)name[k] < 0x20 ||
				    name[k] == 0x7f)
					abort(); /* not shell-safe */
			if (byname_index_find(ix, name) != (long)i)
				abort(); /* not unique */
		}
		byname_index_free(ix);
	}
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];

	log_setup(LOGL_ERROR, false);
	for (int k = 0; k < K_COUNT; k++) {
		const struct kind *kd = kind_get((enum kind_id)k);
		json_t *items = NULL, *c;
		json_int_t total;
		struct robj **objs;
		size_t i, n = 0;

		if (api_parse_list((const char *)data, size, &kd->api, &items,
				   &total, why, sizeof why))
			continue;
		objs = calloc(json_array_size(items) + 1, sizeof *objs);
		json_array_foreach(items, i, c) {
			/* api_parse_list keeps valid ids only */
			if (!(objs[n] = robj_new(kd, c)))
				abort();
			check_files(objs[n++]);
		}
		if (kd->byname)
			check_names(objs, n);
		for (i = 0; i < n; i++)
			robj_release(objs[i]);
		free(objs);
		json_decref(items);
	}
	return 0;
}
