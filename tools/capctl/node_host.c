// SPDX-License-Identifier: GPL-2.0-only
/* A request to a node of a lab across hosts that lives on another host: the same command line,
 * run by the capctl of that host (capctl_on_host, as a share of a load is run), which enters
 * the node's namespace there. The cluster's key goes on ssh's standard input, never on a
 * command line; the remote capctl's output and exit status are this one's. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report.h"
#include "netem/hosts/remote.h"
#include "node/proto.h"
#include "tools/capctl/capctl.h"
#include "tools/capctl/client.h"
#include "tools/capctl/load_hosts.h"
#include "tools/capctl/node_host.h"

/* What ssh carries of a remote command line at most (netem/hosts/remote.c). */
#define REMOTE_ARGS_MAX 4000

/* The global options that shape the request and its answer, then the command, word by word. */
static int remote_args(int argc, char **argv, bool key, char *buf, size_t len)
{
	size_t used;

	used = snprintf(buf, len, "--on-host -n %u --timeout %ld%s%s%s", capctl_opts.node,
			capctl_opts.timeout_ms, capctl_opts.json ? " --json" : "",
			capctl_opts.quiet ? " -q" : "", key ? " --key-file -" : "");
	for (int v = 0; v < capctl_opts.verbose && used < len; v++)
		used += snprintf(buf + used, len - used, " -v");
	if (capctl_opts.consistency && used < len)
		used += snprintf(buf + used, len - used, " --consistency %s",
				 proto_consistency_name(capctl_opts.consistency));
	if (capctl_opts.history && used < len)
		used += snprintf(buf + used, len - used, " --history - --process %u",
				 capctl_opts.process);
	if (used < len)
		used = remote_words_append(buf, len, used, argc, argv);
	return used < len ? 0 : -E2BIG;
}

/* --history on the controller: the remote capctl writes its invoke line before its request
 * goes and its outcome line after the answer, both ahead of its answer on standard output;
 * each is appended here as it comes, stamped on this machine's clock: the invoke when the
 * remote capctl was started, before its own; the outcome when it arrived, after its own. The
 * operation's window holds the true one, so a check stays sound; a host lost after the invoke
 * leaves it open, an unknown outcome. */
struct history_relay {
	FILE *f;
	uint64_t invoked_at;
	unsigned int lines;
};

static bool relay_history(const char *line, void *arg)
{
	struct history_relay *h = arg;
	uint64_t t = h->lines ? history_now() : h->invoked_at;
	size_t at, end, len = strlen(line);

	if (strncmp(line, "{\"process\":", 11) || history_time_digits(line, len, &at, &end))
		return false;
	fprintf(h->f, "%.*s%" PRIu64 "%s\n", (int)at, line, t, line + end);
	fflush(h->f);
	h->lines++;
	return true;
}

/* The key this capctl would use, as text for the remote one's standard input; "" if none. */
static int key_text(char text[PROTO_KEY_TEXT_LEN + 1])
{
	struct proto_key key;
	bool auth;
	int err = client_key_load(capctl_opts.lab, &key, &auth);

	text[0] = '\0';
	if (!err && auth)
		proto_key_format(&key, text);
	memset(&key, 0, sizeof(key));
	return err;
}

bool node_host_run(int argc, char **argv, int *rc)
{
	static char args[REMOTE_ARGS_MAX + 1];
	static struct lab_hosts lh;
	struct history_relay history = { 0 };
	char key[PROTO_KEY_TEXT_LEN + 1];
	const struct host_dest *host;
	struct host_capctl r;
	unsigned int node = capctl_opts.node;
	int err;

	/* A controller that names itself by its address, not `local`, must not send a request
	 * it was sent back to itself without end. */
	if (!node || capctl_opts.on_host)
		return false;
	err = load_hosts_lab(capctl_opts.lab, &lh);
	if (err == -ENOENT)
		return false;
	if (err) {
		*rc = CAPCTL_FAIL;
		return true;
	}
	if (node > lh.nodes) {
		*rc = report_usage("node %u is out of range (the lab has %u node%s)", node,
				   lh.nodes, lh.nodes == 1 ? "" : "s");
		return true;
	}
	host = &lh.hosts.host[lh.place.host_of[node]];
	if (host->local)
		return false;
	err = key_text(key);
	if (err) {
		*rc = report_error(err, NULL);
		return true;
	}
	if (remote_args(argc, argv, key[0], args, sizeof(args))) {
		memset(key, 0, sizeof(key));
		*rc = report_usage("the request is too long for a node on another host (at most "
				   "%d bytes of command line)",
				   REMOTE_ARGS_MAX);
		return true;
	}
	if (capctl_opts.history) {
		/* "-": standard output, as on one host. */
		history.f = strcmp(capctl_opts.history, "-") ? fopen(capctl_opts.history, "a") :
							       stdout;
		if (!history.f) {
			memset(key, 0, sizeof(key));
			*rc = report_fail("--history %s: %s", capctl_opts.history, strerror(errno));
			return true;
		}
	}
	/* A host whose ssh ended before taking the key is told by its exit status. */
	signal(SIGPIPE, SIG_IGN);
	history.invoked_at = history_now();
	err = capctl_on_host(capctl_opts.lab, host, args, key[0] ? key : NULL, history.f ? 2 : 0,
			     relay_history, &history, &r);
	memset(key, 0, sizeof(key));
	if (history.f && history.f != stdout)
		fclose(history.f);
	if (err) {
		free(r.out);
		*rc = report_fail("node %u is on host %s: running capctl there: %s", node,
				  host->dest, strerror(-err));
		return true;
	}
	/* 255: ssh failed; 126 and 127: the remote shell found no capctl to run. */
	if (r.status == 255 || r.status == 126 || r.status == 127) {
		free(r.out);
		*rc = report_fail("node %u is on host %s: %s", node, host->dest, r.why);
		return true;
	}
	if (r.out_len)
		fwrite(r.out, 1, r.out_len, stdout);
	fflush(stdout);
	fputs(r.err, stderr);
	free(r.out);
	*rc = r.status;
	return true;
}
