// SPDX-License-Identifier: GPL-2.0-only
/* `capnet clock` arguments and libfaketime's control-file spelling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "netem/svc/clock_spec.h"

#define USAGE "clock NODES --offset ±T | --rate R | --strobe T,PERIOD | --reset"

static int fail(struct spec_error *err, const char *fmt, const char *a)
{
	snprintf(err->msg, sizeof(err->msg), fmt, a);
	return -EINVAL;
}

/* "+30s", "-2.5s", "500ms": a signed duration within CLOCK_MAX_OFFSET_NS. */
static int parse_signed(const char *text, int64_t *out)
{
	bool negative = text[0] == '-';
	uint64_t ns;

	if (text[0] == '+' || text[0] == '-')
		text++;
	if (duration_parse_ns(text, DURATION_BARE_SECONDS, &ns) ||
	    ns > (uint64_t)CLOCK_MAX_OFFSET_NS)
		return -EINVAL;
	*out = negative ? -(int64_t)ns : (int64_t)ns;
	return 0;
}

int clock_change_parse(int argc, char *const argv[], struct clock_change *out,
		       struct spec_error *err)
{
	const char *opt, *val;
	char *end;

	memset(out, 0, sizeof(*out));
	if (argc == 1 && !strcmp(argv[0], "--reset")) {
		out->action = CLOCK_RESET;
		return 0;
	}
	if (argc != 2)
		return fail(err, "usage: capnet %s (one of them)", USAGE);
	opt = argv[0];
	val = argv[1];
	if (!strcmp(opt, "--offset")) {
		out->action = CLOCK_OFFSET;
		if (parse_signed(val, &out->offset_ns))
			return fail(err,
				    "--offset \"%s\": a duration with an optional sign, within a "
				    "year (like +30s, -2.5s, 500ms)",
				    val);
		return 0;
	}
	if (!strcmp(opt, "--rate")) {
		out->action = CLOCK_RATE;
		errno = 0;
		out->rate = strtod(val, &end);
		if (!*val || *end || errno || !isfinite(out->rate) || out->rate < CLOCK_MIN_RATE ||
		    out->rate > CLOCK_MAX_RATE)
			return fail(
				err,
				"--rate \"%s\": how many seconds pass per true second, from 0.01 "
				"to 100 (like 2 or 0.5)",
				val);
		return 0;
	}
	if (!strcmp(opt, "--strobe")) {
		const char *comma = strchr(val, ',');
		char jump[64];

		out->action = CLOCK_STROBE;
		if (!comma || (size_t)(comma - val) >= sizeof(jump))
			return fail(err, "--strobe \"%s\": T,PERIOD (like +5s,2s)", val);
		memcpy(jump, val, comma - val);
		jump[comma - val] = 0;
		if (parse_signed(jump, &out->offset_ns) || !out->offset_ns)
			return fail(err,
				    "--strobe \"%s\": T is a jump other than 0, with an optional "
				    "sign (like +5s)",
				    val);
		if (duration_parse_ns(comma + 1, DURATION_BARE_SECONDS, &out->period_ns) ||
		    out->period_ns < CLOCK_MIN_STROBE_PERIOD_NS ||
		    out->period_ns > 3600ull * 1000000000ull)
			return fail(
				err,
				"--strobe \"%s\": PERIOD from 1s (libfaketime rereads its control "
				"file once a second) to 1h",
				val);
		return 0;
	}
	if (!strcmp(opt, "--reset"))
		return fail(err, "--reset takes no value%s", "");
	return fail(err, "unknown option \"%s\" (capnet " USAGE ")", opt);
}

int64_t clock_offset_at(const struct clock_setting *s, int64_t now_ns)
{
	if (s->rate == 1.0 || now_ns <= s->since_ns)
		return s->offset_ns;
	return s->offset_ns + (int64_t)((double)(now_ns - s->since_ns) * (s->rate - 1.0));
}

void clock_apply(const struct clock_setting *cur, const struct clock_change *c, int64_t now_ns,
		 struct clock_setting *out)
{
	out->since_ns = now_ns;
	switch (c->action) {
	case CLOCK_OFFSET:
		out->offset_ns = c->offset_ns;
		out->rate = 1.0;
		break;
	case CLOCK_RATE:
		out->offset_ns = clock_offset_at(cur, now_ns);
		out->rate = c->rate;
		break;
	case CLOCK_STROBE:
		out->offset_ns = clock_offset_at(cur, now_ns);
		out->rate = 1.0;
		break;
	case CLOCK_RESET:
		out->offset_ns = 0;
		out->rate = 1.0;
		break;
	}
}

static int format_offset(int64_t ns, char *buf, size_t len)
{
	uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	/* Integers printed apart: no rounding through a double, and no locale's decimal comma. */
	return snprintf(buf, len, "%c%llu.%09llu", ns < 0 ? '-' : '+',
			(unsigned long long)(a / 1000000000), (unsigned long long)(a % 1000000000));
}

int clock_setting_format(const struct clock_setting *s, char *buf, size_t len)
{
	char off[40];

	format_offset(s->offset_ns, off, sizeof(off));
	return snprintf(buf, len, "%s x%.6f since %lld", off, s->rate, (long long)s->since_ns);
}

int clock_control_format(const struct clock_setting *s, int64_t start_ns, char *buf, size_t len)
{
	char off[40];
	int64_t o = s->offset_ns;

	if (s->rate != 1.0)
		o += (int64_t)((double)(s->since_ns - start_ns) * (1.0 - s->rate));
	format_offset(o, off, sizeof(off));
	return snprintf(buf, len, "%s x%.6f", off, s->rate);
}

int clock_setting_parse(const char *text, struct clock_setting *out)
{
	const char *p = text, *frac;
	long long sec, nsec, since;
	char *end;
	double rate;
	bool negative;

	/* Exactly what clock_setting_format writes: sign, seconds, 9 digits, " x", rate,
	 * " since ", nanoseconds. */
	if (*p != '+' && *p != '-')
		return -EINVAL;
	negative = *p++ == '-';
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	sec = strtoll(p, &end, 10);
	if (errno || *end != '.' || sec > CLOCK_MAX_OFFSET_NS / 1000000000)
		return -EINVAL;
	frac = end + 1;
	if (strspn(frac, "0123456789") != 9 || strncmp(frac + 9, " x", 2))
		return -EINVAL;
	nsec = strtoll(frac, NULL, 10);
	p = frac + 11;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	rate = strtod(p, &end);
	if (strncmp(end, " since ", 7) || end[7] < '0' || end[7] > '9')
		return -EINVAL;
	since = strtoll(end + 7, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end || errno || !isfinite(rate) || rate < CLOCK_MIN_RATE || rate > CLOCK_MAX_RATE)
		return -EINVAL;
	out->offset_ns = (sec * 1000000000 + nsec) * (negative ? -1 : 1);
	out->rate = rate;
	out->since_ns = since;
	return 0;
}

bool clock_setting_is_true(const struct clock_setting *s)
{
	return !s->offset_ns && s->rate == 1.0;
}

int clock_setting_describe(const struct clock_setting *s, int64_t now_ns, char *buf, size_t len)
{
	int64_t off = clock_offset_at(s, now_ns);
	char rate[32] = "";

	if (clock_setting_is_true(s))
		return snprintf(buf, len, "true time");
	if (s->rate != 1.0)
		snprintf(rate, sizeof(rate), ", rate %g", s->rate);
	return snprintf(buf, len, "%+.9g s%s", off / 1e9, rate);
}
