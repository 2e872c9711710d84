/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_i.h: what the files of interlink-sim share: the server's state, the
 * request log, faults, accounts. sim.c starts the server; simapi.c answers
 * the API; simfault.c holds the faults; simcontrol.c the /_sim/ controls;
 * simaccount.c the accounts (a token and its data each).
 *
 * One mutex (lock) guards every mutable field of struct sim and the data;
 * no handler holds it while sleeping or waiting.
 */
#ifndef SIM_I_H
#define SIM_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "simdata.h"

#define API_PREFIX "/interlink/v1beta1/regions/"
#define LOG_MAX 20000
#define UPLOAD_MAX (16u << 20)

/* Endpoints: the list and get of each collection, then anything else. */
#define EP_LIST(c) ((int)(c) * 2)
#define EP_GET(c) ((int)(c) * 2 + 1)
#define EP_OTHER (SC_COUNT * 2)
#define EP_COUNT (EP_OTHER + 1)

enum fault_kind {
	F_STATUS, F_HTML, F_RATE_LIMIT, F_TRUNCATE, F_INVALID_JSON, F_SHAPE,
	F_RESET, F_HANG, F_LATENCY, F_BODY, F_HUGE, F_AGE, F_COUNT,
};

struct fault {
	enum fault_kind kind;
	long remaining;          /* < 0: until cleared */
	int match;               /* -1 any API endpoint, else an endpoint */
	char *region;            /* NULL: any */
	long page;               /* > 0: only requests for this page */
	int status;
	char *retry_after;
	char *body;
	char *body_file;         /* raw bytes served from this file */
	char *content_type;
	char *shape;
	long latency_ms;
	double date_ago;         /* age: the Date this many seconds ago */
	bool has_date;
	char *age;               /* age: an Age header, as given */
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
	const char *account;     /* the account's name (never its token);
				  * NULL: not authenticated */
	int status;
};

/* An account of --account TOKEN=SEED (simaccount.c). Never freed before
 * the simulator stops, so its name may be pointed to. */
struct account {
	char name[32];           /* "account1", "account2" ... */
	char *token;
	struct simdata *data;
	bool revoked;            /* its token gets 401 */
};

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct simdata *data;    /* the default account's */
	char *token;             /* the default account's token; NULL: any
				  * non-empty token */
	struct account *accounts;
	size_t naccounts;
	bool accounts_only;      /* --account without --token: no default
				  * account */
	char **forbid;
	size_t nforbid;
	unsigned max_page_size;
	long latency_ms;
	struct fault *faults;
	uint64_t fault_epoch;    /* bumped when faults are cleared */
	uint64_t counts[EP_COUNT];
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

/* A request's upload, gathered before it is handled. */
struct reqctx {
	char *body;
	size_t len;
	bool too_big;
};

/* simapi.c */
enum MHD_Result sim_handle_api(struct sim *s, struct MHD_Connection *conn,
			       const char *url, const char *method);

/* simreply.c */
/* The name of an endpoint ("list", "pop_get", ..., "other"). */
const char *sim_endpoint_name(int e);
/* Sleeps ms (or until the simulator stops). Called without the lock. */
void sim_sleep(struct sim *s, long ms);
enum MHD_Result sim_send_buf(struct MHD_Connection *conn, int status,
			     const char *ctype, const char *body, size_t len,
			     uint64_t seq, const char *retry_after);
enum MHD_Result sim_send_json(struct MHD_Connection *conn, int status,
			      json_t *body /* stolen */, uint64_t seq);
/* The data's answer with the age fault's Date and Age headers. */
enum MHD_Result sim_send_aged(struct MHD_Connection *conn, int status,
			      const char *body, size_t len, uint64_t seq,
			      const struct fault *f);

/* simfault.c */
void sim_fault_free(struct fault *f);
void sim_faults_clear(struct sim *s);   /* with the lock held */
/* Adds a fault from its JSON spec: 0, or -EINVAL with a reason in err. */
int sim_fault_add(struct sim *s, json_t *spec, char *err, size_t errlen);
/* The first fault for this request, counted down; a copy the caller frees.
 * With the lock held. */
struct fault *sim_fault_take(struct sim *s, int endpoint, const char *region,
			     long page);
const char *sim_fault_name(enum fault_kind k);
/* Faults answered without the data: the reply, and its status in *status. */
enum MHD_Result sim_fault_reply(struct sim *s, struct MHD_Connection *conn,
				const struct fault *f, uint64_t seq,
				int *status);
/* Faults applied to the data's answer: a good body in a wrong shape. */
json_t *sim_fault_shape(json_t *body, const char *shape, const char *key);
/* The body cut in half, then the TCP connection reset. */
enum MHD_Result sim_fault_reset(struct MHD_Connection *conn, int status,
				char *txt /* stolen */);

/* simaccount.c: everything with the lock held, but sim_account_add
 * (before the server starts). */
/* Adds the account of spec (TOKEN=SEED), its data generated for regions
 * and nconn. 0, or -1 (said on standard error). */
int sim_account_add(struct sim *s, const char *spec, const char *regions,
		    unsigned nconn);
/* The data a token reads, with the account's name in *name (borrowed);
 * NULL when the token is no account's (*auth: "revoked" for a revoked
 * one, else left as it is). */
const struct simdata *sim_account_auth(struct sim *s, const char *tok,
				       const char **auth, const char **name);
/* The data of the account named (NULL or "default": the default one);
 * NULL if there is no such account. */
struct simdata *sim_account_data(struct sim *s, const char *name);
/* {"account": NAME, "revoked": BOOL (default true)}: 0, -ENOENT or
 * -EINVAL, with the reason in err. */
int sim_account_revoke(struct sim *s, json_t *in, char *err, size_t errlen);
void sim_accounts_free(struct sim *s);

/* simcontrol.c */
enum MHD_Result sim_handle_control(struct sim *s, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   struct reqctx *rc);

#endif
