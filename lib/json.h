/* SPDX-License-Identifier: GPL-2.0-only */
/* JSON for every capnet program: a strict reader that builds a small tree, look-ups of members,
 * and the one string writer. Histories, recordings and status output all go through it. */
#ifndef CAPNET_JSON_H
#define CAPNET_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum json_kind { JSON_NULL, JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_kind kind;
	char *str; /* JSON_STRING: the decoded text; JSON_NUMBER: the literal as written */
	bool b;
	struct json_value *items; /* JSON_ARRAY, JSON_OBJECT: n values */
	char **names; /* JSON_OBJECT: their member names */
	size_t n;
};

struct json_error {
	long column; /* 1-based, in bytes */
	char msg[120];
	bool too_deep; /* the value nests deeper than allowed */
};

/* Deep enough for anything capnet writes; a limit all the same, so input cannot blow the stack. */
#define JSON_MAX_DEPTH_ANY 64

/* Parses exactly one value (blanks around it allowed) from text[0..len). 0; -EINVAL with err
 * filled (err may be NULL); -ENOMEM. On failure *out is empty. */
int json_parse(const char *text, size_t len, int max_depth, struct json_value *out,
	       struct json_error *err);
void json_value_free(struct json_value *v);

/* The member of an object by name (the first, if named twice), or NULL. */
const struct json_value *json_member(const struct json_value *obj, const char *name);
/* True when v is an integer that fits; the literal must be plain digits (with a '-' for i64). */
bool json_is_u64(const struct json_value *v, uint64_t *out);
bool json_is_i64(const struct json_value *v, int64_t *out);
/* A string value into buf: 0, -EINVAL when not a string, -ENOSPC when it does not fit. */
int json_copy_string(const struct json_value *v, char *buf, size_t len);

/* One-shot look-ups of a top-level member in the text of one object: 0, -ENOENT when it has no
 * such member, -EINVAL when the member has another type or the text is not an object, -ENOSPC. */
int json_text_u64(const char *text, const char *key, uint64_t *out);
int json_text_i64(const char *text, const char *key, int64_t *out);
int json_text_str(const char *text, const char *key, char *buf, size_t len);

/* Writes text as a JSON string, quotes included. Bytes that are not valid UTF-8 (or hold a NUL)
 * are written as {"hex":"..."} instead, so that no reader takes a byte for a character. */
void json_write_bytes(FILE *f, const uint8_t *p, size_t n);
/* The same for a C string, or null for NULL. */
void json_write_string(FILE *f, const char *s);
/* A parsed value back to compact JSON text: how values are compared and kept. */
void json_write_value(FILE *f, const struct json_value *v);
/* The same into a new string (free it), or NULL without memory. */
char *json_value_text(const struct json_value *v);
/* True if p[0..n) is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool json_utf8_valid(const uint8_t *p, size_t n);

#endif /* CAPNET_JSON_H */
