// SPDX-License-Identifier: GPL-2.0-only
/* capnet maelstrom test: builds a lab, runs a Maelstrom workload's clients against unmodified
 * node programs through the shims, draws faults from the nemesis, checks the history with the
 * workload's checker, writes what Maelstrom writes into store/, and tears the lab down. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/files.h"
#include "lib/test_hook.h"
#include "lib/rng.h"
#include "lib/report.h"
#include "netem/delay/delay_line.h"
#include "netem/lab/fault_log.h"
#include "netem/maelstrom/harness.h"

volatile sig_atomic_t mael_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	mael_interrupted = 1;
}

/* The first complaint stops the run and is what the run reports. */
void mael_bad(struct harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mael_bad(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->bad[0])
		return;
	va_start(ap, fmt);
	vsnprintf(h->bad, sizeof(h->bad), fmt, ap);
	va_end(ap);
}

/* One line of faults.jsonl, and the picture's band: a fault opens it, its heal closes it. */
static void fault(struct harness *h, const char *f, const char *value, const char *command)
{
	uint64_t t = monotonic_ns() - h->t0;
	bool heal = !strcmp(f, "heal") || !strcmp(f, "restart") || !strcmp(f, "resume");

	if (heal && h->band_open) {
		h->bands[h->n_bands - 1].to_s = t / 1e9;
		h->band_open = false;
	} else if (!heal && !h->band_open && h->n_bands < sizeof(h->bands) / sizeof(h->bands[0])) {
		struct op_chart_band *b = &h->bands[h->n_bands++];

		*b = (struct op_chart_band){ .from_s = t / 1e9, .to_s = t / 1e9 };
		snprintf(b->label, sizeof(b->label), "%s %s", f, value);
		h->band_open = true;
	}
	if (!h->faults)
		return;
	/* Seconds from the test's start, as lost.jsonl's and every capnet file's times. */
	fprintf(h->faults, "{\"time\":%.9f,\"f\":\"%s\",\"value\":", t / 1e9, f);
	json_write_string(h->faults, value);
	fputs(",\"command\":", h->faults);
	json_write_string(h->faults, command);
	fputs("}\n", h->faults);
	fflush(h->faults);
}

