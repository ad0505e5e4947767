// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of transaction histories brought from elsewhere: every history of tests/data/elle/
 * (Elle's published examples and our own) gives the anomalies and ruled-out models its VERDICTS
 * line says, and bad input gets one error with its line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/check/history_edn.h"
#include "tools/check/txn_history.h"

/* "G1c,G-single" or "-", of anomaly bits or model bits. */
static void names_of(unsigned int bits, int n, const char *(*name)(int), char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		if (bits & (1u << i))
			used += snprintf(buf + used, len - used, "%s%s", used ? "," : "", name(i));
	if (!used)
		snprintf(buf, len, "-");
}

static const char *anomaly(int a)
{
	return txn_anomaly_name(a);
}

static const char *model(int m)
{
	return txn_model_name(m);
}

static int check_file(const char *path, enum txn_kind kind, unsigned int models,
		      struct txn_result *r)
{
	struct history_error e = { 0 };
	struct txn_history h;
	FILE *f = fopen(path, "r");
	size_t len;
	char *text;
	int rc;

	assert_non_null(f);
	assert_int_equal(history_read_text(f, &text, &len), 0);
	fclose(f);
	txn_history_init(&h, kind);
	rc = txn_history_parse(&h, text, len, &e);
	if (rc)
		fail_msg("%s:%ld: %s", path, e.line, e.msg);
	rc = txn_check_named(kind, h.ops, h.n_ops, models, (const char *const *)h.names, h.n_names,
			     r);
	txn_history_free(&h);
	free(text);
	return rc;
}

static void test_verdicts(void **state)
{
	FILE *v = fopen(CAPNET_TEST_DATA "/elle/VERDICTS", "r");
	char line[512];
	int checked = 0;

	(void)state;
	assert_non_null(v);
	while (fgets(line, sizeof(line), v)) {
		char file[128], kind[32], asked[160], want_found[160], want_not[200];
		char path[300], found[400], not [400], *save = NULL;
		unsigned int models = 0, found_bits = 0;
		struct txn_result r;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%127s %31s %159s %159s %199s", file, kind, asked,
					want_found, want_not),
				 5);
		for (char *t = strtok_r(asked, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			assert_true(txn_model_parse(t) >= 0);
			models |= 1u << txn_model_parse(t);
		}
		snprintf(path, sizeof(path), "%s/elle/%s", CAPNET_TEST_DATA, file);
		assert_int_equal(check_file(path,
					    strcmp(kind, "list-append") ? TXN_RW_REGISTER :
									  TXN_LIST_APPEND,
					    models, &r),
				 0);
		for (int a = 0; a < TXN_ANOMALIES; a++)
			found_bits |= r.counts[a] ? 1u << a : 0;
		names_of(found_bits, TXN_ANOMALIES, anomaly, found, sizeof(found));
		names_of(txn_ruled_out(&r), TXN_MODELS, model, not, sizeof(not ));
		if (strcmp(found, want_found) || strcmp(not, want_not))
			fail_msg("%s (%s): found %s, ruling out %s; expected %s, ruling out %s",
				 file, kind, found, not, want_found, want_not);
		/* Every anomaly found comes with its cycle or its reads. */
		assert_true(r.n_evidence >= (found_bits ? 1u : 0u));
		checked++;
	}
	fclose(v);
	assert_true(checked >= 15);
}

static int parse(enum txn_kind kind, const char *text, struct history_error *e,
		 struct txn_history *h)
{
	txn_history_init(h, kind);
	return txn_history_parse(h, text, strlen(text), e);
}

static void expect_error(enum txn_kind kind, const char *text, long line, const char *msg)
{
	struct history_error e = { 0 };
	struct txn_history h;

	assert_int_equal(parse(kind, text, &e, &h), -EINVAL);
	assert_int_equal(e.line, line);
	if (!strstr(e.msg, msg))
		fail_msg("error \"%s\" does not say \"%s\"", e.msg, msg);
	txn_history_free(&h);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_error(TXN_LIST_APPEND, "{:type :ok, :value [[:w 1 2]]}", 1,
		     "a step of the rw-register model");
	expect_error(TXN_RW_REGISTER, "{:type :ok, :value [[:append 1 2]]}", 1,
		     "a step of the list-append model");
	expect_error(TXN_LIST_APPEND,
		     "{:type :invoke, :process 1, :value [[:append 1 2]]}\n"
		     "{:type :ok, :process 1, :value [[:append 1 3]]}",
		     2, "not those its invoke asked for");
	expect_error(TXN_LIST_APPEND,
		     "{:type :invoke, :process 1, :value [[:append 1 2]]}\n"
		     "{:type :invoke, :process 1, :value [[:append 1 3]]}",
		     2, "still open");
	expect_error(TXN_LIST_APPEND, "{:type :ok, :value [[:r 1 5]]}", 1, "reads a list");
	expect_error(TXN_LIST_APPEND, "{:type :done, :value []}", 1, ":type is");
	expect_error(TXN_LIST_APPEND, "{:type :ok, :value [[:r 1]]}", 1, "not [f k v]");
	expect_error(TXN_LIST_APPEND, "{:type :ok, :value [[:append 1.5 1]]}", 1, "a key is");
	expect_error(TXN_LIST_APPEND, "\n{\"type\":\"ok\",\"value\":[[\"append\",1,2]]\n", 2,
		     "column");
}

static void test_pairing_and_names(void **state)
{
	struct history_error e = { 0 };
	struct txn_history h;

	(void)state;
	/* JSON lines: an invoke, the nemesis skipped, a completion with its reads, one left open;
	 * :x and "x" are different keys. */
	assert_int_equal(
		parse(TXN_LIST_APPEND,
		      "{\"process\":3,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"x\",null]]}\n"
		      "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"partition\"}\n"
		      "{\"process\":3,\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"r\",\"x\",[7]]]}\n"
		      "{\"process\":4,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",\"x\",7]]}\n",
		      &e, &h),
		0);
	assert_int_equal(h.n_ops, 2);
	assert_int_equal(h.skipped, 1);
	assert_int_equal(h.ops[0].outcome, TXN_OK);
	assert_int_equal(h.ops[0].mops[0].n_list, 1);
	assert_int_equal(h.ops[0].mops[0].list[0], 7);
	assert_int_equal(h.ops[1].outcome, TXN_INFO);
	assert_int_equal(h.ops[1].complete_ns, UINT64_MAX);
	assert_int_equal(h.n_names, 1);
	assert_string_equal(h.names[0], "\"x\"");
	assert_true(h.ops[0].invoke_ns < h.ops[0].complete_ns);
	assert_true(h.ops[0].complete_ns < h.ops[1].invoke_ns);
	txn_history_free(&h);
	assert_int_equal(parse(TXN_RW_REGISTER,
			       "[{:type :ok, :value [[:w :x 1] [:w \"x\" 2] [:r :x :a]]}]", &e, &h),
			 0);
	assert_int_equal(h.n_ops, 1);
	assert_int_equal(h.n_names, 3);
	assert_int_not_equal(h.ops[0].mops[0].key, h.ops[0].mops[1].key);
	assert_int_equal(h.ops[0].mops[0].key, h.ops[0].mops[2].key);
	assert_int_equal(h.ops[0].mops[2].value, TXN_NAMED + 2);
	txn_history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_pairing_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
