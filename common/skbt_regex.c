/* SPDX-License-Identifier: GPL-2.0-only */
/* skbt_regex.c - probe-name regular expressions with bounded compile and match cost */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynlib.h"
#include "macro.h"
#include "skbt_regex.h"
#include "util.h"

/*
 * PCRE2 allocates through this: every byte a pattern makes us hold is
 * counted and capped, compile-time work areas, the compiled code and the
 * backtracking frames of a match alike (heap_limit caps the latter below
 * the total).
 */
struct mem_budget {
        size_t used, max;
};

struct skbt_regex {
        struct mem_budget mem;
        pcre2_general_context *gctx;
        pcre2_match_context *mctx;
        pcre2_match_data *md;
        pcre2_code *code;
        char *pattern;
        uint64_t budget_ns, spent_ns; /* budget 0: none */
};

/* A size header in front of each block, so that frees can be counted. */
struct mem_hdr {
        size_t size;
        max_align_t align[];
};

static void *budget_malloc(PCRE2_SIZE size, void *data)
{
        struct mem_budget *m = data;
        struct mem_hdr *h;

        if (size > m->max || m->used > m->max - size)
                return NULL;
        h = malloc(sizeof(*h) + size);
        if (!h)
                return NULL;
        h->size = size;
        m->used += size;
        return h->align;
}

static void budget_free(void *p, void *data)
{
        struct mem_budget *m = data;
        struct mem_hdr *h;

        if (!p)
                return;
        h = (struct mem_hdr *)((char *)p - offsetof(struct mem_hdr, align));
        m->used -= h->size;
        free(h);
}

static int _printf_(4, 5) fail(int r, char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (err && errlen) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

struct skbt_regex *skbt_regex_free(struct skbt_regex *re)
{
        if (!re)
                return NULL;
        pcre2_match_data_free(re->md);
        pcre2_code_free(re->code);
        pcre2_match_context_free(re->mctx);
        pcre2_general_context_free(re->gctx);
        free(re->pattern);
        free(re);
        return NULL;
}

/* Printable for an error message: the pattern may hold any bytes. */
static void quote(const char *s, char *buf, size_t len)
{
        size_t o = 0;

        for (; *s && o + 5 < len; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch >= 0x20 && ch < 0x7f)
                        buf[o++] = (char)ch;
                else
                        o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
        }
        if (*s && o + 4 <= len) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
}

static int compile(struct skbt_regex *re, const char *pattern, size_t n, char *err, size_t errlen)
{
        /* Probe names are ASCII; no UTF/UCP modes (they only add cost), no \C. */
        const uint32_t options = PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP |
                                 PCRE2_NEVER_BACKSLASH_C | PCRE2_DOLLAR_ENDONLY;
        pcre2_compile_context *cctx;
        PCRE2_UCHAR msg[160];
        PCRE2_SIZE erroff = 0;
        char q[96];
        size_t size = 0;
        int code = 0;

        cctx = pcre2_compile_context_create(re->gctx);
        if (!cctx)
                return -ENOMEM;
        pcre2_set_max_pattern_length(cctx, SKBT_REGEX_MAX_LEN);
        pcre2_set_parens_nest_limit(cctx, SKBT_REGEX_NEST_MAX);
        re->code = pcre2_compile((PCRE2_SPTR)pattern, n, options, &code, &erroff, cctx);
        pcre2_compile_context_free(cctx);
        quote(pattern, q, sizeof(q));
        if (!re->code) {
                if (code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_NOMEMORY ||
                    re->mem.used + 4096 > re->mem.max)
                        return fail(-E2BIG, err, errlen,
                                    "regex '%s' needs more than %d KiB to compile (limit on "
                                    "compile memory); simplify it",
                                    q, SKBT_REGEX_COMPILE_MEM / 1024);
                pcre2_get_error_message(code, msg, sizeof(msg));
                /* Limits PCRE2 enforces for us: say which, so that the fix is clear. */
                if (code == PCRE2_ERROR_PARENTHESES_NEST_TOO_DEEP ||
                    code == PCRE2_ERROR_PATTERN_TOO_LARGE ||
                    code == PCRE2_ERROR_PATTERN_TOO_COMPLICATED)
                        return fail(-E2BIG, err, errlen,
                                    "regex '%s' is too complex: %s (limits: %d nested "
                                    "parentheses, %d KiB compiled)",
                                    q, (const char *)msg, SKBT_REGEX_NEST_MAX,
                                    SKBT_REGEX_COMPILED_MAX / 1024);
                return fail(-EINVAL, err, errlen, "invalid regex '%s' at offset %zu: %s", q,
                            (size_t)erroff, (const char *)msg);
        }
        if (pcre2_pattern_info(re->code, PCRE2_INFO_SIZE, &size) < 0 ||
            size > SKBT_REGEX_COMPILED_MAX)
                return fail(-E2BIG, err, errlen,
                            "regex '%s' compiles to %zu bytes, more than the %d KiB allowed "
                            "(limit on compiled size); use fewer or smaller repeats",
                            q, size, SKBT_REGEX_COMPILED_MAX / 1024);
        return 0;
}

