/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: jsontext's byte-level readers. Repairs must give text
 * jansson accepts as UTF-8 (every byte sequence valid), and split must
 * give ordered spans inside the text; neither may read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every byte sequence of s is valid UTF-8 (what jsontext_repair promises). */
static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
			     c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!k || i + k > n)
			return 0;
		for (unsigned j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct jsontext_repairs r;
	struct jsontext_span *sp;
	size_t olen, n, a0, a1, last = 0;
	char *out, id[40];

	if (jsontext_repair(text, size, &out, &olen, &r) == 0) {
		if (!valid_utf8((const unsigned char *)out, olen) ||
		    out[olen] != '\0')
			abort();
		free(out);
	}
	if (jsontext_split(text, size, "connections", &sp, &n, &a0, &a1) == 0) {
		if (a0 > a1 || a1 > size)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (sp[i].start < last || sp[i].end < sp[i].start ||
			    sp[i].start < a0 || sp[i].end > a1)
				abort();
			last = sp[i].end;
			jsontext_record_id(text + sp[i].start, sp[i].end - sp[i].start,
				     id, sizeof id);
		}
		free(sp);
	}
	jsontext_record_id(text, size, id, sizeof id);
	return 0;
}
