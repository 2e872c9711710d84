/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interlink-sim: a local, deterministic stand-in for the Scaleway InterLink
 * API, with test controls under /_sim/ to count requests, change data and
 * inject faults.
 *
 * libmicrohttpd runs one thread per connection, so a handler may sleep (added
 * latency) or block (the "hang" fault) without stalling other clients. This
 * file starts the server; simapi.c, simfault.c and simcontrol.c answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sim_i.h"

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
		return sim_handle_control(s, conn, url, method, rc);
	return sim_handle_api(s, conn, url, method);
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
"  --regions LIST         regions to serve (default fr-par,nl-ams,pl-waw)\n"
"  --connections N        generated connections per region, and as many\n"
"                         links (default 20)\n"
"  --seed S               seed of the generated data (default 1)\n"
"  --data FILE            serve connections from a JSON file instead\n"
"  --token TOKEN          the only X-Auth-Token accepted (default: any\n"
"                         non-empty token)\n"
"  --account TOKEN=SEED   one more account (repeatable): TOKEN reads data\n"
"                         of its own, generated from SEED; without\n"
"                         --token, only the accounts' tokens are accepted\n"
"  --forbid LIST          regions answered with 403 permissions_denied\n"
"  --max-page-size N      server-side page cap (default 100)\n"
"  --latency MS           delay added to every API request (default 0)\n"
"  --name-filter HOW      how name= matches: part (of the name, the\n"
"                         default) or exact (the whole name)\n"
"  --tls-cert FILE        serve HTTPS with this certificate (PEM; the\n"
"  --tls-key FILE         chain may follow it) and its key\n"
"  --help, --version\n"
"\n"
"The first line printed is 'interlink-sim listening on http://ADDR:PORT'\n"
"(https:// with --tls-cert).\n"
"Test controls live under /_sim/: GET counters, POST reset, GET requests,\n"
"POST/DELETE faults, POST latency, POST token, POST revoke, GET data,\n"
"POST/DELETE regions/R/KIND/ID, POST regions/R/KIND (KIND: connections,\n"
"pops, links, partners, routing_policies); ?account=NAME for another\n"
"account's data.\n",
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
	sim_accounts_free(s);
	sim_faults_clear(s);
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

/* What the command line asks for. */
struct args {
	const char *listen, *regions, *data;
	unsigned long nconn, maxps;
	unsigned long long seed;
	bool allow_remote, exact_names;
	const char *tls_cert, *tls_key;
	const char *accounts[64];     /* --account TOKEN=SEED, in order */
	size_t naccounts;
};

/* 0: go on, 1: done (help, version), -1: bad arguments (said). */
static int parse_args(struct sim *s, struct args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"allow-remote", no_argument, NULL, 'A'},
		{"regions", required_argument, NULL, 'r'},
		{"connections", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"data", required_argument, NULL, 'd'},
		{"token", required_argument, NULL, 't'},
		{"account", required_argument, NULL, 'a'},
		{"forbid", required_argument, NULL, 'f'},
		{"max-page-size", required_argument, NULL, 'm'},
		{"latency", required_argument, NULL, 'L'},
		{"name-filter", required_argument, NULL, 'N'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, li = 0;

	memset(a, 0, sizeof *a);
	*a = (struct args){"127.0.0.1:0", "fr-par,nl-ams,pl-waw", NULL, 20,
			   100, 1, false, false, NULL, NULL, {NULL}, 0};
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'l': a->listen = optarg; break;
		case 'A': a->allow_remote = true; break;
		case 'r': a->regions = optarg; break;
		case 'd': a->data = optarg; break;
		case 't': free(s->token); s->token = strdup(optarg); break;
		case 'a':
			if (a->naccounts == sizeof a->accounts /
			    sizeof a->accounts[0]) {
				fprintf(stderr, "interlink-sim: too many "
					"--account\n");
				return -1;
			}
			a->accounts[a->naccounts++] = optarg;
			break;
		case 'f': s->forbid = split_list(optarg, &s->nforbid); break;
		case 'n': a->nconn = strtoul(optarg, &end, 10); break;
		case 's': a->seed = strtoull(optarg, &end, 10); break;
		case 'm': a->maxps = strtoul(optarg, &end, 10); break;
		case 'L': s->latency_ms = strtol(optarg, &end, 10); break;
		case 'N':
			if (strcmp(optarg, "exact") && strcmp(optarg, "part")) {
				fprintf(stderr, "interlink-sim: --name-filter: "
					"part or exact, not %s\n", optarg);
				return -1;
			}
			a->exact_names = strcmp(optarg, "exact") == 0;
			break;
		case 'c': a->tls_cert = optarg; break;
		case 'k': a->tls_key = optarg; break;
		case 'h': usage(stdout); return 1;
		case 'V': puts("interlink-sim " INTERLINKFS_VERSION); return 1;
		default: usage(stderr); return -1;
		}
		if (end && *end) {
			fprintf(stderr, "interlink-sim: --%s: not a number: %s\n",
				opts[li].name, optarg);
			return -1;
		}
	}
	if (optind != argc || a->nconn > 10000000 || a->maxps > 1000 ||
	    s->latency_ms < 0 || !a->tls_cert != !a->tls_key) {
		usage(stderr);
		return -1;
	}
	s->max_page_size = (unsigned)a->maxps;
	s->accounts_only = a->naccounts && !s->token;
	return 0;
}

