/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_args.c - 'ipftctl trace' options, from the rows of the Trace parameter table */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "filter_spec.h"
#include "json_util.h"
#include "macro.h"
#include "skbt_regex.h"
#include "trace_args.h"
#include "util.h"

/* How much of a rejected argument is quoted back in a message. */
#define QUOTE_MAX 64

/*
 * The getopt tables, built once from the rows of skbt_trace_params (and
 * its nested filter table) plus the options only the client has.  An option
 * with a short letter has that letter as its getopt value; a long-only one
 * gets OPT_ROW + its index in rows[].
 */
#define CLI_ROWS_MAX 64
enum {
        OPT_ROW = 0x100,
        OPT_CROSSINGS = 0x200,
};

static const struct skbt_param client_rows[] = {
    {
        .cli_long = "crossings",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "the same as -o crossings",
    },
    {
        .cli_short = 'h',
        .cli_long = "help",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "show this help",
    },
    /* Recording (client/trace_record.c): id is the option for record_args_option(); the
     * usage has a section of its own (record_args_usage()). */
    {.id = REC_OPT_WRITE, .cli_short = 'w', .cli_long = "write", .cli_arg = "FILE"},
    {.id = REC_OPT_COMPRESS, .cli_long = "compress", .cli_arg = "zstd|gzip|none"},
    {.id = REC_OPT_ROTATE_SIZE, .cli_long = "rotate-size", .cli_arg = "SIZE"},
    {.id = REC_OPT_ROTATE_AGE, .cli_long = "rotate-age", .cli_arg = "AGE"},
    {.id = REC_OPT_ROTATE_KEEP, .cli_long = "rotate-keep", .cli_arg = "N"},
};

struct cli {
        const struct skbt_param *rows[CLI_ROWS_MAX];
        size_t n_rows;
        struct option longopts[CLI_ROWS_MAX + 1];
        char shortopts[2 * CLI_ROWS_MAX + 2];
};

static int row_val(const struct cli *cli, size_t i)
{
        const struct skbt_param *p = cli->rows[i];

        if (p == &client_rows[0])
                return OPT_CROSSINGS;
        return p->cli_short ? p->cli_short : OPT_ROW + (int)i;
}

static void collect(struct cli *cli, const struct skbt_param_table *t)
{
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct skbt_param *p = &t->rows[i];

                if (p->type == SKBT_PARAM_OBJECT)
                        collect(cli, p->sub);
                else if ((p->cli_short || p->cli_long) && cli->n_rows < CLI_ROWS_MAX)
                        cli->rows[cli->n_rows++] = p;
        }
}

static const struct cli *cli_get(void)
{
        static struct cli cli;
        size_t nl = 0, ns = 0;

        if (cli.n_rows)
                return &cli;
        collect(&cli, &skbt_trace_params);
        for (size_t i = 0; i < ARRAY_SIZE(client_rows); i++)
                cli.rows[cli.n_rows++] = &client_rows[i];
        /* Leading ':' so that a missing argument is told apart from an unknown option. */
        cli.shortopts[ns++] = ':';
        for (size_t i = 0; i < cli.n_rows; i++) {
                const struct skbt_param *p = cli.rows[i];
                bool arg = p->cli_arg != NULL;

                if (p->cli_long)
                        cli.longopts[nl++] = (struct option){
                            .name = p->cli_long,
                            .has_arg = arg ? required_argument : no_argument,
                            .val = row_val(&cli, i),
                        };
                if (p->cli_short) {
                        cli.shortopts[ns++] = p->cli_short;
                        if (arg)
                                cli.shortopts[ns++] = ':';
                }
        }
        return &cli;
}

static const struct skbt_param *cli_row(const struct cli *cli, int c)
{
        for (size_t i = 0; i < cli->n_rows; i++)
                if (row_val(cli, i) == c)
                        return cli->rows[i];
        return NULL;
}

/* "-p" or "--proto", as the user may have typed it. */
static const char *spelling(const struct skbt_param *p, char *buf, size_t len)
{
        if (p->cli_long)
                snprintf(buf, len, "--%s", p->cli_long);
        else
                snprintf(buf, len, "-%c", p->cli_short);
        return buf;
}

