/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simctl: start interlink-sim from a C test and drive its /_sim/ controls.
 * Test helper only; every call asserts (via cmocka) on failure.
 */
#ifndef SIMCTL_H
#define SIMCTL_H

#include <sys/types.h>

#include <jansson.h>

struct simctl {
	pid_t pid;
	char url[64];
	int port;
};

/* Starts interlink-sim on 127.0.0.1:0 with the given extra arguments
 * (NULL-terminated), waits (bounded) for its first line. */
void simctl_start(struct simctl *s, const char *const *args);
/* SIGTERM, bounded wait (SIGKILL after 10 s). Returns the exit status. */
int simctl_stop(struct simctl *s);

/* method path [body]: returns the parsed JSON answer (new reference);
 * asserts HTTP 200. */
json_t *simctl_ctl(struct simctl *s, const char *method, const char *path,
		   const char *body);
/* Convenience wrappers. */
void simctl_fault(struct simctl *s, const char *json_spec);
void simctl_clear_faults(struct simctl *s);
json_int_t simctl_counter(struct simctl *s, const char *name);
void simctl_reset(struct simctl *s);
/* The request log (array), new reference. */
json_t *simctl_requests(struct simctl *s);

/* Path of the interlink-sim binary (from $INTERLINK_SIM). */
const char *simctl_binary(void);

#endif
