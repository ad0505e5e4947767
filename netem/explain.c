// SPDX-License-Identifier: GPL-2.0-only
/* --explain output: one replayable command a line, prefixed like a shell trace. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "netem/explain.h"

static bool explaining;
static bool aside;

void explain_enable(bool on)
{
	explaining = on;
}

bool explain_enabled(void)
{
	return explaining;
}

void explain(const char *fmt, ...)
{
	va_list ap;

	if (!explaining)
		return;
	fputs(aside ? "+ #   " : "+ ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void explain_aside(bool on)
{
	aside = on;
}

void explain_hex(const void *data, size_t n, char *buf, size_t len)
{
	const uint8_t *b = data;
	size_t i, used = 0;

	if (len)
		buf[0] = 0;
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%02x", i ? " " : "", b[i]);
}
