/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node: inode numbering and the path-to-node parser.
 */
#include "node.h"

#include <errno.h>
#include <string.h>

#include "field.h"
#include "meta.h"
#include "objtab.h"
#include "tables.h"

#define INO_ROOT 1
#define INO_REGIONS 2
#define INO_META 3                /* its files: + slot (1..MF_COUNT) */
#define INO_REGION0 16            /* + region * REGION_SLOTS + ... */
#define REGION_SLOTS 32           /* 0 the region, 1 + 2k, 2 + 2k kind k */
/* After the regions: tables/ and its files, .interlinkfs/prometheus/ and
 * its files. */
#define INO_TABLES (INO_REGION0 + (uint64_t)NODE_MAX_REGIONS * REGION_SLOTS)
#define INO_TABLE0 (INO_TABLES + 1)   /* + k * TABLE_FORMATS + format */
#define INO_PROM (INO_TABLES + 64)    /* its files: + slot */
#define OBJ_BASE (1ULL << 20)
#define OBJ_SLOTS 64

/* Slots below an object. */
#define SLOT_DIR 0
#define SLOT_FILE 1               /* + file index */
#define SLOT_LINK (SLOT_FILE + KIND_MAX_FILES)
#define SLOT_BYNAME (SLOT_LINK + KIND_MAX_LINKS)
#define SLOT_SUBDIR (SLOT_BYNAME + 1)
#define SLOT_SUB_ENTRY (OBJ_SLOTS - K_COUNT_MAX)   /* + the parent's kind */
#define K_COUNT_MAX 8

_Static_assert(SLOT_SUBDIR + KIND_MAX_SUBDIRS <= SLOT_SUB_ENTRY,
	       "object slots overlap");
_Static_assert(1 + 2 * K_COUNT <= REGION_SLOTS, "region slots overlap");
_Static_assert(INO_PROM + NODE_PROM_FILES < OBJ_BASE,
	       "fixed inodes reach the objects'");
_Static_assert(K_COUNT * TABLE_FORMATS < 63, "table inodes overlap");
_Static_assert(INO_META + MF_COUNT < INO_REGION0, "meta inodes overlap");

static const char *const prom_names[NODE_PROM_FILES + 1] = {
	[NODE_PROM_STATE] = "interlink.prom",
	[NODE_PROM_COUNTERS] = "interlinkfs.prom",
};

const char *node_prom_name(unsigned slot)
{
	return slot >= 1 && slot <= NODE_PROM_FILES ? prom_names[slot] : NULL;
}

uint64_t node_table_ino(enum kind_id k, unsigned fmt)
{
	return INO_TABLE0 + (uint64_t)k * TABLE_FORMATS + fmt;
}

uint64_t node_kind_dir_ino(uint32_t region, enum kind_id k, bool byname)
{
	return INO_REGION0 + (uint64_t)region * REGION_SLOTS + 1 + 2 * k +
	       byname;
}

uint64_t node_obj_ino(uint64_t obj, enum node_type type, uint32_t slot)
{
	uint64_t base = OBJ_BASE + obj * OBJ_SLOTS;

	switch (type) {
	case NT_OBJ: return base + SLOT_DIR;
	case NT_FILE: return base + SLOT_FILE + slot;
	case NT_LINK: return base + SLOT_LINK + slot;
	case NT_BYNAME: return base + SLOT_BYNAME;
	case NT_SUBDIR: return base + SLOT_SUBDIR + slot;
	case NT_SUB_ENTRY: return base + SLOT_SUB_ENTRY + slot;
	default: return 0;
	}
}

uint64_t node_ino(const struct node *n)
{
	switch (n->type) {
	case NT_ROOT: return INO_ROOT;
	case NT_REGIONS: return INO_REGIONS;
	case NT_META: return INO_META;
	case NT_META_FILE: return INO_META + n->slot;
	case NT_PROM: return INO_PROM;
	case NT_PROM_FILE: return INO_PROM + n->slot;
	case NT_TABLES: return INO_TABLES;
	case NT_TABLE: return node_table_ino(n->kind, n->slot);
	case NT_REGION:
		return INO_REGION0 + (uint64_t)n->region * REGION_SLOTS;
	case NT_KIND_DIR:
	case NT_BYNAME_DIR:
		return node_kind_dir_ino(n->region, n->kind,
					 n->type == NT_BYNAME_DIR);
	case NT_NONE: return 0;
	default: return node_obj_ino(n->obj, n->type, n->slot);
	}
}

