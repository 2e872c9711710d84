/*
 * conn: reading a DedicatedConnection (or Pop) object as the API sent it.
 *
 * The object itself stays the json_t the API returned (unknown and future
 * fields survive). These accessors read the documented fields and tolerate
 * missing keys, null and wrong types: they never crash and never log; a
 * wrong type is reported as -EINVAL for that field only. All functions are
 * pure and thread-safe on objects nobody mutates; json_t arguments are
 * borrowed.
 */
#ifndef INTERLINKFS_CONN_H
#define INTERLINKFS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* The longest id accepted (a UUID is 36 bytes). */
#define CONN_ID_MAX 36

/*
 * Is s (len bytes) an id that can safely name a directory: a UUID, so never
 * empty, ".", "..", never holding '/', NUL or newlines?
 */
bool conn_id_valid(const char *s, size_t len);

/* The object's id if it is a valid one, else NULL. Borrowed. */
const char *conn_id(const json_t *obj);

/* String field: 0 with *out and *len (borrowed; may hold NUL bytes),
 * -ENOENT when missing or null, -EINVAL when not a string. */
int conn_str(const json_t *obj, const char *field, const char **out,
	     size_t *len);

/* Unsigned integer field (bandwidth_mbps ...), up to 2^64 - 1: -EINVAL
 * when negative, a real number, or not a number. */
int conn_uint(const json_t *obj, const char *field, uint64_t *out);
/* The same for a value (borrowed) rather than a field. */
int conn_uint_of(const json_t *v, uint64_t *out);

/* RFC 3339 time field, to seconds + nanoseconds since the epoch. */
int conn_time(const json_t *obj, const char *field, struct timespec *out);

/* vlan_range: {"start": u32, "end": u32}. -EINVAL on a bad shape. */
int conn_vlan(const json_t *obj, uint32_t *start, uint32_t *end);

/* Parse an RFC 3339 time ("2024-01-31T10:00:00.123456Z", "+02:00"
 * offsets). 0 or -EINVAL. */
int conn_parse_time(const char *s, struct timespec *out);

/*
 * Is v a number the API sent that jansson cannot hold (see jsontext.h)?
 * true with its text (borrowed) when it is.
 */
bool conn_num_text(const json_t *v, const char **text, size_t *len);

/*
 * obj as JSON text (json_dumps flags), with such numbers written back as
 * the API sent them. malloc'ed, *len its length; NULL when out of memory.
 */
char *conn_dump(const json_t *obj, size_t flags, size_t *len);

#endif
