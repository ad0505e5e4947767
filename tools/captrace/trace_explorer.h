/* SPDX-License-Identifier: GPL-2.0-only */
/* The explorable view of a recording in captrace's HTML report (tools/captrace/trace_explorer.c
 * says what it shows). */
#ifndef CAPNET_TRACE_EXPLORER_H
#define CAPNET_TRACE_EXPLORER_H

#include <stdio.h>

#include "tools/captrace/trace_pair.h"

/* Writes the explorer's controls, canvas, data and script into an HTML page. 0, or -1. */
int trace_explorer_write(FILE *f, const struct trace_analysis *an);

#endif /* CAPNET_TRACE_EXPLORER_H */
