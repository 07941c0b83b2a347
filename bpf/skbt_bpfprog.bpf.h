/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_bpfprog.bpf.h - tc and XDP programs themselves: which ran on which packet, and its verdict
 */
#pragma once

#include "skbt_nf.bpf.h"

/*
 * fentry and fexit on a tc or XDP program (daemon/probes/attach_bpfprog.c):
 * the kernel hands the tracing program the program's context as the
 * kernel's own type, struct sk_buff (tc) or struct xdp_buff (XDP).  A run
 * is one record, as a netfilter evaluation is (skbt_nf.bpf.h): the packet
 * as the program got it, sent with the program's return value when it
 * returns.  tc runs go through the common body (an skb like any probe's:
 * filters, tracking, conntrack...); XDP runs have no skb yet, so the frame's
 * headers are copied from xdp_buff.data, parsed and filtered here (no
 * verdict cache: the frame has no skb address to key it on).
 */

/* Copy and parse the frame at [data, end) into s; its EtherType (host order), 0 if none. */
static __always_inline __u16 skbt_xdp_frame(struct skbt_scratch *s, __u64 data, __u64 end)
{
        __u32 avail;
        __u16 proto = 0;

        __builtin_memset(&s->t, 0, sizeof(s->t));
        s->hdr_len = 0;
        s->hdr_all = 0;
        s->hdr_l2 = 1;
        s->inner_done = 0;
        s->tun.type = SKBT_TUN_NONE;
        /* A tunnel's inner packet is read from this copy only (skbt_read_more() reads
         * more from an skb's head, which a frame has not). */
        s->hdr_start = 0;
        s->hdr_tail = 0;
        s->hdr_orig = end > data ? (__u32)(end - data) : 0;
        avail = s->hdr_orig;
        if (avail > SKBT_HDR_MAX)
                avail = SKBT_HDR_MAX;
        asm volatile("%[v] &= 0xff" : [v] "+r"(avail));
        if (!avail || avail > SKBT_HDR_MAX ||
            bpf_probe_read_kernel(s->hdr, avail, (void *)data) < 0)
                return 0;
        s->hdr_len = avail;
        s->hdr_all = avail;
        if (avail >= 14)
                proto = skbt_be16(s->hdr + 12);
        skbt_parse_outer(s->hdr, avail, 1, proto, &s->t, &s->tun);
        return proto;
}

/*
 * The sessions that want this XDP run's frame, 0 for none; on a match *ret_s
 * holds its parse, *proto its EtherType and *dev the receiving device.
 */
static __always_inline __u64 skbt_xdp_match(__u32 probe_id, __u64 xdp, struct skbt_scratch **ret_s,
                                            __u16 *proto, __u64 *dev)
{
        __u64 mask = *(volatile __u64 *)&state.active;
        struct skbt_scratch *s;
        __u32 zero = 0;

        if (!mask || probe_id >= SKBT_MAX_PROBES || !xdp)
                return 0;
        asm volatile("%[v] &= 0x1fff" : [v] "+r"(probe_id));
        mask &= probe_sessions[probe_id];
        if (!mask)
                return 0;
        s = bpf_map_lookup_elem(&scratch, &zero);
        if (!s)
                return 0;
        /* A verdict being decided on this CPU (interrupted by this frame) must not be
         * cached: the header copy is ours now (skbt_verdict()). */
        s->vseq += 1;
        *proto = skbt_xdp_frame(s, (__u64)BPF_CORE_READ((struct xdp_buff *)xdp, data),
                                (__u64)BPF_CORE_READ((struct xdp_buff *)xdp, data_end));
        *dev = (__u64)BPF_CORE_READ((struct xdp_buff *)xdp, rxq, dev);
        s->m.mark = 0;
        s->m.pid = bpf_get_current_pid_tgid() >> 32;
        s->m.ifindex = *dev ? BPF_CORE_READ((struct net_device *)*dev, ifindex) : 0;
        s->m.netns = *dev ? BPF_CORE_READ((struct net_device *)*dev, nd_net.net, ns.inum) : 0;
        *(volatile __u64 *)&s->candidates = skbt_prefilter(&s->t, mask);
        *ret_s = s;
        return skbt_match_candidates(s, *proto);
}

static __always_inline int skbt_xdp_enter(__u64 stamp, __u64 xdp)
{
        __u32 probe_id = (__u32)stamp, d = 0;
        struct skbt_scratch *s = NULL;
        struct skbt_nf_frames *fr;
        struct skbt_event *e;
        __u16 proto = 0;
        __u64 mask, dev = 0;

        mask = skbt_xdp_match(probe_id, xdp, &s, &proto, &dev);
        /*
         * As an evaluator's entry does (skbt_nf_enter()): while some task has a frame,
         * every run pushes one, an empty one for a frame no session wants, so that its
         * return (skbt_nf_leave()) pops its own.  An XDP run can be nested in an
         * evaluation on the same task (softirqs run when a netfilter REJECT's ICMP
         * error re-enables them); without its own frame, its return would send that
         * evaluation's record with the XDP verdict.
         */
        if (!mask && skbt_nf_no_frames())
                return 0;
        fr = skbt_nf_push(&d);
        if (!fr || !mask || !s)
                return 0;
        /* The inner packet for the event, if no filter needed it. */
        skbt_inner(s);
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        e = &fr->f[d].ev;
        __builtin_memset(e, 0, sizeof(*e));
        e->sessions = mask;
        e->ts = bpf_ktime_get_ns();
        e->skb = xdp;
        e->probe_id = probe_id;
        e->cpu = bpf_get_smp_processor_id();
        e->len = s->hdr_orig;
        e->pid = s->m.pid;
        e->protocol = proto;
        e->ifindex = s->m.ifindex;
        e->netns = s->m.netns;
        if (dev) {
                bpf_probe_read_kernel(e->ifname, sizeof(e->ifname),
                                      ((struct net_device *)dev)->name);
                e->flags = SKBT_EV_HAS_DEV;
        }
        __builtin_memcpy(&e->tuple, &s->t, sizeof(e->tuple));
        if (s->tun.type != SKBT_TUN_NONE)
                __builtin_memcpy(&e->tun, &s->tun, sizeof(e->tun));
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        __builtin_memset(&fr->f[d].nf, 0, sizeof(fr->f[d].nf));
        fr->f[d].nf.engine = SKBT_NF_XDP;
        return 0;
}

/* fentry on a tc or XDP program: the stamp's high half says which (SKBT_NF_STAMP_ENGINE). */
static __always_inline int skbt_bpfprog_enter(__u64 *ctx, __u64 stamp)
{
        __u64 arg = 0;

        bpf_get_func_arg(ctx, 0, &arg);
        if (SKBT_NF_STAMP_ENGINE(stamp >> 32) == SKBT_NF_XDP)
                return skbt_xdp_enter(stamp, arg);
        return skbt_nf_enter(ctx, stamp, arg, SKBT_NF_ARGS_TC);
}
