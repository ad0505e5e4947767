// SPDX-License-Identifier: GPL-2.0-only
/* partition, cut, heal and link across hosts: the two-phase switch. Every host writes the new
 * policy into its idle copy and stays on the line; once all are ready, every host's filter
 * takes it at one CLOCK_TAI instant. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "lib/test_hook.h"
#include "netem/cmd/hosts_cmd.h"
#include "netem/hosts/clock_probe.h"
#include "netem/lab/lab_record.h"
#include "netem/lab/run_dir.h"

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

static int write_record(const char *lab, const struct switch_record *r)
{
	static char text[HOSTS_SWITCH_RECORD_MAX];

	return switch_record_format(r, text, sizeof(text)) ?:
		       lab_record_replace(lab, SWITCH_RECORD, text, "the last switch across hosts");
}

/* A switch some host did not confirm is in the controller's fault log for what it is: its
 * groups took effect on the hosts that confirmed, and its value names those that did not. */
static void log_unconfirmed(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
			    char **argv, const char *what, const struct switch_record *r)
{
	static char note[1024];
	size_t used = snprintf(note, sizeof(note), "not confirmed by host");

	for (unsigned int h = 0, n = 0; h < r->hosts && used < sizeof(note); h++)
		if (!r->confirmed[h])
			used += snprintf(note + used, sizeof(note) - used, "%s %s", n++ ? "," : "",
					 lh->hosts.host[h].dest);
	if (used < sizeof(note))
		snprintf(note + used, sizeof(note) - used,
			 ": in force where confirmed, the lab not consistent");
	hosts_log_fault(cli, lh, name, argc, argv, what, NULL, r->generation[0], note);
}

/* A controller killed between its commits wrote no line for that switch: the next switch
 * writes it, before its own, so that no policy a host held is missing from the fault log. */
static void log_late(struct cli *cli, const struct lab_hosts *lh, struct switch_record *r)
{
	static char note[256];
	char *words[] = { r->partition };

	snprintf(note, sizeof(note),
		 "logged late: its controller ended between its commits (instant CLOCK_TAI "
		 "%.6f s), before any host's confirmation; a host that missed it takes it at the "
		 "next switch",
		 r->flip_at_tai_ns / 1e9);
	hosts_log_fault(cli, lh, r->command, 1, words, r->partition, NULL, r->generation[0], note);
	r->logged = true;
	if (write_record(cli->lab, r))
		report_warn("%s (the late line may be written again)", error_reason(-EIO));
}

