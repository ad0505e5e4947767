// SPDX-License-Identifier: GPL-2.0-only
/* EDN: a recursive reader with a depth limit, positions kept for every error. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/edn.h"

void edn_reader_init(struct edn_reader *r, const char *text, size_t len, int max_depth)
{
	r->start = r->p = r->line_start = text;
	r->end = text + len;
	r->line = 1;
	r->max_depth = max_depth;
	r->nul = memchr(text, '\0', len);
}

static int fail(struct edn_reader *r, struct edn_error *err, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct edn_reader *r, struct edn_error *err, const char *at, const char *fmt, ...)
{
	const char *ls = r->line_start;
	long line = r->line;
	va_list ap;

	/* at may be on the current line or before it: count back from the current position. */
	if (at < ls) {
		for (const char *q = at; q < r->line_start; q++)
			if (*q == '\n')
				line--;
		for (ls = at; ls > r->start && ls[-1] != '\n'; ls--)
			;
	}
	err->line = line;
	err->column = (long)(at - ls) + 1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void advance(struct edn_reader *r)
{
	if (*r->p == '\n') {
		r->line++;
		r->line_start = r->p + 1;
	}
	r->p++;
}

/* Blanks, commas and ; comments. */
static void skip_blank(struct edn_reader *r)
{
	while (r->p < r->end) {
		if (*r->p == ';') {
			while (r->p < r->end && *r->p != '\n')
				r->p++;
		} else if (isspace((unsigned char)*r->p) || *r->p == ',') {
			advance(r);
		} else {
			break;
		}
	}
}

/* A switch, not strchr: this runs for every character of a history. NUL ends a token too. */
static bool delimiter(char c)
{
	switch (c) {
	case '\0':
	case '(':
	case ')':
	case '[':
	case ']':
	case '{':
	case '}':
	case '"':
	case ';':
	case ',':
		return true;
	default:
		return isspace((unsigned char)c);
	}
}

void edn_value_free(struct edn_value *v)
{
	for (size_t i = 0; i < v->n; i++)
		edn_value_free(&v->items[i]);
	free(v->items);
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static int read_value(struct edn_reader *r, struct edn_value *out, struct edn_error *err,
		      int depth);

static int read_seq(struct edn_reader *r, struct edn_value *out, struct edn_error *err, int depth,
		    char close, enum edn_kind kind)
{
	const char *open = r->p - 1;
	size_t cap = 0;
	int rc;

	out->kind = kind;
	if (depth >= r->max_depth)
		return fail(r, err, open, "nested more than %d deep", r->max_depth);
	for (;;) {
		skip_blank(r);
		if (r->p >= r->end)
			return fail(r, err, open, "'%c' opened here is never closed",
				    kind == EDN_LIST   ? '(' :
				    kind == EDN_VECTOR ? '[' :
							 '{');
		if (*r->p == close) {
			r->p++;
			break;
		}
		if (*r->p == ')' || *r->p == ']' || *r->p == '}' || !*r->p)
			return fail(r, err, r->p, "'%c' where '%c' was expected", *r->p, close);
		rc = array_grow((void **)&out->items, sizeof(*out->items), out->n, &cap);
		if (rc)
			return rc;
		memset(&out->items[out->n], 0, sizeof(*out->items));
		rc = read_value(r, &out->items[out->n], err, depth + 1);
		if (rc == 0)
			continue; /* a discarded value */
		if (rc < 0) {
			/* What the failed value had built is not counted in n: free it here. */
			edn_value_free(&out->items[out->n]);
			return rc;
		}
		out->n++;
	}
	if (kind == EDN_MAP && out->n % 2)
		return fail(r, err, open, "a map with a key and no value");
	return 1;
}

static int read_string(struct edn_reader *r, struct edn_value *out, struct edn_error *err)
{
	const char *open = r->p - 1;
	size_t cap = 64, n = 0;
	char *s = malloc(cap);

	if (!s)
		return -ENOMEM;
	out->kind = EDN_STRING;
	out->text = s;
	for (;;) {
		char c;

		if (r->p >= r->end)
			return fail(r, err, open, "a string that never ends");
		c = *r->p;
		advance(r);
		if (c == '"')
			break;
		if (c == '\\') {
			if (r->p >= r->end)
				return fail(r, err, open, "a string that never ends");
			c = *r->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case '"':
			case '\\':
				break;
			case 'u': {
				unsigned int u = 0;

				for (int i = 0; i < 4; i++, r->p++) {
					if (r->p >= r->end || !isxdigit((unsigned char)*r->p))
						return fail(r, err, r->p, "\\u needs 4 hex digits");
					u = u * 16 +
					    (isdigit((unsigned char)*r->p) ?
						     *r->p - '0' :
						     (tolower((unsigned char)*r->p) - 'a' + 10));
				}
				if (!u || (u >= 0xd800 && u <= 0xdfff))
					return fail(r, err, r->p - 6,
						    "\\u%04x is not a character here", u);
				/* UTF-8, at most 3 bytes for the BMP. */
				if (n + 4 >= cap) {
					char *t = realloc(s, cap *= 2);

					if (!t)
						return -ENOMEM;
					out->text = s = t;
				}
				if (u < 0x80) {
					s[n++] = (char)u;
				} else if (u < 0x800) {
					s[n++] = (char)(0xc0 | u >> 6);
					s[n++] = (char)(0x80 | (u & 0x3f));
				} else {
					s[n++] = (char)(0xe0 | u >> 12);
					s[n++] = (char)(0x80 | ((u >> 6) & 0x3f));
					s[n++] = (char)(0x80 | (u & 0x3f));
				}
				continue;
			}
			default:
				return fail(r, err, r->p - 2, "unknown escape \\%c", c);
			}
		} else if (c == '\0') {
			return fail(r, err, r->p - 1, "a NUL byte in a string");
		}
		if (n + 2 >= cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				return -ENOMEM;
			out->text = s = t;
		}
		s[n++] = c;
	}
	s[n] = 0;
	return 1;
}

