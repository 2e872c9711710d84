/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mend: the journal's file as a crash left it, mended with the batches
 * the saved listings hold (state.h's protocol: a listing is saved with
 * its batch and that batch's offset, then the batch is appended to the
 * journal's file). Pure: no I/O; thread-safe.
 */
#ifndef INTERLINKFS_MEND_H
#define INTERLINKFS_MEND_H

#include <stddef.h>
#include <stdint.h>

/* A batch of the journal that a saved listing holds: its lines, and the
 * offset they begin at (borrowed). */
struct mend_batch {
	uint64_t off;
	const char *text;
	size_t len;
};

/*
 * The journal's lines as a crash left them (lines: the bytes of the file
 * from offset base), mended with the batches (in any order): a torn last
 * line is dropped; a batch not wholly there is written at its offset
 * (what stood from there on, a part of it, goes); a gap before a batch's
 * offset (lines that never reached the file) is filled with comment
 * lines of its length, which say so (the first begins with "#", the
 * others with a space, as the journal's own comments; none longer than
 * 4 KiB). *keep: how many bytes of lines stay; *add (malloc'ed, NULL when
 * nothing; *addlen) what follows them. 0 or -ENOMEM.
 */
int mend_journal(const char *lines, size_t len, uint64_t base,
		 const struct mend_batch *b, size_t n, size_t *keep,
		 char **add, size_t *addlen);

#endif
