/*
 * libFuzzer target: the path-to-node parser. The input is a path; it is
 * walked from the root with node_child(), objects get numbers from a real
 * object table, and every node's inode number must decode to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const regions[] = {"fr-par", "nl-ams", "pl-waw"};
	struct objtab *t;
	struct node n = {.kind = NK_ROOT}, back;
	char *path = malloc(size + 1), *save = NULL, *part;

	if (!path || objtab_new(&t)) {
		free(path);
		return 0;
	}
	memcpy(path, data, size);
	path[size] = '\0';
	for (part = strtok_r(path, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		struct node c;
		if (node_child(&n, part, regions, 3, &c))
			break;
		if ((c.kind == NK_CONN || c.kind == NK_POP ||
		     c.kind == NK_BYNAME_LINK) && c.obj == 0) {
			const char *id = c.kind == NK_BYNAME_LINK ?
				"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10" : part;
			c.obj = objtab_intern(t, c.kind == NK_POP ? OBJ_POP
					      : OBJ_CONN, c.region, id);
			if (!c.obj)
				abort(); /* node_child let an invalid id through */
		}
		if (node_from_ino(node_ino(&c), 3, &back))
			abort();
		if (back.obj != c.obj ||
		    (c.kind != NK_POP && c.kind != NK_POP_FILE &&
		     back.kind != c.kind))
			abort();
		n = c;
	}
	/* Arbitrary inode numbers decode or fail, never crash. */
	if (size >= 8) {
		uint64_t ino;
		memcpy(&ino, data, 8);
		node_from_ino(ino, 3, &back);
	}
	objtab_free(t);
	free(path);
	return 0;
}
