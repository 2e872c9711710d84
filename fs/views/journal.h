/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the bytes of .interlinkfs/changes, a file that only grows.
 *
 * Lines are appended in batches. The file's offsets count every byte ever
 * appended, so a line keeps its offset for the life of the mount, and a
 * reader that reads on from where it stopped (tail -f) gets exactly the
 * lines appended since. Only the last max_lines lines are kept: when older
 * ones are dropped, their bytes read as a comment of the same length, so
 * that a reader that fell behind meets, where it stopped, one line
 * "# N lines missed ...", N the lines it missed, then lines that begin
 * with a space (the rest of that comment), then the lines kept; never
 * half a line, and no line of it longer than 4 KiB. The offsets of eight
 * times max_lines dropped lines are remembered (65,536 to 1,048,576); a
 * reader further behind than that meets blank lines first.
 *
 * Thread-safe: one mutex, never held across anything but copies.
 */
#ifndef INTERLINKFS_JOURNAL_H
#define INTERLINKFS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct journal;

/* A journal keeping max_lines lines (at least 1), unchanged since start.
 * 0 or -ENOMEM. */
int journal_new(size_t max_lines, const struct timespec *start,
		struct journal **out);
void journal_free(struct journal *j);        /* NULL is a no-op */

/* Appends text (whole lines, each ending in '\n'; borrowed) at time t, as
 * one batch that readers see whole or not at all. 0 or -ENOMEM (nothing
 * appended). */
int journal_append(struct journal *j, const char *text, size_t len,
		   const struct timespec *t);

/* The file's size (every byte ever appended) and the time it last changed
 * (start until then). */
uint64_t journal_size(struct journal *j, struct timespec *mtime);

/* Copies bytes [off, off + size) of the file into buf: how many (fewer at
 * its end, 0 past it). */
size_t journal_read(struct journal *j, uint64_t off, char *buf,
		    size_t size);

/* Lines appended, and lines dropped, since the start. */
void journal_counts(struct journal *j, uint64_t *lines, uint64_t *dropped);

/*
 * The journal an earlier run kept, before anything is appended: its
 * lines from offset base on are text (whole lines; borrowed), and
 * `dropped` lines came before base (their bytes read as one comment that
 * counts them). Lines past max_lines are dropped as usual (their offsets
 * remembered); mtime is the file's time. 0, -EBUSY when something was
 * appended already (nothing changes), or -ENOMEM.
 */
int journal_restore(struct journal *j, uint64_t base, uint64_t dropped,
		    const char *text, size_t len, const struct timespec *mtime);

/*
 * A copy of the lines kept, to write them elsewhere: *out (malloc'ed, the
 * caller frees; NULL when there are none) holds bytes [*base, size) of the
 * file, and *dropped the lines before *base. 0 or -ENOMEM.
 */
int journal_kept(struct journal *j, char **out, size_t *len, uint64_t *base,
		 uint64_t *dropped);

#endif
