// SPDX-License-Identifier: GPL-2.0-only
/* Scenario scripts: tokenizing, times, and checking every line before anything runs. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "netem/script/nemesis.h"
#include "netem/script/scenario.h"
#include "netem/policy/spec.h"

static const char *const capnet_commands[] = { "partition", "cut",  "heal",    "link",	"start",
					       "stop",	    "kill", "restart", "pause", "resume",
					       "status",    "exec", "clock",   NULL };

const char *scenario_action_name(enum scenario_action a)
{
	switch (a) {
	case SCENARIO_CAPNET:
		return "capnet";
	case SCENARIO_LOAD:
		return "load";
	case SCENARIO_WAIT:
		return "wait";
	case SCENARIO_SLEEP:
		return "sleep";
	case SCENARIO_CHECK:
		return "check";
	case SCENARIO_EXPECT_VIOLATION:
		return "expect-violation";
	case SCENARIO_EXPECT_UNAVAILABLE:
		return "expect-unavailable";
	case SCENARIO_EXPECT_OK:
		return "expect-ok";
	case SCENARIO_REPORT:
		return "report";
	case SCENARIO_RECORD:
		return "record";
	case SCENARIO_NEMESIS:
		return "nemesis";
	case SCENARIO_CAPCTL:
		return "capctl";
	case SCENARIO_EXPECT_LOST:
		return "expect-lost-writes";
	}
	return "?";
}

long scenario_parse_time(const char *text)
{
	uint64_t ns;

	if (duration_parse_ns(text, DURATION_BARE_SECONDS, &ns) || ns > 86400000000000ull)
		return -1;
	return (long)((ns + 500000) / 1000000);
}

static bool is_capnet_command(const char *word)
{
	int i;

	for (i = 0; capnet_commands[i]; i++)
		if (!strcmp(word, capnet_commands[i]))
			return true;
	return false;
}

/* Splits a line in place on blanks; `#` starts a comment; '...' quotes blanks, `#` and an empty
 * word, as in the shell (no escapes inside). -1: too many words; -2: a quote left open. */
static int tokenize(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line, *out;

	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (argc == max)
			return -1;
		argv[argc++] = out = p;
		/* The word is rewritten in place without its quotes: out never passes p. */
		while (*p && !isspace((unsigned char)*p)) {
			if (*p != '\'') {
				*out++ = *p++;
				continue;
			}
			for (p++; *p && *p != '\''; p++)
				*out++ = *p;
			if (!*p)
				return -2;
			p++;
		}
		if (*p)
			p++;
		*out = 0;
	}
	argv[argc] = NULL;
	return argc;
}

static bool node_number(const char *text)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	return *text && !*end && v >= 1 && v <= 1000;
}

