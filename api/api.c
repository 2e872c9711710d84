/*
 * api: requests, retries, rate limit, pagination and the HTTP -> errno table.
 *
 * Every operation checks out a worker (a curl multi handle with a few easy
 * handles) for its own use, so a handle is never shared between threads,
 * and runs its transfers in one loop around curl_multi_poll(). Waiting for
 * a back-off, for the rate limit, for a shared 429 cool-down or for the
 * network all happen in that poll, which api_call_cancel() and
 * api_shutdown() interrupt with curl_multi_wakeup().
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <time.h>

#include <curl/curl.h>

#include "conn.h"
#include "log.h"

#define MAXPAR 16
/* A total_count implying more pages than this is not believed. */
#define MAX_PAGES 100000
#define PAGE_SIZE 1000
#define API_PATH "/interlink/v1beta1/regions/"

enum xstate { X_WAIT, X_RUN, X_DONE };

struct worker;

struct xfer {
	char *url;
	CURL *easy;               /* while running */
	char *body;
	size_t len, cap;
	bool too_big;
	char request_id[80];
	char retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
	int page;                 /* 0 for a single object */
	int attempts;
	int last_err;
	double next_at;
	enum xstate state;
	int result;
	bool skipped;             /* past an empty page: ignored */
	json_t *json;             /* parsed answer on success (objects) */
	struct digest *dg;        /* a list page, digested on arrival */
	struct api_error err;
};

/* What a list page holds, kept instead of its parsed JSON: the entries
 * with a valid id, each in the caller's form, and counts to check the
 * pages against each other. */
struct digest {
	json_t *ids;              /* array of id strings, page order */
	json_t *items;            /* the entries, as api_list_map's fn made them */
	json_int_t total;         /* the page's total_count */
	size_t raw;               /* entries on the page, valid or not */
	size_t skipped;           /* entries without a valid id */
	size_t filtered;          /* valid entries that fail the filters */
	size_t badtypes;
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
	struct curl_slist *headers;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	bool debug;

	pthread_mutex_t lock;     /* everything below */
	struct worker *free_workers;
	struct worker *active;
	double tokens, refilled_at;
	double cooldown_until;
	uint64_t nworkers;
	char unserved[64][33];    /* regions whose listing answered 404 */
	size_t nunserved;
	atomic_bool shutdown;

	atomic_uint_fast64_t n_requests, n_errors, n_retries, n_429, n_bytes;
};

static struct digest *digest_page(json_t *page, const char *key,
				  const struct api_filters *f, api_item_fn fn,
				  void *ud);

/* One operation: its worker, deadline and where its pages stop. */
struct op {
	struct api *a;
	struct worker *w;
	struct api_call *call;
	double started, deadline;
	int last_page;
	const char *key;          /* "connections", "pops"; NULL: one object */
	const struct api_filters *filters; /* lists: what entries must pass */
	api_item_fn fn;           /* lists: each entry's form; NULL: as is */
	void *fn_ud;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the HTTP outcome -> errno table -------------------------------- */

int api_errno(long status, int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_ABORTED_BY_CALLBACK:
		return -EINTR;
	default:
		return -EIO; /* reset, truncated, TLS, body too large ... */
	}
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400: return -EINVAL;
	case 401:
	case 403: return -EACCES;
	case 404: return -ENOENT;
	case 429: return -EAGAIN;
	default: return -EIO; /* 5xx after retries, 3xx, other 4xx */
	}
}

static bool curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* ---- cancellation ----------------------------------------------------- */

void api_call_init(struct api_call *c)
{
	atomic_init(&c->cancelled, 0);
	pthread_mutex_init(&c->lock, NULL);
	c->multi = NULL;
}

void api_call_destroy(struct api_call *c)
{
	pthread_mutex_destroy(&c->lock);
}

void api_call_cancel(struct api_call *c)
{
	atomic_store(&c->cancelled, 1);
	pthread_mutex_lock(&c->lock);
	if (c->multi)
		curl_multi_wakeup(c->multi);
	pthread_mutex_unlock(&c->lock);
}

/* ---- set-up ----------------------------------------------------------- */

int api_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void api_global_cleanup(void)
{
	curl_global_cleanup();
}

