/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tables: every object of a kind in one TSV or JSON file.
 */
#include "tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robj.h"
#include "tsv.h"

const char *table_ext(enum table_format f)
{
	return f == TABLE_TSV ? "tsv" : "json";
}

static void tsv_header(FILE *f, const struct kind *k)
{
	fputs("region", f);
	for (unsigned i = 0; i < k->nfiles; i++)
		if (tsv_is_column(k, i))
			fprintf(f, "\t%s", k->files[i].name);
	fputc('\n', f);
}

static void tsv_row(FILE *f, const struct kind *k, const char *region,
		    const struct robj *o)
{
	tsv_put(f, region, strlen(region));
	for (unsigned i = 0; i < k->nfiles; i++) {
		if (!tsv_is_column(k, i))
			continue;
		fputc('\t', f);
		tsv_file(f, o, i);
	}
	fputc('\n', f);
}

/* The object's JSON file, without its final newline. */
static void json_item(FILE *f, const struct kind *k, const struct robj *o)
{
	struct robj_bytes b = {NULL, 0, false};

	for (unsigned i = 0; i < k->nfiles; i++)
		if (k->files[i].how == RH_JSON && robj_file(o, i, &b) == 0)
			break;
	if (!b.nl && b.len > 0 && b.p[b.len - 1] == '\n')
		b.len--;
	fwrite(b.p, 1, b.len, f);
}

int table_render(const struct kind *k, enum table_format fmt,
		 const char *const *regions,
		 const struct cache_listing *const *lists, uint32_t n,
		 char **out, size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	size_t rows = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return -ENOMEM;
	if (fmt == TABLE_TSV)
		tsv_header(f, k);
	else
		fputc('[', f);
	for (uint32_t r = 0; r < n; r++) {
		size_t m = lists[r] ? cache_listing_size(lists[r]) : 0;

		for (size_t i = 0; i < m; i++) {
			const struct robj *o = cache_listing_value(lists[r], i);

			if (fmt == TABLE_TSV) {
				tsv_row(f, k, regions[r], o);
			} else {
				fputs(rows ? ",\n" : "\n", f);
				json_item(f, k, o);
			}
			rows++;
		}
	}
	if (fmt == TABLE_JSON)
		fputs(rows ? "\n]\n" : "]\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = sz;
	return 0;
}