int mael_send_line(struct harness *h, unsigned int node, const char *line)
{
	size_t n = strlen(line), done = 0;

	/* Blocking: a shim always reads its harness side. */
	while (done < n) {
		ssize_t k = write(h->shims[node].fd, line + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		done += (size_t)k;
	}
	return write(h->shims[node].fd, "\n", 1) == 1 ? 0 : -EIO;
}

static int handle_line(struct harness *h, unsigned int node, char *line)
{
	const struct json_value *dest, *body, *irt, *type;
	struct json_value root;
	uint64_t reply_to;
	int k;

	if (line[0] == '!') {
		char who[16];
		unsigned long long a, b, f, r;
		int st;

		if (sscanf(line, "!stats %15s sent %llu received %llu forged %llu repeated %llu",
			   who, &a, &b, &f, &r) == 5) {
			h->shims[node].sent = a;
			h->shims[node].received = b;
			h->shims[node].forged = f;
			h->shims[node].repeated = r;
		} else if (sscanf(line, "!exit %15s %d", who, &st) == 2) {
			/* Only a program that ended on its own says this: the nemesis's kills and
			 * the harness's stop do not. */
			h->shims[node].exit_status = st;
			mael_bad(h, "n%u exited with status %d during the run", node, st);
		} else if (!strncmp(line, "!bad ", 5)) {
			mael_bad(h, "%s", line + 5);
		}
		return 0;
	}
	if (json_parse(line, strlen(line), 64, &root, NULL)) {
		mael_bad(h, "n%u sent a line that is not JSON: %.200s", node, line);
		return -EINVAL;
	}
	dest = json_member(&root, "dest");
	body = json_member(&root, "body");
	type = body ? json_member(body, "type") : NULL;
	irt = body ? json_member(body, "in_reply_to") : NULL;
	if (!dest || dest->kind != JSON_STRING || !body || body->kind != JSON_OBJECT) {
		mael_bad(h, "n%u sent a message without dest or body: %.200s", node, line);
		json_value_free(&root);
		return -EINVAL;
	}
	if (!strcmp(dest->str, "c0") && type && type->kind == JSON_STRING) {
		/* The harness's own requests: init and topology. */
		if (!strcmp(type->str, "init_ok"))
			h->shims[node].init_ok = true;
		else if (!strcmp(type->str, "topology_ok"))
			h->shims[node].topology_ok = true;
	} else if ((k = mael_id_parse(dest->str, 'c', h->n_clients + 1)) > 0) {
		if (irt && json_is_u64(irt, &reply_to) && h->clients[k - 1].busy &&
		    h->clients[k - 1].msg_id == reply_to)
			mael_complete(h, &h->clients[k - 1], body);
		/* Anything else is a late answer to a request already given up: dropped. */
	} else if (mael_service_parse(dest->str) >= 0) {
		const struct json_value *mid = json_member(body, "msg_id");
		char *answer = NULL;
		uint64_t id;

		if (mid && json_is_u64(mid, &id) &&
		    !mael_services_handle(h->services, mael_service_parse(dest->str), node, body,
					  monotonic_ns(), &answer)) {
			/* The answer's body with in_reply_to put in front of its members. */
			char *reply = NULL;
			int n = asprintf(
				&reply,
				"{\"src\":\"%s\",\"dest\":\"n%u\",\"body\":{\"in_reply_to\":"
				"%llu,%s}",
				dest->str, node, (unsigned long long)id, answer + 1);

			if (n > 0)
				mael_send_line(h, node, reply);
			free(reply);
		}
		free(answer);
	} else {
		/* A client, node or service this test does not have: the program's mistake. */
		mael_bad(
			h,
			"n%u sent a message to \"%.40s\", which names no node, client or service in "
			"this test: %.200s",
			node, dest->str, line);
	}
	json_value_free(&root);
	return 0;
}

/* Reads whatever the shims sent; handles whole lines. */
void mael_pump(struct harness *h, int timeout_ms)
{
	struct pollfd p[MAEL_MAX_NODES];
	unsigned int i;

	for (i = 0; i < h->o->nodes; i++)
		p[i] = (struct pollfd){ .fd = h->shims[i].eof ? -1 : h->shims[i].fd,
					.events = POLLIN };
	if (h->filter)
		filter_events_poll(h->filter, 0, mael_on_drop, h);
	if (poll(p, h->o->nodes, timeout_ms) <= 0)
		return;
	for (i = 0; i < h->o->nodes; i++) {
		struct shim_conn *s = &h->shims[i];
		char *nl, *start;
		ssize_t k;

		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (s->in_cap - s->in_len < 65536) {
			size_t cap = s->in_cap ? 2 * s->in_cap : 262144;
			char *b = realloc(s->in, cap);

			if (!b)
				continue;
			s->in = b;
			s->in_cap = cap;
		}
		k = read(s->fd, s->in + s->in_len, s->in_cap - s->in_len - 1);
		if (k <= 0) {
			if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				s->eof = true;
				/* A shim closes only when told to, or after its "!exit". */
				if (!h->stopping)
					mael_bad(h, "n%u's shim stopped", i);
			}
			continue;
		}
		s->in_len += (size_t)k;
		start = s->in;
		while ((nl = memchr(start, '\n', s->in_len - (size_t)(start - s->in)))) {
			*nl = 0;
			if (*start)
				handle_line(h, i, start);
			start = nl + 1;
		}
		memmove(s->in, start, s->in_len - (size_t)(start - s->in));
		s->in_len -= (size_t)(start - s->in);
	}
}

/* Waits until every shim says ok to one of the harness's requests (or gives up). */
static int wait_all(struct harness *h, bool topology, double seconds)
{
	uint64_t end = monotonic_ns() + (uint64_t)(seconds * 1e9);
	unsigned int i;

	for (;;) {
		unsigned int ready = 0;

		for (i = 0; i < h->o->nodes; i++)
			ready += topology ? h->shims[i].topology_ok : h->shims[i].init_ok;
		if (ready == h->o->nodes)
			return 0;
		for (i = 0; i < h->o->nodes; i++)
			if (h->shims[i].eof || h->shims[i].exit_status >= 0 || h->bad[0])
				return -ECHILD;
		if (monotonic_ns() >= end || mael_interrupted)
			return -ETIMEDOUT;
		mael_pump(h, 20);
	}
}