void api_opts_default(struct api_opts *o)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = 15000;
	o->connect_timeout_ms = 5000;
	o->max_body = 64u << 20;
	o->rate = 20;
	o->burst = 40;
	o->max_parallel = 8;
	o->max_retries = 3;
	o->backoff_base_ms = 200;
	o->backoff_cap_ms = 5000;
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access acc,
		       void *ud)
{
	struct api *a = ud;
	(void)h;
	(void)acc;
	pthread_mutex_lock(&a->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
	struct api *a = ud;
	(void)h;
	pthread_mutex_unlock(&a->share_lock[d]);
}

static bool host_is_loopback(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	if (inet_pton(AF_INET, host, buf) == 1)
		return buf[0] == 127;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return memcmp(buf, &in6addr_loopback, sizeof in6addr_loopback)
		       == 0;
	return false;
}

/* The base URL must be http(s); plain http only to loopback unless the
 * user chose Scaleway's "insecure". */
static int check_base_url(const char *url, bool insecure)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		log_error("API URL '%s' is not a valid URL", url);
		rc = -EINVAL;
	} else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		log_error("API URL '%s': only http and https are supported", url);
		rc = -EINVAL;
	} else if (strcmp(scheme, "http") == 0 && !host_is_loopback(host) &&
		   !insecure) {
		log_error("API URL '%s' is plain http to a host that is not "
			  "this machine: the secret key would travel in clear; "
			  "use https (or set SCW_INSECURE=true to insist)", url);
		rc = -EINVAL;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int api_new(const struct api_opts *o, struct api **out)
{
	struct api *a;
	struct utsname un;
	char *hdr = NULL, os[80];
	int rc;

	if (!o->base_url || !o->secret_key)
		return -EINVAL;
	rc = check_base_url(o->base_url, o->insecure);
	if (rc)
		return rc;
	a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->o = *o;
	if (a->o.max_parallel < 1)
		a->o.max_parallel = 1;
	if (a->o.max_parallel > MAXPAR)
		a->o.max_parallel = MAXPAR;
	if (a->o.burst < 1)
		a->o.burst = 1;
	a->tokens = a->o.burst;
	a->refilled_at = mono();
	a->base_url = strdup(o->base_url);
	a->secret = strdup(o->secret_key);
	a->key_source = strdup(o->key_source ? o->key_source : "the options");
	pthread_mutex_init(&a->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&a->share_lock[i], NULL);
	atomic_init(&a->shutdown, false);
	if (!a->base_url || !a->secret || !a->key_source)
		goto nomem;
	for (size_t n = strlen(a->base_url); n && a->base_url[n - 1] == '/'; n--)
		a->base_url[n - 1] = '\0';

	if (uname(&un) == 0) {
		snprintf(os, sizeof os, "%s", un.sysname);
		for (char *p = os; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	} else {
		snprintf(os, sizeof os, "unknown");
	}
	snprintf(a->ua, sizeof a->ua, "interlinkfs/%s (libcurl/%s; %s; %s)",
		 INTERLINKFS_VERSION, curl_version_info(CURLVERSION_NOW)->version,
		 os, uname(&un) == 0 ? un.machine : "unknown");

	if (asprintf(&hdr, "X-Auth-Token: %s", a->secret) < 0)
		goto nomem;
	a->headers = curl_slist_append(NULL, hdr);
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	if (!a->headers)
		goto nomem;
	a->headers = curl_slist_append(a->headers, "Accept: application/json");

	a->share = curl_share_init();
	if (!a->share)
		goto nomem;
	curl_share_setopt(a->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(a->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(a->share, CURLSHOPT_USERDATA, a);
	curl_share_setopt(a->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(a->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	a->debug = log_enabled(LOGL_DEBUG);
	if (o->insecure)
		log_warn("insecure is set: TLS certificates of %s are not "
			 "verified", a->base_url);
	*out = a;
	return 0;
nomem:
	api_free(a);
	return -ENOMEM;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	for (int i = 0; i < MAXPAR; i++)
		if (w->easy[i])
			curl_easy_cleanup(w->easy[i]);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	free(w);
}

void api_shutdown(struct api *a)
{
	atomic_store(&a->shutdown, true);
	pthread_mutex_lock(&a->lock);
	for (struct worker *w = a->active; w; w = w->anext)
		curl_multi_wakeup(w->multi);
	pthread_mutex_unlock(&a->lock);
}

void api_free(struct api *a)
{
	if (!a)
		return;
	while (a->free_workers) {
		struct worker *w = a->free_workers;
		a->free_workers = w->next;
		worker_free(w);
	}
	if (a->share)
		curl_share_cleanup(a->share);
	if (a->headers) {
		/* The first header holds the key. */
		explicit_bzero(a->headers->data, strlen(a->headers->data));
		curl_slist_free_all(a->headers);
	}
	if (a->secret) {
		explicit_bzero(a->secret, strlen(a->secret));
		free(a->secret);
	}
	free(a->base_url);
	free(a->key_source);
	pthread_mutex_destroy(&a->lock);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&a->share_lock[i]);
	free(a);
}

const char *api_base_url(const struct api *a)
{
	return a->base_url;
}

const char *api_user_agent(const struct api *a)
{
	return a->ua;
}

void api_get_stats(struct api *a, struct api_stats *s)
{
	s->requests = atomic_load(&a->n_requests);
	s->errors = atomic_load(&a->n_errors);
	s->retries = atomic_load(&a->n_retries);
	s->rate_limited = atomic_load(&a->n_429);
	s->bytes = atomic_load(&a->n_bytes);
}

/* ---- easy handle callbacks ---------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	struct api *a;

	curl_easy_getinfo(x->easy, CURLINFO_PRIVATE, &a);
	if (x->len + len > a->o.max_body) {
		x->too_big = true;
		return 0; /* aborts the transfer: never buffer without bound */
	}
	if (x->len + len + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		char *nb;
		while (cap < x->len + len + 1)
			cap *= 2;
		nb = realloc(x->body, cap);
		if (!nb)
			return 0;
		x->body = nb;
		x->cap = cap;
	}
	memcpy(x->body + x->len, data, len);
	x->len += len;
	x->body[x->len] = '\0';
	return len;
}

static void header_value(const char *line, size_t len, const char *name,
			 char *out, size_t outlen)
{
	size_t n = strlen(name), v;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	for (v = n + 1; v < len && (line[v] == ' ' || line[v] == '\t'); v++)
		;
	while (len > v && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
			   line[len - 1] == ' '))
		len--;
	snprintf(out, outlen, "%.*s", (int)(len - v), line + v);
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	header_value(line, len, "X-Request-Id", x->request_id,
		     sizeof x->request_id);
	header_value(line, len, "Retry-After", x->retry_after,
		     sizeof x->retry_after);
	return len;
}

/* At debug level: request and response headers, with the key hidden. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size,
		    void *ud)
{
	char line[1024], *p;

	(void)h;
	(void)ud;
	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN &&
	    type != CURLINFO_HEADER_OUT)
		return 0;
	snprintf(line, sizeof line, "%.*s", (int)(size < 1023 ? size : 1023),
		 data);
	p = strcasestr(line, "X-Auth-Token:");
	if (p) {
		char *end = strpbrk(p, "\r\n");
		snprintf(p, sizeof line - (size_t)(p - line),
			 "X-Auth-Token: [REDACTED]%s", end ? "\n(more headers)"
			 : "");
	}
	log_debug("curl %s %s", type == CURLINFO_TEXT ? "*" :
		  type == CURLINFO_HEADER_IN ? "<" : ">", line);
	return 0;
}

static CURL *easy_new(struct api *a)
{
	CURL *e = curl_easy_init();
	long low = a->o.timeout_ms / 2000;

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, a->share);
	curl_easy_setopt(e, CURLOPT_USERAGENT, a->ua);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_PRIVATE, a);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)a->o.max_body);
	/* A connection that stalls completely is dropped before the deadline
	 * so a retry can still happen. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, low < 1 ? 1L : low);
	if (a->o.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (a->debug) {
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
	}
	return e;
}

/* ---- workers ------------------------------------------------------------ */

static int worker_checkout(struct api *a, struct api_call *call,
			   struct worker **out)
{
	struct worker *w;

	if (atomic_load(&a->shutdown))
		return -EINTR;
	pthread_mutex_lock(&a->lock);
	w = a->free_workers;
	if (w)
		a->free_workers = w->next;
	pthread_mutex_unlock(&a->lock);
	if (!w) {
		w = calloc(1, sizeof *w);
		if (!w || !(w->multi = curl_multi_init())) {
			worker_free(w);
			return -ENOMEM;
		}
		curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				  (long)a->o.max_parallel);
		curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
				  (long)a->o.max_parallel);
		for (int i = 0; i < a->o.max_parallel; i++) {
			w->easy[i] = easy_new(a);
			if (!w->easy[i]) {
				worker_free(w);
				return -ENOMEM;
			}
			w->freeh[w->nfree++] = w->easy[i];
		}
		pthread_mutex_lock(&a->lock);
		w->rng = (uint64_t)(mono() * 1e9) ^ (++a->nworkers * 0x9e37ULL);
		pthread_mutex_unlock(&a->lock);
	}
	pthread_mutex_lock(&a->lock);
	w->aprev = NULL;
	w->anext = a->active;
	if (a->active)
		a->active->aprev = w;
	a->active = w;
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_lock(&call->lock);
	call->multi = w->multi;
	pthread_mutex_unlock(&call->lock);
	*out = w;
	return 0;
}

