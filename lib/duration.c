// SPDX-License-Identifier: GPL-2.0-only
/* Parsing durations by hand rather than with strtod alone, which would also take signs, blanks,
 * exponents, hex, "inf" and "nan". */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/duration.h"

static const struct {
	const char *name;
	double ns;
} duration_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 },
};

int duration_parse_ns(const char *text, enum duration_bare bare, uint64_t *ns)
{
	const char *p = text;
	char number[32];
	double v, scale = 0;
	size_t i, len;

	if (!text || !(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	len = p - text;
	if (len >= sizeof(number))
		return -ERANGE;
	memcpy(number, text, len);
	number[len] = '\0';
	v = strtod(number, NULL);

	if (!*p) {
		if (bare == DURATION_BARE_SECONDS)
			scale = 1e9;
		else if (v == 0)
			scale = 1;
		else
			return -EINVAL;
	}
	for (i = 0; !scale && i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		if (!strcasecmp(p, duration_units[i].name))
			scale = duration_units[i].ns;
	if (!scale)
		return -EINVAL;
	v = v * scale + 0.5;
	if (v >= 18446744073709551616.0)
		return -ERANGE;
	*ns = (uint64_t)v;
	return 0;
}
