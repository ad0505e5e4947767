// SPDX-License-Identifier: GPL-2.0-only
/* captrace's error reporting and option parsing helpers. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "lib/report.h"
#include "tools/captrace/captrace_cli.h"

int ct_parse_seconds(const char *text, const char *what, double *seconds)
{
	uint64_t ns;
	int err = duration_parse_ns(text, DURATION_BARE_SECONDS, &ns);

	if (err == -EINVAL)
		return report_usage("%s \"%s\" is not a duration (" DURATION_EXAMPLES ")", what,
				    text);
	if (err || ns == 0 || ns > 86400000000000ull * 365)
		return report_usage("%s \"%s\" is out of range", what, text);
	*seconds = ns / 1e9;
	return 0;
}