void args_getopt_error(int c, char **argv, const struct option *longopts, char *err, size_t errlen)
{
        /* getopt_long() has already stepped past the offending element. */
        const char *arg = optind > 0 ? argv[optind - 1] : NULL;
        size_t namelen;
        int matches = 0;

        if (!arg || strncmp(arg, "--", 2) != 0) {
                if (c == ':')
                        skbt_fail(err, errlen, "option '-%c' requires an argument", optopt);
                else
                        skbt_fail(err, errlen, "invalid option -- '%c'", optopt);
                return;
        }

        namelen = strcspn(arg + 2, "=");
        if (c == ':') {
                skbt_fail(err, errlen, "option '%.*s' requires an argument", (int)namelen + 2, arg);
                return;
        }
        /* optopt is the option's value when it was known but given "=VALUE". */
        if (optopt != 0) {
                skbt_fail(err, errlen, "option '%.*s' does not take an argument", (int)namelen + 2,
                          arg);
                return;
        }
        for (const struct option *o = longopts; o && o->name; o++)
                if (strncmp(o->name, arg + 2, namelen) == 0)
                        matches++;
        if (matches > 1)
                skbt_fail(err, errlen, "option '%.*s' is ambiguous", (int)namelen + 2, arg);
        else
                skbt_fail(err, errlen, "unrecognized option '%.*s'",
                          (int)MIN(namelen + 2, QUOTE_MAX), arg);
}

int args_check_regex(const char *re, char *err, size_t errlen)
{
        _cleanup_(skbt_regex_freep) struct skbt_regex *preg = NULL;
        char msg[512];

        /* The daemon's engine and limits: a regex it rejects fails here first. */
        if (skbt_regex_new(re, &preg, msg, sizeof(msg)) < 0)
                return skbt_fail(err, errlen, "%s", msg);
        return 0;
}

int args_parse_output(const char *s, const char **ret, char *err, size_t errlen)
{
        static const char *const formats[] = {"text", "json"};

        for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
                if (strcmp(s, formats[i]) == 0) {
                        *ret = formats[i];
                        return 0;
                }
        }
        return skbt_fail(err, errlen, "invalid output format '%.*s': expected text or json",
                         QUOTE_MAX, s);
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int args_netns_inode(const char *path, uint32_t *ret, char *err, size_t errlen)
{
        struct statfs sfs;
        struct stat st;

        /* A namespace file lives on nsfs; any other file's inode would filter
         * on a namespace that does not exist, silently. */
        if (statfs(path, &sfs) < 0 || stat(path, &st) < 0)
                return skbt_fail(err, errlen, "--netns %.*s: %s", QUOTE_MAX, path, strerror(errno));
        if ((unsigned long)sfs.f_type != NSFS_MAGIC || st.st_ino > UINT32_MAX)
                return skbt_fail(err, errlen,
                                 "--netns %.*s is not a namespace file: expected an inode number, "
                                 "/run/netns/NAME or /proc/PID/ns/net",
                                 QUOTE_MAX, path);
        *ret = (uint32_t)st.st_ino;
        return 0;
}

int args_own_ifindex(struct skbt_trace_request *req, char *err, size_t errlen)
{
        struct skbt_filter *f = &req->filter;
        unsigned idx;
        int r;

        if (!f->ifname[0] || (f->flags & SKBT_F_NETNS))
                return 0;
        r = args_netns_inode("/proc/self/ns/net", &f->netns, err, errlen);
        if (r < 0)
                return r;
        idx = if_nametoindex(f->ifname);
        if (!idx)
                return skbt_fail(err, errlen,
                                 "-i %s: no such interface in this network namespace (give "
                                 "the namespace it is in with --netns)",
                                 f->ifname);
        f->ifindex = idx;
        f->flags |= SKBT_F_NETNS | SKBT_F_IFINDEX;
        req->given |= SKBT_PARAM_BIT(SKBT_TP_NETNS) | SKBT_PARAM_BIT(SKBT_TP_IFINDEX);
        return 0;
}

