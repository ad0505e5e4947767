// SPDX-License-Identifier: GPL-2.0-only
/* The message a library function leaves is per thread (workload clients run in threads), and
 * flushed at exit so that a command that forgot to print it still shows it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/report.h"

static const char *program = "capnet";
static __thread char pending[1024];
static __thread bool has_pending;
static bool flush_registered;

static void vline(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void flush_at_exit(void)
{
	error_flush();
}

void report_set_program(const char *name)
{
	program = name;
}

int report_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int report_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

void report_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

const char *report_root_hint(int err)
{
	if (err < 0)
		err = -err;
	return (err == EPERM || err == EACCES) && geteuid() != 0 ? " (run as root)" : "";
}

void error_note(const char *fmt, ...)
{
	char msg[sizeof(pending)];
	va_list ap;

	/* Formatted apart first: an argument may be the message left before (error_reason()
	 * returns it), which the new one wraps. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message nobody took is never lost: it goes out before the new one replaces it. */
	error_flush();
	memcpy(pending, msg, sizeof(pending));
	has_pending = true;
	if (!flush_registered) {
		flush_registered = true;
		atexit(flush_at_exit);
	}
}

const char *error_message(void)
{
	return has_pending ? pending : NULL;
}

void error_clear(void)
{
	has_pending = false;
}

bool error_flush(void)
{
	if (!has_pending)
		return false;
	has_pending = false;
	fprintf(stderr, "%s: %s\n", program, pending);
	return true;
}

const char *error_reason(int err)
{
	if (!has_pending)
		return strerror(err < 0 ? -err : err);
	has_pending = false;
	return pending;
}

int report_error(int err, const char *remedy)
{
	const char *msg = has_pending ? pending : strerror(err < 0 ? -err : err);

	fprintf(stderr, "%s: %s%s%s\n", program, msg, remedy ? " " : "", remedy ? remedy : "");
	has_pending = false;
	return EXIT_FAIL;
}
