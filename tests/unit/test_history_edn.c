// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of EDN histories: the reader's values and its errors (with line and column), the
 * Knossos corpus as Knossos ships it giving the verdicts of our converted copy, jepsen.independent
 * tuples, and the round trip JSON lines -> EDN -> history with the run's faults as :nemesis. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/edn.h"
#include "tools/check/history.h"
#include "tools/check/history_edn.h"
#include "tools/check/linearizability.h"

static int read_one(const char *text, struct edn_value *v, struct edn_error *e)
{
	struct edn_reader r;

	edn_reader_init(&r, text, strlen(text), 16);
	return edn_read(&r, v, e);
}

static void test_reader_values(void **state)
{
	struct edn_value v;
	struct edn_error e;
	struct edn_reader r;
	const char *text = "; a comment\n{:a 1, :b [nil true -2 3.5e2 \"x\\ny\\u00e9\"] "
			   ":c #{:k sym} :d (1 2) :e \\a :f #_ 99 42N :g #inst \"2026\"}\n7";

	(void)state;
	edn_reader_init(&r, text, strlen(text), 16);
	assert_int_equal(edn_read(&r, &v, &e), 1);
	assert_int_equal(v.kind, EDN_MAP);
	assert_int_equal(v.n, 14);
	assert_int_equal(v.line, 2);
	assert_string_equal(edn_get(&v, "a")->text, "1");
	assert_int_equal(edn_get(&v, "b")->n, 5);
	assert_int_equal(edn_get(&v, "b")->items[0].kind, EDN_NIL);
	assert_true(edn_get(&v, "b")->items[1].b);
	assert_string_equal(edn_get(&v, "b")->items[2].text, "-2");
	assert_int_equal(edn_get(&v, "b")->items[3].kind, EDN_FLOAT);
	assert_string_equal(edn_get(&v, "b")->items[4].text, "x\ny\xc3\xa9");
	assert_int_equal(edn_get(&v, "c")->kind, EDN_SET);
	assert_true(edn_is_keyword(&edn_get(&v, "c")->items[0], "k"));
	assert_int_equal(edn_get(&v, "d")->kind, EDN_LIST);
	assert_string_equal(edn_get(&v, "e")->text, "a");
	/* #_ discards the next value: :f's value is 42. */
	assert_string_equal(edn_get(&v, "f")->text, "42");
	assert_int_equal(edn_get(&v, "g")->kind, EDN_TAGGED);
	assert_string_equal(edn_get(&v, "g")->text, "inst");
	edn_value_free(&v);
	assert_int_equal(edn_read(&r, &v, &e), 1);
	assert_string_equal(v.text, "7");
	edn_value_free(&v);
	assert_int_equal(edn_read(&r, &v, &e), 0);
}

static void refused(const char *text, long line, long column, const char *says)
{
	struct edn_value v;
	struct edn_error e;

	assert_int_equal(read_one(text, &v, &e), -EINVAL);
	if (e.line != line || e.column != column || !strstr(e.msg, says))
		fail_msg("\"%s\": %ld:%ld %s, not %ld:%ld %s", text, e.line, e.column, e.msg, line,
			 column, says);
}

static void test_reader_errors(void **state)
{
	struct edn_value v;
	struct edn_error e;

	(void)state;
	refused("[1 2", 1, 1, "never closed");
	refused("{:a 1\n :b}", 1, 1, "a key and no value");
	refused("[1\n 2)", 2, 3, "where ']' was expected");
	refused("\"abc", 1, 1, "never ends");
	refused("\"a\\qb\"", 1, 3, "unknown escape");
	refused("[01]", 1, 2, "leading zero");
	refused("[1x]", 1, 2, "not a number");
	refused("]", 1, 1, "closes nothing");
	refused(":", 1, 1, "a keyword needs a name");
	refused("#", 1, 1, "needs a tag");
	refused("[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]", 1, 17, "nested more than 16 deep");
	assert_int_equal(read_one("", &v, &e), 0);
	assert_int_equal(read_one("  ; nothing\n", &v, &e), 0);
	{
		static const char nul[] = "[1\n2 \0]";
		struct edn_reader r;

		edn_reader_init(&r, nul, sizeof(nul) - 1, 16);
		assert_int_equal(edn_read(&r, &v, &e), -EINVAL);
		assert_int_equal(e.line, 2);
		assert_int_equal(e.column, 3);
	}
}

