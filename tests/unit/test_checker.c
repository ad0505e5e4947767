// SPDX-License-Identifier: GPL-2.0-only
/* The consistency checker: the history parser and its errors, pairing, the writer, register
 * linearizability (info and fail semantics, cas, keys, the failing window), generated histories
 * of a simulated register and bank with mutations that break them, the Knossos corpus, and
 * capctl check's exit codes. Random histories come from seeds printed on failure. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/monotonic.h"
#include "node/proto.h"
#include "tools/check/ap_report.h"
#include "tools/check/bank_check.h"
#include "tools/capctl/capctl.h"
#include "tools/check/history.h"
#include "tools/check/linearizability.h"

static unsigned long long current_seed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond))                                                         \
			fail_msg("%s:%d: %s (seed %llu)", __FILE__, __LINE__, #cond, \
				 current_seed);                                      \
	} while (0)

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* ---- Parser ---- */

static int parse_text(struct history *h, const char *text, struct history_error *err)
{
	history_init(h);
	return history_parse_buf(h, text, strlen(text), err);
}

static void expect_parse_error(const char *text, long line, const char *msg)
{
	struct history_error err = { 0 };
	struct history h;
	int ret = parse_text(&h, text, &err);

	if (!ret)
		ret = history_pair(&h, &err);
	history_free(&h);
	if (ret != -EINVAL)
		fail_msg("expected an error for: %s", text);
	if (err.line != line || strcmp(err.msg, msg))
		fail_msg("for input:\n%s\nexpected %ld: %s\n     got %ld: %s", text, line, msg,
			 err.line, err.msg);
}

#define W1 \
	"{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":\"1\",\"time\":10}\n"
#define W1OK \
	"{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":\"1\",\"time\":20}\n"

static void test_parse_good(void **state)
{
	const char *text =
		"{\"process\": 3, \"type\": \"invoke\", \"f\": \"cas\", \"key\": \"k\\u00e9\\n\", "
		"\"value\": [\"1\", null], \"time\": 18446744073709551615, \"node\": 2}\r\n"
		"\n   \n"
		"{\"time\":0,\"value\":{\"a\":\"1\",\"b\":\"-2\"},\"key\":null,\"f\":\"balance\","
		"\"type\":\"ok\",\"process\":0}";
	struct history_error err = { 0 };
	struct history h;

	(void)state;
	assert_int_equal(parse_text(&h, text, &err), 0);
	assert_int_equal(h.n_events, 2);
	assert_int_equal(h.events[0].line, 1);
	assert_int_equal(h.events[0].process, 3);
	assert_int_equal(h.events[0].type, HISTORY_INVOKE);
	assert_int_equal(h.events[0].f, HISTORY_CAS);
	assert_string_equal(h.events[0].key, "k\xc3\xa9\n");
	assert_int_equal(h.events[0].value.kind, HISTORY_VALUE_LIST);
	assert_int_equal(h.events[0].value.n, 2);
	assert_string_equal(h.events[0].value.items[0], "1");
	assert_null(h.events[0].value.items[1]);
	assert_true(h.events[0].time == UINT64_MAX);
	assert_int_equal(h.events[1].line, 4);
	assert_null(h.events[1].key);
	assert_int_equal(h.events[1].value.kind, HISTORY_VALUE_MAP);
	assert_int_equal(h.events[1].value.n, 2);
	assert_string_equal(h.events[1].value.items[2], "b");
	assert_string_equal(h.events[1].value.items[3], "-2");
	history_free(&h);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error(W1 "{\"process\":1,\"type\":\"done\",\"f\":\"write\",\"key\":\"x\","
			      "\"value\":\"1\",\"time\":20}\n",
			   2, "expected \"type\" to be invoke, ok, fail or info");
	expect_parse_error(
		"{\"process\":1,\"type\":\"invoke\",\"f\":\"inc\",\"key\":\"x\","
		"\"value\":\"1\",\"time\":20}",
		1, "expected \"f\" to be read, write, cas, transfer, balance, open, add or append");
	expect_parse_error("{\"process\":-1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\","
			   "\"value\":null,\"time\":20}",
			   1, "expected \"process\" to be a non-negative integer");
	expect_parse_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\","
			   "\"value\":null,\"time\":1.5}",
			   1, "expected \"time\" to be a non-negative integer (nanoseconds)");
	expect_parse_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\","
			   "\"value\":null,\"time\":18446744073709551616}",
			   1, "expected \"time\" to be a non-negative integer (nanoseconds)");
	expect_parse_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":7,"
			   "\"value\":null,\"time\":2}",
			   1, "expected \"key\" to be a string or null");
	expect_parse_error(W1 W1OK "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\","
				   "\"key\":\"x\",\"value\":[1],\"time\":2}",
			   3,
			   "expected \"value\" to be a string, null, a list of strings or an "
			   "object of strings");
	expect_parse_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\","
			   "\"value\":null}",
			   1, "missing \"time\"");
	expect_parse_error("{\"process\":1,\"process\":2,\"type\":\"invoke\",\"f\":\"read\","
			   "\"key\":\"x\",\"value\":null,\"time\":2}",
			   1, "duplicate \"process\"");
	expect_parse_error("[1,2]", 1, "expected a JSON object");
	expect_parse_error(W1 "\n{\"process\":1,\"type\":\"ok\" \"f\":\"write\"}", 3,
			   "invalid JSON at column 26: expected ',' or '}'");
	expect_parse_error("{\"process\":1} x", 1,
			   "invalid JSON at column 15: unexpected text after the object");
	expect_parse_error("{\"process\":01}", 1, "invalid JSON at column 13: expected ',' or '}'");
	expect_parse_error("{\"a\":\"x\\q\"}", 1, "invalid JSON at column 9: bad escape in string");
	expect_parse_error("{\"a\":\"x\\ud800\"}", 1,
			   "invalid JSON at column 14: unpaired surrogate in \\u escape");
	expect_parse_error("{\"a\":\"x\ty\"}", 1,
			   "invalid JSON at column 8: control character in string");
	expect_parse_error("{\"a\":\"xy}", 1, "invalid JSON at column 6: unterminated string");
	expect_parse_error("{\"a\":[[[\"x\"]]]}", 1,
			   "invalid JSON at column 8: nested too deeply for a history line");
	expect_parse_error("{\"a\":tru}", 1, "invalid JSON at column 6: unexpected text");
}

static void test_pair_errors(void **state)
{
	(void)state;
	expect_parse_error(W1OK, 1, "ok without an open invoke for process 1");
	expect_parse_error(W1 W1OK W1OK, 3, "ok without an open invoke for process 1");
	expect_parse_error(W1 W1, 2,
			   "process 1 invokes again while its invoke on line 1 is still open");
	expect_parse_error(W1 "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x\","
			      "\"value\":\"1\",\"time\":20}",
			   2, "process 1 completes \"read\" but invoked \"write\" on line 1");
	expect_parse_error(W1 "{\"process\":1,\"type\":\"info\",\"f\":\"write\",\"key\":\"y\","
			      "\"value\":\"1\",\"time\":20}",
			   2, "process 1 completes key \"y\" but invoked key \"x\" on line 1");
	expect_parse_error(W1 "{\"process\":1,\"type\":\"fail\",\"f\":\"write\",\"key\":\"x\","
			      "\"value\":\"1\",\"time\":5}",
			   2, "completion time 5 is before its invoke's time 10 (line 1)");
}

static void test_pair_and_write(void **state)
{
	const char *text = W1
		"{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\",\"value\":null,"
		"\"time\":11}\n" W1OK
		"{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x\",\"value\":\"1\","
		"\"time\":21}\n"
		"{\"process\":2,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x\",\"value\":[\"1\","
		"\"q\\\"\\\\\"],\"time\":30}\n";
	struct history_error err = { 0 };
	struct history h, h2;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	assert_int_equal(parse_text(&h, text, &err), 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(h.n_ops, 3);
	assert_int_equal(h.ops[0].outcome, HISTORY_OK);
	assert_int_equal(h.ops[0].ret, 20);
	assert_int_equal(h.ops[1].outcome, HISTORY_OK);
	assert_string_equal(h.ops[1].result->str, "1");
	assert_int_equal(h.ops[1].ret_line, 4);
	/* Left open at the end: its outcome is unknown. */
	assert_int_equal(h.ops[2].outcome, HISTORY_INFO);
	assert_true(h.ops[2].complete == HISTORY_OPEN_END);
	assert_true(h.ops[2].ret == UINT64_MAX);

	/* What the writer prints parses back to the same events. */
	f = open_memstream(&out, &len);
	assert_non_null(f);
	for (i = 0; i < h.n_events; i++)
		assert_int_equal(history_write_event(f, &h.events[i]), 0);
	fclose(f);
	assert_int_equal(strncmp(out, W1, strlen(W1)), 0);
	assert_int_equal(parse_text(&h2, out, &err), 0);
	assert_int_equal(h2.n_events, h.n_events);
	assert_string_equal(h2.events[4].value.items[1], "q\"\\");
	assert_int_equal(h2.events[4].time, 30);
	free(out);
	history_free(&h2);
	history_free(&h);
}

/* ---- Register ---- */

/* Compact histories for hand-written cases: one op per line,
 * "P TYPE F KEY VALUE TIME" with VALUE "-" for null and "a,b" for a cas. */
static void build(struct history *h, const char *spec)
{
	char line[128], type[8], f[16], key[16], value[32];
	const char *p = spec, *nl;
	unsigned long long proc, time;
	struct history_event ev;
	struct history_error err = { 0 };
	char *items[2];

	history_init(h);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
		if (!*line)
			continue;
		if (sscanf(line, "%llu %7s %15s %15s %31s %llu", &proc, type, f, key, value,
			   &time) != 6)
			fail_msg("bad spec line: %s", line);
		memset(&ev, 0, sizeof(ev));
		ev.process = proc;
		ev.time = time;
		ev.type = !strcmp(type, "invoke") ? HISTORY_INVOKE :
			  !strcmp(type, "ok")	  ? HISTORY_OK :
			  !strcmp(type, "fail")	  ? HISTORY_FAIL :
						    HISTORY_INFO;
		ev.f = !strcmp(f, "read")  ? HISTORY_READ :
		       !strcmp(f, "write") ? HISTORY_WRITE :
					     HISTORY_CAS;
		ev.key = key;
		if (ev.f == HISTORY_CAS) {
			char *comma = strchr(value, ',');

			assert_non_null(comma);
			*comma = '\0';
			items[0] = strcmp(value, "-") ? value : NULL;
			items[1] = comma + 1;
			ev.value = (struct history_value){ .kind = HISTORY_VALUE_LIST,
							   .items = items,
							   .n = 2 };
		} else if (strcmp(value, "-")) {
			ev.value = (struct history_value){ .kind = HISTORY_VALUE_STRING,
							   .str = value };
		}
		assert_int_equal(history_append(h, &ev), 0);
	}
	if (history_pair(h, &err))
		fail_msg("pairing: %ld: %s", err.line, err.msg);
}

