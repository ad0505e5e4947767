// SPDX-License-Identifier: GPL-2.0-only
/* Scenario scripts: what a good script becomes, and the line and reason of every bad one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netem/script/scenario.h"

static struct scenario sc;

static void test_good_script(void **state)
{
	const char *text = "# the five-node split\n"
			   "start cp\n"
			   "\n"
			   "load --clients 5 --duration 10s --history h.jsonl   # background\n"
			   "at 2s partition 1,2 3-5\n"
			   "at 2.5s expect-unavailable 1\n"
			   "at 2500ms expect-ok 3\n"
			   "at 5s kill -9 3\n"
			   "sleep 300ms\n"
			   "at 8s heal\n"
			   "wait\n"
			   "check register h.jsonl\n"
			   "report trace-dir\n";
	char err[256] = "";

	(void)state;
	assert_int_equal(scenario_parse(text, &sc, err, sizeof(err)), 0);
	assert_int_equal(sc.nsteps, 11);
	assert_int_equal(sc.steps[0].action, SCENARIO_CAPNET);
	assert_int_equal(sc.steps[0].argc, 3);
	assert_string_equal(sc.steps[0].argv[0], "start");
	assert_string_equal(sc.steps[0].argv[1], "--mode");
	assert_string_equal(sc.steps[0].argv[2], "cp");
	assert_null(sc.steps[0].argv[3]);
	assert_int_equal(sc.steps[0].at_ms, -1);
	assert_int_equal(sc.steps[0].line, 2);
	assert_int_equal(sc.steps[1].action, SCENARIO_LOAD);
	assert_int_equal(sc.steps[1].argc, 7);
	assert_int_equal(sc.steps[1].line, 4);
	assert_int_equal(sc.steps[2].at_ms, 2000);
	assert_string_equal(sc.steps[2].argv[1], "1,2");
	assert_int_equal(sc.steps[3].action, SCENARIO_EXPECT_UNAVAILABLE);
	assert_int_equal(sc.steps[3].at_ms, 2500);
	assert_int_equal(sc.steps[4].action, SCENARIO_EXPECT_OK);
	assert_int_equal(sc.steps[4].at_ms, 2500);
	assert_string_equal(sc.steps[5].argv[1], "-9");
	assert_int_equal(sc.steps[6].action, SCENARIO_SLEEP);
	assert_int_equal(sc.steps[6].sleep_ms, 300);
	assert_int_equal(sc.steps[8].action, SCENARIO_WAIT);
	assert_int_equal(sc.steps[9].action, SCENARIO_CHECK);
	assert_string_equal(sc.steps[9].argv[2], "h.jsonl");
	assert_int_equal(sc.steps[10].action, SCENARIO_REPORT);
	scenario_free(&sc);
}

static void expect_error(const char *text, const char *msg)
{
	char err[256] = "";

	assert_int_equal(scenario_parse(text, &sc, err, sizeof(err)), -EINVAL);
	if (strcmp(err, msg))
		fail_msg("for %s: got \"%s\", expected \"%s\"", text, err, msg);
}

static void test_errors_name_their_line(void **state)
{
	(void)state;
	expect_error("heal\nfrobnicate 3\n", "2: unknown action \"frobnicate\"");
	expect_error("at 5s heal\nat 2s heal\n", "2: at 2s comes before an earlier step's time");
	expect_error("at soon heal\n", "1: at needs a time and an action (at 2s heal)");
	expect_error("at 2s\n", "1: at needs a time and an action (at 2s heal)");
	expect_error("sleep\n", "1: sleep needs a time such as 2s or 500ms");
	expect_error("sleep -2s\n", "1: sleep needs a time such as 2s or 500ms");
	expect_error("check linear h\n",
		     "1: check needs a model (register, bank, set or append) and a history");
	expect_error("start -- sh -c 'echo\n", "1: a ' is not closed");
	expect_error("expect-ok 0\n", "1: expect-ok needs one node number");
	expect_error("wait now\n", "1: wait takes no arguments");
	expect_error("report\n", "1: report needs the directory a recording is in");
	expect_error("record trace\n",
		     "1: record needs a directory and a duration (record DIR --duration 10s)");
	expect_error("# only a comment\n\n", "the scenario has no steps");
}

/* Programs as services need words with blanks and empty words: '...' quotes them. */
static void test_quoted_words(void **state)
{
	static struct scenario sc;
	const char *text = "start 1 --name r -- redis-server --save '' --x 'a b#c'd # comment\n"
			   "exec 2 -- redis-cli replicaof no one\n"
			   "pause 3 --name r\n"
			   "check set s.jsonl\n"
			   "record trace-dir --duration 12s\n";
	char err[256] = "";

	(void)state;
	assert_int_equal(scenario_parse(text, &sc, err, sizeof(err)), 0);
	assert_int_equal(sc.nsteps, 5);
	assert_int_equal(sc.steps[4].action, SCENARIO_RECORD);
	assert_int_equal(sc.steps[0].argc, 10);
	assert_string_equal(sc.steps[0].argv[6], "--save");
	assert_string_equal(sc.steps[0].argv[7], "");
	assert_string_equal(sc.steps[0].argv[9], "a b#cd");
	assert_int_equal(sc.steps[1].action, SCENARIO_CAPNET);
	assert_string_equal(sc.steps[1].argv[0], "exec");
	assert_int_equal(sc.steps[2].action, SCENARIO_CAPNET);
	assert_int_equal(sc.steps[3].action, SCENARIO_CHECK);
	scenario_free(&sc);
}

