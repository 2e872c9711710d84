/*
 * node: inode numbering, the path-to-node parser, the object table.
 */
#include "node.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "render.h"

#define INO_ROOT 1
#define INO_REGIONS 2
#define INO_META 3
#define INO_META_FILE0 3          /* + slot (1..3) */
#define INO_REGION0 16            /* + region * 4 + {0,1,2,3} */
#define OBJ_BASE (1ULL << 20)
#define OBJ_SLOTS 32

uint64_t node_ino(const struct node *n)
{
	switch (n->kind) {
	case NK_ROOT: return INO_ROOT;
	case NK_REGIONS: return INO_REGIONS;
	case NK_META: return INO_META;
	case NK_META_FILE: return INO_META_FILE0 + n->slot;
	case NK_REGION: return INO_REGION0 + (uint64_t)n->region * 4;
	case NK_CONNS: return INO_REGION0 + (uint64_t)n->region * 4 + 1;
	case NK_BYNAME: return INO_REGION0 + (uint64_t)n->region * 4 + 2;
	case NK_POPS: return INO_REGION0 + (uint64_t)n->region * 4 + 3;
	case NK_CONN:
	case NK_POP: return OBJ_BASE + n->obj * OBJ_SLOTS + SLOT_DIR;
	case NK_CONN_FILE:
	case NK_POP_FILE: return OBJ_BASE + n->obj * OBJ_SLOTS + n->slot;
	case NK_CONN_POP: return OBJ_BASE + n->obj * OBJ_SLOTS + SLOT_POPLINK;
	case NK_BYNAME_LINK:
		return OBJ_BASE + n->obj * OBJ_SLOTS + SLOT_BYNAME;
	default: return 0;
	}
}

bool node_is_dir(const struct node *n)
{
	switch (n->kind) {
	case NK_ROOT: case NK_REGIONS: case NK_META: case NK_REGION:
	case NK_CONNS: case NK_BYNAME: case NK_POPS: case NK_CONN: case NK_POP:
		return true;
	default:
		return false;
	}
}

bool node_is_link(const struct node *n)
{
	return n->kind == NK_CONN_POP || n->kind == NK_BYNAME_LINK;
}

int node_child(const struct node *p, const char *name,
	       const char *const *regions, uint32_t nregions,
	       struct node *out)
{
	size_t len = strlen(name);
	unsigned slot;

	memset(out, 0, sizeof *out);
	out->region = p->region;
	out->obj = p->obj;
	if (!node_is_dir(p))
		return -ENOTDIR;
	if (len > 255)
		return -ENAMETOOLONG;
	switch (p->kind) {
	case NK_ROOT:
		if (strcmp(name, "regions") == 0)
			out->kind = NK_REGIONS;
		else if (strcmp(name, ".interlinkfs") == 0)
			out->kind = NK_META;
		break;
	case NK_REGIONS:
		for (uint32_t r = 0; r < nregions; r++) {
			if (strcmp(regions[r], name) == 0) {
				out->kind = NK_REGION;
				out->region = r;
			}
		}
		break;
	case NK_META:
		for (slot = 1; slot <= MF_COUNT; slot++) {
			if (strcmp(meta_name(slot), name) == 0) {
				out->kind = NK_META_FILE;
				out->slot = slot;
			}
		}
		break;
	case NK_REGION:
		if (strcmp(name, "connections") == 0)
			out->kind = NK_CONNS;
		else if (strcmp(name, "by-name") == 0)
			out->kind = NK_BYNAME;
		else if (strcmp(name, "pops") == 0)
			out->kind = NK_POPS;
		break;
	case NK_CONNS:
	case NK_POPS:
		/* Only an id can name an object: anything else is not there,
		 * whatever the API might say, and costs no request. */
		if (conn_id_valid(name, len)) {
			out->kind = p->kind == NK_CONNS ? NK_CONN : NK_POP;
			out->obj = 0;
		}
		break;
	case NK_BYNAME:
		if (len > 0 && strcmp(name, ".") && strcmp(name, "..")) {
			out->kind = NK_BYNAME_LINK;
			out->obj = 0;
		}
		break;
	case NK_CONN:
		slot = render_conn_slot(name);
		if (slot) {
			out->kind = NK_CONN_FILE;
			out->slot = slot;
		} else if (strcmp(name, "pop") == 0) {
			out->kind = NK_CONN_POP;
			out->slot = SLOT_POPLINK;
		}
		break;
	case NK_POP:
		slot = render_pop_slot(name);
		if (slot) {
			out->kind = NK_POP_FILE;
			out->slot = slot;
		}
		break;
	default:
		break;
	}
	return out->kind == NK_NONE ? -ENOENT : 0;
}

