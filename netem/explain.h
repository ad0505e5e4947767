/* SPDX-License-Identifier: GPL-2.0-only */
/* --explain: for every kernel object capnet creates or changes, the ip, tc, sysctl or bpftool
 * command that would do the same, so a student can read and replay it. */
#ifndef CAPNET_EXPLAIN_H
#define CAPNET_EXPLAIN_H

#include <stdbool.h>

void explain_enable(bool on);
bool explain_enabled(void);
/* Prints "+ <command>" on stdout when enabled; a no-op otherwise. */
void explain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CAPNET_EXPLAIN_H */
