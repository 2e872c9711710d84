/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simfault: the faults interlink-sim can inject, what each one answers, and
 * the list of faults waiting for the requests they match.
 */
#include "sim_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const fault_names[F_COUNT] = {
	"status", "html", "rate_limit", "truncate", "invalid_json", "shape",
	"reset", "hang", "latency", "body", "huge", "age",
};

const char *sim_fault_name(enum fault_kind k)
{
	return fault_names[k];
}

void sim_fault_free(struct fault *f)
{
	if (!f)
		return;
	free(f->region);
	free(f->retry_after);
	free(f->body);
	free(f->body_file);
	free(f->content_type);
	free(f->shape);
	free(f->age);
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
	c->age = dup_or_null(f->age);
	c->next = NULL;
	return c;
}

/* Takes the first fault that applies to this request, counting it down. */
struct fault *sim_fault_take(struct sim *s, int e, const char *region,
			     long page)
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
			sim_fault_free(f);
		}
		return c;
	}
	return NULL;
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

/* Rewrites a good body (of a list whose array is member key, or of one
 * object) into a wrong shape the client must reject. The shape
 * "connections_not_array" makes the list's array an object, whichever
 * collection it is. */
json_t *sim_fault_shape(json_t *body, const char *shape, const char *key)
{
	json_t *arr = json_object_get(body, key);

	if (!shape)
		return body;
	if (strcmp(shape, "connections_not_array") == 0 && arr) {
		json_object_set_new(body, key, json_object());
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

/* The raw bytes of a file, as the body of an answer. */
static enum MHD_Result send_file(struct MHD_Connection *conn,
				 const struct fault *f, int status,
				 uint64_t seq)
{
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
	r = sim_send_buf(conn, status, f->content_type ? f->content_type :
			 "application/json", data ? data : "", data ? len : 0,
			 seq, NULL);
	free(data);
	return r;
}

/* Never answer: hold the request until the faults are cleared or the
 * simulator stops (bounded, so threads are not leaked forever). */
static void hang(struct sim *s)
{
	struct timespec until;
	uint64_t epoch;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3600;
	pthread_mutex_lock(&s->lock);
	epoch = s->fault_epoch;
	while (!s->stopping && s->fault_epoch == epoch &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
}

enum MHD_Result sim_fault_reply(struct sim *s, struct MHD_Connection *conn,
				const struct fault *f, uint64_t seq,
				int *status)
{
	switch (f->kind) {
	case F_STATUS:
		*status = f->status ? f->status : 503;
		if (f->body)
			return sim_send_buf(conn, *status, f->content_type ?
					f->content_type : "application/json",
					f->body, strlen(f->body), seq, NULL);
		return sim_send_json(conn, *status, simdata_error_body(
			"service_unavailable", "the service is temporarily "
			"unavailable", NULL, NULL), seq);
	case F_HTML: {
		static const char html[] =
			"<html>\r\n<head><title>502 Bad Gateway</title></head>"
			"\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
			"</center>\r\n</body>\r\n</html>\r\n";
		*status = f->status ? f->status : 502;
		return sim_send_buf(conn, *status, "text/html", html,
				sizeof html - 1, seq, NULL);
	}
	case F_RATE_LIMIT:
		*status = 429;
		if (f->json) {
			char *t = json_dumps(simdata_error_body(
				"too_many_requests", "rate limit exceeded",
				NULL, NULL), JSON_COMPACT);
			enum MHD_Result r = sim_send_buf(conn, 429,
				"application/json", t, strlen(t), seq,
				f->retry_after);
			free(t);
			return r;
		}
		return sim_send_buf(conn, 429, NULL, "", 0, seq, f->retry_after);
	case F_INVALID_JSON:
		*status = 200;
		return sim_send_buf(conn, 200, "application/json",
				"{\"connections\": [{\"id\": ", 24, seq, NULL);
	case F_BODY:
		*status = f->status ? f->status : 200;
		return f->body_file ? send_file(conn, f, *status, seq)
		       : sim_send_buf(conn, *status, f->content_type ?
				      f->content_type : "application/json",
				      f->body ? f->body : "",
				      f->body ? strlen(f->body) : 0, seq, NULL);
	case F_HUGE:
		*status = 200;
		return send_huge(conn, f);
	case F_HANG:
		hang(s);
		*status = 0;
		return MHD_NO; /* close without an answer */
	default:
		return MHD_YES; /* handled by the caller */
	}
}

/* An endpoint's name ("list", "pops_list", ...) or "any": -1 for any,
 * -2 for a name that is not one. "pops" and "pop" are kept as the names
 * the first tests used. */
static int parse_match(const char *m)
{
	if (!m || strcmp(m, "any") == 0)
		return -1;
	for (int e = 0; e < EP_OTHER; e++)
		if (strcmp(m, sim_endpoint_name(e)) == 0)
			return e;
	if (strcmp(m, "pops") == 0)
		return EP_LIST(SC_POPS);
	if (strcmp(m, "pop") == 0)
		return EP_GET(SC_POPS);
	return -2;
}

static const char *str_or_null(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* POST /_sim/faults {"kind": ..., "count": K, "match": ..., ...} */
int sim_fault_add(struct sim *s, json_t *spec, char *err, size_t errlen)
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
	f.has_date = json_is_number(json_object_get(spec, "date_ago"));
	f.date_ago = json_number_value(json_object_get(spec, "date_ago"));
	f.age = (char *)str_or_null(spec, "age");
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


void sim_faults_clear(struct sim *s)
{
	while (s->faults) {
		struct fault *f = s->faults;
		s->faults = f->next;
		sim_fault_free(f);
	}
	s->fault_epoch++;
	pthread_cond_broadcast(&s->cond);
}

enum MHD_Result sim_fault_reset(struct MHD_Connection *conn, int status,
				char *txt)
{
	struct reset_body *rb = calloc(1, sizeof *rb);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!rb) {
		free(txt);
		return MHD_NO;
	}
	rb->conn = conn;
	rb->body = txt;
	rb->len = strlen(txt);
	rb->cut = rb->len / 2;
	r = MHD_create_response_from_callback(rb->len, 4096, reset_reader, rb,
					      reset_free);
	if (!r) {
		reset_free(rb);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}
