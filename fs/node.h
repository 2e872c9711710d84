/*
 * node: the shape of the tree, inode numbers, and the object table.
 *
 *   /                                    root
 *   /regions/                            regions
 *   /regions/R/                          region (one per configured region)
 *   /regions/R/connections/              conns
 *   /regions/R/connections/ID/           conn            (object)
 *   /regions/R/connections/ID/FILE       conn_file       (slot 1..15)
 *   /regions/R/connections/ID/pop        conn_pop        -> ../../pops/POP
 *   /regions/R/by-name/                  byname
 *   /regions/R/by-name/NAME              byname_link     -> ../connections/ID
 *   /regions/R/pops/                     pops
 *   /regions/R/pops/ID/                  pop             (object)
 *   /regions/R/pops/ID/FILE              pop_file
 *   /.interlinkfs/                       meta
 *   /.interlinkfs/{stats,version,metrics} meta_file
 *
 * Inode numbers are computed, not stored: fixed ones for the static nodes,
 * and OBJ_BASE + object * 32 + slot for everything below an object. An
 * object (a connection or a PoP of a region) gets its number the first
 * time it is seen and keeps it for the life of the mount.
 */
#ifndef INTERLINKFS_NODE_H
#define INTERLINKFS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"

enum node_kind {
	NK_NONE,
	NK_ROOT,
	NK_REGIONS,
	NK_META,
	NK_META_FILE,
	NK_REGION,
	NK_CONNS,
	NK_BYNAME,
	NK_POPS,
	NK_CONN,
	NK_CONN_FILE,
	NK_CONN_POP,
	NK_BYNAME_LINK,
	NK_POP,
	NK_POP_FILE,
};

enum obj_kind { OBJ_CONN, OBJ_POP };

/* Slots below an object. */
#define SLOT_DIR 0
#define SLOT_POPLINK 30
#define SLOT_BYNAME 31

#define NODE_MAX_REGIONS 1024

struct node {
	enum node_kind kind;
	uint32_t region;   /* index into the configured regions */
	uint64_t obj;      /* object number (objects and below) */
	uint32_t slot;     /* file slot; meta file */
};

/* The inode number of a node. Pure. */
uint64_t node_ino(const struct node *n);

/*
 * The node of an inode number. Objects are decoded to their number only
 * (the caller checks the object exists). 0 or -ENOENT. Pure.
 */
int node_from_ino(uint64_t ino, uint32_t nregions, struct node *out);

/*
 * What `name` is inside directory `parent`. Pure. For an object child
 * (an id under connections/ or pops/, a name under by-name/) it returns
 * kind NK_CONN / NK_POP / NK_BYNAME_LINK with obj = 0: the caller resolves
 * the id or name. Returns 0, -ENOENT (no such child), -ENOTDIR (parent is
 * not a directory) or -ENAMETOOLONG.
 */
int node_child(const struct node *parent, const char *name,
	       const char *const *regions, uint32_t nregions,
	       struct node *out);

/* Is this node a directory / a symlink? */
bool node_is_dir(const struct node *n);
bool node_is_link(const struct node *n);

/* ---- the object table ------------------------------------------------ */

struct objtab;

int objtab_new(struct objtab **out);
void objtab_free(struct objtab *t);

/*
 * The number of (kind, region, id), created if new (numbers start at 1
 * and are never reused). id must be a valid id (a UUID). 0 on failure.
 * Thread-safe.
 */
uint64_t objtab_intern(struct objtab *t, enum obj_kind kind, uint32_t region,
		       const char *id);

/* The number of (kind, region, id) if it has one, else 0. Thread-safe. */
uint64_t objtab_find(struct objtab *t, enum obj_kind kind, uint32_t region,
		     const char *id);

/* The object with that number: 0 with kind, region and id copied out
 * (id: at least 37 bytes), or -ENOENT. Thread-safe. */
int objtab_get(struct objtab *t, uint64_t obj, enum obj_kind *kind,
	       uint32_t *region, char *id);

/* Record that the files of object obj, generation gen, were handed to the
 * kernel's page cache: true if this is new (not done for gen yet).
 * Thread-safe. */
bool objtab_claim(struct objtab *t, uint64_t obj, uint64_t gen);

/*
 * The size the kernel holds for each file of an object (slots 1..15).
 * The kernel keeps a file's size between reads and cuts what a read
 * returns at it, so bytes of a newer, longer value read against an older
 * size come out cut short; and a read returning fewer bytes than that
 * size makes the kernel shrink it. Sizes reach the kernel in attributes
 * (told), and grow when bytes are pushed to its page cache (stored).
 * objtab_size_read records that a read returned a file of `size` bytes
 * (to_end: up to its end, so the kernel takes a shorter file's size),
 * and says whether the kernel's size is smaller: then it must be told to
 * ask again. Unknown sizes (never told) are never smaller. Thread-safe.
 */
void objtab_size_told(struct objtab *t, uint64_t obj, unsigned slot,
		      size_t size);
void objtab_size_stored(struct objtab *t, uint64_t obj, unsigned slot,
			size_t size);
bool objtab_size_read(struct objtab *t, uint64_t obj, unsigned slot,
		      size_t size, bool to_end);

/* How many objects exist (numbers 1..count). Thread-safe. */
uint64_t objtab_count(struct objtab *t);

#endif
