/* SPDX-License-Identifier: GPL-2.0-only */
/* Pictures of an analysed recording: an SVG sequence diagram (one lane per node, time downward,
 * partition windows shaded, every lost frame in red), and an HTML page holding it with the
 * report's tables. */
#ifndef CAPNET_CAPTRACE_SVG_H
#define CAPNET_CAPTRACE_SVG_H

#include <stdio.h>

#include "tools/captrace/trace_dir.h"
#include "tools/captrace/trace_pair.h"

/* Delivered frames are drawn one by one up to this many, then as counts per time bucket. */
#define TRACE_SVG_MAX_ARROWS 1500

/* 0, or -EIO if writing failed. */
int trace_svg_write(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta);
int trace_html_write(FILE *f, const struct trace_analysis *an, const struct trace_meta *meta);

#endif /* CAPNET_CAPTRACE_SVG_H */
