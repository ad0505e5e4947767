// SPDX-License-Identifier: GPL-2.0-only
/* The exec client protocol's lines, both ways. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/capctl/exec_protocol.h"

const char *exec_shape_name(enum exec_shape shape)
{
	return shape == EXEC_SET ? "set" : shape == EXEC_LIST ? "list" : "register";
}

int exec_init_write(FILE *f, const struct exec_init *init)
{
	fprintf(f,
		"{\"id\":0,\"f\":\"init\",\"node\":%u,\"nodes\":%u,\"process\":%" PRIu64
		",\"shape\":\"%s\"}\n",
		init->node, init->nodes, init->process, exec_shape_name(init->shape));
	return ferror(f) ? -EIO : 0;
}

int exec_request_write(FILE *f, const struct exec_request *r)
{
	const char *name;

	switch (r->f) {
	case HISTORY_READ:
	case HISTORY_WRITE:
	case HISTORY_CAS:
	case HISTORY_ADD:
	case HISTORY_APPEND:
		break;
	default:
		return -EINVAL;
	}
	fprintf(f, "{\"id\":%" PRIu64 ",\"f\":\"%s\",\"key\":", r->id, history_f_name(r->f));
	json_write_string(f, r->key);
	name = r->f == HISTORY_CAS ? "to" : r->f == HISTORY_ADD ? "element" : "value";
	if (r->f == HISTORY_CAS) {
		fputs(",\"from\":", f);
		json_write_string(f, r->from);
	}
	if (r->f != HISTORY_READ) {
		fprintf(f, ",\"%s\":", name);
		json_write_string(f, r->value);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

void exec_answer_free(struct exec_answer *a)
{
	json_value_free(&a->root);
	free(a->items);
	a->items = NULL;
	a->n = 0;
}

/* A read's value as the history keeps it. */
static int read_value(const struct json_value *v, enum exec_shape shape, struct exec_answer *a,
		      char *why, size_t why_len)
{
	if (!v) {
		snprintf(why, why_len, "an ok read without a \"value\"");
		return -EPROTO;
	}
	if (shape == EXEC_REGISTER) {
		if (v->kind == JSON_NULL)
			return 0;
		if (v->kind != JSON_STRING) {
			snprintf(why, why_len, "a register's \"value\" is a string or null");
			return -EPROTO;
		}
		a->value = v->str;
		return 0;
	}
	if (v->kind != JSON_ARRAY) {
		snprintf(why, why_len, "a %s's \"value\" is an array of strings",
			 exec_shape_name(shape));
		return -EPROTO;
	}
	a->items = calloc(v->n ? v->n : 1, sizeof(*a->items));
	if (!a->items) {
		snprintf(why, why_len, "out of memory");
		return -EPROTO;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].kind != JSON_STRING) {
			snprintf(why, why_len, "a %s's \"value\" is an array of strings",
				 exec_shape_name(shape));
			return -EPROTO;
		}
		a->items[i] = v->items[i].str;
	}
	a->n = v->n;
	return 0;
}

int exec_answer_parse(const char *line, size_t len, uint64_t id, enum history_f f,
		      enum exec_shape shape, struct exec_answer *a, char *why, size_t why_len)
{
	const struct json_value *m;
	struct json_error e;
	uint64_t got;
	int rc;

	memset(a, 0, sizeof(*a));
	if (json_parse(line, len, 8, &a->root, &e)) {
		snprintf(why, why_len, "not JSON (column %ld: %s): \"%.60s%s\"", e.column, e.msg,
			 line, len > 60 ? "..." : "");
		return -EPROTO;
	}
	if (a->root.kind != JSON_OBJECT) {
		snprintf(why, why_len, "an answer is a JSON object, not \"%.60s%s\"", line,
			 len > 60 ? "..." : "");
		goto bad;
	}
	m = json_member(&a->root, "id");
	if (!m || !json_is_u64(m, &got)) {
		snprintf(why, why_len, "an answer without a numeric \"id\": \"%.60s%s\"", line,
			 len > 60 ? "..." : "");
		goto bad;
	}
	if (got != id) {
		snprintf(why, why_len,
			 "answered id %" PRIu64 ", which %s (the request was %" PRIu64 ")", got,
			 got < id ? "was answered or given up before" : "was never asked", id);
		goto bad;
	}
	m = json_member(&a->root, "type");
	if (m && m->kind == JSON_STRING && !strcmp(m->str, "ok"))
		a->type = HISTORY_OK;
	else if (m && m->kind == JSON_STRING && !strcmp(m->str, "fail"))
		a->type = HISTORY_FAIL;
	else if (m && m->kind == JSON_STRING && !strcmp(m->str, "info"))
		a->type = HISTORY_INFO;
	else {
		snprintf(why, why_len, "\"type\" is \"ok\", \"fail\" or \"info\": \"%.60s%s\"",
			 line, len > 60 ? "..." : "");
		goto bad;
	}
	m = json_member(&a->root, "error");
	if (m && m->kind == JSON_STRING)
		a->error = m->str;
	if (a->type == HISTORY_OK && f == HISTORY_READ) {
		rc = read_value(json_member(&a->root, "value"), shape, a, why, why_len);
		if (rc)
			goto bad;
	}
	return 0;
bad:
	exec_answer_free(a);
	return -EPROTO;
}
