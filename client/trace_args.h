/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_args.h - turn 'ipftctl trace' options into io.skbtraced.Trace parameters */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "trace_params.h"
#include "trace_record.h"

/*
 * What 'ipftctl trace' asks the daemon for: a Trace request (common/trace_params.h,
 * whose rows define the options) and what only the client does with it.
 */
struct trace_opts {
        struct skbt_trace_request req; /* members given per req.given; none: daemon defaults */
        bool help;                     /* -h/--help was given: print usage, nothing else */
        /* -o pcapng: JSON with packet bytes from the daemon, written as pcapng here. */
        bool pcapng;
        /* -o crossings: JSON from the daemon, a line per (netns, interface) entered here. */
        bool crossings;
        const char *netns_path; /* --netns PATH: the caller resolves it (stat) into
                                   req.filter.netns; NULL when an inode number was given */
        struct record_opts rec; /* -w FILE: record the session (client/trace_record.c) */
};

/**
 * trace_args_parse() - parse the arguments of 'ipftctl trace'
 * @argc: argument count, argv[0] being the subcommand name
 * @argv: arguments; getopt_long() may permute the pointers, never the strings
 * @ret: filled on success
 * @err: on failure, a one-line message without a program prefix
 * @errlen: size of @err
 *
 * Does no I/O, resets getopt state itself, and can be called repeatedly.
 * The options are the rows of common/trace_params.c: values are checked with
 * the code the daemon uses, so both reject the same input with the same words.
 *
 * Return: 0 on success (check @ret->help), -EINVAL on a usage error.
 */
int trace_args_parse(int argc, char **argv, struct trace_opts *ret, char *err, size_t errlen);

/**
 * trace_opts_to_params() - the "parameters" object of an io.skbtraced.Trace call
 * @o: options from trace_args_parse()
 *
 * Return: a new object (the caller owns the reference), NULL when out of memory.
 */
json_object *trace_opts_to_params(const struct trace_opts *o);

/* The options only the client has (--crossings, --help), as rows without a JSON name. */
extern const struct skbt_param_table trace_args_client_options;

/* The text of 'ipftctl trace --help'. */
void trace_args_usage(FILE *f);

/*
 * Helpers shared by all ipftctl subcommands, kept here so they are
 * unit-tested together with the trace parser.
 */

/* Describe the error getopt_long() reported by returning c ('?' or ':'; the
 * option string must start with ':'), e.g. "unrecognized option '--foo'". */
void args_getopt_error(int c, char **argv, const struct option *longopts, char *err, size_t errlen);
/* Check a POSIX extended regex as the daemon compiles it; the message quotes regerror(). */
int args_check_regex(const char *re, char *err, size_t errlen);
/* "text" or "json", returned as a static string. */
int args_parse_output(const char *s, const char **ret, char *err, size_t errlen);
/* Resolve --netns PATH: the inode of a network namespace file (/run/netns/NAME,
 * /proc/PID/ns/net); -EINVAL with a message when it is not one. */
int args_netns_inode(const char *path, uint32_t *ret, char *err, size_t errlen);
/* -i NAME without --netns: look NAME up here, in the caller's own namespace (see the
 * "ifindex" row of common/trace_params.c). */
int args_own_ifindex(struct skbt_trace_request *req, char *err, size_t errlen);
