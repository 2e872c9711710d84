/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statefile: the files a mount saves, as bytes (statefile.h).
 */
#include "statefile.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jsontext.h"
#include "robj.h"

#define MAGIC "interlinkfs-state"
/* A header is a few short lines: past this, the file is not one. */
#define HEADER_MAX 4096
#define FIELDS_MAX 12

static const char *const type_names[] = {
	[SF_JOURNAL] = "journal", [SF_SEEN] = "seen", [SF_LOCK] = "lock",
	[SF_LISTING] = "listing",
};

/* ---- keys, sums, names ------------------------------------------------- */

/* One field of a key: its name, its length, its bytes, so that no two
 * views give the same bytes. */
static void put_field(EVP_MD_CTX *x, const char *name, const void *v,
		      size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	EVP_DigestUpdate(x, name, strlen(name) + 1);
	EVP_DigestUpdate(x, len, sizeof len);
	if (n)
		EVP_DigestUpdate(x, v, n);
}

static void put_str(EVP_MD_CTX *x, const char *name, const char *s)
{
	put_field(x, name, s ? s : "", s ? strlen(s) + 1 : 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tags, in one order whatever order they were given in. */
static void put_tags(EVP_MD_CTX *x, const struct api_filters *f)
{
	const char **t = f->ntags ? malloc(f->ntags * sizeof *t) : NULL;

	if (t) {
		memcpy(t, f->tags, f->ntags * sizeof *t);
		qsort(t, f->ntags, sizeof *t, cmp_str);
	}
	unsigned char n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)((uint64_t)f->ntags >> (8 * i));
	put_field(x, "tags", n, sizeof n);
	for (size_t i = 0; i < f->ntags; i++)
		put_str(x, "tag", t ? t[i] : f->tags[i]);
	free(t);
}

void statefile_key(const struct statefile_view *v,
		   unsigned char key[STATEFILE_KEY])
{
	static const struct api_filters none;
	const struct api_filters *f = v->filters ? v->filters : &none;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(key, 0, STATEFILE_KEY);
	if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL))
		goto out;
	put_str(x, "interlinkfs-state-key", "1");
	put_str(x, "url", v->url);
	if (v->secret)
		put_str(x, "secret", v->secret);
	else
		put_field(x, "identity", v->identity, v->identity_len);
	put_str(x, "project_id", f->project_id);
	put_str(x, "organization_id", f->organization_id);
	put_str(x, "name", f->name);
	put_str(x, "status", f->status);
	put_str(x, "pop_id", f->pop_id);
	put_str(x, "bandwidth_mbps", f->bandwidth_mbps);
	put_tags(x, f);
	if (!EVP_DigestFinal_ex(x, key, &n) || n != STATEFILE_KEY)
		memset(key, 0, STATEFILE_KEY);
out:
	/* A key of zeros matches no file a real key wrote. */
	EVP_MD_CTX_free(x);
}

static bool sha256(const void *p, size_t n, unsigned char out[STATEFILE_KEY])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) &&
	       len == STATEFILE_KEY;
}

void statefile_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < 2 * n; i++) {
		int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;
		if (d < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(d << 4);
		else
			out[i / 2] |= (unsigned char)d;
	}
	return true;
}

void statefile_name(const unsigned char key[STATEFILE_KEY],
		    enum statefile_type t, const char *region,
		    const struct kind *k, char out[STATEFILE_NAME])
{
	char hex[2 * STATEFILE_KEY + 1];

	statefile_hex(key, STATEFILE_KEY, hex);
	hex[16] = '\0';
	if (t == SF_LISTING)
		snprintf(out, STATEFILE_NAME, "%s.%s.%s.listing", hex, region,
			 k->dir);
	else if (t == SF_TEMP)
		snprintf(out, STATEFILE_NAME, ".%s.", hex);
	else
		snprintf(out, STATEFILE_NAME, "%s.%s", hex, type_names[t]);
}

/* ---- headers ----------------------------------------------------------- */

struct header {
	size_t nf;
	struct {
		const char *name, *val;
		size_t nlen, vlen;
	} f[FIELDS_MAX];
	size_t end;                       /* where the body begins */
};

/* The value of field name, NUL-terminated into out: false when missing
 * or too long. */
static bool field(const struct header *h, const char *name, char *out,
		  size_t len)
{
	for (size_t i = 0; i < h->nf; i++) {
		if (h->f[i].nlen != strlen(name) ||
		    memcmp(h->f[i].name, name, h->f[i].nlen) != 0)
			continue;
		if (h->f[i].vlen >= len)
			return false;
		memcpy(out, h->f[i].val, h->f[i].vlen);
		out[h->f[i].vlen] = '\0';
		return true;
	}
	return false;
}

