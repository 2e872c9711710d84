/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: the Scaleway InterLink API client (libcurl + jansson).
 *
 * One struct api per program: it owns the credentials, a pool of libcurl
 * multi handles (each reused by one thread at a time, so connections are
 * kept alive), the shared 429 cool-down and the client-side rate limit.
 * Every function returns 0 or -errno; on failure the outcome is turned into
 * an errno by the one table (api_errno, in outcome.c) and logged once,
 * here, with what a person needs (method, path, status, the API's type and
 * message, request id). The secret key is never logged.
 *
 * Thread-safety: every function may be called from any thread at the same
 * time, except api_new()/api_free(). api_global_init() must be called once
 * before any thread starts.
 */
#ifndef INTERLINKFS_API_H
#define INTERLINKFS_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "filter.h"

struct api;

struct api_opts {
	const char *base_url;     /* e.g. https://api.scaleway.com */
	const char *secret_key;   /* sent as X-Auth-Token; copied. NULL: no
				   * X-Auth-Token is sent (a fleet gateway
				   * adds its own) */
	const char *key_source;   /* where the key came from, for messages */
	const char *cert_file;    /* this host's TLS client certificate (PEM,
				   * as curl's --cert); NULL: none */
	const char *key_file;     /* its private key (PEM, unencrypted, as
				   * curl's --key); with cert_file only */
	bool insecure;            /* Scaleway "insecure": no TLS verification,
				   * plain http to any host (warned) */
	const char *ca_file;      /* certificates to trust instead of the
				   * system's (PEM); NULL: the system's */
	const char *ca_path;      /* a directory of hashed certificates to
				   * trust as well; NULL: none */
	long timeout_ms;          /* longest one operation may take: 15000 */
	long connect_timeout_ms;  /* 5000 */
	size_t max_body;          /* bytes; larger answers are refused: 64 MiB */
	double rate;              /* at most this many requests in any
				   * second, 0 = unlimited: 20 (under 1: one
				   * per 1/rate seconds) */
	int max_parallel;         /* concurrent page requests: 8 */
	int max_retries;          /* per request: 3 */
	long backoff_base_ms;     /* 200 */
	long backoff_cap_ms;      /* 5000 */
};

/* Fills o with the defaults above (base_url and secret_key left NULL). */
void api_opts_default(struct api_opts *o);

/* What went wrong, for the caller that wants more than the errno. */
struct api_error {
	int err;                  /* the -errno returned */
	long http_status;         /* 0 when no HTTP answer */
	char type[64];            /* the API's "type" */
	char message[256];        /* the API's "message", or what failed */
	char resource[64];
	char resource_id[80];
	char request_id[80];      /* X-Request-Id */
	int attempts;
};

/*
 * A cancellation token for one operation. The caller owns it (it may live
 * on the stack); api_call_cancel() may be called from any thread, at any
 * time, and makes the operation return -EINTR at once.
 */
struct api_call {
	atomic_int cancelled;
	pthread_mutex_t lock;
	void *multi; /* the multi handle in use, guarded by lock */
};

void api_call_init(struct api_call *c);
void api_call_destroy(struct api_call *c);
void api_call_cancel(struct api_call *c);

/* Counters since api_new(), named as .interlinkfs/stats shows them;
 * cheap to read. */
struct api_stats {
	uint64_t api_requests;    /* HTTP requests sent (attempts) */
	uint64_t api_errors;      /* failed attempts (not 404s) */
	uint64_t api_retries;
	uint64_t api_rate_limited; /* 429 answers */
	uint64_t api_bytes;       /* body bytes received */
	uint64_t api_fast_failures; /* requests failed unsent: API in
				   * back-off */
	uint64_t api_records_skipped; /* list entries not shown: no valid
				   * id, or unreadable */
};

/* What is known of an answer besides its data. */
struct api_info {
	/* Seconds the data was already old when the call returned (RFC 9111
	 * §4.2.3, through any cache): for a list, its oldest page. */
	double age;
	/* A list whose pages did not add up (or held entries that cannot
	 * be read): the call failed with -EIO, and says why in the
	 * api_error's message. */
	bool incomplete;
};

/* A kind of object the API serves under /regions/{region}/: the path of
 * its endpoints ("dedicated-connections") and the array member of its list
 * answers ("connections"). */
struct api_kind {
	const char *path;
	const char *key;
};

