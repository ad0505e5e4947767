// SPDX-License-Identifier: GPL-2.0-only
/* History parser and writer, over lib/json: only the shallow values a history line holds are
 * accepted, and anything a checker would have to guess about is an error with its line and
 * column. */
#include "tools/check/history.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/json.h"

/* A history line is an object whose "value" may hold one list or object of scalars. */
#define HISTORY_MAX_DEPTH 3
/* A clock bound of an hour is no bound: it would make every operation concurrent. */
#define HISTORY_MAX_EPSILON 3600000000000ull

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

static const char *const type_names[] = {
	[HISTORY_INVOKE] = "invoke",
	[HISTORY_OK] = "ok",
	[HISTORY_FAIL] = "fail",
	[HISTORY_INFO] = "info",
};

static const char *const f_names[] = {
	[HISTORY_READ] = "read",	 [HISTORY_WRITE] = "write",	[HISTORY_CAS] = "cas",
	[HISTORY_TRANSFER] = "transfer", [HISTORY_BALANCE] = "balance", [HISTORY_OPEN] = "open",
	[HISTORY_ADD] = "add",		 [HISTORY_APPEND] = "append",
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
		if (!isdigit((unsigned char)*s))
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
static int convert_value(struct json_value *jv, struct history_value *out, long line,
			 struct history_error *err)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	switch (jv->kind) {
	case JSON_NULL:
		out->kind = HISTORY_VALUE_NULL;
		return 0;
	case JSON_STRING:
		out->kind = HISTORY_VALUE_STRING;
		out->str = jv->str;
		jv->str = NULL;
		return 0;
	case JSON_ARRAY:
	case JSON_OBJECT:
		for (i = 0; i < jv->n; i++)
			if (jv->items[i].kind != JSON_STRING &&
			    (jv->kind == JSON_OBJECT || jv->items[i].kind != JSON_NULL))
				goto bad;
		out->kind = jv->kind == JSON_ARRAY ? HISTORY_VALUE_LIST : HISTORY_VALUE_MAP;
		out->n = jv->n;
		out->items = calloc(jv->n ? 2 * jv->n : 1, sizeof(char *));
		if (!out->items)
			return -ENOMEM;
		for (i = 0; i < jv->n; i++) {
			if (jv->kind == JSON_ARRAY) {
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

static int event_from_json(struct json_value *obj, long line, struct history_event *ev,
			   struct history_error *err)
{
	struct json_value *fv[F_COUNT] = { 0 };
	bool seen_epsilon = false;
	size_t i;
	int k, ret;

	memset(ev, 0, sizeof(*ev));
	ev->line = line;
	if (obj->kind != JSON_OBJECT)
		return set_err(err, line, "expected a JSON object");
	for (i = 0; i < obj->n; i++) {
		k = lookup_name(obj->names[i], field_names, F_COUNT);
		if (k < 0) {
			/* Writers may add fields. "node", the node an operation went to, tells the
			 * set checker which final reads are one node's; a node named otherwise than
			 * by a number is ignored like any other field. */
			if (!strcmp(obj->names[i], "node") &&
			    !json_is_u64(&obj->items[i], &ev->node))
				ev->node = 0;
			/* "epsilon" changes what a checker may conclude, so it is never guessed:
			 * a bound that is not one is an error, as is a second one. */
			if (!strcmp(obj->names[i], "epsilon")) {
				if (seen_epsilon)
					return set_err(err, line, "duplicate \"epsilon\"");
				seen_epsilon = true;
				if (!json_is_u64(&obj->items[i], &ev->epsilon) ||
				    ev->epsilon > HISTORY_MAX_EPSILON)
					return set_err(
						err, line,
						"expected \"epsilon\" to be nanoseconds from "
						"0 to %llu (a clock's offset bound)",
						(unsigned long long)HISTORY_MAX_EPSILON);
			}
			continue;
		}
		if (fv[k])
			return set_err(err, line, "duplicate \"%s\"", field_names[k]);
		fv[k] = &obj->items[i];
	}
	for (k = 0; k < F_COUNT; k++)
		if (!fv[k])
			return set_err(err, line, "missing \"%s\"", field_names[k]);
	if (!json_is_u64(fv[F_PROCESS], &ev->process))
		return set_err(err, line, "expected \"process\" to be a non-negative integer");
	if (!json_is_u64(fv[F_TIME], &ev->time))
		return set_err(err, line,
			       "expected \"time\" to be a non-negative integer (nanoseconds)");
	k = fv[F_TYPE]->kind == JSON_STRING ? lookup_name(fv[F_TYPE]->str, type_names, 4) : -1;
	if (k < 0)
		return set_err(err, line, "expected \"type\" to be invoke, ok, fail or info");
	ev->type = k;
	k = fv[F_F]->kind == JSON_STRING ?
		    lookup_name(fv[F_F]->str, f_names, sizeof(f_names) / sizeof(f_names[0])) :
		    -1;
	if (k < 0)
		return set_err(
			err, line,
			"expected \"f\" to be read, write, cas, transfer, balance, open, add or append");
	ev->f = k;
	if (fv[F_KEY]->kind == JSON_STRING) {
		ev->key = fv[F_KEY]->str;
		fv[F_KEY]->str = NULL;
	} else if (fv[F_KEY]->kind != JSON_NULL) {
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
	int ret = array_grow((void **)&h->events, sizeof(*h->events), h->n_events, &h->cap_events);

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
	struct history_event ev;
	struct json_value root;
	struct json_error jerr;
	const char *q = p;
	int ret;

	if (blank(p, p + len))
		return 0;
	if (memchr(p, '\0', len))
		return set_err(err, line, "NUL byte in line");
	while (q < p + len && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	if (q >= p + len || *q != '{')
		return set_err(err, line, "expected a JSON object");
	ret = json_parse(p, len, HISTORY_MAX_DEPTH, &root, &jerr);
	if (ret == -EINVAL)
		return set_err(err, line, "invalid JSON at column %ld: %s", jerr.column,
			       jerr.too_deep ? "nested too deeply for a history line" :
			       !strcmp(jerr.msg, "unexpected text after the value") ?
					       "unexpected text after the object" :
					       jerr.msg);
	if (ret)
		return ret;
	ret = event_from_json(&root, line, &ev, err);
	json_value_free(&root);
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
			ret = array_grow((void **)&h->ops, sizeof(*h->ops), h->n_ops, &cap);
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

void history_widen(struct history *h)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		struct history_op *op = &h->ops[i];
		uint64_t before = h->events[op->invoke].epsilon,
			 after = op->ret == UINT64_MAX ? 0 : h->events[op->complete].epsilon;

		op->call = op->call > before ? op->call - before : 0;
		/* UINT64_MAX stays the mark of an operation left open. */
		if (after)
			op->ret = op->ret < UINT64_MAX - 1 - after ? op->ret + after :
								     UINT64_MAX - 1;
	}
}

uint64_t history_max_epsilon(const struct history *h)
{
	uint64_t max = 0;

	for (size_t i = 0; i < h->n_events; i++)
		if (h->events[i].epsilon > max)
			max = h->events[i].epsilon;
	return max;
}

int history_write_event(FILE *f, const struct history_event *ev)
{
	const struct history_value *v = &ev->value;
	size_t i;

	fprintf(f, "{\"process\":%llu,\"type\":\"%s\",\"f\":\"%s\",\"key\":",
		(unsigned long long)ev->process, history_type_name(ev->type),
		history_f_name(ev->f));
	json_write_string(f, ev->key);
	fputs(",\"value\":", f);
	switch (v->kind) {
	case HISTORY_VALUE_NULL:
		fputs("null", f);
		break;
	case HISTORY_VALUE_STRING:
		json_write_string(f, v->str);
		break;
	case HISTORY_VALUE_LIST:
		fputc('[', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			json_write_string(f, v->items[i]);
		}
		fputc(']', f);
		break;
	case HISTORY_VALUE_MAP:
		fputc('{', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			json_write_string(f, v->items[2 * i]);
			fputc(':', f);
			json_write_string(f, v->items[2 * i + 1]);
		}
		fputc('}', f);
		break;
	}
	fprintf(f, ",\"time\":%llu", (unsigned long long)ev->time);
	if (ev->epsilon)
		fprintf(f, ",\"epsilon\":%llu", (unsigned long long)ev->epsilon);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
