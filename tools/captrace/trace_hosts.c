// SPDX-License-Identifier: GPL-2.0-only
/* captrace record across hosts: a share per host (`captrace record --host-share` over the
 * lab's ssh connections), its recording streamed back when it ends, and the merge. A host's
 * drop events and partition flips are stamped on its own CLOCK_MONOTONIC and its pcaps on its
 * CLOCK_REALTIME; the merge moves every event through the host's realtime onto the
 * controller's monotonic clock, so report lines them up as it does on one host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/files.h"
#include "lib/json.h"
#include "netem/hosts/remote.h"
#include "tools/captrace/trace_dir.h"
#include "tools/captrace/trace_hosts.h"

#define FRAME_FILE "capnet-trace-file"
#define FRAME_END "capnet-trace-end"
#define FRAME_STARTED "capnet-trace-started"
/* A meta.json holds a line per node at most. */
#define META_MAX (1 << 20)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- a host's share: its recording, framed onto its standard output ------------------- */

static int send_file(const char *dir, const char *name, int fd)
{
	char path[4096], head[512], buf[65536];
	struct stat st;
	ssize_t n;
	int in, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		err = -errno;
		if (in >= 0)
			close(in);
		return err;
	}
	n = snprintf(head, sizeof(head), FRAME_FILE " %s %lld\n", name, (long long)st.st_size);
	err = files_write_all(fd, head, n);
	/* Exactly the size announced: a file still growing is cut there. */
	for (off_t left = st.st_size; !err && left > 0; left -= n) {
		n = read(in, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		err = files_write_all(fd, buf, n);
	}
	close(in);
	return err;
}

void trace_share_started(int fd)
{
	files_write_all(fd, FRAME_STARTED "\n", strlen(FRAME_STARTED) + 1);
}

int trace_share_send(const char *dir, int fd)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	while (!err && (de = readdir(d)))
		if (de->d_type == DT_REG && de->d_name[0] != '.')
			err = send_file(dir, de->d_name, fd);
	closedir(d);
	if (!err)
		err = files_write_all(fd, FRAME_END "\n", strlen(FRAME_END) + 1);
	return err;
}

void trace_share_remove(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- the controller --------------------------------------------------------------------- */

/* One host's stream into its folder; the names are checked, so that a host writes nowhere else. */
static int receive(int fd, const char *folder, char *why, size_t whylen)
{
	char head[512], name[256], path[4096], buf[65536];
	long long size;

	for (;;) {
		int out, err = 0;

		if (remote_read_line(fd, head, sizeof(head), -1)) {
			snprintf(why, whylen, "its recording ended before all of it came");
			return -EPIPE;
		}
		if (!strcmp(head, FRAME_END))
			return 0;
		if (sscanf(head, FRAME_FILE " %255s %lld", name, &size) != 2 || size < 0 ||
		    name[0] == '.' || strchr(name, '/')) {
			snprintf(why, whylen, "sent \"%.200s\", not a file of a recording", head);
			return -EPROTO;
		}
		snprintf(path, sizeof(path), "%s/%s", folder, name);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			snprintf(why, whylen, "create %.300s: %s", path, strerror(errno));
			return -errno;
		}
		while (!err && size > 0) {
			ssize_t n =
				read(fd, buf,
				     size < (long long)sizeof(buf) ? (size_t)size : sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(why, whylen, "its %s ended early", name);
				err = -EPIPE;
				break;
			}
			err = files_write_all(out, buf, n);
			if (err)
				snprintf(why, whylen, "write %.300s: %s", path, strerror(-err));
			size -= n;
		}
		if (close(out) && !err)
			err = -errno;
		if (err)
			return err;
	}
}

struct host_rec {
	struct remote_child child;
	char folder[4096];
	struct trace_meta meta;
	bool received;
	char why[512];
};

/* A host's realtime minus the controller's monotonic: what moves its events onto it. */
static int64_t shift_of(const struct trace_meta *host, int64_t controller_offset)
{
	return trace_meta_offset(host) - controller_offset;
}

static int load_meta(struct host_rec *h, char *err, size_t errlen)
{
	static char text[META_MAX];
	char path[4200];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", h->folder, TRACE_META);
	n = files_read_small(path, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "%.300s: %s", path, strerror((int)-n));
		return (int)n;
	}
	return trace_meta_parse(text, &h->meta, err, errlen);
}

