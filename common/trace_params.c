/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_params.c - io.skbtraced.Trace parameters: the rows, and the rules that combine them */
#include <errno.h>
#include <string.h>

#include "filter_spec.h"
#include "json_util.h"
#include "trace_params.h"
#include "util.h"

static const char *const tracer_names[] = {
    [SKBT_TRACER_FUNCTION] = "function",
    [SKBT_TRACER_DROP] = "drop",
    [SKBT_TRACER_FUNCTION_GRAPH] = "function_graph",
};
static const char *const probe_set_names[] = {
    [SKBT_PROBES_GROUPS] = "groups",
    [SKBT_PROBES_ALL] = "all",
};
static const char *const output_names[] = {
    [SKBT_OUTPUT_TEXT] = "text",
    [SKBT_OUTPUT_JSON] = "json",
    [SKBT_OUTPUT_AGGREGATE] = "aggregate",
    [SKBT_OUTPUT_AGGREGATE_JSON] = "aggregate-json",
};
static const char *const l3_names[] = {[SKBT_L3_IPV4] = "ipv4", [SKBT_L3_IPV6] = "ipv6"};
static const char *const layer_names[] = {
    [SKBT_LAYER_OUTER] = "outer",
    [SKBT_LAYER_INNER] = "inner",
    [SKBT_LAYER_EITHER] = "either",
};

const char *skbt_tracer_to_string(enum skbt_tracer t)
{
        return (unsigned)t < ARRAY_SIZE(tracer_names) ? tracer_names[t] : "function";
}

const char *skbt_probe_set_to_string(enum skbt_probe_set s)
{
        return (unsigned)s < ARRAY_SIZE(probe_set_names) ? probe_set_names[s] : NULL;
}

int skbt_probe_set_from_string(const char *s, enum skbt_probe_set *ret)
{
        for (unsigned i = 0; s && i < ARRAY_SIZE(probe_set_names); i++)
                if (strcmp(s, probe_set_names[i]) == 0) {
                        *ret = (enum skbt_probe_set)i;
                        return 0;
                }
        return -EINVAL;
}

const char *skbt_output_to_string(enum skbt_output o)
{
        return (unsigned)o < ARRAY_SIZE(output_names) ? output_names[o] : NULL;
}

int skbt_output_from_string(const char *s, enum skbt_output *ret)
{
        for (unsigned i = 0; s && i < ARRAY_SIZE(output_names); i++)
                if (strcmp(s, output_names[i]) == 0) {
                        *ret = (enum skbt_output)i;
                        return 0;
                }
        return -EINVAL;
}

/* ---- checks of a value's form (what it names is the daemon's to check) ---- */

static int check_ifname(const char *s, char *err, size_t errlen)
{
        char buf[16];

        return skbt_parse_ifname(s, buf, err, errlen);
}

/* pcap_program: parsed and every instruction checked, in the client and the daemon alike. */
static int check_cbpf(const char *s, char *err, size_t errlen)
{
        struct skbt_cbpf_prog prog;

        return skbt_cbpf_parse(s, &prog, err, errlen);
}

/* -F: kernel BTF decides which names exist (the daemon's); here only their shape. */
static int check_field(const char *s, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];

        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_->.") !=
            strlen(s))
                return skbt_fail(err, errlen,
                                 "invalid field name '%s': letters, digits, _, -> and . only "
                                 "(e.g. gso_size, skb->dev->mtu)",
                                 skbt_quote(s, q));
        return 0;
}

/* -g: names as the groups file allows them; the daemon knows which exist. */
static int check_group(const char *s, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];

        if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
                return skbt_fail(err, errlen,
                                 "invalid group name '%s': a-z, 0-9 and '-' (see 'ipftctl list "
                                 "--groups')",
                                 skbt_quote(s, q));
        return 0;
}

/* A probe name as List shows it: printable, no blanks. */
static int check_probe_name(const char *s, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];

        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c >= 0x7f)
                        return skbt_fail(err, errlen,
                                         "invalid egress probe '%s': expected a probe name as "
                                         "'ipftctl list' shows it",
                                         skbt_quote(s, q));
        return 0;
}

