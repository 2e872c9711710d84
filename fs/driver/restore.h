/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore: what an earlier run saved (state.h), read back at mount,
 * before the first read is answered and without the API:
 *
 *  - the journal's file is mended first: a torn last line dropped; a
 *    batch a saved listing holds that the file lacks (a crash between
 *    saving the listing and appending its batch) written at its offset;
 *    a gap (lines that never reached the disk) filled with a comment of
 *    its length; then its lines (the last changes= of them) are the
 *    journal's, at the same offsets;
 *  - each saved listing of a mounted region is seeded into its kind's
 *    cache (cache_seed_list) with its true age (from the time the API
 *    made it, or later saw it unchanged: the seen file), and is what the
 *    journal compares the first listing with (changes_seed).
 *
 * A file that cannot be used (truncated, garbage, a future format, saved
 * for another key, not the user's, a symbolic link) is left alone, with
 * one log line naming it: the mount goes on as without it. Leftover
 * temporary files of the key (a crash while writing) are removed.
 *
 * Thread-safety: called by fs.c alone, from main's thread, before any
 * thread of the mount runs.
 */
#ifndef INTERLINKFS_RESTORE_H
#define INTERLINKFS_RESTORE_H

struct state;

/* Reads back st's directory (nothing when it has none, or cannot be
 * read). 0 or -ENOMEM. */
int restore_run(struct state *st);

#endif