struct drop_at {
	struct capnet_drop_event ev;
};

static int by_time(const void *a, const void *b)
{
	const struct drop_at *x = a, *y = b;

	return (x->ev.time_ns > y->ev.time_ns) - (x->ev.time_ns < y->ev.time_ns);
}

/* Every host's drop events on the controller's clock, in time order. */
static int merge_drops(const char *dir, struct host_rec *hr, unsigned int hosts,
		       int64_t controller_offset, unsigned long long *count)
{
	struct drop_at *all = NULL;
	size_t n = 0, cap = 0;
	char path[4200], *line = NULL;
	size_t line_cap = 0;
	FILE *out;

	for (unsigned int h = 0; h < hosts; h++) {
		int64_t shift = shift_of(&hr[h].meta, controller_offset);
		FILE *in;

		snprintf(path, sizeof(path), "%s/%s", hr[h].folder, TRACE_DROPS);
		in = fopen(path, "re");
		if (!in)
			continue;
		while (getline(&line, &line_cap, in) > 0) {
			struct capnet_drop_event ev;

			if (trace_drop_parse(line, &ev))
				continue;
			if (n == cap) {
				struct drop_at *grown;

				cap = cap ? 2 * cap : 4096;
				grown = realloc(all, cap * sizeof(*all));
				if (!grown) {
					fclose(in);
					free(all);
					free(line);
					return -ENOMEM;
				}
				all = grown;
			}
			ev.time_ns = (uint64_t)((int64_t)ev.time_ns + shift);
			all[n++].ev = ev;
		}
		fclose(in);
	}
	free(line);
	qsort(all, n, sizeof(*all), by_time);
	snprintf(path, sizeof(path), "%s/%s", dir, TRACE_DROPS);
	out = fopen(path, "we");
	if (!out) {
		free(all);
		return -errno;
	}
	for (size_t i = 0; i < n; i++)
		trace_drop_write(out, &all[i].ev);
	free(all);
	*count = n;
	return fclose(out) ? -EIO : 0;
}

/* The partition generations, as the first host saw them: every host takes the same ones. */
static int merge_partitions(const char *dir, const struct host_rec *first,
			    int64_t controller_offset, unsigned long long *count)
{
	char path[4200], spec[256], imp[256], *line = NULL;
	int64_t shift = shift_of(&first->meta, controller_offset);
	size_t cap = 0;
	FILE *in, *out;

	snprintf(path, sizeof(path), "%s/%s", first->folder, TRACE_PARTITIONS);
	in = fopen(path, "re");
	snprintf(path, sizeof(path), "%s/%s", dir, TRACE_PARTITIONS);
	out = fopen(path, "we");
	if (!out) {
		if (in)
			fclose(in);
		return -errno;
	}
	while (in && getline(&line, &cap, in) > 0) {
		uint64_t generation, flip;

		if (trace_partition_parse(line, &generation, &flip, spec, sizeof(spec), imp,
					  sizeof(imp)))
			continue;
		flip = (uint64_t)((int64_t)flip + shift);
		trace_partition_write(out, generation, flip, flip, spec, imp);
		(*count)++;
	}
	free(line);
	if (in)
		fclose(in);
	return fclose(out) ? -EIO : 0;
}

static void write_merged_meta(FILE *f, const struct lab_hosts *lh, const struct host_rec *hr,
			      const uint64_t realtime[3], int64_t controller_offset,
			      unsigned long long drops, unsigned long long changes)
{
	unsigned long long overflow = 0, dropped = 0;
	bool complete = true;
	char nodes[4096];

	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		overflow += hr[h].meta.ring_overflow;
		dropped += hr[h].meta.pcap_dropped;
		complete &= hr[h].meta.complete;
	}
	fprintf(f, "{\"version\":%d,\"complete\":%s,\"lab\":", TRACE_FORMAT_VERSION,
		complete ? "true" : "false");
	json_write_string(f, lh->hosts.count ? hr[0].meta.lab : "");
	fprintf(f, ",\"nodes\":%u,\"subnet\":\"%s\",", lh->nodes, lh->subnet);
	fprintf(f,
		"\"start_realtime_ns\":%llu,\"start_monotonic_ns\":%llu,"
		"\"stop_realtime_ns\":%llu,\"stop_monotonic_ns\":%llu,"
		"\"end_realtime_ns\":%llu,\"end_monotonic_ns\":%llu,"
		"\"realtime_minus_monotonic_ns\":%lld,\"drop_events\":%llu,\"ring_overflow\":%llu,"
		"\"partition_changes\":%llu,\"pcap_dropped\":%llu,\"hosts\":[",
		(unsigned long long)realtime[0],
		(unsigned long long)(realtime[0] - controller_offset),
		(unsigned long long)realtime[1],
		(unsigned long long)(realtime[1] - controller_offset),
		(unsigned long long)realtime[2],
		(unsigned long long)(realtime[2] - controller_offset), (long long)controller_offset,
		drops, overflow, changes, dropped);
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		struct node_set set;

		placement_nodes_of(&lh->place, h, &set);
		nodeset_format(&set, nodes, sizeof(nodes));
		fprintf(f, "%s{\"host\":", h ? "," : "");
		json_write_string(f, lh->hosts.host[h].dest);
		fprintf(f, ",\"nodes\":\"%s\",\"folder\":\"hosts/h%u\"}", nodes, h + 1);
	}
	fputs("]}\n", f);
}

