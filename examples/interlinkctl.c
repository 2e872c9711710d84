/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interlinkctl: list InterLink objects (dedicated connections, or another
 * kind with --kind DIR) with the api/ library and the kinds table (no
 * FUSE, no cache). An example of using api/ on its own.
 *
 *   interlinkctl [--profile NAME] [--kind DIR] [--status S] [--time]
 *                [--parallel N] [--rate R] ls REGION
 *   interlinkctl [--profile NAME] [--kind DIR] get REGION ID
 *
 * Credentials come from SCW_* variables or the scw config file.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "field.h"
#include "kinds.h"
#include "log.h"
#include "scwcfg.h"

static void usage(FILE *f)
{
	fputs("usage: interlinkctl [--profile NAME] [--kind DIR] [--status S] "
	      "[--time] [--parallel N] [--rate R] [--debug] ls REGION\n"
	      "       interlinkctl [--profile NAME] [--kind DIR] get REGION "
	      "ID\n"
	      "DIR: connections (the default), links, pops, partners, "
	      "routing-policies\n", f);
}

static void print_conn(const json_t *c)
{
	const char *status = "-", *name = "";
	size_t nlen = 0;
	uint64_t bw = 0;
	char bws[24] = "-";

	field_str(c, "status", &status, NULL);
	field_str(c, "name", &name, &nlen);
	if (field_uint(c, "bandwidth_mbps", &bw) == 0)
		snprintf(bws, sizeof bws, "%" PRIu64, bw);
	/* Names may hold anything; keep one line per connection. */
	printf("%s\t%s\t%s\t", field_id(c), status, bws);
	for (size_t i = 0; i < nlen; i++)
		putchar(name[i] == '\n' || name[i] == '\t' || !name[i] ? ' '
			: name[i]);
	putchar('\n');
}

struct args {
	const char *profile;
	const struct kind *kind;
	struct api_filters f;
	bool timing;
	int parallel;             /* 0: the default */
	double rate;              /* < 0: the default; 0: unlimited */
	char **cmd;               /* "ls" REGION, or "get" REGION ID */
};

/* 0, or the exit status (usage). */
static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"profile", required_argument, NULL, 'p'},
		{"kind", required_argument, NULL, 'k'},
		{"status", required_argument, NULL, 's'},
		{"time", no_argument, NULL, 't'},
		{"parallel", required_argument, NULL, 'P'},
		{"rate", required_argument, NULL, 'r'},
		{"debug", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, n;

	memset(a, 0, sizeof *a);
	a->rate = -1;
	a->kind = kind_get(K_CONN);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->profile = optarg; break;
		case 'k':
			if (!(a->kind = kind_by_dir(optarg))) {
				usage(stderr);
				return 2;
			}
			break;
		case 's': a->f.status = optarg; break;
		case 't': a->timing = true; break;
		case 'P': a->parallel = atoi(optarg); break;
		case 'r': a->rate = atof(optarg); break;
		case 'd': log_setup(LOGL_DEBUG, false); break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	n = argc - optind;
	a->cmd = argv + optind;
	if (n < 2 || (strcmp(a->cmd[0], "ls") == 0 && n != 2) ||
	    (strcmp(a->cmd[0], "get") == 0 && n != 3) ||
	    (strcmp(a->cmd[0], "ls") && strcmp(a->cmd[0], "get"))) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static double ms_between(struct timespec t0, struct timespec t1)
{
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* The command, against a; 0 or 1. */
static int run(struct api *a, const struct args *args)
{
	const struct api_kind *conns = &args->kind->api;
	struct api_error e;
	struct api_stats st;
	struct timespec t0, t1;
	json_t *one = NULL;
	void **items = NULL;
	size_t n = 0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(args->cmd[0], "ls") == 0)
		rc = api_list_items(a, conns, args->cmd[1], &args->f, NULL,
				    NULL, &items, &n, NULL, &e);
	else
		rc = api_get_object(a, conns, args->cmd[1], args->cmd[2], NULL,
				    NULL, &one, NULL, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "interlinkctl: %s%s%s\n", strerror(-rc),
			e.message[0] ? ": " : "", e.message);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		print_conn(items[i]);
	if (one)
		print_conn(one);
	api_items_free(items, n, NULL);
	json_decref(one);
	if (args->timing) {
		api_get_stats(a, &st);
		fprintf(stderr, "elapsed_ms %.1f requests %" PRIu64 "\n",
			ms_between(t0, t1), st.api_requests);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct scw_settings *cfg = NULL;
	struct api_opts o;
	struct api *a = NULL;
	struct args args;
	char err[512];
	int status = parse(argc, argv, &args);

	if (status)
		return status < 0 ? 0 : status;
	if (api_global_init())
		return 1;
	status = 1;
	if (scwcfg_load(args.profile, NULL, &cfg, err, sizeof err)) {
		fprintf(stderr, "interlinkctl: %s\n", err);
		goto out;
	}
	log_redact(cfg->secret_key);
	api_opts_default(&o);
	o.base_url = cfg->api_url;
	o.secret_key = cfg->secret_key;
	o.key_source = cfg->key_source;
	o.insecure = cfg->insecure;
	if (args.parallel > 0)
		o.max_parallel = args.parallel;
	if (args.rate >= 0)
		o.rate = args.rate;
	if (api_new(&o, &a) == 0)
		status = run(a, &args);
out:
	api_free(a);
	scwcfg_free(cfg);
	log_redact_clear();
	api_global_cleanup();
	return status;
}
