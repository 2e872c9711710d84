/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: the one monotonic clock of interlinkfs, in seconds, for what
 * measures time (timeouts, back-offs, grace, the keeper's rhythm) in
 * cache/, api/ and fs/. The cache's own notion of time (cache_now) is
 * this clock unless its owner injects another.
 *
 * Thread-safe; never fails (CLOCK_MONOTONIC always exists on Linux).
 */
#ifndef INTERLINKFS_CLOCK_H
#define INTERLINKFS_CLOCK_H

/* Seconds since an arbitrary point (CLOCK_MONOTONIC), to the nanosecond. */
double clock_mono(void);

#endif
