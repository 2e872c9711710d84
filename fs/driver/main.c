/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interlinkfs: mount Scaleway InterLink as files.
 *
 *   interlinkfs [SOURCE] MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]
 *
 * main wires the pieces together, one step each: the command line and the
 * options, credentials (scwcfg), the API client, the state directory (its
 * key from the API's URL, the credentials and the filters), the
 * filesystem (which owns the caches, and reads back what an earlier run
 * saved), and the libfuse session. Everything that can be refused is
 * refused before the mount, with one line and a non-zero exit.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api.h"
#include "fs.h"
#include "ops.h"
#include "log.h"
#include "options.h"
#include "scwcfg.h"
#include "statedir.h"
#include "statefile.h"

/* Everything main builds, released in reverse by teardown(). */
struct mount {
	char **argv;                  /* argv without SOURCE */
	struct fuse_args args;
	struct options opt;
	struct fuse_cmdline_opts cmd;
	struct scw_settings *cfg;
	char *ca_file, *ca_path;      /* from the environment, absolute */
	bool curl_ready;
	struct api *api;
	struct statedir *state;
	struct ifs *fs;
	struct fuse_session *se;
	bool mounted;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [SOURCE] MOUNTPOINT [-f] [-d] [-s] "
		"[-o OPTION[,OPTION...]]\n\n"
		"Shows Scaleway InterLink (dedicated connections, links, "
		"partners, routing policies,\nPoPs) of an account as files: "
		"regions/ the tree; tables/ one TSV and one JSON file\nper "
		"kind, every region; .interlinkfs/ counters, the journal of "
		"changes, and\nprometheus/*.prom for node_exporter. "
		"Credentials: SCW_SECRET_KEY or the scw config file\n"
		"(~/.config/scw/config.yaml), or none behind a fleet gateway "
		"(-o gateway).\nProxies: https_proxy, no_proxy. Certificates: "
		"-o ca_file=, SSL_CERT_FILE,\nSSL_CERT_DIR; a client "
		"certificate: -o cert_file=,key_file=.\n\n"
		"interlinkfs options:\n", prog);
	options_help(f);
	fputs("\nUnmount with: fusermount3 -u MOUNTPOINT\n\n", f);
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

/* Mounting on something that is not a directory would succeed and leave
 * a path that fails every access: refuse it first. */
static int check_mountpoint(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "interlinkfs: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "interlinkfs: %s: not a directory\n", path);
		return -1;
	}
	return 0;
}