static int bad(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return -EINVAL;
}

/* The first line: magic, version, type. */
static int first_line(const char *buf, size_t len, enum statefile_type t,
		      char *why, size_t whylen)
{
	size_t m = strlen(MAGIC), tl = strlen(type_names[t]);
	unsigned long v = 0;
	size_t i = m + 1;

	if (len < m + 1 || memcmp(buf, MAGIC " ", m + 1) != 0)
		return bad(why, whylen, "not a state file of interlinkfs");
	if (i >= len || buf[i] < '1' || buf[i] > '9')
		return bad(why, whylen, "garbage: no version");
	for (; i < len && buf[i] >= '0' && buf[i] <= '9' && v < 1000000; i++)
		v = v * 10 + (unsigned long)(buf[i] - '0');
	if (v > STATEFILE_VERSION) {
		snprintf(why, whylen, "a future format (version %lu; this "
			 "interlinkfs reads %d)", v, STATEFILE_VERSION);
		return -EINVAL;
	}
	if (i + 1 + tl + 1 > len || buf[i] != ' ' ||
	    memcmp(buf + i + 1, type_names[t], tl) != 0 ||
	    buf[i + 1 + tl] != '\n') {
		snprintf(why, whylen, "not a %s file", type_names[t]);
		return -EINVAL;
	}
	return (int)(i + 1 + tl + 1);
}

/* A header of type t for key: its fields, and where its body begins. */
static int parse_header(const char *buf, size_t len, enum statefile_type t,
			const unsigned char key[STATEFILE_KEY],
			struct header *h, char *why, size_t whylen)
{
	unsigned char k[STATEFILE_KEY];
	char hex[2 * STATEFILE_KEY + 1];
	int at = first_line(buf, len, t, why, whylen);
	size_t i;

	if (at < 0)
		return at;
	memset(h, 0, sizeof *h);
	for (i = (size_t)at; i < len && i < HEADER_MAX && buf[i] != '\n';) {
		const char *nl = memchr(buf + i, '\n', len - i);
		const char *sp = nl ? memchr(buf + i, ' ', (size_t)(nl -
							       (buf + i))) : NULL;

		if (!nl)
			return bad(why, whylen, "truncated in its header");
		if (!sp || h->nf == FIELDS_MAX)
			return bad(why, whylen, "garbage in its header");
		h->f[h->nf].name = buf + i;
		h->f[h->nf].nlen = (size_t)(sp - (buf + i));
		h->f[h->nf].val = sp + 1;
		h->f[h->nf].vlen = (size_t)(nl - sp - 1);
		h->nf++;
		i = (size_t)(nl - buf) + 1;
	}
	if (i >= len || buf[i] != '\n')
		return bad(why, whylen, i >= HEADER_MAX ? "garbage: no end "
			   "of its header" : "truncated in its header");
	h->end = i + 1;
	if (!field(h, "key", hex, sizeof hex) ||
	    !unhex(hex, strlen(hex), k, sizeof k))
		return bad(why, whylen, "garbage: no key");
	if (memcmp(k, key, sizeof k) != 0)
		return bad(why, whylen, "saved for another key (another "
			   "account, API URL or filters)");
	return 0;
}

/* A number of the header: false when missing or not one. */
static bool number(const struct header *h, const char *name, uint64_t *out)
{
	char v[32], *end;

	if (!field(h, name, v, sizeof v) || v[0] < '0' || v[0] > '9')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return !errno && !*end;
}

/* The body: exactly the bytes the header says, with the sum it says. */
static int body_of(const char *buf, size_t len, const struct header *h,
		   struct statefile_slice *body,
		   unsigned char sum[STATEFILE_KEY], char *why, size_t whylen)
{
	char hex[2 * STATEFILE_KEY + 1];
	unsigned char got[STATEFILE_KEY];
	uint64_t n;

	if (!number(h, "body", &n) || !field(h, "sum", hex, sizeof hex) ||
	    !unhex(hex, strlen(hex), sum, STATEFILE_KEY))
		return bad(why, whylen, "garbage in its header");
	if (len - h->end < n)
		return bad(why, whylen, "truncated");
	if (len - h->end > n)
		return bad(why, whylen, "garbage after its end");
	if (!sha256(buf + h->end, (size_t)n, got))
		return bad(why, whylen, "out of memory");
	if (memcmp(got, sum, STATEFILE_KEY) != 0)
		return bad(why, whylen, "its checksum does not match (torn or "
			   "changed)");
	body->p = buf + h->end;
	body->len = (size_t)n;
	return 0;
}

/* buf's first line, then the header's fields (fmt, ...), then an empty
 * line and the body: into *out (malloc'ed). The body's sum into sum. */
