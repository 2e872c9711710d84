/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kinds: every kind of object interlinkfs shows, one declarative entry
 * each: its directory, its API path and list key, its files (name, then
 * how each is rendered from the object), its symbolic links, its by-name
 * directory, the directories of other objects it holds, its freshness,
 * and which mount-option filters apply to it.
 *
 * Everything else (the FUSE operations, the cache wiring, by-name, the
 * invalidations, the .interlinkfs counters) works from this table, with no
 * branch on a kind. Adding a kind is one entry here (and in enum kind_id),
 * the renderers it needs in render.c, and the simulator's data.
 *
 * The table is constant; every function is pure and thread-safe.
 */
#ifndef INTERLINKFS_KINDS_H
#define INTERLINKFS_KINDS_H

#include <stdbool.h>

#include "api.h"

enum kind_id {
	K_CONN,          /* dedicated connections */
	K_POP,           /* PoPs */
	K_LINK,          /* links (InterLinks) */
	K_PARTNER,       /* partners */
	K_RP,            /* routing policies */
	K_COUNT,         /* at most 8: object numbers carry it in 3 bits */
};

/* How a file's bytes come from the object (render.h). */
enum render_how {
	RH_STR,          /* a string: the value, then "\n" */
	RH_UINT,         /* an unsigned integer (up to 2^64 - 1) */
	RH_BOOL,         /* true or false */
	RH_STRS,         /* an array of strings: one per line */
	RH_UINTS,        /* an array of unsigned integers: one per line */
	RH_RANGE,        /* {"start": N, "end": N}: "START-END\n" */
	RH_ONE_OF,       /* which member is there: the field is a list
			  * "member=label ...", the file the label of the
			  * one member present and not null (empty when
			  * none is, or more than one) */
	RH_JSON,         /* the object as the API sent it, pretty-printed */
};

struct file_def {
	const char *name;        /* the file's name */
	enum render_how how;
	const char *field;       /* the JSON member ("a.b": member b of a) */
	/* The values the API documents for it (an enum), NULL-terminated;
	 * NULL when it is not an enum. */
	const char *const *values;
};

/* A symbolic link to another object, present when the field holds a
 * valid id (whether the target exists or not). */
struct link_def {
	const char *name;        /* "pop" */
	const char *target;      /* what precedes the id: "../../pops/" */
	const char *field;       /* "pop_id" */
};

/* A directory of an object that lists objects of another kind pointing at
 * it: connections/ID/links/ holds the links whose link "connection" points
 * to ID. Its entries are symbolic links to the child objects. */
struct subdir_def {
	const char *name;        /* "links" */
	enum kind_id kind;       /* of the objects listed */
	unsigned link;           /* the child kind's link that points here */
	const char *target;      /* what precedes a child's id:
				  * "../../../links/" */
};

/* Which mount-option filters apply to a kind. */
enum {
	FILTER_PROJECT = 1 << 0,
	FILTER_ORGANIZATION = 1 << 1,
	FILTER_NAME = 1 << 2,
	FILTER_STATUS = 1 << 3,
	FILTER_BANDWIDTH = 1 << 4,
	FILTER_POP = 1 << 5,
	FILTER_TAGS = 1 << 6,
};

/* How long a kind's data is fresh: the mount's ttl, or catalog_ttl (for
 * Scaleway's catalogue, which changes rarely). */
enum freshness { FRESH_TTL, FRESH_CATALOG };

#define KIND_MAX_FILES 40
#define KIND_MAX_LINKS 8
#define KIND_MAX_SUBDIRS 4

struct kind {
	enum kind_id id;
	const char *dir;         /* under regions/R/: "connections" */
	const char *singular;    /* for log lines: "connection" */
	struct api_kind api;     /* path and list key */
	const struct file_def *files;
	unsigned nfiles;         /* <= KIND_MAX_FILES */
	const struct link_def *links;
	unsigned nlinks;         /* <= KIND_MAX_LINKS */
	const struct subdir_def *subdirs;
	unsigned nsubdirs;       /* <= KIND_MAX_SUBDIRS */
	/* by-name: the directory's name (NULL: none), whether it sits in
	 * the kind's directory (links/by-name) or at the region
	 * (regions/R/by-name), and what its entries point to, before the
	 * id. Entry names come from the field "name". */
	const char *byname;
	bool byname_in_dir;
	const char *byname_target;
	enum freshness fresh;
	unsigned filters;        /* FILTER_* bits */
	const char *order_by;    /* the list order asked for (NULL: the API's) */
	/* Its listing tells whether the API serves a region at all (a 404
	 * makes every directory of the region "No such file"): one kind,
	 * whose listing is small and changes rarely. */
	bool probe;
};

/* The entry of a kind. */
const struct kind *kind_get(enum kind_id id);

/* The kind whose directory is called dir, or NULL. */
const struct kind *kind_by_dir(const char *dir);

/* The kind whose by-name directory sits at the region and is called
 * name, or NULL. */
const struct kind *kind_by_region_byname(const char *name);

/* The index of a file, link or subdirectory name in k, or -1. */
int kind_file(const struct kind *k, const char *name);
int kind_link(const struct kind *k, const char *name);
int kind_subdir(const struct kind *k, const char *name);

/* The index of k's subdirectory listing kind child, or -1. */
int kind_subdir_of(const struct kind *k, enum kind_id child);

/* The subdirectory of a parent kind that lists objects of kind child
 * (what its entries point to), or NULL. */
const struct subdir_def *kind_subdir_for(enum kind_id parent,
					 enum kind_id child);

/* The kind whose listing probes a region (see probe). */
const struct kind *kind_probe(void);

/* The filters of the mount (f) that apply to k, into out (strings
 * borrowed from f). */
void kind_filters(const struct kind *k, const struct api_filters *f,
		  struct api_filters *out);

#endif
