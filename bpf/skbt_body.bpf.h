/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_body.bpf.h - the one body every entry point runs: select, parse, filter, emit */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "skbt_abi.h"
#include "skbt_filter.bpf.h"
#include "skbt_cbpf.bpf.h"
#include "skbt_inner.bpf.h"
#include "skbt_fields.bpf.h"
#include "skbt_ct.bpf.h"
#include "skbt_record.h"
#include "skbt_prefilter.h"
#include "skbt_probe_id.bpf.h"
#include "skbt_verdict.bpf.h"

/*
 * Shared with user space through the mmapped .bss: the daemon writes a
 * session's filter, then the session's bit into probe_sessions[] for each
 * probe the session selected, then the bit into state.active.  A probe hit
 * reads state.active first, so an idle daemon costs one load and a branch.
 */
struct skbt_state state SEC(".bss");
__u64 probe_sessions[SKBT_MAX_PROBES] SEC(".bss");
/*
 * Per entry probe: its return probe's id + 1, or 0 while it has none (a leaf
 * such as kfree_skb_reason, a return that failed to load).  Written by the
 * daemon when the return probe goes live (daemon/probes/live.c): an entry
 * pushes a function_graph frame only for sessions that hear its return
 * (skbt_graph_push()).
 */
__u16 probe_return[SKBT_MAX_PROBES] SEC(".bss");

/*
 * The first test of every entry point, before anything else it would do:
 * no session live, nothing to do.  Before the attach cookie in particular:
 * on kprobe-multi bpf_get_attach_cookie() is a binary search over the
 * link's functions (~11 steps, each an indirect call, for 1,600 functions).
 */
static __always_inline bool skbt_idle(void)
{
        return !*(volatile __u64 *)&state.active;
}

/* Return probes work only for function_graph sessions and for clone tracking. */
static __always_inline bool skbt_returns_idle(void)
{
        return !(*(volatile __u64 *)&state.graph |
                 (*(volatile __u64 *)&state.active & *(volatile __u64 *)&state.ident));
}
/* Written by the daemon with the filters (daemon/probes/prefilter.c). */
struct skbt_prefilter prefilter SEC(".bss");
/* Sessions' pcap filters (skbt_cbpf.bpf.h), written by the daemon before the filters. */
struct skbt_cbpf_prog cbpf_progs[SKBT_MAX_SESSIONS] SEC(".bss");

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

/* Counters: enum skbt_stat (common/skbt_abi.h). */
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
/* The whole sk_buff (224-232 bytes on 6.x) is copied at once. */
#define SKBT_SKB_COPY_MAX 320

/* What the filters look at besides the packet's headers. */
struct skbt_meta {
        __u32 mark;
        __u32 pid;     /* tgid of the current task */
        __u32 ifindex; /* skb->dev's, 0 without a device */
        __u32 netns;   /* skb->dev's namespace, else the socket's: what --netns compares */
};

/*
 * The sk_buff fields the body uses, at fixed offsets: filled once per hit
 * from the copy (raw_tp, kprobes) or with plain loads (tp_btf), so that
 * every later use is one load instead of a relocated offset computation.
 */
struct skbt_skbinfo {
        unsigned char *head;
        unsigned char *data;
        struct net_device *dev;
        struct sock *sk;
        __u32 tail;
        __u32 end;
        __u32 len;
        __u32 mark;
        __u16 network_header;
        __u16 mac_header;
        __be16 protocol;
        __u16 pad;
};

