/* SPDX-License-Identifier: GPL-2.0-only */
/* One way to fail, in every capnet program. Commands print one line on stderr, prefixed with the
 * program's name ("capnet: ...", or "capctl check: ..." where a subcommand names itself), and
 * return an exit status. Library code prints nothing: it returns -errno and leaves one message
 * (error_note) for the command, which prints it once, with whatever context and remedy it adds.
 * A message nobody took is printed before the next one replaces it, or at exit, so no failure is
 * ever silent. */
#ifndef CAPNET_REPORT_H
#define CAPNET_REPORT_H

#include <stdbool.h>

/* Exit statuses every program shares; capctl adds 3 (unavailable) and 4 (outcome unknown). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The prefix of every line: "capnet", "capctl", "captrace", "capnode". */
void report_set_program(const char *name);

/* One line "<program>: <message>" on stderr; the return value is the exit status. */
int report_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int report_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* " (run as root)" for a permission error of an unprivileged process, else "". err is -errno
 * or errno. */
const char *report_root_hint(int err);

/* Library side: leaves the message of a failure for the command. */
void error_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message left since the last take or flush, or NULL. */
const char *error_message(void);
/* Forgets the message: the caller printed it or handled the failure. */
void error_clear(void);
/* Prints the message left, if any, as report_fail would, and forgets it. True if there was one. */
bool error_flush(void);
/* The message left (then forgotten) or else strerror(-err): the reason to put in a command's own
 * line. Valid until the next error_note. */
const char *error_reason(int err);
/* Command side: prints "<program>: <message left>" (or strerror(-err) when none was left) with
 * the remedy appended when not NULL, and returns EXIT_FAIL. */
int report_error(int err, const char *remedy);

#endif /* CAPNET_REPORT_H */