/* A token up to the next delimiter: a number, nil, true, false, a symbol or a keyword. */
static int read_token(struct edn_reader *r, struct edn_value *out, struct edn_error *err)
{
	const char *t = r->p, *q;
	size_t n;

	while (r->p < r->end && !delimiter(*r->p))
		r->p++;
	n = (size_t)(r->p - t);
	if (!n)
		return fail(r, err, t, "unexpected '%c'", *t);
	if ((n == 3 && !memcmp(t, "nil", 3))) {
		out->kind = EDN_NIL;
		return 1;
	}
	if ((n == 4 && !memcmp(t, "true", 4)) || (n == 5 && !memcmp(t, "false", 5))) {
		out->kind = EDN_BOOL;
		out->b = n == 4;
		return 1;
	}
	q = t + ((*t == '-' || *t == '+') && n > 1);
	if (isdigit((unsigned char)*q)) {
		bool is_float = false;
		size_t len = n;

		for (const char *c = q; c < t + n; c++) {
			if (strchr(".eE", *c))
				is_float = true;
			else if (!isdigit((unsigned char)*c) &&
				 !((*c == 'N' || *c == 'M') && c == t + n - 1) &&
				 !((*c == '-' || *c == '+') && (c[-1] == 'e' || c[-1] == 'E')))
				return fail(r, err, t, "\"%.*s\" is not a number", (int)n, t);
		}
		if (t[n - 1] == 'N' || t[n - 1] == 'M')
			len--;
		if (!is_float && len > (size_t)(q - t) + 1 && *q == '0')
			return fail(r, err, t, "\"%.*s\": a number with a leading zero", (int)n, t);
		out->kind = is_float ? EDN_FLOAT : EDN_INT;
		out->text = strndup(*t == '+' ? t + 1 : t, *t == '+' ? len - 1 : len);
		return out->text ? 1 : -ENOMEM;
	}
	if (*t == ':') {
		if (n == 1)
			return fail(r, err, t, "a keyword needs a name after ':'");
		out->kind = EDN_KEYWORD;
		out->text = strndup(t + 1, n - 1);
		return out->text ? 1 : -ENOMEM;
	}
	out->kind = EDN_SYMBOL;
	out->text = strndup(t, n);
	return out->text ? 1 : -ENOMEM;
}

