/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scwcfg: credentials and settings, resolved the way every Scaleway tool
 * does it.
 *
 * Config file: $SCW_CONFIG_PATH, else $XDG_CONFIG_HOME/scw/config.yaml, else
 * $HOME/.config/scw/config.yaml (a missing file is not an error). Active
 * profile: the explicit one given here, else $SCW_PROFILE, else the file's
 * active_profile, else the top-level values. A named profile's unset keys
 * fall back to the top level. Environment variables (SCW_ACCESS_KEY,
 * SCW_SECRET_KEY, SCW_API_URL, SCW_DEFAULT_PROJECT_ID,
 * SCW_DEFAULT_ORGANIZATION_ID, SCW_DEFAULT_REGION, SCW_DEFAULT_ZONE,
 * SCW_INSECURE) override the file.
 *
 * The secret key is never printed or logged by this module.
 */
#ifndef INTERLINKFS_SCWCFG_H
#define INTERLINKFS_SCWCFG_H

#include <stdbool.h>
#include <stddef.h>

#define SCW_DEFAULT_API_URL "https://api.scaleway.com"

struct scw_settings {
	char *secret_key;             /* never NULL on success */
	char *access_key;             /* may be NULL */
	char *api_url;                /* never NULL: default applied */
	char *default_project_id;
	char *default_organization_id;
	char *default_region;
	char *default_zone;
	bool insecure;
	char *profile;                /* active named profile, or NULL */
	char *config_path;            /* the file read, or NULL */
	/* Where the secret came from, for messages: "the SCW_SECRET_KEY
	 * environment variable" or "profile 'p' of /path". Never the key. */
	char *key_source;
};

/*
 * Resolve settings. profile: explicit profile name or NULL. envp: the
 * environment to read ("NAME=value" strings, NULL-terminated), or NULL for
 * the process environment. The secret key loses surrounding blanks (a key
 * read from a file ends with a newline) and must then be a UUID. On error
 * returns -errno (-ENOENT no secret key, -EACCES unreadable file, -EINVAL
 * bad file, unknown profile, or a key that is not a UUID) and writes a
 * one-line message for the user to err, never the key. Warnings (config
 * file readable by others) are logged. *out is a new object for
 * scwcfg_free().
 * Thread-safe (reads only its arguments and the file).
 */
int scwcfg_load(const char *profile, const char *const *envp,
		struct scw_settings **out, char *err, size_t errlen);

/* Frees s and wipes the secret from memory. NULL is a no-op. */
void scwcfg_free(struct scw_settings *s);

/* Is s a true value in the Scaleway sense ("true", "1", "yes")? Pure. */
bool scwcfg_truthy(const char *s);

#endif
