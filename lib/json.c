// SPDX-License-Identifier: GPL-2.0-only
/* The JSON reader and writer of every capnet program (README.md says why our own rather than a
 * library). Strict about syntax (RFC 8259): no trailing commas, no leading zeros, no bare
 * control characters, paired surrogates only, no \\u0000 (values become C strings). Numbers
 * stay the literal they were, so 64-bit unsigned values (seeds, nanosecond times) lose nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/json.h"

struct jparser {
	const char *start, *p, *end;
	struct json_error *err;
	int max_depth;
};

static int jerr(struct jparser *jp, const char *what)
{
	jp->err->column = (long)(jp->p - jp->start) + 1;
	snprintf(jp->err->msg, sizeof(jp->err->msg), "%s", what);
	return -EINVAL;
}

void json_value_free(struct json_value *v)
{
	size_t i;

	if (!v)
		return;
	free(v->str);
	for (i = 0; i < v->n; i++) {
		if (v->items)
			json_value_free(&v->items[i]);
		if (v->names)
			free(v->names[i]);
	}
	free(v->items);
	free(v->names);
	memset(v, 0, sizeof(*v));
}

static void skip_ws(struct jparser *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\r' || *jp->p == '\n'))
		jp->p++;
}

static int hex4(struct jparser *jp, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	if (jp->end - jp->p < 4)
		return jerr(jp, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = jp->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return jerr(jp, "bad hex digit in \\u escape");
	}
	jp->p += 4;
	*out = v;
	return 0;
}

static size_t put_utf8(char *dst, unsigned int cp)
{
	if (cp < 0x80) {
		dst[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = 0xc0 | (cp >> 6);
		dst[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = 0xe0 | (cp >> 12);
		dst[1] = 0x80 | ((cp >> 6) & 0x3f);
		dst[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	dst[0] = 0xf0 | (cp >> 18);
	dst[1] = 0x80 | ((cp >> 12) & 0x3f);
	dst[2] = 0x80 | ((cp >> 6) & 0x3f);
	dst[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* At the opening quote. The decoded text is never longer than the escaped one. */
static int parse_string(struct jparser *jp, char **out)
{
	const char *q;
	char *buf;
	size_t n = 0;
	int ret;

	for (q = jp->p + 1; q < jp->end && *q != '"'; q++)
		if (*q == '\\')
			q++;
	if (q >= jp->end)
		return jerr(jp, "unterminated string");
	jp->p++;
	buf = malloc(q - jp->p + 1);
	if (!buf)
		return -ENOMEM;
	while (*jp->p != '"') {
		unsigned char c = *jp->p;
		unsigned int cp, lo;

		if (c < 0x20) {
			ret = jerr(jp, "control character in string");
			goto fail;
		}
		if (c != '\\') {
			buf[n++] = c;
			jp->p++;
			continue;
		}
		jp->p++;
		c = *jp->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			buf[n++] = c;
			break;
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u':
			ret = hex4(jp, &cp);
			if (ret)
				goto fail;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u') {
					ret = jerr(jp, "unpaired surrogate in \\u escape");
					goto fail;
				}
				jp->p += 2;
				ret = hex4(jp, &lo);
				if (ret)
					goto fail;
				if (lo < 0xdc00 || lo > 0xdfff) {
					ret = jerr(jp, "unpaired surrogate in \\u escape");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				ret = jerr(jp, "unpaired surrogate in \\u escape");
				goto fail;
			} else if (cp == 0) {
				ret = jerr(jp, "\\u0000 is not allowed in a string");
				goto fail;
			}
			n += put_utf8(buf + n, cp);
			break;
		default:
			jp->p--;
			ret = jerr(jp, "bad escape in string");
			goto fail;
		}
	}
	jp->p++;
	buf[n] = '\0';
	*out = buf;
	return 0;
