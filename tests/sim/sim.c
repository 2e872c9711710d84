/*
 * interlink-sim: a local, deterministic stand-in for the Scaleway InterLink
 * API (dedicated connections and PoPs), with test controls under /_sim/ to
 * count requests, change data and inject faults.
 *
 * libmicrohttpd runs one thread per connection, so a handler may sleep (added
 * latency) or block (the "hang" fault) without stalling other clients. One
 * mutex guards all mutable state; no handler holds it while sleeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "simdata.h"

#define API_PREFIX "/interlink/v1beta1/regions/"
#define LOG_MAX 20000
#define UPLOAD_MAX (16u << 20)

enum fault_kind {
	F_STATUS, F_HTML, F_RATE_LIMIT, F_TRUNCATE, F_INVALID_JSON, F_SHAPE,
	F_RESET, F_HANG, F_LATENCY, F_BODY, F_HUGE,
};
static const char *const fault_names[] = {
	"status", "html", "rate_limit", "truncate", "invalid_json", "shape",
	"reset", "hang", "latency", "body", "huge",
};

enum endpoint { E_LIST, E_GET, E_POPS, E_POP, E_OTHER };
static const char *const endpoint_names[] = {"list", "get", "pops_list",
					     "pop_get", "other"};

struct fault {
	enum fault_kind kind;
	long remaining;          /* < 0: until cleared */
	int match;               /* -1 any API endpoint, else enum endpoint */
	char *region;            /* NULL: any */
	long page;               /* > 0: only requests for this page */
	int status;
	char *retry_after;
	char *body;
	char *body_file;         /* raw bytes served from this file */
	char *content_type;
	char *shape;
	long latency_ms;
	size_t size;
	bool chunked, json;
	struct fault *next;
};

struct logent {
	double t_ms;
	uint64_t seq;
	char method[8];
	char *path, *query, *ua, *accept, *accept_encoding;
	const char *endpoint, *auth, *fault;
	int status;
};

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct simdata *data;
	char *token;             /* NULL: any non-empty token */
	char **forbid;
	size_t nforbid;
	unsigned max_page_size;
	long latency_ms;
	struct fault *faults;
	uint64_t fault_epoch;    /* bumped when faults are cleared */
	uint64_t counts[E_OTHER + 1];
	uint64_t total, errors, unauthorized, faults_applied;
	uint64_t tcp_connections;  /* accepted TCP connections */
	uint64_t api_connections;  /* of which carried API requests */
	struct logent log[LOG_MAX];
	uint64_t nlog;           /* total logged; ring index = nlog % LOG_MAX */
	uint64_t log_floor;      /* entries up to this seq were reset away */
	uint64_t seq;
	bool stopping;
	struct timespec t0;
};

