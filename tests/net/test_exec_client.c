// SPDX-License-Identifier: GPL-2.0-only
/* Root tests of capctl load --client exec against client programs that break the protocol in
 * every way the docs name (not executable, exits at once, never answers init, garbage, no id,
 * an id never asked, a 10 MB line, no answer, dies mid-run): each gets one clear line and info
 * outcomes, never a hang or a crash of capctl. A well-behaved program gives a history capctl
 * check decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/netlab.h"

static const char *lab;
static char out[1 << 16], dir[] = "/tmp/capnet-exec-XXXXXX", repo[4096], capctl[512];

static int setup(void **state)
{
	(void)state;
	if (!getcwd(repo, sizeof(repo)) || !mkdtemp(dir))
		return -1;
	netlab_sibling("capctl", capctl, sizeof(capctl));
	return netlab_capnet_checked(lab, out, sizeof(out), "up -n 2") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	netlab_sh(out, sizeof(out), "rm -rf %s", dir);
	return netlab_capnet(lab, out, sizeof(out), "down") ? -1 : 0;
}

/* capctl load through the test program in `mode`, `clients` clients (on nodes 1 and 2 in turn)
 * for `duration`; its exit status. */
static int load_with(const char *mode, unsigned int clients, const char *duration)
{
	int rc =
		netlab_sh(out, sizeof(out),
			  "timeout 60 %s --lab %s -q --timeout 300 load --client exec --clients %u "
			  "--duration %s --history %s/%s.jsonl -- %s/tests/net/"
			  "exec_misbehaving_client.py %s",
			  capctl, lab, clients, duration, dir, mode, repo, mode);

	printf("%s: exit %d\n%.2000s\n", mode, rc, out);
	return rc;
}

static int load(const char *mode, const char *duration)
{
	return load_with(mode, 2, duration);
}

/* How many lines of the mode's history say `what`. */
static long count(const char *mode, const char *what)
{
	netlab_sh(out, sizeof(out), "grep -c '%s' %s/%s.jsonl", what, dir, mode);
	return strtol(out, NULL, 10);
}

static void test_well_behaved(void **state)
{
	(void)state;
	/* One client: the register in its program's memory is the only one. */
	assert_int_equal(load_with("register", 1, "1s"), 0);
	assert_true(count("register", "\"type\":\"ok\"") > 10);
	assert_int_equal(count("register", "\"type\":\"info\""), 0);
	/* A register alone, with one client: linearizable. */
	assert_int_equal(netlab_sh(out, sizeof(out), "%s check --model register %s/register.jsonl",
				   capctl, dir),
			 0);
}

/* Refused before any client starts, with the reason, exit 1. */
static void test_refused_at_start(void **state)
{
	(void)state;
	assert_int_equal(netlab_sh(out, sizeof(out), "printf 'x' > %s/noexec && chmod -x %s/noexec",
				   dir, dir),
			 0);
	assert_int_equal(
		netlab_sh(out, sizeof(out),
			  "timeout 30 %s --lab %s load --client exec --duration 1 --history "
			  "%s/h.jsonl -- %s/noexec",
			  capctl, lab, dir, dir),
		1);
	assert_non_null(strstr(out, "cannot run"));
	assert_non_null(strstr(out, "Permission denied"));
	assert_int_equal(load("exit-at-once", "1s"), 1);
	assert_non_null(strstr(out, "exited with status 3"));
	assert_non_null(strstr(out, "giving up before init"));
	assert_int_equal(load("silent-init", "1s"), 1);
	assert_non_null(strstr(out, "did not answer init"));
	/* The usage: no program, a program for another client, a bad placeholder. */
	assert_int_equal(netlab_sh(out, sizeof(out), "%s --lab %s load --client exec --history x",
				   capctl, lab),
			 2);
	assert_non_null(strstr(out, "needs its program after --"));
	assert_int_equal(netlab_sh(out, sizeof(out), "%s --lab %s load --history x -- true", capctl,
				   lab),
			 2);
	assert_int_equal(netlab_sh(out, sizeof(out),
				   "%s --lab %s load --client exec --history x -- prog {nope}",
				   capctl, lab),
			 2);
	assert_non_null(strstr(out, "unknown placeholder"));
}

/* A program that breaks the protocol after init: every operation it was asked is info, each
 * program is replaced (a new process), and capctl names what it did with its stderr. */
static void broken(const char *mode, const char *said)
{
	assert_int_equal(load(mode, "1500ms"), 0);
	assert_non_null(strstr(out, said));
	assert_non_null(strstr(out, "its stderr ends"));
	assert_true(count(mode, "\"type\":\"info\"") >= 2);
	assert_int_equal(count(mode, "\"type\":\"ok\""), 0);
	netlab_sh(out, sizeof(out), "grep -o '\"process\":[0-9]*' %s/%s.jsonl | sort -u | wc -l",
		  dir, mode);
	assert_true(strtol(out, NULL, 10) >= 3);
}

static void test_garbage(void **state)
{
	(void)state;
	broken("garbage", "not JSON");
}

static void test_no_id(void **state)
{
	(void)state;
	broken("no-id", "without a numeric \"id\"");
}

static void test_wrong_id(void **state)
{
	(void)state;
	broken("wrong-id", "was never asked");
}

static void test_huge_line(void **state)
{
	(void)state;
	broken("huge-line", "wrote a line longer than");
}

/* No answer: a timeout, as a partition would make it; said in the history, not on stderr. */
static void test_silent(void **state)
{
	(void)state;
	assert_int_equal(load("silent", "1500ms"), 0);
	assert_true(count("silent", "no answer within 300 ms") >= 2);
	assert_int_equal(count("silent", "\"type\":\"ok\""), 0);
}

/* Dies after its third request: that one is info, named with its exit status and stderr, and a
 * new program goes on. */
static void test_dies(void **state)
{
	(void)state;
	assert_int_equal(load("dies", "1500ms"), 0);
	assert_non_null(strstr(out, "exited with status 4"));
	assert_non_null(strstr(out, "crashing on purpose"));
	assert_true(count("dies", "\"type\":\"info\"") >= 2);
	assert_true(count("dies", "\"type\":\"ok\"") >= 4);
}

/* Children that leave the program's process group (setsid) are ended with the load all the
 * same: capctl is their subreaper. */
static void test_strays_end_with_the_load(void **state)
{
	char strays[128];

	(void)state;
	snprintf(strays, sizeof(strays), "%s/strays", dir);
	assert_int_equal(netlab_sh(out, sizeof(out), "mkdir -p %s", strays), 0);
	setenv("STRAY_DIR", strays, 1);
	assert_int_equal(load("strays", "1s"), 0);
	unsetenv("STRAY_DIR");
	assert_int_equal(netlab_sh(out, sizeof(out), "ls %s | wc -l", strays), 0);
	assert_true(strtol(out, NULL, 10) > 0);
	netlab_sh(out, sizeof(out),
		  "cd %s && for p in *; do kill -0 $p 2>/dev/null && echo alive $p; done; true",
		  strays);
	if (strstr(out, "alive"))
		fail_msg("children of the client program outlived the load: %s", out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_behaved),
		cmocka_unit_test(test_refused_at_start),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_no_id),
		cmocka_unit_test(test_wrong_id),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_dies),
		cmocka_unit_test(test_strays_end_with_the_load),
	};

	(void)argc;
	netlab_require_root(argv[0]);
	lab = netlab_unique_lab("tx");
	return cmocka_run_group_tests(tests, setup, teardown);
}
