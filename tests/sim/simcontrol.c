/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simcontrol: interlink-sim's test controls under /_sim/: counters and the
 * request log, faults, latency, the accepted key, accounts revoked, and
 * changes to the data (the default account's, or ?account=NAME's).
 */
#include "sim_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *log_json(struct sim *s, uint64_t since)
{
	json_t *arr = json_array();
	uint64_t first = s->nlog > LOG_MAX ? s->nlog - LOG_MAX : 0;

	for (uint64_t i = first; i < s->nlog; i++) {
		struct logent *l = &s->log[i % LOG_MAX];
		if (l->seq <= since || l->seq <= s->log_floor)
			continue;
		json_array_append_new(arr, json_pack(
			"{s:f, s:I, s:s, s:s, s:s, s:s, s:s?, s:i, s:s, s:s?, "
			"s:s, s:s, s:s}",
			"t_ms", l->t_ms, "seq", (json_int_t)l->seq,
			"method", l->method, "path", l->path,
			"query", l->query, "endpoint", l->endpoint,
			"fault", l->fault, "status", l->status,
			"auth", l->auth, "account", l->account,
			"user_agent", l->ua,
			"accept", l->accept,
			"accept_encoding", l->accept_encoding));
	}
	return arr;
}

static json_t *counters_json(struct sim *s)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			      "tcp_connections", (json_int_t)s->tcp_connections,
			      "api_connections", (json_int_t)s->api_connections,
			      "total", (json_int_t)s->total,
			      "errors", (json_int_t)s->errors,
			      "unauthorized", (json_int_t)s->unauthorized,
			      "faults", (json_int_t)s->faults_applied);

	for (int e = 0; e < EP_OTHER; e++)
		json_object_set_new(o, sim_endpoint_name(e),
				    json_integer((json_int_t)s->counts[e]));
	return o;
}

static void reset(struct sim *s)
{
	s->total = s->errors = s->unauthorized = 0;
	s->faults_applied = 0;
	s->tcp_connections = 0;
	s->api_connections = 0;
	s->log_floor = s->seq;
	memset(s->counts, 0, sizeof s->counts);
}

static json_t *ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/*
 * /_sim/regions/R/KIND[/ID] (KIND: a collection's list key or path):
 * POST with an id changes an object, DELETE removes it, POST without adds
 * one. 0 with *out, or an HTTP status with a reason in err.
 */
static int data_control(struct sim *s, const char *account,
			const char *path, bool post, bool del, json_t *in,
			json_t **out, char *err, size_t errlen)
{
	char region[128], kind[64], id[256];
	struct simdata *d;
	int off = 0, c, rc;

	if (sscanf(path, "/regions/%127[^/]/%63[^/]%n", region, kind,
		   &off) != 2 || off <= 0 ||
	    ((c = simdata_coll_of_key(kind)) < 0 &&
	     (c = simdata_coll_of_path(kind)) < 0)) {
		snprintf(err, errlen, "unknown control");
		return 404;
	}
	if (!(path[off] == '/' && path[off + 1] && (post || del)) &&
	    !(path[off] == '\0' && post)) {
		snprintf(err, errlen, "unknown control");
		return 404;
	}
	pthread_mutex_lock(&s->lock);
	d = sim_account_data(s, account);
	if (!d)
		rc = -ENOENT;
	else if (path[off] == '\0')
		rc = simdata_add(d, c, region, in, id, sizeof id);
	else if (del)
		rc = simdata_delete(d, c, region, path + off + 1);
	else
		rc = simdata_patch(d, c, region, path + off + 1, in);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc == -ENOENT ? 404 : 400;
	}
	*out = path[off] == '\0' ? json_pack("{s:s}", "id", id) : ok();
	return 0;
}

/* The controls that read or set the server's state. */
static int state_control(struct sim *s, struct MHD_Connection *conn,
			 const char *path, const char *method, json_t *in,
			 json_t **out, char *err, size_t errlen)
{
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;
	bool del = strcmp(method, "DELETE") == 0;
	const char *sv, *account = MHD_lookup_connection_value(
		conn, MHD_GET_ARGUMENT_KIND, "account");
	struct simdata *d;
	int rc = 0;

	if (post && strcmp(path, "/faults") == 0)
		return sim_fault_add(s, in, err, errlen) ? 400 :
		       (*out = ok(), 0);
	pthread_mutex_lock(&s->lock);
	if (get && strcmp(path, "/counters") == 0) {
		*out = counters_json(s);
	} else if (post && strcmp(path, "/reset") == 0) {
		reset(s);
		*out = ok();
	} else if (get && strcmp(path, "/requests") == 0) {
		sv = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						 "since");
		*out = log_json(s, sv ? strtoull(sv, NULL, 10) : 0);
	} else if (del && strcmp(path, "/faults") == 0) {
		sim_faults_clear(s);
		*out = ok();
	} else if (post && strcmp(path, "/latency") == 0) {
		s->latency_ms = (long)json_integer_value(
			json_object_get(in, "ms"));
		*out = ok();
	} else if (post && strcmp(path, "/token") == 0 &&
		   json_is_string(json_object_get(in, "token"))) {
		free(s->token);
		s->token = strdup(json_string_value(json_object_get(in,
								    "token")));
		*out = ok();
	} else if (post && strcmp(path, "/revoke") == 0) {
		rc = sim_account_revoke(s, in, err, errlen);
		*out = rc ? NULL : ok();
	} else if (get && strcmp(path, "/data") == 0) {
		d = sim_account_data(s, account);
		*out = d ? simdata_dump(d) : NULL;
		if (!d)
			rc = -ENOENT;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == -ENOENT && !err[0])
		snprintf(err, errlen, "no account %s", account);
	if (rc)
		return rc == -ENOENT ? 404 : 400;
	if (*out)
		return 0;
	return data_control(s, account, path, post, del, in, out, err,
			    errlen);
}

enum MHD_Result sim_handle_control(struct sim *s, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   struct reqctx *rc)
{
	json_t *in = NULL, *out = NULL;
	json_error_t je;
	char err[256] = "";
	int status;

	if (rc->too_big)
		return sim_send_json(conn, 413, simdata_error_body(
			"invalid_arguments", "body too large", NULL, NULL), 0);
	if (rc->len) {
		in = json_loadb(rc->body, rc->len, JSON_ALLOW_NUL, &je);
		if (!in)
			return sim_send_json(conn, 400, simdata_error_body(
				"invalid_arguments", je.text, NULL, NULL), 0);
	}
	status = state_control(s, conn, url + strlen("/_sim"), method, in,
			       &out, err, sizeof err);
	json_decref(in);
	if (status || !out) {
		json_decref(out);
		return sim_send_json(conn, status ? status : 500,
				     simdata_error_body("invalid_arguments",
							err, NULL, NULL), 0);
	}
	return sim_send_json(conn, 200, out, 0);
}