/*
 * A filter option given twice is refused rather than "last one wins": "-s A -s B"
 * reads like "A or B", but filters only AND.  Settings (-o, -t, -c, --duration)
 * may be repeated, so a script can override its defaults ("ipftctl trace -o json $@").
 */
static int check_once(const struct cli *cli, const struct skbt_param *p,
                      const struct skbt_trace_request *r, char *err, size_t errlen)
{
        char a[32], b[32];

        if (!skbt_trace_given(r, p->id))
                return 0;
        /* -4 and -6: two spellings of one parameter, each standing for a value. */
        if (p->cli_value) {
                uint8_t v = *(const uint8_t *)((const char *)r + p->offset);

                for (size_t i = 0; i < cli->n_rows; i++) {
                        const struct skbt_param *q = cli->rows[i];

                        if (q != p && q->id == p->id && q->cli_value && v < q->max &&
                            q->values[v] && strcmp(q->values[v], q->cli_value) == 0)
                                return skbt_fail(err, errlen, "%s and %s cannot be used together",
                                                 spelling(q, a, sizeof(a)),
                                                 spelling(p, b, sizeof(b)));
                }
                return 0;
        }
        if (p->id == SKBT_TP_MARK_MASK)
                return skbt_fail(err, errlen,
                                 "mark mask given twice: use either --mark VALUE/MASK or --mask "
                                 "MASK");
        if (!(p->flags & SKBT_PARAM_ONCE))
                return 0;
        if (p->id == SKBT_TP_REGEX)
                return skbt_fail(err, errlen,
                                 "option --regex given more than once: combine them into one "
                                 "regex, e.g. 'A|B'");
        return skbt_fail(err, errlen,
                         "option %s given more than once: filter options are combined with AND, "
                         "so each may appear once",
                         spelling(p, a, sizeof(a)));
}

static void set_given(struct skbt_trace_request *r, enum skbt_trace_param id, bool on)
{
        if (on)
                r->given |= SKBT_PARAM_BIT(id);
        else
                r->given &= ~SKBT_PARAM_BIT(id);
}

/* -m VALUE[/MASK]: the mask may come with the mark, or from --mask. */
static int parse_mark(const char *arg, struct skbt_trace_request *r, char *err, size_t errlen)
{
        bool has_mask = false;
        uint32_t mask = 0;
        int k;

        k = skbt_parse_mark(arg, &r->filter.mark, &mask, &has_mask, err, errlen);
        if (k < 0)
                return k;
        if (has_mask) {
                if (skbt_trace_given(r, SKBT_TP_MARK_MASK))
                        return skbt_fail(err, errlen,
                                         "mark mask given twice: use either --mark VALUE/MASK or "
                                         "--mask MASK");
                r->filter.mark_mask = mask;
                set_given(r, SKBT_TP_MARK_MASK, true);
        }
        r->filter.flags |= SKBT_F_MARK;
        set_given(r, SKBT_TP_MARK, true);
        return 0;
}

/* --netns: a number is an inode; anything else a path, for the caller to stat. */
static int parse_netns(const struct skbt_param *p, const char *arg, struct trace_opts *o, char *err,
                       size_t errlen)
{
        if (arg[0] >= '0' && arg[0] <= '9')
                return skbt_param_parse_arg(&skbt_trace_params, p, arg, &o->req, err, errlen);
        if (!*arg)
                return skbt_fail(err, errlen, "--netns needs an inode number or a path");
        o->netns_path = arg;
        o->req.filter.netns = 1; /* placeholder until resolved */
        o->req.filter.flags |= SKBT_F_NETNS;
        set_given(&o->req, SKBT_TP_NETNS, true);
        return 0;
}