/* ---- object table ------------------------------------------------------ */

struct obj {
	char id[CONN_ID_MAX + 1];
	uint32_t region;
	uint8_t kind;
	uint64_t hnext;    /* next object number in the chain, 0 = end */
	uint64_t claimed;  /* see objtab_claim */
	uint32_t size[16]; /* see objtab_size_told; slot 0 unused */
};

#define SIZE_UNKNOWN UINT32_MAX

struct objtab {
	pthread_mutex_t lock;
	struct obj *v;     /* v[0] unused: numbers start at 1 */
	uint64_t n, cap;
	uint64_t *buckets;
	uint64_t nbuckets;
};

static uint64_t obj_hash(enum obj_kind kind, uint32_t region, const char *id)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)kind << 32 | region);
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return h;
}

int objtab_new(struct objtab **out)
{
	struct objtab *t = calloc(1, sizeof *t);

	if (!t)
		return -ENOMEM;
	t->cap = 1024;
	t->nbuckets = 2048;
	t->v = calloc(t->cap, sizeof *t->v);
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	if (!t->v || !t->buckets) {
		objtab_free(t);
		return -ENOMEM;
	}
	t->n = 1;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void objtab_free(struct objtab *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->buckets);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void rehash(struct objtab *t, uint64_t nb)
{
	uint64_t *b = calloc(nb, sizeof *b);

	if (!b)
		return;
	for (uint64_t i = 1; i < t->n; i++) {
		uint64_t h = obj_hash(t->v[i].kind, t->v[i].region, t->v[i].id);
		t->v[i].hnext = b[h % nb];
		b[h % nb] = i;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

/* The number of an object, 0 if none. Called with the lock held. */
static uint64_t lookup(struct objtab *t, uint64_t h, enum obj_kind kind,
		       uint32_t region, const char *id)
{
	for (uint64_t i = t->buckets[h % t->nbuckets]; i; i = t->v[i].hnext)
		if (t->v[i].kind == kind && t->v[i].region == region &&
		    strcmp(t->v[i].id, id) == 0)
			return i;
	return 0;
}

uint64_t objtab_find(struct objtab *t, enum obj_kind kind, uint32_t region,
		     const char *id)
{
	uint64_t i;

	if (!conn_id_valid(id, strlen(id)))
		return 0;
	pthread_mutex_lock(&t->lock);
	i = lookup(t, obj_hash(kind, region, id), kind, region, id);
	pthread_mutex_unlock(&t->lock);
	return i;
}

uint64_t objtab_intern(struct objtab *t, enum obj_kind kind, uint32_t region,
		       const char *id)
{
	uint64_t h, i;
	struct obj *o;

	if (!conn_id_valid(id, strlen(id)))
		return 0;
	h = obj_hash(kind, region, id);
	pthread_mutex_lock(&t->lock);
	i = lookup(t, h, kind, region, id);
	if (i)
		goto out;
	if (t->n == t->cap) {
		struct obj *nv = realloc(t->v, t->cap * 2 * sizeof *nv);
		if (!nv) {
			i = 0;
			goto out;
		}
		t->v = nv;
		t->cap *= 2;
	}
	i = t->n++;
	o = &t->v[i];
	memcpy(o->id, id, CONN_ID_MAX + 1);
	o->region = region;
	o->kind = (uint8_t)kind;
	o->claimed = 0;
	memset(o->size, 0xff, sizeof o->size); /* all SIZE_UNKNOWN */
	o->hnext = t->buckets[h % t->nbuckets];
	t->buckets[h % t->nbuckets] = i;
	if (t->n > t->nbuckets)
		rehash(t, t->nbuckets * 2);
out:
	pthread_mutex_unlock(&t->lock);
	return i;
}

int objtab_get(struct objtab *t, uint64_t obj, enum obj_kind *kind,
	       uint32_t *region, char *id)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (obj >= 1 && obj < t->n) {
		*kind = (enum obj_kind)t->v[obj].kind;
		*region = t->v[obj].region;
		memcpy(id, t->v[obj].id, CONN_ID_MAX + 1);
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

bool objtab_claim(struct objtab *t, uint64_t obj, uint64_t gen)
{
	bool fresh = false;

	pthread_mutex_lock(&t->lock);
	if (obj >= 1 && obj < t->n && t->v[obj].claimed != gen) {
		t->v[obj].claimed = gen;
		fresh = true;
	}
	pthread_mutex_unlock(&t->lock);
	return fresh;
}

/* The size slot of obj, with the lock held; NULL if none. */
static uint32_t *size_slot(struct objtab *t, uint64_t obj, unsigned slot)
{
	if (obj < 1 || obj >= t->n || slot < 1 ||
	    slot >= sizeof t->v[obj].size / sizeof *t->v[obj].size)
		return NULL;
	return &t->v[obj].size[slot];
}

static uint32_t clamp_size(size_t size)
{
	return size < SIZE_UNKNOWN ? (uint32_t)size : SIZE_UNKNOWN - 1;
}

void objtab_size_told(struct objtab *t, uint64_t obj, unsigned slot,
		      size_t size)
{
	uint32_t *s;

	pthread_mutex_lock(&t->lock);
	if ((s = size_slot(t, obj, slot)))
		*s = clamp_size(size);
	pthread_mutex_unlock(&t->lock);
}

void objtab_size_stored(struct objtab *t, uint64_t obj, unsigned slot,
			size_t size)
{
	uint32_t *s;

	pthread_mutex_lock(&t->lock);
	/* A store only ever grows the kernel's size. */
	if ((s = size_slot(t, obj, slot)) && *s != SIZE_UNKNOWN &&
	    clamp_size(size) > *s)
		*s = clamp_size(size);
	pthread_mutex_unlock(&t->lock);
}

bool objtab_size_read(struct objtab *t, uint64_t obj, unsigned slot,
		      size_t size, bool to_end)
{
	uint32_t *s;
	bool smaller = false;

	pthread_mutex_lock(&t->lock);
	if ((s = size_slot(t, obj, slot)) && *s != SIZE_UNKNOWN) {
		smaller = clamp_size(size) > *s;
		/* A short read shrinks the kernel's size to what it got. */
		if (!smaller && to_end)
			*s = clamp_size(size);
	}
	pthread_mutex_unlock(&t->lock);
	return smaller;
}

uint64_t objtab_count(struct objtab *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->lock);
	n = t->n - 1;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int node_from_ino(uint64_t ino, uint32_t nregions, struct node *out)
{
	memset(out, 0, sizeof *out);
	if (ino == INO_ROOT) {
		out->kind = NK_ROOT;
	} else if (ino == INO_REGIONS) {
		out->kind = NK_REGIONS;
	} else if (ino == INO_META) {
		out->kind = NK_META;
	} else if (ino > INO_META_FILE0 && ino <= INO_META_FILE0 + MF_COUNT) {
		out->kind = NK_META_FILE;
		out->slot = (uint32_t)(ino - INO_META_FILE0);
	} else if (ino >= INO_REGION0 &&
		   ino < INO_REGION0 + (uint64_t)nregions * 4) {
		static const enum node_kind k[] = {NK_REGION, NK_CONNS,
						   NK_BYNAME, NK_POPS};
		out->region = (uint32_t)((ino - INO_REGION0) / 4);
		out->kind = k[(ino - INO_REGION0) % 4];
	} else if (ino >= OBJ_BASE + OBJ_SLOTS) {
		/* The kind of object (connection or PoP) is the caller's to
		 * check; here: connection shapes, PoP files resolved later. */
		out->obj = (ino - OBJ_BASE) / OBJ_SLOTS;
		out->slot = (uint32_t)((ino - OBJ_BASE) % OBJ_SLOTS);
		if (out->slot == SLOT_DIR)
			out->kind = NK_CONN;
		else if (out->slot == SLOT_POPLINK)
			out->kind = NK_CONN_POP;
		else if (out->slot == SLOT_BYNAME)
			out->kind = NK_BYNAME_LINK;
		else if (out->slot <= CF_COUNT)
			out->kind = NK_CONN_FILE;
		else
			return -ENOENT;
	} else {
		return -ENOENT;
	}
	return 0;
}
