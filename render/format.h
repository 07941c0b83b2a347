/* SPDX-License-Identifier: GPL-2.0-only */
/* format.h - render events as text or JSON lines */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skbt_abi.h"
#include "strbuf.h"
#include "trace_params.h"

/* What a session asked to see besides the usual fields. */
struct skbt_format_opts {
        bool track;     /* the session has track ids: JSON track_id is the real one, text
                           adds " track=N" (without it JSON says 0, text nothing) */
        bool detail;    /* text: " if=NAME:INDEX netns=N pid=N comm=C group=G" (JSON has them) */
        bool stack;     /* the kernel stack following the event: JSON "stack", text lines */
        bool omit_flow; /* text: leave out the flow summary (aggregate blocks print it once) */
        /* A netfilter verdict to show with the event (a drop it explains); NULL: the one the
         * record carries, if SKBT_EV_NF (then a struct skbt_nf follows *ev, verdict in retval). */
        const struct skbt_nf *nf;
        uint32_t nf_verdict;
        bool nf_rules; /* verdicts name the rule that decided (the record has it for any
                          session that asked: each session shows only what it asked for) */
};

/* Names for netfilter numbers: "ip", "INPUT", "DROP", "nftables"; NULL when unknown. */
const char *skbt_nf_family_name(uint8_t pf);
const char *skbt_nf_hook_name(uint8_t pf, uint8_t hook);
const char *skbt_nf_verdict_name(uint32_t verdict);
const char *skbt_nf_engine_name(const struct skbt_nf *nf);
/* ' nf=nftables family=ip table=filter chain=input hook=INPUT verdict=DROP', with rules:
 * ' rule_handle=4 rule_pos=2 rule_chain=input' or ' rule=policy' when the record says. */
void skbt_format_nf_text(struct strbuf *out, const struct skbt_nf *nf, uint32_t verdict,
                         bool rules);
/* A verdict that explains a drop: NF_DROP, or NF_STOLEN with an errno (NF_DROP_REASON()). */
static inline bool skbt_nf_verdict_is_drop(uint32_t verdict)
{
        return (verdict & 0xff) == SKBT_NF_VERDICT_DROP ||
               ((verdict & 0xff) == SKBT_NF_VERDICT_STOLEN && (verdict >> 16));
}
/* "SHOT", "DROP": the name of a tc (TC_ACT_*) or XDP (XDP_*) program's verdict, NULL if none. */
const char *skbt_bpf_verdict_name(uint8_t engine, uint32_t verdict);
/* The same for any record's verdict: netfilter's, or a tc program's TC_ACT_SHOT (XDP drops
 * free no skb: nothing to explain). */
static inline bool skbt_record_verdict_is_drop(const struct skbt_nf *nf, uint32_t verdict)
{
        if (nf->engine == SKBT_NF_TC)
                return verdict == 2; /* TC_ACT_SHOT */
        if (nf->engine == SKBT_NF_XDP)
                return false;
        return skbt_nf_verdict_is_drop(verdict);
}

/* Parse "text", "json", "aggregate", "aggregate-json"; -EINVAL otherwise. */

/*
 * Names the renderer needs, owned by the daemon (probe table, BTF drop
 * reason enum, kallsyms).  Any lookup may come back empty: the renderer then
 * prints the number (probe "probe#12", reason "reason#77", location "0x...").
 */
struct skbt_names {
        const char *const *probes; /* indexed by probe_id */
        uint32_t n_probes;
        const char *const
            *drop_reasons; /* indexed by enum skb_drop_reason, prefix stripped: "NO_SOCKET" */
        uint32_t n_drop_reasons;
        /* Symbolize a kernel text address as "func+0x1a/0x200"; returns 0 or -ENOENT. */
        int (*symbolize)(void *data, uint64_t addr, char *buf, size_t len);
        void *symbolize_data;
        const char *const *probe_groups; /* indexed by probe_id: "link-in", or NULL */
        /* The name of a network namespace by inode ("blue" for /run/netns/blue), NULL if none;
         * ts is the event's time (CLOCK_MONOTONIC, bpf_ktime_get_ns()): a table that rechecks
         * its source once in a while needs no clock read per event. */
        const char *(*netns_name)(void *data, uint32_t inode, uint64_t ts);
        void *netns_name_data;
        /* Stack frames are as the user should see them: the tracing machinery's own frames
         * were cut already (a recording read back), so none is cut again. */
        bool frames_trimmed;
};

/* Append one line (ending in '\n') for ev to out.  The caller checks
 * strbuf_failed(out) once per batch. */
void skbt_format_event(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                       const struct skbt_names *names);
/*
 * The same with a session's options.  With o->stack, ev->stack_depth frames
 * (at most SKBT_STACK_MAX) follow *ev in memory: the caller checked the
 * record is that long.  Text adds one line per frame after the event's.
 */
void skbt_format_event_opts(struct strbuf *out, enum skbt_output fmt,
                            const struct skbt_format_opts *o, const struct skbt_event *ev,
                            const struct skbt_names *names);
void skbt_format_text_opts(struct strbuf *out, const struct skbt_format_opts *o,
                           const struct skbt_event *ev, const struct skbt_names *names);
void skbt_format_json_opts(struct strbuf *out, const struct skbt_format_opts *o,
                           const struct skbt_event *ev, const struct skbt_names *names);
/* The stack lines of skbt_format_text_opts() alone, for a line completed by the caller. */
void skbt_format_stack_text(struct strbuf *out, const struct skbt_event *ev,
                            const struct skbt_names *names);
void skbt_format_text(struct strbuf *out, const struct skbt_event *ev,
                      const struct skbt_names *names);
void skbt_format_json(struct strbuf *out, const struct skbt_event *ev,
                      const struct skbt_names *names);
/* The flow summary used in text output, e.g. "ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=7 seq=3",
 * "TCP 10.0.0.1:40000 -> 10.0.0.2:80 [S]"; "proto 0x0806" when there is no IP header. */
void skbt_format_flow(struct strbuf *out, const struct skbt_event *ev);
