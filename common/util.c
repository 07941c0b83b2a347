/* SPDX-License-Identifier: GPL-2.0-only */
/* util.c - small helpers shared by daemon, client and tests: error messages, hex, clocks */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

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
