// SPDX-License-Identifier: GPL-2.0-only
/* Which host holds which node: contiguous blocks by default, or `--place NODES@HOST,...`.
 * Pure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netem/hosts/hosts.h"

int placement_blocks(unsigned int nodes, unsigned int hosts, struct placement *out,
		     struct spec_error *err)
{
	unsigned int node = 1;

	if (!hosts || hosts > nodes || nodes > CAPNET_MAX_NODES) {
		snprintf(err->msg, sizeof(err->msg),
			 "%u host%s for %u node%s: every host needs a node", hosts,
			 hosts == 1 ? "" : "s", nodes, nodes == 1 ? "" : "s");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->nodes = nodes;
	out->hosts = hosts;
	for (unsigned int h = 0; h < hosts; h++) {
		unsigned int size = nodes / hosts + (h < nodes % hosts);

		for (unsigned int i = 0; i < size; i++)
			out->host_of[node++] = h;
	}
	return 0;
}

int placement_parse(const char *text, const struct host_list *hosts, unsigned int nodes,
		    struct placement *out, struct spec_error *err)
{
	struct node_set placed, set;
	bool has_node[HOSTS_MAX] = { false };
	struct placement p = { .nodes = nodes, .hosts = hosts->count };
	const char *s = text;

	nodeset_clear(&placed);
	while (*s) {
		/* NODES runs to the '@' (node sets hold commas), HOST from there to the next ','. */
		const char *at = strchr(s, '@'), *end;
		char nodes_text[512], host[sizeof(hosts->host[0].dest)];
		int h;

		if (!at || at == s) {
			snprintf(err->msg, sizeof(err->msg),
				 "--place: \"%.100s\" is not NODES@HOST (as in 1-3@h1,4-6@h2)", s);
			return -EINVAL;
		}
		end = strchrnul(at + 1, ',');
		snprintf(nodes_text, sizeof(nodes_text), "%.*s", (int)(at - s), s);
		snprintf(host, sizeof(host), "%.*s", (int)(end - at - 1), at + 1);
		h = hosts_find(hosts, host);
		if (h < 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "--place: \"%.100s\" is not one of --hosts", host);
			return -EINVAL;
		}
		if (nodeset_parse(nodes_text, nodes, &set, err))
			return -EINVAL;
		for (unsigned int i = 1; i <= nodes; i++) {
			if (!nodeset_has(&set, i))
				continue;
			if (nodeset_has(&placed, i)) {
				snprintf(err->msg, sizeof(err->msg),
					 "--place: node %u placed twice", i);
				return -EINVAL;
			}
			nodeset_add(&placed, i);
			p.host_of[i] = h;
		}
		has_node[h] = true;
		s = *end ? end + 1 : end;
		if (*end && !*s) {
			snprintf(err->msg, sizeof(err->msg), "--place: \"%.100s\" ends with a ','",
				 text);
			return -EINVAL;
		}
	}
	for (unsigned int i = 1; i <= nodes; i++)
		if (!nodeset_has(&placed, i)) {
			snprintf(err->msg, sizeof(err->msg), "--place: node %u is not placed", i);
			return -EINVAL;
		}
	for (unsigned int h = 0; h < hosts->count; h++)
		if (!has_node[h]) {
			snprintf(err->msg, sizeof(err->msg), "--place: host \"%.100s\" has no node",
				 hosts->host[h].dest);
			return -EINVAL;
		}
	*out = p;
	return 0;
}

void placement_nodes_of(const struct placement *p, unsigned int host, struct node_set *out)
{
	nodeset_clear(out);
	for (unsigned int i = 1; i <= p->nodes; i++)
		if (p->host_of[i] == host)
			nodeset_add(out, i);
}

int placement_format(const struct placement *p, const struct host_list *hosts, char *buf,
		     size_t len)
{
	size_t used = 0;
	int n;

	if (len)
		buf[0] = '\0';
	for (unsigned int h = 0; h < p->hosts; h++) {
		struct node_set set;
		char nodes_text[4096];

		placement_nodes_of(p, h, &set);
		nodeset_format(&set, nodes_text, sizeof(nodes_text));
		n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "%s%s@%s",
			     h ? "," : "", nodes_text, hosts->host[h].dest);
		if (n < 0)
			return n;
		used += n;
	}
	return used;
}