struct reqctx {
	char *body;
	size_t len;
	bool too_big;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Sleeps ms (or until the simulator stops). Called without the lock. */
static void sim_sleep(struct sim *s, long ms)
{
	struct timespec until;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
}

static void fault_free(struct fault *f)
{
	if (!f)
		return;
	free(f->region);
	free(f->retry_after);
	free(f->body);
	free(f->body_file);
	free(f->content_type);
	free(f->shape);
	free(f);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct fault *fault_copy(const struct fault *f)
{
	struct fault *c = malloc(sizeof *c);

	if (!c)
		return NULL;
	*c = *f;
	c->region = dup_or_null(f->region);
	c->retry_after = dup_or_null(f->retry_after);
	c->body = dup_or_null(f->body);
	c->body_file = dup_or_null(f->body_file);
	c->content_type = dup_or_null(f->content_type);
	c->shape = dup_or_null(f->shape);
	c->next = NULL;
	return c;
}

/* Takes the first fault that applies to this request, counting it down. */
static struct fault *take_fault(struct sim *s, enum endpoint e,
				const char *region, long page)
{
	for (struct fault **pp = &s->faults; *pp; pp = &(*pp)->next) {
		struct fault *f = *pp, *c;

		if (f->match >= 0 && f->match != (int)e)
			continue;
		if (f->region && (!region || strcmp(f->region, region) != 0))
			continue;
		if (f->page > 0 && f->page != page)
			continue;
		c = fault_copy(f);
		if (f->remaining > 0 && --f->remaining == 0) {
			*pp = f->next;
			fault_free(f);
		}
		return c;
	}
	return NULL;
}

static void log_request(struct sim *s, struct MHD_Connection *conn,
			const char *method, const char *url, const char *query,
			enum endpoint e, const char *auth,
			const struct fault *f, int status)
{
	struct logent *l;
	const char *h;

	pthread_mutex_lock(&s->lock);
	l = &s->log[s->nlog % LOG_MAX];
	free(l->path);
	free(l->query);
	free(l->ua);
	free(l->accept);
	free(l->accept_encoding);
	memset(l, 0, sizeof *l);
	l->t_ms = ms_since(&s->t0);
	l->seq = ++s->seq;
	snprintf(l->method, sizeof l->method, "%s", method);
	l->path = strdup(url);
	l->query = strdup(query ? query : "");
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	l->ua = strdup(h ? h : "");
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	l->accept = strdup(h ? h : "");
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					"Accept-Encoding");
	l->accept_encoding = strdup(h ? h : "");
	l->endpoint = endpoint_names[e];
	l->auth = auth;
	l->fault = f ? fault_names[f->kind] : NULL;
	l->status = status;
	s->nlog++;
	if (status >= 400 || status == 0)
		s->errors++;
	pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result send_buf(struct MHD_Connection *conn, int status,
				const char *ctype, const char *body,
				size_t len, uint64_t seq,
				const char *retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char rid[64];

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	snprintf(rid, sizeof rid, "00000000-0000-4000-8000-%012" PRIx64, seq);
	MHD_add_response_header(r, "X-Request-Id", rid);
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	if (status == 429)
		MHD_add_response_header(r, "x-envoy-ratelimited", "true");
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status,
				 json_t *body, uint64_t seq)
{
	char *txt = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	enum MHD_Result ret;

	json_decref(body);
	if (!txt)
		return MHD_NO;
	ret = send_buf(conn, status, "application/json", txt, strlen(txt),
		       seq, NULL);
	free(txt);
	return ret;
}

/* Streams a body cut short, then resets the TCP connection. */
struct reset_body {
	struct MHD_Connection *conn;
	char *body;
	size_t len, cut;
};

static ssize_t reset_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct reset_body *rb = cls;
	const union MHD_ConnectionInfo *ci;

	if (pos < rb->cut) {
		size_t n = rb->cut - (size_t)pos;
		if (n > max)
			n = max;
		memcpy(buf, rb->body + pos, n);
		return (ssize_t)n;
	}
	ci = MHD_get_connection_info(rb->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg,
			   sizeof lg);
	}
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void reset_free(void *cls)
{
	struct reset_body *rb = cls;
	free(rb->body);
	free(rb);
}

/* A syntactically valid list body of about `size` bytes, generated lazily. */
struct huge_body {
	uint64_t total, nitems;
};
static const char huge_head[] = "{\"connections\":[";
static const char huge_item[] = "{\"id\":\"00000000-0000-4000-8000-"
				"000000000000\",\"name\":\"padding\"},";
static const char huge_tail[] = "{\"id\":\"00000000-0000-4000-8000-"
				"000000000001\",\"name\":\"end\"}],"
				"\"total_count\":1}";

static ssize_t huge_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct huge_body *hb = cls;
	const uint64_t hl = sizeof huge_head - 1, il = sizeof huge_item - 1;
	const uint64_t tl = sizeof huge_tail - 1;
	size_t n = 0;

