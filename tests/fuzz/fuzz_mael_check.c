// SPDX-License-Identifier: GPL-2.0-only
/* Fuzzes the kafka and transaction checkers with what nodes may answer: any bytes as
 * operations, one a line, "<outcome> <type>\t<key>\t<request>\t<answer>" (outcome o, f or i;
 * the first byte picks kafka, txn-list-append or txn-rw-register). The checkers must never
 * crash or read out of bounds, must decide every history, the same way twice, and, since each
 * model forbids what the weaker ones do, a history valid under a model is valid under every
 * weaker one. */
// fuzz-sources: lib/json.c tools/check/history.c tools/check/linearizability.c tools/check/maelstrom_check.c tools/check/maelstrom_kafka.c tools/check/maelstrom_txn.c tools/check/mael_arena.c tools/check/kafka_check.c tools/check/txn_check.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/maelstrom_check.h"
#include "tools/check/txn_check.h"

#define CHECK(x)                                                                              \
	do {                                                                                  \
		if (!(x)) {                                                                   \
			fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #x); \
			abort();                                                              \
		}                                                                             \
	} while (0)

enum { MAX_OPS = 256 };

/* The next tab-separated field of *line, NUL-terminated in place; NULL when empty. */
static char *field(char **line)
{
	char *start = *line, *tab;

	if (!start)
		return NULL;
	tab = strchr(start, '\t');
	if (tab) {
		*tab = 0;
		*line = tab + 1;
	} else {
		*line = NULL;
	}
	return *start ? start : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mael_workload kinds[] = { MAEL_KAFKA, MAEL_TXN_LIST_APPEND,
						    MAEL_TXN_RW_REGISTER };
	struct mael_op ops[MAX_OPS];
	struct mael_result r, again;
	enum mael_workload w;
	char *text, *line, *next;
	size_t n = 0;

	if (!size)
		return 0;
	w = kinds[data[0] % 3];
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	for (line = text; line && n < MAX_OPS; line = next) {
		char *rest, *type;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (strlen(line) < 2)
			continue;
		rest = line + 2;
		type = field(&rest);
		ops[n] = (struct mael_op){
			.process = n % 7,
			.node = n % 3,
			.outcome = line[0] == 'o' ? MAEL_OK :
				   line[0] == 'f' ? MAEL_FAIL :
						    MAEL_INFO,
			.type = type,
			.invoke_ns = n * 10,
			.complete_ns = n * 10 + 15, /* overlapping its neighbours */
		};
		ops[n].key = field(&rest);
		ops[n].arg = field(&rest);
		ops[n].result = field(&rest);
		n++;
	}
	CHECK(mael_check_models(w, ops, n, 1u << TXN_STRICT_SERIALIZABLE, &r) == 0);
	CHECK(mael_check_models(w, ops, n, 1u << TXN_STRICT_SERIALIZABLE, &again) == 0);
	CHECK(r.valid == again.valid && r.problems == again.problems);
	if (w != MAEL_KAFKA) {
		bool stronger_valid = r.valid;

		for (int m = TXN_STRICT_SERIALIZABLE - 1; m >= 0; m--) {
			CHECK(mael_check_models(w, ops, n, 1u << m, &again) == 0);
			CHECK(!stronger_valid || again.valid);
			stronger_valid = again.valid;
		}
	}
	free(text);
	return 0;
}
