// SPDX-License-Identifier: GPL-2.0-only
/* Fuzzes what capctl check and capctl history read as EDN: any bytes as a Jepsen history. The
 * reader must never crash or read out of bounds; a history that parses must be refused cleanly
 * or decided by every checker, and written back as EDN it must read again as the same events. */
// fuzz-sources: lib/edn.c lib/json.c tools/check/history.c tools/check/history_edn.c tools/check/linearizability.c tools/check/set_check.c tools/check/append_check.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/append_check.h"
#include "tools/check/history.h"
#include "tools/check/history_edn.h"
#include "tools/check/linearizability.h"
#include "tools/check/set_check.h"

#define CHECK(x)                                                                              \
	do {                                                                                  \
		if (!(x)) {                                                                   \
			fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #x); \
			abort();                                                              \
		}                                                                             \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lin_options opt = { .max_memory = 8u << 20 };
	struct history_error err;
	struct history h, again;
	char *edn = NULL;
	size_t len = 0;
	FILE *f;

	history_init(&h);
	if (history_parse_edn(&h, (const char *)data, size, &err)) {
		history_free(&h);
		return 0;
	}
	/* Written back and read again: the same number of events, in the same order. */
	f = open_memstream(&edn, &len);
	CHECK(f);
	if (history_write_edn(f, &h, NULL, 0, &err)) {
		/* A value with no EDN form Jepsen reads back: refused, nothing to compare. */
		fclose(f);
		free(edn);
		history_free(&h);
		return 0;
	}
	fclose(f);
	history_init(&again);
	CHECK(history_parse_edn(&again, edn, len, &err) == 0);
	CHECK(again.n_events == h.n_events);
	for (size_t i = 0; i < h.n_events; i++)
		CHECK(again.events[i].f == h.events[i].f &&
		      again.events[i].type == h.events[i].type &&
		      again.events[i].process == h.events[i].process);
	history_free(&again);
	free(edn);
	if (!history_pair(&h, &err)) {
		struct lin_result lr;
		struct set_result sr;
		struct append_result ar;

		memset(&lr, 0, sizeof(lr));
		if (!lin_check_register(&h, &opt, &lr, &err))
			lin_result_free(&lr);
		if (!set_check(&h, &sr, &err))
			set_result_free(&sr);
		if (!append_check(&h, &ar, &err))
			append_result_free(&ar);
	}
	history_free(&h);
	return 0;
}
