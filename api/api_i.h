/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_i.h: what the files of the API client share. client.c sets the
 * client up (its options, the share of connections, the rate limit's ring,
 * counters, cancellation tokens); api.c holds the operations (pagination,
 * gets, logging a failure); transport.c the workers, transfers, retries,
 * rate limit, 429 cool-down and back-off; outcome.c the classification of
 * an attempt and the errno table; net.c the way to the API (CAs, proxy);
 * page.c the pure reading of answers. No other module includes this
 * header.
 *
 * Thread-safety: struct api is shared by every thread (its mutable state
 * under its lock, or atomic); a struct op, its worker and its transfers
 * belong to the one thread running the operation. Each function below
 * says which it touches.
 */
#ifndef INTERLINKFS_API_I_H
#define INTERLINKFS_API_I_H

#include <curl/curl.h>

#include "api.h"

#define MAXPAR 16
#define API_PATH "/interlink/v1beta1/regions/"

enum xstate { X_WAIT, X_RUN, X_DONE };

/* What a list page holds, kept instead of its parsed JSON: the entries
 * with a valid id, each in the caller's form, and counts to check the
 * pages against each other. */
struct digest {
	json_t *ids;              /* array of id strings, page order */
	void **items;             /* the entries, as the sink made them */
	size_t nitems;
	json_int_t total;         /* the page's total_count */
	size_t raw;               /* entries on the page, valid or not */
	size_t skipped;           /* entries without a valid id */
	size_t unreadable;        /* entries that were not JSON objects */
	size_t filtered;          /* valid entries that fail the filters */
};

/* One HTTP request (a page, or a single object) and its attempts. */
struct xfer {
	char *url;
	CURL *easy;               /* while running */
	char *body;
	size_t len, cap;
	bool too_big;
	char request_id[80];
	char retry_after[64];
	char date[64];            /* the answer's Date and Age headers */
	char age[32];
	char errbuf[CURL_ERROR_SIZE];
	int page;                 /* 0 for a single object */
	int attempts;
	int last_err;
	double deadline;          /* set at the first attempt: + timeout */
	double next_at;
	double sent_at;           /* the attempt's start (clock_mono) */
	double born;              /* on success: when the data was made, by
				   * its age (age.c), on clock_mono */
	enum xstate state;
	int result;
	bool skipped;             /* past an empty page: ignored */
	bool fast;                /* failed without being sent */
	json_t *json;             /* a single object's answer, on success */
	struct digest *dg;        /* a list page, read on arrival */
	struct api_error err;
};

struct worker {
	CURLM *multi;
	CURL *easy[MAXPAR];
	int nfree;
	CURL *freeh[MAXPAR];
	uint64_t rng;
	struct worker *next;                /* free list */
	struct worker *aprev, *anext;       /* active list */
};

struct api {
	struct api_opts o;
	char *base_url;
	char *secret;
	char *key_source;
	char ua[192];
	char api_host[300];       /* host:port of base_url, for messages */
	char *proxy;              /* "proxy URL (from VAR)", no credentials;
				   * NULL: the environment names none */
	char proxy_host[256];
	long proxy_port;
	struct curl_slist *headers;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	bool debug;

	pthread_mutex_t lock;     /* everything below */
	struct worker *free_workers;
	struct worker *active;
	double *sent;             /* the rate limit's ring (transport.c):
				   * start times of the last nsent requests;
				   * NULL: no limit */
	size_t nsent, sent_next;
	double window;            /* seconds nsent requests may take */
	double cooldown_until;    /* a 429 asked everyone to wait */
	double down_until;        /* the API did not answer: fail fast */
	int down_err, down_fails;
	uint64_t nworkers;
	char unserved[64][33];    /* regions whose listing answered 404 */
	size_t nunserved;
	/* The answers read last, by URL: digests of (URL, body) in a small
	 * direct-mapped table, so that what is odd in an answer is said
	 * once, not at every refresh that brings it again (transport.c). */
	uint64_t answers[256];
	atomic_bool shutdown;

	/* The counters of struct api_stats, under the same names. */
	struct {
		atomic_uint_fast64_t api_requests, api_errors, api_retries,
				     api_rate_limited, api_bytes,
				     api_fast_failures, api_records_skipped;
	} n;
};

