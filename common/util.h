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

/*
 * Copy untrusted input for quoting in a message.  The daemon echoes client
 * strings back, so the copy is bounded (SKBT_QUOTE_MAX bytes, then "...")
 * and restricted to printable ASCII: messages stay one line and valid UTF-8
 * whatever the client sent.  buf must hold SKBT_QUOTE_BUF bytes.
 */
#define SKBT_QUOTE_MAX 48
#define SKBT_QUOTE_BUF (SKBT_QUOTE_MAX + 4)
const char *skbt_quote(const char *s, char *buf);

/* Digits only, no sign, no blanks: -EINVAL for anything else, -ERANGE above max. */
int skbt_parse_decimal(const char *s, uint64_t max, uint64_t *ret);

/* The value of a hexadecimal digit (either case), -1 for any other character. */
int skbt_hex_digit(char c);

/* CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns(). */
uint64_t skbt_now_ns(void);
/* CLOCK_REALTIME in microseconds, for people. */
uint64_t skbt_realtime_usec(void);
