/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_params.h - io.skbtraced.Trace parameters: one table for client, daemon, IDL and docs */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "pcap_filter.h"
#include "skbt_abi.h"
#include "skbt_fields.h"
#include "skbt_regex.h"

/*
 * Every parameter of io.skbtraced.Trace is a row of skbt_trace_params
 * (trace_params.c): its JSON name, command-line spelling, type, range, the
 * member of struct skbt_trace_request it lands in, and its help text.
 * ipftctl builds its options, usage and request from the rows; skbtraced
 * decodes and validates a request through them; unit tests check them
 * against data/io.skbtraced.varlink, docs/protocol.md and docs/ipftctl.1.
 * A new option is a row here, its consumer (daemon/control/method_trace.c,
 * the session) and its test.
 */

/* Limits of the request, checked by both sides. */
#define SKBT_TRACE_REGEX_MAX 1024        /* bytes of the probe regex (common/skbt_regex.h) */
#define SKBT_TRACE_PCAP_MAX 1024         /* bytes of a pcap-filter expression */
#define SKBT_TRACE_GROUPS_MAX 256        /* probe groups per session */
#define SKBT_TRACE_GROUP_NAME_MAX 31     /* bytes of a group name */
#define SKBT_TRACE_FIELD_NAME_MAX 63     /* bytes of a custom field name */
#define SKBT_TRACE_EGRESS_MAX 127        /* bytes of a probe name */
#define SKBT_TRACE_DURATION_MAX 31622400 /* seconds: 366 days */
#define SKBT_PID_MAX 4194304             /* Linux's PID_MAX_LIMIT (include/linux/threads.h) */

enum skbt_tracer {
        SKBT_TRACER_FUNCTION = 0,
        SKBT_TRACER_DROP = 1,
        SKBT_TRACER_FUNCTION_GRAPH = 2,
};

/* Trace "probes": the set a session's regex, groups and tracer choose from; the daemon's
 * default_probes when not given.  docs/performance.md "Which probes by default". */
enum skbt_probe_set {
        SKBT_PROBES_GROUPS = 0, /* the probes the groups file names, and the drop probes */
        SKBT_PROBES_ALL = 1,    /* every skb function and tracepoint */
};

enum skbt_output {
        SKBT_OUTPUT_TEXT = 0,
        SKBT_OUTPUT_JSON = 1,
        SKBT_OUTPUT_AGGREGATE = 2,      /* one text block per packet (track_agg.c) */
        SKBT_OUTPUT_AGGREGATE_JSON = 3, /* one JSON object per packet */
};

static inline bool skbt_output_is_aggregate(enum skbt_output o)
{
        return o == SKBT_OUTPUT_AGGREGATE || o == SKBT_OUTPUT_AGGREGATE_JSON;
}

/* Names on the wire. */
const char *skbt_tracer_to_string(enum skbt_tracer t);
const char *skbt_probe_set_to_string(enum skbt_probe_set s);
int skbt_probe_set_from_string(const char *s, enum skbt_probe_set *ret);
const char *skbt_output_to_string(enum skbt_output o);
int skbt_output_from_string(const char *s, enum skbt_output *ret);

/* Row ids: bits of skbt_trace_request.given. */
enum skbt_trace_param {
        SKBT_TP_FILTER,
        SKBT_TP_MARK,
        SKBT_TP_MARK_MASK,
        SKBT_TP_L3,
        SKBT_TP_PROTO,
        SKBT_TP_SADDR,
        SKBT_TP_DADDR,
        SKBT_TP_ADDR,
        SKBT_TP_SPORT,
        SKBT_TP_DPORT,
        SKBT_TP_PORT,
        SKBT_TP_PID,
        SKBT_TP_NETNS,
        SKBT_TP_IFNAME,
        SKBT_TP_IFINDEX,
        SKBT_TP_LAYER,
        SKBT_TP_TRACER,
        SKBT_TP_REGEX,
        SKBT_TP_GROUPS,
        SKBT_TP_PROBES,
        SKBT_TP_OUTPUT,
        SKBT_TP_TRACK,
        SKBT_TP_EGRESS,
        SKBT_TP_DETAIL,
        SKBT_TP_STACK,
        SKBT_TP_CONNTRACK,
        SKBT_TP_WAIT_ATTACHED,
        SKBT_TP_DUMP_SKB,
        SKBT_TP_NF_RULES,
        SKBT_TP_COUNT,
        SKBT_TP_DURATION,
        SKBT_TP_FIELDS,
        SKBT_TP_SNAPSHOT,
        SKBT_TP_RAW_OUTPUT,
        SKBT_TP_RECORD,
        SKBT_TP_PCAP_FILTER,
        SKBT_TP_PCAP_PROGRAM,
        _SKBT_TP_MAX,
};
_Static_assert(_SKBT_TP_MAX <= 64, "the given mask is 64 bits");