static int parse(const char *text, struct history *h, struct history_error *e)
{
	history_init(h);
	return history_parse_edn(h, text, strlen(text), e);
}

/* What Jepsen's files may hold besides maps: a ; comment, a #_ form discarded, a map spread
 * over lines. Each is taken for EDN (never for JSON lines) and read as the same two events. */
static void test_comments_and_discards(void **state)
{
	static const char *const texts[] = {
		"; a Jepsen history\n"
		"{:type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
		"{:type :ok, :f :write, :value 1, :process 0, :time 2}\n",
		"#_{:type :invoke, :f :read, :process 9}\n"
		"{:type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
		"{:type :ok, :f :write, :value 1, :process 0, :time 2}\n",
		"{; the first\n :type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
		"{#_ :x :type :ok, :f :write, :value 1, :process 0, :time 2}\n",
		"{\n :type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
		"{:type :ok, :f :write, :value 1, :process 0, :time 2} ; done\n",
		"[; ops\n{:type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
		"#_ {:gone 1} {:type :ok, :f :write, :value 1, :process 0, :time 2}]\n",
	};
	struct history_error e = { 0 };
	struct history h;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		FILE *f = fmemopen((void *)texts[i], strlen(texts[i]), "r");

		assert_non_null(f);
		assert_true(history_looks_edn(texts[i], strlen(texts[i])));
		history_init(&h);
		if (history_read_any(&h, f, &e))
			fail_msg("text %zu: %ld: %s", i, e.line, e.msg);
		fclose(f);
		assert_int_equal(h.n_events, 2);
		assert_int_equal(h.events[0].type, HISTORY_INVOKE);
		assert_int_equal(h.events[1].type, HISTORY_OK);
		assert_int_equal(h.events[1].time, 2);
		history_free(&h);
	}
	/* JSON lines stay JSON lines. */
	assert_false(history_looks_edn("{\"process\":0}\n", 14));
	assert_false(history_looks_edn("\n  {}\n", 6));
}

static void test_history_shapes(void **state)
{
	struct history_error e = { 0 };
	struct history h;

	(void)state;
	/* jepsen.independent: [k v], cas [k [old new]]; the nemesis is left out. */
	assert_int_equal(
		parse("{:process 0, :type :invoke, :f :write, :value [\"x\" 5], :time 10}\n"
		      "{:process :nemesis, :type :info, :f :start, :value nil, :time 11}\n"
		      "{:process 0, :type :ok, :f :write, :value [\"x\" 5], :time 12}\n"
		      "{:process 1, :type :invoke, :f :cas, :value [7 [5 6]], :time 13}\n",
		      &h, &e),
		0);
	assert_int_equal(h.n_events, 3);
	assert_string_equal(h.events[0].key, "x");
	assert_string_equal(h.events[0].value.str, "5");
	assert_int_equal(h.events[1].time, 12);
	assert_string_equal(h.events[2].key, "7");
	assert_int_equal(h.events[2].value.kind, HISTORY_VALUE_LIST);
	assert_string_equal(h.events[2].value.items[1], "6");
	history_free(&h);
	/* Plain: one register "r", times from the order when there are none. */
	assert_int_equal(parse("[{:process 0 :type :invoke :f :cas :value [1 2]}\n"
			       " {:process 0 :type :fail :f :cas :value [1 2]}]",
			       &h, &e),
			 0);
	assert_string_equal(h.events[0].key, "r");
	assert_int_equal(h.events[1].time, 2000);
	history_free(&h);
	/* Refusals, at their line and column. */
	assert_int_equal(parse("{:process 0 :type :invoke :f :write :value 1}\n{:type :ok}\n", &h,
			       &e),
			 -EINVAL);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "without :process"));
	history_free(&h);
	assert_int_equal(parse("{:process 0 :type :begin :f :write :value 1}", &h, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "column 19: :type is"));
	history_free(&h);
	assert_int_equal(parse("{:process 0 :type :ok :f :write :value 1 :time 5}\n"
			       "{:process 0 :type :ok :f :write :value 1}",
			       &h, &e),
			 -EINVAL);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "some operations have a :time"));
	history_free(&h);
	assert_int_equal(parse("{:process -1 :type :ok :f :write :value 1}", &h, &e), -EINVAL);
	history_free(&h);
}

