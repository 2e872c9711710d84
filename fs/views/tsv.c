/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsv: file values as escaped tab-separated fields.
 */
#include "tsv.h"

#include <string.h>

void tsv_put(FILE *f, const char *p, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;

		switch (p[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		default: continue;
		}
		fwrite(p + run, 1, i - run, f);
		fputs(esc, f);
		run = i + 1;
	}
	fwrite(p + run, 1, len - run, f);
}

void tsv_file(FILE *f, const struct robj *o, unsigned i)
{
	struct robj_bytes b;
	size_t len;

	if (robj_file(o, i, &b)) {
		fputs(TSV_UNREADABLE, f);
		return;
	}
	/* The content is p[0 .. len) and a newline when nl: that newline is
	 * the final one; without it, a newline ending p is. */
	len = b.len;
	if (!b.nl && len > 0 && b.p[len - 1] == '\n')
		len--;
	tsv_put(f, b.p, len);
}

bool tsv_is_column(const struct kind *k, unsigned i)
{
	/* A table's first column is the region the object is under: the
	 * object's own region file would be a second column of that name,
	 * which loaders (pandas, mlr, SQL) each take their own way. */
	return i < k->nfiles && k->files[i].how != RH_JSON &&
	       strcmp(k->files[i].name, "region") != 0;
}
