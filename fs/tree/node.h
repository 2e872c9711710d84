/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node: the shape of the tree and its inode numbers, for every kind of
 * the table in kinds.h.
 *
 *   /                                   root
 *   /regions/                           regions
 *   /regions/R/                         region (one per configured region)
 *   /regions/R/KIND/                    kind_dir      (connections, pops ...)
 *   /regions/R/KIND/ID/                 obj
 *   /regions/R/KIND/ID/FILE             file          (slot: file index)
 *   /regions/R/KIND/ID/LINK             link          (slot: link index)
 *   /regions/R/KIND/ID/SUB/             subdir        (slot: subdir index)
 *   /regions/R/KIND/ID/SUB/CHILD        sub_entry     -> the child object
 *   /regions/R/by-name/  (or KIND/by-name/)  byname_dir
 *   /regions/R/by-name/NAME             byname        -> the object
 *   /.interlinkfs/                      meta
 *   /.interlinkfs/{stats,version,metrics,changes} meta_file
 *   /.interlinkfs/prometheus/           prom
 *   /.interlinkfs/prometheus/NAME.prom  prom_file     (slot: which)
 *   /tables/                            tables
 *   /tables/KIND.{tsv,json}             table         (kind; slot: format)
 *
 * Inode numbers are computed, not stored: fixed ones for the nodes above
 * objects, and a number per object slot below it (objtab.h gives objects
 * their numbers, which carry their kind). A sub_entry is numbered after
 * the child object it points to (a child is in one parent's subdirectory
 * at most), a byname entry after the object it names.
 *
 * Every function is pure and thread-safe.
 */
#ifndef INTERLINKFS_NODE_H
#define INTERLINKFS_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "kinds.h"

enum node_type {
	NT_NONE,
	NT_ROOT,
	NT_REGIONS,
	NT_META,
	NT_META_FILE,
	NT_PROM,
	NT_PROM_FILE,
	NT_TABLES,
	NT_TABLE,
	NT_REGION,
	NT_KIND_DIR,
	NT_BYNAME_DIR,
	NT_OBJ,
	NT_FILE,
	NT_LINK,
	NT_SUBDIR,
	NT_SUB_ENTRY,
	NT_BYNAME,
};

#define NODE_MAX_REGIONS 1024

struct node {
	enum node_type type;
	enum kind_id kind;  /* kind dirs, by-name dirs, objects and below;
			     * a sub_entry: the child's kind */
	uint32_t region;    /* index into the configured regions */
	uint64_t obj;       /* object number (objects and below) */
	uint32_t slot;      /* file, link or subdir index; meta or prom
			     * file; table format */
};

/* The inode number of a node. */
uint64_t node_ino(const struct node *n);

/*
 * The node of an inode number: objects are decoded to their number and
 * kind (the caller checks the object exists and its region). 0 or -ENOENT.
 */
int node_from_ino(uint64_t ino, uint32_t nregions, struct node *out);

/*
 * What `name` is inside directory `parent`. For an object child (an id in
 * a kind's directory or a subdirectory, a name in a by-name directory) it
 * returns it with obj = 0: the caller resolves the id or name. 0, -ENOENT
 * (no such child), -ENOTDIR (parent is not a directory) or -ENAMETOOLONG.
 */
int node_child(const struct node *parent, const char *name,
	       const char *const *regions, uint32_t nregions,
	       struct node *out);

bool node_is_dir(const struct node *n);
bool node_is_link(const struct node *n);

/* The inode of an object's node (type NT_OBJ ... NT_BYNAME, slot for the
 * file, link and subdir). */
uint64_t node_obj_ino(uint64_t obj, enum node_type type, uint32_t slot);

/* The inode of a region's directory of kind k (by-name: its by-name
 * directory). */
uint64_t node_kind_dir_ino(uint32_t region, enum kind_id k, bool byname);

/* The inode of kind k's table in format fmt (tables.h). */
uint64_t node_table_ino(enum kind_id k, unsigned fmt);

/* The files of .interlinkfs/prometheus/, by slot: interlink.prom (the
 * state of InterLink's objects) and interlinkfs.prom (the mount's own
 * counters). Slot 0 is no file. */
enum node_prom_slot {
	NODE_PROM_STATE = 1,
	NODE_PROM_COUNTERS = 2,
};
#define NODE_PROM_FILES NODE_PROM_COUNTERS
const char *node_prom_name(unsigned slot);

#endif