static int switch_locked(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
			 char **argv)
{
	static char args[16384], host_args[16384 + 64], holds[48], what[1024],
		commit_line[HOSTS_MAX][64];
	static struct switch_record record;
	bool recorded, first[HOSTS_MAX], rest[HOSTS_MAX];
	unsigned int missed = HOSTS_MAX;
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
	size_t used;

	cli_take_json(cli, &argc, argv);
	for (int i = 0; i < argc; i++) {
		preset |= !strcmp(argv[i], "--preset");
		seed |= !strcmp(argv[i], "--seed");
	}
	if (cli_need_root(name))
		return EXIT_FAIL;
	remote_line(name, argc, argv, args, sizeof(args));
	used = strlen(args);
	/* A random preset must draw the same groups on every host. */
	if (preset && !seed && used < sizeof(args))
		snprintf(args + used, sizeof(args) - used, " --seed %llu",
			 (unsigned long long)(tai_ns() ^ (uint64_t)getpid() << 32));
	/* Each host is told the generation the last switch gave it: one that missed its commit
	 * takes it first, and the command builds on the same policy on every host. */
	recorded = !hosts_switch_record(cli->lab, lh, &record);
	if (recorded && !record.logged && record.command[0])
		log_late(cli, lh, &record);

	/* Phase one: every host writes its idle copy, says which generation it holds, and stays
	 * on the line for the commit: phase two starts no process anywhere. */
	signal(SIGPIPE, SIG_IGN); /* a host's ssh that ended is told by its output's end */
	switch_plan_start(&plan, lh->hosts.count);
	t0 = tai_ns();
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		snprintf(holds, sizeof(holds), " --holds %llu",
			 (unsigned long long)record.generation[h]);
		snprintf(host_args, sizeof(host_args), "host prepare%s %s", recorded ? holds : "",
			 args);
		live[h] = !remote_spawn(cli->lab, &lh->hosts.host[h], NULL, host_args, &child[h]);
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

	/* What every host is told, recorded before any is: a controller killed between the
	 * commits leaves the evidence of which host should hold which generation. */
	record.hosts = lh->hosts.count;
	record.flip_at_tai_ns = commit.flip_at_tai_ns;
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		record.generation[h] = plan.generation[h];
		record.tai_shift_ns[h] = tai_shift_ns[h];
		record.confirmed[h] = false;
	}
	snprintf(record.command, sizeof(record.command), "%s", name);
	snprintf(record.partition, sizeof(record.partition), "%s", what);
	record.logged = false;
	if (write_record(cli->lab, &record)) {
		end_sessions(child, lh->hosts.count);
		return report_fail("%s: %s; no host switched", name, error_reason(-EIO));
	}
	test_hook_phase("switch-recorded");

	/* Phase two: every host takes it at the same CLOCK_TAI instant, in its filter. The first
	 * host is told apart from the others only so that a test can stop the controller between
	 * two commits; the instant leaves room for both. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		snprintf(commit_line[h], sizeof(commit_line[h]), "commit %llu %llu\n",
			 (unsigned long long)plan.generation[h],
			 (unsigned long long)(commit.flip_at_tai_ns + tai_shift_ns[h]));
		lines[h] = commit_line[h];
		first[h] = live[h] && !h;
		rest[h] = live[h] && h;
	}
	remote_write_all(child, lh->hosts.count, first, lines, reply);
	test_hook_phase("switch-committing");
	remote_write_all(child, lh->hosts.count, rest, lines, reply);
	for (unsigned int h = 0; h < lh->hosts.count; h++)
		live[h] = first[h] || rest[h];
	remote_read_lines(child, lh->hosts.count, live, reply, SWITCH_ANSWER_MS);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		uint64_t late = live[h] ? json_u64(reply[h].line, "late_ns") : 0,
			 ahead = live[h] ? json_u64(reply[h].line, "lead_ns") : 0;

		record.confirmed[h] = live[h] && strstr(reply[h].line, "lead_ns");
		if (!record.confirmed[h]) {
			if (missed == HOSTS_MAX)
				missed = h;
			continue;
		}
		if (late > latest)
			latest = late;
		if (ahead < lead)
			lead = ahead;
		if (ahead > most_lead)
			most_lead = ahead;
	}
	end_sessions(child, lh->hosts.count);
	/* Its line first, then the record that says it is written: a controller killed between
	 * the two makes the next switch write the line again, rather than none. */
	if (missed < HOSTS_MAX)
		log_unconfirmed(cli, lh, name, argc, argv, what, &record);
	else
		hosts_log_fault(cli, lh, name, argc, argv, what, NULL, plan.generation[0], NULL);
	record.logged = true;
	/* For status: which hosts confirmed, and (in the hosts' filters) how soon after this
	 * instant each acted on the new copy. */
	if (write_record(cli->lab, &record))
		report_warn("%s (the hosts' confirmations are not recorded)", error_reason(-EIO));
	if (missed < HOSTS_MAX)
		return report_fail("%s: host %s did not take the switch: %s; %s", name,
				   lh->hosts.host[missed].dest,
				   hosts_said(live[missed] ? reply[missed].line :
							     reply[missed].why),
				   hosts_inconsistent_remedy(cli));
	if (cli->json)
		printf("{\"lab\":\"%s\",\"partition\":\"%s\",\"generation\":%llu,\"hosts\":%u,"
		       "\"flip_at_tai_ns\":%llu,\"lead_ns\":%llu,\"late_ns\":%llu,"
		       "\"arrival_spread_ns\":%llu,\"prepare_us\":%.1f}\n",
		       cli->lab, what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       (unsigned long long)commit.flip_at_tai_ns, (unsigned long long)lead,
		       (unsigned long long)latest, (unsigned long long)(most_lead - lead),
		       round_trip / 1e3);
	else
		printf("%s (generation %llu) on %u host%s at one CLOCK_TAI instant: prepared in "
		       "%.1f ms, the last host %.1f ms ahead of it%s\n",
		       what, (unsigned long long)plan.generation[0], lh->hosts.count,
		       lh->hosts.count == 1 ? "" : "s", round_trip / 1e6, lead / 1e6,
		       latest ? ", one too late: it switched when it was told" : "");
	return EXIT_OK;
}

/* Two switches of one lab at once would each prepare the same next generation on every host,
 * each host keeping whichever came last: hosts would then hold different policies under one
 * generation, and each command could say it switched. So the switches of a lab wait for each
 * other on the controller, on a lock of the lab's run directory there (released however the
 * command ends). */
int hosts_switch(struct cli *cli, const struct lab_hosts *lh, const char *name, int argc,
		 char **argv)
{
	char dir[256];
	int lock, rc;

	run_dir_of_lab(cli->lab, NULL, dir, sizeof(dir));
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX)) {
		rc = report_fail("%s: lock %s: %s", name, dir, strerror(errno));
		if (lock >= 0)
			close(lock);
		return rc;
	}
	rc = switch_locked(cli, lh, name, argc, argv);
	close(lock);
	return rc;
}