static void worker_checkin(struct api *a, struct api_call *call,
			   struct worker *w)
{
	pthread_mutex_lock(&call->lock);
	call->multi = NULL;
	pthread_mutex_unlock(&call->lock);
	pthread_mutex_lock(&a->lock);
	if (w->aprev)
		w->aprev->anext = w->anext;
	else
		a->active = w->anext;
	if (w->anext)
		w->anext->aprev = w->aprev;
	w->next = a->free_workers;
	a->free_workers = w;
	pthread_mutex_unlock(&a->lock);
}

static double rand01(struct worker *w)
{
	/* xorshift64*: jitter only, no need for more. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (double)((w->rng * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* Seconds to wait for a token (0: one was taken). */
static double bucket_take(struct api *a, double now)
{
	double wait = 0;

	if (a->o.rate <= 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	a->tokens += (now - a->refilled_at) * a->o.rate;
	if (a->tokens > a->o.burst)
		a->tokens = a->o.burst;
	a->refilled_at = now;
	if (a->tokens >= 1)
		a->tokens -= 1;
	else
		wait = (1 - a->tokens) / a->o.rate;
	pthread_mutex_unlock(&a->lock);
	return wait;
}

static double cooldown(struct api *a)
{
	double c;

	pthread_mutex_lock(&a->lock);
	c = a->cooldown_until;
	pthread_mutex_unlock(&a->lock);
	return c;
}

/* ---- one attempt ----------------------------------------------------------- */

static void xfer_start(struct op *op, struct xfer *x, double now)
{
	struct worker *w = op->w;
	long left = (long)((op->deadline - now) * 1000) + 1;
	long ct = op->a->o.connect_timeout_ms;

	x->easy = w->freeh[--w->nfree];
	x->len = 0;
	x->too_big = false;
	x->request_id[0] = x->retry_after[0] = x->errbuf[0] = '\0';
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, left);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 ct < left ? ct : left);
	curl_multi_add_handle(w->multi, x->easy);
	x->state = X_RUN;
	atomic_fetch_add(&op->a->n_requests, 1);
}

