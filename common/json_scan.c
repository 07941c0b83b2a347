/* SPDX-License-Identifier: GPL-2.0-only */
/* json_scan.c - a bounded pull parser for one JSON text, with byte-exact strings */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_scan.h"
#include "util.h"

void json_scan_init(struct json_scan *js, const char *s, size_t len, char *err, size_t errlen)
{
        *js = (struct json_scan){.start = s, .p = s, .end = s + len, .err = err, .errlen = errlen};
        if (err && errlen)
                err[0] = '\0';
}

size_t json_scan_offset(const struct json_scan *js)
{
        return (size_t)(js->p - js->start);
}

int json_scan_fail(struct json_scan *js, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        if (js->error)
                return js->error;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        js->error = skbt_fail(js->err, js->errlen, "at byte %zu: %s", json_scan_offset(js), msg);
        return js->error;
}

static void skip_ws(struct json_scan *js)
{
        while (js->p < js->end &&
               (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
                js->p++;
}

enum json_scan_type json_scan_peek(struct json_scan *js)
{
        if (js->error)
                return JSON_SCAN_INVALID;
        skip_ws(js);
        if (js->p == js->end)
                return JSON_SCAN_END;
        switch (*js->p) {
        case '{':
                return JSON_SCAN_OBJECT;
        case '[':
                return JSON_SCAN_ARRAY;
        case '"':
                return JSON_SCAN_STRING;
        case 't':
                return JSON_SCAN_TRUE;
        case 'f':
                return JSON_SCAN_FALSE;
        case 'n':
                return JSON_SCAN_NULL;
        case '-':
                return JSON_SCAN_NUMBER;
        default:
                return *js->p >= '0' && *js->p <= '9' ? JSON_SCAN_NUMBER : JSON_SCAN_INVALID;
        }
}

static const char *type_name(enum json_scan_type t)
{
        static const char *const names[] = {
            [JSON_SCAN_END] = "the end of the line",
            [JSON_SCAN_OBJECT] = "an object",
            [JSON_SCAN_ARRAY] = "an array",
            [JSON_SCAN_STRING] = "a string",
            [JSON_SCAN_NUMBER] = "a number",
            [JSON_SCAN_TRUE] = "true",
            [JSON_SCAN_FALSE] = "false",
            [JSON_SCAN_NULL] = "null",
            [JSON_SCAN_INVALID] = "an invalid character",
        };

        return names[t];
}

static int expect(struct json_scan *js, enum json_scan_type want)
{
        enum json_scan_type t = json_scan_peek(js);

        if (js->error)
                return js->error;
        if (t != want)
                return json_scan_fail(js, "expected %s, found %s", type_name(want), type_name(t));
        return 0;
}

static int literal(struct json_scan *js, const char *word)
{
        size_t n = strlen(word);

        if ((size_t)(js->end - js->p) < n || memcmp(js->p, word, n) != 0)
                return json_scan_fail(js, "invalid literal (expected %s)", word);
        js->p += n;
        return 0;
}

int json_scan_object(struct json_scan *js)
{
        int r = expect(js, JSON_SCAN_OBJECT);

        if (r < 0)
                return r;
        js->p++;
        return 0;
}

int json_scan_array(struct json_scan *js)
{
        int r = expect(js, JSON_SCAN_ARRAY);

        if (r < 0)
                return r;
        js->p++;
        return 0;
}

/* Before the next member or element: 1 if there is one, 0 after the closing bracket. */
static int next_item(struct json_scan *js, unsigned *index, char close)
{
        if (js->error)
                return js->error;
        skip_ws(js);
        if (js->p == js->end)
                return json_scan_fail(js, "unexpected end of the line (missing '%c')", close);
        if (*js->p == close) {
                js->p++;
                return 0;
        }
        if ((*index)++ > 0) {
                if (*js->p != ',')
                        return json_scan_fail(js, "expected ',' or '%c'", close);
                js->p++;
                skip_ws(js);
        }
        return 1;
}

int json_scan_member(struct json_scan *js, unsigned *index, char *key, size_t keylen)
{
        size_t len;
        int r = next_item(js, index, '}');

        if (r <= 0)
                return r;
        r = json_scan_string(js, key, keylen, &len);
        if (r < 0)
                return r;
        if (len >= keylen)
                return json_scan_fail(js, "member name too long");
        skip_ws(js);
        if (js->p == js->end || *js->p != ':')
                return json_scan_fail(js, "expected ':' after a member name");
        js->p++;
        return 1;
}

int json_scan_element(struct json_scan *js, unsigned *index)
{
        return next_item(js, index, ']');
}

static void put_utf8(char *out, size_t *n, uint32_t c)
{
        if (c < 0x800) {
                out[(*n)++] = (char)(0xc0 | (c >> 6));
        } else if (c < 0x10000) {
                out[(*n)++] = (char)(0xe0 | (c >> 12));
                out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
        } else {
                out[(*n)++] = (char)(0xf0 | (c >> 18));
                out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3f));
                out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
        }
        out[(*n)++] = (char)(0x80 | (c & 0x3f));
}

