/* SPDX-License-Identifier: GPL-2.0-only */
/* A live one-line progress report for long work, on a terminal only: on a pipe, in a file or
 * in CI nothing is printed, and --quiet turns it off. The line is redrawn in place at most five
 * times a second, and not at all for work that ends within a quarter of a second. */
#ifndef CAPNET_PROGRESS_H
#define CAPNET_PROGRESS_H

#include <stdbool.h>

struct progress {
	bool on;
	bool drawn;
	double started; /* CLOCK_MONOTONIC, s */
	double last;
};

/* On when stderr is a terminal (not TERM=dumb) and not quiet. */
void progress_start(struct progress *p, bool quiet);
/* Seconds since progress_start. */
double progress_elapsed(const struct progress *p);
/* Whether a redraw is due now: call before building an expensive line. */
bool progress_due(const struct progress *p);
/* Redraws the line (printf-style), if due. */
void progress_show(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Redraws the line at once if one is already on the terminal, whatever the rate: the last
 * word before one long step that draws nothing itself. */
void progress_step(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the line, so that what is printed next starts on a clean one. */
void progress_end(struct progress *p);

#endif /* CAPNET_PROGRESS_H */