static int parse_step(struct scenario_step *st, int argc, char **argv, char *err, size_t errlen)
{
	const char *verb = argv[0];
	int i;

	if (is_capnet_command(verb)) {
		st->action = SCENARIO_CAPNET;
	} else if (!strcmp(verb, "load")) {
		st->action = SCENARIO_LOAD;
	} else if (!strcmp(verb, "wait")) {
		st->action = SCENARIO_WAIT;
		if (argc != 1) {
			snprintf(err, errlen, "wait takes no arguments");
			return -EINVAL;
		}
	} else if (!strcmp(verb, "sleep")) {
		st->action = SCENARIO_SLEEP;
		if (argc != 2 || (st->sleep_ms = scenario_parse_time(argv[1])) < 0) {
			snprintf(err, errlen, "sleep needs a time such as 2s or 500ms");
			return -EINVAL;
		}
	} else if (!strcmp(verb, "check") || !strcmp(verb, "expect-violation")) {
		st->action = verb[0] == 'c' ? SCENARIO_CHECK : SCENARIO_EXPECT_VIOLATION;
		if (argc != 3 || (strcmp(argv[1], "register") && strcmp(argv[1], "bank") &&
				  strcmp(argv[1], "set") && strcmp(argv[1], "append"))) {
			snprintf(err, errlen,
				 "%s needs a model (register, bank, set or append) and a history",
				 verb);
			return -EINVAL;
		}
	} else if (!strcmp(verb, "expect-unavailable") || !strcmp(verb, "expect-ok")) {
		st->action = verb[7] == 'u' ? SCENARIO_EXPECT_UNAVAILABLE : SCENARIO_EXPECT_OK;
		if (argc != 2 || !node_number(argv[1])) {
			snprintf(err, errlen, "%s needs one node number", verb);
			return -EINVAL;
		}
	} else if (!strcmp(verb, "record")) {
		st->action = SCENARIO_RECORD;
		if (argc != 4 || strcmp(argv[2], "--duration") ||
		    scenario_parse_time(argv[3]) < 0) {
			snprintf(
				err, errlen,
				"record needs a directory and a duration (record DIR --duration 10s)");
			return -EINVAL;
		}
	} else if (!strcmp(verb, "nemesis")) {
		struct nemesis_plan plan;

		st->action = SCENARIO_NEMESIS;
		if (nemesis_parse(argc - 1, argv + 1, &plan, err, errlen))
			return -EINVAL;
	} else if (!strcmp(verb, "report")) {
		st->action = SCENARIO_REPORT;
		if (argc != 2) {
			snprintf(err, errlen, "report needs the directory a recording is in");
			return -EINVAL;
		}
	} else if (!strcmp(verb, "capctl")) {
		st->action = SCENARIO_CAPCTL;
		if (argc < 2) {
			snprintf(err, errlen, "capctl needs a command (capctl -n 1 put k v)");
			return -EINVAL;
		}
	} else if (!strcmp(verb, "expect-lost-writes")) {
		st->action = SCENARIO_EXPECT_LOST;
		if (argc != 2) {
			snprintf(err, errlen, "expect-lost-writes needs a register history");
			return -EINVAL;
		}
	} else {
		snprintf(err, errlen, "unknown action \"%.40s\"", verb);
		return -EINVAL;
	}
	/* `start cp` reads better in a script than `start --mode cp`. */
	if (st->action == SCENARIO_CAPNET && !strcmp(verb, "start") && argc >= 2 &&
	    (!strcmp(argv[1], "cp") || !strcmp(argv[1], "ap"))) {
		if (argc + 1 > SCENARIO_MAX_ARGS) {
			snprintf(err, errlen, "too many words");
			return -EINVAL;
		}
		for (i = argc; i >= 1; i--)
			st->argv[i + 1] = st->argv[i];
		st->argv[1] = (char *)"--mode";
		st->argc++;
	}
	return 0;
}

void scenario_faults_path(const char *history, char *buf, size_t len)
{
	size_t n = strlen(history);

	if (n > 6 && !strcmp(history + n - 6, ".jsonl"))
		n -= 6;
	snprintf(buf, len, "%.*s.faults.jsonl", (int)n, history);
}

const char *scenario_load_history(const struct scenario_step *st)
{
	int i;

	if (st->action != SCENARIO_LOAD)
		return NULL;
	for (i = 1; i < st->argc; i++) {
		if (!strcmp(st->argv[i], "--history") && i + 1 < st->argc)
			return st->argv[i + 1];
		if (!strncmp(st->argv[i], "--history=", 10))
			return st->argv[i] + 10;
	}
	return NULL;
}

/* Options of capnet's commands and of capctl load that take a value, which is no node list. */
static const char *const valued_options[] = {
	"--preset",  "--seed",	   "--loss",	 "--dup",    "--corrupt",      "--corrupt-payload",
	"--only",    "--except",   "--delay",	 "--jitter", "--distribution", "--rate",
	"--name",    "--mode",	   "--dir",	 "--offset", "--strobe",       "--history",
	"--clients", "--duration", "--workload", "--keys",   "--consistency",  "--client",
	"--timeout", "--process",  "--key-file", "--settle", "--wait-port",    NULL,
};

static bool takes_value(const char *opt)
{
	for (const char *const *o = valued_options; *o; o++)
		if (!strcmp(opt, *o))
			return true;
	return false;
}

/* "1", "2,3", "4-6", "all": a word that can only be a node list. */
static bool looks_like_nodes(const char *w)
{
	return *w && (!strcmp(w, "all") ||
		      (isdigit((unsigned char)w[0]) && strspn(w, "0123456789,-") == strlen(w)));
}

/* only_options: a capctl request, whose own words (a key, a value) are no node lists. */
static int check_words(const struct scenario_step *st, int from, bool only_options,
		       unsigned int nodes, char *err, size_t errlen)
{
	struct node_set set;
	struct spec_error e;
	int i;

	for (i = from; i < st->argc; i++) {
		const char *w = st->argv[i];

		if (!strcmp(w, "--"))
			break; /* a program's own arguments */
		if (!strcmp(w, "--nodes") || !strcmp(w, "-n")) {
			if (i + 1 < st->argc && nodeset_parse(st->argv[i + 1], nodes, &set, &e))
				goto bad;
			i++;
			continue;
		}
		if (w[0] == '-') {
			if (takes_value(w))
				i++;
			continue;
		}
		if (!only_options && looks_like_nodes(w) && nodeset_parse(w, nodes, &set, &e))
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "%u: %s %s: %s", st->line, scenario_action_name(st->action),
		 st->argv[0], e.msg);
	return -ERANGE;
}

