/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: the operations of the InterLink API client: a listing across its
 * pages (fetched concurrently, read again when it moved meanwhile), a get,
 * and the one log line for each failure. Setting the client up is
 * client.c's, requests themselves transport.c's, reading answers page.c's.
 */
#include "api_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "field.h"
#include "log.h"

/* A total_count implying more pages than this is not believed. */
#define MAX_PAGES 100000
#define PAGE_SIZE 1000

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

	/* A list that does not add up is said once per change of what is
	 * wrong with it, not at every refresh that finds it so again. */
	if (x->result == -EIO && x->err.http_status == 200 &&
	    transport_said_before(a, x->url, "why", e->message,
				  strlen(e->message)))
		lvl = LOGL_DEBUG;
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
			 x->attempts, clock_mono() - op->started);
	log_msg(lvl, "GET %s: %s%s%s%s%s%s%s", path, strerror(-x->result),
		status[0] ? ", " : "", status, e->message[0] ? ": " : "",
		e->message, rid, tries);
	if (x->result == -EACCES && a->secret)
		log_msg(lvl, "the API refused the secret key from %s",
			a->key_source);
	else if (x->result == -EACCES && e->http_status)
		log_msg(lvl, "the gateway %s refused this host (no secret key "
			"is sent with -o gateway; %s%s)", a->base_url,
			a->o.cert_file ? "client certificate " :
			"no client certificate given: see cert_file",
			a->o.cert_file ? a->o.cert_file : "");
}

/*
 * A listing answered 404: the API does not serve that region (the API
 * documents no other reason for a list to be missing), unless the caller
 * knows the region is served (another kind of it listed). Said once per
 * region, at warning level, so that an empty-looking tree never goes
 * unexplained; later 404s of that region are debug noise.
 */
static void note_unserved(struct api *a, const char *region,
			  const struct api_kind *kind, const struct xfer *x)
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
		"region %s: HTTP 404 for its %s (%s%s%s%s%s): the InterLink "
		"API does not serve it, or failed", region, kind->key,
		e->type[0] ? e->type : "no type", e->message[0] ? ": " : "",
		e->message, e->request_id[0] ? ", request id " : "",
		e->request_id);
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
	op->started = clock_mono();
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
		   json_t **obj, struct api_info *info, struct api_error *err)
{
	struct api_call local;
	struct op op;
	struct xfer x;
	const char *got;
	int rc;

	memset(&x, 0, sizeof x);
	if (!api_region_valid(region) || !field_id_valid(id, strlen(id))) {
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
	if (!rc && info)
		*info = (struct api_info){clock_mono() - x.born, false};
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
	bool consistent;     /* the pages add up: nothing moved meanwhile */
	size_t raw;          /* entries on the pages, valid or not */
	size_t twice;        /* ids seen on two pages */
	size_t unreadable;   /* entries that cannot be read */
	double born;         /* when its oldest page was made (clock_mono) */
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
		if (json_object_get(seen, s)) {
			p->twice++; /* the list moved between pages */
			continue;
		}
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
 * exactly that many entries, valid or not, each id once.
 */
static int merge_pages(struct op *op, struct pass *p)
{
	json_int_t total = p->first.dg->total;
	size_t cap = 0;
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
	p->born = p->first.born;
	for (size_t i = 0; i < p->pages; i++) {
		struct xfer *x = i ? &p->rest[i - 1] : &p->first;
		struct digest *d = x->dg;
		if ((i && x->page > op->last_page) || !d)
			continue;
		p->raw += d->raw;
		p->unreadable += d->skipped + d->unreadable;
		p->consistent &= d->total == total;
		p->born = x->born < p->born ? x->born : p->born;
		merge_page(d, p, seen);
	}
	p->consistent &= p->raw == (size_t)total && !p->twice;
	json_decref(seen);
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
	return rc ? rc : merge_pages(op, p);
}

/* A list that does not add up is not a result: -EIO, said on page 1's
 * transfer (which names the list in the log line). */
static int incomplete(struct op *op, struct pass *p, const char *kind,
		      int readings)
{
	struct xfer *x = &p->first;

	if (p->unreadable && p->consistent)
		transport_set_msg(x, "the %s list is incomplete: %zu entr%s of "
				  "%zu cannot be read (not an object, or an id "
				  "that is not a UUID)", kind, p->unreadable,
				  p->unreadable == 1 ? "y" : "ies", p->raw);
	else
		transport_set_msg(x, "the %s list is incomplete: it did not add "
				  "up in %d reading%s (total_count %" JSON_INTEGER_FORMAT
				  ", %zu entries on the pages, %zu seen twice)",
				  kind, readings, readings == 1 ? "" : "s",
				  x->dg->total, p->raw, p->twice);
	x->result = -EIO;
	p->failed = x;
	/* An answer that cannot be used, as one that is not JSON. */
	atomic_fetch_add(&op->a->n.api_errors, 1);
	return -EIO;
}

/* Reads the list until its pages add up, a few times at most: 0, a
 * transfer's -errno, or -EIO when it never added up. */
static int read_list(struct op *op, const char *region,
		     const struct api_filters *f, struct pass *p)
{
	const struct api_kind *k = op->kind;
	double until = op->started + (double)op->a->o.timeout_ms / 1000;
	int rc;

	for (int reading = 1;; reading++) {
		rc = fetch_pass(op, region, k->path, f, p);
		if (rc)
			return rc;
		if (!p->consistent &&
		    (reading == 3 || clock_mono() >= until))
			return incomplete(op, p, k->key, reading);
		if (!p->consistent) {
			log_debug("the %s list of %s changed while it was read; "
				  "reading it again", k->key, region);
			pass_free(p, op->sink);
			continue;
		}
		/* An entry that cannot be read stays so: no new reading. */
		return p->unreadable ? incomplete(op, p, k->key, reading) : 0;
	}
}

int api_list_items(struct api *a, const struct api_kind *k,
		   const char *region, const struct api_filters *f,
		   const struct api_sink *sink, struct api_call *call,
		   void ***items, size_t *n, struct api_info *info,
		   struct api_error *err)
{
	struct api_call local;
	struct op op;
	struct pass p;
	int rc;

	memset(&op, 0, sizeof op);
	memset(&p, 0, sizeof p);
	if (info)
		memset(info, 0, sizeof *info);
	if (!api_region_valid(region)) {
		fill_err(err, NULL, -ENOENT);
		return -ENOENT;
	}
	rc = op_begin(&op, a, call, &local, k);
	if (rc)
		goto out;
	op.sink = sink;
	op.filters = f;
	rc = read_list(&op, region, f, &p);
	if (info && rc == -EIO && p.failed == &p.first && p.first.dg)
		info->incomplete = true;
out:
	if (p.failed && p.failed->result == -ENOENT &&
	    p.failed->err.http_status == 404)
		note_unserved(a, region, op.kind, p.failed);
	else if (p.failed)
		log_failure(&op, p.failed);
	if (op.a)
		op_end(&op, &local);
	fill_err(err, p.failed, rc);
	if (!rc) {
		*items = p.items;
		*n = p.n;
		if (info)
			info->age = clock_mono() - p.born;
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
