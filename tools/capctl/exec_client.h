/* SPDX-License-Identifier: GPL-2.0-only */
/* An exec client: one client program (any language) started inside a node's namespace, in a
 * process group of its own, spoken to in JSON lines on its stdin and stdout
 * (tools/capctl/exec_protocol.h, docs/clients.md). A program that misbehaves in any way (exits,
 * writes garbage, never answers) costs one operation whose outcome is unknown, and is named with
 * the last lines of its stderr; capctl never waits on it past the request's timeout. */
#ifndef CAPNET_EXEC_CLIENT_H
#define CAPNET_EXEC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tools/capctl/exec_protocol.h"

/* A program's first answer (init) may take this long: an interpreter and its libraries load. */
#define EXEC_START_MS 10000
#define EXEC_STDERR_TAIL 2048

struct exec_client {
	bool started; /* exec_client_start was called since the last stop: the fds are its */
	pid_t pid; /* 0 when no program runs */
	int to_fd, from_fd, err_fd;
	unsigned int node;
	uint64_t next_id;
	char *line; /* what the program wrote so far of its answer */
	size_t used, line_len; /* line_len: of the answer read_line found, its newline excluded */
	char tail[EXEC_STDERR_TAIL]; /* the end of its stderr */
	size_t tail_len;
	char error[1400];
};

/* What starts a program: its command line with placeholders ({i} {ip} {n}, as capnet start's),
 * for node `node` of `lab` (of `nodes` nodes). */
struct exec_program {
	const char *lab;
	char *const *argv;
	int argc;
	unsigned int nodes;
	enum exec_shape shape;
};

/* Checks the placeholders of every argument: 0, or -EINVAL with the reason in err. */
int exec_program_check(const struct exec_program *p, char *err, size_t errlen);

/* Starts the program for node as process `process` and waits for its answer to init. 0, or
 * -errno with the reason for a person in c->error (not found, not executable, exited, refused
 * init, no answer): then nothing runs and nothing was asked of the database. */
int exec_client_start(struct exec_client *c, const struct exec_program *p, unsigned int node,
		      uint64_t process, long timeout_ms);
/* Ends the program and whatever it forked (SIGKILL to its process group). Safe to repeat. */
void exec_client_stop(struct exec_client *c);

/* A client program's own children may leave its process group (setsid) and outlive it. Before
 * the first program starts, this process becomes their subreaper; once every program has
 * stopped, exec_clients_end_strays() kills and reaps whatever descends from it still. */
int exec_clients_adopt_strays(void);
void exec_clients_end_strays(void);

/*
 * One operation: writes req (its id is filled here), waits up to timeout_ms for the answer.
 * 0 with *a filled (exec_answer_free it); -EPIPE when the program had exited before it could
 * read the request (it surely did not happen); -ETIMEDOUT, -ECONNRESET (it exited after) or
 * -EPROTO (an answer that breaks the protocol) when the outcome is unknown. Every error leaves
 * the reason in c->error, with the end of the program's stderr; stop the program after one.
 */
int exec_client_call(struct exec_client *c, struct exec_request *req, enum exec_shape shape,
		     long timeout_ms, struct exec_answer *a);

#endif /* CAPNET_EXEC_CLIENT_H */
