// SPDX-License-Identifier: GPL-2.0-only
/* partition, cut, heal and link across hosts: the two-phase switch. Every host writes the new
 * policy into its idle copy and stays on the line; once all are ready, every host's filter
 * takes it at one CLOCK_TAI instant. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "lib/test_hook.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/hosts/clock_probe.h"
#include "netem/lab/lab_record.h"

/* A number member of a host's JSON line; 0 if absent or the line is not one. */
static uint64_t json_u64(const char *text, const char *key)
{
	uint64_t value = 0;

	return json_text_u64(text, key, &value) ? 0 : value;
}

/* How long a host may take to answer a step of a switch: a bound for a host that hangs, not
 * a claim about speed. */
#define SWITCH_ANSWER_MS 60000

/* Every host's session told to end (its standard input closed: a host still waiting for a
 * commit ends without switching), and waited for. */
static void end_sessions(struct remote_child *child, unsigned int n)
{
	for (unsigned int h = 0; h < n; h++)
		remote_wait(&child[h]);
}

int hosts_switch(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		 char **argv)
{
	static char args[16384], prefix[64], what[1024], commit_line[HOSTS_MAX][64];
	static struct remote_child child[HOSTS_MAX];
	static struct remote_reply reply[HOSTS_MAX];
	static struct switch_plan plan;
	static int64_t tai_shift_ns[HOSTS_MAX];
	int64_t host_offset;
	const char *lines[HOSTS_MAX];
	bool live[HOSTS_MAX];
	struct switch_commit commit;
	bool preset = false, seed = false;
	uint64_t t0, round_trip, latest = 0, lead = UINT64_MAX, most_lead = 0;
	static char record[HOSTS_MAX * 48 + 64];
	size_t used;

	cli_take_json(cli, &argc, argv);
	for (int i = 0; i < argc; i++) {
		preset |= !strcmp(argv[i], "--preset");
		seed |= !strcmp(argv[i], "--seed");
	}
	if (cli_need_root(name))
		return EXIT_FAIL;
	snprintf(prefix, sizeof(prefix), "host prepare %s", name);
	remote_line(prefix, argc, argv, args, sizeof(args));
	used = strlen(args);
	/* A random preset must draw the same groups on every host. */
	if (preset && !seed && used < sizeof(args))
		snprintf(args + used, sizeof(args) - used, " --seed %llu",
			 (unsigned long long)(tai_ns() ^ (uint64_t)getpid() << 32));

	/* Phase one: every host writes its idle copy, says which generation it holds, and stays
	 * on the line for the commit: phase two starts no process anywhere. */
	signal(SIGPIPE, SIG_IGN); /* a host's ssh that ended is told by its output's end */
	switch_plan_start(&plan, lh->hosts.count);
	t0 = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		live[h] = !remote_spawn(cli->lab, &lh->hosts.host[h], NULL, args, &child[h]);
		if (!live[h])
			snprintf(reply[h].why, sizeof(reply[h].why), "%s", error_reason(-EIO));
	}
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	round_trip = tai_ns() - t0;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t generation = live[h] ? json_u64(reply[h].line, "generation") : 0;

		if (!generation)
			switch_plan_failed(&plan, h,
					   reply[h].why[0] ? reply[h].why : "no generation");
		else
			switch_plan_prepared(&plan, h, generation, 0, 0);
	}
	if (switch_plan_decide(&plan, tai_ns(), &commit) == SWITCH_ABORT) {
		end_sessions(child, lh->hosts.count);
		return report_fail("%s: host %s did not prepare: %s; no host switched%s", name,
				   lh->hosts.host[commit.failed_host].dest,
				   plan.why[commit.failed_host],
				   hosts_lost_remedy(cli, lh, commit.failed_host));
	}
	{
		const char *p = strstr(reply[0].line, "\"partition\":\"");

		snprintf(what, sizeof(what), "%.*s", p ? (int)strcspn(p + 13, "\"") : 0,
			 p ? p + 13 : "");
	}
	test_hook_phase("switch-prepared");

	/* Every host is asked again whether it is still there, holding what it prepared, before
	 * any is told an instant: a host lost since its prepare stops the switch everywhere. The
	 * answers' round trip, over the open sessions, sets how far ahead the instant must be. */
	t0 = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		lines[h] = "ready\n";
	remote_write_all(child, lh->hosts.count, live, lines, reply);
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	switch_plan_start(&plan, lh->hosts.count);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t generation = live[h] ? json_u64(reply[h].line, "ready") : 0;

		if (!live[h])
			switch_plan_failed(&plan, h, reply[h].why);
		else if (!generation)
			switch_plan_failed(&plan, h, reply[h].line);
		else
			switch_plan_prepared(&plan, h, generation, reply[h].at_ns - t0, 0);
		/* A kernel whose TAI offset is not the controller's reads CLOCK_TAI whole seconds
		 * away from it, however close chrony keeps the wall clocks: its instant is told in
		 * its own TAI. */
		tai_shift_ns[h] = 0;
		if (live[h] && !json_text_i64(reply[h].line, "tai_offset_s", &host_offset))
			tai_shift_ns[h] = (host_offset - clock_tai_offset_s()) * 1000000000ll;
	}
	if (switch_plan_decide(&plan, tai_ns(), &commit) == SWITCH_ABORT) {
		end_sessions(child, lh->hosts.count);
		return report_fail("%s: host %s was lost after it prepared: %s; no host switched",
				   name, lh->hosts.host[commit.failed_host].dest,
				   plan.why[commit.failed_host]);
	}

	/* Phase two: every host takes it at the same CLOCK_TAI instant, in its filter. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		snprintf(commit_line[h], sizeof(commit_line[h]), "commit %llu %llu\n",
			 (unsigned long long)plan.generation[h],
			 (unsigned long long)(commit.flip_at_tai_ns + tai_shift_ns[h]));
		lines[h] = commit_line[h];
	}
	remote_write_all(child, lh->hosts.count, live, lines, reply);
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t late = live[h] ? json_u64(reply[h].line, "late_ns") : 0,
			 ahead = live[h] ? json_u64(reply[h].line, "lead_ns") : 0;
		const char *why = !live[h]			    ? reply[h].why :
				  !strstr(reply[h].line, "lead_ns") ? reply[h].line :
								      NULL;

		if (why) {
			end_sessions(child, lh->hosts.count);
			return report_fail(
				"%s: host %s did not take the switch: %s; the lab is not "
				"consistent (capnet --lab %s heal once it is back)",
				name, lh->hosts.host[h].dest, why, cli->lab);
		}
		if (late > latest)
			latest = late;
		if (ahead < lead)
			lead = ahead;
		if (ahead > most_lead)
			most_lead = ahead;
	}
	end_sessions(child, lh->hosts.count);
	/* For status: how soon after this instant each host's filter acted on the new copy. */
	used = snprintf(record, sizeof(record), "flip_at %llu\ngenerations",
			(unsigned long long)commit.flip_at_tai_ns);
	for (unsigned int h = 0; h < lh->hosts.count && used < sizeof(record); h++)
		used += snprintf(record + used, sizeof(record) - used, " %llu",
				 (unsigned long long)plan.generation[h]);
	used += snprintf(record + used, used < sizeof(record) ? sizeof(record) - used : 0,
			 "\ntai_shifts");
	for (unsigned int h = 0; h < lh->hosts.count && used < sizeof(record); h++)
		used += snprintf(record + used, sizeof(record) - used, " %lld",
				 (long long)tai_shift_ns[h]);
	lab_record_forget(cli->lab, SWITCH_RECORD);
	lab_record_write(cli->lab, SWITCH_RECORD, record, "the last switch across hosts");
	if (cli->json)
		printf("{\"lab\":\"%s\",\"partition\":\"%s\",\"generation\":%llu,\"hosts\":%u,"
		       "\"flip_at_tai_ns\":%llu,\"lead_ns\":%llu,\"late_ns\":%llu,"
		       "\"arrival_spread_ns\":%llu,\"prepare_us\":%.1f}\n",
		       cli->lab, what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       (unsigned long long)commit.flip_at_tai_ns, (unsigned long long)lead,
		       (unsigned long long)latest, (unsigned long long)(most_lead - lead),
		       round_trip / 1e3);
	else
		printf("%s (generation %llu) on %u hosts at one CLOCK_TAI instant: prepared in "
		       "%.1f ms, the last host %.1f ms ahead of it%s\n",
		       what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       round_trip / 1e6, lead / 1e6,
		       latest ? ", one too late: it switched when it was told" : "");
	hosts_log_fault(cli, lh, name, argc, argv, what, NULL, plan.generation[0]);
	return EXIT_OK;
}