struct skbt_scratch {
        __u8 hdr[SKBT_HDR_MAX * 2]; /* room for the verifier's view of the copy size */
        __u8 skb[SKBT_SKB_COPY_MAX];
        /*
         * From here to tun: what every hit a live session does not want touches (the skb's
         * fields, the tuple, the verdict), kept together: the cache lines of a hit's scratch
         * are mostly cold again at the packet's next probe, and each line is a miss.  The
         * verdict's scalars and the tunnel fields lay behind the stack and the verdict cache
         * (8 KiB further) and cost a non-matching hit ~4 more lines.
         */
        struct skbt_skbinfo si;
        __u64 last_wakeup; /* bpf_ktime_get_ns() when this CPU last woke the daemon */
        struct skbt_tuple t;
        struct skbt_meta m;
        /* The skb's address as a plain number: a BTF-typed skb pointer
         * (tp_btf) cannot be a map key or a global function's __u64
         * argument, and the verifier forgets a pointer's type through map
         * memory. */
        __u64 skb_addr;
        __u64 track_id;       /* this hit's packet, 0: untracked */
        __u64 track_sessions; /* sessions that matched it earlier */
        /* Sessions whose filter matched, built in map memory for the same
         * reason: a register mask would carry one known bit per iteration
         * and split the verifier's states 2^n ways. */
        __u64 matched;
        __u64 candidates; /* likewise: sessions to evaluate, re-read each iteration */
        /* The verdict cache (skbt_verdict.bpf.h) and this hit's verdict. */
        __u64 vseq;             /* verdicts begun on this CPU: changed under one = a nested run */
        __u64 verdict;          /* the live sessions whose filter matches the packet */
        __u64 vactive;          /* the live sessions it was decided for */
        __u32 hdr_len;          /* bytes copied into hdr (pcap filters read them again) */
        __u32 hdr_l2;           /* hdr starts at the Ethernet header, else at the network header */
        __u32 hdr_orig;         /* bytes of the packet from where hdr starts to its end (pcapng) */
        __u32 hdr_all;          /* bytes in hdr with a tunnel's second copy (skbt_read_more()) */
        __u32 inner_done;       /* tun.inner is parsed (from hdr_all bytes) */
        __u32 hdr_start;        /* where the copy in hdr starts, from skb->head */
        __u32 hdr_tail;         /* ... and where the linear data ends */
        __u32 vstore;           /* skbt_verdict(): store the verdict it decides in the cache */
        struct skbt_tunnel tun; /* the tunnel around the packet (type NONE: none) */
        __u64 vhits;            /* verdicts found in the cache, on this CPU */
        __u64 vmisses;          /* verdicts decided */
        __u64 vmarks;           /* hits the mark alone ruled out (skbt_mark_gate()) */
        __u64 track_seq;        /* track ids handed out on this CPU */
        /* The skb whose tracking the last free ended on this CPU: the rest of its
         * free path (__kfree_skb, kfree_skbmem after consume_skb) is still its journey. */
        __u64 freed_skb, freed_id, freed_sessions, freed_ts;
        __u64 stack[SKBT_STACK_MAX]; /* kernel stack, for sessions that want it */
        struct skbt_field_vals vals; /* custom fields (-F), read here, then copied to the record */
        struct skbt_ct_rec ct; /* conntrack entry (--ct), read here, then copied to the record */
        struct skbt_vkey vk;
        struct skbt_vent vcache[SKBT_VCACHE_SLOTS];
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

#include "skbt_track.bpf.h"

/* skbt_count_lost()'s callback: the session of slot i, if it is in the mask (data). */
static long skbt_count_lost_one(__u32 i, void *data)
{
        __u32 k = i & (SKBT_MAX_SESSIONS - 1);
        __u64 *v;

        if (!(*(const volatile __u64 *)data & (1ULL << k)))
                return 0;
        v = bpf_map_lookup_elem(&lost, &k);
        if (v)
                *v += 1;
        return 0;
}

/*
 * Count a ring-buffer loss for every session in *mask (in map memory or on
 * the stack).  Through bpf_loop(): its callback is verified once, where the
 * 64 slots written out one by one (a loop of clang's lost the lookup key for
 * the verifier) cost every stamped copy 1,500 verified instructions.  Only
 * when the ring buffer is full.
 */
static __always_inline void skbt_count_lost(const volatile __u64 *mask)
{
        __u64 m = *mask;

        bpf_loop(SKBT_MAX_SESSIONS, skbt_count_lost_one, &m, 0);
}

/* "Unset" header offsets: ~0 since 3.x for mac/transport; 0 means never set for network. */
#define SKBT_HDR_UNSET 0xffff

/* A field of the sk_buff copy in scratch, at its CO-RE relocated offset. */
#define SKB_COPY_FIELD(s, type, field)                                                             \
        (*(type *)((s)->skb + bpf_core_field_offset(struct sk_buff, field)))

#define SKBT_SKBINFO_FROM(s, src)                                                                  \
        do {                                                                                       \
                (s)->si.head = src(s, skb, unsigned char *, head);                                 \
                (s)->si.data = src(s, skb, unsigned char *, data);                                 \
                (s)->si.dev = src(s, skb, struct net_device *, dev);                               \
                (s)->si.sk = src(s, skb, struct sock *, sk);                                       \
                (s)->si.tail = src(s, skb, __u32, tail);                                           \
                (s)->si.end = src(s, skb, __u32, end);                                             \
                (s)->si.len = src(s, skb, __u32, len);                                             \
                (s)->si.mark = src(s, skb, __u32, mark);                                           \
                (s)->si.network_header = src(s, skb, __u16, network_header);                       \
                (s)->si.mac_header = src(s, skb, __u16, mac_header);                               \
                (s)->si.protocol = src(s, skb, __be16, protocol);                                  \
        } while (0)

#define SKBT_FROM_COPY(s, skb, type, field) SKB_COPY_FIELD(s, type, field)
#define SKBT_FROM_LOAD(s, skb, type, field) ((type)(skb)->field)

/*
 * Copy the sk_buff with one probe read.  Each probe read has a fixed cost
 * (helper call, address check, fault handling set-up) that is most of the
 * cost of reading one field; the fields a hit uses cost about one read
 * this way.  The whole struct rather than up to its last used field: its
 * size is one relocated constant, while the largest end of ten fields was
 * computed at run time on every hit (clang cannot fold relocations), about
 * a hundred instructions.  A kernel whose sk_buff does not fit
 * SKBT_SKB_COPY_MAX fails to load, never reads short.
 */
static __always_inline int skbt_copy_skb(struct sk_buff *skb, struct skbt_scratch *s)
{
        __u32 n = bpf_core_type_size(struct sk_buff);

        if (n > SKBT_SKB_COPY_MAX)
                return -1;
        if (bpf_probe_read_kernel(s->skb, n, skb) < 0)
                return -1;
        SKBT_SKBINFO_FROM(s, SKBT_FROM_COPY);
        return 0;
}

/*
 * The same for an skb the verifier knows is a struct sk_buff * (tp_btf):
 * plain loads of the fields the body uses.  The JIT guards each against a
 * fault as a probe read would, without the helper call, which is most of
 * what a probe read costs; a non-matching hit then makes one probe read
 * (the headers) instead of two.
 */
static __always_inline void skbt_load_skb(struct sk_buff *skb, struct skbt_scratch *s)
{
        SKBT_SKBINFO_FROM(s, SKBT_FROM_LOAD);
}

/*
 * Copy the packet headers into scratch (the parser and the pcap filters
 * read only this copy).  Prefer the network header when the stack has set
 * it, else the MAC header (e.g. at RX before the network header is reset),
 * else skb->data.  Only the linear area is read (headers live there); the
 * copy stops at skb->tail.
 */
static __always_inline void skbt_read_hdr(struct skbt_scratch *s, __u16 eth_proto)
{
        unsigned char *head = s->si.head;
        unsigned char *data = s->si.data;
        __u32 nh = s->si.network_header;
        __u32 mh = s->si.mac_header;
        __u32 tail = s->si.tail;
        __u32 start, avail;
        int l2 = 0;

        /* The tunnel fields (tun, inner_done, hdr_all) are the parse's: skbt_verdict()
         * sets them, or restores them from the cache entry when an event needs them. */
        s->hdr_len = 0;
        s->hdr_l2 = 0;
        s->hdr_orig = 0;
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
        s->hdr_len = avail;
        s->hdr_l2 = l2;
        s->hdr_start = start;
        s->hdr_tail = tail;
        /* The packet ends at data + len, wherever the copy started. */
        s->hdr_orig = (__u32)(data - head) + s->si.len - start;
}

/*
 * A tunnel (tun, found in the first copy) whose inner headers may lie past
 * it: copy the next bytes too, behind the first copy.  Only then: a
 * tunnelled packet pays a second probe read when its inner packet is
 * needed (a --layer filter, an event), every other packet nothing.  Returns
 * the bytes in hdr now (hdr_all).
 */
static __always_inline __u32 skbt_read_more(struct skbt_scratch *s, const struct skbt_tunnel *tun)
{
        unsigned char *head = s->si.head;
        __u32 start = s->hdr_start, tail = s->hdr_tail, more;

        s->hdr_all = s->hdr_len;
        if (tun->type == SKBT_TUN_NONE || s->hdr_len != SKBT_HDR_MAX ||
            (__u32)tun->inner_off + 80 <= SKBT_HDR_MAX || tail - start <= SKBT_HDR_MAX || !head)
                return s->hdr_all;
        more = tail - start - SKBT_HDR_MAX;
        if (more > SKBT_HDR_MAX)
                more = SKBT_HDR_MAX;
        asm volatile("%[v] &= 0xff" : [v] "+r"(more));
        if (more && more <= SKBT_HDR_MAX &&
            bpf_probe_read_kernel(s->hdr + SKBT_HDR_MAX, more, head + start + SKBT_HDR_MAX) == 0)
                s->hdr_all = SKBT_HDR_MAX + more;
        return s->hdr_all;
}

/* The tunnel's inner packet in s->tun.inner, for a --layer filter or an event. */
static __always_inline void skbt_inner(struct skbt_scratch *s)
{
        if (s->tun.type == SKBT_TUN_NONE || s->inner_done)
                return;
        skbt_parse_inner_g((const struct skbt_cbpf_buf *)s->hdr, skbt_read_more(s, &s->tun),
                           &s->tun);
        s->inner_done = 1;
}

/*
 * Sessions that may match the parsed tuple, from the prefilter tables
 * (common/skbt_prefilter.h): a superset of the matching ones.
 */
static __always_inline __u64 skbt_prefilter(const struct skbt_tuple *t, __u64 mask)
{
        const __u32 *sa = (const __u32 *)t->saddr, *da = (const __u32 *)t->daddr;
        __u32 hs, hd;

        if (!(t->flags & SKBT_TUPLE_L3))
                return mask & ~prefilter.need_l3 & ~prefilter.need_l4;
        mask &= prefilter.proto[t->l4proto];
        hs = skbt_pf_addr(sa);
        hd = skbt_pf_addr(da);
        mask &= prefilter.saddr[hs] & prefilter.daddr[hd] &
                (prefilter.no_addr | prefilter.addr[hs] | prefilter.addr[hd]);
        if (!(t->flags & SKBT_TUPLE_L4))
                return mask & ~prefilter.need_l4;
        hs = skbt_pf_port(t->sport);
        hd = skbt_pf_port(t->dport);
        return mask & prefilter.sport[hs] & prefilter.dport[hd] &
               (prefilter.no_port | prefilter.port[hs] | prefilter.port[hd]);
}

/* Index of the lowest set bit of a non-zero mask (BPF has no ctz): de Bruijn. */
static const __u8 skbt_debruijn64[64] = {
    0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
    43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
    44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6,
};

static __always_inline __u32 skbt_lowest_bit(__u64 v)
{
        return skbt_debruijn64[(((v & -v) * 0x03f79d71b4cb0a89ULL) >> 58) & 63];
}

/* Wake the daemon at most this often per CPU while events flow... */
#define SKBT_WAKEUP_NS (1000 * 1000ULL)
/* ...unless this much is waiting: the daemon must not fall behind a burst. */
#define SKBT_WAKEUP_BYTES (1024 * 1024ULL)

/*
 * One session's filter on the parsed packet.  Inlined into the global
 * skbt_candidate_step() (verified once on its own, whatever calls it), not
 * into the 64-iteration candidate loop, where the filter's branches would
 * multiply the verifier's states past its limit.  A global function of its
 * own, it cost every candidate a second call (docs/performance.md, issue 13).
 */
static __always_inline int skbt_filter_eval(const struct skbt_filter *f, const struct skbt_tuple *t,
                                            const struct skbt_meta *m,
                                            const struct skbt_tunnel *tun)
{
        return skbt_meta_match(f, m->pid, m->ifindex, m->netns) &&
               skbt_filter_match_layer(f, t, tun, m->mark);
}

/*
 * The session's pcap filter, if it has one, over the header copy.  The
 * interpreter is a global function: verified once, whatever the number of
 * callers and sessions.
 */
static __always_inline int skbt_cbpf_match(struct skbt_scratch *s, __u32 slot, __u16 eth_proto)
{
        const struct skbt_filter *f;
        __u32 layer, base, len;

        asm volatile("%[v] &= 0x3f" : [v] "+r"(slot));
        if (!*(volatile __u32 *)&cbpf_progs[slot].len)
                return 1;
        f = &state.filters[slot];
        layer = (f->flags & SKBT_F_LAYER) ? f->layer : SKBT_LAYER_OUTER;
        if (layer != SKBT_LAYER_INNER || s->tun.type == SKBT_TUN_NONE) {
                if (skbt_cbpf_run(&cbpf_progs[slot], (const struct skbt_cbpf_buf *)s->hdr,
                                  SKBT_CBPF_INFO(s->hdr_len, s->hdr_l2, eth_proto)))
                        return 1;
                if (layer == SKBT_LAYER_OUTER || s->tun.type == SKBT_TUN_NONE)
                        return 0;
        }
        /* The tunnel's inner frame (--layer inner or either). */
        base = s->tun.inner_off;
        len = s->hdr_all > base ? s->hdr_all - base : 0;
        return skbt_cbpf_run(&cbpf_progs[slot], (const struct skbt_cbpf_buf *)s->hdr,
                             SKBT_CBPF_INFO_AT(len, s->tun.flags & SKBT_TUN_F_L2, 0, base));
}

/*
 * The next candidate session (the lowest bit of s->candidates, which it
 * clears): its filter and pcap filter, its bit set in s->matched if both
 * match.  Returns whether candidates are left, so that the caller makes no
 * call to find none.  Global: inlined, the 64-iteration loop over candidates
 * verified its body once per iteration and per state the parse ended in, a
 * quarter of every program copy's verification (docs/performance.md,
 * "Program loads").  Each candidate costs one call.
 */
__noinline int skbt_candidate_step(struct skbt_scratch *s, __u32 eth_proto)
{
        __u64 cand;
        __u32 slot;

        if (!s || skbt_in_template())
                return 0;
        cand = *(volatile __u64 *)&s->candidates;
        if (!cand)
                return 0;
        slot = skbt_lowest_bit(cand);
        cand &= cand - 1;
        *(volatile __u64 *)&s->candidates = cand;
        if (slot < SKBT_MAX_SESSIONS &&
            skbt_filter_eval(&state.filters[slot], &s->t, &s->m, &s->tun) &&
            skbt_cbpf_match(s, slot, (__u16)eth_proto))
                *(volatile __u64 *)&s->matched |= 1ULL << slot;
        return cand != 0;
}

/*
 * The copied headers parsed into s->t (and s->tun).  Global: verified once
 * on its own, and its caller goes on from one state instead of one per
 * header layout the parse tells apart (inlined, the rest of the verdict was
 * verified again for each of them: half of every program copy's
 * verification, docs/performance.md, "Program loads").
 */
__noinline int skbt_parse_scratch(struct skbt_scratch *s, __u32 eth_proto)
{
        if (!s || skbt_in_template())
                return 0;
        __builtin_memset(&s->t, 0, sizeof(s->t));
        s->inner_done = 0;
        if (s->hdr_len)
                skbt_parse_outer(s->hdr, s->hdr_len, s->hdr_l2, (__u16)eth_proto, &s->t, &s->tun);
        else
                s->tun.type = SKBT_TUN_NONE;
        return 0;
}

/*
 * Which of the candidate sessions in s->candidates (the prefilter's superset,
 * skbt_prefilter()) match the packet parsed into s (s->t, s->m, s->tun), for
 * every caller (skbt_verdict(), skbt_xdp_enter()): their filters, then
 * their pcap programs, one skbt_candidate_step() per candidate, lowest bit
 * first.  A tunnel's inner packet is parsed first if a candidate looks at it
 * (--layer).  Returns the matching sessions, also left in s->matched.
 */
static __always_inline __u64 skbt_match_candidates(struct skbt_scratch *s, __u16 eth_proto)
{
        __u32 i;

        *(volatile __u64 *)&s->matched = 0;
        /* Most hits of a session that does not match have none: no call then. */
        if (!*(volatile __u64 *)&s->candidates)
                return 0;
        if (*(volatile __u64 *)&s->candidates & *(volatile __u64 *)&state.need_inner)
                skbt_inner(s);
        for (i = 0; i < SKBT_MAX_SESSIONS; i++)
                if (!skbt_candidate_step(s, eth_proto))
                        break;
        return *(volatile __u64 *)&s->matched;
}

/* Event details that only some entry points know. */
struct skbt_hit {
        __u64 location;
        __s64 retval;
        __u32 drop_reason;
        __u8 flags; /* enum skbt_event_flags */
        /* Not NULL: build the (plain) record here instead of in the ring
         * buffer, to be sent later (netfilter verdicts, skbt_nf.bpf.h). */
        struct skbt_event *defer;
};

/* A probe where a packet's life changes (freed, copied, re-buffered) or a new one starts: sessions
 * that follow packets (state.ident) hear it even when they did not select it. */
#define SKBT_STAMP_LIFE (SKBT_STAMP_FREE | SKBT_STAMP_CLONE | SKBT_STAMP_REHEAD | SKBT_STAMP_LIVE)

/* The free path is synchronous: a free function this long after the free is another skb's. */
#define SKBT_FREE_PATH_NS (10 * 1000 * 1000ULL)

/*
 * An skb at a probe that is never on a free path (SKBT_STAMP_LIVE) is a new
 * packet's, even at the address whose free this CPU saw last: a free there
 * soon after is not the rest of that free path.  An echo reply takes the
 * request's freed skb, and is freed within microseconds.
 */
static __always_inline void skbt_track_alive(struct skbt_scratch *s, __u64 key, __u32 sflags)
{
        if ((sflags & SKBT_STAMP_LIVE) && s->freed_skb == key)
                s->freed_skb = 0;
}

/* The same with plain loads, for a BTF-typed skb (see skbt_load_skb()). */
static __always_inline void skbt_load_dev(struct sk_buff *skb, struct skbt_scratch *s)
{
        struct net_device *dev = skb->dev;
        struct sock *sk;

        if (dev) {
                s->m.ifindex = dev->ifindex;
                s->m.netns = dev->nd_net.net->ns.inum;
                return;
        }
        s->m.ifindex = 0;
        s->m.netns = 0;
        sk = skb->sk;
        if (sk)
                s->m.netns = sk->__sk_common.skc_net.net->ns.inum;
}

/* The device's index and namespace, and the namespace --netns compares. */
static __always_inline void skbt_read_dev(struct skbt_scratch *s)
{
        struct net_device *dev = s->si.dev;
        struct sock *sk;

        if (dev) {
                s->m.ifindex = BPF_CORE_READ(dev, ifindex);
                s->m.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
                return;
        }
        /* Local output before routing has a socket but no device yet. */
        s->m.ifindex = 0;
        s->m.netns = 0;
        sk = s->si.sk;
        if (sk)
                s->m.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The packet's tracking entry (skbt_track.bpf.h): by skb address, else, for
 * a clone seen for the first time, by its data buffer.  Leaves the track id
 * and the sessions that matched the packet before in scratch, 0 if none.
 */
static __always_inline void skbt_track_lookup(struct skbt_scratch *s, __u64 key, __u64 now,
                                              __u32 sflags)
{
        __u64 head = (__u64)s->si.head;
        __u64 idle = *(volatile __u64 *)&state.track_idle_ns;
        struct skbt_track *t, nt = {};

        *(volatile __u64 *)&s->track_id = 0;
        *(volatile __u64 *)&s->track_sessions = 0;
        skbt_track_alive(s, key, sflags);
        t = bpf_map_lookup_elem(&track, &key);
        if (t) {
                /* Another buffer, or silence: the address was reused by a new
                 * packet after a free we did not see. */
                if ((t->ref && t->ref != head) || (__s64)(now - t->last_ts) > (__s64)idle) {
                        bpf_map_delete_elem(&track, &key);
                        skbt_stat_inc(SKBT_STAT_TRACK_STALE);
                } else {
                        if (!t->ref && head) {
                                /* The new buffer after a REHEAD probe. */
                                t->ref = head;
                                nt.track_id = t->track_id;
                                nt.sessions = t->sessions;
                                nt.ref = key;
                                nt.last_ts = now;
                                bpf_map_update_elem(&track_head, &head, &nt, BPF_ANY);
                        }
                        t->last_ts = now;
                        *(volatile __u64 *)&s->track_id = t->track_id;
                        *(volatile __u64 *)&s->track_sessions = t->sessions;
                        return;
                }
        }
        /* Further along the free path of a packet whose tracking just ended. */
        if ((sflags & SKBT_STAMP_FREE) && s->freed_skb == key &&
            now - s->freed_ts < SKBT_FREE_PATH_NS) {
                *(volatile __u64 *)&s->track_id = s->freed_id;
                *(volatile __u64 *)&s->track_sessions = s->freed_sessions;
                return;
        }
        if (!head)
                return;
        t = bpf_map_lookup_elem(&track_head, &head);
        if (!t)
                return;
        /* Signed: another CPU (a clone's) may have stamped it after our "now". */
        if ((__s64)(now - t->last_ts) > (__s64)idle) {
                bpf_map_delete_elem(&track_head, &head);
                skbt_stat_inc(SKBT_STAT_TRACK_STALE);
                return;
        }
        t->last_ts = now;
        nt.track_id = t->track_id;
        nt.sessions = t->sessions;
        nt.ref = head;
        nt.last_ts = now;
        if (bpf_map_update_elem(&track, &key, &nt, BPF_ANY) < 0) {
                skbt_stat_inc(SKBT_STAT_TRACK_FULL);
                return;
        }
        skbt_stat_inc(SKBT_STAT_TRACK_CLONE);
        *(volatile __u64 *)&s->track_id = nt.track_id;
        *(volatile __u64 *)&s->track_sessions = nt.sessions;
}

/* skbt_track_charge()'s loop state: bpf_loop()'s context is on the stack. */
struct skbt_charge_ctx {
        __u64 want, left, now, interval, burst;
};

/* One session of the quota's loop: the lowest of c->left. */
static long skbt_track_charge_one(__u32 i, void *data)
{
        struct skbt_charge_ctx *c = data;
        __u32 slot;
        struct skbt_track_quota *q;
        __u64 tat;

        if (!c->left)
                return 1;
        slot = skbt_lowest_bit(c->left) & (SKBT_MAX_SESSIONS - 1);
        q = &track_quota[slot];
        tat = q->tat;
        c->left &= c->left - 1;
        if (tat >= c->now + c->burst) {
                c->want &= ~(1ULL << slot);
                __sync_fetch_and_add(&q->refused, 1);
                return 0;
        }
        q->tat = (tat > c->now ? tat : c->now) + c->interval;
        return 0;
}

/*
 * The quota of packets a session may start tracking (skbt_track.bpf.h): of
 * want, the ident sessions that matched a new packet, those that may track it.
 * Through bpf_loop() (Linux 5.17): its callback is verified once, where the
 * verifier walked an open-coded 64-iteration loop iteration by iteration, 12,000
 * instructions of every stamped copy (docs/performance.md, "Verified
 * instructions per stamped copy").  Runs only for a new packet of a session
 * with a tracking limit.
 */
static __always_inline __u64 skbt_track_charge(__u64 want, __u64 now)
{
        struct skbt_charge_ctx c = {
            .want = want,
            .left = want & *(volatile __u64 *)&state.track_limited,
            .now = now,
            .interval = *(volatile __u64 *)&state.track_interval_ns,
            .burst = *(volatile __u64 *)&state.track_burst_ns,
        };

        bpf_loop(SKBT_MAX_SESSIONS, skbt_track_charge_one, &c, 0);
        return c.want;
}

/* Sessions wanting track ids matched the packet: start tracking it, or add them. */
static __always_inline void skbt_track_update(struct skbt_scratch *s, __u64 key, __u64 want,
                                              __u64 now, __u32 sflags)
{
        __u64 head = (__u64)s->si.head;
        __u64 id = *(volatile __u64 *)&s->track_id, ncpu;
        struct skbt_track nt = {}, *t;

        if (!want)
                return;
        if (id) {
                want |= *(volatile __u64 *)&s->track_sessions;
                if (want == *(volatile __u64 *)&s->track_sessions)
                        return;
                t = bpf_map_lookup_elem(&track, &key);
                if (t)
                        t->sessions = want;
                t = head ? bpf_map_lookup_elem(&track_head, &head) : NULL;
                if (t && t->track_id == id)
                        t->sessions = want;
                *(volatile __u64 *)&s->track_sessions = want;
                return;
        }
        /* A packet being freed starts no journey. */
        if (sflags & SKBT_STAMP_FREE)
                return;
        if (want & *(volatile __u64 *)&state.track_limited) {
                want = skbt_track_charge(want, now);
                if (!want)
                        return;
        }
        /* Unique without atomics (which need Linux 5.12): CPU c hands out
         * c+1, c+1+ncpu, c+1+2*ncpu, ... */
        ncpu = *(volatile __u64 *)&state.n_cpus;
        if (!ncpu)
                ncpu = 4096;
        id = s->track_seq * ncpu + bpf_get_smp_processor_id() + 1;
        s->track_seq += 1;
        nt.track_id = id;
        nt.sessions = want;
        nt.ref = head;
        nt.last_ts = now;
        if (bpf_map_update_elem(&track, &key, &nt, BPF_ANY) < 0) {
                skbt_stat_inc(SKBT_STAT_TRACK_FULL);
                return;
        }
        skbt_stat_inc(SKBT_STAT_TRACK_NEW);
        if (head) {
                nt.ref = key;
                bpf_map_update_elem(&track_head, &head, &nt, BPF_ANY);
        }
        *(volatile __u64 *)&s->track_id = id;
        *(volatile __u64 *)&s->track_sessions = want;
}

/*
 * A probe that frees, copies or re-buffers skbs, or shows one alive, fired
 * for one no selected session listens to: the tracking still has to know.
 */
static __always_inline void skbt_track_unselected(struct sk_buff *skb, __u32 sflags, __u32 probe_id)
{
        __u64 key = (__u64)skb, head = 0, id, sessions;
        struct skbt_scratch *s;
        struct skbt_track *t;
        __u32 end = 0, zero = 0;

        if (sflags & SKBT_STAMP_LIVE) {
                s = bpf_map_lookup_elem(&scratch, &zero);
                if (s)
                        skbt_track_alive(s, key, sflags);
                return;
        }
        t = bpf_map_lookup_elem(&track, &key);
        if (!t)
                return;
        id = t->track_id;
        sessions = t->sessions;
        if (sflags & SKBT_STAMP_CLONE)
                skbt_clone_push(id, sessions, probe_id);
        if (!(sflags & (SKBT_STAMP_FREE | SKBT_STAMP_REHEAD)))
                return;
        bpf_probe_read_kernel(&head, sizeof(head), &skb->head);
        if (sflags & SKBT_STAMP_FREE) {
                bpf_probe_read_kernel(&end, sizeof(end), &skb->end);
                skbt_track_release(key, head, end, id);
                s = bpf_map_lookup_elem(&scratch, &zero);
                if (s) {
                        s->freed_skb = key;
                        s->freed_id = id;
                        s->freed_sessions = sessions;
                        s->freed_ts = bpf_ktime_get_ns();
                }
        } else {
                skbt_track_rehead(key, head, id);
        }
}

/*
 * skb->_nfct (conntrack entry | ctinfo), from the copy or with a plain load
 * (see skbt_load_skb()); 0 on kernels built without conntrack.  Read only
 * for records going to --ct sessions.
 */
static __always_inline __u64 skbt_skb_nfct(struct skbt_scratch *s, struct sk_buff *skb,
                                           const bool btf)
{
        if (!bpf_core_field_exists(struct sk_buff, _nfct))
                return 0;
        if (btf)
                return skb->_nfct;
        return SKB_COPY_FIELD(s, unsigned long, _nfct);
}

/*
 * --dump-skb: the whole sk_buff as the kernel's BTF printer writes it, into
 * the record.  Kernels without bpf_snprintf_btf() (before 5.10) leave the
 * call out at load time (the enum value is a CO-RE constant) and say so
 * with -ENOSYS.
 */
static __always_inline void skbt_dump_skb(struct sk_buff *skb, struct skbt_dump *d)
{
        long n = -38; /* -ENOSYS */

        if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_snprintf_btf)) {
                struct btf_ptr p = {
                    .ptr = skb,
                    .type_id = bpf_core_type_id_kernel(struct sk_buff),
                };

                n = bpf_snprintf_btf(d->text, sizeof(d->text), &p, sizeof(p), BTF_F_COMPACT);
        }
        d->want = (__s32)n;
        d->len = n < 0 ? 0 : n >= SKBT_DUMP_MAX ? SKBT_DUMP_MAX - 1 : (__u32)n;
        if (n < 0)
                d->text[0] = 0;
}

