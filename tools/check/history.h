/* SPDX-License-Identifier: GPL-2.0-only */
/* Histories: the JSON-lines record of every invoke and completion a workload saw
 * (docs/history-format.md). Parsing, pairing invokes with completions, and writing. */
#ifndef CAPNET_HISTORY_H
#define CAPNET_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum history_type {
	HISTORY_INVOKE,
	HISTORY_OK,
	HISTORY_FAIL,
	HISTORY_INFO, /* outcome unknown */
};

enum history_f {
	HISTORY_READ,
	HISTORY_WRITE,
	HISTORY_CAS,
	HISTORY_TRANSFER,
	HISTORY_BALANCE,
	HISTORY_OPEN,
	HISTORY_ADD, /* set: add one element */
	HISTORY_APPEND, /* list: append one value */
};

enum history_value_kind {
	HISTORY_VALUE_NULL,
	HISTORY_VALUE_STRING,
	HISTORY_VALUE_LIST, /* items: n strings, NULL for a JSON null */
	HISTORY_VALUE_MAP, /* items: n names then their values, as items[2i], items[2i+1] */
};

struct history_value {
	enum history_value_kind kind;
	char *str;
	char **items;
	size_t n;
};

struct history_event {
	long line; /* 1-based line in the input; 0 for events built in memory */
	uint64_t process;
	enum history_type type;
	enum history_f f;
	char *key; /* NULL for a JSON null */
	struct history_value value;
	uint64_t time; /* nanoseconds */
	uint64_t node; /* the optional "node" field, the node asked; 0 when absent */
	/* The optional "epsilon" field: the clock that stamped `time` is within this many
	 * nanoseconds of the history's reference clock (a lab across hosts); 0 when absent. */
	uint64_t epsilon;
};

/* One operation: an invoke and what became of it. */
struct history_op {
	size_t invoke; /* index of the invoke event */
	size_t complete; /* index of the completion, or HISTORY_OPEN_END when none was recorded */
	enum history_type outcome; /* HISTORY_OK, HISTORY_FAIL or HISTORY_INFO */
	uint64_t process;
	enum history_f f;
	const char *key;
	const struct history_value *arg; /* the invoke's value */
	const struct history_value *result; /* the completion's value (the invoke's if none) */
	uint64_t call, ret; /* ret is UINT64_MAX when the op was left open */
	long line; /* the invoke's line */
	long ret_line; /* the completion's line, 0 when left open */
};

#define HISTORY_OPEN_END ((size_t)-1)

struct history {
	struct history_event *events;
	size_t n_events, cap_events;
	struct history_op *ops; /* in invoke order, filled by history_pair() */
	size_t n_ops;
};

/* Where an error was found: "line: message" is for the caller to prefix with the file name. */
struct history_error {
	long line;
	char msg[200];
};

void history_init(struct history *h);
void history_free(struct history *h);

/* Parses JSON lines from a buffer or a stream and appends their events to h. Blank lines are
 * skipped. Returns 0, -EINVAL with err filled on bad input, -ENOMEM, or -errno from the stream. */
int history_parse_buf(struct history *h, const char *buf, size_t len, struct history_error *err);
int history_parse_file(struct history *h, FILE *f, struct history_error *err);

/* Pairs every invoke with the next event of the same process, which must complete it. An invoke
 * still open at the end counts as info. Returns 0 or -EINVAL with err filled. */
int history_pair(struct history *h, struct history_error *err);

/* Widens every paired operation's interval by its events' epsilon: its invoke that much
 * earlier (never below 0), its completion that much later. Each true instant lies within epsilon
 * of its stamp, so the true interval lies inside the widened one: a precedence the widened
 * history still shows (one op's completion before another's invoke) is one that truly held, and
 * a linearizable execution is never judged otherwise. Widening only removes precedences, so it
 * only ever adds possible orders. A history without epsilon is unchanged. */
void history_widen(struct history *h);
/* The widest epsilon of any event, 0 for a history on one clock. */
uint64_t history_max_epsilon(const struct history *h);

/* Appends an event (deep copy) to h. */
int history_append(struct history *h, const struct history_event *ev);

/* Writes one event as one line of JSON. Returns 0 or -errno. */
int history_write_event(FILE *f, const struct history_event *ev);

const char *history_type_name(enum history_type t);
const char *history_f_name(enum history_f f);

/* Parses a decimal integer string (as values and amounts are written), "-" allowed. Returns 0 or
 * -EINVAL for anything else or on overflow. */
int history_parse_int(const char *s, int64_t *out);

#endif /* CAPNET_HISTORY_H */