#define REQ(member)                                                                                \
        offsetof(struct skbt_trace_request, member),                                               \
            sizeof(((struct skbt_trace_request *)0)->member)

/* ---- the rows ---- */

static const struct skbt_param filter_rows[] = {
    {
        .name = "mark",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_MARK,
        .flag = SKBT_F_MARK,
        .offset = REQ(filter.mark),
        .max = UINT32_MAX,
        .flags = SKBT_PARAM_ONCE | SKBT_PARAM_HEX | SKBT_PARAM_CUSTOM,
        .cli_short = 'm',
        .cli_long = "mark",
        .cli_arg = "VALUE[/MASK]",
        .help = "skb mark equals VALUE after masking\n(decimal or 0x hexadecimal)",
    },
    {
        .name = "mark_mask",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_MARK_MASK,
        .offset = REQ(filter.mark_mask),
        .max = UINT32_MAX,
        .what = "mark mask",
        .flags = SKBT_PARAM_ONCE | SKBT_PARAM_HEX,
        .cli_long = "mask",
        .cli_arg = "MASK",
        .help = "mask for --mark (default 0xffffffff)",
    },
    {
        .name = "l3",
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_L3,
        .flag = SKBT_F_L3,
        .offset = REQ(filter.l3),
        .values = l3_names,
        .max = ARRAY_SIZE(l3_names),
        .cli_short = '4',
        .cli_value = "ipv4",
        .help = "IPv4 packets only",
    },
    {
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_L3,
        .flag = SKBT_F_L3,
        .what = "l3",
        .offset = REQ(filter.l3),
        .values = l3_names,
        .max = ARRAY_SIZE(l3_names),
        .cli_short = '6',
        .cli_value = "ipv6",
        .help = "IPv6 packets only",
    },
    {
        .name = "proto",
        .type = SKBT_PARAM_PROTO,
        .id = SKBT_TP_PROTO,
        .flag = SKBT_F_PROTO,
        .offset = REQ(filter.proto),
        .max = 255,
        .flags = SKBT_PARAM_ONCE,
        .cli_short = 'p',
        .cli_long = "proto",
        .cli_arg = "PROTO",
        .help = "icmp, icmp6, tcp, udp, sctp or a number 0-255",
    },
    {
        .name = "saddr",
        .type = SKBT_PARAM_PREFIX,
        .id = SKBT_TP_SADDR,
        .flag = SKBT_F_SADDR,
        .offset = REQ(filter.saddr),
        .flags = SKBT_PARAM_ONCE,
        .cli_short = 's',
        .cli_long = "saddr",
        .cli_arg = "ADDR[/PREFIX]",
        .help = "source address",
    },
    {
        .name = "daddr",
        .type = SKBT_PARAM_PREFIX,
        .id = SKBT_TP_DADDR,
        .flag = SKBT_F_DADDR,
        .offset = REQ(filter.daddr),
        .flags = SKBT_PARAM_ONCE,
        .cli_short = 'd',
        .cli_long = "daddr",
        .cli_arg = "ADDR[/PREFIX]",
        .help = "destination address",
    },
    {
        .name = "addr",
        .type = SKBT_PARAM_PREFIX,
        .id = SKBT_TP_ADDR,
        .flag = SKBT_F_ADDR,
        .offset = REQ(filter.addr),
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "addr",
        .cli_arg = "ADDR[/PREFIX]",
        .help = "source or destination address",
    },
    {
        .name = "sport",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_SPORT,
        .flag = SKBT_F_SPORT,
        .offset = REQ(filter.sport),
        .max = UINT16_MAX,
        .what = "port",
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "sport",
        .cli_arg = "PORT",
        .help = "source port (tcp, udp, sctp, udplite)",
    },
    {
        .name = "dport",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_DPORT,
        .flag = SKBT_F_DPORT,
        .offset = REQ(filter.dport),
        .max = UINT16_MAX,
        .what = "port",
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "dport",
        .cli_arg = "PORT",
        .help = "destination port",
    },
    {
        .name = "port",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_PORT,
        .flag = SKBT_F_PORT,
        .offset = REQ(filter.port),
        .max = UINT16_MAX,
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "port",
        .cli_arg = "PORT",
        .help = "source or destination port",
    },
    {
        .name = "pid",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_PID,
        .flag = SKBT_F_PID,
        .offset = REQ(filter.pid),
        .min = 1,
        .max = SKBT_PID_MAX,
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "pid",
        .cli_arg = "PID",
        .help = "process context of the probe hit (thread group);\n"
                "softirq work runs in whatever task was current",
    },
    {
        .name = "netns",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_NETNS,
        .flag = SKBT_F_NETNS,
        .offset = REQ(filter.netns),
        .min = 1,
        .max = UINT32_MAX,
        .flags = SKBT_PARAM_ONCE | SKBT_PARAM_CUSTOM,
        .cli_long = "netns",
        .cli_arg = "INODE|PATH",
        .help = "network namespace of the device (or, before\n"
                "routing, the socket): an inode number,\n"
                "/run/netns/NAME or /proc/PID/ns/net",
    },
    {
        .name = "ifname",
        .type = SKBT_PARAM_STRING,
        .id = SKBT_TP_IFNAME,
        .offset = REQ(filter.ifname),
        .min = 1,
        .check = check_ifname,
        .what = "interface name",
        .flags = SKBT_PARAM_ONCE,
        .cli_short = 'i',
        .cli_long = "ifname",
        .cli_arg = "NAME",
        .help = "device NAME in that namespace (default: yours)",
    },
    /* Set by ipftctl for -i NAME in its own namespace: it looks the name up itself
     * (if_nametoindex), with "netns" its own namespace's inode.  The daemon then need
     * not open the caller's /proc/PID/ns/net, which a daemon without CAP_SYS_PTRACE
     * (the systemd unit) cannot do for another user's process. */
    {
        .name = "ifindex",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_IFINDEX,
        .flag = SKBT_F_IFINDEX,
        .offset = REQ(filter.ifindex),
        .min = 1,
        .max = INT32_MAX,
        .flags = SKBT_PARAM_ONCE,
    },
    {
        .name = "layer",
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_LAYER,
        .flag = SKBT_F_LAYER,
        .offset = REQ(filter.layer),
        .values = layer_names,
        .max = ARRAY_SIZE(layer_names),
        .flags = SKBT_PARAM_ONCE,
        .cli_long = "layer",
        .cli_arg = "LAYER",
        .help = "which packet of a tunnelled one (VXLAN, Geneve,\n"
                "GRE, IPIP) the address, port and protocol options\n"
                "and the pcap expression look at: outer (default),\n"
                "inner (a packet without a tunnel: itself), either",
    },
};

