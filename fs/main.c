/*
 * interlinkfs: mount Scaleway InterLink dedicated connections as files.
 *
 *   interlinkfs [SOURCE] MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]
 *
 * main wires the pieces together: options, credentials (scwcfg), the API
 * client, the filesystem (which owns the caches), and the libfuse session.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "api.h"
#include "fs.h"
#include "log.h"
#include "scwcfg.h"

/* The options, their defaults and help: the one list --help prints (and
 * the man page and README are checked against). */
static const struct optdef {
	const char *name, *arg, *def, *help;
} optdefs[] = {
	{"regions", "LIST", "fr-par:it-mil:nl-ams:pl-waw",
	 "regions shown under regions/ (separate with ':')"},
	{"ttl", "SECONDS", "30",
	 "how long data is fresh; 0 asks the API every time"},
	{"stale", "SECONDS", "600",
	 "how old data may be served when the API fails (0: never)"},
	{"timeout", "SECONDS", "15", "longest time one API request may take"},
	{"api_url", "URL", "SCW_API_URL, the scw config, https://api.scaleway.com",
	 "the API to talk to"},
	{"profile", "NAME", "SCW_PROFILE, the scw config's active_profile",
	 "scw config profile to use"},
	{"project_id", "UUID", "none", "only connections of this project"},
	{"organization_id", "UUID", "none",
	 "only connections of this organization"},
	{"tags", "LIST", "none",
	 "only connections with all these tags (separate with ':')"},
	{"status", "STATUS", "none", "only connections with this status"},
	{"rate", "N", "20", "at most N API requests per second"},
	{"cache_size", "MIB", "256", "memory for cached connections, in MiB"},
	{"log_level", "LEVEL", "warning",
	 "error, warning, info or debug (-d also sets debug)"},
};

struct cli {
	char *regions, *ttl, *stale, *timeout, *api_url, *profile;
	char *project_id, *organization_id, *tags, *status, *rate;
	char *cache_size, *log_level;
	int help, version, allow_other, debug, secret;
};

enum { KEY_HELP, KEY_VERSION, KEY_ALLOW_OTHER, KEY_DEBUG, KEY_SECRET };

#define CLI_OPT(t, f) {t, offsetof(struct cli, f), 0}
static const struct fuse_opt specs[] = {
	CLI_OPT("regions=%s", regions),
	CLI_OPT("ttl=%s", ttl),
	CLI_OPT("stale=%s", stale),
	CLI_OPT("timeout=%s", timeout),
	CLI_OPT("api_url=%s", api_url),
	CLI_OPT("profile=%s", profile),
	CLI_OPT("project_id=%s", project_id),
	CLI_OPT("organization_id=%s", organization_id),
	CLI_OPT("tags=%s", tags),
	CLI_OPT("status=%s", status),
	CLI_OPT("rate=%s", rate),
	CLI_OPT("cache_size=%s", cache_size),
	CLI_OPT("log_level=%s", log_level),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("secret_key=", KEY_SECRET),
	FUSE_OPT_KEY("secret=", KEY_SECRET),
	FUSE_OPT_KEY("access_key=", KEY_SECRET),
	FUSE_OPT_END,
};

static int on_opt(void *data, const char *arg, int key,
		  struct fuse_args *outargs)
{
	struct cli *c = data;

	(void)arg;
	(void)outargs;
	switch (key) {
	case KEY_HELP: c->help = 1; return 0;
	case KEY_VERSION: c->version = 1; return 0;
	case KEY_ALLOW_OTHER: c->allow_other = 1; return 1;
	case KEY_DEBUG: c->debug = 1; return 1;
	case KEY_SECRET: c->secret = 1; return 0; /* never kept anywhere */
	default: return 1;
	}
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [SOURCE] MOUNTPOINT [-f] [-d] [-s] "
		"[-o OPTION[,OPTION...]]\n\n"
		"Shows the Scaleway InterLink dedicated connections of an "
		"account as files.\nCredentials: SCW_SECRET_KEY or the scw "
		"config file (~/.config/scw/config.yaml).\n\n"
		"interlinkfs options:\n", prog);
	for (size_t i = 0; i < sizeof optdefs / sizeof *optdefs; i++) {
		char lhs[64];
		snprintf(lhs, sizeof lhs, "-o %s=%s", optdefs[i].name,
			 optdefs[i].arg);
		fprintf(f, "    %-26s %s (default: %s)\n", lhs, optdefs[i].help,
			optdefs[i].def);
	}
	fputs("\nUnmount with: fusermount3 -u MOUNTPOINT\n\n", f);
}

