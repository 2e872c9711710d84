/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simctl: a started interlink-sim, driven over HTTP with libcurl.
 */
#include "simctl.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

const char *simctl_binary(void)
{
	const char *p = getenv("INTERLINK_SIM");
	return p ? p : "interlink-sim";
}

void simctl_start(struct simctl *s, const char *const *args)
{
	const char *argv[64];
	int fds[2], n = 0;
	char line[256];
	size_t len = 0;

	argv[n++] = simctl_binary();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	assert_int_equal(pipe(fds), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	/* The first line, within 10 s. */
	while (len < sizeof line - 1) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t r;
		assert_true(poll(&p, 1, 10000) == 1);
		r = read(fds[0], line + len, 1);
		assert_true(r == 1);
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	close(fds[0]);
	assert_int_equal(sscanf(line, "interlink-sim listening on "
				"http://127.0.0.1:%d", &s->port), 1);
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
}

int simctl_stop(struct simctl *s)
{
	int st = 0;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	fail_msg("interlink-sim did not stop within 10 s");
	return -1;
}

struct sbuf {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t n, void *ud)
{
	struct sbuf *b = ud;
	char *np = realloc(b->p, b->n + sz * n + 1);

	if (!np)
		return 0;
	memcpy(np + b->n, d, sz * n);
	b->p = np;
	b->n += sz * n;
	b->p[b->n] = '\0';
	return sz * n;
}

json_t *simctl_ctl(struct simctl *s, const char *method, const char *path,
		   const char *body)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL,
					"Content-Type: application/json");
	struct sbuf b = {0};
	char url[512];
	long status = 0;
	json_t *j;
	json_error_t je;

	snprintf(url, sizeof url, "%s/_sim%s", s->url, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		fail_msg("%s %s: HTTP %ld %s", method, path, status,
			 b.p ? b.p : "");
	j = json_loads(b.p ? b.p : "null", JSON_DECODE_ANY, &je);
	assert_non_null(j);
	free(b.p);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return j;
}

void simctl_fault(struct simctl *s, const char *spec)
{
	json_decref(simctl_ctl(s, "POST", "/faults", spec));
}

void simctl_clear_faults(struct simctl *s)
{
	json_decref(simctl_ctl(s, "DELETE", "/faults", NULL));
}

json_int_t simctl_counter(struct simctl *s, const char *name)
{
	json_t *c = simctl_ctl(s, "GET", "/counters", NULL);
	json_int_t v = json_integer_value(json_object_get(c, name));
	json_decref(c);
	return v;
}

void simctl_reset(struct simctl *s)
{
	json_decref(simctl_ctl(s, "POST", "/reset", NULL));
}

json_t *simctl_requests(struct simctl *s)
{
	return simctl_ctl(s, "GET", "/requests", NULL);
}