const struct skbt_param_table skbt_filter_params = {
    .name = "filter",
    .rows = filter_rows,
    .n_rows = ARRAY_SIZE(filter_rows),
    .given_offset = offsetof(struct skbt_trace_request, given),
    .flags_offset = offsetof(struct skbt_trace_request, filter.flags),
};

static const char *const sections[] = {
    [SKBT_TP_SECTION_FILTER] = "Filter options (every option given must match)",
    [SKBT_TP_SECTION_JOURNEY] = "Packet journeys",
    [SKBT_TP_SECTION_SESSION] = "Session options",
    NULL,
};

static const struct skbt_param trace_rows[] = {
    {
        .name = "filter",
        .type = SKBT_PARAM_OBJECT,
        .id = SKBT_TP_FILTER,
        .sub = &skbt_filter_params,
    },
    {
        .name = "track",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_TRACK,
        .offset = REQ(track),
        .cli_long = "track",
        .section = SKBT_TP_SECTION_JOURNEY,
        .help = "once a packet matches, follow it whatever its\n"
                "addresses, ports or mark become (NAT, tunnels)\n"
                "and through its clones and copies, until freed",
    },
    {
        .name = "egress",
        .type = SKBT_PARAM_STRING,
        .id = SKBT_TP_EGRESS,
        .offset = REQ(egress),
        .min = 1,
        .check = check_probe_name,
        .what = "egress probe",
        .cli_long = "egress",
        .cli_arg = "PROBE",
        .section = SKBT_TP_SECTION_JOURNEY,
        .help = "with -o aggregate: a packet's block ends there",
    },
    {
        .name = "tracer",
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_TRACER,
        .offset = REQ(tracer),
        .values = tracer_names,
        .max = ARRAY_SIZE(tracer_names),
        .cli_short = 't',
        .cli_long = "tracer",
        .cli_arg = "TRACER",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "function (default): every selected probe;\n"
                "drop: only the kernel's drop path, with the reason;\n"
                "function_graph: if the daemon's backend supports it",
    },
    {
        .name = "regex",
        .type = SKBT_PARAM_STRING,
        .id = SKBT_TP_REGEX,
        .offset = REQ(regex),
        .flags = SKBT_PARAM_ONCE | SKBT_PARAM_CUSTOM,
        .cli_short = 'r',
        .cli_long = "regex",
        .cli_arg = "RE",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "only probes whose name matches the regular\n"
                "expression RE (PCRE2 syntax, no back-references):\n"
                "functions, tracepoints (subsystem:name), tc and\n"
                "XDP programs (tc:NAME, xdp:NAME, traced only when\n"
                "selected); see 'ipftctl list'",
    },
    {
        .name = "groups",
        .type = SKBT_PARAM_STRINGS,
        .id = SKBT_TP_GROUPS,
        .offset = REQ(groups[0]),
        .count_offset = offsetof(struct skbt_trace_request, n_groups),
        .min = 1,
        .max = SKBT_TRACE_GROUPS_MAX,
        .check = check_group,
        .what = "group",
        .flags = SKBT_PARAM_REPEAT,
        .cli_short = 'g',
        .cli_long = "group",
        .cli_arg = "NAME[,NAME]",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "only the probes of these groups (see 'ipftctl\n"
                "list --groups'); may be repeated",
    },
    {
        .name = "probes",
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_PROBES,
        .offset = REQ(probes),
        .values = probe_set_names,
        .max = ARRAY_SIZE(probe_set_names),
        .what = "probe set",
        .cli_long = "probes",
        .cli_arg = "SET",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "the probes -r, -g and -t choose from: groups (the\n"
                "probes the groups file names, and the drop probes)\n"
                "or all (every skb function and tracepoint); default:\n"
                "the daemon's default_probes (groups unless set) without\n"
                "-r or -g, else all",
    },
    {
        .name = "output",
        .type = SKBT_PARAM_ENUM,
        .id = SKBT_TP_OUTPUT,
        .offset = REQ(output),
        .values = output_names,
        .max = ARRAY_SIZE(output_names),
        .what = "output format",
        .flags = SKBT_PARAM_CUSTOM,
        .cli_short = 'o',
        .cli_long = "output",
        .cli_arg = "FORMAT",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "text (default), json (one object per line),\n"
                "aggregate (one block per packet, printed when\n"
                "it ends), aggregate-json (one object per packet)\n"
                "or pcapng (binary: the first 128 bytes of the\n"
                "packet at each event, comments: probe, packet and\n"
                "track id) or crossings (a line each time a\n"
                "packet enters a network namespace or interface,\n"
                "with the netfilter verdicts given there), or none\n"
                "(with -w: record only, show nothing)",
    },
    {
        .name = "detail",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_DETAIL,
        .offset = REQ(detail),
        .cli_long = "detail",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "text: also device:index, netns, pid, comm, group",
    },
    {
        .name = "stack",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_STACK,
        .offset = REQ(stack),
        .cli_long = "stack",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "the kernel stack of each event",
    },
    {
        .name = "conntrack",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_CONNTRACK,
        .offset = REQ(conntrack),
        .cli_long = "ct",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "the packet's conntrack entry: state, status,\n"
                "zone, mark, original and reply tuples",
    },
    {
        .name = "wait_attached",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_WAIT_ATTACHED,
        .offset = REQ(wait_attached),
        .cli_long = "wait-attached",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "no events until every probe the session needs is\n"
                "attached (by default events start at once, from\n"
                "what is attached, and the rest joins as it attaches;\n"
                "--duration then counts from the first event)",
    },
    {
        .name = "dump_skb",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_DUMP_SKB,
        .offset = REQ(dump_skb),
        .cli_long = "dump-skb",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "the whole sk_buff of each event, as the kernel\n"
                "prints it (pointers hashed; at most 3 KiB)",
    },
    {
        .name = "nf_rules",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_NF_RULES,
        .offset = REQ(nf_rules),
        .cli_long = "nf-rules",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "netfilter verdicts name the rule that decided\n"
                "(nftables: handle, position and chain;\n"
                "iptables/ip6tables-legacy: number and chain)",
    },
    {
        .name = "count",
        .type = SKBT_PARAM_UINT,
        .id = SKBT_TP_COUNT,
        .offset = REQ(count),
        .min = 1,
        .max = INT64_MAX,
        .cli_short = 'c',
        .cli_long = "count",
        .cli_arg = "N",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "stop after N events",
    },
    {
        .name = "duration",
        .type = SKBT_PARAM_SECONDS,
        .id = SKBT_TP_DURATION,
        .offset = REQ(duration),
        .fmax = SKBT_TRACE_DURATION_MAX,
        .cli_long = "duration",
        .cli_arg = "SECONDS",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "stop after SECONDS (fractions allowed, e.g. 0.5)",
    },
    {
        .name = "fields",
        .type = SKBT_PARAM_STRINGS,
        .id = SKBT_TP_FIELDS,
        .offset = REQ(fields[0]),
        .count_offset = offsetof(struct skbt_trace_request, n_fields),
        .min = 1,
        .max = SKBT_FIELDS_PER_SESSION,
        .check = check_field,
        .what = "field",
        .flags = SKBT_PARAM_REPEAT | SKBT_PARAM_UNIQUE,
        .cli_short = 'F',
        .cli_long = "field",
        .cli_arg = "NAME[,NAME...]",
        .section = SKBT_TP_SECTION_SESSION,
        .help = "add skb fields to each event (up to 8; repeatable):\n"
                "len, data_len, gso_size, gso_segs, gso_type, mark,\n"
                "priority, protocol, pkt_type, queue_mapping, hash,\n"
                "mtu, ..., any sk_buff member, or a path such as\n"
                "skb->dev->mtu or shinfo->gso_size",
    },
    /* Set by the client for its own output formats (-o pcapng), not options of their own. */
    {
        .name = "snapshot",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_SNAPSHOT,
        .offset = REQ(snapshot),
    },
    {
        .name = "raw_output",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_RAW_OUTPUT,
        .offset = REQ(raw_output),
    },
    /* Set by the client when it records (-w FILE): events come as JSON, and the client
     * renders output itself (client/trace_record.c). */
    {
        .name = "record",
        .type = SKBT_PARAM_BOOL,
        .id = SKBT_TP_RECORD,
        .offset = REQ(record),
    },
    /* The words after the options (client/trace_args.c). */
    {
        .name = "pcap_filter",
        .type = SKBT_PARAM_STRING,
        .id = SKBT_TP_PCAP_FILTER,
        .offset = REQ(pcap_filter),
        .what = "pcap filter expression",
    },
    /* The expression compiled by the client (libpcap, in the user's context): the daemon
     * runs this, checked, and shows pcap_filter. */
    {
        .name = "pcap_program",
        .type = SKBT_PARAM_STRING,
        .id = SKBT_TP_PCAP_PROGRAM,
        .offset = REQ(pcap_program),
        .check = check_cbpf,
        .what = "pcap filter program",
    },
};