static int start_shims(struct harness *h, const struct lab_config *cfg)
{
	const struct options *o = h->o;
	struct mael_shim s = { .nodes = o->nodes, .argv = o->argv, .log_stderr = o->log_stderr };
	char log[PATH_MAX + 32], net_log[PATH_MAX + 32], ns[64];

	for (unsigned int i = 0; i < o->nodes; i++)
		s.addrs[i] = lab_node_addr(cfg, i + 1);
	for (unsigned int i = 0; i < o->nodes; i++) {
		int sv[2];
		pid_t pid;

		h->shims[i].exit_status = -1;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -errno;
		lab_node_ns(h->lab, i + 1, ns, sizeof(ns));
		snprintf(log, sizeof(log), "%s/n%u.log", h->store, i);
		snprintf(net_log, sizeof(net_log), "%s/net-n%u.log", h->store, i);
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int saved;

			close(sv[0]);
			signal(SIGINT, SIG_IGN);
			saved = netns_enter(ns);
			if (saved < 0)
				_exit(126);
			close(saved);
			s.index = i;
			s.harness_fd = sv[1];
			s.log_path = log;
			s.net_log_path = net_log;
			_exit(mael_shim_run(&s));
		}
		close(sv[1]);
		h->shims[i].fd = sv[0];
		h->shims[i].pid = pid;
	}
	return 0;
}

static void stop_shims(struct harness *h)
{
	uint64_t end = monotonic_ns() + 3000000000ull;
	unsigned int i, open;

	h->stopping = true;
	for (i = 0; i < h->o->nodes; i++)
		if (h->shims[i].pid)
			shutdown(h->shims[i].fd, SHUT_WR);
	/* Read their last words (exit status, message counts) until they close. */
	do {
		mael_pump(h, 50);
		for (i = 0, open = 0; i < h->o->nodes; i++)
			open += h->shims[i].pid && !h->shims[i].eof;
	} while (open && monotonic_ns() < end);
	for (i = 0; i < h->o->nodes; i++) {
		if (!h->shims[i].pid)
			continue;
		kill(h->shims[i].pid, SIGKILL);
		waitpid(h->shims[i].pid, NULL, 0);
		close(h->shims[i].fd);
		free(h->shims[i].in);
	}
}

/* One step of the nemesis's schedule: a partition or heal on the filter, or a kill, pause,
 * restart or resume of some nodes' programs by their shims. */
static void nemesis_step(struct harness *h, const struct nemesis_step *step)
{
	const char *cmd = step->command;
	char word[16] = "", names[MAEL_MAX_NODES * 6] = "";
	bool victims[MAEL_MAX_NODES];
	int rc;

	sscanf(cmd, "%15s", word);
	if (!strcmp(word, "partition") || !strcmp(word, "heal")) {
		rc = mael_switch(h->lab, h->o->nodes, cmd, names, sizeof(names));
		if (rc) {
			mael_bad(h, "the nemesis's \"%s\": %s", cmd, error_reason(rc));
			return;
		}
		fault(h, word, names, cmd);
		return;
	}
	rc = mael_nodes_of(cmd, h->o->nodes, victims, names, sizeof(names));
	if (rc) {
		mael_bad(h, "%s", error_reason(rc));
		return;
	}
	for (unsigned int i = 0; i < h->o->nodes; i++) {
		char line[24];

		snprintf(line, sizeof(line), "!%s", word);
		if (victims[i])
			mael_send_line(h, i, line);
	}
	fault(h, word, names, cmd);
	if (mael_log_nodes(h->lab, cmd, h->o->nodes, victims))
		report_warn("maelstrom: %s (done, but not in the lab's fault log)",
			    error_reason(-EIO));
}