/* One operation: its worker, its time limit and where its pages stop. */
struct op {
	struct api *a;
	struct worker *w;
	struct api_call *call;
	double started;
	int last_page;
	const struct api_kind *kind; /* of a list; NULL: one object */
	const struct api_filters *filters; /* lists: what entries must pass */
	const struct api_sink *sink;       /* lists: each entry's form */
};

/* ---- net.c: the way to the API ------------------------------------------ */

/* Learns the way (the CAs to trust, the proxy from the environment) into
 * a, from its options; called by api_new before any thread uses a. 0 or
 * -ENOMEM. */
int net_setup(struct api *a);
/* Applies the way to a new easy handle e (the caller's). Reads a only:
 * thread-safe. */
void net_easy(const struct api *a, CURL *e);
/* What a failed transfer means for a person (curl_msg: libcurl's own
 * words; connect: the proxy's answer to CONNECT, 0 if none), into msg
 * (len bytes); returns an errno that replaces the table's (a proxy's
 * refusal), or 0. Reads a only: thread-safe. */
int net_describe(const struct api *a, CURLcode cc, long connect,
		 const char *curl_msg, char *msg, size_t len);

/* ---- outcome.c: what an attempt came to (pure, thread-safe) ---------------- */

/* The errno of a proxy that answered a CONNECT with status. */
int outcome_proxy_errno(long status);
/* Whether a libcurl result is a TLS peer that could not be trusted, or no
 * TLS connection at all (EPROTO). */
bool outcome_tls_failure(int curl_code);

struct outcome {
	int err;                  /* 0 or -errno (the errno table) */
	bool retry;               /* worth another attempt */
	bool no_answer;           /* the API did not answer in time */
};
/* What one attempt came to, from libcurl's result and the HTTP status. */
struct outcome outcome_of(int curl_code, long http_status);

/* ---- transport.c: requests ------------------------------------------------- */

/* A worker (a multi handle and its easy handles) for the calling thread's
 * operation, from a's pool or new, set as call's to wake: 0 with *out
 * (the caller's until transport_checkin), -EINTR once a is shut down, or
 * -ENOMEM. Thread-safe. */
int transport_checkout(struct api *a, struct api_call *call,
		       struct worker **out);
/* Gives w back to a's pool; call no longer wakes it. Thread-safe. */
void transport_checkin(struct api *a, struct api_call *call,
		       struct worker *w);
/* Frees w (NULL is a no-op); a worker nobody holds. */
void transport_worker_free(struct worker *w);
/* Runs the transfers xs (op's thread's) until each is done, failed,
 * cancelled or out of time: each ends with its result and error filled.
 * Pages beyond op->last_page are skipped. Takes a's lock for the shared
 * state only, never across waiting. */
void transport_run(struct op *op, struct xfer *xs, size_t n);
/* Whether url said exactly this text (what: "body" for an answer's body,
 * or what else was found of it) the last time it was read, and remember
 * it: what is odd in an answer is said once per change, not at every
 * refresh that brings it again. A small direct-mapped table of digests.
 * Thread-safe. */
bool transport_said_before(struct api *a, const char *url, const char *what,
			   const char *text, size_t len);
/* The reason of x's failure, for the log line (x's owner only). */
void transport_set_msg(struct xfer *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- page.c: answers, read without HTTP (thread-safe) ---------------------- */

/* ---- age.c: how old an answer is (pure) ------------------------------------ */

/* api_age_initial() is public (api.h). */

/* What is odd in the data (repairs, entries skipped) is logged as a
 * warning, or at debug level when quiet (the same answer was read
 * before: said once per change). */

/* A list page: its entries with a valid id that pass f, each made by sink
 * (NULL: kept as they are, new references). 0 with *out (the caller frees
 * it with page_digest_free), or -EIO with the reason in why (-ENOMEM).
 * Entries that cannot be read are skipped with a log line. */
int page_read_list(const char *body, size_t len, const struct api_kind *k,
		   const struct api_filters *f, const struct api_sink *sink,
		   bool quiet, struct digest **out, char *why, size_t whylen);
/* A single object. 0 with *out (new reference), or -EIO with why. */
int page_read_object(const char *body, size_t len, bool quiet, json_t **out,
		     char *why, size_t whylen);
/* Frees d and the entries it still holds (through sink, as made). NULL is
 * a no-op. */
void page_digest_free(struct digest *d, const struct api_sink *sink);

#endif
