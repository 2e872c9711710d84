/* SPDX-License-Identifier: Apache-2.0 */
/*
 * robj: objects rendered once, every file a slice of one buffer.
 *
 * Memory is what a mount of 10,000 connections is made of, so the layout
 * is tight: a 32-byte header, 4 bytes per file and link (offset and length
 * as 16-bit numbers when the text is under 64 KiB, else 8), then the text.
 * The text is built in a scratch buffer of the thread's own and copied
 * into one allocation of the exact size, so building objects leaves no
 * holes between them.
 */
#include "robj.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "render.h"

#define NSPANS_MAX (KIND_MAX_FILES + KIND_MAX_LINKS)

_Static_assert(NSPANS_MAX <= 64, "one bit per span");

struct robj {
	atomic_uint refs;
	uint32_t len;           /* bytes of text */
	uint8_t kind;
	uint8_t wide;           /* spans are two uint32_t, else two uint16_t */
	int8_t name;            /* the file "name", or -1 */
	int8_t updated, created; /* the time files, or -1 */
	uint8_t pad;
	uint16_t problems;      /* bytes at the end of the text that say what
				 * is wrong with the object, NUL included;
				 * 0: nothing is */
	uint64_t nl;            /* bit i: a newline follows span i */
	uint64_t bad;           /* bit i: file i is EIO, link i has no id */
	/* nfiles + nlinks spans (offset, length), then the text: the id, a
	 * NUL, the JSON, then the bytes of files that are not slices of
	 * those. */
	unsigned char s[];
};

struct span {
	size_t off, len;
};

static unsigned nspans(const struct robj *o)
{
	const struct kind *k = kind_get((enum kind_id)o->kind);
	return k->nfiles + k->nlinks;
}

static const char *text(const struct robj *o)
{
	return (const char *)o->s + nspans(o) * (o->wide ? 8 : 4);
}

static struct span span_of(const struct robj *o, unsigned i)
{
	struct span sp;

	if (o->wide) {
		uint32_t v[2];
		memcpy(v, o->s + i * 8, sizeof v);
		sp.off = v[0];
		sp.len = v[1];
	} else {
		uint16_t v[2];
		memcpy(v, o->s + i * 4, sizeof v);
		sp.off = v[0];
		sp.len = v[1];
	}
	return sp;
}

/* ---- building ------------------------------------------------------------- */

/* What is being built: the text and the spans. */
struct build {
	struct render_buf text, file;   /* the thread's scratch buffers */
	struct span sp[NSPANS_MAX];
	uint64_t nl, bad;
	bool odd;                       /* a choice of members that was not
					 * one (RH_ONE_OF, empty) */
	size_t problems;                /* bytes of them at the text's end */
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
	struct build *b = p;

	free(b->text.p);
	free(b->file.p);
	free(b);
}

static void scratch_init(void)
{
	if (pthread_key_create(&scratch_key, scratch_free))
		abort(); /* only when out of keys, at start */
}

/* The thread's scratch, emptied; NULL when out of memory. */
static struct build *scratch(void)
{
	struct build *b;

	pthread_once(&scratch_once, scratch_init);
	b = pthread_getspecific(scratch_key);
	if (!b) {
		if (!(b = calloc(1, sizeof *b)))
			return NULL;
		if (pthread_setspecific(scratch_key, b)) {
			free(b);
			return NULL;
		}
	}
	b->text.len = b->file.len = 0;
	b->nl = b->bad = 0;
	b->odd = false;
	b->problems = 0;
	memset(b->sp, 0, sizeof b->sp);
	return b;
}

/* Where bytes s[0..n) are in the text (appended when they are not). */
static int place(struct render_buf *t, const char *s, size_t n, size_t *off)
{
	const char *at = memmem(t->p, t->len, s, n);

	if (at) {
		*off = (size_t)(at - t->p);
		return 0;
	}
	*off = t->len;
	return render_put(t, s, n);
}