/*
 * A VLAN tag the device offloads is not in the packet data but in
 * skb->vlan_all (its tci in the high half): show it when the data had none.
 * Since 6.0 the field is non-zero exactly when a tag is present; kernels
 * with the older vlan_present bit are left as they were.  For the event
 * only: no filter reads it, so it stays out of the verdict cache.
 */
/*
 * The offloaded (hwaccel) VLAN tag is not in the packet's bytes: the skb
 * carries it.  Linux 6.2 (354259fa73e2, "net: remove skb->vlan_present")
 * made its presence vlan_all != 0, in a union with vlan_proto/vlan_tci;
 * before that (6.1 and older), the vlan_present bit says whether vlan_tci
 * holds a tag.
 */
struct sk_buff___vlan_present {
        __u8 vlan_present : 1;
        __u16 vlan_tci;
} __attribute__((preserve_access_index));

static __always_inline void skbt_accel_vlan(struct skbt_scratch *s, struct sk_buff *skb,
                                            const bool btf)
{
        struct sk_buff___vlan_present *old;
        __u32 va;

        if (s->t.flags & SKBT_TUPLE_VLAN)
                return;
        if (bpf_core_field_exists(struct sk_buff___vlan_present, vlan_present)) {
                /* The copy holds the whole sk_buff (skbt_copy_skb()); a BTF-typed skb is
                 * read through a probe read, which a bit-field needs. */
                old = btf ? (struct sk_buff___vlan_present *)skb
                          : (struct sk_buff___vlan_present *)s->skb;
                if (btf ? !BPF_CORE_READ_BITFIELD_PROBED(old, vlan_present)
                        : !BPF_CORE_READ_BITFIELD(old, vlan_present))
                        return;
                va = btf ? BPF_CORE_READ(old, vlan_tci) : old->vlan_tci;
                s->t.vlan_id = (__u16)(va & 0x0fff);
                s->t.flags |= SKBT_TUPLE_VLAN;
                return;
        }
        if (!bpf_core_field_exists(struct sk_buff, vlan_all))
                return;
        va = btf ? skb->vlan_all : SKB_COPY_FIELD(s, __u32, vlan_all);
        if (!va)
                return;
        s->t.vlan_id = (__u16)((va >> 16) & 0x0fff);
        s->t.flags |= SKBT_TUPLE_VLAN;
}

