/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_body.bpf.h - the one body every entry point runs: select, parse, filter, emit */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "skbt_abi.h"
#include "skbt_filter.bpf.h"
#include "skbt_probe_id.bpf.h"

/*
 * Shared with user space through the mmapped .bss: the daemon writes a
 * session's filter, then the session's bit into probe_sessions[] for each
 * probe the session selected, then the bit into state.active.  A probe hit
 * reads state.active first, so an idle daemon costs one load and a branch.
 */
struct skbt_state state SEC(".bss");
__u64 probe_sessions[SKBT_MAX_PROBES] SEC(".bss");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 8 << 20); /* resized by the daemon before load */
} events SEC(".maps");

/* Events the ring buffer had no room for, per session slot (and CPU). */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, SKBT_MAX_SESSIONS);
        __type(key, __u32);
        __type(value, __u64);
} lost SEC(".maps");

enum skbt_stat {
        SKBT_STAT_EMITTED = 0,   /* records submitted */
        SKBT_STAT_RB_FULL = 1,   /* records not reserved (each may hold several sessions) */
        SKBT_STAT__MAX = 4,
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, SKBT_STAT__MAX);
        __type(key, __u32);
        __type(value, __u64);
} stats SEC(".maps");

/*
 * Per-CPU scratch: the copied headers and the parsed tuple.  The tuple lives
 * here rather than on the stack on purpose: the verifier does not track
 * values stored in map memory, so after parsing, the dozens of parser paths
 * (each with its own known flags and protocol constants) converge into one
 * state before the per-session filter loop, instead of multiplying it.
 */
struct skbt_scratch {
        __u8 hdr[SKBT_HDR_MAX * 2]; /* room for the verifier's view of the copy size */
        struct skbt_tuple t;
        /* Sessions whose filter matched, built in map memory for the same
         * reason: a register mask would carry one known bit per iteration
         * and split the verifier's states 2^n ways. */
        __u64 matched;
        __u64 candidates; /* likewise: sessions to evaluate, re-read each iteration */
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct skbt_scratch);
} scratch SEC(".maps");

static __always_inline void skbt_stat_inc(__u32 idx)
{
        __u64 *v = bpf_map_lookup_elem(&stats, &idx);

        if (v)
                *v += 1;
}

/* mask is read from map memory at each step: a register mask would be
 * refined bit by bit and split the verifier's states 2^64 ways. */
static __always_inline void skbt_count_lost(const volatile __u64 *mask)
{
        __u32 i;

        for (i = 0; i < SKBT_MAX_SESSIONS; i++) {
                __u64 *v;

                if (!(*mask & (1ULL << i)))
                        continue;
                v = bpf_map_lookup_elem(&lost, &i);
                if (v)
                        *v += 1;
        }
}

/* "Unset" header offsets: ~0 since 3.x for mac/transport; 0 means never set for network. */
#define SKBT_HDR_UNSET 0xffff

/*
 * Copy the packet headers into scratch and parse them.  Prefer the network
 * header when the stack has set it, else the MAC header (e.g. at RX before
 * the network header is reset), else skb->data.  Only the linear area is
 * read (headers live there); the copy stops at skb->tail.
 */
static __always_inline void skbt_parse_skb(struct sk_buff *skb, struct skbt_scratch *s,
                                           __u16 eth_proto)
{
        unsigned char *head = BPF_CORE_READ(skb, head);
        unsigned char *data = BPF_CORE_READ(skb, data);
        __u32 nh = BPF_CORE_READ(skb, network_header);
        __u32 mh = BPF_CORE_READ(skb, mac_header);
        __u32 tail = BPF_CORE_READ(skb, tail);
        __u32 start, avail;
        int l2 = 0;

        if (!head)
                return;
        if (nh != 0 && nh != SKBT_HDR_UNSET && (mh == SKBT_HDR_UNSET || nh >= mh)) {
                start = nh;
        } else if (mh != SKBT_HDR_UNSET && (__u64)(data - head) >= mh &&
                   (eth_proto == SKBT_ETH_P_IP || eth_proto == SKBT_ETH_P_IPV6 ||
                    eth_proto == SKBT_ETH_P_8021Q || eth_proto == SKBT_ETH_P_8021AD)) {
                start = mh;
                l2 = 1;
        } else {
                start = (__u32)(data - head);
        }
        if (start >= tail)
                return;
        avail = tail - start;
        if (avail > SKBT_HDR_MAX)
                avail = SKBT_HDR_MAX;

        /* clang knows avail <= SKBT_HDR_MAX and would drop a plain mask; the
         * verifier needs to see the bound, so apply it where clang cannot. */
        asm volatile("%[v] &= 0xff" : [v] "+r"(avail));
        if (bpf_probe_read_kernel(s->hdr, avail, head + start) < 0)
                return;
        skbt_parse(s->hdr, avail, l2, eth_proto, &s->t);
}