/* The test proper: init, topology, the load under the nemesis, then the final reads. */
static int run_test(struct harness *h)
{
	const struct options *o = h->o;
	uint64_t end, next_op;
	double interval = o->rate > 0 ? 1e9 / o->rate : 0;
	size_t step = 0; /* the next step of the nemesis: odd while a fault is on */
	bool has_final = (o->workload >= MAEL_BROADCAST && o->workload <= MAEL_PN_COUNTER) ||
			 o->workload == MAEL_KAFKA;
	char line[65536], ids[4096];
	unsigned int i, used = 0;
	int rc;

	for (i = 0; i < o->nodes; i++)
		used += snprintf(ids + used, sizeof(ids) - used, "%s\"n%u\"", i ? "," : "", i);
	for (i = 0; i < o->nodes; i++) {
		snprintf(
			line, sizeof(line),
			"{\"src\":\"c0\",\"dest\":\"n%u\",\"body\":{\"type\":\"init\",\"msg_id\":1,"
			"\"node_id\":\"n%u\",\"node_ids\":[%s]}}",
			i, i, ids);
		if (mael_send_line(h, i, line))
			return -EIO;
	}
	rc = wait_all(h, false, 10);
	h->cluster_ns = monotonic_ns();
	if (rc) {
		for (i = 0; i < o->nodes && h->shims[i].init_ok; i++)
			;
		if (!h->bad[0])
			snprintf(h->bad, sizeof(h->bad), "n%u %s", i,
				 rc == -ETIMEDOUT ? "never answered init with init_ok within 10 s" :
						    "exited before answering init");
		return rc;
	}
	test_hook_phase("nodes-up");
	if (o->workload == MAEL_BROADCAST) {
		char topo[32768];

		if (mael_topology_json(o, topo, sizeof(topo)))
			return -ENOSPC;
		for (i = 0; i < o->nodes; i++) {
			snprintf(line, sizeof(line),
				 "{\"src\":\"c0\",\"dest\":\"n%u\",\"body\":{\"type\":\"topology\","
				 "\"msg_id\":2,\"topology\":%s}}",
				 i, topo);
			if (mael_send_line(h, i, line))
				return -EIO;
		}
		rc = wait_all(h, true, 10);
		if (rc) {
			if (!h->bad[0])
				snprintf(h->bad, sizeof(h->bad),
					 "a node never answered topology with topology_ok");
			return rc;
		}
	}
	h->t0 = monotonic_ns();
	end = h->t0 + (uint64_t)(o->time_limit * 1e9);
	next_op = h->t0;
	progress_start(&h->line, o->quiet);
	while (monotonic_ns() < end && !mael_interrupted && !h->bad[0]) {
		uint64_t now = monotonic_ns();

		if (progress_due(&h->line))
			progress_show(&h->line, "maelstrom: %.1f of %g s, %zu history events%s%s",
				      (now - h->t0) / 1e9, o->time_limit, h->st.n,
				      step % 2 ? ", fault: " : "",
				      step % 2 ? h->nemesis.steps[step - 1].command : "");
		/* The schedule starts one interval in, after a healthy stretch, as Maelstrom's. */
		if (step < h->nemesis.n && now >= h->t0 + (uint64_t)((h->nemesis.steps[step].at_ms +
								      o->nemesis_interval * 1000) *
								     1e6))
			nemesis_step(h, &h->nemesis.steps[step++]);
		/* One operation per interval, to a client that is free: a busy system does not get
		 * a burst when it answers again. */
		while (now >= next_op) {
			unsigned int start = (unsigned int)(rng_next(&h->rng) % h->n_clients), k;

			for (k = 0; k < h->n_clients; k++) {
				struct client *c = &h->clients[(start + k) % h->n_clients];
				bool read = has_final && rng_next(&h->rng) % 4 == 0;

				/* lin-kv draws its own mix of reads, writes and cas. */

				if (c->busy)
					continue;
				if (mael_issue(h, c, read, false))
					return -EIO;
				break;
			}
			next_op += interval ? (uint64_t)interval : 1000000;
			if (next_op < now)
				next_op = now;
			if (!interval)
				break;
		}
		mael_pump(h, 1);
		mael_expire(h);
		if (now >= h->next_gossip) {
			mael_services_gossip(h->services);
			h->next_gossip = now + 100000000ull;
		}
	}
	progress_end(&h->line);
	if (step % 2)
		nemesis_step(h, &h->nemesis.steps[step]);
	/* What is still asked gets its time to answer. */
	for (end = monotonic_ns() + (uint64_t)(o->timeout_s * 1e9) + 100000000ull;
	     monotonic_ns() < end && !h->bad[0];) {
		bool busy = false;

		for (i = 0; i < h->n_clients; i++)
			busy |= h->clients[i].busy;
		if (!busy)
			break;
		mael_pump(h, 10);
		mael_expire(h);
	}
	if (!has_final || h->bad[0] || mael_interrupted)
		return 0;
	return mael_final_reads(h);
}

/* --latency MS of round trip, so MS/2 each way, drawn from --latency-dist's distribution with
 * that mean (every message its own draw, so messages overtake each other, as in Maelstrom):
 * uniform from 0 to twice the mean, normal with a standard deviation of half the mean, or
 * exponential. What `capnet link all all --delay ...` does, and its line in the fault log. */