/* A record with room for a stack, field values and packet bytes (common/skbt_record.h). */
#define SKBT_EVENT_BIG SKBT_REC_BIG

/*
 * Copy a part of a big record from scratch with one helper call.  Inlined,
 * these copies (byte by byte where clang knows no alignment: 1,500 bytes)
 * were verified again on each path through the options that reach them,
 * 12-16 times: a fifth of every stamped copy's verification (docs/performance.md,
 * "Verified instructions per stamped copy").  Only records with a stack,
 * fields, packet bytes or conntrack take this path; scratch never faults.
 */
static __always_inline void skbt_rec_copy(void *dst, const void *src, __u32 n)
{
        bpf_probe_read_kernel(dst, n, src);
}

/* The record's device fields from a BTF-typed skb (see skbt_load_skb()). */
static __always_inline void skbt_event_dev_btf(struct skbt_event *e, struct sk_buff *skb)
{
        struct net_device *dev = skb->dev;

        if (!dev) {
                e->ifindex = 0;
                e->netns = 0;
                e->ifname[0] = 0;
                return;
        }
        e->ifindex = dev->ifindex;
        e->netns = dev->nd_net.net->ns.inum;
        bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), dev->name);
        e->flags |= SKBT_EV_HAS_DEV;
}

/*
 * A cached verdict that read a tunnel's inner packet (a --layer filter)
 * holds for this hit only if the inner headers are the same: when they lay
 * past the first copy (compared already), read the second copy again and
 * compare it too (skbt_verdict.bpf.h).
 */
static __always_inline bool skbt_vent_inner(struct skbt_scratch *s, const struct skbt_vent *e)
{
        __u32 more;

        if (!e->inner || !e->more)
                return true;
        more = skbt_read_more(s, &e->tun) - s->hdr_len;
        return skbt_vent_match_more(e, s->hdr + SKBT_HDR_MAX, more);
}

/* A hit's parse from the entry that answered it: the tuple and the tunnel. */
static __always_inline void skbt_vent_load(struct skbt_scratch *s, const struct skbt_vent *e)
{
        __builtin_memcpy(&s->t, &e->t, sizeof(s->t));
        __builtin_memcpy(&s->tun, &e->tun, sizeof(s->tun));
        /* The inner packet the verdict read, else parsed (and copied) for the event. */
        s->inner_done = e->inner;
}

/*
 * How an entry point reads its arguments, for the socket argument stamped
 * next to the probe id (SKBT_STAMP_SK()): a compile-time constant per entry
 * point, so each gets only its own way.
 */
enum skbt_args {
        SKBT_ARGS_NONE,   /* no socket argument (netfilter verdicts) */
        SKBT_ARGS_RAW_TP, /* a u64 array: raw_tp and tp_btf contexts */
        SKBT_ARGS_FENTRY, /* bpf_get_func_arg() */
        SKBT_ARGS_KPROBE, /* registers; the position is in the attach cookie */
        SKBT_ARGS_HOP,    /* fentry's shared body at hop level 0 (+1, +2): the stub's record */
};

/*
 * fentry through a hop (bpf/skbtrace.bpf.c, skbt_fentry_stub): each function's
 * program is a small stub that gates the packet and hands the rest to one
 * shared body over a call the body is attached to.  The stub's side of it, per
 * CPU and nesting level: a stub that interrupts another one's hop (a softirq
 * on a task's send path, an interrupt in a softirq) takes the next level, and
 * each level has its own body program, because a program does not run again
 * on a CPU where it is running (the trampoline's recursion guard).
 */
