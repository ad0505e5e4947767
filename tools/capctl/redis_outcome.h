/* SPDX-License-Identifier: GPL-2.0-only */
/* What a Redis answer means for a history, by Jepsen's rules: ok only on a definite success,
 * fail only where the operation surely did not happen, info for everything unknown. Pure: the
 * client says what it sent and what came back. */
#ifndef CAPNET_REDIS_OUTCOME_H
#define CAPNET_REDIS_OUTCOME_H

#include <stddef.h>

#include "tools/check/history.h"

/* How far a request got. */
enum redis_transport {
	REDIS_NOT_SENT, /* no connection, or refused before a byte left: it did not happen */
	REDIS_ANSWERED, /* a whole reply came back */
	REDIS_LOST, /* sent, then a timeout, a reset or a closed connection: unknown */
};

/* The reply's kind, as RESP says it. */
enum redis_reply_kind {
	REDIS_REPLY_KIND_STRING, /* a bulk string */
	REDIS_REPLY_KIND_NIL,
	REDIS_REPLY_KIND_STATUS, /* "+OK" */
	REDIS_REPLY_KIND_INTEGER,
	REDIS_REPLY_KIND_ERROR, /* "-READONLY ...", "-ERR ..." */
	REDIS_REPLY_KIND_ARRAY, /* SMEMBERS, LRANGE */
	REDIS_REPLY_KIND_OTHER, /* an array, or anything the op does not expect */
};

struct redis_answer {
	enum redis_transport transport;
	enum redis_reply_kind kind;
	const char *text; /* the string, status or error text */
	long long integer;
};

/*
 * The outcome of op f (read: GET, or SMEMBERS of a set; write: SET; cas: the compare-and-set
 * script, which answers 1 when it set the value, 0 when it found another, -1 when the key was
 * absent; add: SADD; append: RPUSH). why gets the reason for anything but ok.
 */
enum history_type redis_outcome(enum history_f f, const struct redis_answer *a, char *why,
				size_t why_len);

#endif /* CAPNET_REDIS_OUTCOME_H */
