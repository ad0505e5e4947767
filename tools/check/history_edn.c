// SPDX-License-Identifier: GPL-2.0-only
/* EDN histories: lib/edn.c reads the text; this turns its maps into events and back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/edn.h"
#include "tools/check/history_edn.h"

#define EDN_HISTORY_DEPTH 32

/* Past blanks, commas and ; comments, from i. */
static size_t skip_blank(const char *text, size_t len, size_t i)
{
	while (i < len) {
		if (text[i] == ';') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
			   text[i] == '\n' || text[i] == ',') {
			i++;
		} else {
			break;
		}
	}
	return i;
}

bool history_looks_edn(const char *text, size_t len)
{
	size_t i = skip_blank(text, len, 0);

	if (i >= len)
		return false;
	/* JSON lines start {"..., EDN maps {:..., vectors [ and lists (; a # (#_ discarding the
	 * next form, a tag) and a ; comment exist only in EDN. */
	if (text[i] == '[' || text[i] == '(' || text[i] == '#')
		return true;
	if (text[i] != '{')
		return false;
	for (i++; i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
			      text[i] == '\n' || text[i] == ',');
	     i++)
		;
	return i < len && (text[i] == ':' || text[i] == ';' || text[i] == '#');
}

static int bad(struct history_error *err, const struct edn_value *at, const char *msg)
{
	err->line = at->line;
	snprintf(err->msg, sizeof(err->msg), "column %ld: %s", at->column, msg);
	return -EINVAL;
}

/* A scalar as capnet's string (numbers as their digits, keywords with their colon), or NULL
 * for nil. -EINVAL for a collection. */
static int scalar(const struct edn_value *v, char **out)
{
	*out = NULL;
	switch (v->kind) {
	case EDN_NIL:
		return 0;
	case EDN_INT:
	case EDN_FLOAT:
	case EDN_STRING:
	case EDN_CHAR:
	case EDN_SYMBOL:
		*out = strdup(v->text);
		return *out ? 0 : -ENOMEM;
	case EDN_KEYWORD:
		if (asprintf(out, ":%s", v->text) < 0) {
			*out = NULL;
			return -ENOMEM;
		}
		return 0;
	case EDN_BOOL:
		*out = strdup(v->b ? "true" : "false");
		return *out ? 0 : -ENOMEM;
	default:
		return -EINVAL;
	}
}

static void value_clear(struct history_value *hv)
{
	if (hv->kind == HISTORY_VALUE_STRING)
		free(hv->str);
	for (size_t i = 0; hv->items && i < hv->n; i++)
		free(hv->items[i]);
	free(hv->items);
	memset(hv, 0, sizeof(*hv));
}

/* A scalar, or a vector, list or set of scalars. */
static int convert(const struct edn_value *v, struct history_value *hv, struct history_error *err)
{
	int rc;

	memset(hv, 0, sizeof(*hv));
	if (v->kind == EDN_VECTOR || v->kind == EDN_LIST || v->kind == EDN_SET) {
		hv->kind = HISTORY_VALUE_LIST;
		hv->items = calloc(v->n ? v->n : 1, sizeof(char *));
		if (!hv->items)
			return -ENOMEM;
		hv->n = v->n;
		for (size_t i = 0; i < v->n; i++) {
			rc = scalar(&v->items[i], &hv->items[i]);
			if (rc == -EINVAL)
				rc = bad(err, &v->items[i],
					 "a value nests deeper than capnet's histories");
			if (rc) {
				value_clear(hv);
				return rc;
			}
		}
		return 0;
	}
	rc = scalar(v, &hv->str);
	if (rc == -EINVAL)
		return bad(err, v, "a map is not a value capnet's models know");
	hv->kind = hv->str ? HISTORY_VALUE_STRING : HISTORY_VALUE_NULL;
	return rc;
}

static int lookup_f(const char *name)
{
	for (int f = HISTORY_READ; f <= HISTORY_APPEND; f++)
		if (!strcmp(history_f_name(f), name))
			return f;
	return -1;
}

/* jepsen.independent, decided for the whole file: every client operation's value is a [k v]
 * pair, and no cas is a plain [old new] (whose second item is not a pair). Knossos's plain
 * histories always have a nil or scalar value somewhere (a read invoke, a write). */
