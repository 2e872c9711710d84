/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statedir: where a mount keeps its state by default (statedir.h):
 * systemd's $STATE_DIRECTORY first, then /var/lib/interlinkfs for root,
 * $XDG_STATE_HOME/interlinkfs or ~/.local/state/interlinkfs for a user.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "statedir.h"

static void expect(uid_t uid, const char *want, bool parents)
{
	char buf[256];
	bool p = !parents;

	assert_int_equal(statedir_default(uid, buf, sizeof buf, &p), 0);
	assert_string_equal(buf, want);
	assert_int_equal(p, parents);
}

static void test_the_default_directory(void **st)
{
	char buf[256];
	bool p;

	(void)st;
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/ann", 1);
	expect(1000, "/home/ann/.local/state/interlinkfs", true);
	expect(0, "/var/lib/interlinkfs", true);
	setenv("XDG_STATE_HOME", "/home/ann/state", 1);
	expect(1000, "/home/ann/state/interlinkfs", true);
	/* A relative one is not a base directory (XDG): ignored. */
	setenv("XDG_STATE_HOME", "state", 1);
	expect(1000, "/home/ann/.local/state/interlinkfs", true);
	/* systemd's, made by systemd (the first of several). */
	setenv("STATE_DIRECTORY", "/var/lib/interlinkfs:/var/lib/other", 1);
	expect(1000, "/var/lib/interlinkfs", false);
	expect(0, "/var/lib/interlinkfs", false);
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(statedir_default(1000, buf, sizeof buf, &p),
			 -ENOENT);
	expect(0, "/var/lib/interlinkfs", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_default_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