/* File i of obj (f) into the text. */
static int add_file(struct build *b, const json_t *obj,
		    const struct file_def *f, unsigned i)
{
	int rc;

	b->file.len = 0;
	rc = render_file_to(obj, f, &b->file);
	if (rc == -EIO) {
		b->bad |= 1ULL << i;
		return 0;
	}
	if (!rc && b->file.len == 0 && f->how == RH_ONE_OF)
		b->odd = true;
	if (rc || b->file.len == 0)
		return rc;
	b->sp[i].len = b->file.len;
	if (b->file.p[b->file.len - 1] == '\n') {
		b->sp[i].len--;
		b->nl |= 1ULL << i;
	}
	return b->sp[i].len ? place(&b->text, b->file.p, b->sp[i].len,
				    &b->sp[i].off) : 0;
}

static int add_link(struct build *b, const json_t *obj,
		    const struct link_def *l, unsigned i)
{
	const char *id;

	if (render_link(obj, l, &id)) {
		b->bad |= 1ULL << i;
		return 0;
	}
	b->sp[i].len = strlen(id);
	return place(&b->text, id, b->sp[i].len, &b->sp[i].off);
}

/* What is wrong with obj, in words, at the end of the text (NUL
 * included); only objects with a problem pay for it. */
static int add_problems(struct build *b, const struct kind *k,
			const json_t *obj)
{
	size_t start = b->text.len;
	int rc = render_problems(k, obj, &b->text);

	if (rc || b->text.len == start)
		return rc;
	if (b->text.len - start > UINT16_MAX - 1)
		b->text.len = start + UINT16_MAX - 1;
	if ((rc = render_put(&b->text, "", 1)))
		return rc;
	b->problems = b->text.len - start;
	return 0;
}

/* The text and spans of obj: the id, the JSON file, then the others
 * (most of them are slices of what is there by then). */
static int build(const struct kind *k, const json_t *obj, const char *id,
		 struct build *b)
{
	int rc = render_put(&b->text, id, strlen(id) + 1);

	for (unsigned i = 0; !rc && i < k->nfiles; i++)
		if (k->files[i].how == RH_JSON)
			rc = add_file(b, obj, &k->files[i], i);
	for (unsigned i = 0; !rc && i < k->nfiles; i++)
		if (k->files[i].how != RH_JSON)
			rc = add_file(b, obj, &k->files[i], i);
	for (unsigned j = 0; !rc && j < k->nlinks; j++)
		rc = add_link(b, obj, &k->links[j], k->nfiles + j);
	if (!rc && ((b->bad & ((1ULL << k->nfiles) - 1)) || b->odd))
		rc = add_problems(b, k, obj);
	return rc;
}

static void put_spans(struct robj *o, const struct build *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (o->wide) {
			uint32_t v[2] = {(uint32_t)b->sp[i].off,
					 (uint32_t)b->sp[i].len};
			memcpy(o->s + i * 8, v, sizeof v);
		} else {
			uint16_t v[2] = {(uint16_t)b->sp[i].off,
					 (uint16_t)b->sp[i].len};
			memcpy(o->s + i * 4, v, sizeof v);
		}
	}
}

struct robj *robj_new(const struct kind *k, const json_t *obj)
{
	const char *id = field_id(obj);
	unsigned n = k->nfiles + k->nlinks;
	struct build *b;
	struct robj *o;
	bool wide;

	if (!id || n > NSPANS_MAX || !(b = scratch()) || build(k, obj, id, b) ||
	    b->text.len >= UINT32_MAX)
		return NULL;
	wide = b->text.len > UINT16_MAX;
	o = malloc(sizeof *o + n * (wide ? 8 : 4) + b->text.len);
	if (!o)
		return NULL;
	atomic_init(&o->refs, 1);
	o->len = (uint32_t)b->text.len;
	o->kind = (uint8_t)k->id;
	o->wide = wide;
	o->name = (int8_t)kind_file(k, "name");
	o->updated = (int8_t)kind_file(k, "updated_at");
	o->created = (int8_t)kind_file(k, "created_at");
	o->pad = 0;
	o->problems = (uint16_t)b->problems;
	o->nl = b->nl;
	o->bad = b->bad;
	put_spans(o, b, n);
	memcpy((char *)text(o), b->text.p, b->text.len);
	return o;
}

