/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: interlinkfs's mount options, parsed and checked as main does
 * (libfuse's parser, then options_check): the defaults, the forms each
 * value may take, and one line on standard error for each refusal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "options.h"

/* Parses and checks `-o opt` (NULL: no option): options_check's return,
 * with what it wrote on standard error in err (1 KiB). */
static int check(struct options *o, const char *opt, char *err)
{
	char *argv[] = {"interlinkfs", "-o", (char *)opt, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(opt ? 3 : 1, argv);
	FILE *f = tmpfile();
	int saved = dup(2), rc;
	size_t n;

	assert_non_null(f);
	assert_int_equal(options_parse(&args, o), 0);
	fflush(stderr);
	dup2(fileno(f), 2);
	rc = options_check(o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(err, 1, 1023, f);
	err[n] = '\0';
	fclose(f);
	fuse_opt_free_args(&args);
	return rc;
}

/* opt is refused with one line that contains want. */
static void refused(const char *opt, const char *want)
{
	struct options o;
	char err[1024];

	if (check(&o, opt, err) != -1)
		fail_msg("-o %s was taken", opt);
	if (!strstr(err, want) || strchr(err, '\n') != err + strlen(err) - 1)
		fail_msg("-o %s: want one line with \"%s\", got \"%s\"", opt,
			 want, err);
	options_free(&o);
}

static void test_defaults(void **st)
{
	struct options o;
	char err[1024];

	(void)st;
	assert_int_equal(check(&o, NULL, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(o.nregions, 3);
	assert_string_equal(o.regions[0], "fr-par");
	assert_string_equal(o.regions[2], "pl-waw");
	assert_true(o.ttl == 30 && o.catalog_ttl == 3600 && o.stale == 600);
	assert_true(o.grace == 1 && o.timeout == 15 && o.rate == 20);
	assert_true(o.cache_mib == 256);
	assert_int_equal(o.level, LOGL_WARNING);
	assert_null(o.filters.name);
	assert_null(o.api_url);
	options_free(&o);
}

static void test_numbers_are_decimal_and_in_range(void **st)
{
	struct options o;
	char err[1024];

	(void)st;
	assert_int_equal(check(&o, "ttl=0.5,grace=0,rate=0,stale=604800",
			       err), 0);
	assert_true(o.ttl == 0.5 && o.grace == 0 && o.rate == 0 &&
		    o.stale == 604800);
	options_free(&o);
	for (const char *const *v = (const char *const[]){"ttl=0x10",
	     "ttl= 30", "ttl=30 ", "ttl=1e3", "ttl=+5", "ttl=-1", "ttl=.5",
	     "ttl=5.", "ttl=nan", "ttl=inf", "ttl=", "ttl=86401",
	     "timeout=0", "cache_size=0", NULL}; *v; v++)
		refused(*v, "not a number from");
}

static void test_lists_have_no_empty_element(void **st)
{
	struct options o;
	char err[1024];

	(void)st;
	assert_int_equal(check(&o, "regions=nl-ams:fr-par,tags=a:b c", err),
			 0);
	assert_int_equal(o.nregions, 2);
	assert_string_equal(o.regions[0], "nl-ams");
	assert_int_equal(o.filters.ntags, 2);
	assert_string_equal(o.filters.tags[1], "b c");
	options_free(&o);
	refused("regions=fr-par::nl-ams", "an empty region");
	refused("regions=", "no region given");
	refused("regions=fr-par:fr-par", "fr-par is listed twice");
	refused("regions=Paris", "'Paris' is not a region code");
	refused("regions=fr-par:../etc", "is not a region code");
	refused("tags=a::b", "an empty tag");
	refused("tags=", "no tag given");
}

static void test_filters_and_levels(void **st)
{
	struct options o;
	char err[1024];

	(void)st;
	assert_int_equal(check(&o, "status=failed,bandwidth_mbps=1000,"
			       "log_level=debug,name=Edge", err), 0);
	assert_string_equal(o.filters.status, "failed");
	assert_string_equal(o.filters.bandwidth_mbps, "1000");
	assert_string_equal(o.filters.name, "Edge");
	assert_int_equal(o.level, LOGL_DEBUG);
	options_free(&o);
	refused("status=bogus", "not a status");
	refused("pop_id=x", "not a UUID");
	refused("bandwidth_mbps=10G", "not an unsigned integer");
	refused("name=", "empty value");
	refused("log_level=loud", "use error, warning, info or debug");
	refused("ca_file=/nonexistent/ca.pem", "No such file");
}

static void test_flags_and_secrets(void **st)
{
	char *argv[] = {"interlinkfs", "-o", "allow_other,secret_key=x", "-V",
			NULL};
	struct fuse_args args = FUSE_ARGS_INIT(4, argv);
	struct options o;

	(void)st;
	assert_int_equal(options_parse(&args, &o), 0);
	assert_true(o.allow_other && o.version && o.secret);
	/* The key is never kept, not even as given. */
	for (int i = 0; i < args.argc; i++)
		assert_null(strstr(args.argv[i], "secret_key"));
	options_free(&o);
	fuse_opt_free_args(&args);
}

/* A file in a new temporary directory holding text; its path (static
 * storage, one per slot). */
static const char *file_with(int slot, const char *text)
{
	static char paths[4][64];
	FILE *f;

	snprintf(paths[slot], sizeof paths[slot], "/tmp/ifs-opt-%d-%d.pem",
		 (int)getpid(), slot);
	f = fopen(paths[slot], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return paths[slot];
}

static void test_a_client_certificate_goes_with_its_key(void **st)
{
	const char *cert = file_with(0, "-----BEGIN CERTIFICATE-----\nMIIB\n"
				     "-----END CERTIFICATE-----\n");
	const char *key = file_with(1, "-----BEGIN PRIVATE KEY-----\nMIGH\n"
				    "-----END PRIVATE KEY-----\n");
	const char *eckey = file_with(2, "-----BEGIN EC PRIVATE KEY-----\n"
				      "MHcC\n-----END EC PRIVATE KEY-----\n");
	const char *enc = file_with(3, "-----BEGIN ENCRYPTED PRIVATE KEY-----"
				    "\nMIIF\n-----END ENCRYPTED PRIVATE KEY"
				    "-----\n");
	struct options o;
	char opt[512], err[1024];

	(void)st;
	assert_int_equal(check(&o, NULL, err), 0);
	assert_null(o.cert_file);
	assert_null(o.key_file);
	options_free(&o);
	snprintf(opt, sizeof opt, "cert_file=%s,key_file=%s", cert, key);
	assert_int_equal(check(&o, opt, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(o.cert_file, cert);
	assert_string_equal(o.key_file, key);
	options_free(&o);
	snprintf(opt, sizeof opt, "cert_file=%s,key_file=%s", cert, eckey);
	assert_int_equal(check(&o, opt, err), 0);
	options_free(&o);
	snprintf(opt, sizeof opt, "cert_file=%s", cert);
	refused(opt, "-o cert_file without key_file");
	snprintf(opt, sizeof opt, "key_file=%s", key);
	refused(opt, "-o key_file without cert_file");
	snprintf(opt, sizeof opt, "cert_file=%s,key_file=%s", key, key);
	refused(opt, "not a PEM certificate");
	snprintf(opt, sizeof opt, "cert_file=%s,key_file=%s", cert, cert);
	refused(opt, "not a PEM private key");
	snprintf(opt, sizeof opt, "cert_file=%s,key_file=%s", cert, enc);
	refused(opt, "an encrypted key");
	snprintf(opt, sizeof opt, "cert_file=/nonexistent/c.pem,key_file=%s",
		 key);
	refused(opt, "No such file");
	refused("key_file=/tmp", "not a regular file");
	for (int i = 0; i < 4; i++)
		unlink(file_with(i, ""));
}

static void test_gateway_is_a_flag_kept_from_libfuse(void **st)
{
	char *argv[] = {"interlinkfs", "-o", "ro,gateway", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct options o;

	(void)st;
	assert_int_equal(options_parse(&args, &o), 0);
	assert_true(o.gateway);
	for (int i = 0; i < args.argc; i++)
		assert_null(strstr(args.argv[i], "gateway"));
	options_free(&o);
	fuse_opt_free_args(&args);
	args = (struct fuse_args)FUSE_ARGS_INIT(1, argv);
	assert_int_equal(options_parse(&args, &o), 0);
	assert_false(o.gateway);
	options_free(&o);
	fuse_opt_free_args(&args);
}

static void test_help_lists_every_option_once(void **st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int lines = 0;

	(void)st;
	options_help(f);
	fclose(f);
	for (char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, OPT_COUNT + 1); /* and -o gateway */
	for (int i = 0; i < OPT_COUNT; i++)
		assert_non_null(strstr(text, options_default((enum opt_id)i)));
	assert_non_null(strstr(text, "-o rate=N"));
	assert_non_null(strstr(text, "-o gateway "));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_numbers_are_decimal_and_in_range),
		cmocka_unit_test(test_lists_have_no_empty_element),
		cmocka_unit_test(test_filters_and_levels),
		cmocka_unit_test(test_flags_and_secrets),
		cmocka_unit_test(test_a_client_certificate_goes_with_its_key),
		cmocka_unit_test(test_gateway_is_a_flag_kept_from_libfuse),
		cmocka_unit_test(test_help_lists_every_option_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
