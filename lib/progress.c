// SPDX-License-Identifier: GPL-2.0-only
/* The progress line: carriage return, the text, erase to the end of the line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/monotonic.h"
#include "lib/progress.h"

#define FIRST_AFTER_S 0.25
#define EVERY_S 0.2

void progress_start(struct progress *p, bool quiet)
{
	const char *term = getenv("TERM");

	memset(p, 0, sizeof(*p));
	p->on = !quiet && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
	p->started = monotonic_s();
}

double progress_elapsed(const struct progress *p)
{
	return monotonic_s() - p->started;
}

bool progress_due(const struct progress *p)
{
	double t;

	if (!p->on)
		return false;
	t = monotonic_s();
	return t - p->started >= FIRST_AFTER_S && t - p->last >= EVERY_S;
}

static void draw(struct progress *p, const char *fmt, va_list ap)
{
	fputc('\r', stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	p->last = monotonic_s();
	p->drawn = true;
}

void progress_show(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!progress_due(p))
		return;
	va_start(ap, fmt);
	draw(p, fmt, ap);
	va_end(ap);
}

void progress_step(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->drawn)
		return;
	va_start(ap, fmt);
	draw(p, fmt, ap);
	va_end(ap);
}

void progress_end(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