static void test_times(void **state)
{
	(void)state;
	assert_int_equal(scenario_parse_time("2s"), 2000);
	assert_int_equal(scenario_parse_time("2"), 2000);
	assert_int_equal(scenario_parse_time("1.5s"), 1500);
	assert_int_equal(scenario_parse_time("250ms"), 250);
	assert_int_equal(scenario_parse_time("1m"), 60000);
	assert_int_equal(scenario_parse_time("0"), 0);
	assert_int_equal(scenario_parse_time("2h"), -1);
	assert_int_equal(scenario_parse_time(""), -1);
	assert_int_equal(scenario_parse_time("-1s"), -1);
	assert_int_equal(scenario_parse_time("s"), -1);
}

/* Two loads on one history file would corrupt it: refused at parse time, naming both lines. */
static void test_two_loads_one_history(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(scenario_parse("start cp\n"
					"load --clients 2 --duration 2s --history same.jsonl\n"
					"at 1s partition 1,2 3-5\n"
					"load --duration 2s --history=same.jsonl --clients 1\n",
					&sc, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "4: this load writes the history same.jsonl, as the load on line "
				 "2 does: give each load its own --history");
	assert_int_equal(scenario_parse("load --duration 2s --history a.jsonl\n"
					"load --duration 2s --history b.jsonl\n",
					&sc, err, sizeof(err)),
			 0);
	scenario_free(&sc);
}

/* A script naming a node the lab lacks is refused whole, before anything runs. */
static void test_nodes_checked(void **state)
{
	static const char *const too_big[] = {
		"partition 1,2 3-6\n",
		"at 1s kill -9 6\n",
		"cut 6 1\n",
		"link 1 7 --loss 20%\n",
		"clock 9 --offset +5s\n",
		"load --nodes 1-8 --duration 2s --history h.jsonl\n",
		"capctl -n 6 put k v\n",
		"expect-ok 6\n",
		"exec 6 -- true\n",
		"start 2,6 --name x -- sleep 1\n",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
		assert_int_equal(scenario_parse(too_big[i], &sc, err, sizeof(err)), 0);
		if (scenario_check_nodes(&sc, 5, err, sizeof(err)) != -ERANGE)
			fail_msg("accepted on 5 nodes: %s", too_big[i]);
		assert_int_equal(strncmp(err, "1: ", 3), 0);
		scenario_free(&sc);
	}
	/* Values that look like numbers are not nodes: a seed, a loss, a key's value, a
	 * program's own arguments. */
	assert_int_equal(
		scenario_parse("partition --preset random-halves --seed 77\n"
			       "link all all --loss 20 --dup 9\n"
			       "kill -9 5\n"
			       "clock 1-5 --offset -90\n"
			       "capctl -n 5 put k 99\n"
			       "start 5 --name x -- sleep 1000\n"
			       "load --nodes 1-5 --clients 12 --keys 9 --duration 8s --history h\n",
			       &sc, err, sizeof(err)),
		0);
	assert_int_equal(scenario_check_nodes(&sc, 5, err, sizeof(err)), 0);
	assert_int_equal(scenario_check_nodes(&sc, 4, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "3: capnet kill"));
	scenario_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_script),
		cmocka_unit_test(test_errors_name_their_line),
		cmocka_unit_test(test_quoted_words),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_two_loads_one_history),
		cmocka_unit_test(test_nodes_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
