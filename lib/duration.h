/* SPDX-License-Identifier: GPL-2.0-only */
/* The one duration syntax of every capnet program and script: a decimal number and a unit, ns,
 * us, ms, s or m (in any case), with no sign, blank or exponent: 10s, 2.5s, 300ms, 2m, 250us.
 * Where a command allows it, a bare number is seconds; where a bare number would be ambiguous (a
 * link delay, in tc's habit of milliseconds), only 0 may stand alone. Ranges are the caller's. */
#ifndef CAPNET_DURATION_H
#define CAPNET_DURATION_H

#include <stdint.h>

/* How every error message shows the syntax. */
#define DURATION_EXAMPLES "like 10, 2.5s, 300ms or 2m"

enum duration_bare {
	DURATION_BARE_SECONDS, /* "10" is ten seconds */
	DURATION_UNIT_REQUIRED, /* "10" is refused; "0" is zero */
};

/* *ns from text, rounded to the nearest nanosecond. 0; -EINVAL for anything that is not a
 * duration; -ERANGE when it does not fit in 64 bits of nanoseconds. */
int duration_parse_ns(const char *text, enum duration_bare bare, uint64_t *ns);

#endif /* CAPNET_DURATION_H */
