// SPDX-License-Identifier: GPL-2.0-only
/* The arena of parsed answers: JSON values and blocks, all freed at once. */
#include <stdlib.h>
#include <string.h>

#include "tools/check/mael_arena.h"

const struct json_value *mael_arena_parse(struct mael_arena *a, const char *text)
{
	struct json_value *v;

	if (!text || a->n_roots == a->cap_roots) {
		size_t cap = a->cap_roots ? 2 * a->cap_roots : 256;
		struct json_value **p = text ? realloc(a->roots, cap * sizeof(*p)) : NULL;

		if (!p)
			return NULL;
		a->roots = p;
		a->cap_roots = cap;
	}
	v = malloc(sizeof(*v));
	if (!v || json_parse(text, strlen(text), JSON_MAX_DEPTH_ANY, v, NULL)) {
		free(v);
		return NULL;
	}
	a->roots[a->n_roots++] = v;
	return v;
}

void *mael_arena_keep(struct mael_arena *a, void *p)
{
	if (!p)
		return NULL;
	if (a->n_blocks == a->cap_blocks) {
		size_t cap = a->cap_blocks ? 2 * a->cap_blocks : 256;
		void **b = realloc(a->blocks, cap * sizeof(*b));

		if (!b) {
			free(p);
			return NULL;
		}
		a->blocks = b;
		a->cap_blocks = cap;
	}
	a->blocks[a->n_blocks++] = p;
	return p;
}

void mael_arena_free(struct mael_arena *a)
{
	for (size_t i = 0; i < a->n_roots; i++) {
		json_value_free(a->roots[i]);
		free(a->roots[i]);
	}
	for (size_t i = 0; i < a->n_blocks; i++)
		free(a->blocks[i]);
	free(a->roots);
	free(a->blocks);
}
