/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scwcfg: credentials the Scaleway way (environment, config file, profiles),
 * warnings, and error messages that never contain the secret.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "scwcfg.h"

#define SECRET_TOP "11111111-1111-4111-8111-111111111111"
#define SECRET_PROD "22222222-2222-4222-8222-222222222222"
#define SECRET_ENV "33333333-3333-4333-8333-333333333333"

static char dir[256];
static char cfgpath[300];
static char logbuf[8192];

static void sink(enum log_level l, const char *msg, void *ud)
{
	(void)l;
	(void)ud;
	strncat(logbuf, msg, sizeof logbuf - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void write_cfg(const char *text, mode_t mode)
{
	FILE *f = fopen(cfgpath, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(cfgpath, mode);
}

static const char *config =
	"access_key: SCWTOPTOPTOPTOPTOPTOP\n"
	"secret_key: " SECRET_TOP "\n"
	"default_project_id: top-project\n"
	"default_region: fr-par\n"
	"api_url: https://api.example.test/\n"
	"profiles:\n"
	"  prod:\n"
	"    secret_key: " SECRET_PROD "\n"
	"    default_region: nl-ams\n"
	"  nokey:\n"
	"    default_region: pl-waw\n"
	"    insecure: true\n";

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/interlinkfs-scwcfg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cfgpath, sizeof cfgpath, "%s/config.yaml", dir);
	logbuf[0] = '\0';
	log_setup(LOGL_DEBUG, false);
	log_set_sink(sink, NULL);
	return 0;
}

static int teardown(void **st)
{
	char p[320];

	(void)st;
	unlink(cfgpath);
	snprintf(p, sizeof p, "%s/scw/config.yaml", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/scw", dir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/.config/scw/config.yaml", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/.config/scw", dir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/.config", dir);
	rmdir(p);
	rmdir(dir);
	log_set_sink(NULL, NULL);
	return 0;
}

static struct scw_settings *load_ok(const char *profile, const char **env)
{
	struct scw_settings *s = NULL;
	char err[512] = "";
	int rc = scwcfg_load(profile, env, &s, err, sizeof err);

	if (rc)
		fail_msg("scwcfg_load: %d %s", rc, err);
	return s;
}

static void test_environment_only(void **st)
{
	const char *env[] = {"SCW_SECRET_KEY=" SECRET_ENV,
			     "SCW_ACCESS_KEY=SCWENVENVENV",
			     "SCW_API_URL=http://127.0.0.1:9",
			     "SCW_DEFAULT_PROJECT_ID=p", "SCW_DEFAULT_REGION=it-mil",
			     "HOME=/nonexistent-home", NULL};
	struct scw_settings *s = load_ok(NULL, env);

	(void)st;
	assert_string_equal(s->secret_key, SECRET_ENV);
	assert_string_equal(s->access_key, "SCWENVENVENV");
	assert_string_equal(s->api_url, "http://127.0.0.1:9");
	assert_string_equal(s->default_region, "it-mil");
	assert_string_equal(s->key_source,
			    "the SCW_SECRET_KEY environment variable");
	assert_null(s->config_path);
	assert_false(s->insecure);
	scwcfg_free(s);
}

static void test_the_key_is_trimmed_and_must_be_a_uuid(void **st)
{
	const char *trimmed[] = {"SCW_SECRET_KEY= \t" SECRET_ENV "\n",
				 "HOME=/nonexistent-home", NULL};
	const char *bad[][3] = {
		{"SCW_SECRET_KEY=not-a-key\n", "HOME=/nonexistent-home", NULL},
		{"SCW_SECRET_KEY=" SECRET_ENV "x", "HOME=/nonexistent-home",
		 NULL},
		{"SCW_SECRET_KEY=" SECRET_ENV " " SECRET_ENV,
		 "HOME=/nonexistent-home", NULL},
	};
	struct scw_settings *s = load_ok(NULL, trimmed);
	char err[512];

	(void)st;
	assert_string_equal(s->secret_key, SECRET_ENV);
	scwcfg_free(s);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		s = NULL;
		assert_int_equal(scwcfg_load(NULL, bad[i], &s, err, sizeof err),
				 -EINVAL);
		assert_null(s);
		assert_non_null(strstr(err, "the SCW_SECRET_KEY environment "
				       "variable is not a Scaleway secret key"));
		/* The key is never shown. */
		assert_null(strstr(err, "not-a-key"));
		assert_null(strstr(err, SECRET_ENV));
	}
}

