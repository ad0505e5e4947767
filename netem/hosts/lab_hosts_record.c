// SPDX-License-Identifier: GPL-2.0-only
/* The controller's record of a lab across hosts, read from the lab's run directory: what every
 * command (capnet's, capctl's) reads first to know whether a lab spans hosts. */
#include <errno.h>

#include "lib/report.h"
#include "netem/hosts/hosts.h"
#include "netem/lab/lab_record.h"

int lab_hosts_read(const char *lab, struct lab_hosts *lh)
{
	static char text[32768];
	struct spec_error e;

	if (lab_record_read(lab, LAB_HOSTS_RECORD, text, sizeof(text)))
		return -ENOENT;
	if (lab_hosts_parse(text, lh, &e)) {
		error_note("lab \"%s\": its record of hosts is unreadable: %s", lab, e.msg);
		return -EINVAL;
	}
	return 0;
}
