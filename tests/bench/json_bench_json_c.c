// SPDX-License-Identifier: GPL-2.0-only
/* The json-c side of tests/bench/json_bench.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "tests/bench/json_bench.h"

static const char *jc_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       NULL;
}

static unsigned long long jc_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0;
}

size_t parse_json_c(const char *buf, size_t len, struct event *ev)
{
	struct json_tokener *tok = json_tokener_new();
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		struct json_object *o = json_tokener_parse_ex(tok, p, nl - p);

		if (!o) {
			fprintf(stderr, "json-c: %s\n",
				json_tokener_error_desc(json_tokener_get_error(tok)));
			exit(1);
		}
		ev[n].process = jc_u64(o, "process");
		ev[n].time = jc_u64(o, "time");
		ev[n].type = dup_or_null(jc_str(o, "type"));
		ev[n].f = dup_or_null(jc_str(o, "f"));
		ev[n].key = dup_or_null(jc_str(o, "key"));
		ev[n].value = dup_or_null(jc_str(o, "value"));
		json_object_put(o);
		json_tokener_reset(tok);
		n++;
		p = nl + 1;
	}
	json_tokener_free(tok);
	return n;
}