/* The length the stub passes with its record, plus its level: each body knows its own calls.
 * At most the record's size less the deepest level, so the verifier sees it within the record. */
#define SKBT_HOP_SIZE 24

struct skbt_hop_rec {
        __u64 skb;
        __u64 stamp;
        __u64 sk; /* the function's socket argument, if its stamp names one */
        __u32 drop_reason;
        __u8 flags;
        __u8 done; /* the body ran */
        __u8 pad[2];
};

struct skbt_hop_cpu {
        __u32 depth;
        __u32 pad;
        struct skbt_hop_rec rec[SKBT_HOP_LEVELS];
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct skbt_hop_cpu);
} hop SEC(".maps");

/*
 * Argument pos (0-5) of a kprobe from the registers x86-64 passes them in:
 * di, si, dx, cx, r8, r9.  Read through a helper: clang turns a switch over
 * ctx members into a variable offset into ctx, which the verifier refuses.
 */
static __always_inline __u64 skbt_regs_arg(struct pt_regs *ctx, __u32 pos)
{
        __u64 v = 0;
        __u32 off;

        /* Not a table in .rodata: clang may put a small one in a mergeable section whose
         * BTF offsets the kernel refuses. */
        switch (pos) {
        case 0:
                off = offsetof(struct pt_regs, di);
                break;
        case 1:
                off = offsetof(struct pt_regs, si);
                break;
        case 2:
                off = offsetof(struct pt_regs, dx);
                break;
        case 3:
                off = offsetof(struct pt_regs, cx);
                break;
        case 4:
                off = offsetof(struct pt_regs, r8);
                break;
        case 5:
                off = offsetof(struct pt_regs, r9);
                break;
        default:
                return 0;
        }
        bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + off);
        return v;
}

/*
 * The probe's own struct sock * argument (tcp:tcp_retransmit_skb's sk, a
 * function's first socket parameter), NULL if it has none.  stamp: the
 * entry point's stamp; kprobes read their attach cookie here instead, which
 * on kprobe-multi is a search, so only the hits that need it pay for it.
 */
static __always_inline struct sock *skbt_sk_arg(void *ctx, __u64 stamp, const int args)
{
        __u32 pos;
        __u64 v = 0;

        if (args == SKBT_ARGS_NONE)
                return NULL;
        if (args >= SKBT_ARGS_HOP) {
                struct skbt_hop_cpu *h;
                __u32 zero = 0;

                h = bpf_map_lookup_elem(&hop, &zero);
                return h ? (struct sock *)h->rec[(args - SKBT_ARGS_HOP) % SKBT_HOP_LEVELS].sk
                         : NULL;
        }
        if (args == SKBT_ARGS_KPROBE)
                stamp = bpf_get_attach_cookie(ctx);
        pos = ((__u32)(stamp >> 32) >> SKBT_STAMP_SK_SHIFT) & SKBT_STAMP_SK_MASK;
        if (!pos)
                return NULL;
        pos -= 1;
        if (args == SKBT_ARGS_FENTRY)
                bpf_get_func_arg(ctx, pos, &v);
        else if (args == SKBT_ARGS_KPROBE)
                v = skbt_regs_arg(ctx, pos);
        else /* a probe read: tp_btf's verifier would type a plain load by the prototype */
                bpf_probe_read_kernel(&v, sizeof(v), (__u64 *)ctx + (pos & SKBT_STAMP_SK_MASK));
        return (struct sock *)v;
}

/* An IPv6 socket address that is an IPv4-mapped one (::ffff:a.b.c.d): the packets are IPv4. */
static __always_inline bool skbt_v4mapped(const __u8 *a)
{
        const __u32 *w = (const __u32 *)a;

        return !w[0] && !w[1] && w[2] == bpf_htonl(0xffff);
}

/*
 * A TCP skb whose headers are not built yet (the write and retransmit
 * queues: tcp:tcp_retransmit_skb, tcp_transmit_skb() and the TCP functions
 * before it) has no tuple in its bytes: take its socket's addresses and
 * ports (the sender's: local -> remote) and the flags TCP keeps in the skb's
 * control block, which is TCP's until __tcp_transmit_skb() builds the TCP
 * header (and clears the block for IP): from there to the IP header the
 * flags are read from that header.  The socket is the skb's owner (skb->sk)
 * when it has one, which for a SYN-ACK is the request, not the listener the
 * functions are passed; else the probe's socket argument (write-queue skbs
 * have no owner).
 */
