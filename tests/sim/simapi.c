/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simapi: interlink-sim's answers to API requests: the route, the key, the
 * faults that apply, the data's answer, and the request log.
 */
#include "sim_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void log_request(struct sim *s, struct MHD_Connection *conn,
			const char *method, const char *url, const char *query,
			int e, const char *auth, const char *account,
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
	l->endpoint = sim_endpoint_name(e);
	l->auth = auth;
	l->account = account;
	l->fault = f ? sim_fault_name(f->kind) : NULL;
	l->status = status;
	s->nlog++;
	if (status >= 400 || status == 0)
		s->errors++;
	pthread_mutex_unlock(&s->lock);
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


/* An API path: its region, collection and id. */
struct route {
	const char *region;
	enum sim_coll coll;
	const char *id;           /* NULL: the list */
	int e;                    /* the endpoint, EP_OTHER if none */
	char buf[512];
};

static void route_of(const char *url, struct route *rt)
{
	char *slash, *rest, *id;
	int c;

	memset(rt, 0, sizeof *rt);
	rt->e = EP_OTHER;
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	    strlen(url) >= sizeof rt->buf)
		return;
	snprintf(rt->buf, sizeof rt->buf, "%s", url + strlen(API_PREFIX));
	slash = strchr(rt->buf, '/');
	if (!slash)
		return;
	*slash = '\0';
	rest = slash + 1;
	id = strchr(rest, '/');
	if (id) {
		*id++ = '\0';
		if (!*id || strchr(id, '/'))
			return;
	}
	if ((c = simdata_coll_of_path(rest)) < 0)
		return;
	rt->region = rt->buf;
	rt->coll = (enum sim_coll)c;
	rt->id = id;
	rt->e = id ? EP_GET(c) : EP_LIST(c);
}

/* Counts the request, and takes the fault that applies to it. */
static struct fault *account(struct sim *s, struct MHD_Connection *conn,
			     const struct route *rt, uint64_t *seq,
			     long *latency)
{
	const union MHD_ConnectionInfo *ci;
	struct fault *f = NULL;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	pthread_mutex_lock(&s->lock);
	if (ci && ci->socket_context && !*(bool *)ci->socket_context) {
		*(bool *)ci->socket_context = true;
		s->api_connections++;
	}
	s->total++;
	*seq = s->seq + 1;
	s->counts[rt->e]++;
	if (rt->e != EP_OTHER) {
		const char *pg = MHD_lookup_connection_value(
			conn, MHD_GET_ARGUMENT_KIND, "page");
		f = sim_fault_take(s, rt->e, rt->region, pg ? atol(pg) : 1);
	}
	if (f)
		s->faults_applied++;
	*latency = s->latency_ms + (f && f->kind == F_LATENCY ?
				    f->latency_ms : 0);
	pthread_mutex_unlock(&s->lock);
	return f;
}

static json_t *denied_body(void)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "message",
			 "authentication is denied", "method", "api_key",
			 "reason", "invalid_argument", "type",
			 "denied_authentication");
}

static json_t *forbidden_body(void)
{
	return json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "message",
			 "insufficient permissions", "type",
			 "permissions_denied", "details", "resource",
			 "dedicated_connection", "action", "read");
}

/* The answer from the data of the token's account, serialised under the
 * lock so that it is one consistent snapshot. *auth says how the key
 * fared, *account whose it is. NULL when out of memory. */
static char *answer(struct sim *s, const struct route *rt, const char *tok,
		    const struct qcollect *q, const struct fault *f,
		    const char **auth, const char **account, int *status)
{
	const struct simdata *d;
	struct sim_reply rep;
	bool forbidden = false;
	char *txt;

	pthread_mutex_lock(&s->lock);
	d = sim_account_auth(s, tok, auth, account);
	for (size_t i = 0; rt->region && i < s->nforbid; i++)
		if (strcmp(s->forbid[i], rt->region) == 0)
			forbidden = true;
	if (!d) {
		s->unauthorized++;
		rep = (struct sim_reply){401, denied_body()};
	} else if (rt->e == EP_OTHER) {
		rep = (struct sim_reply){404, simdata_error_body(
			"not_found", "route not found", NULL, NULL)};
	} else if (forbidden) {
		rep = (struct sim_reply){403, forbidden_body()};
	} else if (rt->id) {
		rep = simdata_get(d, rt->coll, rt->region, rt->id);
	} else {
		rep = simdata_list(d, rt->coll, rt->region, q->kv, q->n,
				   s->max_page_size);
	}
	if (f && f->kind == F_SHAPE && rep.status == 200)
		rep.body = sim_fault_shape(rep.body, f->shape,
					   simdata_key(rt->coll));
	txt = json_dumps(rep.body, JSON_COMPACT | JSON_ENCODE_ANY);
	pthread_mutex_unlock(&s->lock);
	json_decref(rep.body);
	*status = rep.status;
	return txt;
}

enum MHD_Result sim_handle_api(struct sim *s, struct MHD_Connection *conn,
			       const char *url, const char *method)
{
	struct route rt;
	struct qcollect q = {.n = 0};
	struct fault *f;
	const char *tok, *auth, *who = NULL;
	enum MHD_Result ret;
	long latency;
	uint64_t seq;
	int status = 0;
	char *txt;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg,
				  &q);
	route_of(url, &rt);
	f = account(s, conn, &rt, &seq, &latency);
	sim_sleep(s, latency);
	tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					  "X-Auth-Token");
	auth = !tok ? "none" : "bad";
	if (f && f->kind != F_LATENCY && f->kind != F_TRUNCATE &&
	    f->kind != F_SHAPE && f->kind != F_RESET && f->kind != F_AGE) {
		/* The log still says whose key it was. */
		pthread_mutex_lock(&s->lock);
		if (sim_account_auth(s, tok, &auth, &who))
			auth = "ok";
		pthread_mutex_unlock(&s->lock);
		ret = sim_fault_reply(s, conn, f, seq, &status);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = 405;
		ret = sim_send_json(conn, 405, simdata_error_body(
			"method_not_allowed", "method not allowed", NULL, NULL),
			seq);
	} else if (!(txt = answer(s, &rt, tok, &q, f, &auth, &who,
				    &status))) {
		ret = MHD_NO;
	} else if (f && f->kind == F_RESET) {
		ret = sim_fault_reset(conn, status, txt);
	} else if (f && f->kind == F_AGE) {
		ret = sim_send_aged(conn, status, txt, strlen(txt), seq, f);
		free(txt);
	} else {
		/* A truncated answer is the first half of the good one. */
		size_t len = strlen(txt);
		ret = sim_send_buf(conn, status, "application/json", txt,
				   f && f->kind == F_TRUNCATE ? len / 2 : len,
				   seq, NULL);
		free(txt);
	}
	log_request(s, conn, method, url, q.text, rt.e, auth, who, f,
		    status);
	sim_fault_free(f);
	return ret;
}