static int set_latency(struct harness *h, const struct lab_info *info)
{
	const char *dist = h->o->latency_dist;
	double mean = h->o->latency_ms / 2;
	struct capnet_delay_params p = { .delay_ns = (uint64_t)(mean * 1e6 + 0.5) };
	struct delay_set set = { 0 };
	char words[128];
	int n, err;

	n = snprintf(words, sizeof(words), "all all --delay %gms", mean);
	if (strcmp(dist, "constant")) {
		if (delay_dist_parse(dist, &p.dist))
			return -EINVAL; /* options.c took only the known names */
		p.jitter_ns = (uint64_t)((!strcmp(dist, "normal") ? mean / 2 : mean) * 1e6 + 0.5);
		p.reorder = 1;
		snprintf(words + n, sizeof(words) - n, " --jitter %gms --distribution %s --reorder",
			 p.jitter_ns / 1e6, dist);
	}
	err = delay_set_put(&set, CAPNET_DELAY_ANY, CAPNET_DELAY_ANY, &p) ?:
		      delay_apply(h->lab, info, &set);
	if (!err && fault_log_append(h->lab, &(struct fault_change){
						     .command = "link",
						     .value = words,
						     .generation = FAULT_LOG_READ_GENERATION }))
		report_warn("maelstrom: %s (the delays are set, but not in the lab's fault log)",
			    error_reason(-EIO));
	return err;
}