/* The key of the last violation, kept past the history it pointed into. */
static char last_key[32];

static enum lin_verdict check_spec(const char *spec, struct lin_result *res)
{
	struct history_error err = { 0 };
	struct history h;
	enum lin_verdict v;

	build(&h, spec);
	if (lin_check_register(&h, NULL, res, &err))
		fail_msg("check: %ld: %s", err.line, err.msg);
	v = res->verdict;
	snprintf(last_key, sizeof(last_key), "%s", res->key ? res->key : "");
	history_free(&h);
	return v;
}

static enum lin_verdict verdict_of(const char *spec)
{
	struct lin_result res;
	enum lin_verdict v = check_spec(spec, &res);

	lin_result_free(&res);
	return v;
}

static void test_register_basics(void **state)
{
	(void)state;
	/* Nothing written: null. */
	assert_int_equal(verdict_of("1 invoke read x - 1\n1 ok read x - 2\n"), LIN_VALID);
	assert_int_equal(verdict_of("1 invoke read x - 1\n1 ok read x 5 2\n"), LIN_VIOLATION);
	/* A read concurrent with a write may see either value... */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n2 invoke read x - 2\n"
				    "2 ok read x - 3\n1 ok write x 1 4\n"),
			 LIN_VALID);
	assert_int_equal(verdict_of("1 invoke write x 1 1\n2 invoke read x - 2\n"
				    "2 ok read x 1 3\n1 ok write x 1 4\n"),
			 LIN_VALID);
	/* ...but once a read saw the new value, a later one cannot see the old. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n2 invoke read x - 2\n"
				    "2 ok read x 1 3\n2 invoke read x - 4\n2 ok read x - 5\n"
				    "1 ok write x 1 6\n"),
			 LIN_VIOLATION);
	/* Stale read after the write completed. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 ok write x 1 2\n"
				    "1 invoke write x 2 3\n1 ok write x 2 4\n"
				    "2 invoke read x - 5\n2 ok read x 1 6\n"),
			 LIN_VIOLATION);
	/* Equal times are concurrent, not ordered. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 ok write x 1 5\n"
				    "2 invoke read x - 5\n2 ok read x - 6\n"),
			 LIN_VALID);
}

static void test_register_info(void **state)
{
	(void)state;
	/* An info write that must have happened: its value is read later. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 info write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VALID);
	/* It may take effect long after its info was recorded. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 info write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x - 4\n"
				    "3 invoke write x 2 5\n3 ok write x 2 6\n"
				    "2 invoke read x - 7\n2 ok read x 1 8\n"),
			 LIN_VALID);
	/* ...or never. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 info write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x - 4\n"),
			 LIN_VALID);
	/* But not before its invoke. */
	assert_int_equal(verdict_of("2 invoke read x - 1\n2 ok read x 1 2\n"
				    "1 invoke write x 1 3\n1 info write x 1 4\n"),
			 LIN_VIOLATION);
	/* Taking effect once, it cannot be read, overwritten, and read again. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 info write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"
				    "3 invoke write x 2 5\n3 ok write x 2 6\n"
				    "2 invoke read x - 7\n2 ok read x 1 8\n"),
			 LIN_VIOLATION);
	/* An invoke left open at the end counts as info. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VALID);
	/* A failed write never took effect. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 fail write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VIOLATION);
	/* A read whose outcome is unknown constrains nothing, whatever it says. */
	assert_int_equal(verdict_of("2 invoke read x - 1\n2 info read x 9 2\n"), LIN_VALID);
	/* Two info writes of one value: each counts once. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n1 info write x 1 2\n"
				    "4 invoke write x 1 1\n4 info write x 1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"
				    "3 invoke write x 2 5\n3 ok write x 2 6\n"
				    "2 invoke read x - 7\n2 ok read x 1 8\n"),
			 LIN_VALID);
}

static void test_register_cas(void **state)
{
	(void)state;
	assert_int_equal(verdict_of("1 invoke cas x -,1 1\n1 ok cas x -,1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VALID);
	/* An ok cas needs its old value. */
	assert_int_equal(verdict_of("1 invoke cas x 3,1 1\n1 ok cas x 3,1 2\n"), LIN_VIOLATION);
	/* A failed cas did not take effect. */
	assert_int_equal(verdict_of("1 invoke cas x -,1 1\n1 fail cas x -,1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VIOLATION);
	/* An info cas may have: only if its old value was there. */
	assert_int_equal(verdict_of("1 invoke cas x -,1 1\n1 info cas x -,1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VALID);
	assert_int_equal(verdict_of("3 invoke write x 2 0\n3 ok write x 2 1\n"
				    "1 invoke cas x -,1 1\n1 info cas x -,1 2\n"
				    "2 invoke read x - 3\n2 ok read x 1 4\n"),
			 LIN_VIOLATION);
	/* An info write can supply an ok cas's old value. */
	assert_int_equal(verdict_of("3 invoke write x 2 0\n3 info write x 2 1\n"
				    "1 invoke cas x 2,5 2\n1 ok cas x 2,5 3\n"
				    "2 invoke read x - 4\n2 ok read x 5 5\n"),
			 LIN_VALID);
	/* Two concurrent cas from the same old value cannot both succeed. */
	assert_int_equal(verdict_of("1 invoke cas x -,1 1\n2 invoke cas x -,2 1\n"
				    "1 ok cas x -,1 3\n2 ok cas x -,2 3\n"),
			 LIN_VIOLATION);
	/* A chain: w(1), cas(1,2), cas(2,3) concurrent, read 3. */
	assert_int_equal(verdict_of("1 invoke write x 1 1\n2 invoke cas x 2,3 1\n"
				    "3 invoke cas x 1,2 1\n1 ok write x 1 3\n2 ok cas x 2,3 3\n"
				    "3 ok cas x 1,2 3\n4 invoke read x - 4\n4 ok read x 3 5\n"),
			 LIN_VALID);
}

static void test_register_keys(void **state)
{
	struct lin_result res;

	(void)state;
	/* Keys are independent registers. */
	assert_int_equal(check_spec("1 invoke write x 1 1\n1 ok write x 1 2\n"
				    "2 invoke read y - 3\n2 ok read y - 4\n"
				    "2 invoke read x - 5\n2 ok read x 1 6\n"
				    "3 invoke write z 7 7\n3 info write z 7 8\n",
				    &res),
			 LIN_VALID);
	assert_int_equal(res.keys, 3);
	assert_int_equal(res.ops, 4);
	lin_result_free(&res);
	/* A violation names its key. */
	assert_int_equal(check_spec("1 invoke write x 1 1\n1 ok write x 1 2\n"
				    "2 invoke read y - 3\n2 ok read y 1 4\n",
				    &res),
			 LIN_VIOLATION);
	assert_string_equal(last_key, "y");
	assert_int_equal(res.keys, 2);
	lin_result_free(&res);
}

static void test_register_window(void **state)
{
	struct history_error err = { 0 };
	struct lin_result res;
	struct history h;

	(void)state;
	/* Lots of valid traffic, then one stale read: the window is the last write before the
	 * read (from any value) and the read. */
	build(&h, "1 invoke write x 1 10\n1 ok write x 1 20\n"
		  "2 invoke read x - 30\n2 ok read x 1 40\n"
		  "1 invoke write x 2 50\n1 ok write x 2 60\n"
		  "3 invoke write x 3 55\n3 info write x 3 65\n"
		  "2 invoke read x - 70\n2 ok read x 3 80\n"
		  "1 invoke write x 4 90\n1 ok write x 4 100\n"
		  "2 invoke read x - 110\n2 ok read x 2 120\n"
		  "1 invoke write x 5 130\n1 ok write x 5 140\n");
	assert_int_equal(lin_check_register(&h, NULL, &res, &err), 0);
	assert_int_equal(res.verdict, LIN_VIOLATION);
	assert_string_equal(res.key, "x");
	/* Ops are numbered in invoke order: the stale read is op 6, the write before it op 5;
	 * the info write of 3 (op 3) spans the window but nothing in it reads 3. */
	assert_int_equal(res.failed_op, 6);
	assert_true(res.minimal);
	assert_false(res.initial_known);
	assert_int_equal(res.n_window, 2);
	assert_int_equal(res.window[0].op, 5);
	assert_int_equal(res.window[0].role, LIN_ROLE_REQUIRED);
	assert_int_equal(res.window[1].op, 6);
	assert_int_equal(res.window[1].role, LIN_ROLE_FAILED);
	lin_result_free(&res);
	history_free(&h);

	/* A value never written: only the start, where the register is null, explains it. */
	build(&h, "1 invoke read x - 10\n2 invoke write x 3 20\n2 fail write x 3 30\n"
		  "1 ok read x 3 40\n");
	assert_int_equal(lin_check_register(&h, NULL, &res, &err), 0);
	assert_int_equal(res.verdict, LIN_VIOLATION);
	assert_true(res.initial_known);
	assert_int_equal(res.n_window, 1);
	assert_int_equal(res.window[0].role, LIN_ROLE_FAILED);
	assert_int_equal(res.failed_op, 0);
	lin_result_free(&res);
	history_free(&h);

	/* An info write it needs stays in the window, marked optional. */
	build(&h, "1 invoke write x 1 10\n1 ok write x 1 20\n"
		  "3 invoke write x 7 25\n3 info write x 7 26\n"
		  "2 invoke read x - 30\n2 ok read x 7 40\n"
		  "2 invoke read x - 50\n2 ok read x 1 60\n");
	assert_int_equal(lin_check_register(&h, NULL, &res, &err), 0);
	assert_int_equal(res.verdict, LIN_VIOLATION);
	assert_int_equal(res.failed_op, 3);
	assert_int_equal(res.n_window, 3);
	assert_int_equal(res.window[0].op, 1);
	assert_int_equal(res.window[0].role, LIN_ROLE_OPTIONAL);
	assert_int_equal(res.window[1].op, 2);
	assert_int_equal(res.window[1].role, LIN_ROLE_REQUIRED);
	assert_int_equal(res.window[2].op, 3);
	lin_result_free(&res);
	history_free(&h);
}

static void test_register_model_errors(void **state)
{
	struct history_error err = { 0 };
	struct lin_result res;
	struct history h;

	(void)state;
	assert_int_equal(parse_text(&h,
				    "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":"
				    "\"x\",\"value\":null,\"time\":1}\n",
				    &err),
			 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(lin_check_register(&h, NULL, &res, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg, "expected a write's value to be a string");
	history_free(&h);
	assert_int_equal(parse_text(&h,
				    "\n{\"process\":1,\"type\":\"invoke\",\"f\":\"transfer\","
				    "\"key\":\"x\",\"value\":null,\"time\":1}\n",
				    &err),
			 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(lin_check_register(&h, NULL, &res, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.msg,
			    "\"transfer\" is not a register operation (read, write or cas)");
	history_free(&h);
}

/* ---- A simulated register: linearizable by construction ---- */

struct sim_op {
	size_t hop; /* index into history.ops once paired */
	uint64_t process, call, ret, lin;
	enum history_f f;
	enum history_type outcome;
	int key;
	long a, b, result; /* 0 is null */
	bool effect, open;
};

struct sim {
	struct sim_op *ops;
	size_t n;
};

static int lin_cmp(const void *x, const void *y)
{
	const struct sim_op *a = *(const struct sim_op *const *)x;
	const struct sim_op *b = *(const struct sim_op *const *)y;

	if (a->lin != b->lin)
		return a->lin < b->lin ? -1 : 1;
	return a < b ? -1 : a > b;
}

struct sim_event {
	uint64_t time;
	size_t op;
	bool invoke;
};

static int event_cmp(const void *x, const void *y)
{
	const struct sim_event *a = x, *b = y;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	return a->invoke ? -1 : 1;
}

/* Every op takes effect at one instant inside its interval (for an op whose outcome is lost,
 * any instant after its invoke, or never), applied to real registers in that order. Values are
 * unique per write, so mutations can be made that nothing explains. */
static void sim_generate(struct sim *s, uint64_t seed, size_t n, int clients, int keys,
			 int info_pct)
{
	uint64_t rng = seed * 2654435761u + 1, t[64] = { 0 };
	long state[16] = { 0 }, seen[64][16] = { { 0 } }, counter = 0;
	struct sim_op **order;
	size_t i;
	int c;

	s->ops = calloc(n, sizeof(*s->ops));
	order = calloc(n, sizeof(*order));
	assert_non_null(s->ops);
	assert_non_null(order);
	s->n = n;
	for (i = 0; i < n; i++) {
		struct sim_op *op = &s->ops[i];
		uint64_t dur = 1 + rng_below(&rng, 200), r = rng_below(&rng, 10);

		c = i % clients;
		op->process = c;
		op->call = t[c] + 1 + rng_below(&rng, 50);
		op->ret = op->call + dur;
		op->key = rng_below(&rng, keys);
		op->f = r < 4 ? HISTORY_READ : r < 7 ? HISTORY_WRITE : HISTORY_CAS;
		op->outcome = (int)rng_below(&rng, 100) < info_pct ? HISTORY_INFO : HISTORY_OK;
		op->effect = true;
		op->lin = op->call + rng_below(&rng, dur + 1);
		if (op->outcome == HISTORY_INFO) {
			op->lin = op->call + rng_below(&rng, 20 * dur + 1);
			op->effect = rng_below(&rng, 2);
			op->open = i + clients >= n; /* its client's last op: never completed */
		}
		t[c] = op->ret;
		order[i] = op;
	}
	qsort(order, n, sizeof(*order), lin_cmp);
	for (i = 0; i < n; i++) {
		struct sim_op *op = order[i];
		long *v = &state[op->key];

		switch (op->f) {
		case HISTORY_READ:
			op->result = *v;
			seen[op->process][op->key] = *v;
			break;
		case HISTORY_WRITE:
			op->a = ++counter;
			if (op->effect)
				*v = op->a;
			break;
		default:
			op->a = seen[op->process][op->key];
			op->b = ++counter;
			if (*v != op->a) {
				if (op->outcome == HISTORY_OK)
					op->outcome = HISTORY_FAIL;
				break;
			}
			if (op->effect)
				*v = op->b;
			seen[op->process][op->key] = op->b;
			break;
		}
	}
	free(order);
}

static void sim_free(struct sim *s)
{
	free(s->ops);
	s->ops = NULL;
}

static void set_value(struct history_value *v, char *buf, char **items, long a, long b, bool cas)
{
	if (cas) {
		snprintf(buf, 24, "%ld", a);
		snprintf(buf + 24, 24, "%ld", b);
		items[0] = a ? buf : NULL;
		items[1] = buf + 24;
		*v = (struct history_value){ .kind = HISTORY_VALUE_LIST, .items = items, .n = 2 };
	} else if (a) {
		snprintf(buf, 24, "%ld", a);
		*v = (struct history_value){ .kind = HISTORY_VALUE_STRING, .str = buf };
	} else {
		*v = (struct history_value){ .kind = HISTORY_VALUE_NULL };
	}
}

static void sim_history(struct sim *s, struct history *h)
{
	struct sim_event *ev = calloc(2 * s->n, sizeof(*ev));
	struct history_error err = { 0 };
	size_t i, ne = 0;
	char key[16], buf[48], *items[2];

	assert_non_null(ev);
	for (i = 0; i < s->n; i++) {
		ev[ne++] = (struct sim_event){ s->ops[i].call, i, true };
		if (!s->ops[i].open)
			ev[ne++] = (struct sim_event){ s->ops[i].ret, i, false };
	}
	qsort(ev, ne, sizeof(*ev), event_cmp);
	history_init(h);
	for (i = 0; i < ne; i++) {
		const struct sim_op *op = &s->ops[ev[i].op];
		struct history_event e = {
			.process = op->process,
			.type = ev[i].invoke ? HISTORY_INVOKE : op->outcome,
			.f = op->f,
			.key = key,
			.time = ev[i].time,
		};

		snprintf(key, sizeof(key), "k%d", op->key);
		if (op->f == HISTORY_READ)
			set_value(&e.value, buf, items, ev[i].invoke ? 0 : op->result, 0, false);
		else
			set_value(&e.value, buf, items, op->a, op->b, op->f == HISTORY_CAS);
		assert_int_equal(history_append(h, &e), 0);
	}
	free(ev);
	assert_int_equal(history_pair(h, &err), 0);
	/* Ops are numbered in invoke order, as the history pairs them. */
	for (i = 0; i < h->n_ops; i++) {
		size_t j;

		for (j = 0; j < s->n; j++)
			if (s->ops[j].call == h->ops[i].call &&
			    s->ops[j].process == h->ops[i].process)
				s->ops[j].hop = i;
	}
}

static enum lin_verdict sim_check(struct history *h, struct lin_result *res)
{
	struct history_error err = { 0 };

	if (lin_check_register(h, NULL, res, &err))
		fail_msg("seed %llu: %ld: %s", current_seed, err.line, err.msg);
	return res->verdict;
}

static void test_generated_valid(void **state)
{
	struct lin_result res;
	struct history h;
	struct sim s;
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++) {
		current_seed = seed;
		sim_generate(&s, seed, 300, 2 + seed % 8, 1 + seed % 3, seed % 4 * 3);
		sim_history(&s, &h);
		CHECK(sim_check(&h, &res) == LIN_VALID);
		lin_result_free(&res);
		history_free(&h);
		sim_free(&s);
	}
	current_seed = 0;
}

/* A read changed to return what nothing could explain must be the op reported. */
static void expect_mutant(struct history *h, size_t hop, const char *label)
{
	struct lin_result res;
	size_t i, nreq = 0;
	double t0 = monotonic_s();

	if (sim_check(h, &res) != LIN_VIOLATION)
		fail_msg("%s: seed %llu: not detected (verdict %d)", label, current_seed,
			 res.verdict);
	CHECK(res.failed_op == hop);
	CHECK(res.n_window >= 1);
	for (i = 0; i < res.n_window; i++) {
		nreq += res.window[i].role == LIN_ROLE_REQUIRED;
		if (res.window[i].role == LIN_ROLE_FAILED)
			CHECK(res.window[i].op == hop);
	}
	CHECK(nreq <= 1);
	if (!strcmp(label, "stale"))
		CHECK(res.minimal && nreq == 1 && !res.initial_known);
	print_message("    %-6s seed %2llu: %zu ops, window %zu, %.3f s\n", label, current_seed,
		      h->n_ops, res.n_window, monotonic_s() - t0);
	lin_result_free(&res);
}

static struct history_value *mutable_result(struct history *h, size_t hop)
{
	return &h->events[h->ops[hop].complete].value;
}

static void set_result(struct history *h, size_t hop, long v)
{
	struct history_value *val = mutable_result(h, hop);
	char buf[24];

	snprintf(buf, sizeof(buf), "%ld", v);
	free(val->str);
	val->kind = HISTORY_VALUE_STRING;
	val->str = strdup(buf);
	assert_non_null(val->str);
}

static void test_generated_mutants(void **state)
{
	struct history h;
	struct sim s;
	uint64_t seed;
	size_t i, j, k;

	(void)state;
	for (seed = 1; seed <= 12; seed++) {
		bool done_stale = false, done_future = false;

		current_seed = seed;
		sim_generate(&s, seed, 400, 3 + seed % 6, 1, 5);

		/* Never written. */
		sim_history(&s, &h);
		for (i = s.n / 2; i < s.n; i++)
			if (s.ops[i].f == HISTORY_READ && s.ops[i].outcome == HISTORY_OK)
				break;
		assert_true(i < s.n);
		set_result(&h, s.ops[i].hop, 999999);
		expect_mutant(&h, s.ops[i].hop, "never");
		history_free(&h);

		/* Stale: the value of an ok write w1 that an ok write w2 overwrote, w1 returning
		 * before w2 was invoked and w2 returning before the read was invoked. */
		for (i = s.n / 3; i < s.n && !done_stale; i++) {
			const struct sim_op *r = &s.ops[i];

			if (r->f != HISTORY_READ || r->outcome != HISTORY_OK)
				continue;
			for (j = 0; j < s.n && !done_stale; j++) {
				const struct sim_op *w2 = &s.ops[j];

				if (w2->f != HISTORY_WRITE || w2->outcome != HISTORY_OK ||
				    w2->ret >= r->call || w2->a == r->result)
					continue;
				for (k = 0; k < s.n; k++) {
					const struct sim_op *w1 = &s.ops[k];

					if (w1->f != HISTORY_WRITE || w1->outcome != HISTORY_OK ||
					    w1->ret >= w2->call || w1->a == r->result)
						continue;
					sim_history(&s, &h);
					set_result(&h, r->hop, w1->a);
					expect_mutant(&h, r->hop, "stale");
					history_free(&h);
					done_stale = true;
					break;
				}
			}
		}
		CHECK(done_stale);

		/* Future: the value of a write invoked after the read returned. */
		for (i = 0; i < s.n && !done_future; i++) {
			const struct sim_op *r = &s.ops[i];

			if (r->f != HISTORY_READ || r->outcome != HISTORY_OK)
				continue;
			for (j = 0; j < s.n; j++) {
				const struct sim_op *w = &s.ops[j];

				if (w->f != HISTORY_WRITE || w->call <= r->ret)
					continue;
				sim_history(&s, &h);
				set_result(&h, r->hop, w->a);
				expect_mutant(&h, r->hop, "future");
				history_free(&h);
				done_future = true;
				break;
			}
		}
		CHECK(done_future);
		sim_free(&s);
	}
	current_seed = 0;
}

/* 10,000 operations of 10 clients on one register, 2% with unknown outcome: decided in
 * seconds, valid and with each kind of mutation. */
static void test_generated_large(void **state)
{
	struct lin_result res;
	struct history h;
	struct sim s;
	double t0;
	size_t i;

	(void)state;
	current_seed = 4242;
	sim_generate(&s, current_seed, 10000, 10, 1, 2);
	sim_history(&s, &h);
	t0 = monotonic_s();
	CHECK(sim_check(&h, &res) == LIN_VALID);
	print_message("    valid: %zu ops, %zu configurations, %.3f s\n", h.n_ops, res.configs,
		      monotonic_s() - t0);
	CHECK(monotonic_s() - t0 < 10);
	lin_result_free(&res);
	history_free(&h);

	for (i = s.n * 9 / 10; i < s.n; i++)
		if (s.ops[i].f == HISTORY_READ && s.ops[i].outcome == HISTORY_OK)
			break;
	assert_true(i < s.n);
	sim_history(&s, &h);
	set_result(&h, s.ops[i].hop, 424242);
	t0 = monotonic_s();
	expect_mutant(&h, s.ops[i].hop, "never");
	CHECK(monotonic_s() - t0 < 20);
	history_free(&h);
	sim_free(&s);

	/* One in ten outcomes unknown: the same, with the search left to find the window. */
	current_seed = 4444;
	sim_generate(&s, current_seed, 10000, 10, 1, 10);
	sim_history(&s, &h);
	t0 = monotonic_s();
	CHECK(sim_check(&h, &res) == LIN_VALID);
	print_message("    valid, 10%% info: %zu ops, %.3f s\n", h.n_ops, monotonic_s() - t0);
	lin_result_free(&res);
	history_free(&h);
	for (i = s.n * 9 / 10; i < s.n; i++)
		if (s.ops[i].f == HISTORY_READ && s.ops[i].outcome == HISTORY_OK)
			break;
	assert_true(i < s.n);
	sim_history(&s, &h);
	set_result(&h, s.ops[i].hop, 424242);
	t0 = monotonic_s();
	expect_mutant(&h, s.ops[i].hop, "never");
	CHECK(monotonic_s() - t0 < 20);
	history_free(&h);
	sim_free(&s);

	/* Many keys: each decided alone. */
	current_seed = 4343;
	sim_generate(&s, current_seed, 10000, 10, 16, 2);
	sim_history(&s, &h);
	t0 = monotonic_s();
	CHECK(sim_check(&h, &res) == LIN_VALID);
	CHECK(res.keys == 16);
	print_message("    16 keys: %zu ops, %.3f s\n", h.n_ops, monotonic_s() - t0);
	lin_result_free(&res);
	history_free(&h);
	sim_free(&s);
	current_seed = 0;
}

/* ---- Against brute force ----
 *
 * Small random histories decided by trying every order, to hold the search and its shortcuts
 * (reads placed without a choice, unknown-outcome writes placed only where observed) to the
 * definition. Each op is its own process; values come from a tiny domain so they collide. */

enum { BF_REQUIRED, BF_OPTIONAL, BF_DROPPED };

struct bf_op {
	enum history_f f;
	int a, b; /* read: value; write: value; cas: old, new. 0 is null */
	uint64_t call, ret;
	int mode;
};

static bool bf_dfs(const struct bf_op *ops, int n, unsigned placed, int state)
{
	int i, j, next;

	for (i = 0; i < n; i++)
		if (ops[i].mode == BF_REQUIRED && !(placed & (1u << i)))
			break;
	if (i == n)
		return true;
	for (i = 0; i < n; i++) {
		if (ops[i].mode == BF_DROPPED || (placed & (1u << i)))
			continue;
		/* Everything that returned before this was invoked comes first. */
		for (j = 0; j < n; j++)
			if (ops[j].mode == BF_REQUIRED && !(placed & (1u << j)) &&
			    ops[j].ret < ops[i].call)
				break;
		if (j < n)
			continue;
		if (ops[i].f == HISTORY_READ) {
			if (state != ops[i].a)
				continue;
			next = state;
		} else if (ops[i].f == HISTORY_WRITE) {
			next = ops[i].a;
		} else {
			if (state != ops[i].a)
				continue;
			next = ops[i].b;
		}
		if (bf_dfs(ops, n, placed | (1u << i), next))
			return true;
	}
	return false;
}

/* init < 0: from any value. */
static bool bf_linearizable(const struct bf_op *ops, int n, int init)
{
	int v;

	if (init >= 0)
		return bf_dfs(ops, n, 0, init);
	for (v = 0; v <= 5; v++)
		if (bf_dfs(ops, n, 0, v))
			return true;
	return false;
}

static void test_brute_force(void **state)
{
	struct history_error err = { 0 };
	struct lin_result res;
	struct bf_op ops[9], win[9];
	size_t valid = 0, invalid = 0, i;
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 20000; seed++) {
		uint64_t rng = seed * 0x9e3779b97f4a7c15ULL;
		int n = 1 + rng_below(&rng, 8), k, nw = 0;
		struct sim_event ev[18];
		struct history h;
		char buf[18][48], *items[18][2];
		bool expect;

		current_seed = seed;
		for (k = 0; k < n; k++) {
			uint64_t r = rng_below(&rng, 10), o = rng_below(&rng, 10);

			ops[k].f = r < 4 ? HISTORY_READ : r < 7 ? HISTORY_WRITE : HISTORY_CAS;
			ops[k].a = rng_below(&rng, 4);
			ops[k].b = 1 + rng_below(&rng, 3);
			if (ops[k].f == HISTORY_WRITE && !ops[k].a)
				ops[k].a = 1;
			ops[k].call = rng_below(&rng, 12);
			ops[k].ret = ops[k].call + rng_below(&rng, 6);
			ops[k].mode = o < 7 ? BF_REQUIRED : o < 9 ? BF_OPTIONAL : BF_DROPPED;
			if (ops[k].mode == BF_OPTIONAL && ops[k].f == HISTORY_READ)
				ops[k].mode = BF_DROPPED;
			ev[2 * k] = (struct sim_event){ ops[k].call, k, true };
			ev[2 * k + 1] = (struct sim_event){ ops[k].ret, k, false };
		}
		qsort(ev, 2 * n, sizeof(ev[0]), event_cmp);
		history_init(&h);
		for (k = 0; k < 2 * n; k++) {
			const struct bf_op *op = &ops[ev[k].op];
			struct history_event e = {
				.process = ev[k].op,
				.f = op->f,
				.key = "r",
				.time = ev[k].time,
				.type = ev[k].invoke		? HISTORY_INVOKE :
					op->mode == BF_REQUIRED ? HISTORY_OK :
					op->mode == BF_OPTIONAL ? HISTORY_INFO :
								  HISTORY_FAIL,
			};

			if (op->f == HISTORY_READ && op->mode == BF_DROPPED && !ev[k].invoke &&
			    (seed & 1))
				e.type = HISTORY_INFO; /* an info read: dropped all the same */
			set_value(&e.value, buf[k], items[k],
				  op->f == HISTORY_READ && ev[k].invoke ? 0 : op->a, op->b,
				  op->f == HISTORY_CAS);
			assert_int_equal(history_append(&h, &e), 0);
		}
		assert_int_equal(history_pair(&h, &err), 0);
		assert_int_equal(lin_check_register(&h, NULL, &res, &err), 0);
		expect = bf_linearizable(ops, n, 0);
		CHECK(res.verdict == (expect ? LIN_VALID : LIN_VIOLATION));
		if (!expect) {
			/* The window reported cannot be linearized either, by brute force. */
			for (i = 0; i < res.n_window; i++) {
				for (k = 0; k < n; k++)
					if (h.ops[res.window[i].op].call == ops[k].call &&
					    h.ops[res.window[i].op].process == (uint64_t)k)
						break;
				assert_true(k < n);
				win[nw] = ops[k];
				win[nw++].mode = res.window[i].role == LIN_ROLE_OPTIONAL ?
							 BF_OPTIONAL :
							 BF_REQUIRED;
			}
			CHECK(!bf_linearizable(win, nw, res.initial_known ? 0 : -1));
			invalid++;
		} else {
			valid++;
		}
		lin_result_free(&res);
		history_free(&h);
	}
	current_seed = 0;
	print_message("    %zu linearizable, %zu not, all as brute force decides\n", valid,
		      invalid);
	CHECK(valid > 1000 && invalid > 1000);
}

/* A memory limit too small to decide is reported as such, never as a verdict. */
static void test_search_limit(void **state)
{
	struct lin_options opt = { .max_memory = 4096 };
	struct history_error err = { 0 };
	struct lin_result res;
	struct history h;
	struct sim s;

	(void)state;
	current_seed = 7;
	sim_generate(&s, current_seed, 3000, 10, 1, 10);
	sim_history(&s, &h);
	assert_int_equal(lin_check_register(&h, &opt, &res, &err), 0);
	CHECK(res.verdict == LIN_UNDECIDED);
	assert_string_equal(res.key, "k0");
	lin_result_free(&res);
	history_free(&h);
	sim_free(&s);
	current_seed = 0;
}

/* ---- Bank ---- */

static int bank_text(const char *text, struct bank_result *res, struct history_error *err)
{
	struct history h;
	int ret = parse_text(&h, text, err);

	if (!ret)
		ret = history_pair(&h, err);
	if (!ret)
		ret = bank_check(&h, NULL, res, err);
	history_free(&h);
	return ret;
}

#define OPEN(p, acct, amt, t0, t1)                                                                 \
	"{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"open\",\"key\":\"" acct                   \
	"\",\"value\":\"" amt "\",\"time\":" #t0 "}\n{\"process\":" #p                             \
	",\"type\":\"ok\",\"f\":\"open\",\"key\":\"" acct "\",\"value\":\"" amt "\",\"time\":" #t1 \
	"}\n"
#define XFER(p, type, from, to, amt, t)                                              \
	"{\"process\":" #p ",\"type\":\"" type "\",\"f\":\"transfer\",\"key\":null," \
	"\"value\":[\"" from "\",\"" to "\",\"" amt "\"],\"time\":" #t "}\n"
#define BAL_INV(p, t)                                                                       \
	"{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"balance\",\"key\":null,\"value\":" \
	"null,\"time\":" #t "}\n"
#define BAL_OK(p, a, b, t)                                                              \
	"{\"process\":" #p ",\"type\":\"ok\",\"f\":\"balance\",\"key\":null,\"value\":" \
	"{\"a\":\"" a "\",\"b\":\"" b "\"},\"time\":" #t "}\n"

#define BAL1_INV(p, acct, t)                                                              \
	"{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"balance\",\"key\":\"" acct "\"," \
	"\"value\":null,\"time\":" #t "}\n"
#define BAL1_OK(p, acct, v, t)                                                        \
	"{\"process\":" #p ",\"type\":\"ok\",\"f\":\"balance\",\"key\":\"" acct "\"," \
	"\"value\":\"" v "\",\"time\":" #t "}\n"

#define OPEN_FMT                                                                      \
	"{\"process\":0,\"type\":\"invoke\",\"f\":\"open\",\"key\":\"%s\",\"value\":" \
	"\"200\",\"time\":%d}\n"
#define OPEN_OK_FMT                                                               \
	"{\"process\":0,\"type\":\"ok\",\"f\":\"open\",\"key\":\"%s\",\"value\":" \
	"\"200\",\"time\":%d}\n"
#define XFER_FMT                                                                     \
	"{\"process\":%d,\"type\":\"%s\",\"f\":\"transfer\",\"key\":null,\"value\":" \
	"[\"%s\",\"%s\",\"%d\"],\"time\":%llu}\n"

#define BANK_OPEN OPEN(0, "a", "100", 1, 2) OPEN(0, "b", "50", 3, 4)

static void expect_bank(const char *text, bool valid, enum bank_violation_kind kind, long line)
{
	struct history_error err = { 0 };
	struct bank_result res;

	if (bank_text(text, &res, &err))
		fail_msg("bank: %ld: %s", err.line, err.msg);
	if (res.valid != valid)
		fail_msg("expected %s for:\n%s", valid ? "valid" : "a violation", text);
	if (!valid) {
		assert_true(res.n_violations >= 1);
		assert_int_equal(res.violations[0].kind, kind);
		assert_int_equal(res.violations[0].line, line);
	}
	assert_int_equal(res.undecided, 0);
	bank_result_free(&res);
}

static void test_bank(void **state)
{
	struct history_error err = { 0 };
	struct bank_result res;

	(void)state;
	/* A transfer done, then read. */
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "ok", "a", "b", "30", 20) BAL_INV(2, 30)
				    BAL_OK(2, "70", "80", 40),
		    true, 0, 0);
	/* Reading the old balances after the transfer returned is stale. */
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "ok", "a", "b", "30", 20) BAL_INV(2, 30)
				    BAL_OK(2, "100", "50", 40),
		    false, BANK_TRANSFERS, 8);
	/* Concurrent: either is fine. */
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10) BAL_INV(2, 11)
			    BAL_OK(2, "100", "50", 12) XFER(1, "ok", "a", "b", "30", 20),
		    true, 0, 0);
	/* Unknown outcome: either, even much later; failed: never. */
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "info", "a", "b", "30", 11) BAL_INV(2, 50)
				    BAL_OK(2, "70", "80", 60),
		    true, 0, 0);
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "fail", "a", "b", "30", 11) BAL_INV(2, 50)
				    BAL_OK(2, "70", "80", 60),
		    false, BANK_TRANSFERS, 8);
	/* A transfer invoked after the read returned cannot be in it. */
	expect_bank(BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "70", "80", 6)
			    XFER(1, "invoke", "a", "b", "30", 10) XFER(1, "ok", "a", "b", "30", 20),
		    false, BANK_TRANSFERS, 6);
	/* Conservation and negative balances. */
	expect_bank(BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "100", "51", 6), false, BANK_CONSERVATION, 6);
	expect_bank(BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "160", "-10", 6), false, BANK_NEGATIVE, 6);
	/* Accounts. */
	expect_bank(
		BANK_OPEN BAL_INV(
			2,
			5) "{\"process\":2,\"type\":\"ok\",\"f\":\"balance\",\"key\":null,\"value\":"
			   "{\"a\":\"150\"},\"time\":6}\n",
		false, BANK_ACCOUNTS, 6);

	/* One account read alone. */
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "ok", "a", "b", "30", 20) BAL1_INV(2, "b", 30)
				    BAL1_OK(2, "b", "80", 40),
		    true, 0, 0);
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10)
			    XFER(1, "ok", "a", "b", "30", 20) BAL1_INV(2, "b", 30)
				    BAL1_OK(2, "b", "50", 40),
		    false, BANK_TRANSFERS, 8);
	expect_bank(BANK_OPEN XFER(1, "invoke", "a", "b", "30", 10) BAL1_INV(2, "a", 11)
			    BAL1_OK(2, "a", "70", 12) XFER(1, "info", "a", "b", "30", 20),
		    true, 0, 0);
	expect_bank(BANK_OPEN BAL1_INV(2, "a", 11) BAL1_OK(2, "a", "-1", 12), false, BANK_NEGATIVE,
		    6);

	/* Input the model cannot use. */
	assert_int_equal(bank_text(BANK_OPEN XFER(1, "invoke", "a", "c", "30", 10), &res, &err),
			 -EINVAL);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.msg, "transfer names account \"c\", never opened");
	assert_int_equal(bank_text(BANK_OPEN XFER(1, "invoke", "a", "b", "-5", 10), &res, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "expected a transfer's amount to be from 0 to 10^12");
	assert_int_equal(bank_text(BAL_INV(2, 1) BANK_OPEN, &res, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg,
			    "open of \"a\" completes after the first transfer or balance was "
			    "invoked");
	assert_int_equal(bank_text(BANK_OPEN OPEN(0, "a", "1", 5, 6), &res, &err), -EINVAL);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.msg, "account \"a\" is opened twice");
}