/* The command line. 1: done (help, version), 0: go on, -1: refused. */
static int read_command_line(struct mount *m, int argc, char **argv)
{
	int nargc = 0;

	m->argv = drop_source(argc, argv, &nargc);
	if (!m->argv) {
		fprintf(stderr, "interlinkfs: too many arguments\n");
		usage(stderr, argv[0]);
		return -1;
	}
	m->args = (struct fuse_args)FUSE_ARGS_INIT(nargc, m->argv);
	if (options_parse(&m->args, &m->opt) == -1)
		return -1;
	if (m->opt.secret) {
		fprintf(stderr, "interlinkfs: a key is not accepted as a mount "
			"option (it would be visible in ps and /proc/mounts); "
			"set SCW_SECRET_KEY or put secret_key in the scw config "
			"file (~/.config/scw/config.yaml)\n");
		return -1;
	}
	if (m->opt.help) {
		usage(stdout, argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return 1;
	}
	if (m->opt.version) {
		printf("interlinkfs %s\nFUSE library version %s\n",
		       INTERLINKFS_VERSION, fuse_pkgversion());
		return 1;
	}
	/* Read-only, named for mount(8) and df; with allow_other the kernel
	 * must check permissions itself. */
	fuse_opt_add_arg(&m->args, "-ofsname=interlinkfs,subtype=interlinkfs,ro");
	if (m->opt.allow_other)
		fuse_opt_add_arg(&m->args, "-odefault_permissions");
	if (fuse_parse_cmdline(&m->args, &m->cmd) != 0)
		return -1;
	if (!m->cmd.mountpoint) {
		fprintf(stderr, "interlinkfs: no mount point given\n");
		usage(stderr, argv[0]);
		return -1;
	}
	if (m->cmd.debug)
		m->opt.debug = true;
	if (options_check(&m->opt) || check_mountpoint(m->cmd.mountpoint))
		return -1;
	log_setup(m->opt.level, false);
	return 0;
}

/*
 * The certificates to trust, as Scaleway's CLI takes them: -o ca_file=,
 * else SSL_CERT_FILE, instead of the system's bundle; SSL_CERT_DIR, a
 * directory of hashed certificates, as well. Made absolute: the daemon
 * leaves its directory.
 */
static int trust(struct mount *m, struct api_opts *ao)
{
	const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");

	if (m->opt.ca_file) {
		ao->ca_file = m->opt.ca_file;
	} else if (file && *file) {
		if (!(m->ca_file = realpath(file, NULL))) {
			fprintf(stderr, "interlinkfs: SSL_CERT_FILE %s: %s\n",
				file, strerror(errno));
			return -1;
		}
		ao->ca_file = m->ca_file;
	}
	if (dir && *dir) {
		if (!(m->ca_path = realpath(dir, NULL))) {
			fprintf(stderr, "interlinkfs: SSL_CERT_DIR %s: %s\n",
				dir, strerror(errno));
			return -1;
		}
		ao->ca_path = m->ca_path;
	}
	return 0;
}

/*
 * Behind a fleet gateway (-o gateway), which adds the secret key itself:
 * no key is looked up (not even the scw config file is read) and none is
 * sent; the gateway's address is -o api_url= or SCW_API_URL, and the
 * host proves who it is with its client certificate.
 */
static int gateway(struct mount *m, struct api_opts *ao)
{
	const char *url = m->opt.api_url ? m->opt.api_url :
			  getenv("SCW_API_URL");

	if (!url || !*url) {
		fprintf(stderr, "interlinkfs: -o gateway: give the gateway's "
			"address with -o api_url=URL (or SCW_API_URL)\n");
		return -1;
	}
	ao->base_url = url;
	ao->key_source = "no secret key (-o gateway)";
	ao->insecure = scwcfg_truthy(getenv("SCW_INSECURE"));
	return 0;
}

/* The secret key, the way every Scaleway tool finds it. */
static int credentials(struct mount *m, struct api_opts *ao)
{
	char err[512];

	if (scwcfg_load(m->opt.profile, NULL, &m->cfg, err, sizeof err)) {
		fprintf(stderr, "interlinkfs: %s\n", err);
		return -1;
	}
	log_redact(m->cfg->secret_key);
	ao->base_url = m->opt.api_url ? m->opt.api_url : m->cfg->api_url;
	ao->secret_key = m->cfg->secret_key;
	ao->key_source = m->cfg->key_source;
	ao->insecure = m->cfg->insecure;
	return 0;
}

/* Credentials and the API client. */
static int open_api(struct mount *m)
{
	struct api_opts ao;

	api_opts_default(&ao);
	if (m->opt.gateway ? gateway(m, &ao) : credentials(m, &ao))
		return -1;
	if (api_global_init()) {
		fprintf(stderr, "interlinkfs: cannot initialise libcurl\n");
		return -1;
	}
	m->curl_ready = true;
	ao.cert_file = m->opt.cert_file;
	ao.key_file = m->opt.key_file;
	if (trust(m, &ao))
		return -1;
	ao.timeout_ms = (long)(m->opt.timeout * 1000);
	ao.rate = m->opt.rate;
	return api_new(&ao, &m->api) ? -1 : 0; /* the reason was logged */
}

/*
 * What names a gateway mount's account, which has no secret: its client
 * certificate's subject and issuer (DER), into buf (*len bytes; 0 when
 * there is no certificate). A renewed certificate keeps them.
 */
static void cert_identity(const char *path, unsigned char *buf, size_t max,
			  size_t *len)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *p = buf;
	int a = x ? i2d_X509_NAME(X509_get_subject_name(x), NULL) : -1;
	int b = x ? i2d_X509_NAME(X509_get_issuer_name(x), NULL) : -1;

	*len = 0;
	if (a > 0 && b > 0 && (size_t)a + (size_t)b <= max) {
		i2d_X509_NAME(X509_get_subject_name(x), &p);
		i2d_X509_NAME(X509_get_issuer_name(x), &p);
		*len = (size_t)(p - buf);
	}
	X509_free(x);
	if (f)
		fclose(f);
}

/*
 * The state directory (-o state_dir=, or the default) and its key: a
 * one-way hash of the API's URL, the credentials and the filters, so
 * that another account, API or view never reads this one's. -1 after one
 * line when it is refused.
 */
static int open_state(struct mount *m)
{
	unsigned char key[STATEFILE_KEY], id[8192];
	struct statefile_view v = {0};
	char path[4096];
	bool parents = false;

	if (m->opt.no_state)
		return 0;
	if (m->opt.state_dir) {
		snprintf(path, sizeof path, "%s", m->opt.state_dir);
	} else if (statedir_default(getuid(), path, sizeof path, &parents)) {
		log_warn("no state directory (no HOME): nothing is saved "
			 "between runs; give one with -o state_dir=");
		return 0;
	}
	v.url = api_base_url(m->api);
	v.secret = m->cfg ? m->cfg->secret_key : NULL;
	if (!v.secret)
		cert_identity(m->opt.cert_file, id, sizeof id,
			      &v.identity_len);
	v.identity = id;
	v.filters = &m->opt.filters;
	statefile_key(&v, key);
	return statedir_open(path, parents, key, getuid(), &m->state);
}

