/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport: the API client's requests. Every operation checks out a worker
 * (a curl multi handle with a few easy handles) for its own use, so a
 * handle is never shared between threads, and runs its transfers in one
 * loop around curl_multi_poll(). Waiting for a back-off, for the rate
 * limit, for a shared 429 cool-down or for the network all happen in that
 * poll, which api_call_cancel() and api_shutdown() interrupt with
 * curl_multi_wakeup().
 *
 * Time: each request may take `timeout` from its first attempt, time to
 * first byte included (no stall detection cuts it shorter); retries happen
 * within that time only. When a request gets no answer in time, the API is
 * taken to be down for a back-off interval (1 s, doubling up to 30 s while
 * it stays silent): new requests meanwhile fail at once with the same
 * error instead of each waiting `timeout` again. Any answer ends it.
 */
#include "api_i.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define DOWN_MAX 30.0

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
	/* A new status line starts another answer (a proxy's to CONNECT,
	 * a 100 Continue): only the last answer's headers count. */
	if (len > 5 && strncmp(line, "HTTP/", 5) == 0)
		x->date[0] = x->age[0] = '\0';
	/* The first of each, as a cache reads them (RFC 9111 §5.1). */
	if (!x->date[0])
		header_value(line, len, "Date", x->date, sizeof x->date);
	if (!x->age[0])
		header_value(line, len, "Age", x->age, sizeof x->age);
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
	/* Everything from a secret header on: the key, or the proxy's
	 * credentials (a CONNECT request to the proxy carries them). */
	p = strcasestr(line, "X-Auth-Token:");
	if (!p)
		p = strcasestr(line, "Proxy-Authorization:");
	if (p) {
		char *end = strpbrk(p, "\r\n");
		bool key = strncasecmp(p, "X-Auth-Token:", 13) == 0;
		snprintf(p, sizeof line - (size_t)(p - line),
			 "%s: [REDACTED]%s", key ? "X-Auth-Token" :
			 "Proxy-Authorization", end ? "\n(more headers)" : "");
	}
	log_debug("curl %s %s", type == CURLINFO_TEXT ? "*" :
		  type == CURLINFO_HEADER_IN ? "<" : ">", line);
	return 0;
}


static CURL *easy_new(struct api *a)
{
	CURL *e = curl_easy_init();

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
	/* No stall detection: an answer may take up to the whole timeout
	 * before its first byte (CURLOPT_TIMEOUT_MS, set per attempt). */
	net_easy(a, e);
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


int transport_checkout(struct api *a, struct api_call *call,
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
			transport_worker_free(w);
			return -ENOMEM;
		}
		curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				  (long)a->o.max_parallel);
		curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
				  (long)a->o.max_parallel);
		for (int i = 0; i < a->o.max_parallel; i++) {
			w->easy[i] = easy_new(a);
			if (!w->easy[i]) {
				transport_worker_free(w);
				return -ENOMEM;
			}
			w->freeh[w->nfree++] = w->easy[i];
		}
		pthread_mutex_lock(&a->lock);
		w->rng = (uint64_t)(clock_mono() * 1e9) ^ (++a->nworkers * 0x9e37ULL);
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