/* 1 a value, 0 a discarded one (#_), < 0 an error. */
static int read_value(struct edn_reader *r, struct edn_value *out, struct edn_error *err, int depth)
{
	char c;
	int rc;

	skip_blank(r);
	if (r->p >= r->end)
		return fail(r, err, r->p, "a value was expected before the end");
	out->line = r->line;
	out->column = (long)(r->p - r->line_start) + 1;
	c = *r->p++;
	switch (c) {
	case '(':
		return read_seq(r, out, err, depth, ')', EDN_LIST);
	case '[':
		return read_seq(r, out, err, depth, ']', EDN_VECTOR);
	case '{':
		return read_seq(r, out, err, depth, '}', EDN_MAP);
	case '"':
		return read_string(r, out, err);
	case '\\': {
		const char *t = r->p;

		while (r->p < r->end && !delimiter(*r->p))
			r->p++;
		if (r->p == t && r->p < r->end)
			r->p++;
		out->kind = EDN_CHAR;
		if (r->p - t == 7 && !memcmp(t, "newline", 7))
			out->text = strdup("\n");
		else if (r->p - t == 5 && !memcmp(t, "space", 5))
			out->text = strdup(" ");
		else if (r->p - t == 3 && !memcmp(t, "tab", 3))
			out->text = strdup("\t");
		else if (r->p - t == 1)
			out->text = strndup(t, 1);
		else
			return fail(r, err, t - 1, "\"\\%.*s\" is not a character", (int)(r->p - t),
				    t);
		return out->text ? 1 : -ENOMEM;
	}
	case '#':
		if (r->p < r->end && *r->p == '{') {
			r->p++;
			return read_seq(r, out, err, depth, '}', EDN_SET);
		}
		if (r->p < r->end && *r->p == '_') {
			struct edn_value gone = { 0 };

			r->p++;
			rc = read_value(r, &gone, err, depth);
			edn_value_free(&gone);
			return rc < 0 ? rc : 0;
		}
		{
			const char *t = r->p;

			while (r->p < r->end && !delimiter(*r->p))
				r->p++;
			if (r->p == t || !isalpha((unsigned char)*t))
				return fail(r, err, t - 1, "'#' needs a tag, '{' or '_' after it");
			out->kind = EDN_TAGGED;
			out->text = strndup(t, (size_t)(r->p - t));
			out->items = calloc(1, sizeof(*out->items));
			if (!out->text || !out->items)
				return -ENOMEM;
			if (depth >= r->max_depth)
				return fail(r, err, t - 1, "nested more than %d deep",
					    r->max_depth);
			do
				rc = read_value(r, &out->items[0], err, depth + 1);
			while (rc == 0);
			if (rc > 0)
				out->n = 1;
			else
				edn_value_free(&out->items[0]);
			return rc;
		}
	case ')':
	case ']':
	case '}':
		return fail(r, err, r->p - 1, "'%c' closes nothing", c);
	default:
		r->p--;
		return read_token(r, out, err);
	}
}

int edn_read(struct edn_reader *r, struct edn_value *out, struct edn_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (r->nul) {
		/* Refused whole: a NUL is never part of EDN text. */
		err->line = 1;
		for (const char *q = r->start; q < r->nul; q++)
			if (*q == '\n') {
				err->line++;
				err->column = 0;
			} else {
				err->column++;
			}
		err->column++;
		snprintf(err->msg, sizeof(err->msg), "NUL byte");
		return -EINVAL;
	}
	for (;;) {
		skip_blank(r);
		if (r->p >= r->end)
			return 0;
		rc = read_value(r, out, err, 0);
		if (rc != 0)
			break;
	}
	if (rc < 0)
		edn_value_free(out);
	return rc;
}

const struct edn_value *edn_get(const struct edn_value *m, const char *key)
{
	if (!m || m->kind != EDN_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->items[i].kind == EDN_KEYWORD && !strcmp(m->items[i].text, key))
			return &m->items[i + 1];
	return NULL;
}

bool edn_is_keyword(const struct edn_value *v, const char *name)
{
	return v && v->kind == EDN_KEYWORD && !strcmp(v->text, name);
}