	while (n < max && pos < hb->total) {
		const char *src;
		uint64_t off, avail;

		if (pos < hl) {
			src = huge_head;
			off = pos;
			avail = hl - off;
		} else if (pos < hl + hb->nitems * il) {
			src = huge_item;
			off = (pos - hl) % il;
			avail = il - off;
		} else {
			src = huge_tail;
			off = pos - hl - hb->nitems * il;
			avail = tl - off;
		}
		if (avail > max - n)
			avail = max - n;
		memcpy(buf + n, src + off, (size_t)avail);
		n += (size_t)avail;
		pos += avail;
	}
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result send_huge(struct MHD_Connection *conn,
				 const struct fault *f)
{
	struct huge_body *hb = malloc(sizeof *hb);
	struct MHD_Response *r;
	enum MHD_Result ret;
	uint64_t fixed = sizeof huge_head + sizeof huge_tail - 2;
	uint64_t size = f->size > fixed ? f->size : fixed;

	if (!hb)
		return MHD_NO;
	hb->nitems = (size - fixed) / (sizeof huge_item - 1);
	hb->total = fixed + hb->nitems * (sizeof huge_item - 1);
	r = MHD_create_response_from_callback(
		f->chunked ? MHD_SIZE_UNKNOWN : hb->total, 64 * 1024,
		huge_reader, hb, free);
	if (!r) {
		free(hb);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* Rewrites a good body into a wrong shape the client must reject. */
static json_t *apply_shape(json_t *body, const char *shape)
{
	json_t *arr = json_object_get(body, "connections");

	if (!shape)
		return body;
	if (strcmp(shape, "connections_not_array") == 0 && arr) {
		json_object_set_new(body, "connections", json_object());
	} else if (strcmp(shape, "total_count_string") == 0) {
		json_t *tc = json_object_get(body, "total_count");
		json_object_set_new(body, "total_count", json_sprintf(
			"%" JSON_INTEGER_FORMAT, json_integer_value(tc)));
	} else if (strcmp(shape, "id_not_string") == 0) {
		json_t *c = arr ? json_array_get(arr, 0) : body;
		if (json_is_object(c)) {
			json_t *copy = json_deep_copy(c);
			json_object_set_new(copy, "id", json_integer(12345));
			if (arr)
				json_array_set_new(arr, 0, copy);
			else {
				json_decref(body);
				return copy;
			}
		}
	} else if (strcmp(shape, "not_object") == 0) {
		json_decref(body);
		return json_array();
	}
	return body;
}

struct split {
	const char *region;
	enum endpoint e;
	const char *id;
	char buf[512];
};

/* Splits an API path into region / endpoint / id. */
static bool split_api_path(const char *url, struct split *sp)
{
	char *p, *slash, *rest;

	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	    strlen(url) >= sizeof sp->buf)
		return false;
	snprintf(sp->buf, sizeof sp->buf, "%s", url + strlen(API_PREFIX));
	p = sp->buf;
	slash = strchr(p, '/');
	if (!slash)
		return false;
	*slash = '\0';
	sp->region = p;
	rest = slash + 1;
	sp->id = NULL;
	if (strncmp(rest, "dedicated-connections", 21) == 0) {
		rest += 21;
		sp->e = E_LIST;
	} else if (strncmp(rest, "pops", 4) == 0) {
		rest += 4;
		sp->e = E_POPS;
	} else {
		return false;
	}
	if (*rest == '\0')
		return true;
	if (*rest != '/' || rest[1] == '\0' || strchr(rest + 1, '/'))
		return false;
	sp->id = rest + 1;
	sp->e = sp->e == E_LIST ? E_GET : E_POP;
	return true;
}

struct qcollect {
	struct sim_kv kv[128];
	size_t n;
	char text[4096];
	size_t tlen;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct qcollect *q = cls;
	int w;

	(void)kind;
	if (q->n < sizeof q->kv / sizeof q->kv[0])
		q->kv[q->n++] = (struct sim_kv){key, value};
	w = snprintf(q->text + q->tlen, sizeof q->text - q->tlen, "%s%s=%s",
		     q->tlen ? "&" : "", key, value ? value : "");
	if (w > 0 && q->tlen + (size_t)w < sizeof q->text)
		q->tlen += (size_t)w;
	return MHD_YES;
}

static enum MHD_Result fault_reply(struct sim *s, struct MHD_Connection *conn,
				   const struct fault *f, uint64_t seq,
				   int *status)
{
	switch (f->kind) {
	case F_STATUS:
		*status = f->status ? f->status : 503;
		if (f->body)
			return send_buf(conn, *status, f->content_type ?
					f->content_type : "application/json",
					f->body, strlen(f->body), seq, NULL);
		return send_json(conn, *status, simdata_error_body(
			"service_unavailable", "the service is temporarily "
			"unavailable", NULL, NULL), seq);
	case F_HTML: {
		static const char html[] =
			"<html>\r\n<head><title>502 Bad Gateway</title></head>"
			"\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
			"</center>\r\n</body>\r\n</html>\r\n";
		*status = f->status ? f->status : 502;
		return send_buf(conn, *status, "text/html", html,
				sizeof html - 1, seq, NULL);
	}
	case F_RATE_LIMIT:
		*status = 429;
		if (f->json) {
			char *t = json_dumps(simdata_error_body(
				"too_many_requests", "rate limit exceeded",
				NULL, NULL), JSON_COMPACT);
			enum MHD_Result r = send_buf(conn, 429,
				"application/json", t, strlen(t), seq,
				f->retry_after);
			free(t);
			return r;
		}
		return send_buf(conn, 429, NULL, "", 0, seq, f->retry_after);
	case F_INVALID_JSON:
		*status = 200;
		return send_buf(conn, 200, "application/json",
				"{\"connections\": [{\"id\": ", 24, seq, NULL);
	case F_BODY:
		*status = f->status ? f->status : 200;
		if (f->body_file) {
			FILE *fp = fopen(f->body_file, "rb");
			char *data = NULL;
			size_t len = 0;
			enum MHD_Result r;
			if (fp) {
				fseek(fp, 0, SEEK_END);
				len = (size_t)ftell(fp);
				rewind(fp);
				data = malloc(len + 1);
				if (data && fread(data, 1, len, fp) != len)
					len = 0;
				fclose(fp);
			}
			r = send_buf(conn, *status, f->content_type ?
				     f->content_type : "application/json",
				     data ? data : "", data ? len : 0, seq,
				     NULL);
			free(data);
			return r;
		}
		return send_buf(conn, *status, f->content_type ?
				f->content_type : "application/json",
				f->body ? f->body : "",
				f->body ? strlen(f->body) : 0, seq, NULL);
	case F_HUGE:
		*status = 200;
		return send_huge(conn, f);
	case F_HANG: {
		/* Never answer: hold the request until the fault is cleared or
		 * the simulator stops (bounded, so threads are not leaked
		 * forever). */
		struct timespec until;
		uint64_t epoch;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3600;
		pthread_mutex_lock(&s->lock);
		epoch = s->fault_epoch;
		while (!s->stopping && s->fault_epoch == epoch &&
		       pthread_cond_timedwait(&s->cond, &s->lock, &until) !=
			       ETIMEDOUT)
			;
		pthread_mutex_unlock(&s->lock);
		*status = 0;
		return MHD_NO; /* close without an answer */
	}
	default:
		return MHD_YES; /* handled by the caller */
	}
}

static enum MHD_Result handle_api(struct sim *s, struct MHD_Connection *conn,
				  const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct split sp;
	struct qcollect q = {.n = 0};
	struct fault *f = NULL;
	struct sim_reply rep;
	const char *tok, *auth;
	enum MHD_Result ret;
	long latency;
	uint64_t seq;
	int status = 0;
	char *txt = NULL;
	bool forbidden = false;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg,
				  &q);
	if (!split_api_path(url, &sp)) {
		sp.region = NULL;
		sp.e = E_OTHER;
	}

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	pthread_mutex_lock(&s->lock);
	if (ci && ci->socket_context && !*(bool *)ci->socket_context) {
		*(bool *)ci->socket_context = true;
		s->api_connections++;
	}
	s->total++;
	seq = s->seq + 1;
	s->counts[sp.e]++;
	if (sp.e != E_OTHER) {
		const char *pg = MHD_lookup_connection_value(
			conn, MHD_GET_ARGUMENT_KIND, "page");
		f = take_fault(s, sp.e, sp.region, pg ? atol(pg) : 1);
	}
	if (f)
		s->faults_applied++;
	latency = s->latency_ms;
	pthread_mutex_unlock(&s->lock);

	sim_sleep(s, latency + (f && f->kind == F_LATENCY ? f->latency_ms : 0));

	tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					  "X-Auth-Token");
	auth = !tok ? "none" : "bad";

