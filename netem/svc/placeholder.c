// SPDX-License-Identifier: GPL-2.0-only
/* Expansion of service argument placeholders, one pass, no allocation. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "netem/svc/placeholder.h"

#define KNOWN \
	"{i}, {ip}, {n}, {dir}, {each:TEMPLATE}, {each/SEP:TEMPLATE}; {{ and }} are literal braces"

struct out {
	char *buf;
	size_t len, used;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->len - o->used) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->used, s, n);
	o->used += n;
	o->buf[o->used] = 0;
}

/* The end of the placeholder opened at text[0] == '{': the matching '}' (an {each:} template
 * holds placeholders of its own), or NULL. */
static const char *closing(const char *text)
{
	int depth = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '{' && p[1] == '{' && depth > 0) {
			p++;
			continue;
		}
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

/* The separator of {each/SEP:...} (a comma for {each:...}), its escapes undone: \n a newline,
 * \t a tab, \\ a backslash, so that a script line, which holds no newline, can ask for one. */
static int separator(const char *text, size_t len, bool given, char *sep, size_t *sep_len,
		     struct spec_error *err)
{
	size_t n = 0;

	if (!given) {
		sep[0] = ',';
		*sep_len = 1;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\\' && i + 1 < len) {
			c = text[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == '\\' ? '\\' : 0;
			if (!c) {
				snprintf(
					err->msg, sizeof(err->msg),
					"{each/SEP:}: \"\\%c\" in the separator (\\n, \\t and \\\\ are known)",
					text[i]);
				return -EINVAL;
			}
		}
		if (n == 63) {
			snprintf(err->msg, sizeof(err->msg),
				 "{each/SEP:}: a separator of at most 63 bytes");
			return -EINVAL;
		}
		sep[n++] = c;
	}
	*sep_len = n;
	return 0;
}

static int expand(const char *text, size_t text_len, unsigned int node,
		  const struct placeholder_ctx *ctx, bool in_each, struct out *o,
		  struct spec_error *err)
{
	const char *p = text, *end = text + text_len;
	char value[4096];

	while (p < end) {
		const char *close;
		size_t name_len;

		if (p[0] == '{' && p + 1 < end && p[1] == '{') {
			put(o, "{", 1);
			p += 2;
			continue;
		}
		if (p[0] == '}' && p + 1 < end && p[1] == '}') {
			put(o, "}", 1);
			p += 2;
			continue;
		}
		if (p[0] != '{') {
			put(o, p, 1);
			p++;
			continue;
		}
		close = closing(p);
		if (!close || close >= end) {
			snprintf(err->msg, sizeof(err->msg),
				 "\"%.*s\": a { without its } (placeholders: " KNOWN ")",
				 (int)(end - p > 40 ? 40 : end - p), p);
			return -EINVAL;
		}
		name_len = (size_t)(close - p - 1);
		if (name_len >= 5 && (!strncmp(p + 1, "each:", 5) || !strncmp(p + 1, "each/", 5))) {
			const char *tmpl = memchr(p + 5, ':', name_len - 4);
			char sep[64];
			size_t sep_len;
			bool first = true;

			if (!tmpl) {
				snprintf(
					err->msg, sizeof(err->msg),
					"\"%.*s\": {each/SEP:TEMPLATE} needs the : after its separator",
					(int)(close - p + 1 > 60 ? 60 : close - p + 1), p);
				return -EINVAL;
			}
			if (separator(p + 6, (size_t)(tmpl - p - 6), p[5] == '/', sep, &sep_len,
				      err))
				return -EINVAL;
			tmpl++;
			if (in_each) {
				snprintf(err->msg, sizeof(err->msg),
					 "\"%.*s\": {each:} inside {each:}", (int)(close - p + 1),
					 p);
				return -EINVAL;
			}
			for (unsigned int k = 1; k <= ctx->nodes; k++) {
				int rc;

				if (ctx->service_nodes && !nodeset_has(ctx->service_nodes, k))
					continue;
				if (!first)
					put(o, sep, sep_len);
				first = false;
				rc = expand(tmpl, (size_t)(close - tmpl), k, ctx, true, o, err);
				if (rc)
					return rc;
			}
			if (!ctx->nodes) {
				/* Checking only: the template's own placeholders. */
				int rc = expand(tmpl, (size_t)(close - tmpl), 0, ctx, true, o, err);

				if (rc)
					return rc;
			}
			p = close + 1;
			continue;
		}
		value[0] = 0;
		if (name_len == 1 && p[1] == 'i') {
			snprintf(value, sizeof(value), "%u", node);
		} else if (name_len == 1 && p[1] == 'n') {
			snprintf(value, sizeof(value), "%u", ctx->nodes);
		} else if (name_len == 2 && !strncmp(p + 1, "ip", 2)) {
			if (ctx->ip)
				ctx->ip(node, value, sizeof(value), ctx->arg);
		} else if (name_len == 3 && !strncmp(p + 1, "dir", 3)) {
			if (ctx->dir)
				ctx->dir(node, value, sizeof(value), ctx->arg);
		} else {
			snprintf(err->msg, sizeof(err->msg),
				 "unknown placeholder {%.*s} (known: " KNOWN ")",
				 (int)(name_len > 40 ? 40 : name_len), p + 1);
			return -EINVAL;
		}
		put(o, value, strlen(value));
		p = close + 1;
	}
	return 0;
}

int placeholder_expand(const char *text, unsigned int node, const struct placeholder_ctx *ctx,
		       char *out, size_t len, struct spec_error *err)
{
	struct out o = { .buf = out, .len = len };
	int rc;

	if (!len)
		return -ENAMETOOLONG;
	out[0] = 0;
	rc = expand(text, strlen(text), node, ctx, false, &o, err);
	if (!rc && o.full) {
		snprintf(err->msg, sizeof(err->msg), "\"%.40s...\" expands to more than %zu bytes",
			 text, len - 1);
		return -ENAMETOOLONG;
	}
	return rc;
}

int placeholder_check(const char *text, struct spec_error *err)
{
	static char scratch[65536];
	const struct placeholder_ctx none = { 0 };

	return placeholder_expand(text, 0, &none, scratch, sizeof(scratch), err) == -EINVAL ?
		       -EINVAL :
		       0;
}
