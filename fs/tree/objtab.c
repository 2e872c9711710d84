/* SPDX-License-Identifier: Apache-2.0 */
/*
 * objtab: object numbers, per kind one array of records and a hash of
 * (region, id) to position.
 */
#include "objtab.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "node.h"

#define KIND_BITS 3
#define SIZE_UNKNOWN 0xffff
#define SIZE_BIG 0xfffe         /* the size is in the table of big ones */

/* One object; a kind's records are `stride` bytes apart, each followed by
 * its files' sizes. 64 bytes for a connection: 10,000 take 640 KiB. */
struct orec {
	uint8_t id[16];         /* the UUID's 32 hex digits */
	uint32_t upper;         /* bit i: hex digit i is upper case */
	uint16_t region;
	uint16_t pad;
	uint32_t hnext;         /* position + 1 of the next in the chain */
	uint32_t claimed;       /* see objtab_claim: the generation's low
				 * bits (a wrap needs 2^32 changes) */
	uint32_t given;         /* see objtab_give: the generation whose
				 * bytes the kernel's pages hold; 0: none */
	uint16_t size[];        /* per file, see objtab_size_told */
};

/* Sizes of SIZE_BIG bytes and more (files of 64 KiB are rare). */
struct big {
	uint64_t key;           /* object number << 6 | file; 0: empty */
	uint32_t size;
};

struct ktab {
	char *v;
	uint32_t n, cap;
	uint32_t *buckets;      /* position + 1; 0: empty */
	uint32_t nbuckets;      /* a power of two */
	unsigned nfiles;
	size_t stride;
};

struct objtab {
	pthread_mutex_t lock;
	struct ktab k[K_COUNT];
	struct big *big;        /* open addressing */
	size_t nbig, bigcap;
};

_Static_assert(K_COUNT <= 1 << KIND_BITS, "object numbers carry the kind");
_Static_assert(KIND_MAX_FILES <= 64, "big sizes are keyed by file << 6");
_Static_assert(NODE_MAX_REGIONS <= UINT16_MAX, "regions fit 16 bits");

static struct orec *rec(struct ktab *k, uint32_t pos)
{
	return (struct orec *)(k->v + (size_t)pos * k->stride);
}

/* An id (valid: 8-4-4-4-12 hex digits) as 16 bytes and its case. */
static void id_pack(const char *id, uint8_t *out, uint32_t *upper)
{
	unsigned d = 0;

	memset(out, 0, 16);
	*upper = 0;
	for (const char *p = id; *p; p++) {
		unsigned v;
		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9') {
			v = (unsigned)(*p - '0');
		} else if (*p >= 'a' && *p <= 'f') {
			v = (unsigned)(*p - 'a' + 10);
		} else {
			v = (unsigned)(*p - 'A' + 10);
			*upper |= 1u << d;
		}
		out[d / 2] |= (uint8_t)(d % 2 ? v : v << 4);
		d++;
	}
}

static void id_unpack(const struct orec *o, char *id)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	unsigned d = 0;

	for (unsigned i = 0; i < FIELD_ID_MAX; i++) {
		unsigned v;
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			id[i] = '-';
			continue;
		}
		v = d % 2 ? o->id[d / 2] & 0xf : o->id[d / 2] >> 4;
		id[i] = (o->upper >> d & 1 ? up : lo)[v];
		d++;
	}
	id[FIELD_ID_MAX] = '\0';
}

static uint64_t hash(uint32_t region, const uint8_t *id, uint32_t upper)
{
	uint64_t h = 1469598103934665603ULL ^ region ^ (uint64_t)upper << 32;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ id[i]) * 1099511628211ULL;
	return h;
}

int objtab_new(struct objtab **out)
{
	struct objtab *t = calloc(1, sizeof *t);

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	for (int i = 0; i < K_COUNT; i++) {
		struct ktab *k = &t->k[i];
		k->nfiles = kind_get((enum kind_id)i)->nfiles;
		k->stride = (sizeof(struct orec) +
			     k->nfiles * sizeof(uint16_t) + 3) & ~(size_t)3;
	}
	*out = t;
	return 0;
}

void objtab_free(struct objtab *t)
{
	if (!t)
		return;
	for (int i = 0; i < K_COUNT; i++) {
		free(t->k[i].v);
		free(t->k[i].buckets);
	}
	free(t->big);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

enum kind_id objtab_kind_of(uint64_t obj)
{
	return (enum kind_id)(obj & ((1u << KIND_BITS) - 1));
}

uint64_t objtab_nth(enum kind_id k, uint64_t i)
{
	return (i + 1) << KIND_BITS | (uint64_t)k;
}

/* The kind table and position of a number; NULL if never given out.
 * Called with the lock held. */
static struct ktab *locate(struct objtab *t, uint64_t obj, uint32_t *pos)
{
	enum kind_id k = objtab_kind_of(obj);
	uint64_t seq = obj >> KIND_BITS;

	if (k >= K_COUNT || seq < 1 || seq > t->k[k].n)
		return NULL;
	*pos = (uint32_t)(seq - 1);
	return &t->k[k];
}

static int rehash(struct ktab *k, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof *b);

	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < k->n; i++) {
		struct orec *o = rec(k, i);
		uint64_t h = hash(o->region, o->id, o->upper) & (nb - 1);
		o->hnext = b[h];
		b[h] = i + 1;
	}
	free(k->buckets);
	k->buckets = b;
	k->nbuckets = nb;
	return 0;
}

