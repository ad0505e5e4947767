// SPDX-License-Identifier: GPL-2.0-only
/* capnet adopt: a lab of namespaces capnet did not build (containers, or namespaces an `ip`
 * script made), nodes 1..N in the order given. The filter goes on their bridge ports; nothing
 * inside them changes, and `down` gives everything back as it was (netem/lab/adopt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netem/cli.h"
#include "netem/explain.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_record.h"

/* "a,b,c" split in place into items; how many, or 0 when one is empty or there are too many. */
static unsigned int split_list(char *list, char **items, unsigned int max)
{
	unsigned int n = 0;
	char *p = list;

	for (;;) {
		char *comma = strchr(p, ',');

		if (n == max)
			return 0;
		items[n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!*items[i])
			return 0;
	return n;
}

int cmd_adopt(struct cli *cli, int argc, char **argv)
{
	static char *items[CAPNET_MAX_NODES + 1];
	struct lab_config cfg = { .prefix = 0 };
	enum filter_hook used = FILTER_HOOK_AUTO;
	static struct lab_info info;
	struct adopt_plan *plan = NULL;
	struct filter *filter = NULL;
	const char *opt = NULL;
	char *list = NULL, dir[256];
	unsigned int n;
	struct stat st;
	int err;

	for (int i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "--netns") || !strcmp(argv[i], "--pid")) && !opt) {
			opt = argv[i];
			if (++i >= argc)
				return report_usage("adopt: %s needs a list (%s)", opt,
						    !strcmp(opt, "--pid") ? "--pid 4242,4243" :
									    "--netns web1,web2");
			list = argv[i];
		} else {
			return report_usage("adopt: unexpected \"%s\" (usage: capnet --lab L adopt "
					    "--netns NAME[,NAME...] | --pid PID[,PID...])",
					    argv[i]);
		}
	}
	if (!list)
		return report_usage("adopt: which namespaces? (--netns NAME,... or --pid PID,...)");
	n = split_list(list, items, CAPNET_MAX_NODES);
	if (!n)
		return report_usage("adopt: %s takes 1 to %d names, comma-separated, none empty",
				    opt, CAPNET_MAX_NODES);
	if (cli_need_root("capnet adopt"))
		return EXIT_FAIL;
	filter_pin_dir(cli->lab, dir, sizeof(dir));
	if (!stat(dir, &st) || lab_record_nodes(cli->lab) || adopt_is_adopted(cli->lab))
		return report_fail("lab \"%s\" already exists (capnet --lab %s down removes it)",
				   cli->lab, cli->lab);
	plan = malloc(sizeof(*plan));
	if (!plan)
		return report_error(-ENOMEM, NULL);
	err = adopt_plan_make(items, n, !strcmp(opt, "--pid"), plan);
	if (err) {
		free(plan);
		return report_error(err, NULL);
	}
	err = lab_record_create(cli->lab, n);
	if (err == -EEXIST) {
		free(plan);
		return report_fail("lab \"%s\": another `up` or `adopt` is building it, or one "
				   "was killed (capnet --lab %s down removes what it left)",
				   cli->lab, cli->lab);
	}
	if (err) {
		free(plan);
		return report_error(err, NULL);
	}
	err = adopt_apply(cli->lab, plan);
	if (!err)
		err = lab_topology_discover(cli->lab, &info);
	snprintf(cfg.name, sizeof(cfg.name), "%s", cli->lab);
	cfg.nodes = n;
	/* No subnet: the nodes keep their own addresses, and the switch leaves ARP alone. */
	if (!err)
		err = filter_install(&cfg, &info, &used);
	if (!err)
		err = filter_open(cli->lab, &filter);
	if (!err)
		err = filter_mark_whole(filter);
	filter_close(filter);
	if (err) {
		report_warn("adopt: %s", error_reason(err));
		filter_remove(cli->lab);
		adopt_release(cli->lab);
		lab_record_remove(cli->lab);
		free(plan);
		return EXIT_FAIL;
	}
	if (cli->json) {
		printf("{\"lab\":\"%s\",\"nodes\":%u,\"bridge\":\"%s\",\"switch\":\"%s\","
		       "\"hook\":\"%s\",\"ports\":[",
		       cli->lab, n, plan->bridge, plan->sw_source, filter_hook_name(used));
		for (unsigned int i = 1; i <= n; i++)
			printf("%s{\"node\":%u,\"source\":\"%s\",\"interface\":\"%s\","
			       "\"port\":\"%s\"}",
			       i > 1 ? "," : "", i, plan->node[i].source, plan->node[i].ifname,
			       plan->node[i].port);
		printf("]}\n");
	} else {
		printf("lab %s: %u namespace%s adopted, bridge %s (%s), filter on every port "
		       "(%s), healthy\n",
		       cli->lab, n, n == 1 ? "" : "s", plan->bridge, plan->sw_source,
		       filter_hook_name(used));
		for (unsigned int i = 1; i <= n; i++)
			printf("  node %u: %s, %s, port %s\n", i, plan->node[i].what,
			       plan->node[i].ifname, plan->node[i].port);
	}
	free(plan);
	return EXIT_OK;
}