static void xfer_detach(struct op *op, struct xfer *x)
{
	curl_multi_remove_handle(op->w->multi, x->easy);
	op->w->freeh[op->w->nfree++] = x->easy;
	x->easy = NULL;
}

static void set_msg(struct xfer *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_msg(struct xfer *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err.message, sizeof x->err.message, fmt, ap);
	va_end(ap);
}

static void copy_field(const json_t *o, const char *k, char *dst, size_t n)
{
	const json_t *v = json_object_get(o, k);
	if (json_is_string(v))
		snprintf(dst, n, "%s", json_string_value(v));
}

/*
 * Parse a body as JSON. Invalid UTF-8 (which jansson rejects) is replaced
 * by U+FFFD and parsed again, so one odd name does not hide a whole region.
 */
static json_t *parse_body(const char *body, size_t len, char *why,
			  size_t whylen)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_ALLOW_NUL, &je);
	char *fixed;
	size_t flen, nbad;

	if (j)
		return j;
	if (json_error_code(&je) == json_error_invalid_utf8 &&
	    conn_utf8_repair(body, len, &fixed, &flen, &nbad) == 0) {
		j = json_loadb(fixed, flen, JSON_ALLOW_NUL, &je);
		free(fixed);
		if (j) {
			log_warn("the API sent %zu invalid UTF-8 byte%s; shown "
				 "as U+FFFD", nbad, nbad == 1 ? "" : "s");
			return j;
		}
	}
	snprintf(why, whylen, "invalid JSON (line %d, column %d: %s)",
		 je.line, je.column, je.text);
	return NULL;
}

/* A good answer must have the right shape, or it is an error. key: the
 * list's array member, NULL for a single object. */
static int shape_ok(const json_t *j, const char *key, char *why,
		    size_t whylen)
{
	const json_t *arr, *tc;

	if (!json_is_object(j)) {
		snprintf(why, whylen, "unexpected answer: not a JSON object");
		return -EIO;
	}
	if (!key)
		return 0;
	arr = json_object_get(j, key);
	tc = json_object_get(j, "total_count");
	if (!json_is_array(arr)) {
		snprintf(why, whylen, "unexpected answer: '%s' is not an array",
			 key);
		return -EIO;
	}
	if (!json_is_integer(tc) || json_integer_value(tc) < 0) {
		snprintf(why, whylen,
			 "unexpected answer: 'total_count' is not a count");
		return -EIO;
	}
	return 0;
}

static double retry_after_s(const char *v, double now_wall)
{
	char *end;
	double s;
	time_t t;

	if (!*v)
		return -1;
	s = strtod(v, &end);
	if (end != v && !*end && s >= 0)
		return s;
	t = curl_getdate(v, NULL); /* an HTTP date */
	if (t == -1)
		return -1;
	s = (double)t - now_wall;
	return s < 0 ? 0 : s;
}

static void xfer_finish(struct op *op, struct xfer *x, CURLcode cc)
{
	struct api *a = op->a;
	long status = 0;
	bool retry = false;
	double wait = 0, now;
	int err;
	char why[200];

	x->attempts++;
	x->err.attempts = x->attempts;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	xfer_detach(op, x);
	x->err.http_status = status;
	snprintf(x->err.request_id, sizeof x->err.request_id, "%s",
		 x->request_id);
	x->err.type[0] = x->err.resource[0] = x->err.resource_id[0] = '\0';
	atomic_fetch_add(&a->n_bytes, x->len);

	if (cc != CURLE_OK) {
		if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			err = -EIO;
			set_msg(x, "answer larger than %zu bytes refused",
				a->o.max_body);
		} else {
			err = api_errno(0, cc);
			retry = curl_retryable(cc);
			set_msg(x, "%s", x->errbuf[0] ? x->errbuf :
				curl_easy_strerror(cc));
		}
	} else if (status >= 200 && status < 300) {
		x->json = parse_body(x->body ? x->body : "", x->len, why,
				     sizeof why);
		err = x->json ? shape_ok(x->json, op->key, why, sizeof why)
			      : -EIO;
		if (err)
			set_msg(x, "%s", why);
	} else {
		json_t *eb = x->len ? json_loadb(x->body, x->len, 0, NULL) : NULL;

		err = api_errno(status, 0);
		if (json_is_object(eb)) {
			copy_field(eb, "type", x->err.type, sizeof x->err.type);
			copy_field(eb, "message", x->err.message,
				   sizeof x->err.message);
			copy_field(eb, "resource", x->err.resource,
				   sizeof x->err.resource);
			copy_field(eb, "resource_id", x->err.resource_id,
				   sizeof x->err.resource_id);
		} else {
			/* A gateway's HTML page or an empty body. */
			set_msg(x, "%s", x->len ? "non-JSON error body" :
				"empty body");
		}
		json_decref(eb);
		retry = status == 429 || status >= 500;
		if (status == 429)
			atomic_fetch_add(&a->n_429, 1);
	}
	free(x->body);
	x->body = NULL;
	x->len = x->cap = 0;
	if (!err) {
		x->state = X_DONE;
		x->result = 0;
		return;
	}
	if (err != -ENOENT)
		atomic_fetch_add(&a->n_errors, 1);
	if (err && x->json) {
		json_decref(x->json);
		x->json = NULL;
	}
	x->last_err = err;
	now = mono();
	if (retry && x->attempts <= a->o.max_retries) {
		double base = (double)a->o.backoff_base_ms / 1000;
		double cap = (double)a->o.backoff_cap_ms / 1000;
		double b = fmin(cap, base * pow(2, x->attempts - 1));
		double ra = status == 429 ? retry_after_s(x->retry_after,
							  (double)time(NULL))
					  : -1;
		if (ra >= 0)
			wait = ra + rand01(op->w) * base;
		else if (status == 429) /* never retry a 429 at once */
			wait = b / 2 + rand01(op->w) * b / 2;
		else /* full jitter */
			wait = rand01(op->w) * b;
		if (now + wait < op->deadline) {
			x->state = X_WAIT;
			x->next_at = now + wait;
			atomic_fetch_add(&a->n_retries, 1);
			if (status == 429) {
				/* Everyone waits: a burst must not hammer an
				 * API that asked us to slow down. */
				pthread_mutex_lock(&a->lock);
				if (a->cooldown_until < x->next_at)
					a->cooldown_until = x->next_at;
				pthread_mutex_unlock(&a->lock);
			}
			log_debug("retrying %s in %.0f ms (attempt %d: %s)",
				  x->url + strlen(a->base_url), wait * 1000,
				  x->attempts, strerror(-err));
			return;
		}
	}
	x->state = X_DONE;
	x->result = err;
}

