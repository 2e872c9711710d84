/*
 * names: the by-name/ directory's entry names.
 *
 * Connection names are free text; directory entries are not. The rule, a
 * pure function of the set of (name, id) pairs (so it does not depend on
 * the order the API lists them in):
 *  1. A name that is unique, non-empty, not "." or "..", holds no '/' and
 *     no control character (U+0000-U+001F, U+007F), and is at most 255
 *     bytes appears unchanged.
 *  2. Otherwise it is made safe: '/' and control characters become '_'
 *     (so names are shell-safe: no newline, tab or NUL); an empty (or
 *     missing) name becomes "_"; "." and ".." become "_." and "_..";
 *     more than 255 bytes is cut on a UTF-8 character boundary.
 *  3. A name that is still not unique gets "~" and the first 8 characters
 *     of the connection id appended (the name part shortened so the whole
 *     fits 255 bytes); if that collides too, "~" and the whole id. When
 *     one of the colliding names is a name kept unchanged by rule 1 (the
 *     others being made safe), it keeps it.
 */
#ifndef INTERLINKFS_NAMES_H
#define INTERLINKFS_NAMES_H

#include <stddef.h>

struct names_in {
	const char *name; /* may be NULL (missing or not a string) */
	size_t len;       /* may hold NUL bytes */
	const char *id;   /* unique among the inputs */
};

#define NAMES_MAX 255

/*
 * Entry names for n objects: (*out)[i] is the name of in[i], malloc'ed,
 * as is *out (free with names_free). 0 or -ENOMEM. Pure; thread-safe.
 */
int names_assign(const struct names_in *in, size_t n, char ***out);
void names_free(char **names, size_t n);

/*
 * The by-name directory of one listing: the entry names of n objects, by
 * the rule above, and the object of each name. Immutable once built: the
 * accessors are thread-safe; results are borrowed from the index.
 */
struct names_index;

/* 0 with *out, or -ENOMEM. in is only read during the call. */
int names_index_new(const struct names_in *in, size_t n,
		    struct names_index **out);
void names_index_free(struct names_index *x);   /* NULL is a no-op */
size_t names_index_size(const struct names_index *x);
/* The entry name of in[i]. */
const char *names_index_name(const struct names_index *x, size_t i);
/* The i whose entry name is name, or -1. */
long names_index_find(const struct names_index *x, const char *name);

#endif
