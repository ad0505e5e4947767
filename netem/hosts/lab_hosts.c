// SPDX-License-Identifier: GPL-2.0-only
/* The controller's record of a lab across hosts, as text: one "key value" a line. Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/hosts/hosts.h"

int lab_hosts_format(const struct lab_hosts *lh, char *buf, size_t len)
{
	char list[HOSTS_MAX * 260] = "", place[16384];
	size_t used = 0;

	for (unsigned int h = 0; h < lh->hosts.count && used < sizeof(list); h++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s", h ? "," : "",
				 lh->hosts.host[h].dest);
	placement_format(&lh->place, &lh->hosts, place, sizeof(place));
	return snprintf(buf, len, "nodes %u\nsubnet %s\nvni %u\nmtu %u\nhosts %s\nplace %s\n",
			lh->nodes, lh->subnet, lh->vni, lh->mtu, list, place);
}

static const char *value_of(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = text; *p;) {
		const char *end = strchrnul(p, '\n');

		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == ' ') {
			snprintf(buf, len, "%.*s", (int)(end - p - klen - 1), p + klen + 1);
			return buf;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

static int number_of(const char *text, const char *key, unsigned long max, unsigned long *out,
		     struct spec_error *err)
{
	char buf[32], *end;

	if (!value_of(text, key, buf, sizeof(buf)) || !*buf ||
	    (*out = strtoul(buf, &end, 10), *end) || *out > max) {
		snprintf(err->msg, sizeof(err->msg), "hosts record: no valid \"%s\"", key);
		return -EINVAL;
	}
	return 0;
}

int lab_hosts_parse(const char *text, struct lab_hosts *out, struct spec_error *err)
{
	static char list[HOSTS_MAX * 260], place[16384];
	unsigned long nodes, vni, mtu;

	memset(out, 0, sizeof(*out));
	if (number_of(text, "nodes", CAPNET_MAX_NODES, &nodes, err) ||
	    number_of(text, "vni", 0xffffff, &vni, err) || number_of(text, "mtu", 65535, &mtu, err))
		return -EINVAL;
	if (!value_of(text, "subnet", out->subnet, sizeof(out->subnet)) ||
	    !value_of(text, "hosts", list, sizeof(list)) ||
	    !value_of(text, "place", place, sizeof(place))) {
		snprintf(err->msg, sizeof(err->msg),
			 "hosts record: subnet, hosts or place missing");
		return -EINVAL;
	}
	out->nodes = nodes;
	out->vni = vni;
	out->mtu = mtu;
	if (hosts_parse_list(list, &out->hosts, err) ||
	    placement_parse(place, &out->hosts, out->nodes, &out->place, err))
		return -EINVAL;
	return 0;
}
