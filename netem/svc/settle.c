// SPDX-License-Identifier: GPL-2.0-only
/* `capnet start --settle T | --wait-port P`: a service counts as started once it has lived a
 * while or listens on its port, not when its process exists; one that exits in that time is a
 * failure, said with its exit status and its log's last lines. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "lib/files.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/svc/nodes.h"

/* True if a socket of /proc/thread-self/net/FILE (tcp or tcp6) listens on port: its local
 * address's port in hex, state 0A (TCP_LISTEN). */
static bool listens_in(const char *file, unsigned int port)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int local_port, state;
		char local[64];

		if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &local_port,
			   &state) == 3)
			found = local_port == port && state == 0x0A;
	}
	fclose(f);
	return found;
}

/* Whether anything listens on TCP port in the node's namespace: read from the kernel's socket
 * table, so the service is not sent a connection it did not ask for. */
static bool node_listens(const char *lab, unsigned int node, unsigned int port)
{
	char ns[64];
	bool yes;
	int saved;

	lab_node_ns(lab, node, ns, sizeof(ns));
	saved = netns_enter(ns);
	if (saved < 0)
		return false;
	yes = listens_in("tcp", port) || listens_in("tcp6", port);
	netns_return(saved);
	return yes;
}

static void say_exit(const struct service_settle *s, unsigned int node, int status, double after)
{
	char log[PATH_MAX], tail[512];

	snprintf(log, sizeof(log), "%s/n%u.log", s->dir, node);
	files_read_tail(log, tail, sizeof(tail));
	report_warn("node %u: %s exited after %.1f s (%s %d)%s%s; see %s", node, s->name, after,
		    WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), tail[0] ? ": " : "",
		    tail, log);
}

unsigned int nodes_service_settle(const struct service_settle *s, const pid_t *pids,
				  unsigned int nodes, struct node_set *deaf)
{
	uint64_t start = monotonic_ns(), deadline = start + s->settle_ns;
	bool done[nodes + 1];
	unsigned int i, failed = 0, waiting;

	memset(done, 0, sizeof(done));
	for (;;) {
		waiting = 0;
		for (i = 1; i <= nodes; i++) {
			int status;

			if (!pids[i] || done[i])
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				say_exit(s, i, status, (monotonic_ns() - start) / 1e9);
				done[i] = true;
				failed++;
				continue;
			}
			if (s->port && node_listens(s->lab, i, s->port)) {
				done[i] = true;
				continue;
			}
			waiting++;
		}
		if (!waiting || monotonic_ns() >= deadline)
			break;
		{
			struct timespec step = { 0, 50 * 1000 * 1000 };

			nanosleep(&step, NULL);
		}
	}
	/* Alive but not listening: not started as asked, and still running, which the caller says. */
	nodeset_clear(deaf);
	for (i = 1; s->port && i <= nodes; i++)
		if (pids[i] && !done[i]) {
			report_warn("node %u: %s does not listen on TCP port %u after %.1f s; see "
				    "%s/n%u.log",
				    i, s->name, s->port, s->settle_ns / 1e9, s->dir, i);
			nodeset_add(deaf, i);
			failed++;
		}
	return failed;
}