/* A simulated CP bank: transfers take effect at one instant if funds suffice. */
static void bank_generate(struct history *h, uint64_t seed, size_t n, int clients, bool create)
{
	uint64_t rng = seed * 0x9e3779b97f4a7c15ULL + 1, t[16] = { 0 };
	struct sim_op *ops = calloc(n, sizeof(*ops)), **order = calloc(n, sizeof(*order));
	struct sim_event *ev = calloc(2 * n, sizeof(*ev));
	long bal[4] = { 100, 100, 100, 100 }, reads[4 * 4096];
	const char *names[4] = { "a", "b", "c", "d" };
	struct history_error err = { 0 };
	char amt[24], nums[4][24], *items[8];
	size_t i, ne = 0, created = SIZE_MAX;
	int a;

	assert_true(ops && order && ev && n <= 4096);
	history_init(h);
	for (a = 0; a < 4; a++) {
		struct history_event e = { .process = 0,
					   .type = HISTORY_INVOKE,
					   .f = HISTORY_OPEN,
					   .key = (char *)names[a],
					   .time = 2 * a + 1 };

		e.value = (struct history_value){ .kind = HISTORY_VALUE_STRING, .str = "100" };
		assert_int_equal(history_append(h, &e), 0);
		e.type = HISTORY_OK;
		e.time++;
		assert_int_equal(history_append(h, &e), 0);
	}
	for (i = 0; i < n; i++) {
		struct sim_op *op = &ops[i];
		uint64_t dur = 1 + rng_below(&rng, 100);
		int c = i % clients;

		op->process = c + 1;
		op->call = 100 + t[c] + 1 + rng_below(&rng, 30);
		op->ret = op->call + dur;
		op->lin = op->call + rng_below(&rng, dur + 1);
		op->f = rng_below(&rng, 3) ? HISTORY_TRANSFER : HISTORY_BALANCE;
		op->outcome = HISTORY_OK;
		op->key = rng_below(&rng, 4);
		op->a = (op->key + 1 + rng_below(&rng, 3)) % 4;
		op->b = 1 + rng_below(&rng, 60);
		if (op->f == HISTORY_TRANSFER && rng_below(&rng, 150) == 0) {
			op->outcome = HISTORY_INFO;
			op->lin = op->call + rng_below(&rng, 10 * dur + 1);
		}
		op->effect = rng_below(&rng, 2);
		t[c] = op->ret - 100;
		order[i] = op;
	}
	qsort(order, n, sizeof(*order), lin_cmp);
	for (i = 0; i < n; i++) {
		struct sim_op *op = order[i];

		if (op->f == HISTORY_BALANCE) {
			op->result = op - ops;
			memcpy(&reads[4 * op->result], bal, sizeof(bal));
			if (create && created == SIZE_MAX && i > n / 2) {
				reads[4 * op->result + 2]++;
				created = op->result;
			}
			continue;
		}
		if (bal[op->key] < op->b) {
			if (op->outcome == HISTORY_OK)
				op->outcome = HISTORY_FAIL;
			continue;
		}
		if (op->outcome == HISTORY_OK || op->effect) {
			bal[op->key] -= op->b;
			bal[op->a] += op->b;
		}
	}
	for (i = 0; i < n; i++) {
		ev[ne++] = (struct sim_event){ ops[i].call, i, true };
		ev[ne++] = (struct sim_event){ ops[i].ret, i, false };
	}
	qsort(ev, ne, sizeof(*ev), event_cmp);
	for (i = 0; i < ne; i++) {
		const struct sim_op *op = &ops[ev[i].op];
		struct history_event e = { .process = op->process,
					   .type = ev[i].invoke ? HISTORY_INVOKE : op->outcome,
					   .f = op->f,
					   .time = ev[i].time };

		if (op->f == HISTORY_TRANSFER) {
			snprintf(amt, sizeof(amt), "%ld", op->b);
			items[0] = (char *)names[op->key];
			items[1] = (char *)names[op->a];
			items[2] = amt;
			e.value = (struct history_value){ .kind = HISTORY_VALUE_LIST,
							  .items = items,
							  .n = 3 };
		} else if (!ev[i].invoke) {
			for (a = 0; a < 4; a++) {
				snprintf(nums[a], sizeof(nums[a]), "%ld",
					 reads[4 * op->result + a]);
				items[2 * a] = (char *)names[a];
				items[2 * a + 1] = nums[a];
			}
			e.value = (struct history_value){ .kind = HISTORY_VALUE_MAP,
							  .items = items,
							  .n = 4 };
		}
		assert_int_equal(history_append(h, &e), 0);
	}
	assert_int_equal(history_pair(h, &err), 0);
	if (create)
		assert_true(created != SIZE_MAX);
	free(ev);
	free(order);
	free(ops);
}

