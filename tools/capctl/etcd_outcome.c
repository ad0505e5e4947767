// SPDX-License-Identifier: GPL-2.0-only
/* etcd gateway answers to history outcomes. */
#include <stdio.h>
#include <string.h>

#include "tools/capctl/etcd_outcome.h"

/* Errors etcd gives before a request is proposed to Raft: it was surely not applied. */
static bool refused_before_proposal(const char *error)
{
	static const char *const refusals[] = {
		"etcdserver: no leader",
		"etcdserver: not capable",
		"etcdserver: too many requests",
		"etcdserver: request is too large",
		"etcdserver: mvcc: required revision has been compacted",
		"etcdserver: permission denied",
		"etcdserver: user name is empty",
		"etcdserver: invalid auth token",
	};

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (!strcmp(error, refusals[i]))
			return true;
	return false;
}

enum history_type etcd_outcome(enum history_f f, const struct etcd_answer *a, char *why,
			       size_t why_len)
{
	why[0] = 0;
	if (a->transport == ETCD_NOT_SENT) {
		snprintf(why, why_len, "not sent: %s", a->text ? a->text : "no connection");
		return HISTORY_FAIL;
	}
	if (a->transport == ETCD_LOST) {
		snprintf(why, why_len, "sent, then %s", a->text ? a->text : "nothing");
		return HISTORY_INFO;
	}
	if (a->error) {
		snprintf(why, why_len, "%s", a->error);
		/* A read changes nothing: refused, it is a fail whatever the error. */
		return f == HISTORY_READ || refused_before_proposal(a->error) ? HISTORY_FAIL :
										HISTORY_INFO;
	}
	if (a->http_status != 200 || !a->body_ok) {
		snprintf(why, why_len, "HTTP %ld%s", a->http_status,
			 a->body_ok ? "" : " with a body that is not etcd's answer");
		return f == HISTORY_READ ? HISTORY_FAIL : HISTORY_INFO;
	}
	if (f == HISTORY_CAS && !a->succeeded) {
		snprintf(why, why_len, "found another value");
		return HISTORY_FAIL;
	}
	return HISTORY_OK;
}
