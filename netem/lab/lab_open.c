// SPDX-License-Identifier: GPL-2.0-only
/* Every message names the remedy with the size `up` was asked for when it is recorded, since a
 * lab killed half-way has fewer namespaces than it was meant to have. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/report.h"
#include "netem/delay/delay_line.h"
#include "netem/lab/adopt.h"
#include "netem/lab/lab_open.h"
#include "netem/lab/lab_record.h"

static int need_root(const char *what)
{
	error_note("%s needs root (namespaces, tc and BPF): run it with sudo", what);
	return -EPERM;
}

int lab_open(const char *lab, struct lab_info *info, struct filter **filter, unsigned int need)
{
	struct filter *f = NULL;
	unsigned int asked;
	char dir[256];
	int err;

	err = lab_topology_discover(lab, info);
	if (err == -ENOENT && (asked = lab_record_nodes(lab))) {
		error_note("lab \"%s\" is not whole: nothing of it was built (`up -n %u` did not "
			   "finish; capnet --lab %s down removes what it left)",
			   lab, asked, lab);
		return err;
	}
	if (err == -ENOENT) {
		error_note("no lab \"%s\" (capnet --lab %s up -n N creates one)", lab, lab);
		return err;
	}
	if (err == -EPERM || err == -EACCES)
		return need_root("reading a lab");
	if (err) {
		/* Discovery says what is broken and that down removes it; add what to build. */
		char reason[512];

		asked = lab_record_nodes(lab);
		snprintf(reason, sizeof(reason), "%s", error_message() ?: "");
		error_clear();
		if (!*reason)
			snprintf(reason, sizeof(reason),
				 "lab \"%s\" is broken: %s (capnet --lab %s down removes it)", lab,
				 strerror(-err), lab);
		/* An adopted lab's adopt finished, or the record would not say so. A lab `up`
		 * finished can be broken too: a namespace deleted by hand. A lab that is not whole
		 * (EUCLEAN) was whole once, and its message says what to do. */
		if (asked && !adopt_is_adopted(lab) && err != -EUCLEAN)
			error_note("%s (`up -n %u` did not finish, or a part was removed since)",
				   reason, asked);
		else
			error_note("%s", reason);
		return err;
	}
	if (!filter && !need)
		return 0;
	err = filter_open(lab, &f);
	if (err) {
		if ((err == -EPERM || err == -EACCES) && geteuid())
			return need_root("reading the filter's maps");
		char remedy[200], made_by[32];

		asked = lab_record_nodes(lab);
		lab_record_remedy(lab, asked ?: info->nodes, made_by, sizeof(made_by), remedy,
				  sizeof(remedy));
		filter_pin_dir(lab, dir, sizeof(dir));
		error_note(
			"lab \"%s\" has no filter state in %s (%s): its partitions cannot be read "
			"or changed; %s rebuilds it",
			lab, dir, error_reason(err), remedy);
		return err;
	}
	err = need & LAB_WHOLE ? filter_check_whole(f, info) : 0;
	if (!err && (need & LAB_DELAYS_APPLIED))
		err = delay_check_applied(lab);
	if (err) {
		filter_close(f);
		return err;
	}
	if (filter)
		*filter = f;
	else
		filter_close(f);
	return 0;
}