/* The Knossos corpus in EDN, as Knossos ships it: the same verdict as our converted copy. */
static void test_knossos_corpus(void **state)
{
	const char *dir = CAPNET_TEST_DATA "/knossos-edn";
	struct dirent *d;
	DIR *dp = opendir(dir);
	size_t files = 0;

	(void)state;
	assert_non_null(dp);
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);
		struct history_error e = { 0 };
		struct lin_result res;
		struct history h;
		char path[4096];
		bool want_valid;
		FILE *f;

		if (len < 5 || strcmp(d->d_name + len - 4, ".edn"))
			continue;
		want_valid = !strncmp(d->d_name, "ok-", 3);
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		history_init(&h);
		if (history_read_any(&h, f, &e) || history_pair(&h, &e))
			fail_msg("%s:%ld: %s", path, e.line, e.msg);
		fclose(f);
		if (lin_check_register(&h, NULL, &res, &e))
			fail_msg("%s:%ld: %s", path, e.line, e.msg);
		if (res.verdict != (want_valid ? LIN_VALID : LIN_VIOLATION))
			fail_msg("%s: expected %s", d->d_name,
				 want_valid ? "linearizable" : "a violation");
		lin_result_free(&res);
		history_free(&h);
		files++;
	}
	closedir(dp);
	print_message("    %zu EDN histories agree with their converted copies\n", files);
	assert_int_equal(files, 19);
}

/* capnet's history to EDN and back: the same events, times rebased to the first, and the run's
 * faults written as :nemesis operations that reading leaves out. */
static void test_round_trip(void **state)
{
	static const char jsonl[] =
		"{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\\\"1\",\"value\":\"a b\","
		"\"time\":5000}\n"
		"{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\\\"1\",\"value\":\"a b\","
		"\"time\":6000}\n"
		"{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[null,\"x\"],"
		"\"time\":7000}\n"
		"{\"process\":1,\"type\":\"info\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[null,\"x\"],"
		"\"time\":9000}\n"
		"{\"process\":2,\"type\":\"invoke\",\"f\":\"add\",\"key\":\"s\",\"value\":\"e\",\"time\":9500}\n"
		"{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"key\":\"s\",\"value\":[\"e\",\"f\"],"
		"\"time\":9600}\n";
	const struct history_fault faults[] = { { 6500, "partition", "1 | 2-5" },
						{ 20000, "heal", "" } };
	struct history_error e = { 0 };
	struct history a, b;
	char *edn = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	history_init(&a);
	assert_int_equal(history_parse_buf(&a, jsonl, sizeof(jsonl) - 1, &e), 0);
	f = open_memstream(&edn, &len);
	assert_int_equal(history_write_edn(f, &a, faults, 2, &e), 0);
	fclose(f);
	assert_non_null(strstr(edn, "{:type :info, :f :partition, :value \"1 | 2-5\", :process "
				    ":nemesis, :time 1500, :index 2}"));
	assert_non_null(strstr(edn, ":index 7}\n"));
	assert_true(history_looks_edn(edn, len));
	assert_int_equal(parse(edn, &b, &e), 0);
	assert_int_equal(b.n_events, a.n_events);
	for (size_t i = 0; i < a.n_events; i++) {
		const struct history_event *x = &a.events[i], *y = &b.events[i];

		assert_int_equal(x->process, y->process);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->f, y->f);
		assert_string_equal(x->key, y->key);
		assert_int_equal(x->time - 5000, y->time);
		assert_int_equal(x->value.kind, y->value.kind);
		if (x->value.kind == HISTORY_VALUE_STRING)
			assert_string_equal(x->value.str, y->value.str);
		for (size_t k = 0; x->value.kind == HISTORY_VALUE_LIST && k < x->value.n; k++)
			if (x->value.items[k])
				assert_string_equal(x->value.items[k], y->value.items[k]);
			else
				assert_null(y->value.items[k]);
	}
	free(edn);
	history_free(&a);
	history_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_values),  cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_history_shapes), cmocka_unit_test(test_knossos_corpus),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_comments_and_discards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
