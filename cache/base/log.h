/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the one levelled log function of interlinkfs.
 *
 * A line is written once, where an error is first seen, with what a person
 * needs to act on it. Output goes to stderr (foreground) or syslog
 * (daemonized). Configuration is set once at start-up, before any thread
 * starts, like libfuse's fuse_set_log_func(); log_msg() itself is
 * thread-safe and never blocks on anything but the output.
 */
#ifndef INTERLINKFS_LOG_H
#define INTERLINKFS_LOG_H

#include <stdbool.h>

enum log_level {
	LOGL_ERROR,
	LOGL_WARNING,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* A replacement sink (tests capture lines with it). msg has no newline. */
typedef void (*log_sink)(enum log_level level, const char *msg, void *ud);

/* Where lines go and the most verbose level written. Not thread-safe:
 * call before threads start. */
void log_setup(enum log_level max_level, bool use_syslog);
/* Lines go to sink (ud passed back) instead; NULL: as log_setup says.
 * Not thread-safe: call before threads start. */
void log_set_sink(log_sink sink, void *ud);

/* Every later line has each occurrence of s replaced by "[REDACTED]" (a
 * last line of defence for the secret key; up to 4 strings). s is copied.
 * Not thread-safe: call before threads start. */
void log_redact(const char *s);
/* Forget the strings given to log_redact (and wipe their copies). */
void log_redact_clear(void);

/* Whether lines of level are written. Thread-safe. */
bool log_enabled(enum log_level level);

/* Writes one line (fmt with its arguments, secrets redacted). Thread-safe;
 * a line is never interleaved with another. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_enabled(LOGL_DEBUG)) \
			log_msg(LOGL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