/*
 * Runs the transfers until each is done, failed, cancelled or past the
 * deadline. Pages beyond op->last_page are skipped.
 */
static void run_xfers(struct op *op, struct xfer *xs, size_t n)
{
	struct api *a = op->a;
	size_t running = 0;

	for (;;) {
		double now = mono(), wake = op->deadline;
		bool cancel = atomic_load(&op->call->cancelled) ||
			      atomic_load(&a->shutdown);
		bool expired = now >= op->deadline, blocked = false;
		size_t pending = 0;
		CURLMsg *m;
		int q, still;
		long ms;

		for (size_t i = 0; i < n; i++) {
			struct xfer *x = &xs[i];
			bool skip = x->page > op->last_page;

			if (x->state == X_DONE)
				continue;
			if (!cancel && !expired && !skip) {
				pending++;
				continue;
			}
			if (x->state == X_RUN) {
				xfer_detach(op, x);
				running--;
			}
			x->state = X_DONE;
			x->skipped = skip;
			if (skip) {
				x->result = 0;
			} else if (cancel) {
				x->result = -EINTR;
				set_msg(x, "cancelled");
			} else if (x->last_err && x->attempts) {
				x->result = x->last_err;
			} else {
				x->result = -ETIMEDOUT;
				x->err.http_status = 0;
				set_msg(x, "no answer within %ld ms (timed out)",
					a->o.timeout_ms);
				atomic_fetch_add(&a->n_errors, 1);
			}
		}
		if (!pending)
			return;

		for (size_t i = 0; i < n && !blocked; i++) {
			struct xfer *x = &xs[i];
			double cd, tw;

			if (x->state != X_WAIT ||
			    running >= (size_t)a->o.max_parallel)
				continue;
			if (x->next_at > now) {
				wake = fmin(wake, x->next_at);
				continue;
			}
			cd = cooldown(a);
			if (cd > now) {
				wake = fmin(wake, cd);
				blocked = true;
				continue;
			}
			tw = bucket_take(a, now);
			if (tw > 0) {
				wake = fmin(wake, now + tw);
				blocked = true;
				continue;
			}
			xfer_start(op, x, now);
			running++;
		}

		curl_multi_perform(op->w->multi, &still);
		while ((m = curl_multi_info_read(op->w->multi, &q))) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < n; i++)
				if (xs[i].easy == m->easy_handle)
					x = &xs[i];
			if (!x)
				continue;
			xfer_finish(op, x, m->data.result);
			running--;
			if (x->state == X_DONE && !x->result && op->key) {
				x->dg = digest_page(x->json, op->key,
						    op->filters, op->fn,
						    op->fn_ud);
				json_decref(x->json);
				x->json = NULL;
				if (!x->dg)
					x->result = -ENOMEM;
				else if (x->page > 1 && x->dg->raw == 0 &&
					 x->page - 1 < op->last_page)
					op->last_page = x->page - 1; /* empty */
			}
			wake = now; /* something changed: look again */
		}
		ms = (long)ceil((wake - mono()) * 1000);
		if (ms <= 0 && wake == now)
			continue;
		if (ms < 0)
			ms = 0;
		if (ms > 1000)
			ms = 1000;
		curl_multi_poll(op->w->multi, NULL, 0, (int)ms, NULL);
	}
}

/* ---- operations ------------------------------------------------------------- */

