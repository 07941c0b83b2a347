/* SPDX-License-Identifier: GPL-2.0-only */
/* util.h - small helpers shared by daemon, client and tests: error messages, hex, clocks */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/**
 * skbt_fail() - write a one-line error message for the caller and return -EINVAL
 * @err: buffer for the message (may be NULL)
 * @errlen: its size (may be 0)
 * @fmt: printf format of the message, without a trailing newline
 *
 * Leaf parsers do not log: they say what was wrong in @err and the caller
 * decides (log it, or send it to a client).  "return skbt_fail(err, errlen,
 * ...)" keeps them short.
 */
int skbt_fail(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
int skbt_vfail(char *err, size_t errlen, const char *fmt, va_list ap) _printf_(3, 0);

/* The value of a hexadecimal digit (either case), -1 for any other character. */
int skbt_hex_digit(char c);

/* CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns(). */
uint64_t skbt_now_ns(void);
/* CLOCK_REALTIME in microseconds, for people. */
uint64_t skbt_realtime_usec(void);