/* Usage sections of 'ipftctl trace --help', in this order. */
enum {
        SKBT_TP_SECTION_FILTER,
        SKBT_TP_SECTION_JOURNEY,
        SKBT_TP_SECTION_SESSION,
        _SKBT_TP_SECTION_MAX,
};

/* A Trace call, decoded.  Zero is every default; "given" says what was sent. */
struct skbt_trace_request {
        uint64_t given; /* SKBT_PARAM_BIT(enum skbt_trace_param) */
        struct skbt_filter filter;
        uint8_t tracer; /* enum skbt_tracer */
        uint8_t output; /* enum skbt_output */
        uint8_t probes; /* enum skbt_probe_set, when given */
        bool track, detail, stack, snapshot, raw_output;
        bool conntrack;     /* --ct: events carry the packet's conntrack entry */
        bool record;        /* the client records the events: JSON whatever output says */
        bool wait_attached; /* no event until every probe the session needs is attached */
        bool dump_skb;      /* --dump-skb: events carry the whole sk_buff, printed */
        bool nf_rules;      /* --nf-rules: netfilter verdicts name the rule that decided */
        uint64_t count;     /* events, 0: no limit */
        double duration;    /* seconds, 0: no limit */
        char regex[SKBT_TRACE_REGEX_MAX + 1];
        char egress[SKBT_TRACE_EGRESS_MAX + 1];
        char pcap_filter[SKBT_TRACE_PCAP_MAX + 1]; /* for people: shown, never compiled */
        char pcap_program[SKBT_CBPF_TEXT_MAX + 1]; /* what runs: "N,CODE JT JF K,..." */
        uint32_t n_fields;
        char fields[SKBT_FIELDS_PER_SESSION][SKBT_TRACE_FIELD_NAME_MAX + 1];
        uint32_t n_groups;
        char groups[SKBT_TRACE_GROUPS_MAX][SKBT_TRACE_GROUP_NAME_MAX + 1];
};

extern const struct skbt_param_table skbt_trace_params;
extern const struct skbt_param_table skbt_filter_params;

static inline bool skbt_trace_given(const struct skbt_trace_request *r, enum skbt_trace_param id)
{
        return r->given & SKBT_PARAM_BIT(id);
}

/**
 * skbt_trace_request_finish() - the rules that combine parameters, for client and daemon
 *
 * Fills the mark mask's default, then checks what single rows cannot: the
 * filter's members against each other (skbt_filter_validate()), mark_mask
 * without mark, egress without aggregate output, aggregate output with
 * function_graph, snapshot without JSON output or record.  The same words on both
 * sides: ipftctl fails before it connects, skbtraced trusts no client.
 *
 * Return: 0, or -EINVAL with the message in err and the parameter at fault
 * in *bad (a static string).
 */
int skbt_trace_request_finish(struct skbt_trace_request *r, const char **bad, char *err,
                              size_t errlen);

/*
 * The filter alone, in its wire form (docs/protocol.md, Trace.filter), for
 * Sessions replies and tests.  skbt_filter_from_json() decodes {"filter": obj}
 * as a Trace call would; on error *bad_member names the member at fault (a
 * buffer of this file's, valid until the next call).  A NULL obj is an empty
 * filter (matches everything).
 */
int skbt_filter_from_json(json_object *obj, struct skbt_filter *ret, const char **bad_member,
                          char *err, size_t errlen);
json_object *skbt_filter_to_json(const struct skbt_filter *f);

/* Decode a Trace call: skbt_params_from_json() then skbt_trace_request_finish(). */
int skbt_trace_request_from_json(json_object *params, struct skbt_trace_request *ret, char *bad,
                                 size_t badlen, char *err, size_t errlen);