static bool region_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 32)
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') ||
		      *r == '-'))
			return false;
	return true;
}

static void log_failure(struct op *op, const struct xfer *x)
{
	struct api *a = op->a;
	const struct api_error *e = &x->err;
	const char *path = x->url + strlen(a->base_url);
	enum log_level lvl = x->result == -ENOENT || x->result == -EINTR ?
			     LOGL_DEBUG : x->result == -EACCES ? LOGL_ERROR :
			     LOGL_WARNING;
	char status[96] = "";
	char rid[112] = "";
	char tries[64] = "";

	if (!log_enabled(lvl))
		return;
	if (e->http_status)
		snprintf(status, sizeof status, "HTTP %ld%s%s", e->http_status,
			 e->type[0] ? " " : "", e->type);
	if (e->request_id[0])
		snprintf(rid, sizeof rid, " (request id %s)", e->request_id);
	if (x->attempts > 1)
		snprintf(tries, sizeof tries, " after %d attempts in %.1f s",
			 x->attempts, mono() - op->started);
	log_msg(lvl, "GET %s: %s%s%s%s%s%s%s", path, strerror(-x->result),
		status[0] ? ", " : "", status, e->message[0] ? ": " : "",
		e->message, rid, tries);
	if (x->result == -EACCES)
		log_msg(lvl, "the API refused the secret key from %s",
			a->key_source);
}

/*
 * A listing answered 404: the API does not serve that region (the API
 * documents no other reason for a list to be missing). Said once per
 * region, at warning level, so that an empty-looking tree never goes
 * unexplained; later 404s of that region are debug noise.
 */
static void note_unserved(struct api *a, const char *region,
			  const struct xfer *x)
{
	const struct api_error *e = &x->err;
	bool first = true;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->nunserved; i++)
		if (strcmp(a->unserved[i], region) == 0)
			first = false;
	if (first && a->nunserved < sizeof a->unserved / sizeof *a->unserved)
		snprintf(a->unserved[a->nunserved++], sizeof *a->unserved,
			 "%s", region);
	pthread_mutex_unlock(&a->lock);
	log_msg(first ? LOGL_WARNING : LOGL_DEBUG,
		"region %s is not served by the InterLink API (HTTP 404%s%s%s%s"
		"%s%s)", region, e->type[0] ? " " : "", e->type,
		e->message[0] ? ": " : "", e->message,
		e->request_id[0] ? ", request id " : "", e->request_id);
}

static int op_begin(struct op *op, struct api *a, struct api_call *call,
		    struct api_call *local, const char *key)
{
	memset(op, 0, sizeof *op);
	op->a = a;
	op->key = key;
	if (!call) {
		api_call_init(local);
		call = local;
	}
	op->call = call;
	op->started = mono();
	op->deadline = op->started + (double)a->o.timeout_ms / 1000;
	op->last_page = MAX_PAGES;
	return worker_checkout(a, call, &op->w);
}

static void op_end(struct op *op, struct api_call *local)
{
	if (op->w)
		worker_checkin(op->a, op->call, op->w);
	if (op->call == local)
		api_call_destroy(local);
}

static void fill_err(struct api_error *out, const struct xfer *x, int rc)
{
	if (!out)
		return;
	if (x)
		*out = x->err;
	else
		memset(out, 0, sizeof *out);
	out->err = rc;
}

static int get_one(struct api *a, const char *region, const char *kind,
		   const char *id, const struct api_filters *f,
		   struct api_call *call, json_t **obj, struct api_error *err)
{
	struct api_call local;
	struct op op;
	struct xfer x;
	const char *got;
	int rc;

	memset(&x, 0, sizeof x);
	if (!region_valid(region) || !conn_id_valid(id, strlen(id))) {
		fill_err(err, NULL, -ENOENT);
		return -ENOENT; /* such an id cannot exist: no request */
	}
	if (asprintf(&x.url, "%s" API_PATH "%s/%s/%s", a->base_url, region,
		     kind, id) < 0)
		return -ENOMEM;
	rc = op_begin(&op, a, call, &local, NULL);
	if (rc) {
		op_end(&op, &local);
		free(x.url);
		fill_err(err, NULL, rc);
		return rc;
	}
	run_xfers(&op, &x, 1);
	rc = x.result;
	if (!rc) {
		got = json_string_value(json_object_get(x.json, "id"));
		if (!got || strcasecmp(got, id) != 0) {
			set_msg(&x, "the answer is for another id");
			x.result = rc = -EIO;
		} else if (!filter_match(f, x.json)) {
			/* Hidden from the listings: not there by id either. */
			set_msg(&x, "filtered out by the mount's filters");
			x.result = rc = -ENOENT;
		}
	}
	if (rc)
		log_failure(&op, &x);
	op_end(&op, &local);
	fill_err(err, &x, rc);
	if (!rc)
		*obj = x.json;
	else
		json_decref(x.json);
	free(x.url);
	return rc;
}

int api_get(struct api *a, const char *region, const char *id,
	    const struct api_filters *f, struct api_call *call, json_t **obj,
	    struct api_error *err)
{
	return get_one(a, region, "dedicated-connections", id, f, call, obj,
		       err);
}