void transport_checkin(struct api *a, struct api_call *call,
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

/*
 * The rate limit: at most rate requests in any window of one second. The
 * times of the last k = floor(rate) requests are kept in a ring; a request
 * may start when the oldest of them is at least a window old. A rate under
 * 1 is one request per 1/rate seconds (k = 1, a longer window); a rate
 * with a fraction is its whole part per second. Seconds to wait (0: the
 * request was counted and may start).
 */
static double rate_take(struct api *a, double now)
{
	double wait = 0, oldest;

	if (!a->sent)
		return 0;
	pthread_mutex_lock(&a->lock);
	oldest = a->sent[a->sent_next];
	if (now - oldest >= a->window) {
		a->sent[a->sent_next] = now;
		a->sent_next = (a->sent_next + 1) % a->nsent;
	} else {
		wait = oldest + a->window - now;
	}
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


static void copy_field(const json_t *o, const char *k, char *dst, size_t n)
{
	const json_t *v = json_object_get(o, k);
	if (json_is_string(v))
		snprintf(dst, n, "%s", json_string_value(v));
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


void transport_worker_free(struct worker *w)
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


void transport_set_msg(struct xfer *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err.message, sizeof x->err.message, fmt, ap);
	va_end(ap);
}

static void xfer_start(struct op *op, struct xfer *x, double now)
{
	struct worker *w = op->w;
	long left, ct = op->a->o.connect_timeout_ms;

	if (x->attempts == 0)
		x->deadline = now + (double)op->a->o.timeout_ms / 1000;
	left = (long)((x->deadline - now) * 1000) + 1;
	x->easy = w->freeh[--w->nfree];
	x->len = 0;
	x->too_big = false;
	x->request_id[0] = x->retry_after[0] = x->errbuf[0] = '\0';
	x->date[0] = x->age[0] = '\0';
	x->sent_at = now;
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, left);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 ct < left ? ct : left);
	curl_multi_add_handle(w->multi, x->easy);
	x->state = X_RUN;
	atomic_fetch_add(&op->a->n.api_requests, 1);
}

static void xfer_detach(struct op *op, struct xfer *x)
{
	curl_multi_remove_handle(op->w->multi, x->easy);
	op->w->freeh[op->w->nfree++] = x->easy;
	x->easy = NULL;
}

static void xfer_done(struct xfer *x, int result)
{
	x->state = X_DONE;
	x->result = result;
}

/* An answer that is not 2xx: the API's error body, or what it was. */
static void read_error_body(struct xfer *x)
{
	json_t *eb = x->len ? json_loadb(x->body, x->len, 0, NULL) : NULL;

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
		transport_set_msg(x, "%s", x->len ? "non-JSON error body"
				  : "empty body");
	}
	json_decref(eb);
}

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

bool transport_said_before(struct api *a, const char *url, const char *what,
			   const char *text, size_t len)
{
	uint64_t h = fnv(fnv(1469598103934665603ULL, url, strlen(url)), what,
			 strlen(what));
	size_t slot = (size_t)(h % (sizeof a->answers / sizeof *a->answers));
	bool same;

	h = fnv(h, text ? text : "", text ? len : 0);
	pthread_mutex_lock(&a->lock);
	same = a->answers[slot] == h;
	a->answers[slot] = h;
	pthread_mutex_unlock(&a->lock);
	return same;
}

/* A 2xx body: read now, so that a long list is never held as text. */
static int read_body(struct op *op, struct xfer *x)
{
	char why[200] = "";
	bool quiet = transport_said_before(op->a, x->url, "body", x->body,
					   x->len);
	int rc;

	if (op->kind) {
		rc = page_read_list(x->body ? x->body : "", x->len, op->kind,
				    op->filters, op->sink, quiet, &x->dg, why,
				    sizeof why);
		if (!rc)
			atomic_fetch_add(&op->a->n.api_records_skipped,
					 x->dg->skipped + x->dg->unreadable);
	} else {
		rc = page_read_object(x->body ? x->body : "", x->len, quiet,
				      &x->json, why, sizeof why);
	}
	if (rc)
		transport_set_msg(x, "%s", why);
	return rc;
}

/* The API answered, or did not at all: the back-off for everyone. */
static void note_answer(struct api *a, bool answered, int err, double now)
{
	pthread_mutex_lock(&a->lock);
	if (answered) {
		a->down_fails = 0;
		a->down_until = 0;
	} else {
		a->down_fails++;
		a->down_until = now + fmin(DOWN_MAX,
					   pow(2, a->down_fails - 1));
		a->down_err = err;
	}
	pthread_mutex_unlock(&a->lock);
}