/* The address to listen on, loopback unless allowed otherwise. *host gets
 * the address as printed (brackets removed). */
static struct addrinfo *listen_addr(const struct args *a, char *host,
				    size_t hostlen)
{
	struct addrinfo hints, *ai = NULL;
	char *port;
	int rc;

	snprintf(host, hostlen, "%s", a->listen);
	port = strrchr(host, ':');
	if (!port) {
		fprintf(stderr, "interlink-sim: --listen wants ADDR:PORT\n");
		return NULL;
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
		fprintf(stderr, "interlink-sim: --listen %s: %s\n", a->listen,
			gai_strerror(rc));
		return NULL;
	}
	if (!is_loopback(ai->ai_addr) && !a->allow_remote) {
		fprintf(stderr, "interlink-sim: refusing to listen on %s: not "
			"a loopback address (use --allow-remote)\n", host);
		freeaddrinfo(ai);
		return NULL;
	}
	return ai;
}

/* A whole file, NUL-terminated (as libmicrohttpd wants PEM), or NULL
 * with a message. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (!f) {
		fprintf(stderr, "interlink-sim: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		char *nb = len < (1u << 20) ? realloc(buf, len + n + 1) : NULL;
		if (!nb) {
			fprintf(stderr, "interlink-sim: %s: too big\n", path);
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		fprintf(stderr, "interlink-sim: %s: empty\n", path);
	else
		buf[len] = '\0';
	return buf;
}

/* The certificate and key (PEM, kept for the daemon's life) with TLS. */
struct tls {
	char *cert, *key;
};

/* libmicrohttpd's own messages (a client that gives up a TLS handshake,
 * as every certificate test does) say whose they are. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("interlink-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static struct MHD_Daemon *start(struct sim *s, const struct addrinfo *ai,
				const struct tls *tls)
{
	struct MHD_OptionItem o[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key},
		{MHD_OPTION_END, 0, NULL},
	};

	return MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_POLL | MHD_USE_ERROR_LOG |
		(tls->cert ? MHD_USE_TLS : 0) |
		(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first: all */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_CONNECTION_LIMIT, 4000u,
		MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_ARRAY, tls->cert ? o : o + 2,
		MHD_OPTION_END);
}

/* Reads the certificate and key asked for: 0, or -1 (said). */
static int load_tls(const struct args *a, struct tls *tls)
{
	memset(tls, 0, sizeof *tls);
	if (!a->tls_cert)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "interlink-sim: this libmicrohttpd has no TLS\n");
		return -1;
	}
	tls->cert = slurp(a->tls_cert);
	tls->key = tls->cert ? slurp(a->tls_key) : NULL;
	return tls->key ? 0 : -1;
}

/* Serves until SIGINT or SIGTERM. */
static void serve(struct sim *s, struct MHD_Daemon *d, const sigset_t *sigs)
{
	int sig;

	while (sigwait(sigs, &sig) != 0)
		;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(d);
}

int main(int argc, char **argv)
{
	struct sim *s = calloc(1, sizeof *s);
	struct args a;
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	struct tls tls = {NULL, NULL};
	char host[256], errbuf[512];
	sigset_t sigs;
	int rc, status = 2;

	if (!s)
		return 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	rc = parse_args(s, &a, argc, argv);
	if (rc)
		status = rc > 0 ? 0 : 2;
	if (rc || !(ai = listen_addr(&a, host, sizeof host)))
		goto out;
	status = 1;
	if (load_tls(&a, &tls))
		goto out;
	rc = a.data ? simdata_load(&s->data, a.data, errbuf, sizeof errbuf)
		    : simdata_generate(&s->data, a.regions, (unsigned)a.nconn,
				       a.seed);
	if (rc < 0) {
		fprintf(stderr, "interlink-sim: %s\n",
			a.data ? errbuf : strerror(-rc));
		goto out;
	}
	simdata_set_exact_names(s->data, a.exact_names);
	for (size_t i = 0; i < a.naccounts; i++) {
		if (sim_account_add(s, a.accounts[i], a.regions,
				    (unsigned)a.nconn))
			goto out;
		simdata_set_exact_names(s->accounts[i].data, a.exact_names);
	}
	/* Signals are taken synchronously by this thread; the server threads
	 * inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	if (!(d = start(s, ai, &tls))) {
		fprintf(stderr, "interlink-sim: cannot listen on %s%s\n",
			a.listen, tls.cert ? " (or the certificate and key "
			"do not go together)" : "");
		goto out;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf(ai->ai_family == AF_INET6 ? "interlink-sim listening on "
	       "%s://[%s]:%u\n" : "interlink-sim listening on %s://%s:%u\n",
	       tls.cert ? "https" : "http", host, di ? di->port : 0);
	fflush(stdout);
	serve(s, d, &sigs);
	status = 0;
out:
	if (ai)
		freeaddrinfo(ai);
	free(tls.cert);
	free(tls.key);
	sim_free(s);
	return status;
}