/* -o: the daemon's formats, and those the client makes from its JSON. */
static int parse_output(const struct skbt_param *p, const char *arg, struct trace_opts *o,
                        char *err, size_t errlen)
{
        /* With -w: record only, show nothing (the request keeps the default output). */
        o->rec.quiet = strcmp(arg, "none") == 0;
        if (o->rec.quiet) {
                o->pcapng = o->crossings = false;
                o->req.output = SKBT_OUTPUT_TEXT;
                set_given(&o->req, SKBT_TP_OUTPUT, false);
                return 0;
        }
        o->pcapng = strcmp(arg, "pcapng") == 0;
        o->crossings = strcmp(arg, "crossings") == 0;
        if (o->pcapng || o->crossings)
                arg = "json";
        if (skbt_param_parse_arg(&skbt_trace_params, p, arg, &o->req, err, errlen) < 0)
                return skbt_fail(err, errlen,
                                 "invalid output format '%.*s': expected text, json, pcapng, "
                                 "crossings, aggregate, aggregate-json or none (with -w)",
                                 QUOTE_MAX, arg);
        return 0;
}

/* The rows the client parses itself (SKBT_PARAM_CUSTOM). */
static int parse_custom(const struct skbt_param *p, const char *arg, struct trace_opts *o,
                        char *err, size_t errlen)
{
        switch (p->id) {
        case SKBT_TP_MARK:
                return parse_mark(arg, &o->req, err, errlen);
        case SKBT_TP_NETNS:
                return parse_netns(p, arg, o, err, errlen);
        case SKBT_TP_OUTPUT:
                return parse_output(p, arg, o, err, errlen);
        case SKBT_TP_REGEX:
                if (args_check_regex(arg, err, errlen) < 0)
                        return -EINVAL;
                return skbt_param_parse_arg(&skbt_trace_params, p, arg, &o->req, err, errlen);
        default:
                return skbt_fail(err, errlen, "internal error: option %s has no parser",
                                 p->cli_long ? p->cli_long : "?");
        }
}

static int parse_option(const struct cli *cli, int c, char **argv, struct trace_opts *o, char *err,
                        size_t errlen)
{
        const struct skbt_param *p = cli_row(cli, c);
        int r;

        if (c == OPT_CROSSINGS) { /* tracepkt's name for -o crossings */
                o->crossings = true;
                o->pcapng = false;
                o->req.output = SKBT_OUTPUT_JSON;
                set_given(&o->req, SKBT_TP_OUTPUT, true);
                return 0;
        }
        if (!p || c == 'h') {
                args_getopt_error(c, argv, cli->longopts, err, errlen);
                return -EINVAL;
        }
        if (p >= client_rows && p < client_rows + ARRAY_SIZE(client_rows))
                return record_args_option(&o->rec, p->id, optarg, err, errlen);
        r = check_once(cli, p, &o->req, err, errlen);
        if (r < 0)
                return r;
        if (p->flags & SKBT_PARAM_CUSTOM)
                return parse_custom(p, optarg, o, err, errlen);
        return skbt_param_parse_arg(&skbt_trace_params, p, p->cli_value ? p->cli_value : optarg,
                                    &o->req, err, errlen);
}

/* What is left is a pcap filter, quoted or not: "tcp port 80" or tcp port 80. */
static int parse_pcap_words(int argc, char **argv, struct trace_opts *o, char *err, size_t errlen)
{
        char expr[SKBT_TRACE_PCAP_MAX + 1] = "";
        size_t n = 0;

        if (optind >= argc)
                return 0;
        for (int i = optind; i < argc; i++) {
                size_t w = strlen(argv[i]);

                if (argv[i][0] == '\0' || strspn(argv[i], " \t\n") == w)
                        return skbt_fail(err, errlen, "empty word in the pcap filter expression");
                if (n + (n ? 1 : 0) + w > SKBT_TRACE_PCAP_MAX)
                        return skbt_fail(err, errlen, "pcap filter expression longer than %d bytes",
                                         SKBT_TRACE_PCAP_MAX);
                if (n)
                        expr[n++] = ' ';
                memcpy(expr + n, argv[i], w + 1);
                n += w;
        }
        return skbt_param_parse_arg(&skbt_trace_params,
                                    skbt_params_find(&skbt_trace_params, "pcap_filter"), expr,
                                    &o->req, err, errlen);
}

