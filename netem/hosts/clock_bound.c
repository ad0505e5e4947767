// SPDX-License-Identifier: GPL-2.0-only
/* A host clock's offset bound: from chrony's tracking line, or from round trips. Pure. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/hosts/clock_bound.h"

/* chronyc -c tracking: refid, name, stratum, ref time, system time offset, last offset, RMS
 * offset, frequency, residual frequency, skew, root delay, root dispersion, update interval,
 * leap status. */
enum {
	FIELD_STRATUM = 2,
	FIELD_SYSTEM_TIME = 4,
	FIELD_ROOT_DELAY = 10,
	FIELD_ROOT_DISPERSION = 11,
	FIELD_LEAP = 13,
	FIELDS = 14,
};

const char *clock_source_name(enum clock_source s)
{
	return s == CLOCK_SOURCE_CHRONY ? "chrony" : s == CLOCK_SOURCE_PTP ? "ptp" : "ssh";
}

static bool seconds(const char *text, double *out)
{
	char *end;

	*out = strtod(text, &end);
	return end != text && !*end && isfinite(*out);
}

int clock_bound_chrony(const char *csv_line, uint64_t *bound_ns)
{
	char buf[512], *field[FIELDS], *p;
	double offset, delay, dispersion, bound;
	unsigned int n = 0;

	snprintf(buf, sizeof(buf), "%s", csv_line);
	buf[strcspn(buf, "\r\n")] = '\0';
	/* strtok_r would merge the empty fields a name-less refid leaves. */
	for (p = buf; n < FIELDS; n++) {
		field[n] = p;
		p = strchr(p, ',');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != FIELDS || p)
		return -EINVAL;
	if (!strcmp(field[FIELD_LEAP], "Not synchronised") || !strcmp(field[FIELD_STRATUM], "0"))
		return -ENODATA;
	if (!seconds(field[FIELD_SYSTEM_TIME], &offset) ||
	    !seconds(field[FIELD_ROOT_DELAY], &delay) ||
	    !seconds(field[FIELD_ROOT_DISPERSION], &dispersion) || delay < 0 || dispersion < 0)
		return -EINVAL;
	bound = fabs(offset) + dispersion + delay / 2;
	if (bound > 3600)
		return -ERANGE;
	*bound_ns = (uint64_t)ceil(bound * 1e9);
	return 0;
}

/* The value after `key` and its blanks, where key starts a line's text; NULL if none does. */
static const char *pmc_value(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = text; (p = strstr(p, key)); p += len) {
		bool starts = p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n';

		if (starts && (p[len] == ' ' || p[len] == '\t')) {
			for (p += len; *p == ' ' || *p == '\t'; p++)
				;
			return p;
		}
	}
	return NULL;
}

int clock_bound_pmc(const char *text, uint64_t *bound_ns)
{
	const char *offset = pmc_value(text, "master_offset"), *gm = pmc_value(text, "gmPresent");
	long long v;
	char *end;

	if (!offset || !gm)
		return -EINVAL;
	if (strncmp(gm, "true", 4))
		return -ENODATA;
	errno = 0;
	v = strtoll(offset, &end, 10);
	if (end == offset || errno || !strchr(" \t\r\n", *end) || v < -3600000000000ll ||
	    v > 3600000000000ll)
		return -EINVAL;
	*bound_ns = v < 0 ? (uint64_t)-v : (uint64_t)v;
	return 0;
}

int clock_bound_samples(const struct clock_sample *s, size_t n, int64_t *offset_ns,
			uint64_t *bound_ns)
{
	int64_t low = INT64_MIN, high = INT64_MAX;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int64_t from = (int64_t)(s[i].remote - s[i].received),
			to = (int64_t)(s[i].remote - s[i].sent);

		if (s[i].received < s[i].sent)
			return -EINVAL;
		low = from > low ? from : low;
		high = to < high ? to : high;
	}
	if (low > high)
		return -ERANGE;
	/* The half width rounded up: the bound must hold, never be flattered. */
	*offset_ns = low + (high - low) / 2;
	*bound_ns = (uint64_t)(high - low + 1) / 2;
	return 0;
}
