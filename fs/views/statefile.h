/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statefile: the bytes of what a mount saves between runs (the driver's
 * state.h writes and reads them), encoded and decoded without any I/O:
 *
 *   KEY.REGION.KIND.listing  a region's listing of a kind, as the API
 *                            sent it: each object's JSON file (the
 *                            object exactly as sent), the time the API
 *                            made it, and the journal's batch its changes
 *                            made, with that batch's offset;
 *   KEY.journal              .interlinkfs/changes: its bytes from an
 *                            offset on, appended to as the journal grows;
 *   KEY.seen                 when each saved listing was last seen
 *                            unchanged (its time, without rewriting it);
 *   KEY.lock                 the lock a mount holds (no bytes of ours).
 *
 * KEY is the first 16 hex digits of a key: a SHA-256 of the API's URL,
 * the credentials (the secret key; for a gateway mount, which has none,
 * the client certificate's subject and issuer), and every filter of the
 * mount. The key is one-way: neither the secret nor anything that leads
 * to it is written. Every file names its whole key (and a listing its
 * region and kind); one for another key is refused.
 *
 * Each file but the journal begins with a text header,
 *
 *   interlinkfs-state VERSION TYPE
 *   NAME VALUE
 *   ...
 *   (an empty line)
 *
 * then a body whose SHA-256 the header holds ("sum"), so a torn, cut or
 * garbled file is known as one. A version above STATEFILE_VERSION is a
 * future format: refused, not misread.
 *
 * Pure (no I/O, no logging, no globals): every function is thread-safe.
 */
#ifndef INTERLINKFS_STATEFILE_H
#define INTERLINKFS_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "cache.h"
#include "kinds.h"

#define STATEFILE_VERSION 1
#define STATEFILE_KEY 32           /* bytes of a key, and of a sum */
#define STATEFILE_NAME 96          /* room for any file name */

/* The view of an account whose state is saved (everything borrowed). */
struct statefile_view {
	const char *url;                  /* the API's base URL */
	const char *secret;               /* the secret key; NULL: none */
	const unsigned char *identity;    /* without a secret: the client
					   * certificate's subject and
					   * issuer (DER); may be NULL */
	size_t identity_len;
	const struct api_filters *filters;
};

/* v's key. */
void statefile_key(const struct statefile_view *v,
		   unsigned char key[STATEFILE_KEY]);

/* n bytes as 2n lower-case hex digits and a NUL, into out. */
void statefile_hex(const unsigned char *b, size_t n, char *out);

/* The file names of key: the journal, the seen file, the lock, and a
 * listing's (region and k); and the prefix of a temporary file of key. */
enum statefile_type { SF_JOURNAL, SF_SEEN, SF_LOCK, SF_LISTING, SF_TEMP };
void statefile_name(const unsigned char key[STATEFILE_KEY],
		    enum statefile_type t, const char *region,
		    const struct kind *k, char out[STATEFILE_NAME]);

/* Bytes within a file (borrowed from its buffer). */
struct statefile_slice {
	const char *p;
	size_t len;
};

/* A saved listing. */
struct statefile_listing {
	unsigned char key[STATEFILE_KEY];
	char region[16];
	const struct kind *kind;
	double born;                      /* wall time the API made it */
	uint64_t off;                     /* where batch begins in the
					   * journal */
	struct statefile_slice batch;     /* its lines (may be empty) */
	size_t n;                         /* objects */
	struct statefile_slice *objects;  /* decoded: malloc'ed */
	unsigned char sum[STATEFILE_KEY]; /* of the body */
};

/*
 * The file of listing l (borrowed: robj values of h->kind), with h's key,
 * region, kind, born, off and batch: *out malloc'ed (*len bytes), and
 * h->sum set. 0 or -ENOMEM.
 */
int statefile_listing_encode(struct statefile_listing *h,
			     const struct cache_listing *l, char **out,
			     size_t *len);

/*
 * A listing file's bytes (borrowed: out's slices point into them) for
 * key: 0 with *out (statefile_listing_clear frees its array), or -EINVAL
 * with why (for a log line: "truncated", "a future format (version 2)",
 * "saved for another key", ...).
 */
int statefile_listing_decode(const char *buf, size_t len,
			     const unsigned char key[STATEFILE_KEY],
			     struct statefile_listing *out, char *why,
			     size_t whylen);
void statefile_listing_clear(struct statefile_listing *h);

/* An object of a saved listing, parsed as the API client parses one (a
 * number past 64 bits kept as sent): a new reference, or NULL. */
json_t *statefile_object(const struct statefile_slice *s);

/* The journal file's header: its key, the offset of the first byte after
 * the header, and the lines dropped before it. */
struct statefile_journal {
	unsigned char key[STATEFILE_KEY];
	uint64_t base, dropped;
	size_t header_len;                /* decoded: where lines begin */
};

/* h's header into buf: its length, or 0 when len is too small. */
size_t statefile_journal_header(const struct statefile_journal *h,
				char *buf, size_t len);
/* As statefile_listing_decode, for a journal file's bytes. */
int statefile_journal_decode(const char *buf, size_t len,
			     const unsigned char key[STATEFILE_KEY],
			     struct statefile_journal *out, char *why,
			     size_t whylen);

/* A listing last seen unchanged at born: the one whose body has sum. */
struct statefile_seen {
	char region[16];
	const struct kind *kind;
	unsigned char sum[STATEFILE_KEY];
	double born;
};

/* The seen file of key for n entries: *out malloc'ed. 0 or -ENOMEM. */
int statefile_seen_encode(const unsigned char key[STATEFILE_KEY],
			  const struct statefile_seen *e, size_t n,
			  char **out, size_t *len);
/* Its entries (*out malloc'ed), as statefile_listing_decode. */
int statefile_seen_decode(const char *buf, size_t len,
			  const unsigned char key[STATEFILE_KEY],
			  struct statefile_seen **out, size_t *n, char *why,
			  size_t whylen);

#endif
