// SPDX-License-Identifier: GPL-2.0-only
/* capnet watch: every frame the filter drops, as it happens, from the drop-event ring; with
 * `-- CMD`, the drops of the frames CMD's run made, so a student sees a ping's drops without
 * racing it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include "netem/cli.h"
#include "netem/explain.h"
#include "lib/ip_proto.h"
#include "lib/monotonic.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch_ctx {
	bool json;
	bool for_controller; /* `host watch`: TAI times and a watermark, for a merge across hosts */
	int64_t tai_offset_ns; /* CLOCK_TAI less CLOCK_MONOTONIC, when for_controller */
	unsigned long long seen, limit;
};

static void format_ip(const struct capnet_drop_event *ev, const uint32_t *addr, char *buf,
		      size_t len)
{
	if (ev->ethertype == 0x0800)
		inet_ntop(AF_INET, addr, buf, len);
	else if (ev->ethertype == 0x86dd)
		inet_ntop(AF_INET6, addr, buf, len);
	else
		snprintf(buf, len, "-");
}

/* What a cause alone does not say: which rule, a seeded loss, where a bit was flipped. */
static const char *detail(const struct capnet_drop_event *ev, char *buf, size_t len)
{
	buf[0] = 0;
	if (ev->reason == CAPNET_DROP_PARTITION && ev->rule)
		snprintf(buf, len, " (rule %u)", ev->rule);
	else if (ev->reason == CAPNET_DROP_LOSS && ev->flags & CAPNET_EVENT_SEEDED)
		snprintf(buf, len, " (seeded)");
	else if (ev->reason == CAPNET_CORRUPTED)
		snprintf(buf, len, " (bit %u of the word at byte %u)", ev->flags >> 4,
			 ev->corrupt_off);
	return buf;
}

static int print_event(const struct capnet_drop_event *ev, void *arg)
{
	struct watch_ctx *ctx = arg;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pbuf[24], payload[2 * 32 + 1], why[48];
	const char *proto = "-";
	unsigned int i;

	format_ip(ev, ev->saddr, src, sizeof(src));
	format_ip(ev, ev->daddr, dst, sizeof(dst));
	if (ev->ethertype == 0x0800 || ev->ethertype == 0x86dd)
		proto = ip_proto_name(ev->ip_proto, pbuf, sizeof(pbuf));
	for (i = 0; i < ev->payload_len && i < CAPNET_EVENT_PAYLOAD; i++)
		sprintf(payload + 2 * i, "%02x", ev->payload[i]);
	payload[2 * i] = 0;

	/* For the controller: the drop's CLOCK_TAI time first, the one clock of every host. */
	if (ctx->for_controller)
		printf("E %llu ", (unsigned long long)(ev->time_ns + ctx->tai_offset_ns));
	if (ctx->json)
		printf("{\"time_ns\":%llu,\"generation\":%llu,\"from\":%u,\"to\":%u,"
		       "\"cause\":\"%s\",\"ethertype\":%u,\"proto\":\"%s\",\"src\":\"%s\","
		       "\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,\"ip_id\":%u,\"l4_csum\":%u,"
		       "\"len\":%u,\"payload\":\"%s\",\"rule\":%u,\"seeded\":%s,"
		       "\"corrupt_offset\":%u,\"corrupt_bit\":%u}\n",
		       (unsigned long long)ev->time_ns, (unsigned long long)ev->generation, ev->src,
		       ev->dst, verdict_name(ev->reason), ev->ethertype, proto, src, dst, ev->sport,
		       ev->dport, ev->ip_id, ev->l4_csum, ev->len, payload, ev->rule,
		       ev->flags & CAPNET_EVENT_SEEDED && ev->reason == CAPNET_DROP_LOSS ? "true" :
											   "false",
		       ev->reason == CAPNET_CORRUPTED ? ev->corrupt_off : 0,
		       ev->reason == CAPNET_CORRUPTED ? ev->flags >> 4 : 0);
	else if (ev->ethertype == 0x0800 || ev->ethertype == 0x86dd)
		printf("%.6f gen %llu %-9s %u -> %u %s %s:%u > %s:%u id %u len %u%s\n",
		       (ev->time_ns + ctx->tai_offset_ns) / 1e9, (unsigned long long)ev->generation,
		       verdict_name(ev->reason), ev->src, ev->dst, proto, src, ev->sport, dst,
		       ev->dport, ev->ip_id, ev->len, detail(ev, why, sizeof(why)));
	else
		printf("%.6f gen %llu %-9s %u -> %u ethertype 0x%04x len %u%s\n",
		       (ev->time_ns + ctx->tai_offset_ns) / 1e9, (unsigned long long)ev->generation,
		       verdict_name(ev->reason), ev->src, ev->dst, ev->ethertype, ev->len,
		       detail(ev, why, sizeof(why)));
	fflush(stdout);
	ctx->seen++;
	if (ctx->limit && ctx->seen >= ctx->limit)
		return -ECANCELED;
	return 0;
}