static __always_inline void skbt_sock_tuple(struct skbt_scratch *s, struct sk_buff *skb, void *ctx,
                                            __u64 stamp, const int args, const bool btf)
{
        struct sock *sk = s->si.sk;
        struct skbt_tuple *t = &s->t;
        __u32 th, proto, type;
        __u16 family;
        __u8 state, flags = 0;

        if (!sk)
                sk = skbt_sk_arg(ctx, stamp, args);
        if (!sk)
                return;
        state = BPF_CORE_READ(sk, __sk_common.skc_state);
        /* A listener has no remote end; request and time-wait sockets are TCP's and
         * smaller than a struct sock (no sk_protocol to read). */
        if (state == TCP_LISTEN)
                return;
        if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV) {
                proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
                type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
                if (proto != SKBT_IPPROTO_TCP || type != 1 /* SOCK_STREAM */)
                        return;
        }
        family = BPF_CORE_READ(sk, __sk_common.skc_family);
        if (family == 10 /* AF_INET6 */) {
                bpf_probe_read_kernel(t->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
                bpf_probe_read_kernel(t->daddr, 16, &sk->__sk_common.skc_v6_daddr);
                t->l3 = SKBT_L3_IPV6;
                if (skbt_v4mapped(t->daddr))
                        family = 2;
        }
        if (family == 2 /* AF_INET */) {
                __builtin_memset(t->saddr, 0, sizeof(t->saddr));
                __builtin_memset(t->daddr, 0, sizeof(t->daddr));
                bpf_probe_read_kernel(t->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
                bpf_probe_read_kernel(t->daddr, 4, &sk->__sk_common.skc_daddr);
                t->l3 = SKBT_L3_IPV4;
        } else if (family != 10) {
                return;
        }
        t->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
        t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
        th = btf ? skb->transport_header : SKB_COPY_FIELD(s, __u16, transport_header);
        if (th != SKBT_HDR_UNSET && (__u64)(s->si.data - s->si.head) == th && !s->hdr_l2 &&
            s->hdr_len >= 20) {
                /* The header is built and skb->data points at it: the copy starts there. */
                flags = s->hdr[13];
        } else {
                /* tcp_flags is u8 or u16 by kernel: its low byte has the header's flags. */
                bpf_probe_read_kernel(&flags, 1,
                                      (void *)s->skb_addr +
                                          bpf_core_field_offset(struct sk_buff, cb) +
                                          bpf_core_field_offset(struct tcp_skb_cb, tcp_flags));
        }
        t->tcp_flags = flags;
        t->l4proto = SKBT_IPPROTO_TCP;
        t->flags |= SKBT_TUPLE_L3 | SKBT_TUPLE_L4 | SKBT_TUPLE_SOCK;
}

/*
 * The verdict cache's entry for the key in s->vk (skbt_verdict()): 1 when it
 * answers for this hit, with the verdict in s->verdict (and the parse in s
 * when the event needs it); 0 to decide.  Global, like its store below:
 * verified once per program, where inlined its compares over the header
 * words were verified again on each path into them, and only hits of a
 * session with a pcap filter call them.
 */
__noinline int skbt_vcache_find_g(struct skbt_scratch *s, __u64 active, __u64 seq)
{
        struct skbt_vent *e;
        __u64 m;

        if (!s || skbt_in_template())
                return 0;
        e = &s->vcache[skbt_vslot(s->vk.skb) & (SKBT_VCACHE_SLOTS - 1)];
        if (!skbt_vent_match(e, &s->vk, s->hdr, active) || !skbt_vent_inner(s, e))
                return 0;
        m = e->matched & active;
        /* The parse, for this hit's event (a matching or a followed packet's). */
        if (m || (active & *(volatile __u64 *)&state.ident))
                skbt_vent_load(s, e);
        asm volatile("" ::: "memory");
        /* Unless a probe ran in between on this CPU (an interrupt's packet): it may have
         * rewritten the entry while it was compared. */
        if (*(volatile __u64 *)&s->vseq != seq)
                return 0;
        s->vhits += 1;
        *(volatile __u64 *)&s->verdict = m;
        return 1;
}

/* The verdict just decided for the key in s->vk, into its entry (skbt_verdict()). */
__noinline int skbt_vcache_store_g(struct skbt_scratch *s, __u64 active, __u64 seq)
{
        struct skbt_vent *e;
        __u64 addr;

        if (!s || skbt_in_template())
                return 0;
        addr = s->vk.skb;
        e = &s->vcache[skbt_vslot(addr) & (SKBT_VCACHE_SLOTS - 1)];
        skbt_vent_store(e, &s->vk, s->hdr, &s->t, active, *(volatile __u64 *)&s->matched);
        skbt_vent_store_tun(e, &s->tun, s->inner_done, s->hdr + SKBT_HDR_MAX,
                            s->hdr_all - s->hdr_len);
        /* Valid only if nothing ran in between: a nested run may have written the same slot
         * half-way through ours. */
        *(volatile __u64 *)&e->k.skb = *(volatile __u64 *)&s->vseq == seq ? addr : 0;
        return 0;
}

/*
 * Which live sessions' filters match the packet whose skb fields are in s
 * (s->verdict), for every live session, not only those that selected this
 * probe.  Decided here (parse, prefilter, filters); while a live session has
 * a pcap filter, through the verdict cache (skbt_verdict.bpf.h): found there
 * when nothing the filters read changed since it was decided on this CPU,
 * else decided and stored.  Without pcap filters parsing again is cheaper
 * than the cache's key compare (docs/performance.md, probe cost), so the
 * cache is used only where it saves something: the pcap programs run once
 * per packet instead of at each of its probes.
 */
static __always_inline void skbt_verdict(struct skbt_scratch *s, struct sk_buff *skb, __u64 active,
                                         __u16 eth_proto, const bool btf, void *ctx, __u64 stamp,
                                         const int args)
{
        __u64 seq = *(volatile __u64 *)&s->vseq + 1, addr = *(volatile __u64 *)&s->skb_addr;
        bool cached = active & *(volatile __u64 *)&state.need_cbpf, store = cached;

        *(volatile __u64 *)&s->vseq = seq;
        asm volatile("" ::: "memory");
        s->m.mark = s->si.mark;
        s->m.pid = 0;
        s->m.ifindex = 0;
        s->m.netns = 0;
        /* The device and the process are part of the cache's key while a live filter looks
         * at them (a packet crosses devices and tasks); without the cache, only for the
         * candidates the prefilter leaves. */
        if (cached && (active & *(volatile __u64 *)&state.need_dev)) {
                if (btf)
                        skbt_load_dev(skb, s);
                else
                        skbt_read_dev(s);
        }
        if (cached && (active & *(volatile __u64 *)&state.need_pid))
                s->m.pid = bpf_get_current_pid_tgid() >> 32;
        skbt_read_hdr(s, eth_proto);
        if (cached) {
                s->vk.skb = addr;
                /* Read after state.active (the caller's): a session's bit is set after the
                 * bump. */
                s->vk.gen = *(volatile __u64 *)&state.gen;
                /* The filters are read after gen: the daemon writes a slot's filter before
                 * it bumps gen, so an entry under the new gen holds the new filter's verdict. */
                asm volatile("" ::: "memory");
                s->vk.mark = s->si.mark;
                s->vk.pid = s->m.pid;
                s->vk.ifindex = s->m.ifindex;
                s->vk.netns = s->m.netns;
                s->vk.protocol = s->si.protocol;
                s->vk.hdr_len = (__u16)s->hdr_len;
                s->vk.hdr_l2 = (__u16)s->hdr_l2;
                s->vk.pad = 0;
                if (skbt_vcache_find_g(s, active, seq))
                        return;
                s->vmisses += 1;
        }
        skbt_parse_scratch(s, eth_proto);
        /*
         * No IP header: a TCP skb before its headers may take its socket's tuple, looked at
         * only while a live session may match TCP (a session filtering on another protocol
         * pays this test).  Its verdict is not cached: the same skb has a socket argument at
         * one probe and none at the next.  Not at netfilter's hooks (SKBT_ARGS_NONE): their
         * packets have IP headers, and the evaluators' entry programs stay smaller for the
         * verifier (tests/bpf's kprobe budget).
         */
        if (args != SKBT_ARGS_NONE && !(s->t.flags & SKBT_TUPLE_L3) &&
            (active & prefilter.proto[SKBT_IPPROTO_TCP])) {
                skbt_sock_tuple(s, skb, ctx, stamp, args, btf);
                store = false;
        }

        /* The device and the process, for the candidates that look at them (the cache's
         * key has them already). */
        *(volatile __u64 *)&s->candidates = skbt_prefilter(&s->t, active);
        if (!cached && (*(volatile __u64 *)&s->candidates & *(volatile __u64 *)&state.need_dev)) {
                if (btf)
                        skbt_load_dev(skb, s);
                else
                        skbt_read_dev(s);
        }
        if (!cached && (*(volatile __u64 *)&s->candidates & *(volatile __u64 *)&state.need_pid))
                s->m.pid = bpf_get_current_pid_tgid() >> 32;
        /* Whether to store the verdict, in map memory across the candidates' loop: a register
         * live there (0 or 1 per path) split the loop's states, each walked 64 iterations. */
        *(volatile __u32 *)&s->vstore = store;
        skbt_match_candidates(s, eth_proto);
        if (*(volatile __u32 *)&s->vstore)
                skbt_vcache_store_g(s, active, seq);
        *(volatile __u64 *)&s->verdict = *(volatile __u64 *)&s->matched;
}

/*
 * Every live session filters on the mark and none follows packets (a
 * followed packet's events need its headers whatever its filter says): the
 * mark may decide alone.
 */
static __always_inline bool skbt_mark_decides(__u64 active)
{
        return !(active & ~*(volatile __u64 *)&state.need_mark) &&
               !(active & *(volatile __u64 *)&state.ident);
}

/*
 * With skbt_mark_decides(): mark fails every live session's filter, so no
 * session wants the packet.  In registers, on no scratch: it runs on every
 * hit of a session like ipftrace2's (whose only filter is the mark).
 */
static __always_inline bool skbt_mark_fails_all(__u64 active, __u32 mark)
{
        __u64 left = active;
        __u32 i, slot;

        for (i = 0; i < SKBT_MAX_SESSIONS && left; i++) {
                slot = skbt_lowest_bit(left) & (SKBT_MAX_SESSIONS - 1);
                left &= left - 1;
                if ((mark & state.filters[slot].mark_mask) == state.filters[slot].mark)
                        return false;
        }
        return !left;
}

/*
 * The first look at a hit while sessions are live: when the mark alone
 * decides and no session wants it, the hit returns before anything else it
 * would do (scratch, the sk_buff's copy or loads, the probe's sessions, the
 * attach cookie): the skb's mark costs one plain load on a BTF-typed skb,
 * else a probe read of its 4 bytes, and then a compare per live session.
 * Measured in the VM (docs/performance.md): each instruction of this path
 * counts on every hit of every function.  Counted per CPU (scratch vmarks)
 * only where the daemon asks (skbt_count_gated, SKBTRACED_COUNT_GATED=1, for
 * the tests that watch it decide): set before the object's load, so the
 * verifier removes the count, a map lookup per hit, from every other daemon's
 * programs (the constant's own load stays: one word of .rodata per hit).
 */
const volatile __u32 skbt_count_gated = 0;

static __always_inline bool skbt_mark_gate(struct sk_buff *skb, __u64 active, const bool btf)
{
        struct skbt_scratch *s;
        __u32 zero = 0, mark;

        if (!skb || !skbt_mark_decides(active))
                return false;
        if (btf)
                mark = skb->mark;
        else if (bpf_core_read(&mark, sizeof(mark), &skb->mark))
                return false;
        if (!skbt_mark_fails_all(active, mark))
                return false;
        if (!skbt_count_gated)
                return true;
        s = bpf_map_lookup_elem(&scratch, &zero);
        if (s)
                s->vmarks += 1;
        return true;
}

/*
 * The first thing every entry point does with its skb (at most the stamp and
 * the skb argument before it): no live session, or the mark alone rules the
 * packet out.  True: the hit needs nothing else.  Called in the entry point
 * itself, not in the shared body, so that this path and its return are the
 * first instructions of each copy: the x86 JIT emits a program's epilogue at
 * its first exit instruction, and a body's exit sits at the end of tens of
 * kilobytes of code.  A copy that runs once or twice per packet (each
 * netfilter evaluator has its own, and each tracepoint where the shared
 * tracepoint programs cannot be used) then touches one page of
 * code for a packet no session wants, not two far apart (under qemu TCG each
 * cold page is a TLB refill and a translation block lookup; on hardware the
 * analogue is i-cache and iTLB misses).  The body is then called with
 * gated set, so it does not ask again.
 */
static __always_inline bool skbt_gate_out(struct sk_buff *skb, const bool btf)
{
        __u64 active = *(volatile __u64 *)&state.active;

        return !active || skbt_mark_gate(skb, active, btf);
}

/*
 * Returns 0 from the program with an exit instruction at this point of the
 * code: clang otherwise shares one return block for the whole program and
 * may place it after the body (it did for every tracepoint copy), which puts
 * the epilogue there too (see skbt_gate_out()).  Only in entry points and
 * what is inlined into them.
 */
#define SKBT_EXIT_HERE()                                                                           \
        do {                                                                                       \
                asm volatile("r0 = 0\n\texit" ::: "r0");                                           \
                __builtin_unreachable();                                                           \
        } while (0)

/*
 * The packet's side of a hit, the same at every probe: the skb's fields in
 * scratch and the filters' verdict for the live sessions in active.  NULL
 * when the skb cannot be read.  Callers ask skbt_mark_gate() first.
 */
static __always_inline struct skbt_scratch *skbt_judge(struct sk_buff *skb, __u64 active,
                                                       const bool btf, void *ctx, __u64 stamp,
                                                       const int args)
{
        struct skbt_scratch *s;
        __u32 zero = 0;

        if (!skb)
                return NULL;
        s = bpf_map_lookup_elem(&scratch, &zero);
        if (!s)
                return NULL;
        /* Through map memory: a BTF-typed pointer cannot be stored as a number (see there). */
        *(volatile __u64 *)&s->skb_addr = (__u64)skb;
        *(volatile __u64 *)&s->vactive = active;
        if (btf)
                skbt_load_skb(skb, s);
        else if (skbt_copy_skb(skb, s) < 0)
                return NULL;
        skbt_verdict(s, skb, active, bpf_ntohs(s->si.protocol), btf, ctx, stamp, args);
        return s;
}

/*
 * No live session wants the packet, and none follows packets (--track and
 * aggregate output look at every probe of a tracked packet, and at frees
 * and clones): the hit needs nothing else, not even which probe it is.
 */
static __always_inline bool skbt_unwanted(struct skbt_scratch *s)
{
        return !*(volatile __u64 *)&s->verdict &&
               !(*(volatile __u64 *)&s->vactive & *(volatile __u64 *)&state.ident);
}

/*
 * Returns the mask of sessions the event went to (0 if none).  stamp: the
 * probe id in the low 32 bits, SKBT_STAMP_* above (skbt_probe_id.bpf.h).
 */
/*
 * btf: skb is BTF-typed (tp_btf), its fields are read with plain loads; a
 * compile-time constant, so each entry point gets one flavour of the body.
 * judged: the scratch of an skbt_judge() the entry point made already (the
 * kprobes judge before they read their attach cookie), else NULL.  args:
 * how the entry point reads its socket argument (enum skbt_args).  Every
 * entry point asks skbt_gate_out() (or, kprobes, skbt_mark_gate()) first.
 */
static __always_inline __u64 skbt_handle_flavour(void *ctx, struct sk_buff *skb, __u64 stamp,
                                                 const struct skbt_hit *hit, const bool btf,
                                                 struct skbt_scratch *judged, const int args)
{
        __u64 active, mask, ident, now, want, addr;
        __u32 probe_id = (__u32)stamp, sflags = (__u32)(stamp >> 32);
        struct skbt_scratch *s = judged;
        struct skbt_event *e;
        struct net_device *dev;
        __u16 eth_proto;
        __u8 ev_flags;
        bool want_stack, want_fields, want_snap, want_ct, want_dump;

        active = s ? *(volatile __u64 *)&s->vactive : *(volatile __u64 *)&state.active;
        if (!active)
                return 0;
        if (probe_id >= SKBT_MAX_PROBES)
                return 0;
        /* The check above may be applied by clang to another copy of the value
         * (e.g. a 32-bit truncation of a cookie); bound the index the verifier
         * sees too. */
        asm volatile("%[v] &= 0x1fff" : [v] "+r"(probe_id));
        ident = active & *(volatile __u64 *)&state.ident;
        mask = active & probe_sessions[probe_id];
        if (!skb)
                return 0;
        if (!mask) {
                if (ident && (sflags & SKBT_STAMP_LIFE))
                        skbt_track_unselected(skb, sflags, probe_id);
                return 0;
        }
        if (!s) {
                s = skbt_judge(skb, active, btf, ctx, stamp, args);
                if (!s)
                        return 0;
        }
        addr = *(volatile __u64 *)&s->skb_addr;
        eth_proto = bpf_ntohs(s->si.protocol);
        /*
         * The clock is read only when a time is needed (tracking, an event):
         * in a VM a clock read costs about as much as the rest of a
         * non-matching hit.  A tracked packet reads it here, so its event
         * keeps the time it was looked up at.
         */
        now = 0;

        /*
         * A tracked packet goes to the sessions following it (--track) without
         * their filter: its headers may no longer say what matched.
         */
        *(volatile __u64 *)&s->track_id = 0;
        *(volatile __u64 *)&s->track_sessions = 0;
        if (ident) {
                now = bpf_ktime_get_ns();
                skbt_track_lookup(s, addr, now, sflags);
        }
        mask &= *(volatile __u64 *)&s->verdict |
                (*(volatile __u64 *)&s->track_sessions & *(volatile __u64 *)&state.track);
        /* In map memory for skbt_count_lost() (see there). */
        *(volatile __u64 *)&s->matched = mask;
        want = mask & ident;
        if (want)
                skbt_track_update(s, addr, want, now, sflags);
        /* The packet's life: ends here, or goes on in a copy or a new buffer. */
        if (sflags & (SKBT_STAMP_FREE | SKBT_STAMP_CLONE | SKBT_STAMP_REHEAD) &&
            *(volatile __u64 *)&s->track_id) {
                __u64 id = *(volatile __u64 *)&s->track_id;
                __u64 head = (__u64)s->si.head;

                if (sflags & SKBT_STAMP_CLONE)
                        skbt_clone_push(id, *(volatile __u64 *)&s->track_sessions, probe_id);
                if (sflags & SKBT_STAMP_FREE) {
                        skbt_track_release(addr, head, s->si.end, id);
                        s->freed_skb = addr;
                        s->freed_id = id;
                        s->freed_sessions = *(volatile __u64 *)&s->track_sessions;
                        s->freed_ts = now;
                } else if (sflags & SKBT_STAMP_REHEAD)
                        skbt_track_rehead(addr, head, id);
        }
        if (!mask)
                return 0;
        /* The process for the event (the filters read it only when one looks at it). */
        s->m.pid = bpf_get_current_pid_tgid() >> 32;
        if (!now)
                now = bpf_ktime_get_ns();

        /*
         * Big, with room for the kernel stack and the custom fields (the last
         * bytes), when a session wants either: one size keeps the reservation
         * sizes constants, as the verifier wants them.  Both are gathered in
         * scratch before the reservation and copied into the record: Linux
         * 6.1's verifier loses a record handed to bpf_get_stack(), and a record
         * is best held across no function call.  Each record is NULL-checked
         * exactly once: 6.1 does not know a checked ring-buffer pointer is not
         * NULL, and a second check would give it a path where the record leaks.
         */
        /* A tunnel: the event shows its inner packet, parsed now if no filter needed it
         * (before the record is reserved: it is best held across no call). */
        skbt_inner(s);
        skbt_accel_vlan(s, skb, btf);
        ev_flags = 0;
        if (hit->defer) {
                e = hit->defer;
                e->stack_depth = 0;
                goto fill;
        }
        want_stack = mask & *(volatile __u64 *)&state.stack;
        want_fields = mask & *(volatile __u64 *)&field_sessions;
        want_snap = mask & *(volatile __u64 *)&snap_sessions;
        want_ct = mask & *(volatile __u64 *)&ct_sessions;
        want_dump = mask & *(volatile __u64 *)&dump_sessions;
        if (want_stack || want_fields || want_snap || want_ct || want_dump) {
                long n = 0;

                if (want_stack) {
                        n = bpf_get_stack(ctx, s->stack, sizeof(s->stack), 0);
                        if (n < 0) {
                                skbt_stat_inc(SKBT_STAT_STACK_ERR);
                                n = 0;
                        }
                }
                if (want_fields) {
                        __u64 shinfo = (__u64)s->si.head;

                        if (shinfo)
                                shinfo += s->si.end;
                        skbt_fields_read(addr, shinfo, &s->vals);
                }
                if (want_ct)
                        skbt_ct_read(skbt_skb_nfct(s, skb, btf), &s->ct);
                if (want_dump)
                        e = bpf_ringbuf_reserve(&events, SKBT_REC_DUMP, 0);
                else
                        e = bpf_ringbuf_reserve(&events, SKBT_EVENT_BIG, 0);
                if (!e)
                        goto lost;
                if (want_dump)
                        skbt_dump_skb(skb, (struct skbt_dump *)((void *)e + SKBT_REC_DUMP_OFF));
                if (want_stack)
                        skbt_rec_copy(e + 1, s->stack, sizeof(s->stack));
                if (want_fields) {
                        skbt_rec_copy((void *)e + SKBT_REC_VALS_OFF, &s->vals, sizeof(s->vals));
                        ev_flags |= SKBT_EV_FIELDS;
                }
                if (want_snap) {
                        struct skbt_snap *sn = (void *)e + SKBT_REC_SNAP_OFF;
                        __u32 len = s->hdr_len;

                        sn->len = len > SKBT_SNAP_MAX ? SKBT_SNAP_MAX : len;
                        sn->orig_len = s->hdr_orig;
                        sn->l2 = s->hdr_l2;
                        __builtin_memset(sn->pad, 0, sizeof(sn->pad));
                        /* All of it (a constant size); the daemon uses len bytes. */
                        skbt_rec_copy(sn->data, s->hdr, SKBT_SNAP_MAX);
                        ev_flags |= SKBT_EV_SNAP;
                }
                if (want_ct) {
                        skbt_rec_copy((void *)e + SKBT_REC_CT_OFF, &s->ct, sizeof(s->ct));
                        ev_flags |= SKBT_EV_CT;
                }
                e->stack_depth = (__u8)(n / sizeof(__u64));
        } else {
                e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
                if (!e)
                        goto lost;
                e->stack_depth = 0;
        }
fill:
        e->sessions = mask;
        e->ts = now;
        e->skb = addr;
        e->location = hit->location;
        e->retval = hit->retval;
        e->probe_id = probe_id;
        e->cpu = bpf_get_smp_processor_id();
        e->mark = s->m.mark;
        e->len = s->si.len;
        e->drop_reason = hit->drop_reason;
        e->pid = s->m.pid;
        e->protocol = eth_proto;
        e->flags = hit->flags | ((sflags & SKBT_STAMP_FREE) ? SKBT_EV_FREE : 0) | ev_flags;
        __builtin_memset(e->pad, 0, sizeof(e->pad));
        __builtin_memset(e->pad2, 0, sizeof(e->pad2));
        __builtin_memcpy(&e->tuple, &s->t, sizeof(e->tuple));
        if (s->tun.type != SKBT_TUN_NONE) {
                __builtin_memcpy(&e->tun, &s->tun, sizeof(e->tun));
        } else {
                e->tun.type = SKBT_TUN_NONE;
        }
        e->track_id = *(volatile __u64 *)&s->track_id;
        bpf_get_current_comm(e->comm, sizeof(e->comm));

        if (btf) {
                skbt_event_dev_btf(e, skb);
        } else if ((dev = s->si.dev)) {
                e->ifindex = BPF_CORE_READ(dev, ifindex);
                e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
                /* A fixed-size copy: cheaper than the byte loop of the _str
                 * variant; the name is NUL-terminated within IFNAMSIZ and the
                 * daemon stops there. */
                bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), dev->name);
                e->flags |= SKBT_EV_HAS_DEV;
        } else {
                e->ifindex = 0;
                e->netns = 0;
                e->ifname[0] = 0;
        }
        if (hit->defer)
                return mask;

        /*
         * Waking the daemon costs an irq_work (a self-IPI, expensive in a VM)
         * per record whenever it has caught up, i.e. nearly always when it is
         * fast.  Wake it for the first record after a quiet millisecond (so a
         * lone event is seen at once) or when a lot is waiting; the daemon
         * also polls while sessions are active, for what comes in between.
         */
        if (e->ts - s->last_wakeup >= SKBT_WAKEUP_NS) {
                s->last_wakeup = e->ts;
                bpf_ringbuf_submit(e, 0);
        } else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= SKBT_WAKEUP_BYTES) {
                bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
        } else {
                bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
        }
        skbt_stat_inc(SKBT_STAT_EMITTED);
        return mask;
