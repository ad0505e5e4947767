// SPDX-License-Identifier: GPL-2.0-only
/* The arena of parsed answers: JSON values and blocks, all freed at once. */
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tools/check/mael_arena.h"

const struct json_value *mael_arena_parse(struct mael_arena *a, const char *text)
{
	struct json_value *v;

	if (!text || array_grow((void **)&a->roots, sizeof(*a->roots), a->n_roots, &a->cap_roots))
		return NULL;
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
	if (array_grow((void **)&a->blocks, sizeof(*a->blocks), a->n_blocks, &a->cap_blocks)) {
		free(p);
		return NULL;
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
