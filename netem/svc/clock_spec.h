/* SPDX-License-Identifier: GPL-2.0-only */
/* `capnet clock`: what a node's wall clock is told, as capnet reads it from the command line,
 * keeps it (the setting), and writes it for libfaketime (the control text). Pure: no I/O, no
 * clock: the time is passed in. */
#ifndef CAPNET_CLOCK_SPEC_H
#define CAPNET_CLOCK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/policy/spec.h"

/* The most a clock may be moved either way, and how fast or slow it may run. */
#define CLOCK_MAX_OFFSET_NS (366ll * 24 * 3600 * 1000000000ll)
#define CLOCK_MIN_RATE 0.01
#define CLOCK_MAX_RATE 100.0
/* libfaketime rereads its control file once a wall-clock second at most. */
#define CLOCK_MIN_STROBE_PERIOD_NS 1000000000ull

/* A node's clock: at true time t its wall time is t + offset_ns + (t - since_ns) * (rate - 1):
 * offset_ns ahead (or behind) when the setting was made, at since_ns, and running `rate` times
 * as fast from then. The monotonic clock is never touched. */
struct clock_setting {
	int64_t offset_ns;
	double rate;
	int64_t since_ns; /* true CLOCK_REALTIME of the change */
};

enum clock_action {
	CLOCK_OFFSET, /* --offset ±T: T from the true time, at the true rate */
	CLOCK_RATE, /* --rate R: R times as fast, from where the clock stands */
	CLOCK_STROBE, /* --strobe T,PERIOD: from where it stands, a jump by T and back, every
		       * PERIOD, at the true rate */
	CLOCK_RESET, /* --reset: the true time, no strobe */
};

struct clock_change {
	enum clock_action action;
	int64_t offset_ns; /* CLOCK_OFFSET; CLOCK_STROBE: the jump */
	double rate;
	uint64_t period_ns; /* CLOCK_STROBE */
};

/* The words after NODES: exactly one of --offset ±T, --rate R, --strobe T,PERIOD, --reset.
 * T is a duration with an optional sign (+30s, -2.5s, 500ms); fails with err filled. */
int clock_change_parse(int argc, char *const argv[], struct clock_change *out,
		       struct spec_error *err);
/* How far from the true time the clock is at true time now_ns. */
int64_t clock_offset_at(const struct clock_setting *s, int64_t now_ns);
/* The setting after the change made at now_ns (a strobe: its resting state). */
void clock_apply(const struct clock_setting *cur, const struct clock_change *c, int64_t now_ns,
		 struct clock_setting *out);
/* The setting as capnet keeps it: "+30.000000000 x1.000000 since 1796249710000000000".
 * Length, snprintf rules. */
int clock_setting_format(const struct clock_setting *s, char *buf, size_t len);
/* The inverse: 0, or -EINVAL for anything capnet did not write. */
int clock_setting_parse(const char *text, struct clock_setting *out);
/* What libfaketime reads for a setting, in a service whose first process started at true time
 * start_ns: "+OFF xR". libfaketime gives S + OFF + (t - S) * R, S being that start (its
 * processes share it), so OFF = offset + (since - S) * (1 - R) makes that the setting's
 * t + offset + (t - since) * (R - 1). The rate is always written: libfaketime keeps the last
 * one it read. */
int clock_control_format(const struct clock_setting *s, int64_t start_ns, char *buf, size_t len);
/* A person's spelling at true time now_ns: "+30 s", "+12.5 s, rate 2", "true time". */
int clock_setting_describe(const struct clock_setting *s, int64_t now_ns, char *buf, size_t len);
bool clock_setting_is_true(const struct clock_setting *s);

#endif /* CAPNET_CLOCK_SPEC_H */
