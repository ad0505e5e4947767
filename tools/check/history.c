// SPDX-License-Identifier: GPL-2.0-only
/* History parser and writer. The JSON parser is our own and strict about syntax (RFC 8259) but
 * only builds the shallow values a history line holds; anything a checker would have to guess
 * about is an error with its line and column. */
#include "tools/check/history.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A history line is an object whose "value" may hold one list or object of scalars. */
#define JSON_MAX_DEPTH 3

enum jkind { J_NULL, J_STR, J_NUM, J_BOOL, J_ARR, J_OBJ };

struct jval {
	enum jkind kind;
	char *str; /* J_STR: decoded text; J_NUM: the literal */
	bool b;
	struct jval *items;
	char **names; /* J_OBJ member names */
	size_t n;
};

struct jparser {
	const char *start, *p, *end;
	struct history_error *err;
	long line;
};

static int set_err(struct history_error *err, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct history_error *err, long line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int jerr(struct jparser *jp, const char *what)
{
	return set_err(jp->err, jp->line, "invalid JSON at column %ld: %s",
		       (long)(jp->p - jp->start) + 1, what);
}

static void jval_free(struct jval *v)
{
	size_t i;

	if (!v)
		return;
	free(v->str);
	for (i = 0; i < v->n; i++) {
		if (v->items)
			jval_free(&v->items[i]);
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

static int parse_number(struct jparser *jp, struct jval *v)
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
	v->kind = J_NUM;
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

static int parse_value(struct jparser *jp, struct jval *v, int depth);

static int grow(void **arr, size_t size, size_t n, size_t *cap)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int parse_container(struct jparser *jp, struct jval *v, int depth)
{
	bool obj = *jp->p == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0, ncap;
	int ret;

	if (depth >= JSON_MAX_DEPTH)
		return jerr(jp, "nested too deeply for a history line");
	v->kind = obj ? J_OBJ : J_ARR;
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
		ret = grow((void **)&v->items, sizeof(*v->items), v->n, &ncap);
		if (!ret && obj)
			ret = grow((void **)&v->names, sizeof(*v->names), v->n, &cap);
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

static int parse_value(struct jparser *jp, struct jval *v, int depth)
{
	if (jp->p >= jp->end)
		return jerr(jp, "unexpected end of line");
	switch (*jp->p) {
	case '"':
		v->kind = J_STR;
		return parse_string(jp, &v->str);
	case '{':
	case '[':
		return parse_container(jp, v, depth);
	case 't':
	case 'f':
		v->kind = J_BOOL;
		v->b = *jp->p == 't';
		if (match_word(jp, v->b ? "true" : "false"))
			return 0;
		return jerr(jp, "unexpected text");
	case 'n':
		v->kind = J_NULL;
		if (match_word(jp, "null"))
			return 0;
		return jerr(jp, "unexpected text");
	default:
		if (*jp->p == '-' || is_digit(*jp->p))
			return parse_number(jp, v);
		return jerr(jp, "unexpected text");
	}
}

static const char *const type_names[] = {
	[HISTORY_INVOKE] = "invoke",
	[HISTORY_OK] = "ok",
	[HISTORY_FAIL] = "fail",
	[HISTORY_INFO] = "info",
};

static const char *const f_names[] = {
	[HISTORY_READ] = "read",	 [HISTORY_WRITE] = "write",	[HISTORY_CAS] = "cas",
	[HISTORY_TRANSFER] = "transfer", [HISTORY_BALANCE] = "balance", [HISTORY_OPEN] = "open",
};

const char *history_type_name(enum history_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

const char *history_f_name(enum history_f f)
{
	return (size_t)f < sizeof(f_names) / sizeof(f_names[0]) ? f_names[f] : "?";
}

static int lookup_name(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Non-negative integers only: process ids and nanosecond times. */
static bool json_u64(const struct jval *v, uint64_t *out)
{
	const char *s;
	uint64_t x = 0;

	if (v->kind != J_NUM)
		return false;
	for (s = v->str; *s; s++) {
		if (!is_digit(*s))
			return false;
		if (x > (UINT64_MAX - (*s - '0')) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*out = x;
	return true;
}

int history_parse_int(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t x = 0, lim;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		if (!is_digit(*s))
			return -EINVAL;
		if (x > (lim - (*s - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (*s - '0');
	}
	if (neg && x == 0)
		return -EINVAL;
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

static void value_free(struct history_value *v)
{
	size_t i, n = v->kind == HISTORY_VALUE_MAP ? 2 * v->n : v->n;

	free(v->str);
	for (i = 0; v->items && i < n; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static void event_free(struct history_event *ev)
{
	free(ev->key);
	value_free(&ev->value);
}

/* Takes the strings out of jv so they are not copied. */
static int convert_value(struct jval *jv, struct history_value *out, long line,
			 struct history_error *err)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	switch (jv->kind) {
	case J_NULL:
		out->kind = HISTORY_VALUE_NULL;
		return 0;
	case J_STR:
		out->kind = HISTORY_VALUE_STRING;
		out->str = jv->str;
		jv->str = NULL;
		return 0;
	case J_ARR:
	case J_OBJ:
		for (i = 0; i < jv->n; i++)
			if (jv->items[i].kind != J_STR &&
			    (jv->kind == J_OBJ || jv->items[i].kind != J_NULL))
				goto bad;
		out->kind = jv->kind == J_ARR ? HISTORY_VALUE_LIST : HISTORY_VALUE_MAP;
		out->n = jv->n;
		out->items = calloc(jv->n ? 2 * jv->n : 1, sizeof(char *));
		if (!out->items)
			return -ENOMEM;
		for (i = 0; i < jv->n; i++) {
			if (jv->kind == J_ARR) {
				out->items[i] = jv->items[i].str;
			} else {
				out->items[2 * i] = jv->names[i];
				out->items[2 * i + 1] = jv->items[i].str;
				jv->names[i] = NULL;
			}
			jv->items[i].str = NULL;
		}
		return 0;
	default:
		break;
	}
bad:
	return set_err(err, line,
		       "expected \"value\" to be a string, null, a list of strings or an object of "
		       "strings");
}

enum field { F_PROCESS, F_TYPE, F_F, F_KEY, F_VALUE, F_TIME, F_COUNT };

static const char *const field_names[F_COUNT] = { "process", "type", "f", "key", "value", "time" };

static int event_from_json(struct jval *obj, long line, struct history_event *ev,
			   struct history_error *err)
{
	struct jval *fv[F_COUNT] = { 0 };
	size_t i;
	int k, ret;

	memset(ev, 0, sizeof(*ev));
	ev->line = line;
	if (obj->kind != J_OBJ)
		return set_err(err, line, "expected a JSON object");
	for (i = 0; i < obj->n; i++) {
		k = lookup_name(obj->names[i], field_names, F_COUNT);
		if (k < 0)
			continue; /* writers may add fields such as the node an op went to */
		if (fv[k])
			return set_err(err, line, "duplicate \"%s\"", field_names[k]);
		fv[k] = &obj->items[i];
	}
	for (k = 0; k < F_COUNT; k++)
		if (!fv[k])
			return set_err(err, line, "missing \"%s\"", field_names[k]);
	if (!json_u64(fv[F_PROCESS], &ev->process))
		return set_err(err, line, "expected \"process\" to be a non-negative integer");
	if (!json_u64(fv[F_TIME], &ev->time))
		return set_err(err, line,
			       "expected \"time\" to be a non-negative integer (nanoseconds)");
	k = fv[F_TYPE]->kind == J_STR ? lookup_name(fv[F_TYPE]->str, type_names, 4) : -1;
	if (k < 0)
		return set_err(err, line, "expected \"type\" to be invoke, ok, fail or info");
	ev->type = k;
	k = fv[F_F]->kind == J_STR ? lookup_name(fv[F_F]->str, f_names, 6) : -1;
	if (k < 0)
		return set_err(err, line,
			       "expected \"f\" to be read, write, cas, transfer, balance or open");
	ev->f = k;
	if (fv[F_KEY]->kind == J_STR) {
		ev->key = fv[F_KEY]->str;
		fv[F_KEY]->str = NULL;
	} else if (fv[F_KEY]->kind != J_NULL) {
		return set_err(err, line, "expected \"key\" to be a string or null");
	}
	ret = convert_value(fv[F_VALUE], &ev->value, line, err);
	if (ret) {
		free(ev->key);
		ev->key = NULL;
	}
	return ret;
}

static int push_event(struct history *h, const struct history_event *ev)
{
	int ret = grow((void **)&h->events, sizeof(*h->events), h->n_events, &h->cap_events);

	if (ret)
		return ret;
	h->events[h->n_events++] = *ev;
	return 0;
}

static bool blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

static int parse_line(struct history *h, const char *p, size_t len, long line,
		      struct history_error *err)
{
	struct jparser jp = { .start = p, .p = p, .end = p + len, .err = err, .line = line };
	struct history_event ev;
	struct jval root = { 0 };
	int ret;

	if (blank(p, p + len))
		return 0;
	if (memchr(p, '\0', len))
		return set_err(err, line, "NUL byte in line");
	skip_ws(&jp);
	if (jp.p >= jp.end || *jp.p != '{')
		return set_err(err, line, "expected a JSON object");
	ret = parse_value(&jp, &root, 0);
	if (!ret) {
		skip_ws(&jp);
		if (jp.p < jp.end)
			ret = jerr(&jp, "unexpected text after the object");
	}
	if (!ret)
		ret = event_from_json(&root, line, &ev, err);
	jval_free(&root);
	if (ret)
		return ret;
	ret = push_event(h, &ev);
	if (ret)
		event_free(&ev);
	return ret;
}

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

void history_free(struct history *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n_events; i++)
		event_free(&h->events[i]);
	free(h->events);
	free(h->ops);
	history_init(h);
}

int history_parse_buf(struct history *h, const char *buf, size_t len, struct history_error *err)
{
	const char *p = buf, *end = buf + len, *nl;
	long line = 1;
	int ret;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		ret = parse_line(h, p, nl - p, line, err);
		if (ret)
			return ret;
		p = nl + 1;
		line++;
	}
	return 0;
}

int history_parse_file(struct history *h, FILE *f, struct history_error *err)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	long line = 0;
	int ret = 0;

	errno = 0;
	while ((n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		ret = parse_line(h, buf, n, line, err);
		if (ret)
			break;
	}
	if (!ret && ferror(f)) {
		int e = errno ? errno : EIO;

		set_err(err, line + 1, "read error: %s", strerror(e));
		ret = -e;
	}
	free(buf);
	return ret;
}

static int value_copy(struct history_value *dst, const struct history_value *src)
{
	size_t i, n = src->kind == HISTORY_VALUE_MAP ? 2 * src->n : src->n;

	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->n = src->n;
	if (src->str && !(dst->str = strdup(src->str)))
		goto nomem;
	if (src->kind == HISTORY_VALUE_LIST || src->kind == HISTORY_VALUE_MAP) {
		dst->items = calloc(n ? n : 1, sizeof(char *));
		if (!dst->items)
			goto nomem;
		for (i = 0; i < n; i++)
			if (src->items[i] && !(dst->items[i] = strdup(src->items[i])))
				goto nomem;
	}
	return 0;
nomem:
	value_free(dst);
	return -ENOMEM;
}

int history_append(struct history *h, const struct history_event *ev)
{
	struct history_event copy = *ev;
	int ret;

	copy.key = NULL;
	if (ev->key && !(copy.key = strdup(ev->key)))
		return -ENOMEM;
	ret = value_copy(&copy.value, &ev->value);
	if (!ret)
		ret = push_event(h, &copy);
	if (ret)
		event_free(&copy);
	return ret;
}

/* Open invokes by process: open addressing, since process ids are arbitrary integers. A slot
 * stays with its process once claimed (a value of 0 means "no open invoke"), so the table only
 * grows with the number of distinct processes and needs no tombstones. */
struct open_map {
	uint64_t *keys;
	size_t *vals; /* op index + 1 */
	bool *used;
	size_t cap, n;
};

static size_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static size_t *open_map_slot(struct open_map *m, uint64_t key)
{
	size_t i = hash_u64(key) & (m->cap - 1);

	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->used[i]) {
		m->used[i] = true;
		m->keys[i] = key;
		m->n++;
	}
	return &m->vals[i];
}

static void open_map_free(struct open_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
}

static int open_map_reserve(struct open_map *m)
{
	struct open_map old = *m;
	size_t i;

	if ((m->n + 1) * 2 <= m->cap)
		return 0;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->n = 0;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->vals = calloc(m->cap, sizeof(*m->vals));
	m->used = calloc(m->cap, sizeof(*m->used));
	if (!m->keys || !m->vals || !m->used) {
		open_map_free(m);
		*m = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.used[i])
			*open_map_slot(m, old.keys[i]) = old.vals[i];
	open_map_free(&old);
	return 0;
}

static bool key_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int history_pair(struct history *h, struct history_error *err)
{
	struct open_map m = { 0 };
	size_t i, *slot, cap = 0;
	int ret = 0;

	free(h->ops);
	h->ops = NULL;
	h->n_ops = 0;
	for (i = 0; i < h->n_events; i++) {
		const struct history_event *ev = &h->events[i];
		struct history_op *op;

		ret = open_map_reserve(&m);
		if (ret)
			goto out;
		slot = open_map_slot(&m, ev->process);
		if (ev->type == HISTORY_INVOKE) {
			if (*slot) {
				ret = set_err(
					err, ev->line,
					"process %llu invokes again while its invoke on line %ld "
					"is still open",
					(unsigned long long)ev->process, h->ops[*slot - 1].line);
				goto out;
			}
			ret = grow((void **)&h->ops, sizeof(*h->ops), h->n_ops, &cap);
			if (ret)
				goto out;
			op = &h->ops[h->n_ops++];
			*op = (struct history_op){
				.invoke = i,
				.complete = HISTORY_OPEN_END,
				.outcome = HISTORY_INFO,
				.process = ev->process,
				.f = ev->f,
				.key = ev->key,
				.call = ev->time,
				.ret = UINT64_MAX,
				.line = ev->line,
			};
			*slot = h->n_ops;
			continue;
		}
		if (!*slot) {
			ret = set_err(err, ev->line, "%s without an open invoke for process %llu",
				      history_type_name(ev->type), (unsigned long long)ev->process);
			goto out;
		}
		op = &h->ops[*slot - 1];
		if (ev->f != op->f) {
			ret = set_err(
				err, ev->line,
				"process %llu completes \"%s\" but invoked \"%s\" on line %ld",
				(unsigned long long)ev->process, history_f_name(ev->f),
				history_f_name(op->f), op->line);
			goto out;
		}
		if (!key_equal(ev->key, op->key)) {
			ret = set_err(err, ev->line,
				      "process %llu completes key %s%s%s but invoked key %s%s%s on "
				      "line %ld",
				      (unsigned long long)ev->process, ev->key ? "\"" : "",
				      ev->key ? ev->key : "null", ev->key ? "\"" : "",
				      op->key ? "\"" : "", op->key ? op->key : "null",
				      op->key ? "\"" : "", op->line);
			goto out;
		}
		if (ev->time < op->call) {
			ret = set_err(err, ev->line,
				      "completion time %llu is before its invoke's time %llu (line "
				      "%ld)",
				      (unsigned long long)ev->time, (unsigned long long)op->call,
				      op->line);
			goto out;
		}
		op->complete = i;
		op->outcome = ev->type;
		op->ret = ev->type == HISTORY_INFO ? UINT64_MAX : ev->time;
		op->ret_line = ev->line;
		*slot = 0;
	}
	/* Pointers into events are taken last: events no longer move. */
	for (i = 0; i < h->n_ops; i++) {
		struct history_op *op = &h->ops[i];

		op->arg = &h->events[op->invoke].value;
		op->result = op->complete == HISTORY_OPEN_END ? op->arg :
								&h->events[op->complete].value;
	}
out:
	if (ret) {
		free(h->ops);
		h->ops = NULL;
		h->n_ops = 0;
	}
	open_map_free(&m);
	return ret;
}

void history_write_json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

int history_write_event(FILE *f, const struct history_event *ev)
{
	const struct history_value *v = &ev->value;
	size_t i;

	fprintf(f, "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":",
		(unsigned long long)ev->process, history_type_name(ev->type),
		history_f_name(ev->f));
	history_write_json_string(f, ev->key);
	fputs(",\"value\":", f);
	switch (v->kind) {
	case HISTORY_VALUE_NULL:
		fputs("null", f);
		break;
	case HISTORY_VALUE_STRING:
		history_write_json_string(f, v->str);
		break;
	case HISTORY_VALUE_LIST:
		fputc('[', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			history_write_json_string(f, v->items[i]);
		}
		fputc(']', f);
		break;
	case HISTORY_VALUE_MAP:
		fputc('{', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			history_write_json_string(f, v->items[2 * i]);
			fputc(':', f);
			history_write_json_string(f, v->items[2 * i + 1]);
		}
		fputc('}', f);
		break;
	}
	fprintf(f, ",\"time\":%llu}\n", (unsigned long long)ev->time);
	return ferror(f) ? -EIO : 0;
}
