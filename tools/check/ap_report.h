/* SPDX-License-Identifier: GPL-2.0-only */
/* What an AP (eventually consistent) register history did, measured rather than judged: reads of
 * values already overwritten, acknowledged writes that vanished, and how long after the last
 * write each key's reads came to agree. Pure: no I/O, no clock. */
#ifndef CAPNET_AP_REPORT_H
#define CAPNET_AP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/check/history.h"

#define AP_MAX_EXAMPLES 10

struct ap_stale {
	size_t read; /* history op of the read */
	size_t by; /* the op that had overwritten its value before it began */
	uint64_t staleness; /* ns from that op's completion to the read's invoke */
};

struct ap_lost {
	size_t write; /* the acknowledged write */
	size_t read; /* a later read that returned an older value */
};

struct ap_key {
	const char *key; /* points into the history */
	size_t reads;
	const char *final; /* value of the last read (NULL: null or no read) */
	bool has_final;
	long last_write_line; /* 0 when the key was never written */
	/* From the last write's completion to the invoke of the first read from which all
	 * reads return the final value; UINT64_MAX when the reads after the last write never
	 * agree (or there are none). */
	uint64_t converged_ns;
	size_t disagreeing; /* reads after the last write that return another value */
};

struct ap_result {
	size_t ops, reads;
	size_t n_stale, n_lost;
	uint64_t stale_max_ns, stale_median_ns;
	struct ap_stale stale[AP_MAX_EXAMPLES]; /* the stalest first */
	struct ap_lost lost[AP_MAX_EXAMPLES]; /* in history order */
	struct ap_key *keys;
	size_t n_keys;
};

/* Returns 0 with res filled, -EINVAL if an op does not fit the register model (err says where),
 * or -ENOMEM. */
int ap_report_register(const struct history *h, struct ap_result *res, struct history_error *err);
void ap_result_free(struct ap_result *res);

#endif /* CAPNET_AP_REPORT_H */
