/*
 * libFuzzer target: a list page as the client reads it (api_parse_list),
 * then every file rendered from every connection and PoP, and the by-name
 * entries. Checks the invariants a directory needs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "conn.h"
#include "log.h"
#include "names.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(json_t *items)
{
	size_t n = json_array_size(items), i;
	struct names_in *in = calloc(n ? n : 1, sizeof *in);
	char **names = NULL;
	json_t *c;

	json_array_foreach(items, i, c) {
		in[i].id = conn_id(c);
		if (!in[i].id)
			abort(); /* api_parse_list keeps valid ids only */
		if (conn_str(c, "name", &in[i].name, &in[i].len))
			in[i].name = NULL;
	}
	if (names_assign(in, n, &names) == 0) {
		for (i = 0; i < n; i++) {
			size_t len = strlen(names[i]);
			if (len == 0 || len > NAMES_MAX || strchr(names[i], '/') ||
			    !strcmp(names[i], ".") || !strcmp(names[i], ".."))
				abort();
			for (size_t k = 0; k < len; k++)
				if ((unsigned char)names[i][k] < 0x20 ||
				    names[i][k] == 0x7f)
					abort(); /* not shell-safe */
			for (size_t k = 0; k < i; k++)
				if (!strcmp(names[i], names[k]))
					abort();
		}
		names_free(names, n);
	}
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"connections", "pops"};
	char why[256];

	log_setup(LOGL_ERROR, false);
	for (int k = 0; k < 2; k++) {
		json_t *items = NULL, *c;
		json_int_t total;
		size_t i;

		if (api_parse_list((const char *)data, size, keys[k], &items,
				   &total, why, sizeof why))
			continue;
		json_array_foreach(items, i, c) {
			for (unsigned s = 0; s <= CF_COUNT + 1; s++) {
				char *buf = NULL;
				size_t len = 0;
				if (render_conn(c, s, &buf, &len) == 0)
					free(buf);
				if (render_pop(c, s, &buf, &len) == 0)
					free(buf);
			}
			conn_check(c, why, sizeof why);
		}
		if (k == 0)
			check_names(items);
		json_decref(items);
	}
	return 0;
}