static int make_fs(struct mount *m)
{
	struct fs_conf fc = {0};

	fc.regions = (const char *const *)m->opt.regions;
	fc.nregions = (uint32_t)m->opt.nregions;
	fc.ttl = m->opt.ttl;
	fc.stale = m->opt.stale;
	fc.grace = m->opt.grace;
	fc.catalog_ttl = m->opt.catalog_ttl;
	fc.budget = (size_t)(m->opt.cache_mib * 1024 * 1024);
	fc.journal_lines = (size_t)m->opt.changes;
	fc.state_dir = m->state;
	fc.filters = m->opt.filters;
	fc.uid = getuid();
	fc.gid = getgid();
	fc.handlers_store = !m->cmd.singlethread && m->cmd.max_threads != 1;
	if (fs_new(&fc, m->api, &m->fs)) {
		fprintf(stderr, "interlinkfs: out of memory\n");
		return -1;
	}
	return 0;
}

static int run_loop(struct mount *m)
{
	struct fuse_loop_config *lc;
	int rc;

	if (m->cmd.singlethread)
		return fuse_session_loop(m->se);
	lc = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(lc, m->cmd.clone_fd);
	/* Unset limits arrive as UINT_MAX, which libfuse 3.14 warns about:
	 * pass only what the user gave. */
	if (m->cmd.max_idle_threads <= 100000)
		fuse_loop_cfg_set_idle_threads(lc, m->cmd.max_idle_threads);
	if (m->cmd.max_threads > 0 && m->cmd.max_threads <= 100000)
		fuse_loop_cfg_set_max_threads(lc, m->cmd.max_threads);
	rc = fuse_session_loop_mt(m->se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

/* Mount, detach, serve until unmounted. The exit status. */
static int mount_and_serve(struct mount *m)
{
	sigset_t hup;
	int rc;

	m->se = fuse_session_new(&m->args, ops_table(), sizeof *ops_table(),
				 m->fs);
	if (!m->se || fuse_set_signal_handlers(m->se) != 0)
		return 1;
	/* SIGHUP drops the cache: every thread blocks it, the keeper takes
	 * it from a signalfd. Set before any thread exists. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	if (fuse_session_mount(m->se, m->cmd.mountpoint) != 0)
		return 1;
	m->mounted = true;
	/* The API is not contacted here: a mount made before the network is
	 * up works, and the first access reports what is wrong. */
	fuse_daemonize(m->cmd.foreground);
	if (!m->cmd.foreground)
		log_setup(m->opt.level, true);
	if (fs_start(m->fs, m->se)) {
		log_error("cannot start the keeper thread");
		return 1;
	}
	log_info("mounted on %s: %s, %s%s, %zu region%s", m->cmd.mountpoint,
		 api_base_url(m->api), m->cfg ? "secret key from " : "",
		 m->cfg ? m->cfg->key_source : "a gateway: no secret key",
		 m->opt.nregions, m->opt.nregions == 1 ? "" : "s");
	rc = run_loop(m);
	/* Unmounted, SIGTERM or SIGINT: a clean stop. */
	return rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
}

static void teardown(struct mount *m)
{
	fs_stop(m->fs);
	if (m->se) {
		if (m->mounted)
			fuse_session_unmount(m->se);
		fuse_remove_signal_handlers(m->se);
		fuse_session_destroy(m->se);
	}
	fs_free(m->fs);
	statedir_close(m->state);
	api_free(m->api);
	if (m->curl_ready)
		api_global_cleanup();
	scwcfg_free(m->cfg);
	log_redact_clear();
	options_free(&m->opt);
	free(m->ca_file);
	free(m->ca_path);
	free(m->cmd.mountpoint);
	fuse_opt_free_args(&m->args);
	free(m->argv);
}

int main(int argc, char **argv)
{
	struct mount m;
	struct rlimit nocore = {0, 0};
	int ret = 1, rc;

	memset(&m, 0, sizeof m);
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

	rc = read_command_line(&m, argc, argv);
	if (rc > 0)
		ret = 0;
	else if (rc == 0 && open_api(&m) == 0 && open_state(&m) == 0 &&
		 make_fs(&m) == 0)
		ret = mount_and_serve(&m);
	teardown(&m);
	return ret;
}