static void test_file_only_top_level(void **st)
{
	char e1[400];
	const char *env[] = {e1, NULL};
	struct scw_settings *s;

	(void)st;
	write_cfg(config, 0600);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	s = load_ok(NULL, env);
	assert_string_equal(s->secret_key, SECRET_TOP);
	assert_string_equal(s->default_project_id, "top-project");
	assert_string_equal(s->api_url, "https://api.example.test");
	assert_null(s->profile);
	assert_string_equal(s->config_path, cfgpath);
	assert_string_equal(s->key_source, cfgpath);
	assert_null(strstr(logbuf, "readable"));
	scwcfg_free(s);
}

static void test_named_profile_falls_back_to_top_level(void **st)
{
	char e1[400];
	const char *env[] = {e1, NULL};
	const char *env_profile[] = {e1, "SCW_PROFILE=prod", NULL};
	struct scw_settings *s;
	char want[400];

	(void)st;
	write_cfg(config, 0600);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	snprintf(want, sizeof want, "profile 'prod' of %s", cfgpath);
	/* explicit profile */
	s = load_ok("prod", env);
	assert_string_equal(s->secret_key, SECRET_PROD);
	assert_string_equal(s->default_region, "nl-ams");
	assert_string_equal(s->default_project_id, "top-project");
	assert_string_equal(s->profile, "prod");
	assert_string_equal(s->key_source, want);
	scwcfg_free(s);
	/* SCW_PROFILE */
	s = load_ok(NULL, env_profile);
	assert_string_equal(s->secret_key, SECRET_PROD);
	scwcfg_free(s);
	/* the explicit option beats SCW_PROFILE */
	s = load_ok("nokey", env_profile);
	assert_string_equal(s->secret_key, SECRET_TOP);
	assert_string_equal(s->default_region, "pl-waw");
	assert_true(s->insecure);
	scwcfg_free(s);
}

static void test_active_profile_key(void **st)
{
	char e1[400], text[1024];
	const char *env[] = {e1, NULL};
	struct scw_settings *s;

	(void)st;
	snprintf(text, sizeof text, "active_profile: prod\n%s", config);
	write_cfg(text, 0600);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	s = load_ok(NULL, env);
	assert_string_equal(s->secret_key, SECRET_PROD);
	assert_string_equal(s->profile, "prod");
	scwcfg_free(s);
}

static void test_environment_overrides_file(void **st)
{
	char e1[400];
	const char *env[] = {e1, "SCW_SECRET_KEY=" SECRET_ENV,
			     "SCW_DEFAULT_REGION=pl-waw", "SCW_INSECURE=true",
			     NULL};
	struct scw_settings *s;

	(void)st;
	write_cfg(config, 0600);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	s = load_ok("prod", env);
	assert_string_equal(s->secret_key, SECRET_ENV);
	assert_string_equal(s->default_region, "pl-waw");
	assert_string_equal(s->default_project_id, "top-project");
	assert_true(s->insecure);
	assert_string_equal(s->key_source,
			    "the SCW_SECRET_KEY environment variable");
	scwcfg_free(s);
}

