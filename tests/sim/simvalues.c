/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simvalues: values the generator writes into objects of every collection:
 * times in the three styles the API uses, names that exercise every
 * awkward case, tags. Pure and deterministic.
 */
#include "simdata_i.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Three ways the API writes RFC 3339 times, so clients parse all of them. */
void sim_fmt_time(char *buf, size_t len, int64_t t, unsigned style,
		  unsigned micros)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char base[32];

	if (style == 2)
		tt += 2 * 3600;
	gmtime_r(&tt, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	if (style == 0)
		snprintf(buf, len, "%s.%06uZ", base, micros % 1000000);
	else if (style == 1)
		snprintf(buf, len, "%sZ", base);
	else
		snprintf(buf, len, "%s+02:00", base);
}

/*
 * Names chosen so that the first objects of every region exercise every
 * awkward case a filesystem must survive; then REG-KIND-NNNN, the kind
 * from kinds[5].
 */
void sim_gen_name(char *buf, size_t len, const char *region, unsigned i,
		  const char *const *kinds)
{
	switch (i) {
	case 0: snprintf(buf, len, "%s", ""); return;
	case 1: snprintf(buf, len, "."); return;
	case 2: snprintf(buf, len, ".."); return;
	case 3: snprintf(buf, len, "edge router/par 1"); return;
	case 4: snprintf(buf, len, "Z\xc3\xbcrich\xe2\x80\x93Paris \xe2\x98\x81 "
			 "\xe6\x9d\xb1\xe4\xba\xac"); return;
	case 5:
	case 6: snprintf(buf, len, "dup-name"); return;
	case 7: {
		size_t o = (size_t)snprintf(buf, len, "long-");
		for (int k = 0; k < 150 && o + 2 < len; k++, o += 2)
			memcpy(buf + o, "\xc3\xa9", 2); /* e-acute, 2 bytes */
		buf[o] = '\0';
		return;
	}
	case 8: snprintf(buf, len, "with space"); return;
	default:
		snprintf(buf, len, "%.3s-%s-%04u", region + 3, kinds[i % 5], i);
	}
}

json_t *sim_tags(unsigned i)
{
	switch (i % 4) {
	case 1: return json_pack("[s]", "prod");
	case 2: return json_pack("[s, s]", "prod", "edge");
	case 3: return json_pack("[s, s, s]", "lab", "team=netops",
				 "cost-center/42");
	default: return json_array();
	}
}
