// SPDX-License-Identifier: GPL-2.0-only
/* The JSON reader capctl check and captrace report use (lib/json) against Debian's jansson and
 * json-c, on the same history, in the same run: each builds the same events (the five fields a
 * checker needs, strings copied), so what differs is the parser. The checker's own time on the
 * same history is printed beside it, to show what share of `capctl check` parsing is.
 * Prints one line of key=value figures for tests/bench/run.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/rng.h"
#include "tests/bench/json_bench.h"
#include "tools/check/history.h"
#include "tools/check/linearizability.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A register history of `ops` operations by 8 processes over 16 keys, every op completed
 * before the next of its process starts: linearizable, as a real load's would be. */
static char *make_history(size_t ops, size_t *len)
{
	size_t cap = ops * 200, n = 0, i;
	char *buf = malloc(cap);
	uint64_t rng = 7, t = 1000;
	long value[16] = { 0 };

	if (!buf)
		return NULL;
	for (i = 0; i < ops; i++) {
		unsigned int p = i % 8, k = rng_next(&rng) % 16;
		bool write = rng_next(&rng) % 2;
		char val[24];

		if (write)
			snprintf(val, sizeof(val), "\"%ld\"", value[k] = (long)i);
		else
			snprintf(val, sizeof(val), "null");
		n += snprintf(buf + n, cap - n,
			      "{\"process\":%u,\"type\":\"invoke\",\"f\":\"%s\",\"key\":\"k%u\","
			      "\"value\":%s,\"time\":%llu}\n",
			      p, write ? "write" : "read", k, val, (unsigned long long)t++);
		if (!write)
			snprintf(val, sizeof(val), "\"%ld\"", value[k]);
		n += snprintf(buf + n, cap - n,
			      "{\"process\":%u,\"type\":\"ok\",\"f\":\"%s\",\"key\":\"k%u\","
			      "\"value\":%s,\"time\":%llu}\n",
			      p, write ? "write" : "read", k, value[k] || write ? val : "null",
			      (unsigned long long)t++);
	}
	*len = n;
	return buf;
}

static void events_free(struct event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(ev[i].type);
		free(ev[i].f);
		free(ev[i].key);
		free(ev[i].value);
	}
}

char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static size_t parse_jansson(const char *buf, size_t len, struct event *ev)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		json_error_t err;
		json_t *o = json_loadb(p, nl - p, JSON_REJECT_DUPLICATES, &err);

		if (!o) {
			fprintf(stderr, "jansson: %s\n", err.text);
			exit(1);
		}
		ev[n].process = json_integer_value(json_object_get(o, "process"));
		ev[n].time = json_integer_value(json_object_get(o, "time"));
		ev[n].type = dup_or_null(json_string_value(json_object_get(o, "type")));
		ev[n].f = dup_or_null(json_string_value(json_object_get(o, "f")));
		ev[n].key = dup_or_null(json_string_value(json_object_get(o, "key")));
		ev[n].value = dup_or_null(json_string_value(json_object_get(o, "value")));
		json_decref(o);
		n++;
		p = nl + 1;
	}
	return n;
}

static double median3(double a, double b, double c)
{
	return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

int main(int argc, char **argv)
{
	size_t ops = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000, len, i, n = 0;
	char *buf = make_history(ops, &len);
	struct event *ev = calloc(2 * ops, sizeof(*ev));
	double ours[3], jansson[3], jsonc[3], check = 0, t;
	struct history_error err;
	struct lin_result res;
	struct history h;

	if (!buf || !ev)
		return 1;
	for (i = 0; i < 3; i++) {
		t = now_s();
		history_init(&h);
		if (history_parse_buf(&h, buf, len, &err)) {
			fprintf(stderr, "ours: line %ld: %s\n", err.line, err.msg);
			return 1;
		}
		ours[i] = now_s() - t;
		if (i == 2) {
			/* The rest of capctl check on the same history: pairing and the search. */
			t = now_s();
			if (history_pair(&h, &err) || lin_check_register(&h, NULL, &res, &err)) {
				fprintf(stderr, "check: %s\n", err.msg);
				return 1;
			}
			check = now_s() - t;
			if (res.verdict != LIN_VALID) {
				fprintf(stderr,
					"check: the generated history is not linearizable\n");
				return 1;
			}
			lin_result_free(&res);
		}
		n = h.n_events;
		history_free(&h);

		t = now_s();
		n = parse_jansson(buf, len, ev);
		jansson[i] = now_s() - t;
		events_free(ev, n);

		t = now_s();
		n = parse_json_c(buf, len, ev);
		jsonc[i] = now_s() - t;
		events_free(ev, n);
	}
	printf("events=%zu mb=%.1f ours_s=%.3f jansson_s=%.3f json_c_s=%.3f check_rest_s=%.3f\n", n,
	       len / 1e6, median3(ours[0], ours[1], ours[2]),
	       median3(jansson[0], jansson[1], jansson[2]), median3(jsonc[0], jsonc[1], jsonc[2]),
	       check);
	free(ev);
	free(buf);
	return 0;
}