lost:
        skbt_stat_inc(SKBT_STAT_RB_FULL);
        skbt_count_lost(&s->matched);
        return mask;
}

/*
 * An skb from a probe read or a register (raw_tp, fentry's bpf_get_func_arg(),
 * netfilter verdicts); args: how the entry point reads its socket argument.
 */
static __always_inline __u64 skbt_handle(void *ctx, struct sk_buff *skb, __u64 stamp,
                                         const struct skbt_hit *hit, const int args)
{
        return skbt_handle_flavour(ctx, skb, stamp, hit, false, NULL, args);
}

/* The same, after the entry point's own skbt_judge(skb, ..., false, ...) gave s. */
static __always_inline __u64 skbt_handle_judged(void *ctx, struct sk_buff *skb, __u64 stamp,
                                                const struct skbt_hit *hit, struct skbt_scratch *s)
{
        return skbt_handle_flavour(ctx, skb, stamp, hit, false, s, SKBT_ARGS_NONE);
}

/* An skb the verifier knows the type of: a tp_btf argument. */
static __always_inline __u64 skbt_handle_btf(void *ctx, struct sk_buff *skb, __u64 stamp,
                                             const struct skbt_hit *hit)
{
        return skbt_handle_flavour(ctx, skb, stamp, hit, true, NULL, SKBT_ARGS_RAW_TP);
}

