/* SPDX-License-Identifier: GPL-2.0-only */
/* The JSON benchmark's events, shared by its two files: jansson's and json-c's headers cannot
 * be included in one file (both declare json_object). */
#ifndef CAPNET_JSON_BENCH_H
#define CAPNET_JSON_BENCH_H

#include <stddef.h>

struct event {
	unsigned long long process, time;
	char *type, *f, *key, *value;
};

char *dup_or_null(const char *s);
/* Parses the JSON lines of buf into ev with json-c; returns the number of events. */
size_t parse_json_c(const char *buf, size_t len, struct event *ev);

#endif /* CAPNET_JSON_BENCH_H */
