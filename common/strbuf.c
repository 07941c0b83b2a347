/* SPDX-License-Identifier: GPL-2.0-only */
/* strbuf.c - growable byte buffer */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

void strbuf_done(struct strbuf *sb)
{
        free(sb->data);
        *sb = (struct strbuf)STRBUF_INIT;
}

bool strbuf_reserve(struct strbuf *sb, size_t n)
{
        size_t need, cap;
        char *p;

        if (sb->failed)
                return false;
        need = sb->len + n + 1; /* +1 keeps room for strbuf_cstr() */
        if (need <= sb->cap)
                return true;
        cap = sb->cap ? sb->cap : 256;
        while (cap < need)
                cap *= 2;
        p = realloc(sb->data, cap);
        if (!p) {
                sb->failed = true;
                return false;
        }
        sb->data = p;
        sb->cap = cap;
        return true;
}

void strbuf_put(struct strbuf *sb, const void *p, size_t n)
{
        /* Nothing to add: data may still be NULL, and NULL + 0 is undefined. */
        if (n == 0 || !strbuf_reserve(sb, n))
                return;
        memcpy(sb->data + sb->len, p, n);
        sb->len += n;
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
        strbuf_put(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
        if (!strbuf_reserve(sb, 1))
                return;
        sb->data[sb->len++] = c;
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (!strbuf_reserve(sb, 64))
                return;
        va_start(ap, fmt);
        n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
                sb->failed = true;
                return;
        }
        if ((size_t)n >= sb->cap - sb->len) {
                if (!strbuf_reserve(sb, (size_t)n))
                        return;
                va_start(ap, fmt);
                vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
                va_end(ap);
        }
        sb->len += (size_t)n;
}

void strbuf_put_u64(struct strbuf *sb, uint64_t v)
{
        char tmp[20];
        size_t i = sizeof(tmp);

        do {
                tmp[--i] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        strbuf_put(sb, tmp + i, sizeof(tmp) - i);
}

void strbuf_put_i64(struct strbuf *sb, int64_t v)
{
        if (v < 0) {
                strbuf_putc(sb, '-');
                strbuf_put_u64(sb, (uint64_t)0 - (uint64_t)v);
        } else {
                strbuf_put_u64(sb, (uint64_t)v);
        }
}

void strbuf_put_hex(struct strbuf *sb, uint64_t v)
{
        static const char digits[] = "0123456789abcdef";
        char tmp[18];
        size_t i = sizeof(tmp);

        do {
                tmp[--i] = digits[v & 0xf];
                v >>= 4;
        } while (v);
        tmp[--i] = 'x';
        tmp[--i] = '0';
        strbuf_put(sb, tmp + i, sizeof(tmp) - i);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
        size_t len, i;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                len = 4;
                cp = s[0] & 0x07;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values past U+10FFFF. */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

/* Bytes a JSON string carries as they are: printable ASCII but '"' (0x22) and '\\' (0x5c). */
static const bool json_plain[256] = {
    [0x20 ... 0x21] = true,
    [0x23 ... 0x5b] = true,
    [0x5d ... 0x7e] = true,
};

char *json_escape_to(char *dst, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s, *end = p + n;

        /* Byte by byte into room the caller has: the strings are short (names of
         * functions, devices, tasks), where a memcpy() call per run cost more. */
        while (p < end) {
                unsigned char c = *p;
                size_t l;
                char esc;

                if (_likely_(json_plain[c])) {
                        *dst++ = (char)c;
                        p++;
                        continue;
                }
                if (c >= 0x80 && (l = utf8_seq_len(p, (size_t)(end - p))) > 0) {
                        memcpy(dst, p, l);
                        dst += l;
                        p += l;
                        continue;
                }
                switch (c) {
                case '"':
                case '\\':
                        esc = (char)c;
                        break;
                case '\n':
                        esc = 'n';
                        break;
                case '\t':
                        esc = 't';
                        break;
                case '\r':
                        esc = 'r';
                        break;
                case '\b':
                        esc = 'b';
                        break;
                case '\f':
                        esc = 'f';
                        break;
                default:
                        esc = 0;
                }
                if (esc) {
                        *dst++ = '\\';
                        *dst++ = esc;
                } else {
                        memcpy(dst, "\\u00", 4);
                        dst[4] = hex[c >> 4];
                        dst[5] = hex[c & 0xf];
                        dst += 6;
                }
                p++;
        }
        return dst;
}

void strbuf_put_json_string(struct strbuf *sb, const char *s, size_t n)
{
        char *end;

        /* Worst case every byte becomes \u00XX. */
        if (!strbuf_reserve(sb, n * 6 + 2))
                return;
        sb->data[sb->len] = '"';
        end = json_escape_to(sb->data + sb->len + 1, s, n);
        *end++ = '"';
        sb->len = (size_t)(end - sb->data);
}

void strbuf_put_json_text(struct strbuf *sb, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0, l;

        while (i < n) {
                if (p[i] < 0x80 || (l = utf8_seq_len(p + i, n - i)) == 0) {
                        if (p[i] < 0x80) {
                                i++;
                                run++;
                                continue;
                        }
                        strbuf_put(sb, s + i - run, run);
                        run = 0;
                        strbuf_put(sb, "\\u00", 4);
                        strbuf_putc(sb, hex[p[i] >> 4]);
                        strbuf_putc(sb, hex[p[i] & 0xf]);
                        i++;
                        continue;
                }
                i += l;
                run += l;
        }
        strbuf_put(sb, s + i - run, run);
}

void strbuf_consume(struct strbuf *sb, size_t n)
{
        if (n >= sb->len) {
                sb->len = 0;
                return;
        }
        memmove(sb->data, sb->data + n, sb->len - n);
        sb->len -= n;
}

const char *strbuf_cstr(struct strbuf *sb)
{
        if (!strbuf_reserve(sb, 0))
                return "";
        sb->data[sb->len] = '\0';
        return sb->data;
}
