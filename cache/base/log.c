/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: stderr or syslog, one write per line, optional redaction.
 *
 * The settings below are the program's only file-scope state: they are
 * written during start-up (single-threaded) and only read afterwards.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define MAX_REDACT 4

static struct {
	enum log_level max;
	bool syslog;
	log_sink sink;
	void *ud;
	char *redact[MAX_REDACT];
} cfg = {.max = LOGL_WARNING};

static const char *const names[] = {"error", "warning", "info", "debug"};

void log_setup(enum log_level max_level, bool use_syslog)
{
	cfg.max = max_level;
	if (use_syslog && !cfg.syslog)
		openlog("interlinkfs", LOG_PID, LOG_DAEMON);
	cfg.syslog = use_syslog;
}

void log_set_sink(log_sink sink, void *ud)
{
	cfg.sink = sink;
	cfg.ud = ud;
}

void log_redact(const char *s)
{
	if (!s || strlen(s) < 4)
		return; /* too short to redact without mangling text */
	for (int i = 0; i < MAX_REDACT; i++) {
		if (!cfg.redact[i]) {
			cfg.redact[i] = strdup(s);
			return;
		}
	}
}

void log_redact_clear(void)
{
	for (int i = 0; i < MAX_REDACT; i++) {
		if (cfg.redact[i]) {
			explicit_bzero(cfg.redact[i], strlen(cfg.redact[i]));
			free(cfg.redact[i]);
			cfg.redact[i] = NULL;
		}
	}
}

bool log_enabled(enum log_level level)
{
	return level <= cfg.max;
}

static void redact(char *buf)
{
	for (int i = 0; i < MAX_REDACT && cfg.redact[i]; i++) {
		size_t n = strlen(cfg.redact[i]);
		char *p;
		while ((p = strstr(buf, cfg.redact[i]))) {
			static const char mask[] = "[REDACTED]";
			size_t m = sizeof mask - 1;
			if (n >= m) {
				memcpy(p, mask, m);
				memmove(p + m, p + n, strlen(p + n) + 1);
			} else {
				memset(p, '*', n);
			}
		}
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (level > cfg.max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	redact(buf);
	/* One line per call, whatever the message contains. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (cfg.sink)
		cfg.sink(level, buf, cfg.ud);
	else if (cfg.syslog)
		syslog(level == LOGL_ERROR ? LOG_ERR : level == LOGL_WARNING ?
		       LOG_WARNING : level == LOGL_INFO ? LOG_INFO : LOG_DEBUG,
		       "%s", buf);
	else
		fprintf(stderr, "interlinkfs: %s: %s\n", names[level], buf);
}
