// SPDX-License-Identifier: GPL-2.0-only
/* captrace's error reporting and option parsing helpers. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "tools/captrace/captrace_cli.h"

static void vreport(const char *fmt, va_list ap)
{
	fputs("captrace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int ct_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return CT_USAGE;
}

int ct_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return CT_FAIL;
}

void ct_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

int ct_parse_seconds(const char *text, const char *what, double *seconds)
{
	uint64_t ns;
	int err = duration_parse_ns(text, DURATION_BARE_SECONDS, &ns);

	if (err == -EINVAL)
		return ct_usage("%s \"%s\" is not a duration (" DURATION_EXAMPLES ")", what, text);
	if (err || ns == 0 || ns > 86400000000000ull * 365)
		return ct_usage("%s \"%s\" is out of range", what, text);
	*seconds = ns / 1e9;
	return 0;
}