int scenario_check_nodes(const struct scenario *sc, unsigned int nodes, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	for (i = 0; i < sc->nsteps; i++) {
		const struct scenario_step *st = &sc->steps[i];

		switch (st->action) {
		case SCENARIO_CAPNET:
		case SCENARIO_LOAD:
		case SCENARIO_CAPCTL:
		case SCENARIO_EXPECT_OK:
		case SCENARIO_EXPECT_UNAVAILABLE:
			rc = check_words(st, 1, st->action == SCENARIO_CAPCTL, nodes, err, errlen);
			if (rc)
				return rc;
			break;
		default:
			break;
		}
	}
	return 0;
}

const char *scenario_capctl_history(const struct scenario_step *st)
{
	int i;

	if (st->action != SCENARIO_CAPCTL)
		return NULL;
	for (i = 1; i + 1 < st->argc; i++)
		if (!strcmp(st->argv[i], "--history"))
			return st->argv[i + 1];
	return NULL;
}

/* Two loads writing one history would interleave their lines into a file no checker can
 * trust: refused when the script is read, naming both lines. */
static int check_histories(const struct scenario *sc, char *err, size_t errlen)
{
	unsigned int i, j;

	for (i = 0; i < sc->nsteps; i++) {
		const char *h = scenario_load_history(&sc->steps[i]);

		for (j = 0; h && j < i; j++) {
			const char *other = scenario_load_history(&sc->steps[j]);

			if (other && !strcmp(h, other)) {
				snprintf(err, errlen,
					 "%u: this load writes the history %s, as the load on line "
					 "%u does: give each load its own --history",
					 sc->steps[i].line, h, sc->steps[j].line);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int scenario_parse(const char *text, struct scenario *sc, char *err, size_t errlen)
{
	char *line, *next, *argv[SCENARIO_MAX_ARGS + 2];
	unsigned int lineno = 0;
	long last_at = 0;
	int argc, i, rc;

	memset(sc, 0, sizeof(*sc));
	sc->text = strdup(text);
	if (!sc->text)
		return -ENOMEM;
	for (line = sc->text; line; line = next) {
		struct scenario_step *st;
		char msg[200];
		int first = 0;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		argc = tokenize(line, argv, SCENARIO_MAX_ARGS + 1);
		if (argc == -2) {
			snprintf(err, errlen, "%u: a ' is not closed", lineno);
			goto fail;
		}
		if (argc < 0) {
			snprintf(err, errlen, "%u: more than %d words", lineno, SCENARIO_MAX_ARGS);
			goto fail;
		}
		if (!argc)
			continue;
		if (sc->nsteps == SCENARIO_MAX_STEPS) {
			snprintf(err, errlen, "%u: more than %d steps", lineno, SCENARIO_MAX_STEPS);
			goto fail;
		}
		st = &sc->steps[sc->nsteps];
		st->line = lineno;
		st->at_ms = -1;
		if (!strcmp(argv[0], "at")) {
			if (argc < 3 || (st->at_ms = scenario_parse_time(argv[1])) < 0) {
				snprintf(err, errlen,
					 "%u: at needs a time and an action (at 2s heal)", lineno);
				goto fail;
			}
			if (st->at_ms < last_at) {
				snprintf(err, errlen,
					 "%u: at %s comes before an earlier step's time", lineno,
					 argv[1]);
				goto fail;
			}
			last_at = st->at_ms;
			first = 2;
		}
		st->argc = argc - first;
		for (i = 0; i < st->argc; i++)
			st->argv[i] = argv[first + i];
		st->argv[st->argc] = NULL;
		rc = parse_step(st, st->argc, st->argv, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%u: %s", lineno, msg);
			goto fail;
		}
		sc->nsteps++;
	}
	if (!sc->nsteps) {
		snprintf(err, errlen, "the scenario has no steps");
		goto fail;
	}
	if (check_histories(sc, err, errlen))
		goto fail;
	return 0;
fail:
	scenario_free(sc);
	return -EINVAL;
}

void scenario_free(struct scenario *sc)
{
	free(sc->text);
	sc->text = NULL;
	sc->nsteps = 0;
}
