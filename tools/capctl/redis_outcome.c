// SPDX-License-Identifier: GPL-2.0-only
/* Redis answers to history outcomes. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tools/capctl/redis_outcome.h"

/* Errors Redis gives before it executes anything: the write was surely not applied. A replica
 * refusing writes (READONLY), a primary that will not accept writes without enough replicas
 * (NOREPLICAS), a replica cut from its primary (MASTERDOWN), a server still loading its data
 * (LOADING), a script or command refused outright (NOSCRIPT, WRONGTYPE, OOM, BUSY: another
 * script is running, so this one did not start). */
static bool refused_before_execution(const char *text)
{
	static const char *const codes[] = { "READONLY", "NOREPLICAS", "MASTERDOWN", "LOADING",
					     "NOSCRIPT", "WRONGTYPE",  "OOM",	     "BUSY",
					     "NOAUTH",	 "NOPERM",     "DENIED" };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t n = strlen(codes[i]);

		if (!strncmp(text, codes[i], n) && (text[n] == ' ' || text[n] == '\0'))
			return true;
	}
	return false;
}

enum history_type redis_outcome(enum history_f f, const struct redis_answer *a, char *why,
				size_t why_len)
{
	const char *text = a->text ? a->text : "";

	why[0] = 0;
	if (a->transport == REDIS_NOT_SENT) {
		snprintf(why, why_len, "not sent: %s", text);
		return HISTORY_FAIL;
	}
	if (a->transport == REDIS_LOST) {
		snprintf(why, why_len, "sent, then %s", text);
		return HISTORY_INFO;
	}
	if (a->kind == REDIS_REPLY_KIND_ERROR) {
		snprintf(why, why_len, "%s", text);
		/* A read changes nothing: any refusal of it is a fail. */
		return f == HISTORY_READ || refused_before_execution(text) ? HISTORY_FAIL :
									     HISTORY_INFO;
	}
	switch (f) {
	case HISTORY_READ:
		if (a->kind == REDIS_REPLY_KIND_STRING || a->kind == REDIS_REPLY_KIND_NIL ||
		    a->kind == REDIS_REPLY_KIND_ARRAY)
			return HISTORY_OK;
		break;
	case HISTORY_ADD:
		/* 1 added, 0 already there: either way it is in the set now. */
		if (a->kind == REDIS_REPLY_KIND_INTEGER && (a->integer == 0 || a->integer == 1))
			return HISTORY_OK;
		break;
	case HISTORY_APPEND:
		/* The list's new length. */
		if (a->kind == REDIS_REPLY_KIND_INTEGER && a->integer >= 1)
			return HISTORY_OK;
		break;
	case HISTORY_WRITE:
		if (a->kind == REDIS_REPLY_KIND_STATUS && !strcmp(text, "OK"))
			return HISTORY_OK;
		break;
	case HISTORY_CAS:
		if (a->kind != REDIS_REPLY_KIND_INTEGER)
			break;
		if (a->integer == 1)
			return HISTORY_OK;
		if (a->integer == 0 || a->integer == -1) {
			snprintf(why, why_len, "%s",
				 a->integer ? "the key is absent" : "found another value");
			return HISTORY_FAIL;
		}
		break;
	default:
		break;
	}
	/* A reply the op does not expect: the server did something, nobody knows what. */
	snprintf(why, why_len, "unexpected reply to %s%s%s", history_f_name(f), text[0] ? ": " : "",
		 text);
	return HISTORY_INFO;
}