static bool pair_shaped(const struct edn_value *op)
{
	const struct edn_value *p = edn_get(op, "process"), *f = edn_get(op, "f"),
			       *v = edn_get(op, "value");

	if (p && p->kind == EDN_KEYWORD)
		return true; /* the nemesis: not a client's, not counted */
	if (!v || v->kind != EDN_VECTOR || v->n != 2)
		return false;
	if (f && edn_is_keyword(f, "cas"))
		return v->items[1].kind == EDN_VECTOR || v->items[1].kind == EDN_NIL;
	return true;
}

static int event_from_map(const struct edn_value *m, size_t position, bool independent, bool timed,
			  struct history *h, struct history_error *err)
{
	const struct edn_value *p = edn_get(m, "process"), *t = edn_get(m, "type"),
			       *f = edn_get(m, "f"), *v = edn_get(m, "value"),
			       *tm = edn_get(m, "time");
	struct history_event ev = { .line = m->line };
	char *end;
	int k, rc;

	if (m->kind != EDN_MAP)
		return bad(err, m, "an operation is a map ({:process ... :type ... :f ...})");
	if (!p)
		return bad(err, m, "an operation without :process");
	if (p->kind == EDN_KEYWORD)
		return 0; /* :nemesis and the like: faults, not a client's operations */
	if (p->kind != EDN_INT || p->text[0] == '-')
		return bad(err, p, ":process is a non-negative integer or :nemesis");
	errno = 0;
	ev.process = strtoull(p->text, &end, 10);
	if (errno || *end)
		return bad(err, p, ":process is too large");
	if (!t || t->kind != EDN_KEYWORD)
		return bad(err, t ? t : m, ":type is :invoke, :ok, :fail or :info");
	if (!strcmp(t->text, "invoke"))
		ev.type = HISTORY_INVOKE;
	else if (!strcmp(t->text, "ok"))
		ev.type = HISTORY_OK;
	else if (!strcmp(t->text, "fail"))
		ev.type = HISTORY_FAIL;
	else if (!strcmp(t->text, "info"))
		ev.type = HISTORY_INFO;
	else
		return bad(err, t, ":type is :invoke, :ok, :fail or :info");
	k = f && f->kind == EDN_KEYWORD ? lookup_f(f->text) : -1;
	if (k < 0)
		return bad(err, f ? f : m,
			   ":f is one of :read :write :cas :add :append :transfer :balance :open");
	ev.f = k;
	if (timed) {
		if (!tm || tm->kind != EDN_INT || tm->text[0] == '-')
			return bad(err, tm ? tm : m,
				   "some operations have a :time and this one has none (or not a "
				   "non-negative integer)");
		ev.time = strtoull(tm->text, NULL, 10);
	} else {
		/* Knossos's files carry order, not times: order is all linearizability needs. */
		ev.time = (uint64_t)(position + 1) * 1000;
	}
	ev.key = (char *)"r";
	if (independent) {
		if (!v || v->kind != EDN_VECTOR || v->n != 2)
			return bad(err, v ? v : m,
				   "this history's values are [k v] tuples; this one is not");
		rc = scalar(&v->items[0], &ev.key);
		if (rc == -EINVAL || (!rc && !ev.key))
			return bad(err, &v->items[0],
				   "a [k v] tuple's key is a string or a number");
		if (rc)
			return rc;
		v = &v->items[1];
	}
	rc = v ? convert(v, &ev.value, err) : 0;
	if (!rc)
		rc = history_append(h, &ev);
	value_clear(&ev.value);
	if (independent)
		free(ev.key);
	return rc;
}

int history_parse_edn(struct history *h, const char *text, size_t len, struct history_error *err)
{
	struct edn_reader r;
	struct edn_value *vals = NULL, *ops;
	struct edn_error e;
	size_t n = 0, cap = 0, n_ops, i;
	bool independent = false, timed = false;
	int rc;

	memset(err, 0, sizeof(*err));
	edn_reader_init(&r, text, len, EDN_HISTORY_DEPTH);
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct edn_value *p = realloc(vals, ncap * sizeof(*p));

			if (!p) {
				rc = -ENOMEM;
				goto out;
			}
			vals = p;
			cap = ncap;
		}
		rc = edn_read(&r, &vals[n], &e);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (rc == -EINVAL) {
				err->line = e.line;
				snprintf(err->msg, sizeof(err->msg), "column %ld: %s", e.column,
					 e.msg);
			}
			goto out;
		}
		n++;
	}
	/* One vector (or list) of maps, as Knossos's files are, or maps one after another, as
	 * Jepsen's history.edn is. */
	if (n == 1 && (vals[0].kind == EDN_VECTOR || vals[0].kind == EDN_LIST)) {
		ops = vals[0].items;
		n_ops = vals[0].n;
	} else {
		ops = vals;
		n_ops = n;
	}
	independent = n_ops > 0;
	for (i = 0; i < n_ops; i++) {
		if (!pair_shaped(&ops[i]))
			independent = false;
		if (edn_get(&ops[i], "time"))
			timed = true;
	}
	for (i = 0, rc = 0; i < n_ops && !rc; i++)
		rc = event_from_map(&ops[i], i, independent, timed, h, err);