fail:
	free(buf);
	return ret;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct jparser *jp, struct json_value *v)
{
	const char *s = jp->p;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p >= jp->end || !is_digit(*jp->p))
		return jerr(jp, "bad number");
	if (*jp->p == '0')
		jp->p++;
	else
		while (jp->p < jp->end && is_digit(*jp->p))
			jp->p++;
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		if (jp->p >= jp->end || !is_digit(*jp->p))
			return jerr(jp, "bad number");
		while (jp->p < jp->end && is_digit(*jp->p))
			jp->p++;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || !is_digit(*jp->p))
			return jerr(jp, "bad number");
		while (jp->p < jp->end && is_digit(*jp->p))
			jp->p++;
	}
	v->kind = JSON_NUMBER;
	v->str = strndup(s, jp->p - s);
	return v->str ? 0 : -ENOMEM;
}

static bool match_word(struct jparser *jp, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, w, n))
		return false;
	jp->p += n;
	return true;
}

static int parse_value(struct jparser *jp, struct json_value *v, int depth);

static int parse_container(struct jparser *jp, struct json_value *v, int depth)
{
	bool obj = *jp->p == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0, ncap;
	int ret;

	if (depth >= jp->max_depth) {
		jp->err->too_deep = true;
		return jerr(jp, "nested too deeply");
	}
	v->kind = obj ? JSON_OBJECT : JSON_ARRAY;
	jp->p++;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		char *name = NULL;

		skip_ws(jp);
		if (obj) {
			if (jp->p >= jp->end || *jp->p != '"')
				return jerr(jp, "expected a member name in double quotes");
			ret = parse_string(jp, &name);
			if (ret)
				return ret;
			skip_ws(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				free(name);
				return jerr(jp, "expected ':' after a member name");
			}
			jp->p++;
			skip_ws(jp);
		}
		ncap = cap;
		ret = array_grow((void **)&v->items, sizeof(*v->items), v->n, &ncap);
		if (!ret && obj)
			ret = array_grow((void **)&v->names, sizeof(*v->names), v->n, &cap);
		cap = ncap;
		if (ret) {
			free(name);
			return ret;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		if (obj)
			v->names[v->n] = name;
		v->n++;
		ret = parse_value(jp, &v->items[v->n - 1], depth + 1);
		if (ret)
			return ret;
		skip_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			return 0;
		}
		return jerr(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(struct jparser *jp, struct json_value *v, int depth)
{
	if (jp->p >= jp->end)
		return jerr(jp, "unexpected end of line");
	switch (*jp->p) {
	case '"':
		v->kind = JSON_STRING;
		return parse_string(jp, &v->str);
	case '{':
	case '[':
		return parse_container(jp, v, depth);
	case 't':
	case 'f':
		v->kind = JSON_BOOL;
		v->b = *jp->p == 't';
		if (match_word(jp, v->b ? "true" : "false"))
			return 0;
		return jerr(jp, "unexpected text");
	case 'n':
		v->kind = JSON_NULL;
		if (match_word(jp, "null"))
			return 0;
		return jerr(jp, "unexpected text");
	default:
		if (*jp->p == '-' || is_digit(*jp->p))
			return parse_number(jp, v);
		return jerr(jp, "unexpected text");
	}
}

int json_parse(const char *text, size_t len, int max_depth, struct json_value *out,
	       struct json_error *err)
{
	struct json_error local;
	struct jparser jp = { .start = text, .p = text, .end = text + len, .max_depth = max_depth };
	int ret;

	jp.err = err ? err : &local;
	memset(jp.err, 0, sizeof(*jp.err));
	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len)) {
		jp.p = memchr(text, '\0', len);
		return jerr(&jp, "NUL byte");
	}
	skip_ws(&jp);
	ret = parse_value(&jp, out, 0);
	if (!ret) {
		skip_ws(&jp);
		if (jp.p < jp.end)
			ret = jerr(&jp, "unexpected text after the value");
	}
	if (ret)
		json_value_free(out);
	return ret;
}

const struct json_value *json_member(const struct json_value *obj, const char *name)
{
	size_t i;

	if (!obj || obj->kind != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->names[i], name))
			return &obj->items[i];
	return NULL;
}

