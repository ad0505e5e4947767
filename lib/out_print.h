/* SPDX-License-Identifier: GPL-2.0-only */
/* One printer for a command's output as text or as JSON, so that the same calls print both and
 * the two forms never drift (iproute2's print_* idea). Each call names the JSON member and gives
 * the text form's printf format for the same value; where the two forms differ, the call that is
 * not wanted in one form passes NULL for it:
 *
 *	print_uint(p, "nodes", "%llu nodes", n);   both forms
 *	print_uint(p, "flip_ns", NULL, flip);      JSON only
 *	print_text(p, ", switched %.1f s ago", s); text only
 *
 * Objects and arrays exist in JSON only; inside an array the values are elements and take no
 * key. Commas, escaping (lib/json) and the final newline of the JSON are the printer's. */
#ifndef CAPNET_OUT_PRINT_H
#define CAPNET_OUT_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Deeper than any output capnet prints; a container opened deeper is written, but its commas
 * are no longer tracked. */
#define OUT_PRINT_MAX_DEPTH 16

struct out_printer {
	FILE *f;
	bool json;
	unsigned int depth; /* JSON containers open */
	bool has_value[OUT_PRINT_MAX_DEPTH]; /* the container at this depth holds a value already */
	bool is_array[OUT_PRINT_MAX_DEPTH];
};

void out_printer_init(struct out_printer *p, FILE *f, bool json);

static inline bool print_is_json(const struct out_printer *p)
{
	return p->json;
}

/* key: the member in a JSON object (NULL: none, unless inside an array, where the value is an
 * element); fmt: the text form, with one conversion for the value (NULL: none). */
void print_uint(struct out_printer *p, const char *key, const char *fmt, unsigned long long value);
void print_int(struct out_printer *p, const char *key, const char *fmt, long long value);
/* The text form gets "true" or "false" as its %s. */
void print_bool(struct out_printer *p, const char *key, const char *fmt, bool value);
/* A JSON string, escaped by lib/json; NULL is JSON's null. The text form gets it as its %s. */
void print_string(struct out_printer *p, const char *key, const char *fmt, const char *value);

/* JSON only: a number written with number_fmt ("%g", "%.1f"); a value that is not finite is
 * null, as JSON has no other word for it. */
void print_json_double(struct out_printer *p, const char *key, const char *number_fmt,
		       double value);
/* JSON only: null. */
void print_json_null(struct out_printer *p, const char *key);
/* JSON only: text[0..len), a JSON value made elsewhere (another capnet's --json), written as it
 * is once lib/json has read it whole. -EINVAL, and nothing written, when it is not one value;
 * -ENOMEM. */
int print_json_raw(struct out_printer *p, const char *key, const char *text, size_t len);

/* Text only: printf. */
void print_text(struct out_printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON only: a container, a member of the one around it (key) or an element (NULL). Closing the
 * outermost container ends the JSON's line. */
void open_object(struct out_printer *p, const char *key);
void close_object(struct out_printer *p);
void open_array(struct out_printer *p, const char *key);
void close_array(struct out_printer *p);

#endif /* CAPNET_OUT_PRINT_H */
