// SPDX-License-Identifier: GPL-2.0-only
/* One line per change, written with one write() on an O_APPEND descriptor, so the lines of
 * commands typed at once in two shells never interleave. Times are seconds with nine decimals
 * on CLOCK_MONOTONIC: the clock capctl load stamps a history with, so the two line up. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/files.h"
#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/filter/filter.h"
#include "netem/lab/fault_log.h"
#include "netem/lab/run_dir.h"

void fault_log_path(const char *lab, char *buf, size_t len)
{
	char dir[256];

	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s", dir, FAULT_LOG_NAME);
}

void fault_log_words(int argc, char **argv, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < argc && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
}

static uint64_t generation_now(const char *lab)
{
	static struct filter_state st;
	struct filter *f = NULL;
	uint64_t gen = 0;

	if (!filter_open(lab, &f) && !filter_read_state(f, &st))
		gen = st.meta.generation;
	filter_close(f);
	return gen;
}

static void write_groups(FILE *f, const struct fault_change *c)
{
	bool first = true;

	fputs(",\"groups\":[", f);
	if (c->policy) {
		for (unsigned int g = 0; g < c->policy->groups; g++) {
			fprintf(f, "%s[", g ? "," : "");
			first = true;
			for (unsigned int n = 1; n <= c->policy->nodes; n++)
				if (c->policy->group_of[n] == g) {
					fprintf(f, "%s%u", first ? "" : ",", n);
					first = false;
				}
			fputc(']', f);
		}
	} else if (c->nodes) {
		fputc('[', f);
		for (unsigned int n = 1; n <= CAPNET_MAX_NODES; n++)
			if (nodeset_has(c->nodes, n)) {
				fprintf(f, "%s%u", first ? "" : ",", n);
				first = false;
			}
		fputc(']', f);
	}
	fputc(']', f);
}

int fault_log_append(const char *lab, const struct fault_change *c)
{
	char path[320], dir[256], *text = NULL;
	uint64_t t = c->time_ns, gen = c->generation;
	size_t len = 0;
	int fd, err;
	FILE *f;

	if (!t)
		t = monotonic_ns();
	if (gen == FAULT_LOG_READ_GENERATION)
		gen = generation_now(lab);
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"time\":%llu.%09llu,\"f\":", (unsigned long long)(t / 1000000000ull),
		(unsigned long long)(t % 1000000000ull));
	json_write_string(f, c->command);
	fputs(",\"value\":", f);
	json_write_string(f, c->value ? c->value : "");
	write_groups(f, c);
	fprintf(f, ",\"generation\":%llu}\n", (unsigned long long)gen);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	run_dir_of_lab(lab, NULL, dir, sizeof(dir));
	err = files_mkdir_p(dir, 0755);
	fault_log_path(lab, path, sizeof(path));
	fd = err ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = err ? err : -errno;
		error_note("fault log %s: %s", path, strerror(-err));
		free(text);
		return err;
	}
	err = files_write_all(fd, text, len);
	if (err)
		error_note("fault log %s: %s", path, strerror(-err));
	close(fd);
	free(text);
	return err;
}

/* The generation of the last line, or that of a lab just built (1) when there is none. */
static uint64_t last_logged_generation(const char *lab)
{
	static const char key[] = "\"generation\":";
	char path[320], tail[1024], *at, *hit = NULL;

	fault_log_path(lab, path, sizeof(path));
	files_read_tail(path, tail, sizeof(tail));
	for (at = strstr(tail, key); at; at = strstr(at + 1, key))
		hit = at;
	return hit ? strtoull(hit + strlen(key), NULL, 10) : 1;
}

int fault_log_catch_up(const char *lab, const struct filter_state *now)
{
	static struct partition part;
	struct spec_error e;
	char value[4096];
	bool healed;

	if (now->meta.generation <= last_logged_generation(lab))
		return 0;
	if (policy_expand(&now->policy, &part, &e) ||
	    partition_format(&part, value, sizeof(value)) < 0)
		snprintf(value, sizeof(value), "?");
	healed = now->policy.groups <= 1 && !now->rules.count;
	snprintf(value + strlen(value), sizeof(value) - strlen(value),
		 "%s; logged late: its command ended before writing this line",
		 now->rules.count ? "; with rules" : "");
	return fault_log_append(lab,
				&(struct fault_change){ .command = healed ? "heal" : "partition",
							.value = value,
							.policy = &now->policy,
							.generation = now->meta.generation,
							.time_ns = now->meta.flip_ns });
}

off_t fault_log_size(const char *lab)
{
	char path[320];
	struct stat st;

	fault_log_path(lab, path, sizeof(path));
	return stat(path, &st) ? 0 : st.st_size;
}

/* "12.345678901" -> ns; false if it is not seconds as this file writes them. */
static bool seconds_ns(const char *text, char **end, uint64_t *ns)
{
	unsigned long long s, frac = 0;
	int digits = 0;

	if (*text < '0' || *text > '9')
		return false;
	s = strtoull(text, end, 10);
	if (**end == '.')
		for ((*end)++; **end >= '0' && **end <= '9'; (*end)++, digits++)
			if (digits < 9)
				frac = frac * 10 + (unsigned long long)(**end - '0');
	for (; digits < 9; digits++)
		frac *= 10;
	*ns = s * 1000000000ull + frac;
	return true;
}

int fault_log_copy(const char *lab, off_t *from, uint64_t origin_ns, FILE *const *out,
		   unsigned int n_out)
{
	static const char head[] = "{\"time\":";
	char path[320], *line = NULL, *rest;
	size_t cap = 0;
	uint64_t t;
	FILE *f;

	fault_log_path(lab, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fseeko(f, *from, SEEK_SET)) {
		fclose(f);
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		if (line[strlen(line) - 1] != '\n')
			break; /* being written: the next copy takes it */
		*from = ftello(f);
		/* Only lines as fault_log_append writes them; anything else is not ours to copy. */
		if (strncmp(line, head, sizeof(head) - 1) ||
		    !seconds_ns(line + sizeof(head) - 1, &rest, &t) || *rest != ',')
			continue;
		t = t > origin_ns ? t - origin_ns : 0;
		for (unsigned int i = 0; i < n_out; i++) {
			fprintf(out[i], "%s%llu.%09llu%s", head,
				(unsigned long long)(t / 1000000000ull),
				(unsigned long long)(t % 1000000000ull), rest);
			fflush(out[i]);
		}
	}
	free(line);
	fclose(f);
	return 0;
}