/* The hosts' recordings into one: pcaps moved up, events on the controller's clocks, and the
 * span every host recorded (the latest start, the earliest stop and end). */
static int merge(struct captrace_cli *cli, const struct lab_hosts *lh, struct host_rec *hr,
		 const char *dir)
{
	unsigned long long drops = 0, changes = 0;
	uint64_t realtime[3] = { 0, UINT64_MAX, UINT64_MAX };
	struct timespec mono, real;
	int64_t controller_offset;
	char err[512], from[4200], to[4200], name[32];
	FILE *f;

	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		if (load_meta(&hr[h], err, sizeof(err)))
			return report_fail("record: host %s: %s", lh->hosts.host[h].dest, err);
		if (hr[h].meta.start_realtime_ns > realtime[0])
			realtime[0] = hr[h].meta.start_realtime_ns;
		if (hr[h].meta.stop_realtime_ns < realtime[1])
			realtime[1] = hr[h].meta.stop_realtime_ns;
		if (hr[h].meta.end_realtime_ns < realtime[2])
			realtime[2] = hr[h].meta.end_realtime_ns;
	}
	if (realtime[1] < realtime[0])
		realtime[1] = realtime[0];
	if (realtime[2] < realtime[1])
		realtime[2] = realtime[1];
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	controller_offset =
		((int64_t)real.tv_sec - mono.tv_sec) * 1000000000ll + (real.tv_nsec - mono.tv_nsec);
	for (unsigned int i = 1; i <= lh->nodes; i++) {
		trace_pcap_name(i, name, sizeof(name));
		snprintf(from, sizeof(from), "%s/%s", hr[lh->place.host_of[i]].folder, name);
		snprintf(to, sizeof(to), "%s/%s", dir, name);
		if (rename(from, to))
			return report_fail("record: host %s sent no %s: %s",
					   lh->hosts.host[lh->place.host_of[i]].dest, name,
					   strerror(errno));
	}
	if (merge_drops(dir, hr, lh->hosts.count, controller_offset, &drops) ||
	    merge_partitions(dir, &hr[0], controller_offset, &changes))
		return report_fail("record: writing to %s failed", dir);
	snprintf(to, sizeof(to), "%s/%s", dir, TRACE_META);
	f = fopen(to, "we");
	if (!f)
		return report_fail("record: create %s: %s", to, strerror(errno));
	write_merged_meta(f, lh, hr, realtime, controller_offset, drops, changes);
	if (fclose(f))
		return report_fail("record: write %s: %s", to, strerror(errno));
	if (cli->json) {
		fputs("{\"dir\":", stdout);
		json_write_string(stdout, dir);
		printf(",\"nodes\":%u,\"hosts\":%u,\"drop_events\":%llu,\"partition_changes\":%llu,"
		       "\"seconds\":%.3f}\n",
		       lh->nodes, lh->hosts.count, drops, changes,
		       (realtime[1] - realtime[0]) / 1e9);
	} else {
		printf("recorded %.3f s on %u hosts: %u nodes, %llu drop events, %llu partition "
		       "generations\n",
		       (realtime[1] - realtime[0]) / 1e9, lh->hosts.count, lh->nodes, drops,
		       changes);
	}
	return EXIT_OK;
}

