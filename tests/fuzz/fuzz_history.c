// SPDX-License-Identifier: GPL-2.0-only
/* Fuzzes what capctl check reads: any bytes as a history file. Parsing and pairing must never
 * crash or read out of bounds, and a history that parses must be decidable or cleanly
 * refused by the register checker, within a small memory limit. */
// fuzz-sources: tools/check/history.c tools/check/linearizability.c lib/json.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/check/history.h"
#include "tools/check/linearizability.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lin_options opt = { .max_memory = 8u << 20 };
	struct history_error err;
	struct lin_result res;
	struct history h;

	history_init(&h);
	if (!history_parse_buf(&h, (const char *)data, size, &err) && !history_pair(&h, &err)) {
		memset(&res, 0, sizeof(res));
		if (!lin_check_register(&h, &opt, &res, &err))
			lin_result_free(&res);
	}
	history_free(&h);
	return 0;
}
