// SPDX-License-Identifier: GPL-2.0-only
/* --explain output: one replayable command a line, prefixed like a shell trace. */
#include <stdarg.h>
#include <stdio.h>

#include "netem/explain.h"

static bool explaining;

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
	fputs("+ ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}