/* An id, packed, to look for. */
struct key {
	uint8_t id[16];
	uint32_t upper;
	uint32_t region;
	uint64_t h;
};

static bool key_of(enum kind_id kind, uint32_t region, const char *id,
		   struct key *key)
{
	if (kind >= K_COUNT || !id || !field_id_valid(id, strlen(id)) ||
	    region > UINT16_MAX)
		return false;
	id_pack(id, key->id, &key->upper);
	key->region = region;
	key->h = hash(region, key->id, key->upper);
	return true;
}

/* Position + 1 of key, 0 if none. Called with the lock held. */
static uint32_t lookup(struct ktab *k, const struct key *key)
{
	if (!k->nbuckets)
		return 0;
	for (uint32_t i = k->buckets[key->h & (k->nbuckets - 1)]; i;
	     i = rec(k, i - 1)->hnext) {
		struct orec *o = rec(k, i - 1);
		if (o->region == key->region && o->upper == key->upper &&
		    memcmp(o->id, key->id, sizeof o->id) == 0)
			return i;
	}
	return 0;
}

/* Appends key to k. Position + 1, or 0 when out of memory. */
static uint32_t add(struct ktab *k, const struct key *key)
{
	struct orec *o;
	uint64_t h;

	if (k->n == UINT32_MAX - 1)
		return 0;
	if (k->n == k->cap) {
		uint32_t cap = k->cap ? k->cap * 2 : 256;
		char *nv = realloc(k->v, (size_t)cap * k->stride);
		if (!nv)
			return 0;
		k->v = nv;
		k->cap = cap;
	}
	if (k->n >= k->nbuckets / 2 &&
	    rehash(k, k->nbuckets ? k->nbuckets * 2 : 512))
		return 0;
	o = rec(k, k->n);
	memcpy(o->id, key->id, sizeof o->id);
	o->upper = key->upper;
	o->region = (uint16_t)key->region;
	o->pad = 0;
	o->claimed = 0;
	o->given = 0;
	for (unsigned f = 0; f < k->nfiles; f++)
		o->size[f] = SIZE_UNKNOWN;
	h = key->h & (k->nbuckets - 1);
	o->hnext = k->buckets[h];
	k->buckets[h] = ++k->n;
	return k->n;
}

/* The number of id, given out when create and it has none; 0 if it has
 * none (or when out of memory). */
static uint64_t number(struct objtab *t, enum kind_id kind, uint32_t region,
		       const char *id, bool create)
{
	struct key key;
	uint32_t i;

	if (!key_of(kind, region, id, &key))
		return 0;
	pthread_mutex_lock(&t->lock);
	i = lookup(&t->k[kind], &key);
	if (!i && create)
		i = add(&t->k[kind], &key);
	pthread_mutex_unlock(&t->lock);
	return i ? objtab_nth(kind, i - 1) : 0;
}

uint64_t objtab_find(struct objtab *t, enum kind_id kind, uint32_t region,
		     const char *id)
{
	return number(t, kind, region, id, false);
}

uint64_t objtab_intern(struct objtab *t, enum kind_id kind, uint32_t region,
		       const char *id)
{
	return number(t, kind, region, id, true);
}

