/* SPDX-License-Identifier: GPL-2.0-only */
/* Placeholders in the arguments of a service (`capnet start -- PROGRAM ARG...`), expanded once
 * per node: {i} the node number, {ip} its address, {n} the lab's size, {dir} its data
 * directory, and {each:TEMPLATE}, TEMPLATE expanded for every node of the service, joined by
 * commas, or by SEP in {each/SEP:TEMPLATE} (\n a newline, \t a tab, \\ a backslash). {{ is a
 * literal {, }} a literal }. Pure: the caller says what each node's values are. */
#ifndef CAPNET_PLACEHOLDER_H
#define CAPNET_PLACEHOLDER_H

#include <stddef.h>

#include "netem/policy/spec.h"

struct placeholder_ctx {
	unsigned int nodes; /* the lab's size: {n} */
	const struct node_set *service_nodes; /* where the service runs: {each:...} */
	/* A node's address and data directory, into buf (NUL-terminated). */
	void (*ip)(unsigned int node, char *buf, size_t len, void *arg);
	void (*dir)(unsigned int node, char *buf, size_t len, void *arg);
	void *arg;
};

/* Expands text for node into out. 0, or -EINVAL (an unknown or unterminated placeholder, a
 * nested {each:}) or -ENAMETOOLONG (out too small), with the reason in err. */
int placeholder_expand(const char *text, unsigned int node, const struct placeholder_ctx *ctx,
		       char *out, size_t len, struct spec_error *err);

/* Checks text without expanding it (for every argument, before anything starts). */
int placeholder_check(const char *text, struct spec_error *err);

#endif /* CAPNET_PLACEHOLDER_H */
