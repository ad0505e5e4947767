/* SPDX-License-Identifier: GPL-2.0-only */
/* Numbers as users write them on a command line, checked against a range, with one wording in
 * every program: `--port expects a whole number from 1 to 65535, not "x"`. The message is left
 * with error_note (lib/report.h) for the command to print. */
#ifndef CAPNET_NUMBER_H
#define CAPNET_NUMBER_H

/* A whole number in decimal, min..max: 0, or -EINVAL with the message left. text NULL (a
 * missing value) fails too. */
int number_parse_whole(const char *opt, const char *text, unsigned long long min,
		       unsigned long long max, unsigned long long *out);
/* A number such as 0.5 or 1e3, min..max: 0, or -EINVAL with the message left. */
int number_parse_real(const char *opt, const char *text, double min, double max, double *out);

#endif /* CAPNET_NUMBER_H */