/*
 * Where the entries of a list go, as each page arrives (the page is freed
 * then, so a long list never exists whole as jansson objects): make()
 * turns an entry (borrowed) into the caller's form, NULL when out of
 * memory; drop() frees one that is not handed out (it is given NULL too).
 * A NULL sink keeps entries as jansson objects (new references).
 * Called from the thread of the operation.
 */
struct api_sink {
	void *(*make)(const json_t *obj, void *ud);
	void (*drop)(void *item, void *ud);
	void *ud;
};

/* curl_global_init, once, before threads start. 0 or -EIO. */
int api_global_init(void);
void api_global_cleanup(void);

/*
 * Is url a base URL requests can go to: scheme://host[:port] with an
 * optional trailing '/', http(s), plain http only to this machine unless
 * insecure? 0, or -EINVAL with the reason (one line) in why. Pure.
 */
int api_check_url(const char *url, bool insecure, char *why, size_t whylen);

/*
 * Is r a region code as the InterLink API has them: two letters, '-',
 * three letters, in lower case (fr-par, nl-ams)? The one rule for a
 * region, for the mount's options and for the paths of requests. Pure.
 */
bool api_region_valid(const char *r);

/*
 * A new client. -EINVAL (with a logged message) for a base URL that
 * api_check_url() refuses, or none. The options' strings are copied or,
 * for the paths (ca_file, ca_path, cert_file, key_file), borrowed: they
 * must outlive the client.
 */
int api_new(const struct api_opts *o, struct api **out);

/* Cancels everything in flight; later operations fail with -EINTR. */
void api_shutdown(struct api *a);
void api_free(struct api *a);

/*
 * Every object of kind k in a region, in the API's order, following
 * total_count across pages fetched concurrently, each made by sink: *items
 * (malloc'ed, *n of them; free with api_items_free()); entries that fail
 * f are left out. Only a complete list is a result: pages that disagree
 * with total_count or with each other (an id twice, fewer entries than
 * promised) are read again from page 1, a few times; a list that still
 * does not add up, or that holds an entry that cannot be read (an id that
 * is not a UUID, a record that is not JSON), is -EIO with
 * info->incomplete set and the reason in err's message (logged once per
 * change). A region the API does not serve (404) is -ENOENT, logged once
 * per region. call, info and err may be NULL; info->age is set on
 * success.
 */
int api_list_items(struct api *a, const struct api_kind *k,
		   const char *region, const struct api_filters *f,
		   const struct api_sink *sink, struct api_call *call,
		   void ***items, size_t *n, struct api_info *info,
		   struct api_error *err);
void api_items_free(void **items, size_t n, const struct api_sink *sink);

/* One object of kind k. *obj: new reference. 404 is -ENOENT, and so is an
 * object that does not pass f (may be NULL). An id that is not a UUID is
 * -ENOENT without a request. info (may be NULL): its age, on success. */
int api_get_object(struct api *a, const struct api_kind *k,
		   const char *region, const char *id,
		   const struct api_filters *f, struct api_call *call,
		   json_t **obj, struct api_info *info, struct api_error *err);

void api_get_stats(struct api *a, struct api_stats *out);

/*
 * One list page as the client reads it, without HTTP: parse (repairing
 * invalid UTF-8), check the shape, keep the entries with a valid id, each
 * once. key: "connections" or "pops". On success *items is a new
 * reference and *total the page's total_count; else -EIO with the reason
 * in why. Pure apart from warnings logged. Thread-safe.
 */
int api_parse_list(const char *body, size_t len, const struct api_kind *k,
		   json_t **items, json_int_t *total, char *why,
		   size_t whylen);

/* The base URL requests go to, without a trailing '/'. Borrowed. */
const char *api_base_url(const struct api *a);

/* "interlinkfs/VERSION (libcurl/X; OS; ARCH)". Borrowed. */
const char *api_user_agent(const struct api *a);

/* Maps an HTTP status (0 = none) and curl result to -errno: the table. */
int api_errno(long http_status, int curl_code);

/*
 * How old an answer was when it arrived (RFC 9111 §4.2.3's
 * corrected_initial_age), in seconds: the larger of its Age header plus
 * the request's own delay (received - sent, on one monotonic clock) and
 * its apparent age, received_wall (the wall clock, seconds since the
 * epoch) less its Date header, read as the end of its second. A Date in
 * the future counts as 0; a missing or unreadable header as none. Pure,
 * thread-safe.
 */
double api_age_initial(double sent, double received, double received_wall,
		       const char *date, const char *age);

#endif
