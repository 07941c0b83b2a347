/* SPDX-License-Identifier: GPL-2.0-only */
/* json_scan.h - a bounded pull parser for one JSON text, with byte-exact strings */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * For reading back what our own renderers wrote (recorded events), fast and
 * exactly: no allocation, no tree, and strings come back byte for byte.  The
 * renderers write a byte that is not part of valid UTF-8 as \u00XX
 * (strbuf_put_json_string()), so here \u0000..\u00ff give that one byte;
 * other \u escapes (surrogate pairs included) give UTF-8.  A general JSON
 * library would turn \u00ff into the two bytes of U+00FF and a device named
 * with byte 0xff would render differently offline.
 *
 * Every function returns a negative errno (-EINVAL) on malformed input, with
 * a message naming the byte offset in the buffer given at init; errors are
 * sticky (later calls fail at once with the first message kept).  Nesting is
 * bounded (JSON_SCAN_MAX_DEPTH) when skipping values.
 */

#define JSON_SCAN_MAX_DEPTH 32

enum json_scan_type {
        JSON_SCAN_END = 0, /* nothing but whitespace left */
        JSON_SCAN_OBJECT,
        JSON_SCAN_ARRAY,
        JSON_SCAN_STRING,
        JSON_SCAN_NUMBER,
        JSON_SCAN_TRUE,
        JSON_SCAN_FALSE,
        JSON_SCAN_NULL,
        JSON_SCAN_INVALID,
};

struct json_scan {
        const char *start, *p, *end;
        char *err;
        size_t errlen;
        int error; /* 0, or the first error returned */
};

void json_scan_init(struct json_scan *js, const char *s, size_t len, char *err, size_t errlen);
/* Offset of the next unread byte from the start of the buffer. */
size_t json_scan_offset(const struct json_scan *js);
/* Fail with a message about the value just read or about to be read ("at byte N: ..."). */
int json_scan_fail(struct json_scan *js, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The type of the next value (whitespace skipped), without consuming it. */
enum json_scan_type json_scan_peek(struct json_scan *js);

/*
 * Objects: json_scan_object() consumes '{'; then json_scan_member() with
 * *index starting at 0 returns 1 and the next key (unescaped, NUL-terminated,
 * at most keylen - 1 bytes, longer is an error) positioned before its value,
 * or 0 after the closing '}'.  Arrays likewise with json_scan_element(),
 * which returns 1 before each element.
 */
int json_scan_object(struct json_scan *js);
int json_scan_member(struct json_scan *js, unsigned *index, char *key, size_t keylen);
int json_scan_array(struct json_scan *js);
int json_scan_element(struct json_scan *js, unsigned *index);

/* A string into buf (at most cap bytes; longer is an error), *len its length, NUL-terminated
 * when there is room. */
int json_scan_string(struct json_scan *js, char *buf, size_t cap, size_t *len);
/* Integers only: no fraction, no exponent, no leading zeros, in range. */
int json_scan_u64(struct json_scan *js, uint64_t *ret);
int json_scan_i64(struct json_scan *js, int64_t *ret);
int json_scan_u32(struct json_scan *js, uint32_t *ret);
int json_scan_bool(struct json_scan *js, bool *ret);
/* 1 if the next value is null (consumed), 0 if it is something else (left). */
int json_scan_null(struct json_scan *js);
/* Any value, checked, nested at most JSON_SCAN_MAX_DEPTH deep. */
int json_scan_skip(struct json_scan *js);
/* Nothing but whitespace may follow. */
int json_scan_finish(struct json_scan *js);
