/* SPDX-License-Identifier: GPL-2.0-only */
/* What an answer of etcd's v3 JSON gateway means for a history, by Jepsen's rules: ok only on a
 * definite success, fail only where the operation surely did not happen, info otherwise. Pure:
 * the client says how far the request got and what came back. */
#ifndef CAPNET_ETCD_OUTCOME_H
#define CAPNET_ETCD_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/check/history.h"

enum etcd_transport {
	ETCD_NOT_SENT, /* no connection: it did not happen */
	ETCD_ANSWERED, /* an HTTP answer came back */
	ETCD_LOST, /* sent, then a timeout or a reset: unknown */
};

struct etcd_answer {
	enum etcd_transport transport;
	long http_status;
	const char *error; /* the gateway's "error" or "message", NULL when none */
	bool succeeded; /* a txn's "succeeded" */
	bool body_ok; /* the body parsed as the answer to this request */
	const char *text; /* what the transport said, for ETCD_NOT_SENT and ETCD_LOST */
};

/* The outcome of f (read: range, write: put, cas: a txn comparing the value). why gets the
 * reason for anything but ok. */
enum history_type etcd_outcome(enum history_f f, const struct etcd_answer *a, char *why,
			       size_t why_len);

#endif /* CAPNET_ETCD_OUTCOME_H */
