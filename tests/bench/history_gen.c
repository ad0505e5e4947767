// SPDX-License-Identifier: GPL-2.0-only
/* Writes a large valid history for the checker benchmarks: C clients over K sets (adds, then a
 * final read of each) or K lists (appends and whole-list reads), operations overlapping in time
 * as a real load's do, about N operations in all. Deterministic for a seed.
 *   history_gen set|append N [SEED] > h.jsonl */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"

#define CLIENTS 8
#define KEYS 4
/* A list this long is retired and its slot takes a fresh key, as Elle's generators do: reads of
 * whole lists stay small, and the history grows with its operations, not their square. */
#define LIST_MAX 256

/* The lists so far, as reads see them, and each slot's current key. */
static char **lists[KEYS];
static size_t lens[KEYS], caps[KEYS];
static unsigned int key_id[KEYS];

static void event(uint64_t process, const char *type, const char *f, unsigned int key,
		  const char *value, uint64_t t)
{
	printf("{\"process\":%" PRIu64 ",\"type\":\"%s\",\"f\":\"%s\",\"key\":\"k%u\",\"value\":%s,"
	       "\"time\":%" PRIu64 "}\n",
	       process, type, f, key_id[key], value, t);
}

static void list_value(unsigned int k, size_t n)
{
	fputc('[', stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", lists[k][i]);
	fputc(']', stdout);
}

int main(int argc, char **argv)
{
	bool set;
	uint64_t ops, seed, t = 1000, done = 0, counter = 0;

	if (argc < 3 || (strcmp(argv[1], "set") && strcmp(argv[1], "append"))) {
		fprintf(stderr, "usage: history_gen set|append N [SEED]\n");
		return 2;
	}
	set = !strcmp(argv[1], "set");
	ops = strtoull(argv[2], NULL, 10);
	seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	for (unsigned int k = 0; k < KEYS; k++)
		key_id[k] = k;
	/* Rounds: every client invokes, then every client completes, so each operation overlaps
	 * the others of its round. Appends take effect in completion order. */
	while (done < ops) {
		unsigned int key[CLIENTS], kind[CLIENTS];
		char val[CLIENTS][32], q[64];

		for (unsigned int c = 0; c < CLIENTS; c++) {
			key[c] = (unsigned int)(rng_next(&seed) % KEYS);
			kind[c] = set || rng_next(&seed) % 100 < 70;
			snprintf(val[c], sizeof(val[c]), "%u-%" PRIu64, c, ++counter);
			snprintf(q, sizeof(q), "\"%s\"", val[c]);
			event(c, "invoke", kind[c] ? (set ? "add" : "append") : "read", key[c],
			      kind[c] ? q : "null", t++);
		}
		for (unsigned int c = 0; c < CLIENTS; c++) {
			unsigned int k = key[c];

			if (kind[c]) {
				if (lens[k] == caps[k]) {
					caps[k] = caps[k] ? 2 * caps[k] : 1024;
					lists[k] = realloc(lists[k], caps[k] * sizeof(char *));
					if (!lists[k])
						return 1;
				}
				lists[k][lens[k]++] = strdup(val[c]);
				snprintf(q, sizeof(q), "\"%s\"", val[c]);
				event(c, "ok", set ? "add" : "append", k, q, t++);
			} else {
				printf("{\"process\":%u,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k%u\","
				       "\"value\":",
				       c, key_id[k]);
				list_value(k, lens[k]);
				printf(",\"time\":%" PRIu64 "}\n", t++);
			}
			done++;
		}
		/* Retire full lists between rounds, when no operation of theirs is open. */
		for (unsigned int k = 0; !set && k < KEYS; k++)
			if (lens[k] >= LIST_MAX) {
				for (size_t i = 0; i < lens[k]; i++)
					free(lists[k][i]);
				lens[k] = 0;
				key_id[k] += KEYS;
			}
	}
	if (set)
		for (unsigned int k = 0; k < KEYS; k++) {
			event(CLIENTS, "invoke", "read", k, "null", t++);
			printf("{\"process\":%u,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k%u\","
			       "\"value\":",
			       CLIENTS, key_id[k]);
			list_value(k, lens[k]);
			printf(",\"time\":%" PRIu64 "}\n", t++);
		}
	return 0;
}