int api_get_pop(struct api *a, const char *region, const char *id,
		struct api_call *call, json_t **obj, struct api_error *err)
{
	return get_one(a, region, "pops", id, NULL, call, obj, err);
}

/* The list URL of one page, with filters (values URL-encoded by curl). */
static int list_url(struct api *a, const char *region, const char *kind,
		    const struct api_filters *f, int page, char **out)
{
	CURLU *u = curl_url();
	char *base = NULL;
	int rc = -ENOMEM;

	if (!u)
		return -ENOMEM;
	if (asprintf(&base, "%s" API_PATH "%s/%s?page=%d&page_size=%d",
		     a->base_url, region, kind, page, PAGE_SIZE) < 0)
		goto out;
	rc = -EINVAL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	rc = filter_query(f, u);
	if (!rc)
		rc = curl_url_get(u, CURLUPART_URL, out, 0) == CURLUE_OK ?
		     0 : -EINVAL;
out:
	free(base);
	curl_url_cleanup(u);
	return rc;
}

static void digest_free(struct digest *d)
{
	if (!d)
		return;
	json_decref(d->ids);
	json_decref(d->items);
	free(d);
}

/*
 * A list page, reduced to its entries with a valid id (others skipped with
 * a log line) in the caller's form. Called as each page arrives, so a long
 * list never holds every page parsed at once. NULL when out of memory.
 */
static struct digest *digest_page(json_t *page, const char *key,
				  const struct api_filters *f, api_item_fn fn,
				  void *ud)
{
	struct digest *d = calloc(1, sizeof *d);
	json_t *arr = json_object_get(page, key), *c;
	size_t i;
	char why[160];

	if (!d || !(d->ids = json_array()) || !(d->items = json_array())) {
		digest_free(d);
		return NULL;
	}
	d->total = json_integer_value(json_object_get(page, "total_count"));
	json_array_foreach(arr, i, c) {
		const char *id = conn_id(c);
		json_t *m;

		d->raw++;
		if (!id) {
			if (d->skipped++ < 3) {
				char *txt = json_dumps(json_object_get(c, "id"),
						       JSON_ENCODE_ANY);
				log_warn("skipping a %s entry whose id is not a "
					 "UUID: %.60s", key, txt ? txt : "none");
				free(txt);
			}
			continue;
		}
		if (!filter_match(f, c)) {
			d->filtered++;
			continue;
		}
		if (strcmp(key, "connections") == 0 &&
		    conn_check(c, why, sizeof why) && d->badtypes++ < 3)
			log_warn("connection %s: %s", id, why);
		m = fn ? fn(c, ud) : json_incref(c);
		if (!m || json_array_append_new(d->items, m) ||
		    json_array_append_new(d->ids, json_string(id))) {
			digest_free(d);
			return NULL;
		}
	}
	return d;
}

/* Appends the entries of a page not seen on an earlier one. */
static void merge_page(const struct digest *d, json_t *items, json_t *seen)
{
	size_t i;
	json_t *id;

	json_array_foreach(d->ids, i, id) {
		const char *s = json_string_value(id);
		if (json_object_get(seen, s))
			continue; /* the list moved between pages */
		json_object_set_new(seen, s, json_true());
		json_array_append(items, json_array_get(d->items, i));
	}
}

/* One read of every page of a list. */
struct pass {
	struct xfer first, *rest;
	size_t pages;
	struct xfer *failed;
	json_t *items;
	bool consistent;     /* every page agreed: nothing moved meanwhile */
};

static void pass_free(struct pass *p)
{
	json_decref(p->first.json);
	digest_free(p->first.dg);
	free(p->first.url);
	free(p->first.body);
	for (size_t i = 0; p->rest && i + 1 < p->pages; i++) {
		json_decref(p->rest[i].json);
		digest_free(p->rest[i].dg);
		free(p->rest[i].url);
		free(p->rest[i].body);
	}
	free(p->rest);
	json_decref(p->items);
	memset(p, 0, sizeof *p);
}

static int fetch_pass(struct op *op, struct api *a, const char *region,
		      const char *kind, const struct api_filters *f,
		      struct pass *p)
{
	const char *key = op->key;
	json_t *seen = NULL;
	size_t k, raw, skipped = 0, filtered = 0, badtypes = 0;
	json_int_t total;
	int rc;