const struct skbt_param_table skbt_trace_params = {
    .name = "io.skbtraced.Trace",
    .rows = trace_rows,
    .n_rows = ARRAY_SIZE(trace_rows),
    .given_offset = offsetof(struct skbt_trace_request, given),
    .flags_offset = offsetof(struct skbt_trace_request, filter.flags),
    .sections = sections,
};

/* ---- rules that combine parameters ---- */

static int bad_at(const char **bad, const char *name, int r)
{
        if (bad)
                *bad = name;
        return r;
}

int skbt_trace_request_finish(struct skbt_trace_request *r, const char **bad, char *err,
                              size_t errlen)
{
        bool aggregate = skbt_output_is_aggregate(r->output);
        struct skbt_filter *f = &r->filter;

        if (skbt_trace_given(r, SKBT_TP_MARK_MASK) && !(f->flags & SKBT_F_MARK))
                return bad_at(
                    bad, "filter.mark_mask",
                    skbt_fail(err, errlen, "mark_mask requires mark (--mask needs --mark)"));
        if ((f->flags & SKBT_F_MARK) && !skbt_trace_given(r, SKBT_TP_MARK_MASK))
                f->mark_mask = UINT32_MAX;
        /* The full mask is the wire default: left out, so requests stay minimal. */
        if (f->mark_mask == UINT32_MAX)
                r->given &= ~SKBT_PARAM_BIT(SKBT_TP_MARK_MASK);
        if (skbt_filter_validate(f, err, errlen) < 0)
                return bad_at(bad, "filter", -EINVAL);
        if (skbt_trace_given(r, SKBT_TP_EGRESS) && !aggregate)
                return bad_at(bad, "egress",
                              skbt_fail(err, errlen,
                                        "egress (--egress) ends a packet's block: it needs "
                                        "output aggregate or aggregate-json (-o aggregate)"));
        if (aggregate && r->tracer == SKBT_TRACER_FUNCTION_GRAPH)
                return bad_at(bad, "output",
                              skbt_fail(err, errlen,
                                        "aggregate output does not combine with the "
                                        "function_graph tracer"));
        if (r->snapshot && r->output != SKBT_OUTPUT_JSON && !r->record)
                return bad_at(bad, "snapshot",
                              skbt_fail(err, errlen, "snapshot needs output json or record"));
        return 0;
}

