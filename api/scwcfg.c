/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scwcfg: Scaleway credentials from the environment and config.yaml.
 */
#include "scwcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "field.h"
#include "log.h"

extern char **environ;

enum {
	K_ACCESS, K_SECRET, K_API_URL, K_PROJECT, K_ORG, K_REGION, K_ZONE,
	K_INSECURE, K_ACTIVE, K_COUNT
};

static const char *const file_keys[K_COUNT] = {
	"access_key", "secret_key", "api_url", "default_project_id",
	"default_organization_id", "default_region", "default_zone",
	"insecure", "active_profile",
};
static const char *const env_keys[K_COUNT] = {
	"SCW_ACCESS_KEY", "SCW_SECRET_KEY", "SCW_API_URL",
	"SCW_DEFAULT_PROJECT_ID", "SCW_DEFAULT_ORGANIZATION_ID",
	"SCW_DEFAULT_REGION", "SCW_DEFAULT_ZONE", "SCW_INSECURE", NULL,
};

static const char *env_get(const char *const *envp, const char *name)
{
	size_t n = strlen(name);

	if (!envp)
		envp = (const char *const *)environ;
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

bool scwcfg_truthy(const char *s)
{
	return s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		     strcasecmp(s, "yes") == 0);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
			    const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* Copies the known keys of a mapping into vals (strdup'ed). */
static int read_keys(yaml_document_t *doc, yaml_node_t *map,
		     char *vals[K_COUNT])
{
	for (int k = 0; k < K_COUNT; k++) {
		const char *v = scalar(map_get(doc, map, file_keys[k]));
		if (v && !(vals[k] = strdup(v)))
			return -ENOMEM;
	}
	return 0;
}

static void free_vals(char *vals[K_COUNT])
{
	for (int k = 0; k < K_COUNT; k++) {
		if (vals[k]) {
			explicit_bzero(vals[k], strlen(vals[k]));
			free(vals[k]);
			vals[k] = NULL;
		}
	}
}

static char *config_path(const char *const *envp)
{
	const char *p = env_get(envp, "SCW_CONFIG_PATH");
	const char *xdg = env_get(envp, "XDG_CONFIG_HOME");
	const char *home = env_get(envp, "HOME");
	char *out = NULL;

	if (p && *p)
		return strdup(p);
	if (xdg && *xdg) {
		if (asprintf(&out, "%s/scw/config.yaml", xdg) < 0)
			return NULL;
		return out;
	}
	if (home && *home) {
		if (asprintf(&out, "%s/.config/scw/config.yaml", home) < 0)
			return NULL;
		return out;
	}
	return NULL;
}

/*
 * Reads the file at path into top and (if profile is named in it) prof.
 * Returns 0 (also when there is no file: *found = false) or -errno with a
 * message in err.
 */
static int read_file(const char *path, char *top[K_COUNT],
		     yaml_document_t *doc, bool *found, char *err,
		     size_t errlen)
{
	yaml_parser_t parser;
	yaml_node_t *root;
	struct stat st;
	FILE *f;
	int rc = 0;

	*found = false;
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot read the scw config file %s: %s",
			 path, strerror(errno));
		return rc;
	}
	/* fopen() opens a directory for reading: it is said as such, not as
	 * a file with a loose mode that will not parse. */
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fstat(fileno(f), &st) != 0 ? -errno :
		     S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "cannot read the scw config file %s: %s",
			 path, rc == -EINVAL ? "not a regular file" :
			 strerror(-rc));
		fclose(f);
		return rc;
	}
	if (st.st_mode & 077)
		log_warn("the scw config file %s holds a secret key and is "
			 "readable by group or others (mode %03o); run: "
			 "chmod 600 %s", path, (unsigned)(st.st_mode & 0777),
			 path);
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, doc)) {
		snprintf(err, errlen, "cannot parse the scw config file "
			 "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	*found = true;
	root = yaml_document_get_root_node(doc);
	if (!root)
		return 0; /* empty file */
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "the scw config file %s is not a mapping "
			 "of keys to values", path);
		return -EINVAL;
	}
	return read_keys(doc, root, top);
}

static int set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/*
 * A key read from a file often ends with a newline: surrounding blanks are
 * dropped. What is left must be a UUID, as Scaleway's secret keys are: a
 * key of any other form fails every request (a newline even makes libcurl
 * send a broken header), so it is refused here, naming where it came from
 * and never showing it.
 */
static int check_key(struct scw_settings *s, char *err, size_t errlen)
{
	char *k = s->secret_key;
	size_t n = strlen(k), start = strspn(k, " \t\r\n\v\f");

	while (n > start && strchr(" \t\r\n\v\f", k[n - 1]))
		n--;
	memmove(k, k + start, n - start);
	explicit_bzero(k + (n - start), strlen(k + (n - start)));
	k[n - start] = '\0';
	if (field_id_valid(k, strlen(k)))
		return 0;
	snprintf(err, errlen, "the secret key from %s is not a Scaleway secret "
		 "key (a UUID, xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); it is not "
		 "shown here", s->key_source);
	return -EINVAL;
}

/* The profile in use (argument, SCW_PROFILE, then active_profile): its
 * keys into prof. "default" names the top level when no profile has that
 * name, as in the scw CLI. */