bool node_is_dir(const struct node *n)
{
	switch (n->type) {
	case NT_ROOT: case NT_REGIONS: case NT_META: case NT_REGION:
	case NT_KIND_DIR: case NT_BYNAME_DIR: case NT_OBJ: case NT_SUBDIR:
	case NT_PROM: case NT_TABLES:
		return true;
	default:
		return false;
	}
}

bool node_is_link(const struct node *n)
{
	return n->type == NT_LINK || n->type == NT_SUB_ENTRY ||
	       n->type == NT_BYNAME;
}

/* The type and slot of a slot below an object of kind k; false if none. */
static bool obj_slot(const struct kind *k, uint32_t slot, struct node *out)
{
	if (slot == SLOT_DIR) {
		out->type = NT_OBJ;
	} else if (slot >= SLOT_FILE && slot < SLOT_FILE + k->nfiles) {
		out->type = NT_FILE;
		out->slot = slot - SLOT_FILE;
	} else if (slot >= SLOT_LINK && slot < SLOT_LINK + k->nlinks) {
		out->type = NT_LINK;
		out->slot = slot - SLOT_LINK;
	} else if (slot == SLOT_BYNAME && k->byname) {
		out->type = NT_BYNAME;
	} else if (slot >= SLOT_SUBDIR && slot < SLOT_SUBDIR + k->nsubdirs) {
		out->type = NT_SUBDIR;
		out->slot = slot - SLOT_SUBDIR;
	} else if (slot >= SLOT_SUB_ENTRY &&
		   slot < SLOT_SUB_ENTRY + K_COUNT &&
		   kind_subdir_of(kind_get(slot - SLOT_SUB_ENTRY), k->id) >= 0) {
		out->type = NT_SUB_ENTRY;
		out->slot = slot - SLOT_SUB_ENTRY;
	} else {
		return false;
	}
	return true;
}

static int from_region_ino(uint64_t ino, struct node *out)
{
	uint64_t rel = ino - INO_REGION0;
	uint32_t s = (uint32_t)(rel % REGION_SLOTS);

	out->region = (uint32_t)(rel / REGION_SLOTS);
	if (s == 0) {
		out->type = NT_REGION;
		return 0;
	}
	if ((s - 1) / 2 >= K_COUNT)
		return -ENOENT;
	out->kind = (enum kind_id)((s - 1) / 2);
	out->type = (s - 1) % 2 ? NT_BYNAME_DIR : NT_KIND_DIR;
	if (out->type == NT_BYNAME_DIR && !kind_get(out->kind)->byname)
		return -ENOENT;
	return 0;
}

