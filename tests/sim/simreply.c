/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simreply: how interlink-sim answers, whatever the answer: a body with
 * its headers (the request id, Retry-After), JSON, a pause that the
 * simulator's stop cuts short, and the names of its endpoints.
 */
#include "sim_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *sim_endpoint_name(int e)
{
	if (e >= 0 && e < EP_OTHER)
		return e % 2 ? simdata_get_name((enum sim_coll)(e / 2))
			     : simdata_list_name((enum sim_coll)(e / 2));
	return "other";
}

/* Sleeps ms (or until the simulator stops). Called without the lock. */
void sim_sleep(struct sim *s, long ms)
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

/* A response with the headers every answer has; NULL when out of
 * memory. */
static struct MHD_Response *response_new(int status, const char *ctype,
					 const char *body, size_t len,
					 uint64_t seq)
{
	struct MHD_Response *r;
	char rid[64];

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return NULL;
	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	snprintf(rid, sizeof rid, "00000000-0000-4000-8000-%012" PRIx64, seq);
	MHD_add_response_header(r, "X-Request-Id", rid);
	if (status == 429)
		MHD_add_response_header(r, "x-envoy-ratelimited", "true");
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, int status,
			     struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result sim_send_buf(struct MHD_Connection *conn, int status,
				const char *ctype, const char *body,
				size_t len, uint64_t seq,
				const char *retry_after)
{
	struct MHD_Response *r = response_new(status, ctype, body, len, seq);

	if (r && retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	return queue(conn, status, r);
}

enum MHD_Result sim_send_aged(struct MHD_Connection *conn, int status,
			      const char *body, size_t len, uint64_t seq,
			      const struct fault *f)
{
	struct MHD_Response *r = response_new(status, "application/json",
					      body, len, seq);
	char date[64];
	struct tm tm;
	time_t t = time(NULL) - (time_t)f->date_ago;

	/* libmicrohttpd adds a Date only to an answer that has none. */
	if (r && f->has_date) {
		gmtime_r(&t, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		MHD_add_response_header(r, "Date", date);
	}
	if (r && f->age)
		MHD_add_response_header(r, "Age", f->age);
	return queue(conn, status, r);
}

enum MHD_Result sim_send_json(struct MHD_Connection *conn, int status,
				 json_t *body, uint64_t seq)
{
	char *txt = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	enum MHD_Result ret;

	json_decref(body);
	if (!txt)
		return MHD_NO;
	ret = sim_send_buf(conn, status, "application/json", txt,
			   strlen(txt), seq, NULL);
	free(txt);
	return ret;
}