/* ---- reading ---------------------------------------------------------------- */

void robj_hold(struct robj *o)
{
	atomic_fetch_add(&o->refs, 1);
}

void robj_release(struct robj *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1)
		free(o);
}

const struct kind *robj_kind(const struct robj *o)
{
	return kind_get((enum kind_id)o->kind);
}

const char *robj_id(const struct robj *o)
{
	return text(o);
}

bool robj_equal(const struct robj *a, const struct robj *b)
{
	/* The text holds the JSON, which everything else comes from. */
	return a == b || (a->kind == b->kind && a->len == b->len &&
			  memcmp(text(a), text(b), a->len) == 0);
}

size_t robj_size(const struct robj *o)
{
	return sizeof *o + nspans(o) * (o->wide ? 8 : 4) + o->len;
}

int robj_file(const struct robj *o, unsigned i, struct robj_bytes *b)
{
	struct span sp;

	if (o->bad >> i & 1)
		return -EIO;
	sp = span_of(o, i);
	b->p = text(o) + sp.off;
	b->len = sp.len;
	b->nl = o->nl >> i & 1;
	return 0;
}

long robj_file_size(const struct robj *o, unsigned i)
{
	struct robj_bytes b;

	if (robj_file(o, i, &b))
		return -EIO;
	return (long)(b.len + b.nl);
}

size_t robj_read(const struct robj *o, unsigned i, size_t off, char *buf,
		 size_t size)
{
	struct robj_bytes b;
	size_t n = 0;

	if (robj_file(o, i, &b))
		return 0;
	if (off < b.len) {
		n = b.len - off < size ? b.len - off : size;
		memcpy(buf, b.p + off, n);
	}
	if (b.nl && n < size && off + n == b.len)
		buf[n++] = '\n';
	return n;
}

int robj_link(const struct robj *o, unsigned j, const char **id,
	      size_t *len)
{
	unsigned i = kind_get((enum kind_id)o->kind)->nfiles + j;
	struct span sp;

	if (o->bad >> i & 1)
		return -ENOENT;
	sp = span_of(o, i);
	*id = text(o) + sp.off;
	*len = sp.len;
	return 0;
}

int robj_name(const struct robj *o, const char **name, size_t *len)
{
	struct robj_bytes b;

	if (o->name < 0 || robj_file(o, (unsigned)o->name, &b) ||
	    (!b.len && !b.nl))
		return -ENOENT;
	*name = b.p;
	*len = b.len;
	return 0;
}

/* The time in file i, if it holds one. */
static bool time_of(const struct robj *o, int i, struct timespec *t)
{
	struct robj_bytes b;
	char s[64];

	if (i < 0 || robj_file(o, (unsigned)i, &b) || !b.len ||
	    b.len >= sizeof s)
		return false;
	memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	return field_parse_time(s, t) == 0;
}

const char *robj_problems(const struct robj *o)
{
	return o->problems ? text(o) + o->len - o->problems : NULL;
}

uint64_t robj_digest(const struct robj *o)
{
	const unsigned char *p = (const unsigned char *)text(o);
	uint64_t h = 1469598103934665603ULL;

	for (uint32_t i = 0; i < o->len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

bool robj_mtime(const struct robj *o, struct timespec *t)
{
	return time_of(o, o->updated, t) || time_of(o, o->created, t);
}

void robj_hold_v(void *v)
{
	robj_hold(v);
}

void robj_release_v(void *v)
{
	robj_release(v);
}

bool robj_equal_v(const void *a, const void *b)
{
	return robj_equal(a, b);
}

size_t robj_size_v(const void *v)
{
	return robj_size(v);
}

const char *robj_id_v(const void *v)
{
	return robj_id(v);
}