int trace_args_parse(int argc, char **argv, struct trace_opts *ret, char *err, size_t errlen)
{
        const struct cli *cli = cli_get();
        const char *bad;
        int c, r;

        if (err && errlen > 0)
                err[0] = '\0';
        *ret = (struct trace_opts){};
        /* 0, not 1: glibc then also forgets a half-parsed "-46" group from a previous call. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, cli->shortopts, cli->longopts, NULL)) != -1) {
                if (c == 'h') {
                        /* Help wins over everything else on the line, as in most tools. */
                        *ret = (struct trace_opts){.help = true};
                        return 0;
                }
                r = parse_option(cli, c, argv, ret, err, errlen);
                if (r < 0)
                        return r;
        }
        r = parse_pcap_words(argc, argv, ret, err, errlen);
        if (r < 0)
                return r;
        /* The daemon sends the packet bytes for the client's pcapng. */
        ret->req.snapshot = ret->pcapng;
        set_given(&ret->req, SKBT_TP_SNAPSHOT, ret->pcapng);
        r = record_args_check(&ret->rec, err, errlen);
        if (r < 0)
                return r;
        /* Cross-option rules (-4 with an IPv6 address, ports with icmp, ...): the daemon's. */
        return skbt_trace_request_finish(&ret->req, &bad, err, errlen);
}

json_object *trace_opts_to_params(const struct trace_opts *o)
{
        return skbt_params_to_json(&skbt_trace_params, &o->req);
}

const struct skbt_param_table trace_args_client_options = {
    .name = "ipftctl trace",
    .rows = client_rows,
    .n_rows = ARRAY_SIZE(client_rows),
};

void trace_args_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] trace [OPTIONS] [PCAP-FILTER...]\n"
              "\n"
              "Trace packets through the kernel's networking functions.  Each time a selected\n"
              "probe sees a matching packet, one event line goes to standard output; progress,\n"
              "warnings and the final summary go to standard error.  Ctrl-C ends the session\n"
              "(a second Ctrl-C exits at once).\n",
              f);
        for (uint8_t s = 0; s < _SKBT_TP_SECTION_MAX; s++) {
                fprintf(f, "\n%s:\n", skbt_trace_params.sections[s]);
                skbt_params_usage(&skbt_trace_params, s, f);
                skbt_params_usage(&trace_args_client_options, s, f);
                if (s != SKBT_TP_SECTION_JOURNEY)
                        continue;
                fputs(
                    "\n"
                    "PCAP-FILTER is a tcpdump expression (pcap-filter(7)), quoted or not, e.g.\n"
                    "'tcp port 80 and host 10.0.0.1'; it combines with the options above (AND).\n"
                    "The daemon compiles it; it sees the first 128 bytes of headers, an Ethernet\n"
                    "header with zero addresses where the probe sees the packet from L3, and\n"
                    "not the packet length (len, greater, less).\n",
                    f);
        }
        fputc('\n', f);
        record_args_usage(f);
        fputs("\n"
              "Examples:\n"
              "  ipftctl trace -p icmp --addr 10.0.0.1\n"
              "  ipftctl trace 'tcp port 80 and host 10.0.0.1'\n"
              "  ipftctl trace -t drop 'tcp[tcpflags] & tcp-syn != 0'\n"
              "  ipftctl trace -p tcp -F len,gso_size,gso_segs,gso_type,skb->dev->mtu\n"
              "  ipftctl trace -t drop -p tcp --dport 443 -c 100\n"
              "  ipftctl trace -6 -d 2001:db8::/32 -r '^(ip6|ipv6)_'\n"
              "  ipftctl trace -o json -m 0x10/0xf0 --duration 5 | jq .\n"
              "  ipftctl trace --track -d 10.0.0.100 -p icmp -o aggregate\n"
              "  ipftctl trace -t drop --stack -p udp\n"
              "  ipftctl trace -g ip-in,tcp --netns /run/netns/blue -i eth0\n"
              "  ipftctl trace -t drop --duration 600 -w drops.jsonl.zst   # then:\n"
              "  ipftctl show drops.jsonl.zst -o aggregate\n",
              f);
}
