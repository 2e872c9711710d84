/* SPDX-License-Identifier: Apache-2.0 */
/*
 * age: how old an answer already was when it arrived, by the rule of HTTP
 * caches (RFC 9111 §4.2.3), whatever stands between us and the API. The
 * API sends a Date and never an Age; a shared cache (nginx) passes the
 * API's Date through and may add an Age. Pure.
 */
#include "api_i.h"

#include <math.h>

/* Age: delta-seconds, digits only; of a list ("30, 1"), the first member
 * (RFC 9111 §5.1); anything else counts as no Age. */
static double age_value(const char *age)
{
	double v = 0;
	const char *p = age;

	if (!p || *p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	while (*p == ' ' || *p == '\t')
		p++;
	return *p && *p != ',' ? 0 : v;
}

double api_age_initial(double sent, double received, double received_wall,
		       const char *date, const char *age)
{
	double delay = received > sent ? received - sent : 0;
	double apparent = 0;
	time_t d = date && *date ? curl_getdate(date, NULL) : -1;

	/* Date has a resolution of one second: the answer was made within
	 * that second. Its end is taken, so that an answer straight from the
	 * API is not aged by a second it may not have; a Date in the future
	 * (this machine's clock behind the API's) counts as 0. */
	if (d != -1)
		apparent = fmax(0, received_wall - ((double)d + 1));
	/* The request's own delay is counted in, as the RFC says: an answer
	 * is at least as old as the time it took to come. */
	return fmax(apparent, age_value(age) + delay);
}
