/* SPDX-License-Identifier: GPL-2.0-only */
/* strbuf.h - growable byte buffer for building output and messages */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/*
 * A growable buffer.  Appends never fail silently: on allocation failure the
 * buffer is marked failed, later appends are no-ops, and strbuf_failed()
 * tells the caller once at the end (so hot formatting code needs no error
 * check per field).
 */
struct strbuf {
        char *data;
        size_t len;
        size_t cap;
        bool failed;
};

#define STRBUF_INIT                                                                                \
        {                                                                                          \
                0                                                                                  \
        }

void strbuf_done(struct strbuf *sb);
static inline void strbuf_donep(struct strbuf *sb)
{
        strbuf_done(sb);
}
#define _cleanup_strbuf_ _cleanup_(strbuf_donep)

/* Make room for n more bytes; false (and failed set) if out of memory. */
bool strbuf_reserve(struct strbuf *sb, size_t n);
void strbuf_put(struct strbuf *sb, const void *p, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
void strbuf_put_u64(struct strbuf *sb, uint64_t v);
void strbuf_put_i64(struct strbuf *sb, int64_t v);
/* "0x" followed by lowercase hex without leading zeros. */
void strbuf_put_hex(struct strbuf *sb, uint64_t v);
/* A JSON string literal, with quotes, escaping '"', '\\' and every control
 * character; bytes that are not valid UTF-8 are written as \u00XX so the
 * output is always valid JSON. */
void strbuf_put_json_string(struct strbuf *sb, const char *s, size_t n);
/* The inside of that literal (no quotes) written at dst, which has room for 6 * n bytes;
 * returns the end.  For code that reserved a line's room once (render/format.c). */
char *json_escape_to(char *dst, const char *s, size_t n);
/* Serialized JSON (from json-c), copied with each byte of an invalid UTF-8 sequence written
 * as \u00XX: such bytes can only be inside strings, so the result is valid JSON and UTF-8. */
void strbuf_put_json_text(struct strbuf *sb, const char *s, size_t n);
/* Drop the first n bytes (consumed by a writer). */
void strbuf_consume(struct strbuf *sb, size_t n);
static inline void strbuf_reset(struct strbuf *sb)
{
        sb->len = 0;
}
static inline bool strbuf_failed(const struct strbuf *sb)
{
        return sb->failed;
}
/* NUL-terminate without counting the NUL in len (for using data as a C string). */
const char *strbuf_cstr(struct strbuf *sb);
