/* SPDX-License-Identifier: GPL-2.0-only */
/* Where the checkers of kafka and txn keep what they parse out of operations' JSON texts while
 * they decide: everything the converted operations point into, freed at once at the end. */
#ifndef CAPNET_MAEL_ARENA_H
#define CAPNET_MAEL_ARENA_H

#include <stddef.h>

#include "lib/json.h"

struct mael_arena {
	struct json_value **roots; /* each its own allocation: pointers to them stay good */
	size_t n_roots, cap_roots;
	void **blocks;
	size_t n_blocks, cap_blocks;
};

/* text parsed, kept until mael_arena_free(); NULL when text is NULL, no JSON, or memory ran
 * out. */
const struct json_value *mael_arena_parse(struct mael_arena *a, const char *text);
/* p (malloc'd) kept until mael_arena_free(); NULL, p freed, when memory ran out. */
void *mael_arena_keep(struct mael_arena *a, void *p);
void mael_arena_free(struct mael_arena *a);

#endif /* CAPNET_MAEL_ARENA_H */
