/* SPDX-License-Identifier: GPL-2.0-only */
/* util.c - small helpers shared by daemon, client and tests: error messages, hex, clocks */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

const char *skbt_quote(const char *s, char *buf)
{
        size_t i;

        for (i = 0; s[i] && i < SKBT_QUOTE_MAX; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        if (s[i]) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
        return buf;
}

int skbt_parse_decimal(const char *s, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        bool over = false;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                /* keep scanning after an overflow: junk must still be -EINVAL */
                if (!over && v > (max - (uint64_t)(*s - '0')) / 10)
                        over = true;
                else if (!over)
                        v = v * 10 + (uint64_t)(*s - '0');
        }
        if (over)
                return -ERANGE;
        *ret = v;
        return 0;
}

int skbt_vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
        if (err && errlen > 0)
                vsnprintf(err, errlen, fmt, ap);
        return -EINVAL;
}

int skbt_fail(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        skbt_vfail(err, errlen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int skbt_hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

uint64_t skbt_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t skbt_realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}