static int hex4(struct json_scan *js, uint32_t *ret)
{
        uint32_t v = 0;

        if (js->end - js->p < 4)
                return json_scan_fail(js, "truncated \\u escape");
        for (int i = 0; i < 4; i++) {
                int d = skbt_hex_digit(js->p[i]);

                if (d < 0)
                        return json_scan_fail(js, "invalid \\u escape");
                v = v << 4 | (uint32_t)d;
        }
        js->p += 4;
        *ret = v;
        return 0;
}

/* After "\u": one code unit, or a surrogate pair; bytes into tmp. */
static int unicode_escape(struct json_scan *js, char *tmp, size_t *n)
{
        uint32_t c, lo;
        int r = hex4(js, &c);

        if (r < 0)
                return r;
        if (c < 0x100) {
                /* Our renderers' escape for a byte (see json_scan.h). */
                tmp[(*n)++] = (char)c;
                return 0;
        }
        if (c >= 0xdc00 && c < 0xe000)
                return json_scan_fail(js, "unpaired low surrogate in a \\u escape");
        if (c >= 0xd800 && c < 0xdc00) {
                if (js->end - js->p < 2 || js->p[0] != '\\' || js->p[1] != 'u')
                        return json_scan_fail(js, "unpaired high surrogate in a \\u escape");
                js->p += 2;
                r = hex4(js, &lo);
                if (r < 0)
                        return r;
                if (lo < 0xdc00 || lo >= 0xe000)
                        return json_scan_fail(js, "invalid surrogate pair in a \\u escape");
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(tmp, n, c);
        return 0;
}

static int escape(struct json_scan *js, char *tmp, size_t *n)
{
        char c;

        if (js->p == js->end)
                return json_scan_fail(js, "unterminated string");
        c = *js->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
                tmp[(*n)++] = c;
                return 0;
        case 'b':
                tmp[(*n)++] = '\b';
                return 0;
        case 'f':
                tmp[(*n)++] = '\f';
                return 0;
        case 'n':
                tmp[(*n)++] = '\n';
                return 0;
        case 'r':
                tmp[(*n)++] = '\r';
                return 0;
        case 't':
                tmp[(*n)++] = '\t';
                return 0;
        case 'u':
                return unicode_escape(js, tmp, n);
        }
        js->p--;
        return json_scan_fail(js, "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
}

/* buf NULL: check the string and skip it, whatever its length. */
static int scan_string(struct json_scan *js, char *buf, size_t cap, size_t *len)
{
        size_t n = 0;
        int r = expect(js, JSON_SCAN_STRING);

        if (r < 0)
                return r;
        js->p++;
        for (;;) {
                const char *q = js->p;
                char tmp[4];
                size_t k = 0;

                /* A run of plain bytes at once. */
                while (q < js->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
                        q++;
                if (buf) {
                        if ((size_t)(q - js->p) > cap - n)
                                return json_scan_fail(js, "string longer than %zu bytes", cap);
                        memcpy(buf + n, js->p, (size_t)(q - js->p));
                        n += (size_t)(q - js->p);
                }
                js->p = q;
                if (q == js->end)
                        return json_scan_fail(js, "unterminated string");
                if (*q == '"')
                        break;
                if (*q != '\\')
                        return json_scan_fail(js, "control character in a string");
                js->p++;
                r = escape(js, tmp, &k);
                if (r < 0)
                        return r;
                if (!buf)
                        continue;
                if (k > cap - n)
                        return json_scan_fail(js, "string longer than %zu bytes", cap);
                memcpy(buf + n, tmp, k);
                n += k;
        }
        js->p++;
        if (buf && n < cap)
                buf[n] = '\0';
        if (len)
                *len = n;
        return 0;
}

int json_scan_string(struct json_scan *js, char *buf, size_t cap, size_t *len)
{
        if (!buf || !cap)
                return json_scan_fail(js, "no room for a string");
        return scan_string(js, buf, cap, len);
}

/* Digits of an integer; *neg for a leading '-'. */
static int integer(struct json_scan *js, bool *neg, uint64_t *mag)
{
        uint64_t v = 0;
        const char *first;
        int r = expect(js, JSON_SCAN_NUMBER);

        if (r < 0)
                return r;
        *neg = *js->p == '-';
        if (*neg)
                js->p++;
        first = js->p;
        while (js->p < js->end && *js->p >= '0' && *js->p <= '9') {
                unsigned d = (unsigned)(*js->p - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return json_scan_fail(js, "number out of range");
                v = v * 10 + d;
                js->p++;
        }
        if (js->p == first)
                return json_scan_fail(js, "expected digits");
        if (*first == '0' && js->p - first > 1)
                return json_scan_fail(js, "leading zero in a number");
        if (js->p < js->end && (*js->p == '.' || *js->p == 'e' || *js->p == 'E'))
                return json_scan_fail(js, "expected an integer");
        *mag = v;
        return 0;
}

int json_scan_u64(struct json_scan *js, uint64_t *ret)
{
        bool neg;
        uint64_t v;
        int r = integer(js, &neg, &v);

        if (r < 0)
                return r;
        if (neg && v)
                return json_scan_fail(js, "expected a number of at least 0");
        *ret = v;
        return 0;
}

int json_scan_u32(struct json_scan *js, uint32_t *ret)
{
        uint64_t v;
        int r = json_scan_u64(js, &v);

        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return json_scan_fail(js, "number out of range (at most %u)", UINT32_MAX);
        *ret = (uint32_t)v;
        return 0;
}

int json_scan_i64(struct json_scan *js, int64_t *ret)
{
        bool neg;
        uint64_t v;
        int r = integer(js, &neg, &v);

        if (r < 0)
                return r;
        if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
                return json_scan_fail(js, "number out of range");
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

int json_scan_bool(struct json_scan *js, bool *ret)
{
        enum json_scan_type t = json_scan_peek(js);

        if (t == JSON_SCAN_TRUE || t == JSON_SCAN_FALSE) {
                *ret = t == JSON_SCAN_TRUE;
                return literal(js, *ret ? "true" : "false");
        }
        return expect(js, JSON_SCAN_TRUE);
}

int json_scan_null(struct json_scan *js)
{
        int r;

        if (json_scan_peek(js) != JSON_SCAN_NULL)
                return js->error ? js->error : 0;
        r = literal(js, "null");
        return r < 0 ? r : 1;
}

/* A number of any form (fraction, exponent), checked. */
static int skip_number(struct json_scan *js)
{
        bool neg;
        uint64_t v;
        const char *save = js->p;
        int r = integer(js, &neg, &v);

        if (r == 0)
                return 0;
        /* Not an integer: accept the general grammar without keeping the value. */
        js->error = 0;
        js->p = save;
        if (*js->p == '-')
                js->p++;
        if (js->p == js->end || *js->p < '0' || *js->p > '9')
                return json_scan_fail(js, "invalid number");
        while (js->p < js->end &&
               ((*js->p >= '0' && *js->p <= '9') || *js->p == '.' || *js->p == 'e' ||
                *js->p == 'E' || *js->p == '+' || *js->p == '-'))
                js->p++;
        return 0;
}

static int skip_value(struct json_scan *js, unsigned depth)
{
        char key[256];
        unsigned i = 0;
        int r;

        if (depth >= JSON_SCAN_MAX_DEPTH)
                return json_scan_fail(js, "nested deeper than %d", JSON_SCAN_MAX_DEPTH);
        switch (json_scan_peek(js)) {
        case JSON_SCAN_OBJECT:
                r = json_scan_object(js);
                while (r >= 0 && (r = json_scan_member(js, &i, key, sizeof(key))) > 0)
                        r = skip_value(js, depth + 1);
                return r < 0 ? r : 0;
        case JSON_SCAN_ARRAY:
                r = json_scan_array(js);
                while (r >= 0 && (r = json_scan_element(js, &i)) > 0)
                        r = skip_value(js, depth + 1);
                return r < 0 ? r : 0;
        case JSON_SCAN_STRING:
                return scan_string(js, NULL, 0, NULL);
        case JSON_SCAN_NUMBER:
                return skip_number(js);
        case JSON_SCAN_TRUE:
                return literal(js, "true");
        case JSON_SCAN_FALSE:
                return literal(js, "false");
        case JSON_SCAN_NULL:
                return literal(js, "null");
        case JSON_SCAN_END:
                return json_scan_fail(js, "expected a value, found the end of the line");
        default:
                return js->error ? js->error : json_scan_fail(js, "expected a value");
        }
}

int json_scan_skip(struct json_scan *js)
{
        return skip_value(js, 0);
}

int json_scan_finish(struct json_scan *js)
{
        enum json_scan_type t = json_scan_peek(js);

        if (js->error)
                return js->error;
        if (t != JSON_SCAN_END)
                return json_scan_fail(js, "expected the end of the line after the value, found %s",
                                      type_name(t));
        return 0;
}
