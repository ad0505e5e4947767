/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading back the flat JSON objects captrace writes (meta.json, one object per line in the
 * .jsonl files): a field by name, as a number or a string. Nested values are skipped whole,
 * so a key is only found at the top level. */
#ifndef CAPNET_TRACE_JSON_H
#define CAPNET_TRACE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 0, -ENOENT if the object has no such field, -EINVAL if it is not an unsigned/signed number
 * or a string (or the object is malformed). */
int trace_json_u64(const char *obj, const char *key, uint64_t *out);
int trace_json_i64(const char *obj, const char *key, int64_t *out);
/* A string field, unescaped (\" \\ \/ \n \t and \u00XX), NUL-terminated; -ENOSPC if too long. */
int trace_json_str(const char *obj, const char *key, char *buf, size_t len);

/* Writes s as a JSON string, quotes included. */
void trace_json_put_str(FILE *f, const char *s);

#endif /* CAPNET_TRACE_JSON_H */