	memset(p, 0, sizeof *p);
	p->pages = 1;
	op->last_page = MAX_PAGES;
	rc = list_url(a, region, kind, f, 1, &p->first.url);
	if (rc)
		return rc;
	p->first.page = 1;
	run_xfers(op, &p->first, 1);
	if ((rc = p->first.result)) {
		p->failed = &p->first;
		return rc;
	}
	k = p->first.dg->raw;
	total = p->first.dg->total;
	/* As the SDKs do: pages = ceil(total / items on page 1), whatever
	 * page size we asked for. */
	if (k > 0 && (size_t)total > k) {
		p->pages = ((size_t)total + k - 1) / k;
		if (p->pages > MAX_PAGES) {
			set_msg(&p->first, "unbelievable total_count %"
				JSON_INTEGER_FORMAT, total);
			p->first.result = -EIO;
			p->failed = &p->first;
			p->pages = 1;
			return -EIO;
		}
		p->rest = calloc(p->pages - 1, sizeof *p->rest);
		if (!p->rest)
			return -ENOMEM;
		for (size_t i = 2; i <= p->pages; i++) {
			p->rest[i - 2].page = (int)i;
			rc = list_url(a, region, kind, f, (int)i,
				      &p->rest[i - 2].url);
			if (rc)
				return rc;
		}
		run_xfers(op, p->rest, p->pages - 1);
		for (size_t i = 0; i + 1 < p->pages && !p->failed; i++)
			if (p->rest[i].result && p->rest[i].page <= op->last_page)
				p->failed = &p->rest[i];
		if (p->failed)
			return p->failed->result;
	}
	p->items = json_array();
	seen = json_object();
	if (!p->items || !seen) {
		json_decref(seen);
		return -ENOMEM;
	}
	/* A list read page by page moves under our feet when the account
	 * changes meanwhile: an entry can show twice, or not at all. Every
	 * page must report the same total, and together hold exactly that
	 * many distinct entries. */
	raw = k;
	skipped = p->first.dg->skipped;
	filtered = p->first.dg->filtered;
	badtypes = p->first.dg->badtypes;
	p->consistent = true;
	merge_page(p->first.dg, p->items, seen);
	for (size_t i = 0; i + 1 < p->pages; i++) {
		const struct digest *d = p->rest[i].dg;
		if (p->rest[i].page > op->last_page || !d)
			continue;
		raw += d->raw;
		skipped += d->skipped;
		filtered += d->filtered;
		badtypes += d->badtypes;
		if (d->total != total)
			p->consistent = false;
		merge_page(d, p->items, seen);
	}
	if (raw != (size_t)total ||
	    json_array_size(p->items) + skipped + filtered != raw)
		p->consistent = false;
	json_decref(seen);
	if (skipped > 3)
		log_warn("skipped %zu %s entries with an invalid id in %s",
			 skipped, key, region);
	if (badtypes > 3)
		log_warn("%zu connections in %s have fields of the wrong type",
			 badtypes, region);
	return 0;
}

static int list_common(struct api *a, const char *region, const char *kind,
		       const char *key, const struct api_filters *f,
		       api_item_fn fn, void *ud, struct api_call *call,
		       json_t **out, struct api_error *err)
{
	struct api_call local;
	struct op op;
	struct pass p;
	int rc;

	memset(&op, 0, sizeof op);
	memset(&p, 0, sizeof p);
	if (!region_valid(region)) {
		fill_err(err, NULL, -ENOENT);
		return -ENOENT;
	}
	rc = op_begin(&op, a, call, &local, key);
	if (rc)
		goto out;
	op.fn = fn;
	op.fn_ud = ud;
	op.filters = f;
	for (int attempt = 1;; attempt++) {
		rc = fetch_pass(&op, a, region, kind, f, &p);
		if (rc || p.consistent)
			break;
		if (attempt == 3 || mono() >= op.deadline) {
			log_info("the %s list of %s kept changing while it was "
				 "read; using the last reading (%zu entries)",
				 key, region, json_array_size(p.items));
			break;
		}
		log_debug("the %s list of %s changed while it was read; "
			  "reading it again", key, region);
		pass_free(&p);
	}
out:
	if (p.failed && p.failed->result == -ENOENT &&
	    p.failed->err.http_status == 404)
		note_unserved(a, region, p.failed);
	else if (p.failed)
		log_failure(&op, p.failed);
	if (op.a)
		op_end(&op, &local);
	fill_err(err, p.failed, rc);
	if (!rc)
		*out = json_incref(p.items);
	pass_free(&p);
	return rc;
}

int api_parse_list(const char *body, size_t len, const char *key,
		   json_t **items, json_int_t *total, char *why, size_t whylen)
{
	json_t *page = parse_body(body, len, why, whylen), *seen, *out;
	struct digest *d;
	int rc;

	if (!page)
		return -EIO;
	rc = shape_ok(page, key, why, whylen);
	if (rc) {
		json_decref(page);
		return rc;
	}
	d = digest_page(page, key, NULL, NULL, NULL);
	json_decref(page);
	out = json_array();
	seen = json_object();
	if (!d || !out || !seen) {
		digest_free(d);
		json_decref(out);
		json_decref(seen);
		return -ENOMEM;
	}
	merge_page(d, out, seen);
	*total = d->total;
	*items = out;
	digest_free(d);
	json_decref(seen);
	return 0;
}

int api_list(struct api *a, const char *region, const struct api_filters *f,
	     struct api_call *call, json_t **items, struct api_error *err)
{
	return list_common(a, region, "dedicated-connections", "connections",
			   f, NULL, NULL, call, items, err);
}

int api_list_map(struct api *a, const char *region,
		 const struct api_filters *f, api_item_fn fn, void *ud,
		 struct api_call *call, json_t **items, struct api_error *err)
{
	return list_common(a, region, "dedicated-connections", "connections",
			   f, fn, ud, call, items, err);
}

int api_list_pops(struct api *a, const char *region, struct api_call *call,
		  json_t **items, struct api_error *err)
{
	return list_common(a, region, "pops", "pops", NULL, NULL, NULL, call,
			   items, err);
}
