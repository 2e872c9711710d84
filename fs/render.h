/*
 * render: what each file of the tree contains, from the API's object.
 *
 * Pure functions of their arguments: no I/O, no logging, thread-safe on
 * objects nobody mutates. Formats:
 *  - a string or number: the value, then "\n";
 *  - null or missing: empty (0 bytes);
 *  - tags, available_link_bandwidths(_mbps): one element per line;
 *  - vlan_range: "START-END\n";
 *  - connection.json / pop.json: the object as the API sent it (unknown
 *    fields included), pretty-printed, then "\n".
 * A field of the wrong type renders as -EIO (the .json file still shows
 * exactly what the API sent).
 */
#ifndef INTERLINKFS_RENDER_H
#define INTERLINKFS_RENDER_H

#include <stddef.h>

#include <jansson.h>

/* Files of a connection directory, in directory order (1-based slots). */
enum conn_file {
	CF_ID = 1, CF_NAME, CF_STATUS, CF_BANDWIDTH, CF_DEMARCATION, CF_TAGS,
	CF_POP_ID, CF_PROJECT_ID, CF_ORGANIZATION_ID, CF_AVAILABLE,
	CF_CREATED_AT, CF_UPDATED_AT, CF_VLAN_RANGE, CF_REGION, CF_JSON,
	CF_COUNT = CF_JSON,
};

/* Files of a PoP directory. */
enum pop_file {
	PF_NAME = 1, PF_DISPLAY_NAME, PF_CITY, PF_ADDRESS, PF_PROVIDER,
	PF_BANDWIDTHS, PF_REGION, PF_JSON,
	PF_COUNT = PF_JSON,
};

/* File name of a slot, or NULL. */
const char *render_conn_name(unsigned slot);
const char *render_pop_name(unsigned slot);

/* Slot of a file name, or 0. */
unsigned render_conn_slot(const char *name);
unsigned render_pop_slot(const char *name);

/*
 * The bytes of one file. On success *buf is malloc'ed (the caller frees;
 * NULL when empty) and *len its length. Returns 0, -EIO (field of the
 * wrong type), -ENOENT (no such slot) or -ENOMEM.
 */
int render_conn(const json_t *conn, unsigned slot, char **buf, size_t *len);
int render_pop(const json_t *pop, unsigned slot, char **buf, size_t *len);

#endif
