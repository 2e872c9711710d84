/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: the table of interlinkfs's mount options and their checks.
 */
#include "options.h"

#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum opt_type {
	T_REGIONS,   /* ':'-separated region codes */
	T_NUM,       /* a finite number in [min, max] */
	T_STR,       /* any non-empty text */
	T_FILTER,    /* checked by filter_check() */
	T_TAGS,      /* ':'-separated tags */
	T_LEVEL,     /* a log level */
	T_FILE,      /* a readable regular file, kept as an absolute path */
	T_PEM,       /* the same, holding PEM of a kind (checked apart) */
	T_STATE,     /* a directory, made absolute, or "none" */
};

static const struct optdef {
	const char *name, *arg, *def, *help;
	enum opt_type type;
	double min, max;
} defs[OPT_COUNT] = {
	[OPT_REGIONS] = {"regions", "LIST", "fr-par:nl-ams:pl-waw",
		"regions shown under regions/ (separate with ':')", T_REGIONS, 0, 0},
	[OPT_TTL] = {"ttl", "SECONDS", "30",
		"how long data is fresh, 0 to 86400; 0 asks the API every time",
		T_NUM, 0, 86400},
	[OPT_CATALOG_TTL] = {"catalog_ttl", "SECONDS", "3600",
		"how long Scaleway's catalogue (PoPs, partners) is fresh, 0 "
		"to 86400",
		T_NUM, 0, 86400},
	[OPT_STALE] = {"stale", "SECONDS", "600",
		"how old data may be served when the API fails, 0 (never) "
		"to 604800", T_NUM, 0, 604800},
	[OPT_GRACE] = {"grace", "SECONDS", "1",
		"longest wait for a refresh when data younger than stale can "
		"be served instead, 0 to 60", T_NUM, 0, 60},
	[OPT_TIMEOUT] = {"timeout", "SECONDS", "15",
		"longest time one API request may take, 0.1 to 3600",
		T_NUM, 0.1, 3600},
	[OPT_API_URL] = {"api_url", "URL",
		"SCW_API_URL, the scw config, https://api.scaleway.com",
		"the API to talk to (scheme://host[:port])", T_STR, 0, 0},
	[OPT_CA_FILE] = {"ca_file", "PATH", "SSL_CERT_FILE, the system's",
		"certificates (PEM) to trust instead of the system's",
		T_FILE, 0, 0},
	[OPT_CERT_FILE] = {"cert_file", "PATH", "none",
		"this host's TLS client certificate (PEM), for a fleet "
		"gateway; with key_file", T_PEM, 0, 0},
	[OPT_KEY_FILE] = {"key_file", "PATH", "none",
		"the private key of cert_file (PEM, unencrypted)", T_PEM, 0, 0},
	[OPT_PROFILE] = {"profile", "NAME",
		"SCW_PROFILE, the scw config's active_profile",
		"scw config profile to use", T_STR, 0, 0},
	[OPT_PROJECT_ID] = {"project_id", "UUID", "none",
		"only connections, links and routing policies of this project",
		T_FILTER, 0, 0},
	[OPT_ORGANIZATION_ID] = {"organization_id", "UUID", "none",
		"only connections, links and routing policies of this "
		"organization", T_FILTER, 0, 0},
	[OPT_NAME] = {"name", "TEXT", "none",
		"only connections whose name contains TEXT", T_FILTER, 0, 0},
	[OPT_TAGS] = {"tags", "LIST", "none",
		"only connections with all these tags (separate with ':')",
		T_TAGS, 0, 0},
	[OPT_STATUS] = {"status", "STATUS", "none",
		"only connections with this status", T_FILTER, 0, 0},
	[OPT_BANDWIDTH_MBPS] = {"bandwidth_mbps", "N", "none",
		"only connections of this bandwidth, in Mbps", T_FILTER, 0, 0},
	[OPT_POP_ID] = {"pop_id", "UUID", "none",
		"only connections landing in this PoP", T_FILTER, 0, 0},
	[OPT_RATE] = {"rate", "N", "20",
		"at most N API requests per second, 0 (no limit) to 10000",
		T_NUM, 0, 10000},
	[OPT_CACHE_SIZE] = {"cache_size", "MIB", "256",
		"memory for objects fetched one by one (listings are not "
		"counted), in MiB, 1 to 65536",
		T_NUM, 1, 65536},
	[OPT_CHANGES] = {"changes", "LINES", "10000",
		"lines .interlinkfs/changes keeps, 1 to 1000000",
		T_NUM, 1, 1000000},
	[OPT_STATE_DIR] = {"state_dir", "DIR",
		"$STATE_DIRECTORY, ~/.local/state/interlinkfs (root: "
		"/var/lib/interlinkfs)",
		"where listings and the journal are kept between runs; none: "
		"nowhere", T_STATE, 0, 0},
	[OPT_LOG_LEVEL] = {"log_level", "LEVEL", "warning",
		"error, warning, info or debug (-d also sets debug)", T_LEVEL, 0, 0},
};

