// SPDX-License-Identifier: GPL-2.0-only
/* The one parser of numbers given as options; strtoull and strtod alone accept a sign, blanks
 * and trailing junk, and wrap negative whole numbers around. */
#include <errno.h>
#include <stdlib.h>

#include "lib/number.h"
#include "lib/report.h"

int number_parse_whole(const char *opt, const char *text, unsigned long long min,
		       unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	char *end = NULL;

	errno = 0;
	if (text && text[0] >= '0' && text[0] <= '9')
		v = strtoull(text, &end, 10);
	if (!end || *end || errno || v < min || v > max) {
		error_note("%s expects a whole number from %llu to %llu%s%s%s", opt, min, max,
			   text ? ", not \"" : "", text ? text : "", text ? "\"" : "");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int number_parse_real(const char *opt, const char *text, double min, double max, double *out)
{
	double v = 0;
	char *end = NULL;

	errno = 0;
	if (text)
		v = strtod(text, &end);
	if (!end || end == text || *end || errno || !(v >= min && v <= max)) {
		error_note("%s expects a number from %g to %g%s%s%s", opt, min, max,
			   text ? ", not \"" : "", text ? text : "", text ? "\"" : "");
		return -EINVAL;
	}
	*out = v;
	return 0;
}