out:
	for (i = 0; i < n; i++)
		edn_value_free(&vals[i]);
	free(vals);
	return rc;
}

int history_read_text(FILE *f, char **text, size_t *len)
{
	size_t cap = 1 << 16, n = 0, k;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*text = buf;
	*len = n;
	return 0;
}

int history_read_any(struct history *h, FILE *f, struct history_error *err)
{
	size_t n;
	char *buf;
	int rc = history_read_text(f, &buf, &n);

	if (rc)
		return rc;
	rc = history_looks_edn(buf, n) ? history_parse_edn(h, buf, n, err) :
					 history_parse_buf(h, buf, n, err);
	free(buf);
	return rc;
}

static void write_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("nil", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void write_value(FILE *out, const struct history_value *v)
{
	switch (v->kind) {
	case HISTORY_VALUE_NULL:
		fputs("nil", out);
		break;
	case HISTORY_VALUE_STRING:
		write_str(out, v->str);
		break;
	case HISTORY_VALUE_LIST:
		fputc('[', out);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(' ', out);
			write_str(out, v->items[i]);
		}
		fputc(']', out);
		break;
	case HISTORY_VALUE_MAP:
		fputc('{', out);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputs(", ", out);
			write_str(out, v->items[2 * i]);
			fputc(' ', out);
			write_str(out, v->items[2 * i + 1]);
		}
		fputc('}', out);
		break;
	}
}

int history_write_edn(FILE *out, const struct history *h, const struct history_fault *faults,
		      size_t n_faults, struct history_error *err)
{
	uint64_t t0 = UINT64_MAX;
	size_t i, j = 0, index = 0;

	for (i = 0; i < h->n_events; i++) {
		const struct history_event *ev = &h->events[i];
		const struct history_value *v = &ev->value;
		bool ok = ev->f == HISTORY_CAS ?
				  (v->kind == HISTORY_VALUE_LIST && v->n == 2) ||
					  v->kind == HISTORY_VALUE_NULL :
			  ev->f == HISTORY_READ || ev->f == HISTORY_BALANCE ||
					  ev->f == HISTORY_TRANSFER ?
				  true :
				  v->kind != HISTORY_VALUE_LIST && v->kind != HISTORY_VALUE_MAP;

		if (!ok) {
			err->line = ev->line;
			snprintf(err->msg, sizeof(err->msg),
				 "a %s whose value is %s has no EDN form Jepsen reads back",
				 history_f_name(ev->f),
				 ev->f == HISTORY_CAS ? "not [old new]" : "a collection");
			return -EINVAL;
		}
	}

	for (i = 0; i < h->n_events; i++)
		if (h->events[i].time < t0)
			t0 = h->events[i].time;
	for (i = 0; i < n_faults; i++)
		if (faults[i].time < t0)
			t0 = faults[i].time;
	for (i = 0; i <= h->n_events; i++) {
		const struct history_event *ev = i < h->n_events ? &h->events[i] : NULL;

		/* Faults before this event (all that are left, after the last). */
		for (; j < n_faults && (!ev || faults[j].time <= ev->time); j++) {
			fprintf(out, "{:type :info, :f :%s, :value ", faults[j].f);
			write_str(out, faults[j].value);
			fprintf(out, ", :process :nemesis, :time %" PRIu64 ", :index %zu}\n",
				faults[j].time - t0, index++);
		}
		if (!ev)
			break;
		fprintf(out, "{:type :%s, :f :%s, :value ", history_type_name(ev->type),
			history_f_name(ev->f));
		/* jepsen.independent: [k v], a cas [k [old new]]. */
		fputc('[', out);
		write_str(out, ev->key);
		fputc(' ', out);
		write_value(out, &ev->value);
		fprintf(out, "], :process %" PRIu64 ", :time %" PRIu64 ", :index %zu}\n",
			ev->process, ev->time - t0, index++);
	}
	return ferror(out) ? -EIO : 0;
}
