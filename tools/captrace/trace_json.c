// SPDX-License-Identifier: GPL-2.0-only
/* Just enough JSON to read our own files back; anything unexpected is an error, not a guess. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/captrace/trace_json.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Past the end of a string starting at its opening quote, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Past the end of any value, or NULL. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	p = skip_ws(p);
	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		while (*p && !strchr(",}] \t\r\n", *p))
			p++;
		return p;
	}
	while (*p) {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The value of a top-level key, or NULL. */
static const char *find(const char *obj, const char *key)
{
	const char *p = skip_ws(obj);
	size_t klen = strlen(key);

	if (*p++ != '{')
		return NULL;
	for (;;) {
		const char *k, *e;

		p = skip_ws(p);
		if (*p != '"')
			return NULL;
		k = p + 1;
		e = skip_string(p);
		if (!e)
			return NULL;
		p = skip_ws(e);
		if (*p++ != ':')
			return NULL;
		p = skip_ws(p);
		if ((size_t)(e - 1 - k) == klen && !memcmp(k, key, klen))
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p++;
	}
}

int trace_json_u64(const char *obj, const char *key, uint64_t *out)
{
	const char *v = find(obj, key);
	char *end;

	if (!v)
		return -ENOENT;
	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno || (*end && !strchr(",} \t\r\n]", *end)))
		return -EINVAL;
	return 0;
}

int trace_json_i64(const char *obj, const char *key, int64_t *out)
{
	const char *v = find(obj, key);
	char *end;

	if (!v)
		return -ENOENT;
	if (*v != '-' && (*v < '0' || *v > '9'))
		return -EINVAL;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno || (*end && !strchr(",} \t\r\n]", *end)))
		return -EINVAL;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int trace_json_str(const char *obj, const char *key, char *buf, size_t len)
{
	const char *v = find(obj, key);
	size_t n = 0;

	if (!v)
		return -ENOENT;
	if (*v++ != '"' || !len)
		return -EINVAL;
	for (; *v && *v != '"'; v++) {
		char c = *v;

		if (c == '\\') {
			switch (*++v) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
			case '/':
				c = *v;
				break;
			case 'u': {
				int h[4], i;

				for (i = 0; i < 4; i++)
					if (!v[1 + i] || (h[i] = hexval(v[1 + i])) < 0)
						return -EINVAL;
				if (h[0] || h[1])
					return -EINVAL;
				c = (char)(h[2] << 4 | h[3]);
				v += 4;
				break;
			}
			default:
				return -EINVAL;
			}
		}
		if (n + 1 >= len)
			return -ENOSPC;
		buf[n++] = c;
	}
	if (*v != '"')
		return -EINVAL;
	buf[n] = 0;
	return 0;
}

void trace_json_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