static void test_xdg_and_home_locations(void **st)
{
	char p[400], e1[400];
	const char *env_xdg[] = {e1, NULL};
	const char *env_home[] = {e1, NULL};
	struct scw_settings *s;
	FILE *f;

	(void)st;
	snprintf(p, sizeof p, "%s/scw", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/scw/config.yaml", dir);
	f = fopen(p, "w");
	fputs("secret_key: " SECRET_TOP "\n", f);
	fclose(f);
	chmod(p, 0600);
	snprintf(e1, sizeof e1, "XDG_CONFIG_HOME=%s", dir);
	s = load_ok(NULL, env_xdg);
	assert_string_equal(s->config_path, p);
	scwcfg_free(s);
	unlink(p);

	snprintf(p, sizeof p, "%s/.config", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/.config/scw", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/.config/scw/config.yaml", dir);
	f = fopen(p, "w");
	fputs("secret_key: " SECRET_PROD "\n", f);
	fclose(f);
	chmod(p, 0600);
	snprintf(e1, sizeof e1, "HOME=%s", dir);
	s = load_ok(NULL, env_home);
	assert_string_equal(s->secret_key, SECRET_PROD);
	assert_string_equal(s->config_path, p);
	scwcfg_free(s);
	(void)env_home;
}

static void test_missing_secret_names_both_ways(void **st)
{
	char e1[400], err[512];
	const char *env[] = {e1, NULL};
	struct scw_settings *s = NULL;

	(void)st;
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	assert_int_equal(scwcfg_load(NULL, env, &s, err, sizeof err), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(err, "SCW_SECRET_KEY"));
	assert_non_null(strstr(err, cfgpath));
	/* An empty key is no key (a YAML anchor on nothing, say). */
	write_cfg("secret_key: &a\nprofiles: {prod: {secret_key: ''}}\n", 0600);
	assert_int_equal(scwcfg_load("prod", env, &s, err, sizeof err),
			 -ENOENT);
	assert_null(s);
	/* A profile without a key and no top-level key either. */
	write_cfg("profiles:\n  p:\n    default_region: fr-par\n", 0600);
	assert_int_equal(scwcfg_load("p", env, &s, err, sizeof err), -ENOENT);
}

static void test_unknown_profile_and_bad_yaml(void **st)
{
	char e1[400], err[512];
	const char *env[] = {e1, NULL};
	struct scw_settings *s = NULL;

	(void)st;
	write_cfg(config, 0600);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	assert_int_equal(scwcfg_load("staging", env, &s, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "'staging'"));
	assert_null(strstr(err, SECRET_TOP));

	write_cfg("secret_key: " SECRET_TOP "\nprofiles: [unclosed\n", 0600);
	assert_int_equal(scwcfg_load(NULL, env, &s, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, cfgpath));
	assert_null(strstr(err, SECRET_TOP));

	write_cfg("- just\n- a list\n", 0600);
	assert_int_equal(scwcfg_load(NULL, env, &s, err, sizeof err), -EINVAL);
	/* "default" is the top level when no profile has that name. */
	write_cfg(config, 0600);
	s = load_ok("default", env);
	assert_string_equal(s->secret_key, SECRET_TOP);
	scwcfg_free(s);
}

static void test_group_readable_file_warns(void **st)
{
	char e1[400];
	const char *env[] = {e1, NULL};
	struct scw_settings *s;

	(void)st;
	write_cfg(config, 0644);
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", cfgpath);
	s = load_ok(NULL, env);
	assert_non_null(strstr(logbuf, "readable by group or others"));
	assert_non_null(strstr(logbuf, "chmod 600"));
	assert_null(strstr(logbuf, SECRET_TOP));
	scwcfg_free(s);
}

static void test_unreadable_config_fails(void **st)
{
	char e1[400], err[512];
	const char *env[] = {e1, NULL};
	struct scw_settings *s = NULL;

	(void)st;
	/* A directory where the file should be: exists, cannot be read. */
	snprintf(e1, sizeof e1, "SCW_CONFIG_PATH=%s", dir);
	assert_true(scwcfg_load(NULL, env, &s, err, sizeof err) < 0);
	assert_null(s);
	assert_non_null(strstr(err, dir));
}

static void test_truthy(void **st)
{
	(void)st;
	assert_true(scwcfg_truthy("true"));
	assert_true(scwcfg_truthy("TRUE"));
	assert_true(scwcfg_truthy("1"));
	assert_false(scwcfg_truthy("false"));
	assert_false(scwcfg_truthy(""));
	assert_false(scwcfg_truthy(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environment_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_only_top_level, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_named_profile_falls_back_to_top_level, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_active_profile_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_environment_overrides_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_xdg_and_home_locations,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_missing_secret_names_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_profile_and_bad_yaml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_readable_file_warns,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_config_fails,
						setup, teardown),
		cmocka_unit_test(test_the_key_is_trimmed_and_must_be_a_uuid),
		cmocka_unit_test(test_truthy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