/* Numbers from options: -1 (after a message) when not a valid number. */
static int num_opt(const char *name, const char *s, double min, double *out)
{
	char *end;
	double v;

	if (!s)
		return 0;
	v = strtod(s, &end);
	if (end == s || *end || v < min || v != v) {
		fprintf(stderr, "interlinkfs: -o %s=%s: not a number >= %g\n",
			name, s, min);
		return -1;
	}
	*out = v;
	return 0;
}

/* "a:b,c" -> NULL-terminated vector (commas arrive when escaped). */
static char **split_list(const char *s, size_t *n)
{
	char *copy = strdup(s), *save = NULL, *tok;
	char **v = calloc(strlen(s) + 2, sizeof *v);

	*n = 0;
	if (!copy || !v) {
		free(copy);
		free(v);
		return NULL;
	}
	for (tok = strtok_r(copy, ":,", &save); tok;
	     tok = strtok_r(NULL, ":,", &save))
		v[(*n)++] = strdup(tok);
	free(copy);
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * `interlinkfs SOURCE MOUNTPOINT` (as mount.fuse3 and fstab call it): the
 * source is ignored. Returns a new argv without it, or NULL if there are
 * more than two positional arguments.
 */
static char **drop_source(int argc, char **argv, int *outc)
{
	char **v = calloc((size_t)argc + 1, sizeof *v);
	int pos = 0, first = -1, n = 0;

	if (!v)
		return NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (pos++ == 0)
			first = i;
	}
	if (pos > 2) {
		free(v);
		return NULL;
	}
	for (int i = 0; i < argc; i++)
		if (!(pos == 2 && i == first))
			v[n++] = argv[i];
	*outc = n;
	return v;
}

