/* SPDX-License-Identifier: GPL-2.0-only */
/* The exec client protocol (docs/clients.md): the JSON line capctl writes to a client program for
 * each operation, and what the program's answer line means for the history. Pure: no I/O but the
 * FILE the caller hands in, so every answer a program can give is unit-tested. */
#ifndef CAPNET_EXEC_PROTOCOL_H
#define CAPNET_EXEC_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/json.h"
#include "tools/check/history.h"

/* An answer longer than this is a protocol error: no operation of ours needs more, and a program
 * that writes without end must not take capctl's memory with it. */
#define EXEC_LINE_MAX (1u << 20)

/* What the program reads: "register" keys hold one string, "set" and "list" ones many. */
enum exec_shape {
	EXEC_REGISTER,
	EXEC_SET,
	EXEC_LIST,
};

/* The first line a program reads: who it is and what it will be asked. */
struct exec_init {
	unsigned int node, nodes;
	uint64_t process;
	enum exec_shape shape;
};

/* One operation: value is the written value (write, append), the element (add) or the new value
 * (cas, with from the expected one). */
struct exec_request {
	uint64_t id;
	enum history_f f;
	const char *key;
	const char *value;
	const char *from;
};

/* Writes the request line, "\n" included. -EINVAL for an operation the protocol lacks. */
int exec_request_write(FILE *f, const struct exec_request *r);
int exec_init_write(FILE *f, const struct exec_init *init);

struct exec_answer {
	enum history_type type; /* ok, fail or info, as the program said */
	struct json_value root; /* the whole answer, which value, items and error point into */
	const char *value; /* a register read: the value, NULL when absent */
	char **items; /* a set or list read: n strings */
	size_t n;
	const char *error; /* the program's reason, or NULL */
};

/*
 * Reads an answer to request id: 0 with *a filled (exec_answer_free it), or -EPROTO with why:
 * not a JSON object, no id or another one, a type other than ok, fail or info, an ok read
 * without a value of the shape asked. A protocol error leaves the outcome unknown.
 */
int exec_answer_parse(const char *line, size_t len, uint64_t id, enum history_f f,
		      enum exec_shape shape, struct exec_answer *a, char *why, size_t why_len);
void exec_answer_free(struct exec_answer *a);

const char *exec_shape_name(enum exec_shape shape);

#endif /* CAPNET_EXEC_PROTOCOL_H */
