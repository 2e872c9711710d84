/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: CLOCK_MONOTONIC as seconds.
 */
#include "clock.h"

#include <time.h>

double clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
