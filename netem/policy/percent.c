// SPDX-License-Identifier: GPL-2.0-only
/* Percentages as users write them ("20%", "0.5%"), in parts per million: loss, duplication
 * and corruption rates of `capnet link`. Pure. */
#include <stdbool.h>
#include <stdint.h>

#include "netem/policy/spec_internal.h"

int percent_parse_ppm(const char *text, uint32_t *ppm, struct spec_error *err)
{
	struct span sp = span_of(text);
	uint64_t whole = 0, frac = 0;
	unsigned int digits = 0, decimals = 0;
	bool finer = false;
	size_t i = 0;

	if (!sp.n)
		return spec_fail(err, "empty percentage");
	if (sp.s[0] == '-')
		return spec_fail(err, "negative percentage \"%.*s%s\"", QUOTE(sp));
	for (; i < sp.n && sp.s[i] >= '0' && sp.s[i] <= '9'; i++, digits++)
		whole = whole > 1000 ? whole : whole * 10 + (uint64_t)(sp.s[i] - '0');
	if (i < sp.n && sp.s[i] == '.') {
		for (i++; i < sp.n && sp.s[i] >= '0' && sp.s[i] <= '9'; i++, digits++) {
			/* 4 decimals of a percent are whole ppm; zeros after them change nothing. */
			if (decimals < 4)
				frac = frac * 10 + (uint64_t)(sp.s[i] - '0');
			else if (sp.s[i] != '0')
				finer = true;
			decimals++;
		}
	}
	if (i < sp.n && sp.s[i] == '%')
		i++;
	if (!digits || i != sp.n)
		return spec_fail(err, "\"%.*s%s\" is not a percentage (write e.g. 20%%, 0.5%%)",
				 QUOTE(sp));
	if (finer)
		return spec_fail(err, "\"%.*s%s\" is finer than 0.0001%% (1 ppm)", QUOTE(sp));
	for (; decimals < 4; decimals++)
		frac *= 10;
	if (whole * 10000 + frac > 1000000)
		return spec_fail(err, "\"%.*s%s\" is over 100%%", QUOTE(sp));
	*ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}
