/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: interlinkfs's own mount options (-o regions=..., ttl=, ...),
 * from one table: what --help prints, how each value is checked, and its
 * default. Everything is checked before anything is mounted; a refusal is
 * one line on standard error.
 *
 * Not thread-safe (used by main before any thread starts).
 */
#ifndef INTERLINKFS_OPTIONS_H
#define INTERLINKFS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <fuse_opt.h>

#include "filter.h"
#include "log.h"

/* Longest region list accepted. */
#define OPTIONS_MAX_REGIONS 64

enum opt_id {
	OPT_REGIONS, OPT_TTL, OPT_CATALOG_TTL, OPT_STALE, OPT_GRACE,
	OPT_TIMEOUT, OPT_API_URL, OPT_CA_FILE, OPT_CERT_FILE, OPT_KEY_FILE,
	OPT_PROFILE, OPT_PROJECT_ID, OPT_ORGANIZATION_ID, OPT_NAME,
	OPT_TAGS, OPT_STATUS, OPT_BANDWIDTH_MBPS, OPT_POP_ID, OPT_RATE,
	OPT_CACHE_SIZE, OPT_CHANGES, OPT_STATE_DIR, OPT_LOG_LEVEL,
	OPT_COUNT,
};

struct options {
	char *raw[OPT_COUNT];         /* as given, malloc'ed; NULL: not given */
	/* After options_check(): */
	char **regions;               /* malloc'ed, nregions of them */
	size_t nregions;
	char **tags;
	size_t ntags;
	double ttl, catalog_ttl, stale, grace, timeout, rate, cache_mib;
	double changes;               /* lines the journal keeps */
	/* Where the state is saved between runs: an absolute path
	 * (malloc'ed), or NULL for the default; none: nowhere. */
	char *state_dir;
	bool no_state;
	enum log_level level;
	const char *api_url;          /* borrowed from raw, NULL: not given */
	char *ca_file;                /* absolute (malloc'ed), NULL: not given */
	char *cert_file, *key_file;   /* the same; both or neither, PEM */
	const char *profile;
	struct api_filters filters;   /* strings borrowed from raw */
	/* Flags seen on the command line. gateway: the API is a fleet
	 * gateway that adds the secret key itself, so none is looked up
	 * or sent. */
	bool help, version, allow_other, debug, secret, gateway;
};

/*
 * Takes interlinkfs's options out of args (the rest stays for libfuse) into
 * o (zeroed first). -1 when args cannot be parsed (libfuse said why).
 */
int options_parse(struct fuse_args *args, struct options *o);

/*
 * Checks every value and fills the typed fields (defaults for what was not
 * given). 0, or -1 after printing one line saying what is wrong.
 */
int options_check(struct options *o);

/* The options with their defaults, one per line, as --help shows them. */
void options_help(FILE *f);

/* The default of an option, as --help shows it (borrowed). */
const char *options_default(enum opt_id id);

/* Frees what o holds. o itself is the caller's. */
void options_free(struct options *o);

#endif