	if (f && f->kind != F_LATENCY && f->kind != F_TRUNCATE &&
	    f->kind != F_SHAPE && f->kind != F_RESET) {
		ret = fault_reply(s, conn, f, seq, &status);
		goto out;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = 405;
		ret = send_json(conn, 405, simdata_error_body(
			"method_not_allowed", "method not allowed", NULL, NULL),
			seq);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	if (tok && *tok && (!s->token || strcmp(tok, s->token) == 0))
		auth = "ok";
	for (size_t i = 0; sp.region && i < s->nforbid; i++)
		if (strcmp(s->forbid[i], sp.region) == 0)
			forbidden = true;
	if (strcmp(auth, "ok") != 0) {
		s->unauthorized++;
		rep.status = 401;
		rep.body = json_pack("{s:s, s:s, s:s, s:s}", "message",
				     "authentication is denied", "method",
				     "api_key", "reason", "invalid_argument",
				     "type", "denied_authentication");
	} else if (sp.e == E_OTHER) {
		rep.status = 404;
		rep.body = simdata_error_body("not_found", "route not found",
					      NULL, NULL);
	} else if (forbidden) {
		rep.status = 403;
		rep.body = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "message",
				     "insufficient permissions", "type",
				     "permissions_denied", "details",
				     "resource", "dedicated_connection",
				     "action", "read");
	} else if (sp.e == E_LIST) {
		rep = simdata_list(s->data, sp.region, q.kv, q.n,
				   s->max_page_size);
	} else if (sp.e == E_GET) {
		rep = simdata_get(s->data, sp.region, sp.id);
	} else if (sp.e == E_POPS) {
		rep = simdata_pops(s->data, sp.region, q.kv, q.n,
				   s->max_page_size);
	} else {
		rep = simdata_pop(s->data, sp.region, sp.id);
	}
	if (f && f->kind == F_SHAPE && rep.status == 200)
		rep.body = apply_shape(rep.body, f->shape);
	/* Serialise under the lock: the reply is one consistent snapshot. */
	txt = json_dumps(rep.body, JSON_COMPACT | JSON_ENCODE_ANY);
	pthread_mutex_unlock(&s->lock);
	json_decref(rep.body);
	if (!txt)
		return MHD_NO;
	status = rep.status;

