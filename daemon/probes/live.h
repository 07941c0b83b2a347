/* SPDX-License-Identifier: GPL-2.0-only */
/* live.h - make a session live in the programs' shared state, and take it out again */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "skbt_abi.h"
#include "skbt_cbpf.h"

struct skbt_loader;

/* What the programs need to know about one session (the rest stays in user space). */
struct skbt_live_session {
        struct skbt_filter filter;
        struct skbt_cbpf_prog cbpf; /* pcap filter (len 0: none) */
        bool graph;                 /* function_graph: returns are reported */
        bool fields;                /* records carry custom fields */
        bool snapshot;              /* records carry packet bytes */
        bool ct;                    /* records carry the packet's conntrack entry (--ct) */
        uint32_t ct_len;            /* how much of it to copy: the kernel's layout */
        bool ident;                 /* records carry track ids */
        bool track;                 /* follow matched packets whatever their headers */
        bool stack;                 /* records carry the kernel stack */
        bool dump_skb;              /* records carry the sk_buff printed (--dump-skb) */
        bool nf_rules;              /* netfilter verdicts name their rule (--nf-rules) */
        uint32_t track_quota; /* ident: packets it may start tracking per second, 0: no limit */
};

/*
 * Write the session's filter and flags for slot, then set its bit in the
 * active mask last: a probe hit never sees the session active with a stale
 * filter.  Probes deliver to it once its bit is in their probe_sessions
 * entry (skbt_live_probe_add()), before or after this call.
 */
void skbt_live_session_enable(struct skbt_loader *l, uint32_t slot,
                              const struct skbt_live_session *ls);
/*
 * Clear the slot from the active mask first, then from every flag and
 * probe; with ident, sweep it from the tracking maps so that the next
 * session in this slot does not inherit the packets it followed.
 */
void skbt_live_session_disable(struct skbt_loader *l, uint32_t slot, bool ident);

/* Packets the slot's session was refused tracking for, over its track_quota. */
uint64_t skbt_live_track_refused(const struct skbt_loader *l, uint32_t slot);

/* Deliver probe id's hits to the sessions in mask (atomically, the programs read it). */
void skbt_live_probe_add(struct skbt_loader *l, uint32_t id, uint64_t mask);
void skbt_live_probe_remove(struct skbt_loader *l, uint32_t id, uint64_t mask);
/* Sessions live in the programs now (state.active). */
uint64_t skbt_live_active(const struct skbt_loader *l);
