/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_args.h - turn 'ipftctl trace' options into io.skbtraced.Trace parameters */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "skbt_abi.h"

/* Longest pcap filter expression, as the daemon accepts it (daemon/probes/pcap_filter.h). */
#define TRACE_PCAP_FILTER_MAX 1024
/* -F: fields per session and name length, as the daemon accepts them (render/fields_render.h). */
#define TRACE_FIELDS_MAX 8
#define TRACE_FIELD_NAME_MAX 64
/* -g groups per session, and room for their names. */
#define TRACE_GROUPS_MAX 64
#define TRACE_GROUPS_BUF 2048

/*
 * What 'ipftctl trace' asks the daemon for.  Every member is optional: an
 * unset one is left out of the request so that the daemon's default applies
 * (docs/protocol.md, io.skbtraced.Trace).
 */
struct trace_opts {
        struct skbt_filter filter; /* members valid per filter.flags; 0 flags: all packets */
        const char *tracer;        /* "function", "drop", "function_graph"; NULL: default */
        const char *regex;         /* probe name regex (points into argv); NULL: all probes */
        const char *output;        /* "text" or "json"; NULL: default (text) */
        uint64_t count;            /* stop after this many events; 0: no limit */
        double duration;           /* stop after this many seconds; 0: no limit */
        bool help;                 /* -h/--help was given: print usage, nothing else */
        /* The words after the options, joined by spaces: a pcap-filter(7) expression the
         * daemon compiles (as tcpdump takes it); "" for none. */
        char pcap_filter[TRACE_PCAP_FILTER_MAX + 1];
        /* -o pcapng: JSON with packet bytes from the daemon, written as pcapng here. */
        bool pcapng;
        /* -o crossings: JSON from the daemon, a line per (netns, interface) entered here. */
        bool crossings;
        /* -F/--field: skb fields added to each event, resolved by the daemon. */
        unsigned n_fields;
        char fields[TRACE_FIELDS_MAX][TRACE_FIELD_NAME_MAX];
        bool track;                           /* --track: follow matched packets through rewrites */
        bool detail;                          /* --detail */
        bool stack;                           /* --stack */
        const char *egress;                   /* --egress PROBE (aggregate output) */
        const char *groups[TRACE_GROUPS_MAX]; /* -g NAME, split at commas; into groups_buf */
        unsigned n_groups;
        char groups_buf[TRACE_GROUPS_BUF];
        const char *netns_path; /* --netns PATH: the caller resolves it (stat) into
                                   filter.netns; NULL when an inode number was given */
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
 * Filter values are checked with the same code the daemon uses
 * (common/filter_spec.c), so both reject the same input with the same words.
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
