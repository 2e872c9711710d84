/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsontext: JSON text the way jansson cannot take it, read at the level of
 * bytes.
 *
 * The API is trusted to send JSON, not to send JSON jansson accepts: a
 * name with a byte that is not UTF-8 or a lone surrogate escape ("\ud800"),
 * a bandwidth of 18446744073709551615 (a valid u64, past jansson's
 * json_int_t), or one broken record would otherwise make a whole page
 * unreadable. This module repairs what can be repaired, and splits a list
 * page into its records so that one that still cannot be read is skipped
 * alone; and it writes such numbers back as the API sent them. All
 * functions are pure (no I/O, no logging) and thread-safe; json_t
 * arguments are borrowed.
 */
#ifndef INTERLINKFS_JSONTEXT_H
#define INTERLINKFS_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * A number jansson cannot hold (an integer outside int64, a real that
 * overflows a double) becomes a string: this marker, then the number's
 * text. field_uint() reads it; jsontext_dump() writes the number back as it
 * was, so connection.json shows it exactly. (A string the API itself sent
 * that is exactly this marker and a number would be shown as that number:
 * an API that lies is not defended against.)
 */
#define JT_NUM_MARK "\\u0000#"     /* as JSON text, in the repaired body */
#define JT_NUM_PREFIX "\0#"        /* as the string's bytes, 2 of them */
#define JT_NUM_PREFIX_LEN 2

/* What a repair changed. */
struct jsontext_repairs {
	size_t bad_utf8;           /* bytes replaced by U+FFFD */
	size_t surrogates;         /* lone surrogate escapes replaced */
	size_t numbers;            /* numbers turned into marked strings */
};

/*
 * A copy of in[0..len) with every invalid UTF-8 sequence replaced by
 * U+FFFD, every \uD800-\uDFFF escape that is not half of a pair replaced
 * by \ufffd, and every number jansson cannot hold made a marked string.
 * *out is malloc'ed and NUL-terminated (the caller frees). 0 or -ENOMEM.
 */
int jsontext_repair(const char *in, size_t len, char **out, size_t *outlen,
		    struct jsontext_repairs *r);

/* A record of a list page: its bytes are text[start, end). */
struct jsontext_span {
	size_t start, end;
};

/*
 * The records of the array member `key` of the top-level object of text
 * (a list page), found by structure alone (strings, escapes and nesting;
 * no depth limit). *spans is malloc'ed (the caller frees), *n records;
 * *arr_start and *arr_end bound the array's contents (between its '[' and
 * ']'). 0, -EINVAL when the text is not an object holding such an array
 * (unbalanced, truncated), or -ENOMEM.
 */
int jsontext_split(const char *text, size_t len, const char *key,
		   struct jsontext_span **spans, size_t *n, size_t *arr_start,
		   size_t *arr_end);

/*
 * The "id" of a record that cannot be parsed, looked for in its text (a
 * string value of a member "id" of the record itself, not of a nested
 * object), for a log line. true with id (NUL-terminated, cut to idlen - 1
 * bytes) when one is found.
 */
bool jsontext_record_id(const char *text, size_t len, char *id, size_t idlen);

/*
 * Is v (borrowed) a number the API sent that jansson cannot hold (a marked
 * string)? true with its text (borrowed from v) when it is.
 */
bool jsontext_num_text(const json_t *v, const char **text, size_t *len);

/*
 * obj (borrowed) as JSON text (json_dumps flags), with such numbers
 * written back as the API sent them. malloc'ed (the caller frees), *len
 * its length; NULL when out of memory.
 */
char *jsontext_dump(const json_t *obj, size_t flags, size_t *len);

#endif
