/* SPDX-License-Identifier: GPL-2.0-only */
/* A reader of EDN, the data notation of Clojure that Jepsen's histories are written in: nil,
 * booleans, integers, floats, strings, characters, keywords, symbols, lists, vectors, maps and
 * sets, comments and discards (#_). Values come one after another from a text (a history file is
 * one vector of maps, or one map per line); every error has its line and column. Tagged
 * literals (#inst, #uuid, records) are read as their tag and the value that follows. */
#ifndef CAPNET_EDN_H
#define CAPNET_EDN_H

#include <stdbool.h>
#include <stddef.h>

enum edn_kind {
	EDN_NIL,
	EDN_BOOL,
	EDN_INT, /* text: the literal, sign and digits (an N suffix dropped) */
	EDN_FLOAT, /* text: the literal */
	EDN_STRING, /* text: decoded */
	EDN_CHAR, /* text: the character, decoded */
	EDN_KEYWORD, /* text: without the colon */
	EDN_SYMBOL,
	EDN_LIST,
	EDN_VECTOR,
	EDN_MAP, /* items: key, value, key, value... */
	EDN_SET,
	EDN_TAGGED, /* text: the tag; items[0]: the value */
};

struct edn_value {
	enum edn_kind kind;
	bool b;
	char *text;
	struct edn_value *items;
	size_t n; /* items (a map: twice its entries) */
	long line, column; /* where it starts */
};

struct edn_error {
	long line, column; /* 1-based */
	char msg[120];
};

struct edn_reader {
	const char *start, *p, *end;
	long line;
	const char *line_start;
	int max_depth;
	const char *nul; /* the first NUL byte of the text: an error wherever it is */
};

void edn_reader_init(struct edn_reader *r, const char *text, size_t len, int max_depth);
/* The next value: 1 with *out filled (edn_value_free() it), 0 at the end of the text, -EINVAL
 * with err filled, -ENOMEM. */
int edn_read(struct edn_reader *r, struct edn_value *out, struct edn_error *err);
void edn_value_free(struct edn_value *v);

/* The value of keyword key in map m (":type" is "type"), or NULL. */
const struct edn_value *edn_get(const struct edn_value *m, const char *key);
bool edn_is_keyword(const struct edn_value *v, const char *name);

#endif /* CAPNET_EDN_H */
