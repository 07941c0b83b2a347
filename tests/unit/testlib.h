/* SPDX-License-Identifier: GPL-2.0-only */
/* testlib.h - minimal assertion helpers for unit tests (exit code protocol) */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test programs are single-threaded; the counter only feeds the final report. */
static int testlib_failures;

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
                        testlib_failures++;                                                        \
                }                                                                                  \
        } while (0)

#define CHECK_STREQ(a, b)                                                                          \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
                        fprintf(stderr, "%s:%d: CHECK_STREQ failed:\n  got:      %s\n  expected: %s\n", \
                                __FILE__, __LINE__, _a ? _a : "(null)", _b ? _b : "(null)");       \
                        testlib_failures++;                                                        \
                }                                                                                  \
        } while (0)

#define CHECK_INTEQ(a, b)                                                                          \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (_a != _b) {                                                                    \
                        fprintf(stderr, "%s:%d: CHECK_INTEQ failed: %s == %lld, expected %lld\n",  \
                                __FILE__, __LINE__, #a, _a, _b);                                   \
                        testlib_failures++;                                                        \
                }                                                                                  \
        } while (0)

/* Call at the end of main(). */
#define TEST_DONE()                                                                                \
        ({                                                                                         \
                if (testlib_failures)                                                              \
                        fprintf(stderr, "%d check(s) failed\n", testlib_failures);                 \
                testlib_failures ? EXIT_FAILURE : EXIT_SUCCESS;                                    \
        })
