// SPDX-License-Identifier: GPL-2.0-only
/* The tag in front of every datagram between shims. */
#include <errno.h>

#include "netem/maelstrom/wire.h"

int mael_wire_parse(const char *d, size_t n, uint64_t *seq, size_t *start)
{
	size_t i = 1;
	uint64_t v = 0;

	if (n < 3 || d[0] != MAEL_WIRE_TAG)
		return -EINVAL;
	/* At most 20 digits, so that v cannot wrap, and within a drop event's 32 bytes. */
	for (; i < n && i < 22 && d[i] >= '0' && d[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(d[i] - '0');
	if (i == 1 || i >= n || d[i] != ' ' || !v)
		return -EINVAL;
	*seq = v;
	*start = i + 1;
	return 0;
}
