// SPDX-License-Identifier: GPL-2.0-only
/* What the partition-spec parsers share: error text that quotes the user, spans of user text,
 * and bounded output with snprintf rules. Pure. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netem/policy/spec_internal.h"

int spec_fail(struct spec_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct span span_of(const char *s)
{
	return (struct span){ s ? s : "", s ? strlen(s) : 0 };
}

struct span span_trim(struct span sp)
{
	while (sp.n && (sp.s[0] == ' ' || sp.s[0] == '\t')) {
		sp.s++;
		sp.n--;
	}
	while (sp.n && (sp.s[sp.n - 1] == ' ' || sp.s[sp.n - 1] == '\t'))
		sp.n--;
	return sp;
}

bool span_is(struct span sp, const char *word)
{
	return sp.n == strlen(word) && !memcmp(sp.s, word, sp.n);
}

struct span span_next(struct span *rest, char sep, bool *more)
{
	const char *at = memchr(rest->s, sep, rest->n);
	struct span head = *rest;

	*more = at != NULL;
	if (!at) {
		rest->s += rest->n;
		rest->n = 0;
		return head;
	}
	head.n = (size_t)(at - rest->s);
	rest->n -= head.n + 1;
	rest->s = at + 1;
	return head;
}

const char *spec_plural(unsigned int n)
{
	return n == 1 ? "" : "s";
}

int spec_check_lab(unsigned int nodes, struct spec_error *err)
{
	if (nodes < 1 || nodes > CAPNET_MAX_NODES)
		return spec_fail(err, "a lab has 1 to %d nodes, not %u", CAPNET_MAX_NODES, nodes);
	return 0;
}

void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->pos < o->len)
		n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* A fast path for the node numbers that make up nearly all of a large partition's text. */
void out_text(struct out *o, const char *text, size_t n)
{
	if (o->pos < o->len)
		memcpy(o->buf + o->pos, text, n < o->len - o->pos ? n : o->len - o->pos);
	o->pos += n;
}

void out_uint(struct out *o, unsigned int v)
{
	char digits[12];
	size_t i = sizeof(digits);

	do
		digits[--i] = (char)('0' + v % 10);
	while (v /= 10);
	out_text(o, digits + i, sizeof(digits) - i);
}

int out_end(struct out *o)
{
	if (o->len)
		o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
	return o->pos > INT_MAX ? -EOVERFLOW : (int)o->pos;
}