int watch_parse_args(int argc, char **argv, struct watch_args *a)
{
	char *end;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			if (i + 1 >= argc)
				return report_usage(
					"watch: a command after --, like capnet watch -- "
					"capnet exec 1 -- ping -c 3 10.77.0.2");
			a->cmd = argv + i + 1;
			break;
		}
		if (!strcmp(argv[i], "--count")) {
			if (++i >= argc)
				return report_usage("watch: --count needs a number");
			errno = 0;
			a->count = strtoull(argv[i], &end, 10);
			if (!*argv[i] || *end || errno || !a->count || argv[i][0] == '-')
				return report_usage(
					"watch: --count \"%s\" is not a positive number", argv[i]);
		} else if (!strcmp(argv[i], "--duration")) {
			if (++i >= argc)
				return report_usage("watch: --duration needs seconds");
			if (cli_parse_duration_ms(argv[i], "watch: --duration", &a->duration_ms))
				return EXIT_USAGE;
		} else {
			return report_usage("watch: unknown argument \"%s\" (capnet watch [--json] "
					    "[--count N] [--duration S] [-- CMD ARG...])",
					    argv[i]);
		}
	}
	return EXIT_OK;
}

int watch_next_wait(long long *deadline, pid_t *child, int *status)
{
	int wait = 200;

	/* Once the command is over, the last of its frames are given 300 ms to be decided and
	 * read. */
	if (*child > 0 && waitpid(*child, status, WNOHANG) == *child) {
		*child = 0;
		*deadline = monotonic_ms() + 300;
	}
	if (*deadline) {
		long long left = *deadline - monotonic_ms();

		if (left <= 0)
			return -1;
		if (left < wait)
			wait = left;
	}
	return wait;
}

pid_t watch_command_start(char **cmd)
{
	pid_t child = fork();

	if (child == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "capnet: watch: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (child < 0)
		report_fail("watch: fork: %s", strerror(errno));
	return child;
}

int watch_command_end(const struct cli *cli, char **cmd, int status, unsigned long long seen)
{
	if (cmd && !cli->json)
		printf("# %s: %s %d; %llu frame%s dropped while it ran\n", cmd[0],
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), seen,
		       seen == 1 ? "" : "s");
	/* The command's failure is watch's: a script can tell. */
	if (cmd && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return EXIT_FAIL;
	return EXIT_OK;
}

/* For the controller, whose closing of this end (end of file) stops the watch. */
static bool controller_gone(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	return poll(&p, 1, 0) == 1 && read(STDIN_FILENO, &c, 1) <= 0;
}

static int watch(struct cli *cli, int argc, char **argv, bool for_controller)
{
	struct watch_ctx ctx = { .for_controller = for_controller };
	struct capnet_global_stats g0, g1;
	struct filter *filter = NULL;
	struct lab_info info;
	struct watch_args a;
	long long deadline = 0;
	char dir[256];
	int rc, err = 0, status = 0;
	pid_t child = 0;

	cli_take_json(cli, &argc, argv);
	rc = watch_parse_args(argc, argv, &a);
	if (rc)
		return rc;
	ctx.limit = a.count;
	ctx.json = cli->json;
	if (cli_need_root("capnet watch"))
		return EXIT_FAIL;
	rc = cli_open_whole_lab(cli, &info, &filter);
	if (rc)
		return rc;
	filter_pin_dir(cli->lab, dir, sizeof(dir));
	explain("bpftool map dump pinned %s/drop_events   # a ring buffer: read by capnet watch",
		dir);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (filter_read_global(filter, &g0))
		memset(&g0, 0, sizeof(g0));
	/* Live means from now on: drops from before watch started are not news. */
	err = filter_events_discard(filter);
	if (err) {
		filter_close(filter);
		return report_fail("watch: read drop events: %s", strerror(-err));
	}
	if (for_controller)
		ctx.tai_offset_ns = (int64_t)(tai_ns() - monotonic_ns());
	else if (!ctx.json)
		printf("# time: seconds of CLOCK_MONOTONIC (bpf_ktime_get_ns), the clock of capnet "
		       "status's flip times\n");
	fflush(stdout);
	if (a.cmd) {
		child = watch_command_start(a.cmd);
		if (child < 0) {
			filter_close(filter);
			return EXIT_FAIL;
		}
	}
	if (a.duration_ms)
		deadline = monotonic_ms() + a.duration_ms;
	while (!stop) {
		uint64_t mark;
		int wait = watch_next_wait(&deadline, &child, &status);

		if (wait < 0)
			break;
		/* The time now, read before the ring is: the drops before it are read now (but
		 * for one a filter on another CPU is writing at this very moment). */
		mark = for_controller ? tai_ns() : 0;

		err = filter_events_poll(filter, wait, print_event, &ctx);
		if (err == -ECANCELED) {
			err = 0;
			break;
		}
		if (err == -EINTR)
			err = 0;
		if (err)
			break;
		if (for_controller) {
			printf("W %llu\n", (unsigned long long)mark);
			fflush(stdout);
			if (controller_gone())
				break;
		}
	}
	if (!filter_read_global(filter, &g1) && g1.ring_overflow > g0.ring_overflow)
		fprintf(stderr, "capnet: watch: %llu drop events were lost (ring buffer full)\n",
			(unsigned long long)(g1.ring_overflow - g0.ring_overflow));
	filter_close(filter);
	if (child > 0) {
		/* Stopped (--count, --duration, a signal) before the command ended. */
		kill(child, SIGTERM);
		waitpid(child, &status, 0);
	}
	if (err)
		return report_fail("watch: %s", strerror(-err));
	return watch_command_end(cli, a.cmd, status, ctx.seen);
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	return watch(cli, argc, argv, false);
}

int cmd_watch_for_controller(struct cli *cli, int argc, char **argv)
{
	return watch(cli, argc, argv, true);
}