/* What a program that exited said last on its stderr, so that the failure is read here. */
static void say_last_words(const struct harness *h, unsigned int node)
{
	char path[PATH_MAX + 32], tail[1024], *line, *save = NULL;
	char *start;

	snprintf(path, sizeof(path), "%s/n%u.log", h->store, node);
	if (h->o->log_stderr) {
		return; /* --log-stderr: it is on the terminal already */
	}
	files_read_tail(path, tail, sizeof(tail));
	/* Whole lines only: the last five. */
	start = tail;
	for (int lines = 0, i = (int)strlen(tail) - 1; i >= 0; i--)
		if (tail[i] == '\n' && ++lines == 5) {
			start = tail + i + 1;
			break;
		}
	report_warn("maelstrom: the end of n%u's stderr (%s)%s", node, path,
		    tail[0] ? ":" : ": empty");
	for (line = strtok_r(start, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "    %s\n", line);
}

static bool lab_exists(const char *lab)
{
	char ns[64], path[128];

	lab_switch_ns(lab, ns, sizeof(ns));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	return !access(path, F_OK);
}

int cmd_maelstrom(struct cli *cli, int argc, char **argv)
{
	struct harness h = { 0 };
	struct options o;
	struct lab_config cfg = { 0 };
	char path[PATH_MAX + 32];
	struct sigaction sa = { .sa_handler = on_signal };
	struct filter *filter = NULL;
	struct lab_info info;
	struct cli lab_cli;
	enum filter_hook hook = FILTER_HOOK_AUTO;
	double t_topology, t_filter;
	int rc, err;

	if (argc < 1 || strcmp(argv[0], "test")) {
		mael_usage(stderr);
		return EXIT_USAGE;
	}
	mael_repair_latest();
	rc = mael_parse_options(argc - 1, argv + 1, &o);
	o.quiet = cli->quiet;
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	/* Found as exec would find it (a name on PATH, a path; never a directory), before the lab
	 * is built: exec's failure would only show as node programs exiting with 127. */
	if (!files_program_exists(o.argv[0]))
		return report_usage("maelstrom: --bin %s: %s", o.argv[0],
				    strchr(o.argv[0], '/') ? "not an executable program" :
							     "no such program on PATH");
	if (cli_need_root("capnet maelstrom"))
		return EXIT_USAGE;
	h.o = &o;
	h.started_ns = monotonic_ns();
	trace_analysis_init(&h.pairing, o.nodes);
	/* Drawn when not given, and always printed and stored, so that any run replays. */
	if (!o.has_seed)
		o.seed = (monotonic_ns() ^ (uint64_t)getpid() << 32) % 1000000000000ull;
	h.rng = o.seed;
	if (o.nemesis &&
	    mael_faults_draw(o.nemesis, o.nemesis_interval, o.time_limit - o.nemesis_interval,
			     o.seed, o.nodes, &h.nemesis))
		return report_usage("maelstrom: --nemesis: %s", error_reason(-EINVAL));
	if (cli->lab_given)
		snprintf(h.lab, sizeof(h.lab), "%s", cli->lab);
	else
		snprintf(h.lab, sizeof(h.lab), "mael%d", (int)getpid());
	if (lab_exists(h.lab))
		return report_usage(
			"maelstrom: lab %s exists; a test builds its own (capnet --lab %s "
			"down, or another --lab)",
			h.lab, h.lab);
	if (mael_make_store(&h))
		return report_fail("maelstrom: create %s: %s", h.store, strerror(errno));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal stops the run as ^C does: the lab comes down. */
	sigaction(SIGHUP, &sa, NULL);
	/* A shim that is gone is an error of the write, and its last words say why. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "%s/faults.jsonl", h.store);
	h.faults = fopen(path, "w");
	printf("maelstrom: lab %s, %u node%s, %s, seed %llu\n", h.lab, o.nodes,
	       o.nodes == 1 ? "" : "s", mael_workload_name(o.workload), (unsigned long long)o.seed);
	/* The lab as `capnet up -n N` builds it: on any failure nothing of it is left. */
	lab_cli = *cli;
	lab_cli.lab = h.lab;
	cfg.nodes = o.nodes;
	snprintf(cfg.name, sizeof(cfg.name), "%s", h.lab);
	err = lab_parse_subnet(LAB_DEFAULT_SUBNET, o.nodes, &cfg.subnet, &cfg.prefix, NULL, 0);
	if (!err)
		err = cli_build_lab(&lab_cli, &cfg, NULL, NULL, &hook, &t_topology, &t_filter);
	if (err) {
		report_fail("maelstrom: the lab would not come up: %s", error_reason(err));
		rc = EXIT_USAGE;
		goto done;
	}
	if (cli_open_whole_lab(&lab_cli, &info, &filter)) {
		rc = EXIT_USAGE;
		goto down;
	}
	/* Kept open: its drop events say which messages the faults took. */
	h.filter = filter;
	filter_events_discard(filter);
	if (o.latency_ms > 0 && (err = set_latency(&h, &info))) {
		report_fail("maelstrom: --latency: %s", error_reason(err));
		rc = EXIT_USAGE;
		goto down;
	}
	test_hook_phase("lab-ready");
	h.services = mael_services_new(o.nodes, h.rng ^ 0x5e41c35ull);
	if (!h.services) {
		rc = EXIT_FAIL;
		goto down;
	}
	h.n_clients = o.concurrency;
	h.next_process = o.concurrency;
	h.clients = calloc(o.concurrency, sizeof(*h.clients));
	for (unsigned int i = 0; h.clients && i < o.concurrency; i++)
		h.clients[i] = (struct client){ .id = i + 1, .node = i % o.nodes, .process = i };
	if (!h.clients || start_shims(&h, &cfg)) {
		rc = EXIT_USAGE;
		goto stop;
	}
	rc = run_test(&h);
	if (h.t0) {
		h.end_ns = monotonic_ns() - h.t0;
		if (h.band_open)
			h.bands[h.n_bands - 1].to_s = h.end_ns / 1e9;
	}
	/* What was sent before the end gets the time to arrive: a message still on its way as
	 * the nodes stop is in flight, not lost. */
	for (uint64_t drain = monotonic_ns() + (uint64_t)(2 * o.latency_ms * 1e6) + 200000000ull;
	     !rc && !h.bad[0] && !mael_interrupted && monotonic_ns() < drain;)
		mael_pump(&h, 10);
stop:
	stop_shims(&h);
	if (mael_interrupted) {
		report_warn("maelstrom: interrupted");
		rc = EXIT_USAGE;
		goto down;
	}
	if (h.bad[0] || rc) {
		report_warn("maelstrom: %s", h.bad[0] ? h.bad : strerror(-rc));
		for (unsigned int i = 0; i < o.nodes; i++)
			if (h.shims[i].exit_status >= 0)
				say_last_words(&h, i);
		rc = EXIT_USAGE;
		goto down;
	}
	rc = mael_results(&h);
down:
	filter_close(h.filter);
	h.filter = NULL;
	if (o.keep)
		printf("maelstrom: lab %s left up (--keep): capnet --lab %s down\n", h.lab, h.lab);
	else if ((err = cli_remove_lab(h.lab)))
		report_warn("maelstrom: take lab %s down: %s", h.lab, error_reason(err));
done:
	if (h.faults)
		fclose(h.faults);
	mael_free_ops(&h);
	mael_services_free(h.services);
	mael_free_messages(&h);
	free(o.argv);
	mael_faults_free(&h.nemesis);
	return rc;
}
