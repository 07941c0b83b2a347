/* SPDX-License-Identifier: GPL-2.0-only */
/* skbt_regex.h - probe-name regular expressions with bounded compile and match cost */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every regular expression skbtraced handles (List and Trace "regex", the
 * daemon's --probes, the groups file, and ipftctl's own check) goes through
 * here: PCRE2 (Perl-compatible syntax, a superset of what probe selections use
 * from POSIX ERE) without capture groups, with every cost a pattern can cause
 * bounded (docs/skbtraced.8, LIMITS):
 *
 *   pattern length      SKBT_REGEX_MAX_LEN bytes
 *   nesting             SKBT_REGEX_NEST_MAX parentheses deep
 *   compile memory      SKBT_REGEX_COMPILE_MEM bytes (allocations counted)
 *   compiled size       SKBT_REGEX_COMPILED_MAX bytes
 *   match steps         SKBT_REGEX_MATCH_LIMIT per name (PCRE2 match_limit)
 *   backtrack depth     SKBT_REGEX_DEPTH_LIMIT (PCRE2 depth_limit)
 *   backtrack memory    SKBT_REGEX_HEAP_KIB KiB (PCRE2 heap_limit)
 *   time                skbt_regex_set_time_budget(), for a request's whole walk
 *                       over the probe names (a name costs at most ~0.1 ms)
 *
 * glibc's regcomp/regexec have none of these: back-references recurse
 * without bound, and nested bounded repeats ("x{1,700}{1,700}") take seconds
 * and gigabytes.  Parentheses do not capture, so back-references (\1) are
 * refused at compile time; a match that reaches a limit is an error, never a
 * silent "no match".
 */
#define SKBT_REGEX_MAX_LEN 1024
#define SKBT_REGEX_NEST_MAX 32
#define SKBT_REGEX_COMPILE_MEM (1024 * 1024)
#define SKBT_REGEX_COMPILED_MAX (64 * 1024)
#define SKBT_REGEX_MATCH_LIMIT 10000
#define SKBT_REGEX_DEPTH_LIMIT 2000
#define SKBT_REGEX_HEAP_KIB 256

struct skbt_regex;

/**
 * skbt_regex_new() - compile a pattern
 * @pattern: NUL-terminated; matched anywhere in a name unless anchored (^, $)
 * @ret: the compiled expression
 * @err: on failure, one line saying what is wrong and, for a limit, which
 * @errlen: size of @err
 *
 * Return: 0; -EINVAL for a syntax error; -E2BIG past a limit above; -ENOMEM.
 */
int skbt_regex_new(const char *pattern, struct skbt_regex **ret, char *err, size_t errlen);
struct skbt_regex *skbt_regex_free(struct skbt_regex *re);

/**
 * skbt_regex_match() - does the expression match somewhere in subject?
 *
 * Return: 1 match, 0 no match; -E2BIG when a match limit was reached (the
 * pattern backtracks too much: say so rather than guess); -ETIME past the
 * time budget; -ENOMEM.
 */
int skbt_regex_match(struct skbt_regex *re, const char *subject);

/*
 * Cap the CPU time all further matches of this expression may take together
 * (0: no cap, the default); past it skbt_regex_match() returns -ETIME.  The
 * daemon sets SKBT_REGEX_TIME_BUDGET_USEC on a client's expression, so that
 * no walk over thousands of probe names holds its event loop for long.
 */
#define SKBT_REGEX_TIME_BUDGET_USEC (100 * 1000)
void skbt_regex_set_time_budget(struct skbt_regex *re, uint64_t usec);

/* The pattern as given. */
const char *skbt_regex_pattern(const struct skbt_regex *re);

/* What to tell the user for -E2BIG or -ETIME from skbt_regex_match() on subject. */
void skbt_regex_limit_message(const struct skbt_regex *re, int error, const char *subject,
                              char *err, size_t errlen);

static inline void skbt_regex_freep(struct skbt_regex **re)
{
        if (*re)
                *re = skbt_regex_free(*re);
}