int trace_record_hosts(struct captrace_cli *cli, const struct lab_hosts *lh, const char *dir,
		       double duration)
{
	static struct host_rec hr[HOSTS_MAX];
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int left = lh->hosts.count, failed = HOSTS_MAX;
	char args[128];
	bool stopped = false;
	int rc = EXIT_FAIL, err;

	if (duration > 0)
		snprintf(args, sizeof(args), "record --host-share --duration %.3f", duration);
	else
		snprintf(args, sizeof(args), "record --host-share");
	if (files_mkdir_p(dir, 0755))
		return report_fail("record: create %s: %s", dir, strerror(errno));
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		hr[h] = (struct host_rec){ .child = { .pid = -1, .in = -1, .out = -1, .err = -1 } };
		snprintf(hr[h].folder, sizeof(hr[h].folder), "%s/hosts/h%u", dir, h + 1);
		err = files_mkdir_p(hr[h].folder, 0755);
		if (!err)
			err = remote_spawn(cli->lab, &lh->hosts.host[h], remote_program("captrace"),
					   args, &hr[h].child);
		if (err) {
			report_fail("record: host %s: %s", lh->hosts.host[h].dest, strerror(-err));
			for (unsigned int k = 0; k < h; k++)
				remote_wait(&hr[k].child);
			return EXIT_FAIL;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The recording begins once every host captures: said, then announced. */
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		char line[128];

		if (remote_read_line(hr[h].child.out, line, sizeof(line), -1) ||
		    strcmp(line, FRAME_STARTED)) {
			hr[h].received = true;
			left--;
			if (failed == HOSTS_MAX) {
				failed = h;
				snprintf(hr[h].why, sizeof(hr[h].why),
					 "its recording did not start");
			}
		}
	}
	if (failed < HOSTS_MAX)
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			if (hr[h].child.in >= 0) {
				close(hr[h].child.in);
				hr[h].child.in = -1;
			}
	if (failed == HOSTS_MAX && cli->json) {
		fputs("{\"recording\":", stdout);
		json_write_string(stdout, dir);
		printf(",\"lab\":\"%s\",\"nodes\":%u,\"hosts\":%u}\n", cli->lab, lh->nodes,
		       lh->hosts.count);
	} else if (failed == HOSTS_MAX) {
		printf("recording %u nodes of lab %s on %u hosts to %s\n", lh->nodes, cli->lab,
		       lh->hosts.count, dir);
	}
	fflush(stdout);
	/* Each host's stream begins once its recording is over: read it whole then. */
	while (left) {
		struct pollfd fds[HOSTS_MAX];

		if (stop_requested && !stopped) {
			for (unsigned int h = 0; h < lh->hosts.count; h++)
				if (hr[h].child.in >= 0) {
					close(hr[h].child.in);
					hr[h].child.in = -1;
				}
			stopped = true;
		}
		for (unsigned int h = 0; h < lh->hosts.count; h++)
			fds[h] = (struct pollfd){ .fd = hr[h].received ? -1 : hr[h].child.out,
						  .events = POLLIN };
		if (poll(fds, lh->hosts.count, 200) < 0 && errno != EINTR)
			break;
		for (unsigned int h = 0; h < lh->hosts.count; h++) {
			if (hr[h].received || !fds[h].revents)
				continue;
			if (receive(hr[h].child.out, hr[h].folder, hr[h].why, sizeof(hr[h].why)) &&
			    failed == HOSTS_MAX)
				failed = h;
			hr[h].received = true;
			left--;
		}
	}
	for (unsigned int h = 0; h < lh->hosts.count; h++) {
		char tail[512] = "";
		ssize_t n;

		fcntl(hr[h].child.err, F_SETFL, O_NONBLOCK);
		n = read(hr[h].child.err, tail, sizeof(tail) - 1);
		tail[n > 0 ? n : 0] = '\0';
		tail[strcspn(tail, "\n")] = '\0';
		if (remote_wait(&hr[h].child) && (failed == HOSTS_MAX || failed == h)) {
			failed = h;
			/* What its captrace or ssh said is the reason a person needs. */
			if (tail[0] || !hr[h].why[0])
				snprintf(hr[h].why, sizeof(hr[h].why), "%s",
					 tail[0] ? tail : "its captrace failed");
		}
	}
	if (failed < HOSTS_MAX)
		return report_fail("record: host %s: %s; the recording in %s is not whole",
				   lh->hosts.host[failed].dest, hr[failed].why, dir);
	rc = merge(cli, lh, hr, dir);
	return rc;
}