/* A read whose explanation needs a wide search: 19 transfers of unknown outcome from a0 to a1,
 * of 2, 4, ... 2^19, and a read that moved an odd amount, which no set of them explains. The
 * search must remember every one of the 2^19 sums to be sure: beyond the default bound
 * (undecided), within one of 64 MiB (the violation found). */
static void test_bank_memory_limit(void **state)
{
	struct bank_options opt = { .max_memory = 64u << 20 };
	struct history_error err = { 0 };
	struct bank_result res;
	struct history h;
	char *text = malloc(1 << 16);
	size_t used = 0;
	const int k = 19;
	const int64_t opening = 1 << 22, moved = (1 << k) + 1;
	uint64_t t = 0;

	(void)state;
	assert_non_null(text);
	used += snprintf(text + used, (1 << 16) - used,
			 "{\"process\":0,\"type\":\"invoke\",\"f\":\"open\",\"key\":\"a0\","
			 "\"value\":\"%lld\",\"time\":%llu}\n"
			 "{\"process\":0,\"type\":\"ok\",\"f\":\"open\",\"key\":\"a0\","
			 "\"value\":\"%lld\",\"time\":%llu}\n"
			 "{\"process\":0,\"type\":\"invoke\",\"f\":\"open\",\"key\":\"a1\","
			 "\"value\":\"0\",\"time\":%llu}\n"
			 "{\"process\":0,\"type\":\"ok\",\"f\":\"open\",\"key\":\"a1\","
			 "\"value\":\"0\",\"time\":%llu}\n",
			 (long long)opening, (unsigned long long)t + 1, (long long)opening,
			 (unsigned long long)t + 2, (unsigned long long)t + 3,
			 (unsigned long long)t + 4);
	t = 10;
	for (int i = 0; i < k; i++)
		used += snprintf(text + used, (1 << 16) - used,
				 "{\"process\":%d,\"type\":\"invoke\",\"f\":\"transfer\","
				 "\"key\":null,\"value\":[\"a0\",\"a1\",\"%lld\"],\"time\":%llu}\n",
				 10 + i, 2LL << i, (unsigned long long)t++);
	used += snprintf(text + used, (1 << 16) - used,
			 "{\"process\":1,\"type\":\"invoke\",\"f\":\"balance\",\"key\":null,"
			 "\"value\":null,\"time\":%llu}\n"
			 "{\"process\":1,\"type\":\"ok\",\"f\":\"balance\",\"key\":null,"
			 "\"value\":{\"a0\":\"%lld\",\"a1\":\"%lld\"},\"time\":%llu}\n",
			 (unsigned long long)t, (long long)(opening - moved), (long long)moved,
			 (unsigned long long)t + 1);
	history_init(&h);
	assert_int_equal(history_parse_buf(&h, text, used, &err), 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(bank_check(&h, NULL, &res, &err), 0);
	assert_true(res.valid);
	assert_int_equal(res.undecided, 1);
	bank_result_free(&res);
	assert_int_equal(bank_check(&h, &opt, &res, &err), 0);
	assert_false(res.valid);
	assert_int_equal(res.undecided, 0);
	assert_int_equal(res.n_violations, 1);
	assert_int_equal(res.violations[0].kind, BANK_TRANSFERS);
	bank_result_free(&res);
	/* A smaller memory than the default holds fewer: undecided again. */
	opt.max_memory = 1u << 20;
	assert_int_equal(bank_check(&h, &opt, &res, &err), 0);
	assert_int_equal(res.undecided, 1);
	bank_result_free(&res);
	history_free(&h);
	free(text);
}

static void test_bank_generated(void **state)
{
	struct history_error err = { 0 };
	struct bank_result res;
	struct history h;
	uint64_t seed;
	double t0;

	(void)state;
	for (seed = 1; seed <= 10; seed++) {
		current_seed = seed;
		bank_generate(&h, seed, 2000, 2 + seed % 8, false);
		t0 = monotonic_s();
		assert_int_equal(bank_check(&h, NULL, &res, &err), 0);
		if (!res.valid)
			print_message("    %s: %s\n",
				      bank_violation_kind_name(res.violations[0].kind),
				      res.violations[0].msg);
		CHECK(res.valid && !res.undecided && res.accounts == 4 && res.total == 400);
		CHECK(res.reads > 0 && res.transfers > 0);
		if (seed == 1)
			print_message("    bank: %zu ops, %zu reads, %.3f s\n", h.n_ops, res.reads,
				      monotonic_s() - t0);
		bank_result_free(&res);
		history_free(&h);

		bank_generate(&h, seed, 2000, 2 + seed % 8, true);
		assert_int_equal(bank_check(&h, NULL, &res, &err), 0);
		CHECK(!res.valid && res.n_violations == 1);
		CHECK(res.violations[0].kind == BANK_CONSERVATION);
		bank_result_free(&res);
		history_free(&h);
	}
	current_seed = 0;
}

/* One balance read against transfers before, during and after it, by brute force over every
 * subset of the ones that may have happened. */
static void test_bank_brute_force(void **state)
{
	static const char *names[3] = { "a", "b", "c" };
	struct history_error err = { 0 };
	struct bank_result res;
	size_t valid = 0, invalid = 0;
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 3000; seed++) {
		uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 7;
		int n = 1 + rng_below(&rng, 9), k, a, from[9], to[9], amt[9], kind[9];
		long bal[3] = { 200, 200, 200 }, read[3];
		unsigned mask, nmaybe = 0, maybe[9];
		char *text = NULL, *p;
		size_t len = 0;
		struct history h;
		bool expect = false;
		FILE *f = open_memstream(&text, &len);

		current_seed = seed;
		for (a = 0; a < 3; a++)
			fprintf(f, OPEN_FMT OPEN_OK_FMT, names[a], 2 * a + 1, names[a], 2 * a + 2);
		/* kind: 0 ok before the read, 1 ok during, 2 info, 3 fail, 4 invoked after. */
		for (k = 0; k < n; k++) {
			uint64_t call, ret;

			from[k] = rng_below(&rng, 3);
			to[k] = (from[k] + 1 + rng_below(&rng, 2)) % 3;
			amt[k] = 1 + rng_below(&rng, 20);
			kind[k] = rng_below(&rng, 5);
			call = kind[k] == 0 ? 10 : kind[k] == 4 ? 200 : 50 + rng_below(&rng, 40);
			/* One that completes ok during the read returns after its invoke (60). */
			ret = kind[k] == 0 ? 20 : 60 + rng_below(&rng, 100);
			if (ret <= call)
				ret = call + 1;
			fprintf(f, XFER_FMT, k + 1, "invoke", names[from[k]], names[to[k]], amt[k],
				(unsigned long long)call);
			fprintf(f, XFER_FMT, k + 1,
				kind[k] == 2 ? "info" :
				kind[k] == 3 ? "fail" :
					       "ok",
				names[from[k]], names[to[k]], amt[k], (unsigned long long)ret);
			if (kind[k] == 0) {
				bal[from[k]] -= amt[k];
				bal[to[k]] += amt[k];
			} else if (kind[k] == 1 || kind[k] == 2) {
				maybe[nmaybe++] = k;
			}
		}
		/* The read: some subset's effect, or that moved by a little. */
		memcpy(read, bal, sizeof(read));
		mask = rng_below(&rng, 1u << nmaybe);
		for (k = 0; k < (int)nmaybe; k++)
			if (mask & (1u << k)) {
				read[from[maybe[k]]] -= amt[maybe[k]];
				read[to[maybe[k]]] += amt[maybe[k]];
			}
		if (rng_below(&rng, 2)) {
			long d = 1 + rng_below(&rng, 15);

			read[0] -= d;
			read[1 + rng_below(&rng, 2)] += d;
		}
		fprintf(f,
			"{\"process\":99,\"type\":\"invoke\",\"f\":\"balance\",\"key\":null,"
			"\"value\":null,\"time\":60}\n"
			"{\"process\":99,\"type\":\"ok\",\"f\":\"balance\",\"key\":null,\"value\":"
			"{\"a\":\"%ld\",\"b\":\"%ld\",\"c\":\"%ld\"},\"time\":100}\n",
			read[0], read[1], read[2]);
		fclose(f);
		for (mask = 0; mask < (1u << nmaybe) && !expect; mask++) {
			long v[3];

			memcpy(v, bal, sizeof(v));
			for (k = 0; k < (int)nmaybe; k++)
				if (mask & (1u << k)) {
					v[from[maybe[k]]] -= amt[maybe[k]];
					v[to[maybe[k]]] += amt[maybe[k]];
				}
			expect = !memcmp(v, read, sizeof(v));
		}
		history_init(&h);
		p = text;
		if (history_parse_buf(&h, p, len, &err) || history_pair(&h, &err) ||
		    bank_check(&h, NULL, &res, &err))
			fail_msg("seed %llu: %ld: %s", current_seed, err.line, err.msg);
		CHECK(res.valid == expect && !res.undecided);
		if (!expect)
			CHECK(res.n_violations == 1 && res.violations[0].kind == BANK_TRANSFERS);
		valid += expect;
		invalid += !expect;
		bank_result_free(&res);
		history_free(&h);
		free(text);
	}
	current_seed = 0;
	print_message("    %zu explained, %zu not, all as brute force decides\n", valid, invalid);
	CHECK(valid > 500 && invalid > 500);
}