int skbt_trace_request_from_json(json_object *params, struct skbt_trace_request *ret, char *bad,
                                 size_t badlen, char *err, size_t errlen)
{
        const char *which = NULL;
        int r;

        r = skbt_params_from_json(&skbt_trace_params, params, ret, bad, badlen, err, errlen);
        if (r < 0)
                return r;
        r = skbt_trace_request_finish(ret, &which, err, errlen);
        if (r < 0 && badlen)
                snprintf(bad, badlen, "%s", which);
        return r;
}

/* ---- the filter alone (Sessions replies, tests) ---- */

int skbt_filter_from_json(json_object *obj, struct skbt_filter *ret, const char **bad_member,
                          char *err, size_t errlen)
{
        _cleanup_free_ struct skbt_trace_request *r = calloc(1, sizeof(*r));
        _cleanup_json_ json_object *params = NULL;
        static char bad[64];
        int k;

        if (bad_member)
                *bad_member = NULL;
        if (!r)
                return -ENOMEM;
        if (obj && !json_object_is_type(obj, json_type_null)) {
                params = json_object_new_object();
                if (!params || json_object_object_add(params, "filter", json_object_get(obj)) < 0)
                        return -ENOMEM;
        }
        k = skbt_trace_request_from_json(params, r, bad, sizeof(bad), err, errlen);
        if (k < 0) {
                if (bad_member)
                        *bad_member = bad;
                return k;
        }
        *ret = r->filter;
        return 0;
}

json_object *skbt_filter_to_json(const struct skbt_filter *f)
{
        _cleanup_free_ struct skbt_trace_request *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->filter = *f;
        for (size_t i = 0; i < ARRAY_SIZE(filter_rows); i++)
                if (filter_rows[i].flag && (f->flags & filter_rows[i].flag))
                        r->given |= SKBT_PARAM_BIT(filter_rows[i].id);
        if ((f->flags & SKBT_F_MARK) && f->mark_mask != UINT32_MAX)
                r->given |= SKBT_PARAM_BIT(SKBT_TP_MARK_MASK);
        if (f->ifname[0])
                r->given |= SKBT_PARAM_BIT(SKBT_TP_IFNAME);
        return skbt_params_to_json(&skbt_filter_params, r);
}
