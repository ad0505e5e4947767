// SPDX-License-Identifier: GPL-2.0-only
/* capctl load against a lab across hosts. Each host with clients runs its share of the run,
 * `capctl load --host-share ...` over the lab's shared ssh connection, writing its lines on its
 * standard output stamped on its own CLOCK_TAI; the controller measures every host's clock
 * before and after (netem/hosts/clock_probe.h), then merges the lines in time order, each
 * corrected by its host's offset and given its bound, onto its own CLOCK_MONOTONIC, the clock of
 * the lab's fault log. Closing a share's standard input ends it early, as Ctrl-C ends a run on
 * one host. What must happen once for the whole run is a phase the controller drives, each
 * begun once the one before is over on every host: a bank's opening on one host, then every
 * host's clients, then (set, append) the quiet time and rounds of final reads of every node on
 * every host, compared here, until they agree or their time is up. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "lib/array.h"
#include "lib/files.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "lib/test_hook.h"
#include "netem/hosts/clock_probe.h"
#include "netem/hosts/remote.h"
#include "tools/capctl/capctl.h"
#include "tools/capctl/load_hosts.h"
#include "tools/check/history.h"

/* The most a host's share may write: its lines are held until every host is done. */
#define SHARE_OUT_MAX (1ull << 31)
/* Rounds of final reads; their pauses double from 500 ms, so 30 s never needs more. */
#define FINAL_ROUNDS_MAX 8
/* Shares of one run: the clients' (one per host), the opening, the rounds of final reads. Share
 * i numbers its processes after an unknown outcome clients + i, + SHARE_SLOTS(hosts), ...: no
 * two shares ever use one number. */
#define SHARE_SLOTS(hosts) ((hosts) * (FINAL_ROUNDS_MAX + 1) + 1)

struct share {
	struct remote_child child;
	unsigned int host;
	char *out;
	size_t out_len, out_cap;
	char err[2048]; /* the end of what it said on standard error */
	size_t err_len;
	int status;
};

/* One line of the merged history: where it is in its host's output, and its corrected time
 * (CLOCK_TAI of the reference). */
struct merged_line {
	uint64_t time;
	unsigned int host;
	size_t seq;
	const char *start; /* the line */
	size_t len;
	size_t time_at, time_end; /* the digits of its "time" */
};

int load_hosts_lab(const char *lab, struct lab_hosts *lh)
{
	int err = lab_hosts_read(lab, lh);

	if (err == -EINVAL)
		report_fail("%s", error_reason(err));
	return err;
}

static unsigned int host_of_client(const struct workload_config *cfg, const struct lab_hosts *lh,
				   unsigned int k)
{
	return lh->place.host_of[cfg->nodes[k % cfg->n_nodes]];
}

/* The command line of host h's share: the run's own settings, its phase ("clients", "open",
 * "final:SLOTS:MS"), the clients that are h's, the process numbers it may take after an unknown
 * outcome (clients + slot, + SHARE_SLOTS, ...), and for final reads the nodes that are h's. */