/* ---- AP ---- */

static void test_ap_report(void **state)
{
	struct history_error err = { 0 };
	struct ap_result res;
	struct history h;

	(void)state;
	/* Ops in invoke order: 0 w1, 1 w2, 2 r"1", 3 w3, 4 r"2", 5 w4, 6 r"2", 7 r"4", 8 r"4". */
	build(&h, "1 invoke write x 1 10\n1 ok write x 1 20\n"
		  "1 invoke write x 2 30\n1 ok write x 2 40\n"
		  "2 invoke read x - 50\n2 ok read x 1 60\n"
		  "1 invoke write x 3 70\n1 ok write x 3 80\n"
		  "2 invoke read x - 90\n2 ok read x 2 100\n"
		  "1 invoke write x 4 130\n1 ok write x 4 140\n"
		  "2 invoke read x - 150\n2 ok read x 2 160\n"
		  "2 invoke read x - 170\n2 ok read x 4 180\n"
		  "3 invoke read x - 190\n3 ok read x 4 200\n"
		  /* An info write may land any time: reading its value is never stale. */
		  "4 invoke write y 9 10\n4 info write y 9 20\n"
		  "4 invoke write y 8 30\n4 ok write y 8 40\n"
		  "5 invoke read y - 50\n5 ok read y 9 60\n");
	assert_int_equal(ap_report_register(&h, &res, &err), 0);
	assert_int_equal(res.n_keys, 2);
	assert_int_equal(res.reads, 6);
	/* r"1" after w2; r"2" after w3 (twice): stalest first. */
	assert_int_equal(res.n_stale, 3);
	assert_int_equal(res.stale_max_ns, 70);
	assert_int_equal(res.stale_median_ns, 10);
	assert_int_equal(res.stale[0].read, 6);
	assert_int_equal(res.stale[0].by, 3);
	assert_int_equal(res.stale[0].staleness, 70);
	/* w3 acknowledged, never read, and "2" read after it. */
	assert_int_equal(res.n_lost, 1);
	assert_int_equal(res.lost[0].write, 3);
	assert_int_equal(res.lost[0].read, 4);
	assert_string_equal(res.keys[0].key, "x");
	assert_string_equal(res.keys[0].final, "4");
	assert_int_equal(res.keys[0].converged_ns, 30);
	assert_int_equal(res.keys[0].disagreeing, 1);
	assert_string_equal(res.keys[1].key, "y");
	assert_string_equal(res.keys[1].final, "9");
	assert_int_equal(res.keys[1].converged_ns, 10);
	ap_result_free(&res);
	history_free(&h);
}