int objtab_get(struct objtab *t, uint64_t obj, uint32_t *region, char *id)
{
	struct ktab *k;
	uint32_t pos;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if ((k = locate(t, obj, &pos))) {
		struct orec *o = rec(k, pos);
		*region = o->region;
		id_unpack(o, id);
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

uint64_t objtab_count(struct objtab *t, enum kind_id k)
{
	uint64_t n;

	pthread_mutex_lock(&t->lock);
	n = k < K_COUNT ? t->k[k].n : 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

bool objtab_claim(struct objtab *t, uint64_t obj, uint64_t gen)
{
	struct ktab *k;
	uint32_t pos;
	bool fresh = false;

	pthread_mutex_lock(&t->lock);
	if ((k = locate(t, obj, &pos)) &&
	    rec(k, pos)->claimed != (uint32_t)gen) {
		rec(k, pos)->claimed = (uint32_t)gen;
		fresh = true;
	}
	pthread_mutex_unlock(&t->lock);
	return fresh;
}

void objtab_unclaim(struct objtab *t, uint64_t obj, uint64_t gen)
{
	struct ktab *k;
	uint32_t pos;

	pthread_mutex_lock(&t->lock);
	if ((k = locate(t, obj, &pos)) &&
	    rec(k, pos)->claimed == (uint32_t)gen)
		rec(k, pos)->claimed = 0;
	pthread_mutex_unlock(&t->lock);
}

void objtab_seen(struct objtab *t, uint64_t obj, uint64_t gen)
{
	struct ktab *k;
	uint32_t pos;

	pthread_mutex_lock(&t->lock);
	if ((k = locate(t, obj, &pos)) && !rec(k, pos)->given)
		rec(k, pos)->given = (uint32_t)gen ? (uint32_t)gen : 1;
	pthread_mutex_unlock(&t->lock);
}

bool objtab_give(struct objtab *t, uint64_t obj, uint64_t gen)
{
	uint32_t g = (uint32_t)gen ? (uint32_t)gen : 1;
	struct ktab *k;
	uint32_t pos;
	bool older = false;

	pthread_mutex_lock(&t->lock);
	if ((k = locate(t, obj, &pos))) {
		older = rec(k, pos)->given && rec(k, pos)->given != g;
		rec(k, pos)->given = g;
	}
	pthread_mutex_unlock(&t->lock);
	return older;
}

/* ---- sizes ------------------------------------------------------------------ */

/* The slot of key in the big table (its own, or the empty one it would
 * take). Called with the lock held and the table allocated. */
static struct big *big_slot(struct objtab *t, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (t->bigcap - 1);

	while (t->big[i].key && t->big[i].key != key)
		i = (i + 1) & (t->bigcap - 1);
	return &t->big[i];
}

static int big_grow(struct objtab *t)
{
	size_t cap = t->bigcap ? t->bigcap * 2 : 64;
	struct big *old = t->big, *nb = calloc(cap, sizeof *nb);
	size_t oldcap = t->bigcap;

	if (!nb)
		return -ENOMEM;
	t->big = nb;
	t->bigcap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*big_slot(t, old[i].key) = old[i];
	free(old);
	return 0;
}

/* A file's size as the kernel holds it: UINT32_MAX when unknown, or
 * when there is no such file. */
static uint32_t size_get(struct objtab *t, uint64_t obj, unsigned file,
			 uint16_t **slot)
{
	struct ktab *k;
	uint32_t pos;
	struct big *b;

	*slot = NULL;
	if (!(k = locate(t, obj, &pos)) || file >= k->nfiles)
		return UINT32_MAX;
	*slot = &rec(k, pos)->size[file];
	if (**slot == SIZE_UNKNOWN)
		return UINT32_MAX;
	if (**slot != SIZE_BIG)
		return **slot;
	b = big_slot(t, obj << 6 | file);
	return b->key ? b->size : UINT32_MAX;
}

static void size_set(struct objtab *t, uint64_t obj, unsigned file,
		     uint16_t *slot, size_t size)
{
	uint32_t v = size < UINT32_MAX - 1 ? (uint32_t)size : UINT32_MAX - 1;
	struct big *b;

	if (v < SIZE_BIG) {
		*slot = (uint16_t)v;
		return;
	}
	if ((t->nbig + 1) * 2 > t->bigcap && big_grow(t)) {
		*slot = SIZE_UNKNOWN; /* never "smaller": as if never told */
		return;
	}
	b = big_slot(t, obj << 6 | file);
	if (!b->key) {
		b->key = obj << 6 | file;
		t->nbig++;
	}
	b->size = v;
	*slot = SIZE_BIG;
}

void objtab_size_told(struct objtab *t, uint64_t obj, unsigned file,
		      size_t size)
{
	uint16_t *slot;

	pthread_mutex_lock(&t->lock);
	size_get(t, obj, file, &slot);
	if (slot)
		size_set(t, obj, file, slot, size);
	pthread_mutex_unlock(&t->lock);
}

void objtab_size_stored(struct objtab *t, uint64_t obj, unsigned file,
			size_t size)
{
	uint16_t *slot;
	uint32_t s;

	pthread_mutex_lock(&t->lock);
	s = size_get(t, obj, file, &slot);
	/* A store only ever grows the kernel's size. */
	if (slot && s != UINT32_MAX && size > s)
		size_set(t, obj, file, slot, size);
	pthread_mutex_unlock(&t->lock);
}

bool objtab_size_read(struct objtab *t, uint64_t obj, unsigned file,
		      size_t size, bool to_end)
{
	uint16_t *slot;
	uint32_t s;
	bool smaller = false;

	pthread_mutex_lock(&t->lock);
	s = size_get(t, obj, file, &slot);
	if (slot && s != UINT32_MAX) {
		smaller = size > s;
		/* A short read shrinks the kernel's size to what it got. */
		if (!smaller && to_end)
			size_set(t, obj, file, slot, size);
	}
	pthread_mutex_unlock(&t->lock);
	return smaller;
}
