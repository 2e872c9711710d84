/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kinds: the table of fs/model/kinds.c as JSON, one kind per line, for the tests
 * that hold the simulator, the SDK check, the man page and the README to
 * it: {"dir", "path", "key", "files": [...], "links": [...], "subdirs":
 * [...], "byname"}.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "kinds.h"

int main(void)
{
	for (int i = 0; i < K_COUNT; i++) {
		const struct kind *k = kind_get((enum kind_id)i);
		json_t *files = json_array(), *links = json_array();
		json_t *subdirs = json_array(), *o;
		char *line;

		for (unsigned f = 0; f < k->nfiles; f++)
			json_array_append_new(files, json_string(k->files[f].name));
		for (unsigned l = 0; l < k->nlinks; l++)
			json_array_append_new(links, json_string(k->links[l].name));
		for (unsigned s = 0; s < k->nsubdirs; s++)
			json_array_append_new(subdirs,
					      json_string(k->subdirs[s].name));
		o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s?}", "dir",
			      k->dir, "path", k->api.path, "key", k->api.key,
			      "files", files, "links", links, "subdirs", subdirs,
			      "byname", k->byname);
		line = json_dumps(o, JSON_COMPACT);
		if (!line)
			return 1;
		puts(line);
		free(line);
		json_decref(o);
	}
	return 0;
}
