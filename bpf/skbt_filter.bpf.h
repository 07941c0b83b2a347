/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_filter.bpf.h - evaluate one session's filter on a parsed packet */
#pragma once

#include "skbt_parse.bpf.h"

/* Branch-free: four masked 32-bit compares (IPv4 uses the first word only;
 * its other mask words are zero). */
SKBT_INLINE int skbt_prefix_match(const struct skbt_prefix *p, const struct skbt_tuple *t,
                                  const __u8 *addr)
{
        const __u32 *a = (const __u32 *)addr, *m = (const __u32 *)p->mask;
        const __u32 *want = (const __u32 *)p->addr;
        __u32 diff = ((a[0] & m[0]) ^ want[0]) | ((a[1] & m[1]) ^ want[1]) |
                     ((a[2] & m[2]) ^ want[2]) | ((a[3] & m[3]) ^ want[3]);

        return p->l3 == t->l3 && diff == 0;
}

/*
 * 1 when the packet matches every member set in f.  Address and port
 * filters require the headers to have been parsed: a packet we could not
 * parse is never reported as matching them.
 */
SKBT_INLINE int skbt_filter_match(const struct skbt_filter *f, const struct skbt_tuple *t,
                                  __u32 mark)
{
        __u32 flags = f->flags;

        if (!flags)
                return 1;
        if ((flags & SKBT_F_MARK) && (mark & f->mark_mask) != f->mark)
                return 0;
        if (flags & (SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR | SKBT_F_ADDR)) {
                if (!(t->flags & SKBT_TUPLE_L3))
                        return 0;
                if ((flags & SKBT_F_L3) && t->l3 != f->l3)
                        return 0;
                if ((flags & SKBT_F_PROTO) && t->l4proto != f->proto)
                        return 0;
                if ((flags & SKBT_F_SADDR) && !skbt_prefix_match(&f->saddr, t, t->saddr))
                        return 0;
                if ((flags & SKBT_F_DADDR) && !skbt_prefix_match(&f->daddr, t, t->daddr))
                        return 0;
                if ((flags & SKBT_F_ADDR) && !skbt_prefix_match(&f->addr, t, t->saddr) &&
                    !skbt_prefix_match(&f->addr, t, t->daddr))
                        return 0;
        }
        if (flags & (SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT)) {
                if (!(t->flags & SKBT_TUPLE_L4))
                        return 0;
                if (t->l4proto != SKBT_IPPROTO_TCP && t->l4proto != SKBT_IPPROTO_UDP &&
                    t->l4proto != SKBT_IPPROTO_SCTP && t->l4proto != SKBT_IPPROTO_UDPLITE)
                        return 0;
                if ((flags & SKBT_F_SPORT) && t->sport != f->sport)
                        return 0;
                if ((flags & SKBT_F_DPORT) && t->dport != f->dport)
                        return 0;
                if ((flags & SKBT_F_PORT) && t->sport != f->port && t->dport != f->port)
                        return 0;
        }
        return 1;
}

/*
 * The same on the packet a session looks at (--layer): the outer one, the
 * inner one of a tunnel (a packet without a tunnel is its own inner packet),
 * or either.
 */
SKBT_INLINE int skbt_filter_match_layer(const struct skbt_filter *f, const struct skbt_tuple *t,
                                        const struct skbt_tunnel *tun, __u32 mark)
{
        __u32 layer = (f->flags & SKBT_F_LAYER) ? f->layer : SKBT_LAYER_OUTER;

        if (layer == SKBT_LAYER_OUTER || tun->type == SKBT_TUN_NONE)
                return skbt_filter_match(f, t, mark);
        if (layer == SKBT_LAYER_EITHER && skbt_filter_match(f, t, mark))
                return 1;
        return skbt_filter_match(f, &tun->inner, mark);
}

/*
 * The members about where the packet is and who handles it: the process
 * context of the probe hit, the device and its network namespace.  A packet
 * without a device matches no --ifname filter.
 */
SKBT_INLINE int skbt_meta_match(const struct skbt_filter *f, __u32 pid, __u32 ifindex, __u32 netns)
{
        __u32 flags = f->flags;

        if ((flags & SKBT_F_PID) && pid != f->pid)
                return 0;
        if ((flags & SKBT_F_NETNS) && netns != f->netns)
                return 0;
        if ((flags & SKBT_F_IFINDEX) && ifindex != f->ifindex)
                return 0;
        return 1;
}
