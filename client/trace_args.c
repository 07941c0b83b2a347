/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_args.c - turn 'ipftctl trace' options into io.skbtraced.Trace parameters */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "filter_spec.h"
#include "macro.h"
#include "skbt_regex.h"
#include "trace_args.h"
#include "util.h"
#include "json_util.h"

/* How much of a rejected argument is quoted back in a message. */
#define QUOTE_MAX 64

/* Long-only options get values outside the char range. */
enum {
        OPT_MASK = 0x100,
        OPT_ADDR,
        OPT_SPORT,
        OPT_DPORT,
        OPT_PORT,
        OPT_DURATION,
        OPT_TRACK,
        OPT_EGRESS,
        OPT_DETAIL,
        OPT_STACK,
        OPT_NETNS,
        OPT_PID,
        OPT_CROSSINGS,
};

/*
 * -F NAME[,NAME...]: the names are checked against the kernel's BTF by the
 * daemon (only it has the BTF of the kernel it traces); here only their
 * count and shape.
 */
static int parse_fields(const char *s, struct trace_opts *o, char *err, size_t errlen)
{
        const char *p = s;

        for (;;) {
                size_t n = strcspn(p, ",");

                if (n == 0)
                        return skbt_fail(err, errlen, "invalid field list '%.*s': empty name",
                                         QUOTE_MAX, s);
                if (n >= TRACE_FIELD_NAME_MAX)
                        return skbt_fail(err, errlen, "field name '%.*s' is too long", QUOTE_MAX,
                                         p);
                if (strspn(p,
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_->.") <
                    n)
                        return skbt_fail(err, errlen,
                                         "invalid field name '%.*s': letters, digits, _, -> and . "
                                         "only (e.g. gso_size, skb->dev->mtu)",
                                         (int)MIN(n, (size_t)QUOTE_MAX), p);
                if (o->n_fields >= TRACE_FIELDS_MAX)
                        return skbt_fail(err, errlen, "more than %d fields", TRACE_FIELDS_MAX);
                memcpy(o->fields[o->n_fields], p, n);
                o->fields[o->n_fields][n] = '\0';
                for (unsigned i = 0; i < o->n_fields; i++)
                        if (strcmp(o->fields[i], o->fields[o->n_fields]) == 0)
                                return skbt_fail(err, errlen, "field '%s' given twice",
                                                 o->fields[i]);
                o->n_fields++;
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}

static const struct option trace_longopts[] = {
    {"mark", required_argument, NULL, 'm'},
    {"mask", required_argument, NULL, OPT_MASK},
    {"proto", required_argument, NULL, 'p'},
    {"saddr", required_argument, NULL, 's'},
    {"daddr", required_argument, NULL, 'd'},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"sport", required_argument, NULL, OPT_SPORT},
    {"dport", required_argument, NULL, OPT_DPORT},
    {"port", required_argument, NULL, OPT_PORT},
    {"tracer", required_argument, NULL, 't'},
    {"regex", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'},
    {"count", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"field", required_argument, NULL, 'F'},
    {"track", no_argument, NULL, OPT_TRACK},
    {"crossings", no_argument, NULL, OPT_CROSSINGS},
    {"group", required_argument, NULL, 'g'},
    {"egress", required_argument, NULL, OPT_EGRESS},
    {"detail", no_argument, NULL, OPT_DETAIL},
    {"stack", no_argument, NULL, OPT_STACK},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"ifname", required_argument, NULL, 'i'},
    {"pid", required_argument, NULL, OPT_PID},
    {"help", no_argument, NULL, 'h'},
    {},
};
/* Leading ':' so that a missing argument is told apart from an unknown option. */
static const char trace_shortopts[] = ":m:p:46s:d:t:r:o:c:F:g:i:h";

/* The long name of an option, for messages ("--saddr"), from its getopt value. */
static const char *long_name(const struct option *longopts, int val)
{
        for (const struct option *o = longopts; o->name; o++)
                if (o->val == val)
                        return o->name;
        return "?";
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

/* Trace output adds the per-packet formats to text and json. */
static int parse_trace_output(const char *s, const char **ret, char *err, size_t errlen)
{
        static const char *const formats[] = {"text", "json", "aggregate", "aggregate-json"};

        for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
                if (strcmp(s, formats[i]) == 0) {
                        *ret = formats[i];
                        return 0;
                }
        }
        return skbt_fail(err, errlen,
                         "invalid output format '%.*s': expected text, json, pcapng, crossings, "
                         "aggregate or aggregate-json",
                         QUOTE_MAX, s);
}

/* -g ip-in,tcp: names as the groups file allows them; the daemon knows which exist. */
static int add_groups(struct trace_opts *o, const char *arg, char *err, size_t errlen)
{
        size_t used = 0, len = strlen(arg);
        char *buf, *save = NULL;

        for (unsigned i = 0; i < o->n_groups; i++)
                used += strlen(o->groups[i]) + 1;
        if (used + len + 1 > sizeof(o->groups_buf))
                return skbt_fail(err, errlen,
                                 "too many probe groups (-g): at most %d bytes of names",
                                 TRACE_GROUPS_BUF);
        buf = o->groups_buf + used;
        memcpy(buf, arg, len + 1);
        if (!*buf || buf[len - 1] == ',' || *buf == ',' || strstr(buf, ",,"))
                return skbt_fail(err, errlen,
                                 "invalid group list '%.*s': expected NAME[,NAME...] (see 'ipftctl "
                                 "list --groups')",
                                 QUOTE_MAX, arg);
        for (char *n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                size_t nl = strlen(n);

                if (nl > 31 || strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-") != nl)
                        return skbt_fail(
                            err, errlen,
                            "invalid group name '%.*s': a-z, 0-9 and '-' (see 'ipftctl "
                            "list --groups')",
                            QUOTE_MAX, n);
                if (o->n_groups == TRACE_GROUPS_MAX)
                        return skbt_fail(err, errlen, "too many probe groups (-g): at most %d",
                                         TRACE_GROUPS_MAX);
                o->groups[o->n_groups++] = n;
        }
        return 0;
}

/* Linux's PID_MAX_LIMIT on 64-bit. */
#define PID_MAX 4194304

static int parse_u32_range(const char *what, const char *s, uint32_t min, uint32_t max,
                           uint32_t *ret, char *err, size_t errlen)
{
        uint64_t v = 0;
        const char *p;

        for (p = s; *p >= '0' && *p <= '9' && v <= max; p++)
                v = v * 10 + (uint64_t)(*p - '0');
        if (p == s || *p || v < min || v > max)
                return skbt_fail(err, errlen,
                                 "invalid %s '%.*s': expected a number from %" PRIu32
                                 " to %" PRIu32,
                                 what, QUOTE_MAX, s, min, max);
        *ret = (uint32_t)v;
        return 0;
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

static int parse_tracer(const char *s, const char **ret, char *err, size_t errlen)
{
        /* function_graph is passed through: only the daemon knows whether its
         * backend can do it, and it says so in its error reply. */
        static const char *const tracers[] = {"function", "drop", "function_graph"};

        for (size_t i = 0; i < ARRAY_SIZE(tracers); i++) {
                if (strcmp(s, tracers[i]) == 0) {
                        *ret = tracers[i];
                        return 0;
                }
        }
        return skbt_fail(err, errlen,
                         "invalid tracer '%.*s': expected function, drop or function_graph",
                         QUOTE_MAX, s);
}

static int parse_count(const char *s, uint64_t *ret, char *err, size_t errlen)
{
        uint64_t v = 0;
        const char *p;

        /* Digits only: strtoull() would take "-1" as 2^64-1 and skip blanks. */
        for (p = s; *p >= '0' && *p <= '9'; p++) {
                if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
                        break;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        /* The wire carries a JSON integer, which json-c holds as int64. */
        if (p == s || *p || v < 1)
                return skbt_fail(
                    err, errlen,
                    "invalid count '%.*s': expected a number of events from 1 to %" PRId64,
                    QUOTE_MAX, s, INT64_MAX);
        *ret = v;
        return 0;
}

static int parse_duration(const char *s, double *ret, char *err, size_t errlen)
{
        const char *p = s;
        size_t digits = 0;
        double v;

        /* DIGITS[.DIGITS] or .DIGITS: strtod() alone would also take signs, blanks,
         * hex, exponents, "inf" and "nan". */
        for (; *p >= '0' && *p <= '9'; p++)
                digits++;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++)
                        digits++;
        if (digits == 0 || *p)
                goto bad;
        errno = 0;
        v = strtod(s, NULL);
        if (errno != 0 || !isfinite(v) || v <= 0)
                goto bad;
        *ret = v;
        return 0;
bad:
        return skbt_fail(err, errlen,
                         "invalid duration '%.*s': expected a number of seconds greater than 0, "
                         "e.g. 10 or 2.5",
                         QUOTE_MAX, s);
}

/*
 * A filter option given twice is refused rather than "last one wins": "-s A -s B"
 * reads like "A or B", but filters only AND.  Settings (-o, -t, -c, --duration)
 * may be repeated, so a script can override its defaults ("ipftctl trace -o json $@").
 */
static int check_once(int c, unsigned *seen, char *err, size_t errlen)
{
        static const int once[] = {'m',      OPT_MASK,  'p',       's',      'd',
                                   OPT_ADDR, OPT_SPORT, OPT_DPORT, OPT_PORT, OPT_NETNS,
                                   'i',      OPT_PID,   'r'};

        for (unsigned i = 0; i < ARRAY_SIZE(once); i++) {
                if (once[i] != c)
                        continue;
                if (!(*seen & (1u << i))) {
                        *seen |= 1u << i;
                        return 0;
                }
                if (c == 'r')
                        return skbt_fail(
                            err, errlen,
                            "option --regex given more than once: combine them into one "
                            "regex, e.g. 'A|B'");
                return skbt_fail(err, errlen,
                                 "option --%s given more than once: filter options are combined "
                                 "with AND, so each may appear once",
                                 long_name(trace_longopts, c));
        }
        return 0;
}

int trace_args_parse(int argc, char **argv, struct trace_opts *ret, char *err, size_t errlen)
{
        struct trace_opts o = {};
        struct skbt_filter *f = &o.filter;
        const char *mask_arg = NULL;
        bool has_mask = false, want4 = false, want6 = false;
        uint32_t mask = 0;
        unsigned seen = 0;
        int c, r;

        if (err && errlen > 0)
                err[0] = '\0';
        /* 0, not 1: glibc then also forgets a half-parsed "-46" group from a previous call. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, trace_shortopts, trace_longopts, NULL)) != -1) {
                r = check_once(c, &seen, err, errlen);
                if (r < 0)
                        return r;

                switch (c) {
                case 'm':
                        r = skbt_parse_mark(optarg, &f->mark, &mask, &has_mask, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_MARK;
                        break;
                case OPT_MASK:
                        mask_arg = optarg;
                        break;
                case 'p':
                        r = skbt_parse_proto(optarg, &f->proto, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_PROTO;
                        break;
                case '4':
                        want4 = true;
                        break;
                case '6':
                        want6 = true;
                        break;
                case 's':
                        r = skbt_parse_prefix(optarg, &f->saddr, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_SADDR;
                        break;
                case 'd':
                        r = skbt_parse_prefix(optarg, &f->daddr, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_DADDR;
                        break;
                case OPT_ADDR:
                        r = skbt_parse_prefix(optarg, &f->addr, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_ADDR;
                        break;
                case OPT_SPORT:
                        r = skbt_parse_port(optarg, &f->sport, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_SPORT;
                        break;
                case OPT_DPORT:
                        r = skbt_parse_port(optarg, &f->dport, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_DPORT;
                        break;
                case OPT_PORT:
                        r = skbt_parse_port(optarg, &f->port, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_PORT;
                        break;
                case 't':
                        r = parse_tracer(optarg, &o.tracer, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case 'r':
                        r = args_check_regex(optarg, err, errlen);
                        if (r < 0)
                                return r;
                        o.regex = optarg;
                        break;
                case 'o':
                        /* pcapng is the client's: the daemon sends JSON with the bytes. */
                        o.pcapng = strcmp(optarg, "pcapng") == 0;
                        o.crossings = strcmp(optarg, "crossings") == 0;
                        if (o.pcapng || o.crossings) {
                                o.output = "json";
                                break;
                        }
                        r = parse_trace_output(optarg, &o.output, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case OPT_CROSSINGS: /* tracepkt's name for it */
                        o.crossings = true;
                        o.pcapng = false;
                        o.output = "json";
                        break;
                case OPT_TRACK:
                        o.track = true;
                        break;
                case OPT_DETAIL:
                        o.detail = true;
                        break;
                case OPT_STACK:
                        o.stack = true;
                        break;
                case OPT_EGRESS:
                        if (!*optarg || strlen(optarg) > 127)
                                return skbt_fail(
                                    err, errlen,
                                    "invalid --egress '%.*s': expected a probe name as "
                                    "'ipftctl list' shows it",
                                    QUOTE_MAX, optarg);
                        o.egress = optarg;
                        break;
                case 'g':
                        r = add_groups(&o, optarg, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case 'i':
                        r = skbt_parse_ifname(optarg, f->ifname, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case OPT_PID:
                        r = parse_u32_range("pid", optarg, 1, PID_MAX, &f->pid, err, errlen);
                        if (r < 0)
                                return r;
                        f->flags |= SKBT_F_PID;
                        break;
                case OPT_NETNS:
                        /* A number is an inode; anything else a path, for the caller to stat. */
                        if (optarg[0] >= '0' && optarg[0] <= '9') {
                                r = parse_u32_range("netns", optarg, 1, UINT32_MAX, &f->netns, err,
                                                    errlen);
                                if (r < 0)
                                        return r;
                        } else if (!*optarg) {
                                return skbt_fail(err, errlen,
                                                 "--netns needs an inode number or a "
                                                 "path");
                        } else {
                                o.netns_path = optarg;
                                f->netns = 1; /* placeholder until resolved */
                        }
                        f->flags |= SKBT_F_NETNS;
                        break;
                case 'c':
                        r = parse_count(optarg, &o.count, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case 'F':
                        r = parse_fields(optarg, &o, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case OPT_DURATION:
                        r = parse_duration(optarg, &o.duration, err, errlen);
                        if (r < 0)
                                return r;
                        break;
                case 'h':
                        /* Help wins over everything else on the line, as in most tools. */
                        *ret = (struct trace_opts){.help = true};
                        return 0;
                default:
                        args_getopt_error(c, argv, trace_longopts, err, errlen);
                        return -EINVAL;
                }
        }
        /* What is left is a pcap filter, quoted or not: "tcp port 80" or tcp port 80. */
        for (int i = optind; i < argc; i++) {
                size_t n = strlen(o.pcap_filter), w = strlen(argv[i]);

                if (argv[i][0] == '\0' || strspn(argv[i], " \t\n") == w)
                        return skbt_fail(err, errlen, "empty word in the pcap filter expression");
                if (n + (n ? 1 : 0) + w > TRACE_PCAP_FILTER_MAX)
                        return skbt_fail(err, errlen, "pcap filter expression longer than %d bytes",
                                         TRACE_PCAP_FILTER_MAX);
                if (n)
                        o.pcap_filter[n++] = ' ';
                memcpy(o.pcap_filter + n, argv[i], w + 1);
        }

        if (want4 && want6)
                return skbt_fail(err, errlen, "-4 and -6 cannot be used together");
        if (want4 || want6) {
                f->flags |= SKBT_F_L3;
                f->l3 = want4 ? SKBT_L3_IPV4 : SKBT_L3_IPV6;
        }

        if (mask_arg) {
                if (!(f->flags & SKBT_F_MARK))
                        return skbt_fail(err, errlen, "--mask needs --mark");
                if (has_mask)
                        return skbt_fail(err, errlen,
                                         "mark mask given twice: use either --mark VALUE/MASK or "
                                         "--mask MASK");
                r = skbt_parse_u32("mark mask", mask_arg, &mask, err, errlen);
                if (r < 0)
                        return r;
                has_mask = true;
        }
        if (f->flags & SKBT_F_MARK)
                f->mark_mask = has_mask ? mask : UINT32_MAX;

        /* Cross-field checks (-4 with an IPv6 address, ports with icmp, ...). */
        r = skbt_filter_validate(f, err, errlen);
        if (r < 0)
                return r;
        if (o.egress && (!o.output || strncmp(o.output, "aggregate", 9) != 0))
                return skbt_fail(err, errlen,
                                 "--egress ends a packet's block: it needs -o aggregate or "
                                 "-o aggregate-json");
        if (o.output && strncmp(o.output, "aggregate", 9) == 0 && o.tracer &&
            strcmp(o.tracer, "function_graph") == 0)
                return skbt_fail(err, errlen,
                                 "aggregate output does not combine with the "
                                 "function_graph tracer");

        *ret = o;
        /* The group names point into the copy's own buffer. */
        for (unsigned i = 0; i < ret->n_groups; i++)
                ret->groups[i] = ret->groups_buf + (o.groups[i] - o.groups_buf);
        return 0;
}

/*
 * A JSON number for d in its shortest round-trip form ("0.1", not json-c's
 * "0.10000000000000001"), so the request shows what the user typed.
 */
static json_object *new_duration(double d)
{
        char buf[64];

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        /* "10" would read back as a JSON integer; "1e+20" is a valid JSON number. */
        if (!strpbrk(buf, ".e"))
                strcat(buf, ".0");
        return json_object_new_double_s(d, buf);
}

static bool add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return false;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return false;
        }
        return true;
}

json_object *trace_opts_to_params(const struct trace_opts *o)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (!p)
                return NULL;
        /* An empty filter is left out: the daemon treats a missing one as "all packets". */
        if ((o->filter.flags || o->filter.ifname[0]) &&
            !add(p, "filter", skbt_filter_to_json(&o->filter)))
                return NULL;
        if (o->pcap_filter[0] && !add(p, "pcap_filter", json_object_new_string(o->pcap_filter)))
                return NULL;
        if (o->n_fields) {
                json_object *a = json_object_new_array();

                if (!add(p, "fields", a))
                        return NULL;
                for (unsigned i = 0; i < o->n_fields; i++)
                        if (json_object_array_add(a, json_object_new_string(o->fields[i])) < 0)
                                return NULL;
        }
        if (o->tracer && !add(p, "tracer", json_object_new_string(o->tracer)))
                return NULL;
        if (o->regex && !add(p, "regex", json_object_new_string(o->regex)))
                return NULL;
        if (o->output && !add(p, "output", json_object_new_string(o->output)))
                return NULL;
        if (o->pcapng && !add(p, "snapshot", json_object_new_boolean(1)))
                return NULL;
        if (o->count > 0 && !add(p, "count", json_object_new_int64((int64_t)o->count)))
                return NULL;
        if (o->duration > 0 && !add(p, "duration", new_duration(o->duration)))
                return NULL;
        if (o->track && !add(p, "track", json_object_new_boolean(1)))
                return NULL;
        if (o->detail && !add(p, "detail", json_object_new_boolean(1)))
                return NULL;
        if (o->stack && !add(p, "stack", json_object_new_boolean(1)))
                return NULL;
        if (o->egress && !add(p, "egress", json_object_new_string(o->egress)))
                return NULL;
        if (o->n_groups) {
                json_object *arr = json_object_new_array();

                if (!add(p, "groups", arr))
                        return NULL;
                for (unsigned i = 0; i < o->n_groups; i++)
                        if (json_object_array_add(arr, json_object_new_string(o->groups[i])) < 0)
                                return NULL;
        }
        return TAKE_PTR(p);
}

void trace_args_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] trace [OPTIONS] [PCAP-FILTER...]\n"
              "\n"
              "Trace packets through the kernel's networking functions.  Each time a selected\n"
              "probe sees a matching packet, one event line goes to standard output; progress,\n"
              "warnings and the final summary go to standard error.  Ctrl-C ends the session\n"
              "(a second Ctrl-C exits at once).\n"
              "\n"
              "Filter options (every option given must match):\n"
              "  -m, --mark VALUE[/MASK]    skb mark equals VALUE after masking\n"
              "                             (decimal or 0x hexadecimal)\n"
              "      --mask MASK            mask for --mark (default 0xffffffff)\n"
              "  -p, --proto PROTO          icmp, icmp6, tcp, udp, sctp or a number 0-255\n"
              "  -4                         IPv4 packets only\n"
              "  -6                         IPv6 packets only\n"
              "  -s, --saddr ADDR[/PREFIX]  source address\n"
              "  -d, --daddr ADDR[/PREFIX]  destination address\n"
              "      --addr ADDR[/PREFIX]   source or destination address\n"
              "      --sport PORT           source port (tcp, udp, sctp, udplite)\n"
              "      --dport PORT           destination port\n"
              "      --port PORT            source or destination port\n"
              "      --pid PID              process context of the probe hit (thread group);\n"
              "                             softirq work runs in whatever task was current\n"
              "      --netns INODE|PATH     network namespace of the device (or, before\n"
              "                             routing, the socket): an inode number,\n"
              "                             /run/netns/NAME or /proc/PID/ns/net\n"
              "  -i, --ifname NAME          device NAME in that namespace (default: yours)\n"
              "\n"
              "Packet journeys:\n"
              "      --track                once a packet matches, follow it whatever its\n"
              "                             addresses, ports or mark become (NAT, tunnels)\n"
              "                             and through its clones and copies, until freed\n"
              "      --egress PROBE         with -o aggregate: a packet's block ends there\n"
              "\n"
              "PCAP-FILTER is a tcpdump expression (pcap-filter(7)), quoted or not, e.g.\n"
              "'tcp port 80 and host 10.0.0.1'; it combines with the options above (AND).\n"
              "The daemon compiles it; it sees the first 128 bytes of headers, an Ethernet\n"
              "header with zero addresses where the probe sees the packet from L3, and\n"
              "not the packet length (len, greater, less).\n"
              "\n"
              "Session options:\n"
              "  -t, --tracer TRACER        function (default): every selected probe;\n"
              "                             drop: only the kernel's drop path, with the reason;\n"
              "                             function_graph: if the daemon's backend supports it\n"
              "  -r, --regex RE             only probes whose name matches the regular\n"
              "                             expression RE (PCRE2 syntax, no back-references;\n"
              "                             see 'ipftctl list')\n"
              "  -g, --group NAME[,NAME]    only the probes of these groups (see 'ipftctl\n"
              "                             list --groups'); may be repeated\n"
              "  -o, --output FORMAT        text (default), json (one object per line),\n"
              "                             aggregate (one block per packet, printed when\n"
              "                             it ends), aggregate-json (one object per packet)\n"
              "                             or pcapng (binary: the first 128 bytes of the\n"
              "                             packet at each event, comments: probe, packet and\n"
              "                             track id) or crossings (a line each time a\n"
              "                             packet enters a network namespace or interface,\n"
              "                             with the netfilter verdicts given there)\n"
              "      --crossings            the same as -o crossings\n"
              "      --detail               text: also device:index, netns, pid, comm, group\n"
              "      --stack                the kernel stack of each event\n"
              "  -c, --count N              stop after N events\n"
              "      --duration SECONDS     stop after SECONDS (fractions allowed, e.g. 0.5)\n"
              "  -F, --field NAME[,NAME...] add skb fields to each event (up to 8; repeatable):\n"
              "                             len, data_len, gso_size, gso_segs, gso_type, mark,\n"
              "                             priority, protocol, pkt_type, queue_mapping, hash,\n"
              "                             mtu, ..., any sk_buff member, or a path such as\n"
              "                             skb->dev->mtu or shinfo->gso_size\n"
              "  -h, --help                 show this help\n"
              "\n"
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
              "  ipftctl trace -g ip-in,tcp --netns /run/netns/blue -i eth0\n",
              f);
}
