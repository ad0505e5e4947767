// SPDX-License-Identifier: GPL-2.0-only
/* Takes a lab's filter off some switch ports and puts it back, for make bench's "no filter"
 * variant: capnet itself has no command for that (a lab is always filtered), and the tools that
 * could do it for tcx are newer than some systems' bpftool. Uses the same attach code as
 * capnet up, on the program's pin. A port of a lab on shared blocks cannot lose the block's
 * filter alone: it is unbound (its clsact qdisc deleted, the ARP responder going with it) and
 * bound again to the lab's recorded blocks.
 *
 *   port_filter --lab L [--hook blocks|tcx|clsact] attach|detach PORT...   (PORT: p1, p2, ...) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netem/filter/clsact_bulk.h"
#include "netem/filter/filter.h"
#include "netem/lab/lab_record.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: port_filter --lab L [--hook blocks|tcx|clsact] attach|detach PORT...\n");
	return 2;
}

/* Binds port ifindex to the lab's blocks again, or unbinds it. */
static int port_blocks(const char *lab, int ifindex, bool attach)
{
	LIBBPF_OPTS(bpf_tc_hook, qdisc, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	uint32_t egress, ingress, bound_in, bound_out;
	unsigned int failed;
	int err = lab_record_blocks(lab, &egress, &ingress);

	if (!err)
		err = clsact_port_blocks(&ifindex, 1, &bound_in, &bound_out);
	if (err)
		return err;
	/* Already as asked: the kernel refuses to delete a qdisc that is not there. */
	if (attach == (bound_in == ingress && bound_out == egress))
		return 0;
	return attach ? clsact_bind_all(&ifindex, 1, ingress, egress, &failed) :
			bpf_tc_hook_destroy(&qdisc);
}

int main(int argc, char **argv)
{
	enum filter_hook hook = FILTER_HOOK_TCX;
	const char *lab = NULL, *action;
	char sw[64], pin[320], dir[256];
	int i = 1, saved, prog_fd, ifindex, err, rc = 0;

	/* The clsact qdisc is there already on every port after the first attach: libbpf would
	 * print the kernel's "Exclusivity flag on" for each, into make bench's table. Failures
	 * are reported below, once. */
	libbpf_set_print(NULL);
	bool attach;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--lab"))
			lab = argv[i + 1];
		else if (strcmp(argv[i], "--hook") || filter_hook_parse(argv[i + 1], &hook))
			return usage();
	}
	if (!lab || i + 1 >= argc)
		return usage();
	action = argv[i++];
	if (strcmp(action, "attach") && strcmp(action, "detach"))
		return usage();
	attach = !strcmp(action, "attach");

	filter_pin_dir(lab, dir, sizeof(dir));
	snprintf(pin, sizeof(pin), "%s/capnet_egress", dir);
	prog_fd = bpf_obj_get(pin);
	if (prog_fd < 0) {
		fprintf(stderr, "port_filter: %s: %s\n", pin, strerror(errno));
		return 1;
	}
	lab_switch_ns(lab, sw, sizeof(sw));
	saved = netns_enter(sw);
	if (saved < 0) {
		fprintf(stderr, "port_filter: enter %s: %s\n", sw, strerror(-saved));
		return 1;
	}
	for (; i < argc; i++) {
		ifindex = if_nametoindex(argv[i]);
		if (!ifindex) {
			fprintf(stderr, "port_filter: no port %s in %s\n", argv[i], sw);
			rc = 1;
			continue;
		}
		if (hook == FILTER_HOOK_BLOCKS)
			err = port_blocks(lab, ifindex, attach);
		else
			err = attach ? filter_port_attach(ifindex, prog_fd, hook) :
				       filter_port_detach(ifindex, prog_fd, hook);
		if (err) {
			fprintf(stderr, "port_filter: %s %s (%s): %s\n", action, argv[i],
				filter_hook_name(hook), strerror(-err));
			rc = 1;
		}
	}
	netns_return(saved);
	close(prog_fd);
	return rc;
}
