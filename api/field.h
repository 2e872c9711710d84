/* SPDX-License-Identifier: Apache-2.0 */
/*
 * field: reading the members of the API's objects (a DedicatedConnection,
 * a Link, a Pop ...) as the API sent them: ids, strings, unsigned integers
 * up to 2^64 - 1 (jsontext's marked numbers included) and RFC 3339 times.
 *
 * The object itself stays the json_t the API returned (unknown and future
 * fields survive). These readers tolerate missing keys, null and wrong
 * types: they never crash and never log; a wrong type is -EINVAL for that
 * member only. Which member has which type is the kinds table's to say
 * (fs/model/kinds.c), not this module's. All functions are pure and thread-safe
 * on objects nobody mutates; json_t arguments are borrowed.
 */
#ifndef INTERLINKFS_FIELD_H
#define INTERLINKFS_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* The longest id accepted (a UUID is 36 bytes). */
#define FIELD_ID_MAX 36

/*
 * Is s (len bytes) an id that can safely name a directory: a UUID, so never
 * empty, ".", "..", never holding '/', NUL or newlines?
 */
bool field_id_valid(const char *s, size_t len);

/* The object's id if it is a valid one, else NULL. Borrowed from obj. */
const char *field_id(const json_t *obj);

/* String member: 0 with *out and *len (borrowed; may hold NUL bytes),
 * -ENOENT when missing or null, -EINVAL when not a string. */
int field_str(const json_t *obj, const char *field, const char **out,
	      size_t *len);

/* Unsigned integer member (bandwidth_mbps ...), up to 2^64 - 1: -ENOENT
 * when missing or null, -EINVAL when negative, a real number, or not a
 * number. */
int field_uint(const json_t *obj, const char *field, uint64_t *out);
/* The same for a value (borrowed) rather than a member. */
int field_uint_of(const json_t *v, uint64_t *out);

/* RFC 3339 time member, to seconds + nanoseconds since the epoch:
 * -ENOENT, or -EINVAL when not a string or not such a time. */
int field_time(const json_t *obj, const char *field, struct timespec *out);

/* Parse an RFC 3339 time ("2024-01-31T10:00:00.123456Z", "+02:00"
 * offsets). 0 or -EINVAL. */
int field_parse_time(const char *s, struct timespec *out);

#endif