/* A linearizable history has nothing certainly stale or lost; the stale mutants do. */
static void test_ap_generated(void **state)
{
	struct history_error err = { 0 };
	struct ap_result res;
	struct history h;
	struct sim s;
	uint64_t seed;
	size_t i, j, k;

	(void)state;
	for (seed = 1; seed <= 20; seed++) {
		bool done = false;

		current_seed = seed;
		sim_generate(&s, seed, 500, 2 + seed % 8, 1 + seed % 3, seed % 3 * 5);
		sim_history(&s, &h);
		assert_int_equal(ap_report_register(&h, &res, &err), 0);
		CHECK(res.n_stale == 0 && res.n_lost == 0);
		ap_result_free(&res);
		history_free(&h);
		for (i = s.n / 3; i < s.n && !done; i++) {
			const struct sim_op *r = &s.ops[i];

			if (r->f != HISTORY_READ || r->outcome != HISTORY_OK)
				continue;
			for (j = 0; j < s.n && !done; j++) {
				const struct sim_op *w2 = &s.ops[j];

				if (w2->f != HISTORY_WRITE || w2->outcome != HISTORY_OK ||
				    w2->key != r->key || w2->ret >= r->call)
					continue;
				for (k = 0; k < s.n; k++) {
					const struct sim_op *w1 = &s.ops[k];

					if (w1->f != HISTORY_WRITE || w1->outcome != HISTORY_OK ||
					    w1->key != r->key || w1->ret >= w2->call ||
					    w1->a == r->result)
						continue;
					sim_history(&s, &h);
					set_result(&h, r->hop, w1->a);
					assert_int_equal(ap_report_register(&h, &res, &err), 0);
					CHECK(res.n_stale >= 1);
					ap_result_free(&res);
					history_free(&h);
					done = true;
					break;
				}
			}
		}
		CHECK(done);
		sim_free(&s);
	}
	current_seed = 0;
}