static int with_header(enum statefile_type t,
		       const unsigned char key[STATEFILE_KEY],
		       const char *fields, const char *body, size_t blen,
		       unsigned char sum[STATEFILE_KEY], char **out,
		       size_t *len)
{
	char khex[2 * STATEFILE_KEY + 1], shex[2 * STATEFILE_KEY + 1];
	FILE *f;

	if (!sha256(body, blen, sum))
		return -ENOMEM;
	statefile_hex(key, STATEFILE_KEY, khex);
	statefile_hex(sum, STATEFILE_KEY, shex);
	if (!(f = open_memstream(out, len)))
		return -ENOMEM;
	fprintf(f, MAGIC " %d %s\nkey %s\n%sbody %zu\nsum %s\n\n",
		STATEFILE_VERSION, type_names[t], khex, fields, blen, shex);
	fwrite(body, 1, blen, f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- listings ---------------------------------------------------------- */

/* The index of k's JSON file (the object as sent). */
static int json_file(const struct kind *k)
{
	for (unsigned i = 0; i < k->nfiles; i++)
		if (k->files[i].how == RH_JSON)
			return (int)i;
	return -1;
}

int statefile_listing_encode(struct statefile_listing *h,
			     const struct cache_listing *l, char **out,
			     size_t *len)
{
	int ji = json_file(h->kind);
	char *body = NULL, fields[160];
	size_t blen = 0;
	FILE *f;
	int rc;

	if (ji < 0 || !(f = open_memstream(&body, &blen)))
		return -ENOMEM;
	fwrite(h->batch.p, 1, h->batch.len, f);
	for (size_t i = 0; i < cache_listing_size(l); i++) {
		struct robj_bytes b = {"", 0, false};

		robj_file(cache_listing_value(l, i), (unsigned)ji, &b);
		fprintf(f, "%zu\n", b.len + b.nl);
		fwrite(b.p, 1, b.len, f);
		if (b.nl)
			fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(body);
		return -ENOMEM;
	}
	snprintf(fields, sizeof fields, "region %s\nkind %s\nborn %.3f\n"
		 "batch %" PRIu64 " %zu\nobjects %zu\n", h->region,
		 h->kind->dir, h->born, h->off, h->batch.len,
		 cache_listing_size(l));
	rc = with_header(SF_LISTING, h->key, fields, body, blen, h->sum, out,
			 len);
	free(body);
	return rc;
}

/* The objects of a listing's body, after its batch. */
static int objects_of(struct statefile_slice body, size_t at,
		      struct statefile_listing *out, char *why,
		      size_t whylen)
{
	if (out->n > body.len / 2 + 1)
		return bad(why, whylen, "garbage: too many objects");
	if (!(out->objects = calloc(out->n + 1, sizeof *out->objects)))
		return bad(why, whylen, "out of memory");
	for (size_t i = 0; i < out->n; i++) {
		size_t n = 0, d = 0;

		while (at + d < body.len && body.p[at + d] >= '0' &&
		       body.p[at + d] <= '9' && d < 12)
			n = n * 10 + (size_t)(body.p[at + d++] - '0');
		if (!d || at + d >= body.len || body.p[at + d] != '\n' ||
		    body.len - (at + d + 1) < n)
			return bad(why, whylen, "garbage among its objects");
		at += d + 1;
		out->objects[i] = (struct statefile_slice){body.p + at, n};
		at += n;
	}
	if (at != body.len)
		return bad(why, whylen, "garbage after its objects");
	return 0;
}

int statefile_listing_decode(const char *buf, size_t len,
			     const unsigned char key[STATEFILE_KEY],
			     struct statefile_listing *out, char *why,
			     size_t whylen)
{
	struct header h;
	struct statefile_slice body;
	char v[64], kind[32];
	uint64_t n, blen;
	double born;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = parse_header(buf, len, SF_LISTING, key, &h, why, whylen)) ||
	    (rc = body_of(buf, len, &h, &body, out->sum, why, whylen)))
		return rc;
	memcpy(out->key, key, STATEFILE_KEY);
	if (!field(&h, "region", out->region, sizeof out->region) ||
	    !api_region_valid(out->region) ||
	    !field(&h, "kind", kind, sizeof kind) ||
	    !(out->kind = kind_by_dir(kind)) ||
	    !field(&h, "born", v, sizeof v) ||
	    sscanf(v, "%lf", &born) != 1 || !isfinite(born) || born < 0 ||
	    !field(&h, "batch", v, sizeof v) ||
	    sscanf(v, "%" SCNu64 " %" SCNu64, &out->off, &blen) != 2 ||
	    blen > body.len || !number(&h, "objects", &n))
		return bad(why, whylen, "garbage in its header");
	out->born = born;
	out->batch = (struct statefile_slice){body.p, (size_t)blen};
	out->n = (size_t)n;
	rc = objects_of(body, (size_t)blen, out, why, whylen);
	if (rc)
		statefile_listing_clear(out);
	return rc;
}