	if (f && f->kind == F_RESET) {
		struct reset_body *rb = calloc(1, sizeof *rb);
		struct MHD_Response *r;

		if (!rb)
			goto oom;
		rb->conn = conn;
		rb->body = txt;
		rb->len = strlen(txt);
		rb->cut = rb->len / 2;
		txt = NULL;
		r = MHD_create_response_from_callback(rb->len, 4096,
						      reset_reader, rb,
						      reset_free);
		if (!r) {
			reset_free(rb);
			goto oom;
		}
		MHD_add_response_header(r, "Content-Type", "application/json");
		ret = MHD_queue_response(conn, (unsigned)status, r);
		MHD_destroy_response(r);
		goto out;
	}
	if (f && f->kind == F_TRUNCATE) {
		size_t len = strlen(txt);
		ret = send_buf(conn, status, "application/json", txt,
			       len / 2, seq, NULL);
		goto out;
	}
	ret = send_buf(conn, status, "application/json", txt, strlen(txt),
		       seq, NULL);
out:
	log_request(s, conn, method, url, q.text, sp.e, auth, f, status);
	free(txt);
	fault_free(f);
	return ret;
oom:
	free(txt);
	fault_free(f);
	return MHD_NO;
}

static int parse_match(const char *m)
{
	if (!m || strcmp(m, "any") == 0)
		return -1;
	for (int e = 0; e < E_OTHER; e++)
		if (strcmp(m, endpoint_names[e]) == 0)
			return e;
	if (strcmp(m, "pops") == 0)
		return E_POPS;
	if (strcmp(m, "pop") == 0)
		return E_POP;
	return -2;
}