int node_from_ino(uint64_t ino, uint32_t nregions, struct node *out)
{
	memset(out, 0, sizeof *out);
	if (ino == INO_ROOT) {
		out->type = NT_ROOT;
	} else if (ino == INO_REGIONS) {
		out->type = NT_REGIONS;
	} else if (ino == INO_META) {
		out->type = NT_META;
	} else if (ino > INO_META && ino <= INO_META + MF_COUNT) {
		out->type = NT_META_FILE;
		out->slot = (uint32_t)(ino - INO_META);
	} else if (ino >= INO_REGION0 &&
		   ino < INO_REGION0 + (uint64_t)nregions * REGION_SLOTS) {
		return from_region_ino(ino, out);
	} else if (ino == INO_TABLES) {
		out->type = NT_TABLES;
	} else if (ino >= INO_TABLE0 &&
		   ino < INO_TABLE0 + K_COUNT * TABLE_FORMATS) {
		out->type = NT_TABLE;
		out->kind = (enum kind_id)((ino - INO_TABLE0) / TABLE_FORMATS);
		out->slot = (uint32_t)((ino - INO_TABLE0) % TABLE_FORMATS);
	} else if (ino == INO_PROM) {
		out->type = NT_PROM;
	} else if (ino > INO_PROM && ino <= INO_PROM + NODE_PROM_FILES) {
		out->type = NT_PROM_FILE;
		out->slot = (uint32_t)(ino - INO_PROM);
	} else if (ino >= OBJ_BASE + OBJ_SLOTS) {
		out->obj = (ino - OBJ_BASE) / OBJ_SLOTS;
		out->kind = objtab_kind_of(out->obj);
		if (out->kind >= K_COUNT ||
		    !obj_slot(kind_get(out->kind),
			      (uint32_t)((ino - OBJ_BASE) % OBJ_SLOTS), out))
			return -ENOENT;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* A child of regions/R/. */
static void region_child(const char *name, struct node *out)
{
	const struct kind *k = kind_by_dir(name);

	if (k) {
		out->type = NT_KIND_DIR;
		out->kind = k->id;
	} else if ((k = kind_by_region_byname(name))) {
		out->type = NT_BYNAME_DIR;
		out->kind = k->id;
	}
}

/* A child of tables/: KIND.tsv or KIND.json. */
static void table_child(const char *name, struct node *out)
{
	const char *dot = strrchr(name, '.');
	char dir[64];
	const struct kind *k;

	if (!dot || (size_t)(dot - name) >= sizeof dir)
		return;
	memcpy(dir, name, (size_t)(dot - name));
	dir[dot - name] = '\0';
	if (!(k = kind_by_dir(dir)))
		return;
	for (unsigned f = 0; f < TABLE_FORMATS; f++) {
		if (strcmp(dot + 1, table_ext((enum table_format)f)) == 0) {
			out->type = NT_TABLE;
			out->kind = k->id;
			out->slot = f;
		}
	}
}

/* A child of an object's directory. */
static void obj_child(const struct node *p, const char *name,
		      struct node *out)
{
	const struct kind *k = kind_get(p->kind);
	int i;

	if ((i = kind_file(k, name)) >= 0)
		out->type = NT_FILE;
	else if ((i = kind_link(k, name)) >= 0)
		out->type = NT_LINK;
	else if ((i = kind_subdir(k, name)) >= 0)
		out->type = NT_SUBDIR;
	if (i >= 0)
		out->slot = (uint32_t)i;
}

static void named_child(const struct node *p, const char *name,
			const char *const *regions, uint32_t nregions,
			struct node *out)
{
	size_t len = strlen(name);
	const struct kind *k = kind_get(p->kind);

	switch (p->type) {
	case NT_ROOT:
		if (strcmp(name, "regions") == 0)
			out->type = NT_REGIONS;
		else if (strcmp(name, ".interlinkfs") == 0)
			out->type = NT_META;
		else if (strcmp(name, "tables") == 0)
			out->type = NT_TABLES;
		break;
	case NT_TABLES:
		table_child(name, out);
		break;
	case NT_PROM:
		for (unsigned s = 1; s <= NODE_PROM_FILES; s++) {
			if (strcmp(prom_names[s], name) == 0) {
				out->type = NT_PROM_FILE;
				out->slot = s;
			}
		}
		break;
	case NT_REGIONS:
		for (uint32_t r = 0; r < nregions; r++) {
			if (strcmp(regions[r], name) == 0) {
				out->type = NT_REGION;
				out->region = r;
			}
		}
		break;
	case NT_META:
		for (unsigned s = 1; s <= MF_COUNT; s++) {
			if (strcmp(meta_name(s), name) == 0) {
				out->type = NT_META_FILE;
				out->slot = s;
			}
		}
		if (strcmp(name, "prometheus") == 0)
			out->type = NT_PROM;
		break;
	case NT_REGION:
		region_child(name, out);
		break;
	case NT_KIND_DIR:
		out->kind = p->kind;
		/* Only an id can name an object: anything else is not there,
		 * whatever the API might say, and costs no request. */
		if (k->byname && k->byname_in_dir && !strcmp(name, k->byname))
			out->type = NT_BYNAME_DIR;
		else if (field_id_valid(name, len))
			out->type = NT_OBJ;
		break;
	case NT_BYNAME_DIR:
		out->kind = p->kind;
		if (len > 0 && strcmp(name, ".") && strcmp(name, ".."))
			out->type = NT_BYNAME;
		break;
	case NT_OBJ:
		out->kind = p->kind;
		out->obj = p->obj;
		obj_child(p, name, out);
		break;
	case NT_SUBDIR:
		if (field_id_valid(name, len)) {
			out->type = NT_SUB_ENTRY;
			out->kind = k->subdirs[p->slot].kind;
			out->slot = (uint32_t)p->kind;
		}
		break;
	default:
		break;
	}
}

int node_child(const struct node *p, const char *name,
	       const char *const *regions, uint32_t nregions,
	       struct node *out)
{
	memset(out, 0, sizeof *out);
	out->region = p->region;
	if (!node_is_dir(p))
		return -ENOTDIR;
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	named_child(p, name, regions, nregions, out);
	return out->type == NT_NONE ? -ENOENT : 0;
}