void statefile_listing_clear(struct statefile_listing *h)
{
	free(h->objects);
	h->objects = NULL;
	h->n = 0;
}

json_t *statefile_object(const struct statefile_slice *s)
{
	struct jsontext_repairs r;
	char *fixed = NULL;
	size_t flen;
	json_t *j = json_loadb(s->p, s->len, JSON_ALLOW_NUL, NULL);

	/* What jansson refuses of what the API sent (a number past 64 bits)
	 * is read as the client reads it. */
	if (!j && jsontext_repair(s->p, s->len, &fixed, &flen, &r) == 0)
		j = json_loadb(fixed, flen, JSON_ALLOW_NUL, NULL);
	free(fixed);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* ---- the journal ------------------------------------------------------- */

size_t statefile_journal_header(const struct statefile_journal *h,
				char *buf, size_t len)
{
	char hex[2 * STATEFILE_KEY + 1];
	int n;

	statefile_hex(h->key, STATEFILE_KEY, hex);
	n = snprintf(buf, len, MAGIC " %d journal\nkey %s\nbase %" PRIu64
		     "\ndropped %" PRIu64 "\n\n", STATEFILE_VERSION, hex,
		     h->base, h->dropped);
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

int statefile_journal_decode(const char *buf, size_t len,
			     const unsigned char key[STATEFILE_KEY],
			     struct statefile_journal *out, char *why,
			     size_t whylen)
{
	struct header h;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = parse_header(buf, len, SF_JOURNAL, key, &h, why, whylen)))
		return rc;
	if (!number(&h, "base", &out->base) ||
	    !number(&h, "dropped", &out->dropped))
		return bad(why, whylen, "garbage in its header");
	memcpy(out->key, key, STATEFILE_KEY);
	out->header_len = h.end;
	return 0;
}

/* ---- when listings were last seen ------------------------------------- */

int statefile_seen_encode(const unsigned char key[STATEFILE_KEY],
			  const struct statefile_seen *e, size_t n,
			  char **out, size_t *len)
{
	unsigned char sum[STATEFILE_KEY];
	char hex[2 * STATEFILE_KEY + 1], *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	int rc;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		statefile_hex(e[i].sum, STATEFILE_KEY, hex);
		fprintf(f, "%s %s %s %.3f\n", e[i].region, e[i].kind->dir,
			hex, e[i].born);
	}
	if (fclose(f) != 0) {
		free(body);
		return -ENOMEM;
	}
	rc = with_header(SF_SEEN, key, "", body ? body : "", blen, sum, out,
			 len);
	free(body);
	return rc;
}

/* One line of the seen file into e: false when it is not one. */
static bool seen_line(const char *p, size_t n, struct statefile_seen *e)
{
	char line[192], kind[32], hex[2 * STATEFILE_KEY + 2];

	if (n >= sizeof line)
		return false;
	memcpy(line, p, n);
	line[n] = '\0';
	return sscanf(line, "%15s %31s %65s %lf", e->region, kind, hex,
		      &e->born) == 4 && api_region_valid(e->region) &&
	       (e->kind = kind_by_dir(kind)) &&
	       unhex(hex, strlen(hex), e->sum, STATEFILE_KEY) &&
	       isfinite(e->born) && e->born >= 0;
}

int statefile_seen_decode(const char *buf, size_t len,
			  const unsigned char key[STATEFILE_KEY],
			  struct statefile_seen **out, size_t *n, char *why,
			  size_t whylen)
{
	unsigned char sum[STATEFILE_KEY];
	struct statefile_slice body;
	struct header h;
	size_t max = 0, at = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = parse_header(buf, len, SF_SEEN, key, &h, why, whylen)) ||
	    (rc = body_of(buf, len, &h, &body, sum, why, whylen)))
		return rc;
	for (size_t i = 0; i < body.len; i++)
		max += body.p[i] == '\n';
	if (max && !(*out = calloc(max, sizeof **out)))
		return bad(why, whylen, "out of memory");
	while (at < body.len) {
		const char *nl = memchr(body.p + at, '\n', body.len - at);
		size_t ll = nl ? (size_t)(nl - (body.p + at)) : 0;

		if (!nl || !seen_line(body.p + at, ll, &(*out)[*n])) {
			free(*out);
			*out = NULL;
			*n = 0;
			return bad(why, whylen, "garbage among its lines");
		}
		(*n)++;
		at += ll + 1;
	}
	return 0;
}