static int share_args(const struct workload_config *cfg, const struct lab_hosts *lh, unsigned int h,
		      unsigned int slot, const char *phase, uint64_t seed, const char *prefix,
		      char *buf, size_t len)
{
	bool final = !strncmp(phase, "final", 5);
	size_t used;
	bool first = true;

	used = snprintf(buf, len, "--timeout %ld load --workload %s --client %s --nodes ",
			cfg->timeout_ms, workload_kind_name(cfg->kind),
			workload_client_name(cfg->client));
	for (unsigned int i = 0; i < cfg->n_nodes && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%u", i ? "," : "", cfg->nodes[i]);
	if (used < len)
		used += snprintf(buf + used, len - used,
				 " --clients %u --keys %u --duration %llums --seed %" PRIu64
				 " --history - --share-phase %s --host-share ",
				 cfg->clients, cfg->keys,
				 (unsigned long long)(cfg->duration_s * 1000), seed, phase);
	for (unsigned int k = 0; k < cfg->clients && used < len; k++) {
		if (host_of_client(cfg, lh, k) != h)
			continue;
		used += snprintf(buf + used, len - used, "%s%u", first ? "" : ",", k);
		first = false;
	}
	if (used < len)
		used += snprintf(buf + used, len - used, ":%u:%u:%u:%s", cfg->clients + slot,
				 SHARE_SLOTS(lh->hosts.count), lh->nodes, prefix);
	first = true;
	for (unsigned int i = 0; final && i < cfg->n_final_nodes && used < len; i++) {
		if (lh->place.host_of[cfg->final_nodes[i]] != h)
			continue;
		used += snprintf(buf + used, len - used, "%s%u", first ? " --final-nodes " : ",",
				 cfg->final_nodes[i]);
		first = false;
	}
	if (cfg->port && used < len)
		used += snprintf(buf + used, len - used, " --port %u", cfg->port);
	if (cfg->serializable && used < len)
		used += snprintf(buf + used, len - used, " --serializable");
	if (cfg->consistency != CONSISTENCY_DEFAULT && used < len)
		used += snprintf(buf + used, len - used, " --consistency %s",
				 proto_consistency_name(cfg->consistency));
	/* Paced as a whole: each host its clients' part of the rate. */
	if (cfg->rate > 0 && used < len) {
		unsigned int mine = 0;

		for (unsigned int k = 0; k < cfg->clients; k++)
			mine += host_of_client(cfg, lh, k) == h;
		if (mine)
			used += snprintf(buf + used, len - used, " --rate %.6f",
					 cfg->rate * mine / cfg->clients);
	}
	if (cfg->exec_argc && used < len)
		used += snprintf(buf + used, len - used, " --");
	if (used < len)
		used = remote_words_append(buf, len, used, cfg->exec_argc, cfg->exec_argv);
	if (used >= len) {
		report_fail("the command line of a host's share is too long");
		return -E2BIG;
	}
	return 0;
}

static int keep_output(struct share *s, const char *buf, size_t n)
{
	if (s->out_len + n + 1 > s->out_cap) {
		size_t cap = s->out_cap ? 2 * s->out_cap : 1 << 16;
		char *out;

		while (cap < s->out_len + n + 1)
			cap *= 2;
		if (cap > SHARE_OUT_MAX)
			return -EFBIG;
		out = realloc(s->out, cap);
		if (!out)
			return -ENOMEM;
		s->out = out;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, buf, n);
	s->out_len += n;
	s->out[s->out_len] = '\0';
	return 0;
}

static void keep_error(struct share *s, const char *buf, size_t n)
{
	if (n >= sizeof(s->err)) {
		buf += n - (sizeof(s->err) - 1);
		n = sizeof(s->err) - 1;
	}
	if (s->err_len + n >= sizeof(s->err)) {
		size_t drop = s->err_len + n - (sizeof(s->err) - 1);

		memmove(s->err, s->err + drop, s->err_len - drop);
		s->err_len -= drop;
	}
	memcpy(s->err + s->err_len, buf, n);
	s->err_len += n;
	s->err[s->err_len] = '\0';
}

/* Ends every share early: its input closed, each finishes its requests and stops. */
static void stop_all(struct share *shares, unsigned int n, bool *stopped)
{
	for (unsigned int h = 0; h < n; h++)
		if (shares[h].child.in >= 0) {
			close(shares[h].child.in);
			shares[h].child.in = -1;
		}
	*stopped = true;
}

/* Reads every share's output until all have ended; a stop asked for closes their inputs, and
 * so does the end of one share's when they end together (the clients of a run). */
static int gather(struct share *shares, unsigned int n, bool together,
		  const volatile sig_atomic_t *stop)
{
	bool stopped = false;
	int err = 0;

	for (;;) {
		struct pollfd fds[2 * HOSTS_MAX];
		struct share *owner[2 * HOSTS_MAX];
		nfds_t m = 0;

		if (stop && *stop && !stopped)
			stop_all(shares, n, &stopped);
		for (unsigned int h = 0; h < n; h++) {
			if (shares[h].child.out >= 0) {
				owner[m] = &shares[h];
				fds[m++] = (struct pollfd){ .fd = shares[h].child.out,
							    .events = POLLIN };
			}
			if (shares[h].child.err >= 0) {
				owner[m] = &shares[h];
				fds[m++] = (struct pollfd){ .fd = shares[h].child.err,
							    .events = POLLIN };
			}
		}
		if (!m)
			return err;
		if (poll(fds, m, 200) < 0 && errno != EINTR)
			return -errno;
		for (nfds_t i = 0; i < m; i++) {
			struct share *s = owner[i];
			bool is_out = fds[i].fd == s->child.out;
			char buf[65536];
			ssize_t got;

			if (!fds[i].revents)
				continue;
			got = read(fds[i].fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(fds[i].fd);
				*(is_out ? &s->child.out : &s->child.err) = -1;
				/* A share ends at the run's end, or early when it failed: either
				 * way the others have nothing left to wait for. */
				if (is_out && together && !stopped)
					stop_all(shares, n, &stopped);
				continue;
			}
			if (!is_out)
				keep_error(s, buf, got);
			else if (!err)
				err = keep_output(s, buf, got);
		}
	}
}

/* The last line a share said on standard error, for the one line capctl prints. */
static const char *last_words(struct share *s)
{
	char *end = s->err + s->err_len, *start;

	while (end > s->err && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = end;
	while (start > s->err && start[-1] != '\n')
		start--;
	return *start ? start : NULL;
}

/* A '"' inside a JSON string is always escaped, so `,"time":` (or `{"time":`) is never part of
 * a string. */
int history_time_digits(const char *line, size_t len, size_t *at, size_t *end)
{
	static const char key[] = "\"time\":";

	for (size_t i = 1; i + sizeof(key) - 1 < len; i++) {
		if ((line[i - 1] != ',' && line[i - 1] != '{') ||
		    memcmp(line + i, key, sizeof(key) - 1))
			continue;
		*at = *end = i + sizeof(key) - 1;
		while (*end < len && line[*end] >= '0' && line[*end] <= '9')
			(*end)++;
		return *end > *at ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int by_time(const void *a, const void *b)
{
	const struct merged_line *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Every line of every share, checked as a history line, its time corrected by its host's
 * offset; sorted by that time (a process's own lines keep their order: one host, one offset,
 * and a process is one share's). A share's last line cut short (its host lost while it wrote)
 * is left out: an invoke never seen, or a completion whose invoke stays open, which is info;
 * so are a round of final reads' "#final" lines, for the controller alone. */
static int collect(const struct share *shares, unsigned int n_shares, const struct lab_hosts *lh,
		   const struct host_clock *clock, struct merged_line **out, size_t *n_out)
{
	struct merged_line *lines = NULL;
	size_t n = 0, cap = 0;

	for (unsigned int i = 0; i < n_shares; i++) {
		const char *p = shares[i].out, *end = p ? p + shares[i].out_len : NULL;
		unsigned int h = shares[i].host;
		size_t seq = 0;

		for (; p && p < end; seq++) {
			const char *nl = memchr(p, '\n', end - p);
			size_t len = (nl ? nl : end) - p;
			struct history_error e = { 0 };
			struct history one;
			struct merged_line *m;
			int64_t t;

			if (!nl)
				break;
			if (!len || *p == '#') {
				p += len + 1;
				continue;
			}
			history_init(&one);
			if (history_parse_buf(&one, p, len, &e) || one.n_events != 1) {
				report_fail("host %s wrote a history line capctl cannot read: %s",
					    lh->hosts.host[h].dest, e.msg);
				history_free(&one);
				free(lines);
				return -EPROTO;
			}
			t = (int64_t)one.events[0].time - clock[h].offset_ns;
			history_free(&one);
			if (n == cap) {
				struct merged_line *grown;

				cap = cap ? 2 * cap : 4096;
				grown = realloc(lines, cap * sizeof(*lines));
				if (!grown) {
					free(lines);
					return -ENOMEM;
				}
				lines = grown;
			}
			m = &lines[n++];
			*m = (struct merged_line){ .time = t > 0 ? (uint64_t)t : 0,
						   .host = h,
						   .seq = seq,
						   .start = p,
						   .len = len };
			if (history_time_digits(p, len, &m->time_at, &m->time_end)) {
				report_fail("host %s wrote a history line without its time",
					    lh->hosts.host[h].dest);
				free(lines);
				return -EPROTO;
			}
			p += len + 1;
		}
	}
	qsort(lines, n, sizeof(*lines), by_time);
	*out = lines;
	*n_out = n;
	return 0;
}

/* What takes a reference CLOCK_TAI stamp onto the controller's CLOCK_MONOTONIC, the clock of
 * the lab's fault log, counted from a capnet run's start under one: the controller's TAI less
 * its monotonic clock, read at one instant (a TAI read between two monotonic ones), plus the
 * origin. One constant for every line: it moves no line against another. */
static uint64_t fault_log_shift(void)
{
	uint64_t m0 = monotonic_ns(), tai = tai_ns(), m1 = monotonic_ns(),
		 mono = m0 + (m1 - m0) / 2;

	return tai - mono + workload_clock_origin(mono);
}

/* Each line with its time on the fault log's clock and, before its closing brace, its host's
 * bound. */
static int write_merged(const char *path, const struct merged_line *lines, size_t n,
			const struct lab_hosts *lh, const struct host_clock *clock)
{
	uint64_t shift = fault_log_shift();
	FILE *f = fopen(path, "w");

	if (!f) {
		report_fail("%s: %s", path, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		const struct merged_line *m = &lines[i];
		const char *close = memrchr(m->start, '}', m->len);

		fprintf(f, "%.*s%" PRIu64 "%.*s,\"epsilon\":%" PRIu64 ",\"host\":", (int)m->time_at,
			m->start, m->time > shift ? m->time - shift : 0,
			(int)(close - m->start - m->time_end), m->start + m->time_end,
			clock[m->host].bound_ns);
		json_write_string(f, lh->hosts.host[m->host].dest);
		fprintf(f, ",\"epsilon_source\":\"%s\"}\n",
			clock_source_name(clock[m->host].source));
	}
	if (fclose(f)) {
		report_fail("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The summary of capctl load, from the merged history itself: outcomes, processes, and the
 * latency of ok operations on their own host's clock (one process, one clock). */
static int summarize(const char *path, struct workload_stats *st)
{
	struct history_error e = { 0 };
	struct history h;
	uint64_t *lat, *proc;
	size_t n_lat = 0;
	FILE *f = fopen(path, "r");
	int err;

	if (!f)
		return -errno;
	history_init(&h);
	err = history_parse_file(&h, f, &e);
	fclose(f);
	if (!err)
		err = history_pair(&h, &e);
	if (err) {
		report_fail("%s:%ld: the merged history: %s", path, e.line, e.msg);
		history_free(&h);
		return err;
	}
	lat = calloc(h.n_ops + 1, sizeof(*lat));
	proc = calloc(h.n_ops + 1, sizeof(*proc));
	if (!lat || !proc) {
		free(lat);
		free(proc);
		history_free(&h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h.n_ops; i++) {
		const struct history_op *op = &h.ops[i];

		proc[i] = op->process;
		if (op->outcome == HISTORY_OK) {
			st->ok++;
			lat[n_lat++] = op->ret - op->call;
		} else if (op->outcome == HISTORY_FAIL) {
			st->fail++;
		} else {
			st->info++;
		}
	}
	sort_u64(proc, h.n_ops);
	for (size_t i = 0; i < h.n_ops; i++)
		st->processes += !i || proc[i] != proc[i - 1];
	workload_percentiles(lat, n_lat, st);
	free(lat);
	free(proc);
	history_free(&h);
	return 0;
}

/* Every share of the run, in the order they were started. */
static struct share shares[HOSTS_MAX * (FINAL_ROUNDS_MAX + 1) + 1];
static unsigned int n_shares;

/* Starts host h's share in `phase`; its process numbers are share slot's. */
static int start_share(const struct workload_config *cfg, const struct lab_hosts *lh,
		       unsigned int h, unsigned int slot, const char *phase, uint64_t seed,
		       const char *prefix)
{
	static char args[16384];
	struct share *s = &shares[n_shares++];
	int err;

	memset(s, 0, sizeof(*s));
	s->child = (struct remote_child){ .pid = -1, .in = -1, .out = -1, .err = -1 };
	s->host = h;
	err = share_args(cfg, lh, h, slot, phase, seed, prefix, args, sizeof(args));
	if (err)
		return err;
	err = remote_spawn(capctl_opts.lab, &lh->hosts.host[h], remote_program("capctl"), args,
			   &s->child);
	if (err)
		report_fail("host %s: starting its share of the load: %s", lh->hosts.host[h].dest,
			    strerror(-err));
	return err;
}

/* Waits for the shares from `first` on (their phase): 0 once all ended well, or -EIO with
 * *failed the first that did not. */
static int end_phase(unsigned int first, bool together, const volatile sig_atomic_t *stop,
		     struct share **failed)
{
	int err = gather(shares + first, n_shares - first, together, stop);

	for (unsigned int i = first; i < n_shares; i++) {
		shares[i].status = remote_wait(&shares[i].child);
		if (shares[i].status && !*failed)
			*failed = &shares[i];
	}
	if (err == -EFBIG || err == -ENOMEM)
		report_fail("a host's history is too big to merge: %s", strerror(-err));
	return err ? err : *failed ? -EIO : 0;
}

/* Names the host of a share that failed, and what became of the run: the one line capctl says.
 * Its lines until then are in the history; an operation it left open is info. */
static void report_lost(const struct lab_hosts *lh, struct share *s, const char *phase,
			const char *path)
{
	const char *why = last_words(s);

	report_fail("host %s %s %s: %s; %s holds every host's lines until then (an operation "
		    "left open is info)",
		    lh->hosts.host[s->host].dest,
		    s->status == 255 ? "was lost during" : "failed in", phase,
		    why ? why : "no word on standard error", path);
}

/* The lists per key slot an append run used on any host: one more than the highest slot of
 * the keys its appends named ("PREFIXl<k + keys * slot>"). */
static unsigned int append_slots(const struct workload_config *cfg, const char *prefix,
				 unsigned int first, unsigned int end)
{
	unsigned int slots = 1;
	char key[64];
	int len = snprintf(key, sizeof(key), "\"key\":\"%sl", prefix);

	for (unsigned int i = first; i < end; i++)
		for (const char *p = shares[i].out; p && (p = strstr(p, key)); p += len) {
			unsigned long k = strtoul(p + len, NULL, 10);

			if (k / cfg->keys + 1 > slots && k / cfg->keys < WORKLOAD_MAX_KEYS)
				slots = k / cfg->keys + 1;
		}
	return slots;
}

/* A round's "#final NODE PRINT" lines, into answered[] and prints[] by node. */
static void read_final_prints(const struct share *s, bool *answered, uint64_t *prints)
{
	for (const char *p = s->out; p && (p = strstr(p, "#final ")); p++) {
		unsigned int node;
		unsigned long long print;

		if (sscanf(p, "#final %u %llx", &node, &print) == 2 && node < CAPNET_NODE_SLOTS) {
			answered[node] = true;
			prints[node] = print;
		}
	}
}

/* The quiet time, then rounds of final reads of every node on every host at once, until every
 * node that answered gave the same answers or the time is up: as workload.c does on one
 * host, the rounds begun here and compared here. */
static int final_phase(const struct workload_config *cfg, const struct lab_hosts *lh, uint64_t t0,
		       uint64_t seed, const char *prefix, const char *path)
{
	static bool answered[CAPNET_NODE_SLOTS];
	static uint64_t prints[CAPNET_NODE_SLOTS];
	uint64_t deadline, pause = 500 * 1000000ull;
	unsigned int slots = cfg->kind == WORKLOAD_APPEND ? append_slots(cfg, prefix, 0, n_shares) :
							    0,
		     round, heard = 0;
	bool agree = false;
	char phase[64];

	workload_settle(cfg, t0);
	test_hook_phase("load-final-reads");
	deadline = monotonic_ns() + (uint64_t)(cfg->final_read_s * 1e9);
	memset(answered, 0, sizeof(answered));
	for (round = 1; round <= FINAL_ROUNDS_MAX; round++) {
		struct share *failed = NULL;
		uint64_t now = monotonic_ns(), left = deadline > now ? deadline - now : 0;
		unsigned int first = n_shares;
		bool print_set = false;
		uint64_t print = 0;
		int err = 0;

		snprintf(phase, sizeof(phase), "final:%u:%llu", slots,
			 (unsigned long long)(left / 1000000 ? left / 1000000 : 1));
		for (unsigned int h = 0; h < lh->hosts.count && !err; h++) {
			bool here = false;

			for (unsigned int i = 0; i < cfg->n_final_nodes; i++)
				here |= lh->place.host_of[cfg->final_nodes[i]] == h;
			if (here)
				err = start_share(cfg, lh, h,
						  lh->hosts.count + 1 +
							  (round - 1) * lh->hosts.count + h,
						  phase, seed, prefix);
		}
		if (!err)
			err = end_phase(first, false, NULL, &failed);
		if (failed)
			report_lost(lh, failed, "the final reads", path);
		if (err)
			return err;
		for (unsigned int i = first; i < n_shares; i++)
			read_final_prints(&shares[i], answered, prints);
		agree = true;
		for (unsigned int i = 0; i < cfg->n_final_nodes; i++) {
			unsigned int node = cfg->final_nodes[i];

			if (!answered[node])
				continue;
			agree &= !print_set || prints[node] == print;
			print = prints[node];
			print_set = true;
		}
		if (agree || monotonic_ns() + pause >= deadline || (cfg->stop && *cfg->stop))
			break;
		sleep_ns(pause);
		pause *= 2;
	}
	if (!agree)
		workload_warn_disagree(round > FINAL_ROUNDS_MAX ? FINAL_ROUNDS_MAX : round,
				       cfg->final_read_s);
	for (unsigned int i = 0; i < cfg->n_final_nodes; i++) {
		if (answered[cfg->final_nodes[i]])
			heard++;
		else
			workload_warn_silent(cfg->final_nodes[i], cfg->final_read_s);
	}
	if (!heard) {
		report_fail("no node gave a final read: the history cannot say what was lost");
		return -EIO;
	}
	return 0;
}

/* The clients of every host, begun together, ended together. */
static int clients_phase(const struct workload_config *cfg, const struct lab_hosts *lh,
			 uint64_t seed, const char *prefix, const char *path)
{
	struct share *failed = NULL;
	unsigned int first = n_shares;
	int err = 0;

	for (unsigned int h = 0; h < lh->hosts.count && !err; h++) {
		bool mine = false;

		for (unsigned int k = 0; k < cfg->clients; k++)
			mine |= host_of_client(cfg, lh, k) == h;
		if (mine)
			err = start_share(cfg, lh, h, h, "clients", seed, prefix);
	}
	if (err) {
		/* Those begun end at once, their input closed. */
		for (unsigned int i = first; i < n_shares; i++)
			remote_wait(&shares[i].child);
		return err;
	}
	err = end_phase(first, true, cfg->stop, &failed);
	if (failed)
		report_lost(lh, failed, "the run", path);
	return err;
}

/* A bank's accounts, opened once for the whole run on the host of the first node, before any
 * host's clients begin. Each stamp is within its host's bound of the truth: the clients wait
 * out both bounds (twice the largest), so that no widening puts an opening after a transfer. */
static int opening_phase(const struct workload_config *cfg, const struct lab_hosts *lh,
			 const struct host_clock *clock, uint64_t seed, const char *prefix,
			 const char *path)
{
	struct share *failed = NULL;
	unsigned int first = n_shares;
	uint64_t widest = 0;
	int err;

	err = start_share(cfg, lh, lh->place.host_of[cfg->nodes[0]], lh->hosts.count, "open", seed,
			  prefix);
	if (!err)
		err = end_phase(first, false, NULL, &failed);
	if (failed)
		report_lost(lh, failed, "the bank's opening", path);
	if (err)
		return err;
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		widest = clock[h].bound_ns > widest ? clock[h].bound_ns : widest;
	sleep_ns(2 * widest);
	return 0;
}

int load_across_hosts(const struct workload_config *cfg, const struct lab_hosts *lh,
		      const char *path, struct workload_stats *st)
{
	static struct host_clock before[HOSTS_MAX], after[HOSTS_MAX], clock[HOSTS_MAX];
	struct merged_line *lines = NULL;
	size_t n_lines = 0;
	char prefix[16] = "";
	uint64_t seed = cfg->seed, t0, start;
	bool lost = false;
	int err = 0;

	memset(st, 0, sizeof(*st));
	/* A host lost while the controller writes to its ssh (a clock probe, say) is an error
	 * that names it, not the end of the controller and of the history. */
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < cfg->n_nodes; i++)
		if (cfg->nodes[i] > lh->nodes) {
			report_fail("--nodes: the lab has %u nodes, not node %u", lh->nodes,
				    cfg->nodes[i]);
			return -EINVAL;
		}
	for (unsigned int i = 0; i < cfg->n_final_nodes; i++)
		if (cfg->final_nodes[i] > lh->nodes) {
			report_fail("--final-nodes: the lab has %u nodes, not node %u", lh->nodes,
				    cfg->final_nodes[i]);
			return -EINVAL;
		}
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = monotonic_ns() | 1;
	st->seed = seed;
	/* A real system's keys begin with the run's id, the same on every host. */
	if (cfg->client != WORKLOAD_CLIENT_CAPNODE) {
		uint32_t id;

		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint32_t)monotonic_ns();
		snprintf(prefix, sizeof(prefix), "%08x/", id);
	}
	if (clock_probe_hosts(capctl_opts.lab, &lh->hosts, before)) {
		report_fail("%s", error_reason(-EIO));
		return -EIO;
	}

	t0 = start = monotonic_ns();
	/* The faults file of a capnet run counts from its start, as the history does. */
	if (workload_clock_origin(t0))
		t0 = workload_clock_origin(t0);
	n_shares = 0;
	if (cfg->kind == WORKLOAD_BANK)
		err = opening_phase(cfg, lh, before, seed, prefix, path);
	if (!err && !(cfg->stop && *cfg->stop))
		err = clients_phase(cfg, lh, seed, prefix, path);
	/* The run's time, as on one host: the opening and the clients, not the final reads. */
	st->elapsed_s = (monotonic_ns() - start) / 1e9;
	if (!err && (cfg->kind == WORKLOAD_SET || cfg->kind == WORKLOAD_APPEND))
		err = final_phase(cfg, lh, t0, seed, prefix, path);
	/* A host that failed or was lost: what every host said until then is still merged. */
	for (unsigned int i = 0; i < n_shares; i++)
		lost |= shares[i].status != 0;
	if (err && !lost)
		goto out;
	/* A host lost at the end costs the measure of drift, not the run. */
	if (lost || clock_probe_hosts(capctl_opts.lab, &lh->hosts, after)) {
		if (!lost)
			report_warn("%s; the clocks' bounds are those measured before the run",
				    error_reason(-EIO));
		memcpy(after, before, sizeof(after));
	}
	/* The offset of the first measure is taken off; the bound covers both measures. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		int64_t moved = after[h].offset_ns - before[h].offset_ns;
		uint64_t later = after[h].bound_ns + (uint64_t)(moved < 0 ? -moved : moved);

		clock[h] = before[h];
		clock[h].bound_ns = later > before[h].bound_ns ? later : before[h].bound_ns;
		if (after[h].source != before[h].source && !err) {
			/* Two references: neither measure bounds the other's stamps. */
			report_fail("the hosts' clock synchronisation changed during the run (%s "
				    "before, %s after): their stamps cannot be merged",
				    clock_source_name(before[h].source),
				    clock_source_name(after[h].source));
			err = -ESTALE;
			goto out;
		}
	}
	{
		int merged = collect(shares, n_shares, lh, clock, &lines, &n_lines);

		if (!merged)
			merged = write_merged(path, lines, n_lines, lh, clock);
		if (!merged && !err)
			merged = summarize(path, st);
		if (!err)
			err = merged;
	}
out:
	free(lines);
	for (unsigned int i = 0; i < n_shares; i++) {
		free(shares[i].out);
		shares[i].out = NULL;
	}
	return err;
}

int capctl_on_host(const char *lab, const struct host_dest *h, const char *args, const char *input,
		   unsigned int lead_lines, bool (*lead)(const char *line, void *ctx), void *ctx,
		   struct host_capctl *r)
{
	struct share s = { 0 };
	const char *why;
	int err;

	memset(r, 0, sizeof(*r));
	err = remote_spawn(lab, h, remote_program("capctl"), args, &s.child);
	if (err)
		return err;
	/* A host that ends before taking it says why on standard error. */
	if (input)
		files_write_all(s.child.in, input, strlen(input));
	close(s.child.in);
	s.child.in = -1;
	for (unsigned int i = 0; i < lead_lines && !err; i++) {
		static char line[32768];

		if (remote_read_line(s.child.out, line, sizeof(line), -1))
			break;
		if (!lead(line, ctx)) {
			err = keep_output(&s, line, strlen(line));
			if (!err)
				err = keep_output(&s, "\n", 1);
			break;
		}
	}
	if (!err)
		err = gather(&s, 1, false, NULL);
	r->status = remote_wait(&s.child);
	r->out = s.out;
	r->out_len = s.out_len;
	snprintf(r->err, sizeof(r->err), "%s", s.err);
	why = last_words(&s);
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "no word on standard error");
	return err;
}