static int parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	fprintf(stderr, "interlinkfs: -o log_level=%s: use error, warning, "
		"info or debug\n", s);
	return -1;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	struct fuse_cmdline_opts opts = {0};
	struct fuse_args args;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc;
	struct scw_settings *cfg = NULL;
	struct api_opts ao;
	struct api *api = NULL;
	struct fs_conf fc = {0};
	struct ifs *fs = NULL;
	char **regions = NULL, **tags = NULL, **nargv, err[512];
	size_t nregions = 0, ntags = 0;
	double ttl = 30, stale = 600, timeout = 15, rate = 20, cache_mib = 256;
	enum log_level level = LOGL_WARNING;
	sigset_t hup;
	int nargc = 0, ret = 1, rc;
	bool mounted = false, api_ready = false;
	struct rlimit nocore = {0, 0};

	/* The secret key will live in this process's memory: no core file
	 * may hold it, and other users may not read it through ptrace or
	 * /proc. */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Values are made by one thread and freed by another. With one
	 * malloc arena per thread a long mount's RSS crept up (+16-21 % over
	 * 40 s of the soak test); two arenas hold it within 3 % at the same
	 * throughput. MALLOC_ARENA_MAX still overrides. */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 2);

	nargv = drop_source(argc, argv, &nargc);
	if (!nargv) {
		fprintf(stderr, "interlinkfs: too many arguments\n");
		usage(stderr, argv[0]);
		return 1;
	}
	args = (struct fuse_args)FUSE_ARGS_INIT(nargc, nargv);
	if (fuse_opt_parse(&args, &cli, specs, on_opt) == -1)
		goto out;
	if (cli.secret) {
		fprintf(stderr, "interlinkfs: a key is not accepted as a mount "
			"option (it would be visible in ps and /proc/mounts); "
			"set SCW_SECRET_KEY or put secret_key in the scw config "
			"file (~/.config/scw/config.yaml)\n");
		goto out;
	}
	if (cli.help) {
		usage(stdout, argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (cli.version) {
		printf("interlinkfs %s\nFUSE library version %s\n",
		       INTERLINKFS_VERSION, fuse_pkgversion());
		ret = 0;
		goto out;
	}
	/* Read-only, named for mount(8) and df; with allow_other the kernel
	 * must check permissions itself. */
	fuse_opt_add_arg(&args, "-ofsname=interlinkfs,subtype=interlinkfs,ro");
	if (cli.allow_other)
		fuse_opt_add_arg(&args, "-odefault_permissions");
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out;
	if (!opts.mountpoint) {
		fprintf(stderr, "interlinkfs: no mount point given\n");
		usage(stderr, argv[0]);
		goto out;
	}
	if (num_opt("ttl", cli.ttl, 0, &ttl) ||
	    num_opt("stale", cli.stale, 0, &stale) ||
	    num_opt("timeout", cli.timeout, 0.1, &timeout) ||
	    num_opt("rate", cli.rate, 0, &rate) ||
	    num_opt("cache_size", cli.cache_size, 1, &cache_mib) ||
	    (cli.log_level && parse_level(cli.log_level, &level)))
		goto out;
	if (cli.debug || opts.debug)
		level = LOGL_DEBUG;
	log_setup(level, false);

	regions = split_list(cli.regions ? cli.regions :
			     optdefs[0].def, &nregions);
	if (!regions || nregions == 0) {
		fprintf(stderr, "interlinkfs: -o regions: no region given\n");
		goto out;
	}
	if (cli.tags)
		tags = split_list(cli.tags, &ntags);

	rc = scwcfg_load(cli.profile, NULL, &cfg, err, sizeof err);
	if (rc) {
		fprintf(stderr, "interlinkfs: %s\n", err);
		goto out;
	}
	log_redact(cfg->secret_key);
	if (api_global_init()) {
		fprintf(stderr, "interlinkfs: cannot initialise libcurl\n");
		goto out;
	}
	api_ready = true;
	api_opts_default(&ao);
	ao.base_url = cli.api_url ? cli.api_url : cfg->api_url;
	ao.secret_key = cfg->secret_key;
	ao.key_source = cfg->key_source;
	ao.insecure = cfg->insecure;
	ao.timeout_ms = (long)(timeout * 1000);
	ao.rate = rate;
	if (api_new(&ao, &api))
		goto out; /* the reason was logged */

	fc.regions = (const char *const *)regions;
	fc.nregions = (uint32_t)nregions;
	fc.ttl = ttl;
	fc.stale = stale;
	fc.pop_ttl = 3600;
	fc.budget = (size_t)(cache_mib * 1024 * 1024);
	/* Pages of a list ordered by creation do not shift when connections
	 * are renamed (the API's default order is by name). */
	fc.filters.order_by = "created_at_asc";
	fc.filters.project_id = cli.project_id;
	fc.filters.organization_id = cli.organization_id;
	fc.filters.status = cli.status;
	fc.filters.tags = (const char *const *)tags;
	fc.filters.ntags = ntags;
	fc.uid = getuid();
	fc.gid = getgid();
	if (fs_new(&fc, api, &fs)) {
		fprintf(stderr, "interlinkfs: out of memory\n");
		goto out;
	}

	se = fuse_session_new(&args, fs_ops(), sizeof *fs_ops(), fs);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	/* SIGHUP drops the cache: every thread blocks it, the keeper takes
	 * it from a signalfd. Set before any thread exists. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out;
	mounted = true;
	/* The API is not contacted here: a mount made before the network is
	 * up works, and the first access reports what is wrong. */
	fuse_daemonize(opts.foreground);
	if (!opts.foreground)
		log_setup(level, true);
	if (fs_start(fs, se)) {
		log_error("cannot start the keeper thread");
		goto out;
	}
	log_info("mounted on %s: %s, secret key from %s, regions %s",
		 opts.mountpoint, ao.base_url, cfg->key_source,
		 cli.regions ? cli.regions : optdefs[0].def);

	if (opts.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, opts.clone_fd);
		/* Unset limits arrive as UINT_MAX, which libfuse 3.14 warns
		 * about: pass only what the user gave. */
		if (opts.max_idle_threads <= 100000)
			fuse_loop_cfg_set_idle_threads(lc, opts.max_idle_threads);
		if (opts.max_threads > 0 && opts.max_threads <= 100000)
			fuse_loop_cfg_set_max_threads(lc, opts.max_threads);
		rc = fuse_session_loop_mt(se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	/* Unmounted, SIGTERM or SIGINT: a clean stop. */
	ret = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
out:
	fs_stop(fs);
	if (se) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	fs_free(fs);
	api_free(api);
	if (api_ready)
		api_global_cleanup();
	scwcfg_free(cfg);
	log_redact_clear();
	free_list(regions, nregions);
	free_list(tags, ntags);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	free(cli.regions);
	free(cli.ttl);
	free(cli.stale);
	free(cli.timeout);
	free(cli.api_url);
	free(cli.profile);
	free(cli.project_id);
	free(cli.organization_id);
	free(cli.tags);
	free(cli.status);
	free(cli.rate);
	free(cli.cache_size);
	free(cli.log_level);
	free(nargv);
	return ret;
}