static int read_profile(const char *profile, const char *const *envp,
			yaml_document_t *doc, bool found, const char *path,
			char **top, char **prof, struct scw_settings *s,
			char *err, size_t errlen)
{
	const char *env = env_get(envp, "SCW_PROFILE");
	const char *active = profile && *profile ? profile :
			     env && *env ? env : top[K_ACTIVE];
	yaml_node_t *profiles, *p;
	int rc;

	if (!active)
		return 0;
	profiles = found ? map_get(doc, yaml_document_get_root_node(doc),
				   "profiles") : NULL;
	p = map_get(doc, profiles, active);
	if (p && p->type == YAML_MAPPING_NODE) {
		if ((rc = read_keys(doc, p, prof)))
			return rc;
		return set_str(&s->profile, active) ? -ENOMEM : 0;
	}
	if (strcmp(active, "default") == 0)
		return 0;
	if (path)
		snprintf(err, errlen, "scw profile '%s' not found in %s%s",
			 active, path, found ? "" : " (no such file)");
	else
		snprintf(err, errlen, "scw profile '%s' given but there is no "
			 "scw config file (HOME is not set)", active);
	return -EINVAL;
}

/* Named profile over top level, environment over both. */
static int merge(const char *const *envp, char **top, char **prof,
		 struct scw_settings *s)
{
	char **dst[K_COUNT] = {
		&s->access_key, &s->secret_key, &s->api_url,
		&s->default_project_id, &s->default_organization_id,
		&s->default_region, &s->default_zone, NULL, NULL,
	};

	for (int k = 0; k < K_ACTIVE; k++) {
		const char *v = prof[k] ? prof[k] : top[k];
		const char *e = env_keys[k] ? env_get(envp, env_keys[k]) : NULL;

		if (e && *e)
			v = e;
		if (k == K_INSECURE) {
			s->insecure = scwcfg_truthy(v);
			continue;
		}
		if (v && *v && set_str(dst[k], v))
			return -ENOMEM;
	}
	return 0;
}

/* Where the key that won came from (empty values do not count). */
static int key_source(const char *const *envp, const char *path,
		      char **prof, struct scw_settings *s, char *err,
		      size_t errlen)
{
	const char *env = env_get(envp, "SCW_SECRET_KEY");
	int rc;

	if (!s->secret_key) {
		snprintf(err, errlen, "no secret key found: set SCW_SECRET_KEY, "
			 "or secret_key in %s (as 'scw init' does)",
			 path ? path : "~/.config/scw/config.yaml");
		return -ENOENT;
	}
	if (env && *env)
		rc = set_str(&s->key_source,
			     "the SCW_SECRET_KEY environment variable");
	else if (prof[K_SECRET] && *prof[K_SECRET])
		rc = asprintf(&s->key_source, "profile '%s' of %s", s->profile,
			      path) < 0 ? -ENOMEM : 0;
	else
		rc = asprintf(&s->key_source, "%s%s", path,
			      s->profile ? " (top level)" : "") < 0 ?
		     -ENOMEM : 0;
	if (rc || !s->key_source) {
		s->key_source = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The API URL (the default when none; no trailing '/'). */
static int api_url(struct scw_settings *s)
{
	if (!s->api_url && set_str(&s->api_url, SCW_DEFAULT_API_URL))
		return -ENOMEM;
	for (size_t n = strlen(s->api_url); n > 0 && s->api_url[n - 1] == '/';
	     n--)
		s->api_url[n - 1] = '\0';
	return 0;
}

int scwcfg_load(const char *profile, const char *const *envp,
		struct scw_settings **out, char *err, size_t errlen)
{
	char *top[K_COUNT] = {0}, *prof[K_COUNT] = {0};
	char *path = config_path(envp);
	struct scw_settings *s = calloc(1, sizeof *s);
	yaml_document_t doc;
	bool found = false;
	int rc = s ? 0 : -ENOMEM;

	memset(&doc, 0, sizeof doc);
	if (!rc && path)
		rc = read_file(path, top, &doc, &found, err, errlen);
	if (!rc)
		rc = read_profile(profile, envp, &doc, found, path, top, prof,
				  s, err, errlen);
	if (!rc)
		rc = merge(envp, top, prof, s);
	if (!rc)
		rc = key_source(envp, path, prof, s, err, errlen);
	if (!rc)
		rc = check_key(s, err, errlen);
	if (!rc)
		rc = api_url(s);
	if (!rc && found && set_str(&s->config_path, path))
		rc = -ENOMEM;
	if (rc)
		scwcfg_free(s);
	else
		*out = s;
	free_vals(top);
	free_vals(prof);
	if (found)
		yaml_document_delete(&doc);
	free(path);
	return rc;
}

void scwcfg_free(struct scw_settings *s)
{
	if (!s)
		return;
	if (s->secret_key) {
		explicit_bzero(s->secret_key, strlen(s->secret_key));
		free(s->secret_key);
	}
	free(s->access_key);
	free(s->api_url);
	free(s->default_project_id);
	free(s->default_organization_id);
	free(s->default_region);
	free(s->default_zone);
	free(s->profile);
	free(s->config_path);
	free(s->key_source);
	free(s);
}