/* Seconds before the next attempt of x, after err; < 0: none. */
static double retry_wait(struct op *op, struct xfer *x, long status)
{
	struct api *a = op->a;
	double base = (double)a->o.backoff_base_ms / 1000;
	double cap = (double)a->o.backoff_cap_ms / 1000;
	double b = fmin(cap, base * pow(2, x->attempts - 1));
	double ra = status == 429 ? retry_after_s(x->retry_after,
						  (double)time(NULL)) : -1;

	if (x->attempts > a->o.max_retries)
		return -1;
	if (ra >= 0)
		return ra + rand01(op->w) * base;
	if (status == 429) /* never retry a 429 at once */
		return b / 2 + rand01(op->w) * b / 2;
	return rand01(op->w) * b; /* full jitter */
}

static void xfer_finish(struct op *op, struct xfer *x, CURLcode cc)
{
	struct api *a = op->a;
	long status = 0, connect = 0;
	struct outcome o;
	double wait, now = clock_mono();

	x->attempts++;
	x->err.attempts = x->attempts;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE, &connect);
	xfer_detach(op, x);
	x->err.http_status = status;
	snprintf(x->err.request_id, sizeof x->err.request_id, "%s",
		 x->request_id);
	x->err.type[0] = x->err.resource[0] = x->err.resource_id[0] = '\0';
	atomic_fetch_add(&a->n.api_bytes, x->len);
	o = outcome_of(cc, status);
	if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		o = (struct outcome){-EIO, false, false};
		transport_set_msg(x, "answer larger than %zu bytes refused",
				  a->o.max_body);
	} else if (cc != CURLE_OK) {
		char msg[sizeof x->err.message];
		int err = net_describe(a, cc, connect, x->errbuf[0] ?
				       x->errbuf : curl_easy_strerror(cc),
				       msg, sizeof msg);
		transport_set_msg(x, "%s", msg);
		if (err)
			o = (struct outcome){err, false, false};
	} else if (o.err == 0) {
		o.err = read_body(op, x);
	} else {
		read_error_body(x);
	}
	if (cc == CURLE_OK || o.no_answer)
		note_answer(a, cc == CURLE_OK, o.err, now);
	if (status == 429)
		atomic_fetch_add(&a->n.api_rate_limited, 1);
	free(x->body);
	x->body = NULL;
	x->len = x->cap = 0;
	if (!o.err) {
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		x->born = now - api_age_initial(x->sent_at, now,
						(double)wall.tv_sec +
						(double)wall.tv_nsec / 1e9,
						x->date, x->age);
		xfer_done(x, 0);
		return;
	}
	if (o.err != -ENOENT)
		atomic_fetch_add(&a->n.api_errors, 1);
	x->last_err = o.err;
	wait = o.retry ? retry_wait(op, x, status) : -1;
	if (wait < 0 || now + wait >= x->deadline) {
		xfer_done(x, o.err);
		return;
	}
	x->state = X_WAIT;
	x->next_at = now + wait;
	atomic_fetch_add(&a->n.api_retries, 1);
	if (status == 429) {
		/* Everyone waits: a burst must not hammer an API that asked
		 * us to slow down. */
		pthread_mutex_lock(&a->lock);
		if (a->cooldown_until < x->next_at)
			a->cooldown_until = x->next_at;
		pthread_mutex_unlock(&a->lock);
	}
	log_debug("retrying %s in %.0f ms (attempt %d: %s)",
		  x->url + strlen(a->base_url), wait * 1000, x->attempts,
		  strerror(-o.err));
}

/* Ends what is skipped, cancelled or out of time. Returns how many
 * transfers are still to do. */
