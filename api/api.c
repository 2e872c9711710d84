/*
 * api: the operations of the InterLink API client: a listing across its
 * pages (fetched concurrently, read again when it moved meanwhile), a get,
 * and the one log line for each failure. Requests themselves are
 * transport.c's; reading answers is page.c's.
 */
#include "api_i.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <time.h>

#include "conn.h"
#include "log.h"

/* A total_count implying more pages than this is not believed. */
#define MAX_PAGES 100000
#define PAGE_SIZE 1000

double api_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* A part of a parsed URL, or NULL when it has none. curl_free() it. */
static char *url_part(CURLU *u, CURLUPart what)
{
	char *v = NULL;

	if (curl_url_get(u, what, &v, 0) != CURLUE_OK)
		return NULL;
	return v;
}

static bool only_slashes(const char *p)
{
	return !p || strspn(p, "/") == strlen(p);
}

int api_check_url(const char *url, bool insecure, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL;
	char *frag = NULL, *user = NULL;
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    !(scheme = url_part(u, CURLUPART_SCHEME)) ||
	    !(host = url_part(u, CURLUPART_HOST))) {
		snprintf(why, whylen, "not a URL such as "
			 "https://api.scaleway.com");
		goto out;
	}
	path = url_part(u, CURLUPART_PATH);
	query = url_part(u, CURLUPART_QUERY);
	frag = url_part(u, CURLUPART_FRAGMENT);
	user = url_part(u, CURLUPART_USER);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		snprintf(why, whylen, "only http and https are supported");
	else if (!only_slashes(path) || query || frag || user)
		/* interlinkfs adds /interlink/v1beta1/...: a path here
		 * would be doubled and every request would go astray. */
		snprintf(why, whylen, "give scheme://host[:port] only, such as "
			 "https://api.scaleway.com (no path, query, fragment "
			 "or user)");
	else if (strcmp(scheme, "http") == 0 && !host_is_loopback(host) &&
		 !insecure)
		snprintf(why, whylen, "plain http to a host that is not this "
			 "machine: the secret key would travel in clear; use "
			 "https (or set SCW_INSECURE=true to insist)");
	else
		rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/* The rate limit's ring (see rate_take in transport.c): floor(rate)
 * requests (at least one) per window of one second, or of 1/rate seconds
 * under one per second. Every slot starts long past: the first requests
 * go at once. */
static int rate_ring(struct api *a)
{
	double k = floor(a->o.rate);

	a->nsent = k >= 1 ? (size_t)k : 1;
	a->window = k >= 1 ? 1.0 : 1.0 / a->o.rate;
	if (!(a->sent = malloc(a->nsent * sizeof *a->sent)))
		return -ENOMEM;
	for (size_t i = 0; i < a->nsent; i++)
		a->sent[i] = -1e18;
	return 0;
}

int api_new(const struct api_opts *o, struct api **out)
{
	struct api *a;
	struct utsname un;
	char *hdr = NULL, os[80], why[256];
	int rc;

	if (!o->base_url || !o->secret_key)
		return -EINVAL;
	rc = api_check_url(o->base_url, o->insecure, why, sizeof why);
	if (rc) {
		log_error("API URL '%s': %s", o->base_url, why);
		return rc;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->o = *o;
	if (a->o.max_parallel < 1)
		a->o.max_parallel = 1;
	if (a->o.max_parallel > MAXPAR)
		a->o.max_parallel = MAXPAR;
	a->base_url = strdup(o->base_url);
	a->secret = strdup(o->secret_key);
	a->key_source = strdup(o->key_source ? o->key_source : "the options");
	pthread_mutex_init(&a->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&a->share_lock[i], NULL);
	atomic_init(&a->shutdown, false);
	if (!a->base_url || !a->secret || !a->key_source ||
	    (a->o.rate > 0 && rate_ring(a)))
		goto nomem;
	for (size_t n = strlen(a->base_url); n && a->base_url[n - 1] == '/'; n--)
		a->base_url[n - 1] = '\0';
	if (net_setup(a))
		goto nomem;

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
		transport_worker_free(w);
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
	free(a->sent);
	free(a->proxy);
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
	s->fast_failures = atomic_load(&a->n_fast_failures);
	s->records_skipped = atomic_load(&a->n_records_skipped);
}

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
	/* A request not sent (the API is in its back-off) is not a new
	 * failure: the one that started the back-off was logged. */
	enum log_level lvl = x->result == -ENOENT || x->result == -EINTR ||
			     x->fast ? LOGL_DEBUG : x->result == -EACCES ?
			     LOGL_ERROR : LOGL_WARNING;
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
			 x->attempts, api_mono() - op->started);
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
		    struct api_call *local, const struct api_kind *kind)
{
	memset(op, 0, sizeof *op);
	op->a = a;
	op->kind = kind;
	if (!call) {
		api_call_init(local);
		call = local;
	}
	op->call = call;
	op->started = api_mono();
	op->last_page = MAX_PAGES;
	return transport_checkout(a, call, &op->w);
}