static bool digits_u64(const char *s, uint64_t *out)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!is_digit(*s))
			return false;
		if (x > (UINT64_MAX - (*s - '0')) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*out = x;
	return true;
}

bool json_is_u64(const struct json_value *v, uint64_t *out)
{
	return v && v->kind == JSON_NUMBER && digits_u64(v->str, out);
}

bool json_is_i64(const struct json_value *v, int64_t *out)
{
	uint64_t x;
	bool neg;

	if (!v || v->kind != JSON_NUMBER)
		return false;
	neg = v->str[0] == '-';
	if (!digits_u64(v->str + neg, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

/* One-shot look-ups in a whole object's text. */
static int text_member(const char *text, const char *key, struct json_value *root,
		       const struct json_value **v)
{
	int ret = json_parse(text, strlen(text), JSON_MAX_DEPTH_ANY, root, NULL);

	if (ret)
		return ret;
	if (root->kind != JSON_OBJECT) {
		json_value_free(root);
		return -EINVAL;
	}
	*v = json_member(root, key);
	if (!*v) {
		json_value_free(root);
		return -ENOENT;
	}
	return 0;
}

int json_text_u64(const char *text, const char *key, uint64_t *out)
{
	struct json_value root;
	const struct json_value *v;
	int ret = text_member(text, key, &root, &v);

	if (ret)
		return ret;
	ret = json_is_u64(v, out) ? 0 : -EINVAL;
	json_value_free(&root);
	return ret;
}

int json_text_i64(const char *text, const char *key, int64_t *out)
{
	struct json_value root;
	const struct json_value *v;
	int ret = text_member(text, key, &root, &v);

	if (ret)
		return ret;
	ret = json_is_i64(v, out) ? 0 : -EINVAL;
	json_value_free(&root);
	return ret;
}

int json_copy_string(const struct json_value *v, char *buf, size_t len)
{
	size_t n;

	if (!v || v->kind != JSON_STRING)
		return -EINVAL;
	n = strlen(v->str);
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, v->str, n + 1);
	return 0;
}

int json_text_str(const char *text, const char *key, char *buf, size_t len)
{
	struct json_value root;
	const struct json_value *v;
	int ret = text_member(text, key, &root, &v);

	if (ret)
		return ret;
	ret = json_copy_string(v, buf, len);
	json_value_free(&root);
	return ret;
}

bool json_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k, len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static void write_text(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (p[i] == '\n')
			fputs("\\n", f);
		else if (p[i] == '\t')
			fputs("\\t", f);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			fprintf(f, "\\u%04x", p[i]);
		else
			fputc(p[i], f);
	}
	fputc('"', f);
}

/* Bytes that are not text become an object, so they can never be mistaken for characters: a
 * \u00e9 in a string is the character U+00E9, never the byte 0xe9. */
static void write_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	fputs("{\"hex\":\"", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputs("\"}", f);
}

void json_write_bytes(FILE *f, const uint8_t *p, size_t n)
{
	if (json_utf8_valid(p, n) && !memchr(p, 0, n))
		write_text(f, p, n);
	else
		write_hex(f, p, n);
}

void json_write_string(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		json_write_bytes(f, (const uint8_t *)s, strlen(s));
}

void json_write_value(FILE *f, const struct json_value *v)
{
	switch (v->kind) {
	case JSON_NULL:
		fputs("null", f);
		break;
	case JSON_BOOL:
		fputs(v->b ? "true" : "false", f);
		break;
	case JSON_NUMBER:
		fputs(v->str, f);
		break;
	case JSON_STRING:
		json_write_string(f, v->str);
		break;
	case JSON_ARRAY:
		fputc('[', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			json_write_value(f, &v->items[i]);
		}
		fputc(']', f);
		break;
	case JSON_OBJECT:
		fputc('{', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			json_write_string(f, v->names[i]);
			fputc(':', f);
			json_write_value(f, &v->items[i]);
		}
		fputc('}', f);
		break;
	}
}

char *json_value_text(const struct json_value *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	json_write_value(f, v);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
