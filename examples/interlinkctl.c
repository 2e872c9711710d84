/*
 * interlinkctl: list InterLink dedicated connections with the api/ library
 * alone (no FUSE, no cache). An example of using api/ on its own.
 *
 *   interlinkctl [--profile NAME] [--status S] [--time] [--parallel N] ls REGION
 *   interlinkctl [--profile NAME] get REGION ID
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
#include "conn.h"
#include "log.h"
#include "scwcfg.h"

static void usage(FILE *f)
{
	fputs("usage: interlinkctl [--profile NAME] [--status S] [--time] "
	      "[--parallel N] [--debug] ls REGION\n"
	      "       interlinkctl [--profile NAME] get REGION ID\n", f);
}

static void print_conn(const json_t *c)
{
	const char *status = "-", *name = "";
	size_t nlen = 0;
	uint64_t bw = 0;
	char bws[24] = "-";

	conn_str(c, "status", &status, NULL);
	conn_str(c, "name", &name, &nlen);
	if (conn_uint(c, "bandwidth_mbps", &bw) == 0)
		snprintf(bws, sizeof bws, "%" PRIu64, bw);
	/* Names may hold anything; keep one line per connection. */
	printf("%s\t%s\t%s\t", conn_id(c), status, bws);
	for (size_t i = 0; i < nlen; i++)
		putchar(name[i] == '\n' || name[i] == '\t' || !name[i] ? ' '
			: name[i]);
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"profile", required_argument, NULL, 'p'},
		{"status", required_argument, NULL, 's'},
		{"time", no_argument, NULL, 't'},
		{"parallel", required_argument, NULL, 'P'},
		{"debug", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *profile = NULL;
	struct api_filters f = {0};
	struct scw_settings *cfg = NULL;
	struct api_opts o;
	struct api *a = NULL;
	struct api_error e;
	struct api_stats st;
	struct timespec t0, t1;
	json_t *res = NULL;
	bool timing = false;
	int parallel = 0;
	char err[512];
	int c, rc, status = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 's': f.status = optarg; break;
		case 't': timing = true; break;
		case 'P': parallel = atoi(optarg); break;
		case 'd': log_setup(LOGL_DEBUG, false); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2 ||
	    (strcmp(argv[optind], "ls") == 0 && argc - optind != 2) ||
	    (strcmp(argv[optind], "get") == 0 && argc - optind != 3) ||
	    (strcmp(argv[optind], "ls") && strcmp(argv[optind], "get"))) {
		usage(stderr);
		return 2;
	}
	if (api_global_init())
		return 1;
	rc = scwcfg_load(profile, NULL, &cfg, err, sizeof err);
	if (rc) {
		fprintf(stderr, "interlinkctl: %s\n", err);
		goto out;
	}
	log_redact(cfg->secret_key);
	api_opts_default(&o);
	o.base_url = cfg->api_url;
	o.secret_key = cfg->secret_key;
	o.key_source = cfg->key_source;
	o.insecure = cfg->insecure;
	if (parallel > 0)
		o.max_parallel = parallel;
	if (api_new(&o, &a))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(argv[optind], "ls") == 0)
		rc = api_list(a, argv[optind + 1], &f, NULL, &res, &e);
	else
		rc = api_get(a, argv[optind + 1], argv[optind + 2], NULL, NULL, &res,
			     &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "interlinkctl: %s%s%s\n", strerror(-rc),
			e.message[0] ? ": " : "", e.message);
		goto out;
	}
	if (json_is_array(res)) {
		size_t i;
		json_t *x;
		json_array_foreach(res, i, x)
			print_conn(x);
	} else {
		print_conn(res);
	}
	if (timing) {
		api_get_stats(a, &st);
		fprintf(stderr, "elapsed_ms %.1f requests %" PRIu64 "\n",
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e6, st.requests);
	}
	status = 0;
out:
	json_decref(res);
	api_free(a);
	scwcfg_free(cfg);
	log_redact_clear();
	api_global_cleanup();
	return status;
}