static const char *str_or_null(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* POST /_sim/faults {"kind": ..., "count": K, "match": ..., ...} */
static int add_fault(struct sim *s, json_t *spec, char *err, size_t errlen)
{
	struct fault f, *c, **pp;
	const char *kind = str_or_null(spec, "kind");
	char rabuf[32];
	json_t *ra = json_object_get(spec, "retry_after");
	size_t k;

	memset(&f, 0, sizeof f);
	for (k = 0; kind && k < sizeof fault_names / sizeof *fault_names; k++)
		if (strcmp(kind, fault_names[k]) == 0)
			break;
	if (!kind || k == sizeof fault_names / sizeof *fault_names) {
		snprintf(err, errlen, "unknown fault kind");
		return -EINVAL;
	}
	f.kind = (enum fault_kind)k;
	f.remaining = json_integer_value(json_object_get(spec, "count"));
	if (f.remaining <= 0)
		f.remaining = -1;
	f.match = parse_match(str_or_null(spec, "match"));
	if (f.match == -2) {
		snprintf(err, errlen, "unknown match");
		return -EINVAL;
	}
	f.status = (int)json_integer_value(json_object_get(spec, "status"));
	f.page = (long)json_integer_value(json_object_get(spec, "page"));
	f.latency_ms = (long)json_integer_value(json_object_get(spec, "ms"));
	f.size = (size_t)json_integer_value(json_object_get(spec, "size"));
	f.chunked = json_is_true(json_object_get(spec, "chunked"));
	f.json = json_is_true(json_object_get(spec, "json"));
	f.region = (char *)str_or_null(spec, "region");
	f.body = (char *)str_or_null(spec, "body");
	f.body_file = (char *)str_or_null(spec, "body_file");
	f.content_type = (char *)str_or_null(spec, "content_type");
	f.shape = (char *)str_or_null(spec, "shape");
	f.retry_after = (char *)json_string_value(ra);
	if (json_is_integer(ra)) {
		snprintf(rabuf, sizeof rabuf, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(ra));
		f.retry_after = rabuf;
	}
	c = fault_copy(&f); /* owns copies of every string */
	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	for (pp = &s->faults; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static json_t *log_json(struct sim *s, uint64_t since)
{
	json_t *arr = json_array();
	uint64_t first = s->nlog > LOG_MAX ? s->nlog - LOG_MAX : 0;

	for (uint64_t i = first; i < s->nlog; i++) {
		struct logent *l = &s->log[i % LOG_MAX];
		if (l->seq <= since || l->seq <= s->log_floor)
			continue;
		json_array_append_new(arr, json_pack(
			"{s:f, s:I, s:s, s:s, s:s, s:s, s:s?, s:i, s:s, s:s, "
			"s:s, s:s}",
			"t_ms", l->t_ms, "seq", (json_int_t)l->seq,
			"method", l->method, "path", l->path,
			"query", l->query, "endpoint", l->endpoint,
			"fault", l->fault, "status", l->status,
			"auth", l->auth, "user_agent", l->ua,
			"accept", l->accept,
			"accept_encoding", l->accept_encoding));
	}
	return arr;
}

static json_t *counters_json(struct sim *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "tcp_connections", (json_int_t)s->tcp_connections,
			 "api_connections", (json_int_t)s->api_connections,
			 "total", (json_int_t)s->total,
			 "list", (json_int_t)s->counts[E_LIST],
			 "get", (json_int_t)s->counts[E_GET],
			 "pops_list", (json_int_t)s->counts[E_POPS],
			 "pop_get", (json_int_t)s->counts[E_POP],
			 "errors", (json_int_t)s->errors,
			 "unauthorized", (json_int_t)s->unauthorized,
			 "faults", (json_int_t)s->faults_applied);
}

/* Test controls: see README "Simulator" for the list. */
static enum MHD_Result handle_control(struct sim *s,
				      struct MHD_Connection *conn,
				      const char *url, const char *method,
				      struct reqctx *rc)
{
	const char *path = url + strlen("/_sim");
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;
	bool del = strcmp(method, "DELETE") == 0;
	json_t *in = NULL, *out = NULL;
	json_error_t je;
	int status = 200;
	char err[256] = "";
	char region[128], id[256];
	int off = 0;

	if (rc->too_big)
		return send_json(conn, 413, simdata_error_body(
			"invalid_arguments", "body too large", NULL, NULL), 0);
	if (rc->len) {
		in = json_loadb(rc->body, rc->len, JSON_ALLOW_NUL, &je);
		if (!in)
			return send_json(conn, 400, simdata_error_body(
				"invalid_arguments", je.text, NULL, NULL), 0);
	}

	if (strcmp(path, "/counters") == 0 && get) {
		pthread_mutex_lock(&s->lock);
		out = counters_json(s);
		pthread_mutex_unlock(&s->lock);
	} else if (strcmp(path, "/reset") == 0 && post) {
		pthread_mutex_lock(&s->lock);
		s->total = s->errors = s->unauthorized = 0;
		s->faults_applied = 0;
		s->tcp_connections = 0;
		s->api_connections = 0;
		s->log_floor = s->seq;
		memset(s->counts, 0, sizeof s->counts);
		pthread_mutex_unlock(&s->lock);
		out = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(path, "/requests") == 0 && get) {
		const char *sv = MHD_lookup_connection_value(
			conn, MHD_GET_ARGUMENT_KIND, "since");
		pthread_mutex_lock(&s->lock);
		out = log_json(s, sv ? strtoull(sv, NULL, 10) : 0);
		pthread_mutex_unlock(&s->lock);
	} else if (strcmp(path, "/faults") == 0 && post) {
		if (add_fault(s, in, err, sizeof err) < 0)
			status = 400;
		else
			out = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(path, "/faults") == 0 && del) {
		pthread_mutex_lock(&s->lock);
		while (s->faults) {
			struct fault *f = s->faults;
			s->faults = f->next;
			fault_free(f);
		}
		s->fault_epoch++;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		out = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(path, "/latency") == 0 && post) {
		pthread_mutex_lock(&s->lock);
		s->latency_ms = (long)json_integer_value(
			json_object_get(in, "ms"));
		pthread_mutex_unlock(&s->lock);
		out = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(path, "/token") == 0 && post &&
		   json_is_string(json_object_get(in, "token"))) {
		pthread_mutex_lock(&s->lock);
		free(s->token);
		s->token = strdup(str_or_null(in, "token"));
		pthread_mutex_unlock(&s->lock);
		out = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(path, "/data") == 0 && get) {
		pthread_mutex_lock(&s->lock);
		out = simdata_dump(s->data);
		pthread_mutex_unlock(&s->lock);
	} else if (sscanf(path, "/regions/%127[^/]/connections%n", region,
			  &off) == 1 && off > 0 && path[off] == '/' &&
		   path[off + 1] && (post || del)) {
		const char *cid = path + off + 1;
		int rc2;
		pthread_mutex_lock(&s->lock);
		rc2 = del ? simdata_delete(s->data, region, cid)
			  : simdata_patch(s->data, region, cid, in);
		pthread_mutex_unlock(&s->lock);
		if (rc2 < 0) {
			status = rc2 == -ENOENT ? 404 : 400;
			snprintf(err, sizeof err, "%s", strerror(-rc2));
		} else {
			out = json_pack("{s:b}", "ok", 1);
		}
	} else if (sscanf(path, "/regions/%127[^/]/connections%n", region,
			  &off) == 1 && off > 0 && path[off] == '\0' && post) {
		int rc2;
		pthread_mutex_lock(&s->lock);
		rc2 = simdata_add(s->data, region, in, id, sizeof id);
		pthread_mutex_unlock(&s->lock);
		if (rc2 < 0) {
			status = rc2 == -ENOENT ? 404 : 400;
			snprintf(err, sizeof err, "%s", strerror(-rc2));
		} else {
			out = json_pack("{s:s}", "id", id);
		}
	} else {
		status = 404;
		snprintf(err, sizeof err, "unknown control");
	}
	json_decref(in);
	if (!out)
		out = simdata_error_body("invalid_arguments", err, NULL, NULL);
	return send_json(conn, status, out, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct sim *s = cls;
	struct reqctx *rc = *req_cls;

	(void)version;
	if (!rc) {
		rc = calloc(1, sizeof *rc);
		if (!rc)
			return MHD_NO;
		*req_cls = rc;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rc->len + *upload_size > UPLOAD_MAX) {
			rc->too_big = true;
		} else {
			char *nb = realloc(rc->body, rc->len + *upload_size);
			if (!nb)
				return MHD_NO;
			memcpy(nb + rc->len, upload, *upload_size);
			rc->body = nb;
			rc->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (strncmp(url, "/_sim/", 6) == 0)
		return handle_control(s, conn, url, method, rc);
	return handle_api(s, conn, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct reqctx *rc = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rc) {
		free(rc->body);
		free(rc);
		*req_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_ctx, enum MHD_ConnectionNotificationCode t)
{
	struct sim *s = cls;

	(void)conn;
	if (t == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_ctx);
		*socket_ctx = NULL;
		return;
	}
	/* A flag per TCP connection: has it carried an API request? */
	*socket_ctx = calloc(1, sizeof(bool));
	pthread_mutex_lock(&s->lock);
	s->tcp_connections++;
	pthread_mutex_unlock(&s->lock);
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

static void usage(FILE *out)
{
	fputs(
"usage: interlink-sim [OPTIONS]\n"
"A local stand-in for the Scaleway InterLink API, for demos and tests.\n"
"\n"
"  --listen ADDR:PORT     address to listen on (default 127.0.0.1:0; port 0\n"
"                         picks a free port). Loopback only unless\n"
"                         --allow-remote is given.\n"
"  --allow-remote         allow a non-loopback --listen address\n"
"  --regions LIST         regions to serve (default fr-par,it-mil,nl-ams,pl-waw)\n"
"  --connections N        generated connections per region (default 20)\n"
"  --seed S               seed of the generated data (default 1)\n"
"  --data FILE            serve connections from a JSON file instead\n"
"  --token TOKEN          the only X-Auth-Token accepted (default: any\n"
"                         non-empty token)\n"
"  --forbid LIST          regions answered with 403 permissions_denied\n"
"  --max-page-size N      server-side page cap (default 100)\n"
"  --latency MS           delay added to every API request (default 0)\n"
"  --help, --version\n"
"\n"
"The first line printed is 'interlink-sim listening on http://ADDR:PORT'.\n"
"Test controls live under /_sim/: GET counters, POST reset, GET requests,\n"
"POST/DELETE faults, POST latency, POST token, GET data,\n"
"POST/DELETE regions/R/connections/ID, POST regions/R/connections.\n",
	      out);
}

static char **split_list(const char *csv, size_t *n)
{
	char *copy = strdup(csv), *save = NULL, *tok;
	char **v = NULL;

	*n = 0;
	if (!copy)
		return NULL;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char **nv = realloc(v, (*n + 1) * sizeof *v);
		if (!nv)
			break;
		v = nv;
		v[(*n)++] = strdup(tok);
	}
	free(copy);
	return v;
}

/* Everything main allocated; safe on a partly built sim. */
static void sim_free(struct sim *s)
{
	if (!s)
		return;
	simdata_free(s->data);
	while (s->faults) {
		struct fault *f = s->faults;
		s->faults = f->next;
		fault_free(f);
	}
	for (size_t i = 0; i < LOG_MAX; i++) {
		free(s->log[i].path);
		free(s->log[i].query);
		free(s->log[i].ua);
		free(s->log[i].accept);
		free(s->log[i].accept_encoding);
	}
	for (size_t i = 0; i < s->nforbid; i++)
		free(s->forbid[i]);
	free(s->forbid);
	free(s->token);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"allow-remote", no_argument, NULL, 'A'},
		{"regions", required_argument, NULL, 'r'},
		{"connections", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"data", required_argument, NULL, 'd'},
		{"token", required_argument, NULL, 't'},
		{"forbid", required_argument, NULL, 'f'},
		{"max-page-size", required_argument, NULL, 'm'},
		{"latency", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *listen = "127.0.0.1:0", *regions =
		"fr-par,it-mil,nl-ams,pl-waw", *data = NULL;
	unsigned long nconn = 20, maxps = 100;
	unsigned long long seed = 1;
	bool allow_remote = false;
	struct sim *s = calloc(1, sizeof *s);
	struct addrinfo hints, *ai = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	char host[256], *port, errbuf[512];
	sigset_t sigs;
	int c, sig, rc, li = 0, status = 2;

	if (!s)
		return 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'l': listen = optarg; break;
		case 'A': allow_remote = true; break;
		case 'r': regions = optarg; break;
		case 'd': data = optarg; break;
		case 't': s->token = strdup(optarg); break;
		case 'f': s->forbid = split_list(optarg, &s->nforbid); break;
		case 'n': nconn = strtoul(optarg, &end, 10); break;
		case 's': seed = strtoull(optarg, &end, 10); break;
		case 'm': maxps = strtoul(optarg, &end, 10); break;
		case 'L': s->latency_ms = strtol(optarg, &end, 10); break;
		case 'h': usage(stdout); status = 0; goto out;
		case 'V': puts("interlink-sim " INTERLINKFS_VERSION);
			status = 0;
			goto out;
		default: usage(stderr); goto out;
		}
		if (end && *end) {
			fprintf(stderr, "interlink-sim: --%s: not a number: %s\n",
				opts[li].name, optarg);
			goto out;
		}
	}
	if (optind != argc || nconn > 10000000 || maxps > 1000 ||
	    s->latency_ms < 0) {
		usage(stderr);
		goto out;
	}
	s->max_page_size = (unsigned)maxps;

	snprintf(host, sizeof host, "%s", listen);
	port = strrchr(host, ':');
	if (!port) {
		fprintf(stderr, "interlink-sim: --listen wants ADDR:PORT\n");
		goto out;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "interlink-sim: --listen %s: %s\n", listen,
			gai_strerror(rc));
		ai = NULL;
		goto out;
	}
	if (!is_loopback(ai->ai_addr) && !allow_remote) {
		fprintf(stderr, "interlink-sim: refusing to listen on %s: not "
			"a loopback address (use --allow-remote)\n", host);
		goto out;
	}

	if (data)
		rc = simdata_load(&s->data, data, errbuf, sizeof errbuf);
	else
		rc = simdata_generate(&s->data, regions, (unsigned)nconn, seed);
	if (rc < 0) {
		fprintf(stderr, "interlink-sim: %s\n",
			data ? errbuf : strerror(-rc));
		status = 1;
		goto out;
	}

	/* Signals are taken synchronously by this thread; the server threads
	 * inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);

	d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_POLL | MHD_USE_ERROR_LOG |
		(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_CONNECTION_LIMIT, 4000u,
		MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "interlink-sim: cannot listen on %s\n", listen);
		status = 1;
		goto out;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (ai->ai_family == AF_INET6)
		printf("interlink-sim listening on http://[%s]:%u\n", host,
		       di ? di->port : 0);
	else
		printf("interlink-sim listening on http://%s:%u\n", host,
		       di ? di->port : 0);
	fflush(stdout);
	freeaddrinfo(ai);
	ai = NULL;

	do {
		rc = sigwait(&sigs, &sig);
	} while (rc != 0);

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(d);
	status = 0;
out:
	if (ai)
		freeaddrinfo(ai);
	sim_free(s);
	return status;
}