enum { KEY_HELP, KEY_VERSION, KEY_ALLOW_OTHER, KEY_DEBUG, KEY_SECRET,
       KEY_GATEWAY };

static const struct fuse_opt specs[] = {
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
	FUSE_OPT_KEY("gateway", KEY_GATEWAY),
	FUSE_OPT_END,
};

const char *options_default(enum opt_id id)
{
	return defs[id].def;
}

/* "name=value" of one of ours: stored (the last one wins). */
static int take(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');

	for (int i = 0; eq && i < OPT_COUNT; i++) {
		if (strlen(defs[i].name) != (size_t)(eq - arg) ||
		    strncmp(arg, defs[i].name, (size_t)(eq - arg)) != 0)
			continue;
		free(o->raw[i]);
		o->raw[i] = strdup(eq + 1);
		return o->raw[i] ? 0 : -1;
	}
	return 1; /* not ours: libfuse's */
}

static int on_opt(void *data, const char *arg, int key,
		  struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	switch (key) {
	case KEY_HELP: o->help = true; return 0;
	case KEY_VERSION: o->version = true; return 0;
	case KEY_ALLOW_OTHER: o->allow_other = true; return 1;
	case KEY_DEBUG: o->debug = true; return 1;
	case KEY_SECRET: o->secret = true; return 0; /* never kept */
	case KEY_GATEWAY: o->gateway = true; return 0;
	case FUSE_OPT_KEY_OPT: return take(o, arg);
	default: return 1;
	}
}

int options_parse(struct fuse_args *args, struct options *o)
{
	memset(o, 0, sizeof *o);
	return fuse_opt_parse(args, o, specs, on_opt);
}

void options_help(FILE *f)
{
	for (int i = 0; i < OPT_COUNT; i++) {
		char lhs[64];

		snprintf(lhs, sizeof lhs, "-o %s=%s", defs[i].name, defs[i].arg);
		fprintf(f, "    %-26s %s (default: %s)\n", lhs, defs[i].help,
			defs[i].def);
	}
	fprintf(f, "    %-26s %s\n", "-o gateway", "the API is a fleet "
		"gateway that adds the secret key: none is looked up or sent");
}

/* One line for the user; -1. */
static int refuse(const char *name, const char *value, const char *why)
{
	fprintf(stderr, "interlinkfs: -o %s=%s: %s\n", name, value, why);
	return -1;
}

/* "a:b" (or "a,b" when commas were escaped) into a new vector, empty
 * elements included ("a::b" has three), for the caller to refuse. */
static char **split(const char *s, size_t *n)
{
	size_t max = 1;
	char **v;

	for (const char *p = s; *p; p++)
		max += *p == ':' || *p == ',';
	*n = 0;
	if (!(v = calloc(max + 1, sizeof *v)))
		return NULL;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ":,");
		if (!(v[*n] = strndup(p, len)))
			return v; /* the caller sees fewer: out of memory */
		(*n)++;
		p += len;
		if (!*p)
			break;
	}
	return v;
}