int skbt_regex_new(const char *pattern, struct skbt_regex **ret, char *err, size_t errlen)
{
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
        size_t n = strnlen(pattern, SKBT_REGEX_MAX_LEN + 1);
        int r;

        /* Checked before PCRE2 sees it, so that the message names our limit. */
        if (n > SKBT_REGEX_MAX_LEN)
                return fail(-E2BIG, err, errlen,
                            "regex longer than %d bytes (limit on pattern length); match less "
                            "at once or use probe groups",
                            SKBT_REGEX_MAX_LEN);
        r = skbt_pcre2_load(err, errlen);
        if (r < 0)
                return r;
        re = calloc(1, sizeof(*re));
        if (!re)
                return -ENOMEM;
        re->mem.max = SKBT_REGEX_COMPILE_MEM;
        re->pattern = strdup(pattern);
        re->gctx = pcre2_general_context_create(budget_malloc, budget_free, &re->mem);
        if (!re->pattern || !re->gctx)
                return -ENOMEM;
        r = compile(re, pattern, n, err, errlen);
        if (r < 0)
                return r;
        re->mctx = pcre2_match_context_create(re->gctx);
        re->md = pcre2_match_data_create(1, re->gctx);
        if (!re->mctx || !re->md)
                return -ENOMEM;
        pcre2_set_match_limit(re->mctx, SKBT_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(re->mctx, SKBT_REGEX_DEPTH_LIMIT);
        pcre2_set_heap_limit(re->mctx, SKBT_REGEX_HEAP_KIB);
        *ret = TAKE_PTR(re);
        return 0;
}

void skbt_regex_set_time_budget(struct skbt_regex *re, uint64_t usec)
{
        re->budget_ns = usec * 1000;
        re->spent_ns = 0;
}

int skbt_regex_match(struct skbt_regex *re, const char *subject)
{
        uint64_t t0 = 0;
        int r;

        if (re->budget_ns) {
                if (re->spent_ns > re->budget_ns)
                        return -ETIME;
                t0 = skbt_now_ns();
        }
        r = pcre2_match(re->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, re->md, re->mctx);
        if (re->budget_ns)
                re->spent_ns += skbt_now_ns() - t0;

        if (r >= 0)
                return 1;
        switch (r) {
        case PCRE2_ERROR_NOMATCH:
                return 0;
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
                return -E2BIG;
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                return -EINVAL;
        }
}

const char *skbt_regex_pattern(const struct skbt_regex *re)
{
        return re->pattern;
}

void skbt_regex_limit_message(const struct skbt_regex *re, int error, const char *subject,
                              char *err, size_t errlen)
{
        char q[96], s[72];

        quote(re->pattern, q, sizeof(q));
        quote(subject, s, sizeof(s));
        if (error == -ETIME) {
                fail(0, err, errlen,
                     "regex '%s' took more than %d ms over the probe names (limit on matching "
                     "time); simplify it",
                     q, (int)(re->budget_ns / 1000000));
                return;
        }
        if (error != -E2BIG) {
                fail(0, err, errlen, "regex '%s' failed on '%s': %s", q, s, strerror(-error));
                return;
        }
        fail(0, err, errlen,
             "regex '%s' backtracks too much on '%s' (limits: %d steps, depth %d, %d KiB per "
             "name); simplify it, e.g. avoid nested repeats such as (a*)*",
             q, s, SKBT_REGEX_MATCH_LIMIT, SKBT_REGEX_DEPTH_LIMIT, SKBT_REGEX_HEAP_KIB);
}