/* Events lost for the sessions in mask, counted under stat too (outside skbt_handle()). */
static __always_inline void skbt_lost_for(__u32 stat, __u64 mask)
{
        struct skbt_scratch *s;
        __u32 zero = 0;

        skbt_stat_inc(stat);
        s = bpf_map_lookup_elem(&scratch, &zero);
        if (s) {
                /* skbt_count_lost() reads the mask from map memory (see there). */
                *(volatile __u64 *)&s->matched = mask;
                skbt_count_lost(&s->matched);
        }
}

/* A record for the sessions in mask found the ring buffer full. */
static __always_inline void skbt_record_lost(__u64 mask)
{
        skbt_lost_for(SKBT_STAT_RB_FULL, mask);
}

/*
 * Return probes (function_graph).  A return cannot be parsed like an entry:
 * by then the skb may be freed (kfree_skb) or rewritten.  So each entry that
 * reached a graph session pushes {entry probe, skb, sessions} on a small
 * per-task stack, and the matching return pops it and reports to the same
 * sessions with the return value.  kretprobes give no arguments at all, so
 * this is also how they learn which skb returned.
 */
/*
 * Frames per task, a power of two.  The stack is the task's, not the packet's:
 * over veth a ping's request is received inside its own __dev_queue_xmit and
 * the reply sent from inside that receive, so with every skb function attached
 * one ping nests 24 (Debian 6.1) and 26 (6.12) calls deep: 16 lost the reply's
 * returns (tests/vm/scenarios.sh, function_graph on every skb function).
 */
#define SKBT_GRAPH_DEPTH 32

/* Frame i is {skb[i], sessions[i], probe_id[i]}: in arrays of their own, 584 bytes a task
 * where frames of 24 bytes would take 776. */
struct skbt_frames {
        __u32 depth;
        __u16 probe_id[SKBT_GRAPH_DEPTH];
        __u64 skb[SKBT_GRAPH_DEPTH];
        __u64 sessions[SKBT_GRAPH_DEPTH];
};

/*
 * A task's frames exist only while it is inside a call a graph session hears
 * the return of: allocated by its outermost push, deleted by the return that
 * empties it.  Not preallocated, so an idle daemon (or one whose sessions are
 * not function_graph) holds none of it: 16,384 tasks' frames preallocated
 * took 10.3 MiB of locked kernel memory from start-up.  Tracing programs may
 * use such maps since Linux 6.1 (its BPF memory allocator); on older kernels
 * the daemon makes it the preallocated LRU hash it was (probes/loader.c).
 * Either way a push that finds no room counts its return as lost.
 */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __uint(max_entries, 16384);
        __type(key, __u64); /* pid_tgid */
        __type(value, struct skbt_frames);
} graph_stack SEC(".maps");

/* Initial value for a task's frames; a global because it is too big for the
 * 512-byte BPF stack.  Never written. */
static const struct skbt_frames graph_frames_zero;

static __always_inline void skbt_graph_push(struct sk_buff *skb, __u32 probe_id, __u64 mask)
{
        __u64 key = bpf_get_current_pid_tgid();
        struct skbt_frames *fr;
        __u32 d, r;

        mask &= *(volatile __u64 *)&state.graph;
        if (!mask || probe_id >= SKBT_MAX_PROBES)
                return;
        /* A frame that no return pops would stay on the task's stack and hide the
         * entries below it from their returns: only for sessions that hear the return. */
        asm volatile("%[v] &= 0x1fff" : [v] "+r"(probe_id));
        r = probe_return[probe_id];
        if (!r)
                return;
        r -= 1;
        asm volatile("%[v] &= 0x1fff" : [v] "+r"(r));
        mask &= probe_sessions[r];
        if (!mask)
                return;
        fr = bpf_map_lookup_elem(&graph_stack, &key);
        if (!fr) {
                /* Full, out of memory, or the map busy on this CPU (a program
                 * nested in another's update): the return goes unreported. */
                bpf_map_update_elem(&graph_stack, &key, &graph_frames_zero, BPF_NOEXIST);
                fr = bpf_map_lookup_elem(&graph_stack, &key);
                if (!fr) {
                        skbt_lost_for(SKBT_STAT_GRAPH_LOST, mask);
                        return;
                }
        }
        d = fr->depth;
        if (d >= SKBT_GRAPH_DEPTH) {
                /* Deeper than we follow: its return is not reported. */
                skbt_lost_for(SKBT_STAT_GRAPH_LOST, mask);
                return;
        }
        d &= SKBT_GRAPH_DEPTH - 1;
        fr->skb[d] = (__u64)skb;
        fr->sessions[d] = mask;
        fr->probe_id[d] = (__u16)probe_id;
        fr->depth = d + 1;
}

_Static_assert(SKBT_GRAPH_DEPTH == 32, "skbt_graph_return() masks depths with 0x1f");

static __always_inline int skbt_graph_return(__u32 ret_id, __u32 entry_id, __s64 retval)
{
        __u64 key = bpf_get_current_pid_tgid(), mask, skb;
        struct skbt_frames *fr;
        struct skbt_event *e;
        __u32 d;

        if (!*(volatile __u64 *)&state.graph)
                return 0;
        fr = bpf_map_lookup_elem(&graph_stack, &key);
        if (!fr)
                return 0;
        /* Our entry is the top frame, or the one below when a nested call's
         * return was missed (e.g. a kretprobe instance limit).  No loop: a
         * loop here gives the verifier identical states per iteration. */
        d = fr->depth;
        if (d == 0 || d > SKBT_GRAPH_DEPTH)
                return 0;
        d -= 1;
        asm volatile("%[v] &= 0x1f" : [v] "+r"(d));
        if (fr->probe_id[d] != entry_id) {
                if (d == 0)
                        return 0;
                d -= 1;
                asm volatile("%[v] &= 0x1f" : [v] "+r"(d));
                if (fr->probe_id[d] != entry_id)
                        return 0;
        }
        mask = fr->sessions[d];
        skb = fr->skb[d];
        fr->depth = d;
        /* Emptied: the task's frames go (read first: a deleted element may be
         * reused at once).  The next outermost push allocates them again. */
        if (d == 0)
                bpf_map_delete_elem(&graph_stack, &key);
        if (ret_id >= SKBT_MAX_PROBES)
                return 0;
        asm volatile("%[v] &= 0x1fff" : [v] "+r"(ret_id));
        mask &= probe_sessions[ret_id] & *(volatile __u64 *)&state.active;
        if (!mask)
                return 0;
        e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (!e) {
                skbt_record_lost(mask);
                return 0;
        }
        __builtin_memset(e, 0, sizeof(*e));
        e->sessions = mask;
        e->ts = bpf_ktime_get_ns();
        e->skb = skb;
        e->retval = retval;
        e->probe_id = ret_id;
        e->cpu = bpf_get_smp_processor_id();
        e->pid = bpf_get_current_pid_tgid() >> 32;
        e->flags = SKBT_EV_RETURN;
        bpf_ringbuf_submit(e, 0);
        skbt_stat_inc(SKBT_STAT_EMITTED);
        return 0;
}

/*
 * A function returned (fexit, kretprobe).  stamp: the return probe's id in
 * the low 32 bits, SKBT_STAMP_* and the entry's id above.  A copy function
 * links the skb it returns to the packet it copied, for every tracking
 * session, whether or not a session selected it.
 */
static __always_inline int skbt_return(__u64 stamp, __s64 retval)
{
        __u32 entry_id = (__u32)(stamp >> (32 + SKBT_STAMP_ENTRY_SHIFT));

        if (((stamp >> 32) & SKBT_STAMP_CLONE) &&
            (*(volatile __u64 *)&state.active & *(volatile __u64 *)&state.ident))
                skbt_clone_pop(entry_id, (__u64)retval);
        return skbt_graph_return((__u32)stamp, entry_id, retval);
}
