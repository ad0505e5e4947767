/* SPDX-License-Identifier: GPL-2.0-only */
/* --explain: for every kernel object capnet creates or changes, the ip, tc, sysctl or bpftool
 * command that would do the same, so a student can read and replay it. */
#ifndef CAPNET_EXPLAIN_H
#define CAPNET_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

void explain_enable(bool on);
bool explain_enabled(void);
/* Prints "+ <command>" on stdout when enabled; a no-op otherwise. */
void explain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While on, explain() prints its commands as comments ("+ #   <command>"): steps that Debian's
 * tools cannot replay, shown for reading. */
void explain_aside(bool on);
/* bpftool's spelling of a key or value: its bytes in memory order, "01 00 ff". */
void explain_hex(const void *data, size_t n, char *buf, size_t len);

#endif /* CAPNET_EXPLAIN_H */