static size_t settle(struct op *op, struct xfer *xs, size_t n, double now,
		     bool cancel, size_t *running)
{
	size_t pending = 0;

	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		bool skip = x->page > op->last_page;
		bool late = x->state == X_WAIT && x->attempts &&
			    now >= x->deadline;

		if (x->state == X_DONE)
			continue;
		if (!cancel && !skip && !late) {
			pending++;
			continue;
		}
		if (x->state == X_RUN) {
			xfer_detach(op, x);
			(*running)--;
		}
		x->skipped = skip;
		if (cancel && !skip)
			transport_set_msg(x, "cancelled");
		xfer_done(x, skip ? 0 : cancel ? -EINTR : x->last_err);
	}
	return pending;
}

/*
 * A request that may not start: the API is down (it did not answer a
 * moment ago), or asked everyone to wait longer than a request may take.
 * Fails it at once and returns true.
 */
static bool fail_fast(struct op *op, struct xfer *x, double now, double cd)
{
	struct api *a = op->a;
	double until;
	int err;

	pthread_mutex_lock(&a->lock);
	until = a->down_until;
	err = a->down_err;
	pthread_mutex_unlock(&a->lock);
	if (x->attempts == 0 && until > now) {
		transport_set_msg(x, "not sent: the API did not answer a "
				  "moment ago (%s); asked again in %.1f s",
				  strerror(-err), until - now);
		x->fast = true;
		atomic_fetch_add(&a->n.api_fast_failures, 1);
		xfer_done(x, err);
		return true;
	}
	if (x->attempts == 0 && cd > now + (double)a->o.timeout_ms / 1000) {
		transport_set_msg(x, "not sent: the API asked to wait %.0f s "
				  "(429), longer than timeout", cd - now);
		x->fast = true;
		atomic_fetch_add(&a->n.api_fast_failures, 1);
		xfer_done(x, -EAGAIN);
		return true;
	}
	return false;
}

/* Starts what may start now; *wake is lowered to when more may. */
static void start_ready(struct op *op, struct xfer *xs, size_t n,
			double now, size_t *running, double *wake)
{
	struct api *a = op->a;

	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		double cd, tw;

		if (x->state != X_WAIT ||
		    *running >= (size_t)a->o.max_parallel)
			continue;
		if (x->next_at > now) {
			*wake = fmin(*wake, x->next_at);
			continue;
		}
		cd = cooldown(a);
		if (fail_fast(op, x, now, cd)) {
			*wake = 0; /* done: no need to wait for anything */
			continue;
		}
		if (cd > now) {
			*wake = fmin(*wake, cd);
			return;
		}
		tw = rate_take(a, now);
		if (tw > 0) {
			*wake = fmin(*wake, now + tw);
			return;
		}
		xfer_start(op, x, now);
		(*running)++;
	}
}

/* Finishes the transfers curl is done with. */
static void collect(struct op *op, struct xfer *xs, size_t n,
		    size_t *running, double *wake)
{
	CURLMsg *m;
	int q, still;

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
		(*running)--;
		/* An empty page ends the list: the pages after it are not
		 * waited for. */
		if (x->state == X_DONE && !x->result && x->dg && x->page > 1 &&
		    x->dg->raw == 0 && x->page - 1 < op->last_page)
			op->last_page = x->page - 1;
		*wake = 0; /* something changed: look again at once */
	}
}

void transport_run(struct op *op, struct xfer *xs, size_t n)
{
	size_t running = 0;

	for (;;) {
		double now = clock_mono(), wake = now + 1;
		bool cancel = atomic_load(&op->call->cancelled) ||
			      atomic_load(&op->a->shutdown);
		long ms;

		if (!settle(op, xs, n, now, cancel, &running))
			return;
		start_ready(op, xs, n, now, &running, &wake);
		collect(op, xs, n, &running, &wake);
		if (wake == 0)
			continue;
		ms = (long)ceil((wake - clock_mono()) * 1000);
		ms = ms < 0 ? 0 : ms > 1000 ? 1000 : ms;
		curl_multi_poll(op->w->multi, NULL, 0, (int)ms, NULL);
	}
}