static int check_regions(struct options *o, const char *v)
{
	char why[128];

	if (!(o->regions = split(v, &o->nregions)))
		return refuse("regions", v, "out of memory");
	if (o->nregions == 1 && !*o->regions[0])
		return refuse("regions", v, "no region given");
	if (o->nregions > OPTIONS_MAX_REGIONS)
		return refuse("regions", v, "more than 64 regions");
	for (size_t i = 0; i < o->nregions; i++) {
		if (!*o->regions[i])
			return refuse("regions", v, "an empty region between "
				      "separators");
		if (!api_region_valid(o->regions[i])) {
			snprintf(why, sizeof why, "'%.40s' is not a region "
				 "code such as fr-par", o->regions[i]);
			return refuse("regions", v, why);
		}
		/* Refused rather than merged: a list that names a region
		 * twice is a typo more often than not. */
		for (size_t k = 0; k < i; k++) {
			if (strcmp(o->regions[k], o->regions[i]) == 0) {
				snprintf(why, sizeof why, "%s is listed twice",
					 o->regions[i]);
				return refuse("regions", v, why);
			}
		}
	}
	return 0;
}

/* Decimal digits, then optionally '.' and more: what the documentation
 * shows (30, 0.5). strtod() alone would take " 30", "0x10" or "1e3". */
static bool decimal(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (n == 0)
		return false;
	if (v[n] == '.')
		n += 1 + strspn(v + n + 1, "0123456789");
	return v[n] == '\0' && v[n - 1] != '.';
}

static int check_num(const struct optdef *d, const char *v, double *out)
{
	char *end;
	double x;
	char why[96];

	errno = 0;
	x = strtod(v, &end);
	if (!decimal(v) || end == v || *end || errno || !isfinite(x) ||
	    x < d->min || x > d->max) {
		snprintf(why, sizeof why, "not a number from %g to %g",
			 d->min, d->max);
		return refuse(d->name, v, why);
	}
	*out = x;
	return 0;
}

static int check_level(const char *v, enum log_level *out)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return refuse("log_level", v, "use error, warning, info or debug");
}

static int check_tags(struct options *o, const char *v)
{
	if (!(o->tags = split(v, &o->ntags)))
		return refuse("tags", v, "out of memory");
	for (size_t i = 0; i < o->ntags; i++)
		if (!*o->tags[i])
			return refuse("tags", v, o->ntags == 1 ? "no tag given" :
				      "an empty tag between separators");
	o->filters.tags = (const char *const *)o->tags;
	o->filters.ntags = o->ntags;
	return 0;
}

/* A file read after the daemon leaves its directory: absolute, and
 * readable now, so that a mistake is said at mount time. */