/*
 * A global (non-static) function is verified once on its own, and each call
 * costs the caller's verification one unknown return value.  Inlined into a
 * 64-iteration loop, the filter's branches would multiply the verifier's
 * states past its limit.  Global functions need BTF func_info at load time,
 * which the loader passes along with every stamped copy.
 */
__noinline int skbt_filter_eval(const struct skbt_filter *f, const struct skbt_tuple *t,
                                __u32 mark)
{
        if (!f || !t)
                return 0;
        return skbt_filter_match(f, t, mark);
}

/* Event details that only some entry points know. */
struct skbt_hit {
        __u64 location;
        __s64 retval;
        __u32 drop_reason;
        __u8 flags; /* enum skbt_event_flags */
};

static __always_inline int skbt_handle(struct sk_buff *skb, __u32 probe_id,
                                       const struct skbt_hit *hit)
{
        __u64 mask = *(volatile __u64 *)&state.active;
        struct skbt_scratch *s;
        struct skbt_event *e;
        struct net_device *dev;
        __u16 eth_proto;
        __u32 mark, i, zero = 0;

        if (!mask)
                return 0;
        if (probe_id >= SKBT_MAX_PROBES)
                return 0;
        mask &= probe_sessions[probe_id];
        if (!mask || !skb)
                return 0;

        s = bpf_map_lookup_elem(&scratch, &zero);
        if (!s)
                return 0;
        __builtin_memset(&s->t, 0, sizeof(s->t));
        eth_proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
        mark = BPF_CORE_READ(skb, mark);
        skbt_parse_skb(skb, s, eth_proto);

        /* volatile: clang must not keep these in registers (see struct skbt_scratch). */
        *(volatile __u64 *)&s->matched = 0;
        *(volatile __u64 *)&s->candidates = mask;
        for (i = 0; i < SKBT_MAX_SESSIONS; i++) {
                if (!(*(volatile __u64 *)&s->candidates & (1ULL << i)))
                        continue;
                if (skbt_filter_eval(&state.filters[i], &s->t, mark))
                        *(volatile __u64 *)&s->matched |= 1ULL << i;
        }
        mask = *(volatile __u64 *)&s->matched;
        if (!mask)
                return 0;

        e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (!e) {
                skbt_stat_inc(SKBT_STAT_RB_FULL);
                skbt_count_lost(&s->matched);
                return 0;
        }
        e->sessions = mask;
        e->ts = bpf_ktime_get_ns();
        e->skb = (__u64)skb;
        e->location = hit->location;
        e->retval = hit->retval;
        e->probe_id = probe_id;
        e->cpu = bpf_get_smp_processor_id();
        e->mark = mark;
        e->len = BPF_CORE_READ(skb, len);
        e->drop_reason = hit->drop_reason;
        e->pid = bpf_get_current_pid_tgid() >> 32;
        e->protocol = eth_proto;
        e->flags = hit->flags;
        __builtin_memset(e->pad, 0, sizeof(e->pad));
        __builtin_memcpy(&e->tuple, &s->t, sizeof(e->tuple));

        dev = BPF_CORE_READ(skb, dev);
        if (dev) {
                e->ifindex = BPF_CORE_READ(dev, ifindex);
                e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
                bpf_probe_read_kernel_str(e->ifname, sizeof(e->ifname), dev->name);
                e->flags |= SKBT_EV_HAS_DEV;
        } else {
                e->ifindex = 0;
                e->netns = 0;
                e->ifname[0] = 0;
        }
        bpf_ringbuf_submit(e, 0);
        skbt_stat_inc(SKBT_STAT_EMITTED);
        return 0;
}
