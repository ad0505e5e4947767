/* SPDX-License-Identifier: GPL-2.0-only */
/* Running capnet on the hosts of a lab: through `$CAPNET_SSH` (default `ssh`) with connection
 * sharing, or directly for `local`, on every host at once. */
#ifndef CAPNET_REMOTE_H
#define CAPNET_REMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "netem/hosts/hosts.h"

struct remote_result {
	int status; /* the remote command's exit status; 255 when ssh failed; -1 not run */
	char out[16384]; /* its standard output (cut at the size) */
	char why[512]; /* the last line it or ssh wrote on standard error */
	char err[4096]; /* all it wrote on standard error (cut at the size) */
};

/* Runs `<remote capnet> --lab LAB ARGS` (args already a line of safe words) on every host h
 * with run[h] (NULL: all), all at once, and waits for all. The remote capnet is
 * $CAPNET_REMOTE_BIN, else `capnet` on the remote PATH; on `local` this very program. 0, or
 * -errno when a host could not even be asked (with res[h].why said). */
int remote_run(const char *lab, const struct host_list *hosts, const bool *run, char *const args[],
	       struct remote_result *res);

/* The same, each host h with run[h] reading input[h] on its standard input (a secret, so that
 * it is on no command line); input NULL or input[h] NULL: the caller's standard input. */
int remote_run_input(const char *lab, const struct host_list *hosts, const bool *run,
		     char *const args[], const char *const input[], struct remote_result *res);

/* Becomes `<remote capnet> --lab LAB ARGS` on host h, with this process's standard input,
 * output and error (an interactive `capnet exec`); returns -errno only if it cannot. */
int remote_exec(const char *lab, const struct host_dest *h, const char *args);

/* The program `name` ("capnet", "capctl", "captrace") as the hosts run it: $NAME_REMOTE_BIN
 * (CAPNET_REMOTE_BIN, ...), else `name` on their PATH. */
const char *remote_program(const char *name);

/* A command on host h that this process talks with while it runs: `<program> --lab LAB ARGS`
 * on the remote host (program NULL: the remote capnet), or this very program on `local`, with
 * pipes to its standard input, output and error. */
struct remote_child {
	pid_t pid;
	int in, out, err; /* this side's ends: its stdin to write, its stdout and stderr to read */
};

int remote_spawn(const char *lab, const struct host_dest *h, const char *program, const char *args,
		 struct remote_child *c);
/* Closes this side's ends (its stdin sees end of file) and waits for it: its exit status, 255
 * when ssh failed or it was killed. */
int remote_wait(struct remote_child *c);

/* One line from each of n children that are still talking (live[h]), read at once: a child
 * whose output ends first has live[h] cleared and why[h] set to the last line it or ssh said on
 * standard error. at_ns[h] (CLOCK_TAI) is when its line was complete. ms bounds a host that
 * stops answering, not a claim about speed. */
struct remote_reply {
	char line[4096];
	char why[512];
	uint64_t at_ns;
};

void remote_read_lines(struct remote_child *c, unsigned int n, bool *live,
		       struct remote_reply *reply, int ms);
/* Writes text to the standard input of every child still talking; one that cannot take it has
 * live[h] cleared and why[h] set. */
void remote_write_all(struct remote_child *c, unsigned int n, bool *live, const char *const *text,
		      struct remote_reply *reply);

/* Reads one line (its newline dropped) from fd within ms (< 0: no bound), a byte at a time so
 * that nothing after it is taken: 0, or -ETIMEDOUT, -EPIPE at end of file. */
int remote_read_line(int fd, char *buf, size_t len, int ms);

/* Appends " 'WORD'" to buf (which holds used bytes) for each of argv, every ' written '\'':
 * words the remote shell takes back exactly. Returns the length the whole needs, as snprintf:
 * at least len when it did not fit, what fitted then NUL-terminated. */
size_t remote_words_append(char *buf, size_t len, size_t used, int argc, char *const *argv);

/* "PREFIX 'ARG' 'ARG' ...": a command line of safe words for the remote shell; the length it
 * needs, at least len when it was cut. */
size_t remote_line(const char *prefix, int argc, char **argv, char *buf, size_t len);

/* Ends the shared ssh connections of the lab's hosts (`ssh -O exit`), quietly. */
void remote_close(const char *lab, const struct host_list *hosts);

#endif /* CAPNET_REMOTE_H */
