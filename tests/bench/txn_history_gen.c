// SPDX-License-Identifier: GPL-2.0-only
/* Writes a large list-append transaction history in Elle's EDN, as a strictly serializable
 * database would give it, for the transaction checker's benchmark: C clients in rounds (all
 * invoke, then all complete, so every transaction overlaps the others of its round), each
 * transaction of 1 to 4 steps (appends and whole-list reads) on K keys in play, applied at its
 * completion. A key is retired after a number of appends and a fresh one takes its slot, as
 * Elle's generator does, so reads stay short. Deterministic for a seed.
 *   txn_history_gen N [SEED] > h.edn */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/rng.h"

#define CLIENTS 16
#define KEYS 8
#define APPENDS_PER_KEY 32
#define MAX_STEPS 4

struct step {
	unsigned int slot;
	int append; /* else a read */
	uint64_t value;
};

static uint64_t key_id[KEYS], lists[KEYS][APPENDS_PER_KEY + CLIENTS * MAX_STEPS];
static size_t lens[KEYS];

static void print_steps(const struct step *s, size_t n, const uint64_t *const *seen,
			const size_t *n_seen)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (s[i].append) {
			printf("%s[:append %" PRIu64 " %" PRIu64 "]", i ? " " : "",
			       key_id[s[i].slot], s[i].value);
			continue;
		}
		printf("%s[:r %" PRIu64 " ", i ? " " : "", key_id[s[i].slot]);
		if (!seen) {
			printf("nil]");
			continue;
		}
		putchar('[');
		for (size_t e = 0; e < n_seen[i]; e++)
			printf("%s%" PRIu64, e ? " " : "", seen[i][e]);
		printf("]]");
	}
	putchar(']');
}

int main(int argc, char **argv)
{
	uint64_t n, seed, t = 0, done = 0, counter = 0, next_key = KEYS;
	static struct step steps[CLIENTS][MAX_STEPS];
	static uint64_t seen_buf[CLIENTS][MAX_STEPS][APPENDS_PER_KEY + CLIENTS * MAX_STEPS];
	size_t n_steps[CLIENTS];

	if (argc < 2) {
		fprintf(stderr, "usage: txn_history_gen N [SEED]\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 10);
	seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	for (unsigned int k = 0; k < KEYS; k++)
		key_id[k] = k;
	while (done < n) {
		for (unsigned int c = 0; c < CLIENTS; c++) {
			n_steps[c] = 1 + rng_next(&seed) % MAX_STEPS;
			for (size_t i = 0; i < n_steps[c]; i++) {
				steps[c][i].slot = (unsigned int)(rng_next(&seed) % KEYS);
				steps[c][i].append = rng_next(&seed) % 2;
				steps[c][i].value = ++counter;
			}
			printf("{:type :invoke, :f :txn, :value ");
			print_steps(steps[c], n_steps[c], NULL, NULL);
			printf(", :process %u, :time %" PRIu64 "}\n", c, t++);
		}
		for (unsigned int c = 0; c < CLIENTS; c++) {
			const uint64_t *seen[MAX_STEPS];
			size_t n_seen[MAX_STEPS];

			for (size_t i = 0; i < n_steps[c]; i++) {
				struct step *s = &steps[c][i];

				if (s->append) {
					lists[s->slot][lens[s->slot]++] = s->value;
					continue;
				}
				for (size_t e = 0; e < lens[s->slot]; e++)
					seen_buf[c][i][e] = lists[s->slot][e];
				seen[i] = seen_buf[c][i];
				n_seen[i] = lens[s->slot];
			}
			printf("{:type :ok, :f :txn, :value ");
			print_steps(steps[c], n_steps[c], seen, n_seen);
			printf(", :process %u, :time %" PRIu64 "}\n", c, t++);
			done++;
		}
		/* Retire long lists between rounds, when no transaction of theirs is open. */
		for (unsigned int k = 0; k < KEYS; k++)
			if (lens[k] >= APPENDS_PER_KEY) {
				lens[k] = 0;
				key_id[k] = next_key++;
			}
	}
	return 0;
}
