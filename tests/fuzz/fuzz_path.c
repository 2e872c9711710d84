/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the path-to-node parser. The input is a path; it is
 * walked from the root with node_child(), objects get numbers from a real
 * object table, and every node's inode number must decode to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "objtab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const regions[] = {"fr-par", "nl-ams", "pl-waw"};
	struct objtab *t;
	struct node n = {.type = NT_ROOT}, back;
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
		if (c.type == NT_OBJ || c.type == NT_SUB_ENTRY ||
		    c.type == NT_BYNAME) {
			const char *id = c.type == NT_BYNAME ?
				"6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f10" : part;
			if (c.obj)
				abort(); /* objects are the caller's to find */
			c.obj = objtab_intern(t, c.kind, c.region, id);
			if (!c.obj)
				abort(); /* node_child let an invalid id through */
		}
		if (node_from_ino(node_ino(&c), 3, &back))
			abort();
		if (back.type != c.type || back.obj != c.obj ||
		    node_ino(&back) != node_ino(&c))
			abort();
		n = c;
	}
	/* Arbitrary inode numbers decode or fail, never crash. */
	if (size >= 8) {
		uint64_t ino;
		memcpy(&ino, data, 8);
		if (node_from_ino(ino, 3, &back) == 0 &&
		    node_ino(&back) != ino)
			abort();
	}
	objtab_free(t);
	free(path);
	return 0;
}
