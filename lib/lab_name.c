// SPDX-License-Identifier: GPL-2.0-only
/* Lab names, checked the same way by every program: a name becomes part of namespace names,
 * pin paths under /sys/fs/bpf and run directories, so "../x" or "a/b" must never get that far. */
#include <stdio.h>
#include <string.h>

#include "lib/lab_name.h"

bool lab_name_valid(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len == 0 || len > LAB_NAME_MAX) {
		snprintf(err, errlen, "lab name \"%s\" must have 1 to %d characters", name,
			 LAB_NAME_MAX);
		return false;
	}
	/* A leading '-' would read as an option in the ip commands --explain prints. */
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9'))) {
		snprintf(err, errlen, "lab name \"%s\" must start with a letter or digit", name);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-')
			continue;
		/* bpffs refuses a directory name with a '.', and the lab's pins live in one. */
		snprintf(
			err, errlen,
			"lab name \"%s\" has '%c' at position %zu; use letters, digits, '_' and '-'%s",
			name, c, i + 1,
			c == '.' ? " (the filter's pins go in /sys/fs/bpf, which refuses a '.')" :
				   "");
		return false;
	}
	return true;
}