static void test_ap_bank(void **state)
{
	struct bank_options opt = { .ap = true };
	struct history_error err = { 0 };
	struct bank_result res;
	struct history h;

	(void)state;
	/* Overdrawn during a split and a stale read: reported, not violations. */
	assert_int_equal(parse_text(&h,
				    BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "160", "-10", 6)
					    XFER(1, "invoke", "a", "b", "30", 10)
						    XFER(1, "ok", "a", "b", "30", 20) BAL_INV(2, 30)
							    BAL_OK(2, "100", "50", 40),
				    &err),
			 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(bank_check(&h, &opt, &res, &err), 0);
	assert_true(res.valid);
	assert_int_equal(res.n_overdrafts, 1);
	assert_int_equal(res.overdrafts[0].line, 6);
	bank_result_free(&res);
	history_free(&h);
	/* Money is conserved on every replica all the same. */
	assert_int_equal(parse_text(&h, BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "100", "60", 6), &err),
			 0);
	assert_int_equal(history_pair(&h, &err), 0);
	assert_int_equal(bank_check(&h, &opt, &res, &err), 0);
	assert_false(res.valid);
	assert_int_equal(res.violations[0].kind, BANK_CONSERVATION);
	bank_result_free(&res);
	history_free(&h);
}

/* ---- The corpus ---- */