static int check_file(const char *name, const char *v, char **out)
{
	struct stat st;
	int fd = open(v, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return refuse(name, v, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(name, v, "not a regular file");
	}
	close(fd);
	if (!(*out = realpath(v, NULL)))
		return refuse(name, v, strerror(errno));
	return 0;
}

/* The state directory: "none", or a path made absolute (the daemon
 * leaves its directory; the directory itself may not exist yet). */
static int check_state(struct options *o, const char *v)
{
	char cwd[4096];

	if (strcmp(v, "none") == 0) {
		o->no_state = true;
		return 0;
	}
	if (!*v)
		return refuse("state_dir", v, "empty value (none: nothing is "
			      "saved)");
	if (v[0] != '/' && !getcwd(cwd, sizeof cwd))
		return refuse("state_dir", v, strerror(errno));
	if (v[0] == '/')
		o->state_dir = strdup(v);
	else if (asprintf(&o->state_dir, "%s/%s", cwd, v) < 0)
		o->state_dir = NULL;
	return o->state_dir ? 0 : refuse("state_dir", v, "out of memory");
}

/* What a PEM file of each kind holds: a certificate, or a private key
 * that is not encrypted (no passphrase can be given). */
static int check_pem(const char *name, const char *path, bool key)
{
	char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	if (!key && !strstr(buf, "-----BEGIN CERTIFICATE-----"))
		return refuse(name, path, "not a PEM certificate (\"-----BEGIN "
			      "CERTIFICATE-----\")");
	if (key && strstr(buf, "-----BEGIN ENCRYPTED PRIVATE KEY-----"))
		return refuse(name, path, "an encrypted key: interlinkfs "
			      "cannot ask for its passphrase");
	if (key && !strstr(buf, "PRIVATE KEY-----"))
		return refuse(name, path, "not a PEM private key (\"-----BEGIN "
			      "... PRIVATE KEY-----\")");
	return 0;
}

/* cert_file and key_file: both or neither, each of its kind. */
static int check_client_cert(struct options *o)
{
	if (!o->cert_file != !o->key_file) {
		fprintf(stderr, "interlinkfs: -o %s without %s: a client "
			"certificate goes with its private key (give both, or "
			"neither)\n", o->cert_file ? "cert_file" : "key_file",
			o->cert_file ? "key_file" : "cert_file");
		return -1;
	}
	if (o->cert_file && (check_pem("cert_file", o->cert_file, false) ||
			     check_pem("key_file", o->key_file, true)))
		return -1;
	return 0;
}

static char **file_slot(struct options *o, enum opt_id id)
{
	switch (id) {
	case OPT_CERT_FILE: return &o->cert_file;
	case OPT_KEY_FILE: return &o->key_file;
	default: return &o->ca_file;
	}
}

static const char **filter_slot(struct api_filters *f, enum opt_id id)
{
	switch (id) {
	case OPT_PROJECT_ID: return &f->project_id;
	case OPT_ORGANIZATION_ID: return &f->organization_id;
	case OPT_NAME: return &f->name;
	case OPT_STATUS: return &f->status;
	case OPT_BANDWIDTH_MBPS: return &f->bandwidth_mbps;
	case OPT_POP_ID: return &f->pop_id;
	default: return NULL;
	}
}

static double *num_slot(struct options *o, enum opt_id id)
{
	switch (id) {
	case OPT_TTL: return &o->ttl;
	case OPT_CATALOG_TTL: return &o->catalog_ttl;
	case OPT_STALE: return &o->stale;
	case OPT_GRACE: return &o->grace;
	case OPT_TIMEOUT: return &o->timeout;
	case OPT_RATE: return &o->rate;
	case OPT_CACHE_SIZE: return &o->cache_mib;
	case OPT_CHANGES: return &o->changes;
	default: return NULL;
	}
}

/* One option's value (given, or its default). */
static int check_one(struct options *o, enum opt_id id)
{
	const struct optdef *d = &defs[id];
	const char *v = o->raw[id];
	char why[256];

	if (!v && (d->type == T_FILTER || d->type == T_TAGS ||
		   d->type == T_STR || d->type == T_FILE ||
		   d->type == T_PEM || d->type == T_STATE))
		return 0; /* not given, no default value */
	if (!v)
		v = d->def;
	switch (d->type) {
	case T_REGIONS:
		return check_regions(o, v);
	case T_NUM:
		return check_num(d, v, num_slot(o, id));
	case T_LEVEL:
		return check_level(v, &o->level);
	case T_FILE:
	case T_PEM:
		return check_file(d->name, v, file_slot(o, id));
	case T_TAGS:
		return check_tags(o, v);
	case T_STATE:
		return check_state(o, v);
	case T_STR:
		if (!*v)
			return refuse(d->name, v, "empty value");
		*(id == OPT_API_URL ? &o->api_url : &o->profile) = v;
		return 0;
	case T_FILTER:
		if (filter_check(d->name, v, why, sizeof why)) {
			fprintf(stderr, "interlinkfs: -o %s\n", why);
			return -1;
		}
		*filter_slot(&o->filters, id) = v;
		return 0;
	}
	return 0;
}

int options_check(struct options *o)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (check_one(o, (enum opt_id)i))
			return -1;
	if (check_client_cert(o))
		return -1;
	if (o->debug)
		o->level = LOGL_DEBUG;
	return 0;
}

static void free_vec(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void options_free(struct options *o)
{
	for (int i = 0; i < OPT_COUNT; i++)
		free(o->raw[i]);
	free_vec(o->regions, o->nregions);
	free_vec(o->tags, o->ntags);
	free(o->ca_file);
	free(o->cert_file);
	free(o->key_file);
	free(o->state_dir);
	memset(o, 0, sizeof *o);
}