static void op_end(struct op *op, struct api_call *local)
{
	if (op->w)
		transport_checkin(op->a, op->call, op->w);
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

int api_get_object(struct api *a, const struct api_kind *k,
		   const char *region, const char *id,
		   const struct api_filters *f, struct api_call *call,
		   json_t **obj, struct api_error *err)
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
		     k->path, id) < 0)
		return -ENOMEM;
	rc = op_begin(&op, a, call, &local, NULL);
	if (rc) {
		op_end(&op, &local);
		free(x.url);
		fill_err(err, NULL, rc);
		return rc;
	}
	transport_run(&op, &x, 1);
	rc = x.result;
	if (!rc) {
		got = json_string_value(json_object_get(x.json, "id"));
		if (!got || strcasecmp(got, id) != 0) {
			transport_set_msg(&x, "the answer is for another id");
			x.result = rc = -EIO;
		} else if (!filter_match(f, x.json)) {
			/* Hidden from the listings: not there by id either. */
			transport_set_msg(&x, "filtered out by the mount's "
					  "filters");
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

/* The list URL of one page, with filters (values URL-encoded by curl). */
static int list_url(struct api *a, const char *region, const char *path,
		    const struct api_filters *f, int page, char **out)
{
	CURLU *u = curl_url();
	char *base = NULL;
	int rc = -ENOMEM;

	if (!u)
		return -ENOMEM;
	if (asprintf(&base, "%s" API_PATH "%s/%s?page=%d&page_size=%d",
		     a->base_url, region, path, page, PAGE_SIZE) < 0)
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

/* One read of every page of a list. */
struct pass {
	struct xfer first, *rest;
	size_t pages;
	struct xfer *failed;
	void **items;        /* taken from the pages' digests */
	size_t n;
	bool consistent;     /* every page agreed: nothing moved meanwhile */
};

static void xfer_clear(struct xfer *x, const struct api_sink *sink)
{
	json_decref(x->json);
	page_digest_free(x->dg, sink);
	free(x->url);
	free(x->body);
}

static void pass_free(struct pass *p, const struct api_sink *sink)
{
	xfer_clear(&p->first, sink);
	for (size_t i = 0; p->rest && i + 1 < p->pages; i++)
		xfer_clear(&p->rest[i], sink);
	free(p->rest);
	api_items_free(p->items, p->n, sink);
	memset(p, 0, sizeof *p);
}

/* Moves the entries of a page not seen on an earlier one into p. */
static void merge_page(struct digest *d, struct pass *p, json_t *seen)
{
	size_t i;
	json_t *id;

	json_array_foreach(d->ids, i, id) {
		const char *s = json_string_value(id);
		if (json_object_get(seen, s))
			continue; /* the list moved between pages */
		json_object_set_new(seen, s, json_true());
		p->items[p->n++] = d->items[i];
		d->items[i] = NULL;
	}
}

/* Pages 2.. of a list, once page 1 said how many there are. */
static int fetch_rest(struct op *op, const char *region, const char *path,
		      const struct api_filters *f, struct pass *p)
{
	size_t k = p->first.dg->raw;
	json_int_t total = p->first.dg->total;
	int rc;

	/* As the SDKs do: pages = ceil(total / items on page 1), whatever
	 * page size we asked for. */
	if (k == 0 || (size_t)total <= k)
		return 0;
	p->pages = ((size_t)total + k - 1) / k;
	if (p->pages > MAX_PAGES) {
		transport_set_msg(&p->first, "unbelievable total_count %"
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
		rc = list_url(op->a, region, path, f, (int)i,
			      &p->rest[i - 2].url);
		if (rc)
			return rc;
	}
	transport_run(op, p->rest, p->pages - 1);
	for (size_t i = 0; i + 1 < p->pages && !p->failed; i++)
		if (p->rest[i].result && p->rest[i].page <= op->last_page)
			p->failed = &p->rest[i];
	return p->failed ? p->failed->result : 0;
}

/*
 * The pages' entries into p->items. A list read page by page moves under
 * our feet when the account changes meanwhile: an entry can show twice, or
 * not at all. Every page must report the same total, and together hold
 * exactly that many entries, valid or not.
 */
static int merge_pages(struct op *op, const char *region, struct pass *p)
{
	json_int_t total = p->first.dg->total;
	size_t raw = 0, dropped = 0, cap = 0, skipped = 0;
	json_t *seen = json_object();

	for (size_t i = 0; i < p->pages; i++) {
		struct digest *d = i ? p->rest[i - 1].dg : p->first.dg;
		if (d)
			cap += d->nitems;
	}
	p->items = calloc(cap + 1, sizeof *p->items);
	if (!p->items || !seen) {
		json_decref(seen);
		return -ENOMEM;
	}
	p->consistent = true;
	for (size_t i = 0; i < p->pages; i++) {
		struct digest *d = i ? p->rest[i - 1].dg : p->first.dg;
		if ((i && p->rest[i - 1].page > op->last_page) || !d)
			continue;
		raw += d->raw;
		dropped += d->skipped + d->unreadable + d->filtered;
		skipped += d->skipped;
		if (d->total != total)
			p->consistent = false;
		merge_page(d, p, seen);
	}
	if (raw != (size_t)total || p->n + dropped != raw)
		p->consistent = false;
	json_decref(seen);
	if (skipped > 3)
		log_warn("skipped %zu %s entries with an invalid id in %s",
			 skipped, op->kind->key, region);
	return 0;
}

static int fetch_pass(struct op *op, const char *region, const char *path,
		      const struct api_filters *f, struct pass *p)
{
	int rc;

	memset(p, 0, sizeof *p);
	p->pages = 1;
	op->last_page = MAX_PAGES;
	rc = list_url(op->a, region, path, f, 1, &p->first.url);
	if (rc)
		return rc;
	p->first.page = 1;
	transport_run(op, &p->first, 1);
	if ((rc = p->first.result)) {
		p->failed = &p->first;
		return rc;
	}
	rc = fetch_rest(op, region, path, f, p);
	return rc ? rc : merge_pages(op, region, p);
}

int api_list_items(struct api *a, const struct api_kind *k,
		   const char *region, const struct api_filters *f,
		   const struct api_sink *sink, struct api_call *call,
		   void ***items, size_t *n, struct api_error *err)
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
	rc = op_begin(&op, a, call, &local, k);
	if (rc)
		goto out;
	op.sink = sink;
	op.filters = f;
	for (int attempt = 1;; attempt++) {
		rc = fetch_pass(&op, region, k->path, f, &p);
		if (rc || p.consistent)
			break;
		if (attempt == 3 || api_mono() >= op.started +
		    (double)a->o.timeout_ms / 1000) {
			log_info("the %s list of %s kept changing while it was "
				 "read; using the last reading (%zu entries)",
				 k->key, region, p.n);
			break;
		}
		log_debug("the %s list of %s changed while it was read; "
			  "reading it again", k->key, region);
		pass_free(&p, sink);
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
	if (!rc) {
		*items = p.items;
		*n = p.n;
		p.items = NULL;
		p.n = 0;
	}
	pass_free(&p, sink);
	return rc;
}

void api_items_free(void **items, size_t n, const struct api_sink *sink)
{
	for (size_t i = 0; items && i < n; i++) {
		if (sink && sink->drop)
			sink->drop(items[i], sink->ud);
		else if (!sink)
			json_decref(items[i]);
	}
	free(items);
}

int api_parse_list(const char *body, size_t len, const struct api_kind *k,
		   json_t **items, json_int_t *total, char *why, size_t whylen)
{
	struct digest *d = NULL;
	json_t *out = json_array(), *seen = json_object(), *id;
	size_t i;
	int rc = -ENOMEM;

	if (!out || !seen)
		goto fail;
	rc = page_read_list(body, len, k, NULL, NULL, false, &d, why,
			    whylen);
	if (rc)
		goto fail;
	json_array_foreach(d->ids, i, id) {
		if (json_object_get(seen, json_string_value(id)))
			continue;
		json_object_set_new(seen, json_string_value(id), json_true());
		json_array_append(out, d->items[i]);
	}
	*total = d->total;
	*items = out;
	page_digest_free(d, NULL);
	json_decref(seen);
	return 0;
fail:
	json_decref(out);
	json_decref(seen);
	return rc;
}

/* ---- the connections and PoPs, as arrays of objects ----------------- */

static const struct api_kind connections = {"dedicated-connections",
					    "connections"};

/* The items of a list (each a json_t *) as one JSON array. */
static int as_array(int rc, void **items, size_t n, json_t **out)
{
	json_t *arr;

	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, items[i]);
	free(items);
	if (!arr)
		return -ENOMEM;
	*out = arr;
	return 0;
}

int api_list(struct api *a, const char *region, const struct api_filters *f,
	     struct api_call *call, json_t **out, struct api_error *err)
{
	void **items = NULL;
	size_t n = 0;
	int rc = api_list_items(a, &connections, region, f, NULL, call, &items,
				&n, err);

	return as_array(rc, items, n, out);
}

int api_get(struct api *a, const char *region, const char *id,
	    const struct api_filters *f, struct api_call *call, json_t **obj,
	    struct api_error *err)
{
	return api_get_object(a, &connections, region, id, f, call, obj, err);
}