/* Histories with known verdicts, kept in the repository (tests/data/README.md says where they
 * come from); CAPNET_CHECKER_CORPUS points at another set. */
static const char *corpus_dir(void)
{
	const char *env = getenv("CAPNET_CHECKER_CORPUS");

	return env && *env ? env : CAPNET_TEST_DATA;
}

#define MAX_CORPUS 256

static char *corpus_files[MAX_CORPUS];
static size_t n_corpus;

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus directory and its subdirectories, one level deep. */
static void corpus_scan(const char *dir, int depth)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	char path[4096];

	if (!dp)
		return;
	while ((d = readdir(dp)) && n_corpus < MAX_CORPUS) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (len > 6 && !strcmp(d->d_name + len - 6, ".jsonl") &&
		    (!strncmp(d->d_name, "ok-", 3) || !strncmp(d->d_name, "bad-", 4)))
			corpus_files[n_corpus++] = strdup(path);
		else if (depth == 0)
			corpus_scan(path, 1);
	}
	closedir(dp);
}

static void test_corpus_file(void **state)
{
	const char *path = *state, *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool want_valid = !strncmp(base, "ok-", 3);
	struct history_error err = { 0 };
	struct lin_result res;
	struct history h;
	double t0 = monotonic_s();
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	history_init(&h);
	if (history_parse_file(&h, f, &err) || history_pair(&h, &err))
		fail_msg("%s:%ld: %s", path, err.line, err.msg);
	fclose(f);
	if (lin_check_register(&h, NULL, &res, &err))
		fail_msg("%s:%ld: %s", path, err.line, err.msg);
	print_message("    %-45s %5zu ops  %-13s %.3f s\n", base, h.n_ops,
		      res.verdict == LIN_VALID	   ? "linearizable" :
		      res.verdict == LIN_VIOLATION ? "violation" :
						     "undecided",
		      monotonic_s() - t0);
	if (want_valid && res.verdict != LIN_VALID)
		fail_msg("%s: expected linearizable", base);
	if (!want_valid && res.verdict != LIN_VIOLATION)
		fail_msg("%s: expected a violation", base);
	if (!want_valid) {
		/* The window is a real one: it holds the op that failed, which completed ok. */
		assert_true(res.n_window >= 1);
		assert_int_equal(h.ops[res.failed_op].outcome, HISTORY_OK);
	}
	lin_result_free(&res);
	history_free(&h);
}

/* The corpus is part of the repository: without it the checker is untested, which is a failure. */
static void test_corpus_missing(void **state)
{
	(void)state;
	fail_msg("no ok-*.jsonl or bad-*.jsonl histories found in %s", corpus_dir());
}

/* ---- capctl check, end to end ---- */

static int run_capctl_check(const char *text, const char *model)
{
	char path[] = "/tmp/capnet-test-history-XXXXXX";
	char *argv[] = { "check", "--model", (char *)model, path, NULL };
	int fd = mkstemp(path), rc, saved, saved_err;
	FILE *devnull;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* Its report is not what is tested here: out of the way. */
	fflush(stdout);
	fflush(stderr);
	saved = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	dup2(fileno(devnull), STDOUT_FILENO);
	dup2(fileno(devnull), STDERR_FILENO);
	capctl_opts = (struct capctl_opts){ .lab = "capnet", .json = true };
	rc = capctl_check_main(4, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved);
	close(saved_err);
	fclose(devnull);
	unlink(path);
	return rc;
}

static void test_capctl_check_exit_codes(void **state)
{
	char *argv[] = { "capctl", "--lab",	"l1",  "--json", "-v", "-n",
			 "3",	   "--timeout", "250", "check",	 NULL };
	char *bad[] = { "capctl", "-n", "0", "check", NULL };
	char *shared[] = { "capctl", "--lab=l2", "-j", "--consistency", "all", "--", "get", NULL };
	char *capnet_only[] = { "capctl", "--explain", "get", NULL };
	int next;

	(void)state;
	assert_int_equal(run_capctl_check(W1 W1OK, "register"), CAPCTL_OK);
	/* Nothing to check is an error, never a pass: a wiped file must not look valid. */
	assert_int_equal(run_capctl_check("", "register"), CAPCTL_USAGE);
	assert_int_equal(run_capctl_check("\n\n", "bank"), CAPCTL_USAGE);
	assert_int_equal(run_capctl_check("1 invoke", "register"), CAPCTL_USAGE);
	assert_int_equal(run_capctl_check("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\","
					  "\"key\":\"x\",\"value\":null,\"time\":1}\n"
					  "{\"process\":1,\"type\":\"ok\",\"f\":\"read\","
					  "\"key\":\"x\",\"value\":\"4\",\"time\":2}\n",
					  "register"),
			 CAPCTL_FAIL);
	assert_int_equal(run_capctl_check(BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "100", "50", 6),
					  "bank"),
			 CAPCTL_OK);
	assert_int_equal(run_capctl_check(BANK_OPEN BAL_INV(2, 5) BAL_OK(2, "90", "50", 6), "bank"),
			 CAPCTL_FAIL);
	assert_int_equal(run_capctl_check(W1 W1OK, "bank"), CAPCTL_USAGE);
	assert_int_equal(run_capctl_check(W1 W1OK, "sequential"), CAPCTL_USAGE);

	assert_int_equal(capctl_parse_globals(10, argv, &next), 0);
	assert_int_equal(next, 9);
	assert_string_equal(capctl_opts.lab, "l1");
	assert_true(capctl_opts.json);
	assert_int_equal(capctl_opts.verbose, 1);
	assert_int_equal(capctl_opts.node, 3);
	assert_int_equal(capctl_opts.timeout_ms, 250);
	assert_int_equal(capctl_parse_globals(4, bad, &next), -EINVAL);
	/* The spellings capnet and captrace take are capctl's too; --explain is capnet's alone. */
	assert_int_equal(capctl_parse_globals(7, shared, &next), 0);
	assert_int_equal(next, 6);
	assert_string_equal(capctl_opts.lab, "l2");
	assert_true(capctl_opts.json);
	assert_int_equal(capctl_opts.consistency, CONSISTENCY_ALL);
	assert_int_equal(capctl_opts.timeout_ms, 1000);
	assert_int_equal(capctl_parse_globals(3, capnet_only, &next), -EINVAL);
}

int main(void)
{
	struct CMUnitTest tests[20 + MAX_CORPUS] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_pair_errors),
		cmocka_unit_test(test_pair_and_write),
		cmocka_unit_test(test_register_basics),
		cmocka_unit_test(test_register_info),
		cmocka_unit_test(test_register_cas),
		cmocka_unit_test(test_register_keys),
		cmocka_unit_test(test_register_window),
		cmocka_unit_test(test_register_model_errors),
		cmocka_unit_test(test_generated_valid),
		cmocka_unit_test(test_generated_mutants),
		cmocka_unit_test(test_generated_large),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_search_limit),
		cmocka_unit_test(test_bank),
		cmocka_unit_test(test_bank_generated),
		cmocka_unit_test(test_bank_memory_limit),
		cmocka_unit_test(test_bank_brute_force),
		cmocka_unit_test(test_ap_report),
		cmocka_unit_test(test_ap_generated),
		cmocka_unit_test(test_ap_bank),
	};
	size_t n = 21, i;
	int rc;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_capctl_check_exit_codes);
	corpus_scan(corpus_dir(), 0);
	qsort(corpus_files, n_corpus, sizeof(*corpus_files), str_cmp);
	for (i = 0; i < n_corpus; i++) {
		const char *base = strrchr(corpus_files[i], '/') + 1;

		tests[n++] = (struct CMUnitTest){ .name = base,
						  .test_func = test_corpus_file,
						  .initial_state = corpus_files[i] };
	}
	if (!n_corpus)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_corpus_missing);
	rc = _cmocka_run_group_tests("test_checker", tests, n, NULL, NULL);
	for (i = 0; i < n_corpus; i++)
		free(corpus_files[i]);
	return rc;
}
