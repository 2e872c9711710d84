/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsv: a file's value as a field of a tab-separated line, the form the
 * tables (tables/KIND.tsv) and the journal (.interlinkfs/changes) share.
 *
 * A field is the file's content less its final newline, with backslash,
 * tab, newline and carriage return written \\, \t, \n and \r (the
 * convention of PostgreSQL's text COPY and of Miller's TSV), so a field
 * never holds a tab or a line break and the bytes can be recovered. A
 * file that reads as an I/O error (a field of the wrong type) is \N, which
 * no escaped value can be.
 *
 * Pure functions of their arguments, writing to the caller's stream:
 * thread-safe on distinct streams.
 */
#ifndef INTERLINKFS_TSV_H
#define INTERLINKFS_TSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "robj.h"

/* The field that stands for a file that reads as an I/O error. */
#define TSV_UNREADABLE "\\N"

/* Writes bytes p[0 .. len) escaped. */
void tsv_put(FILE *f, const char *p, size_t len);

/* Writes file i of o as a field (its content less its final newline,
 * escaped; TSV_UNREADABLE when it reads as an I/O error). */
void tsv_file(FILE *f, const struct robj *o, unsigned i);

/* Whether file i of kind k is a column of its table and a field of its
 * journal lines: every file but the object's JSON and its region (the
 * table's first column is the region it is under). */
bool tsv_is_column(const struct kind *k, unsigned i);

#endif
