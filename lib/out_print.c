// SPDX-License-Identifier: GPL-2.0-only
/* The text-or-JSON printer of lib/out_print.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>

#include "lib/json.h"
#include "lib/out_print.h"

void out_printer_init(struct out_printer *p, FILE *f, bool json)
{
	*p = (struct out_printer){ .f = f, .json = json };
}

static bool in_array(const struct out_printer *p)
{
	return p->depth && p->depth <= OUT_PRINT_MAX_DEPTH && p->is_array[p->depth - 1];
}

/* Starts a JSON value: the comma before it and its key. False when the value has no place in
 * the JSON (text form, or a member without a name). */
static bool json_start(struct out_printer *p, const char *key)
{
	if (!p->json || (p->depth && !key && !in_array(p)))
		return false;
	if (p->depth && p->depth <= OUT_PRINT_MAX_DEPTH) {
		if (p->has_value[p->depth - 1])
			fputc(',', p->f);
		p->has_value[p->depth - 1] = true;
	}
	if (p->depth && !in_array(p)) {
		json_write_string(p->f, key);
		fputc(':', p->f);
	}
	return true;
}

static bool text_wanted(const struct out_printer *p, const char *fmt)
{
	return !p->json && fmt;
}

/* The format is the caller's, for this one value: that is the printer's contract. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void print_uint(struct out_printer *p, const char *key, const char *fmt, unsigned long long value)
{
	if (json_start(p, key))
		fprintf(p->f, "%llu", value);
	else if (text_wanted(p, fmt))
		fprintf(p->f, fmt, value);
}

void print_int(struct out_printer *p, const char *key, const char *fmt, long long value)
{
	if (json_start(p, key))
		fprintf(p->f, "%lld", value);
	else if (text_wanted(p, fmt))
		fprintf(p->f, fmt, value);
}

void print_bool(struct out_printer *p, const char *key, const char *fmt, bool value)
{
	if (json_start(p, key))
		fputs(value ? "true" : "false", p->f);
	else if (text_wanted(p, fmt))
		fprintf(p->f, fmt, value ? "true" : "false");
}

void print_string(struct out_printer *p, const char *key, const char *fmt, const char *value)
{
	if (json_start(p, key))
		json_write_string(p->f, value);
	else if (text_wanted(p, fmt))
		fprintf(p->f, fmt, value ? value : "");
}

void print_json_double(struct out_printer *p, const char *key, const char *number_fmt, double value)
{
	if (!json_start(p, key))
		return;
	if (isfinite(value))
		fprintf(p->f, number_fmt, value);
	else
		fputs("null", p->f);
}

#pragma GCC diagnostic pop

void print_json_null(struct out_printer *p, const char *key)
{
	if (json_start(p, key))
		fputs("null", p->f);
}

int print_json_raw(struct out_printer *p, const char *key, const char *text, size_t len)
{
	struct json_value v;
	int err;

	if (!p->json)
		return 0;
	err = json_parse(text, len, JSON_MAX_DEPTH_ANY, &v, NULL);
	if (err)
		return err;
	json_value_free(&v);
	if (json_start(p, key))
		fwrite(text, 1, len, p->f);
	return 0;
}

void print_text(struct out_printer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->json)
		return;
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
}

static void open_container(struct out_printer *p, const char *key, bool array)
{
	if (!json_start(p, key))
		return;
	fputc(array ? '[' : '{', p->f);
	p->depth++;
	if (p->depth <= OUT_PRINT_MAX_DEPTH) {
		p->has_value[p->depth - 1] = false;
		p->is_array[p->depth - 1] = array;
	}
}

static void close_container(struct out_printer *p, bool array)
{
	if (!p->json || !p->depth)
		return;
	fputc(array ? ']' : '}', p->f);
	if (!--p->depth)
		fputc('\n', p->f);
}

void open_object(struct out_printer *p, const char *key)
{
	open_container(p, key, false);
}

void close_object(struct out_printer *p)
{
	close_container(p, false);
}

void open_array(struct out_printer *p, const char *key)
{
	open_container(p, key, true);
}

void close_array(struct out_printer *p)
{
	close_container(p, true);
}
