// SPDX-License-Identifier: GPL-2.0-only
/* captrace's error reporting and option parsing helpers. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end != text && !strcmp(end, "ms"))
		v /= 1000;
	else if (end != text && !strcmp(end, "s"))
		;
	else if (end == text || *end)
		return ct_usage("%s \"%s\" is not a duration (2, 0.5 or 100ms)", what, text);
	if (errno || !isfinite(v) || v <= 0 || v > 86400 * 365)
		return ct_usage("%s \"%s\" is out of range", what, text);
	*seconds = v;
	return 0;
}
