// SPDX-License-Identifier: GPL-2.0-only
/* The controller's record of the last switch across hosts, as text: its instant, the generation
 * each host was told to take, each host's TAI shift, which hosts confirmed the commit, and the
 * switch itself with whether its fault-log line was written. Pure:
 * the controller reads and writes the file, this only formats, parses and compares. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "netem/hosts/hosts.h"

int switch_record_format(const struct switch_record *r, char *buf, size_t len)
{
	size_t used;

	used = snprintf(buf, len, "flip_at %" PRIu64 "\ngenerations", r->flip_at_tai_ns);
	for (unsigned int h = 0; h < r->hosts && used < len; h++)
		used += snprintf(buf + used, len - used, " %" PRIu64, r->generation[h]);
	if (used < len)
		used += snprintf(buf + used, len - used, "\ntai_shifts");
	for (unsigned int h = 0; h < r->hosts && used < len; h++)
		used += snprintf(buf + used, len - used, " %" PRId64, r->tai_shift_ns[h]);
	if (used < len)
		used += snprintf(buf + used, len - used, "\nconfirmed");
	for (unsigned int h = 0; h < r->hosts && used < len; h++)
		used += snprintf(buf + used, len - used, " %d", r->confirmed[h]);
	if (used < len)
		used += snprintf(buf + used, len - used, "\nlogged %d\ncommand %s\npartition %s\n",
				 r->logged, r->command, r->partition);
	return used < len ? 0 : -E2BIG;
}

/* " N N N" for `hosts` numbers after the word `name` at *p; moves *p past them. */
static int parse_line(const char **p, const char *name, unsigned int hosts, int64_t *out)
{
	size_t len = strlen(name);
	int n;

	*p += strspn(*p, "\n");
	if (strncmp(*p, name, len) || ((*p)[len] != ' ' && (*p)[len] != '\n' && (*p)[len]))
		return -ENOENT;
	*p += len;
	for (unsigned int h = 0; h < hosts; h++, *p += n)
		if (sscanf(*p, " %" SCNd64 "%n", &out[h], &n) != 1)
			return -EINVAL;
	return 0;
}

int switch_record_parse(const char *text, unsigned int hosts, struct switch_record *r)
{
	int64_t number[HOSTS_MAX];
	const char *p = text;
	int n, err;

	memset(r, 0, sizeof(*r));
	if (hosts > HOSTS_MAX || sscanf(p, "flip_at %" SCNu64 "%n", &r->flip_at_tai_ns, &n) != 1)
		return -EINVAL;
	p += n;
	r->hosts = hosts;
	if (parse_line(&p, "generations", hosts, number))
		return -EINVAL;
	for (unsigned int h = 0; h < hosts; h++)
		r->generation[h] = (uint64_t)number[h];
	/* A record without shifts or confirmations (an older controller wrote it only once every
	 * host had confirmed) has none shifted and all confirmed. */
	err = parse_line(&p, "tai_shifts", hosts, number);
	if (err == -EINVAL)
		return err;
	for (unsigned int h = 0; h < hosts; h++)
		r->tai_shift_ns[h] = err ? 0 : number[h];
	err = parse_line(&p, "confirmed", hosts, number);
	if (err == -EINVAL)
		return err;
	for (unsigned int h = 0; h < hosts; h++)
		r->confirmed[h] = err ? true : number[h] != 0;
	/* Without these, the switch was logged by the controller that recorded it. */
	err = parse_line(&p, "logged", 1, number);
	if (err == -EINVAL)
		return err;
	r->logged = err || number[0];
	p += strspn(p, "\n");
	if (sscanf(p, "command %15s", r->command) == 1 && (p = strstr(p, "\npartition ")))
		snprintf(r->partition, sizeof(r->partition), "%.*s", (int)strcspn(p + 11, "\n"),
			 p + 11);
	return 0;
}

unsigned int switch_record_first_astray(const struct switch_record *r, const bool *known,
					const uint64_t *in_force, uint64_t asked_tai_ns)
{
	/* Before the instant every host rightly holds the generation before it. */
	bool due = asked_tai_ns >= r->flip_at_tai_ns;

	for (unsigned int h = 0; h < r->hosts; h++)
		if (known[h] && in_force[h] != r->generation[h] &&
		    (due || in_force[h] + 1 != r->generation[h]))
			return h;
	return HOSTS_MAX;
}
