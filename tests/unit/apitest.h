/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apitest: what the api/ test programs share: one interlink-sim, a client
 * of it, the log lines the client wrote, and the run of a group of tests.
 * Test helper only; every call asserts (via cmocka) on failure. Not
 * thread-safe except at_log_has() and the log sink.
 */
#ifndef APITEST_H
#define APITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

#include "api.h"
#include "simctl.h"

#define TOKEN "5ec2e7e5-0000-4000-8000-5ec2e7e5ec2e"
#define FR "fr-par"

/* The simulator of the running test (at_start), stopped by at_teardown. */
extern struct simctl at_sim;

/* Starts interlink-sim for fr-par with TOKEN and the extra arguments
 * (NULL-terminated, or NULL). */
void at_start(const char *const *args);
/* A client of at_sim (new; api_free), with short back-offs; tweak, when
 * given, changes the options first. */
struct api *at_client(long timeout_ms, void (*tweak)(struct api_opts *));
/* cmocka teardown: stops at_sim and forgets the log. */
int at_teardown(void **st);

/* Whether a log line so far contains s; forgetting them. */
bool at_log_has(const char *s);
void at_log_clear(void);

/* CLOCK_MONOTONIC, in seconds. */
double at_now(void);

/* The dedicated connections of a region as one JSON array (*items, a new
 * reference), and one of them (*obj, a new reference): api_list_items and
 * api_get_object with the kinds table's entry for connections. The
 * returns of those. */
int at_list(struct api *a, const char *region, const struct api_filters *f,
	    struct api_call *call, json_t **items, struct api_error *err);
int at_get(struct api *a, const char *region, const char *id,
	   const struct api_filters *f, struct api_call *call, json_t **obj,
	   struct api_error *err);

/* Before the group: libcurl set up, the log captured (warnings and
 * above). After it: both undone. */
void at_begin(void);
void at_end(void);

#endif
