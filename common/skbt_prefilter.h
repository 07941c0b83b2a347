/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_prefilter.h - per-field session masks that rule out sessions before their filters run */
#pragma once

/*
 * With many sessions, evaluating every session's filter on every probe hit
 * costs a call per session.  The daemon therefore keeps, next to the
 * filters, tables that map one packet field (hashed into 256 buckets) to
 * the sessions that could match a packet with that value: a session without
 * a filter on the field is in every bucket, a session with one is only in
 * its value's bucket.  ANDing a few table entries leaves a superset of the
 * matching sessions (hash collisions only add candidates), and only those
 * run their filter.  A packet that matches no session usually costs a
 * handful of loads instead of one filter call per session.
 *
 * Included by BPF (vmlinux.h types) and by the daemon (linux/types.h).
 * Lives in the programs' .bss, mmapped by the daemon like struct skbt_state.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SKBT_PF_BUCKETS 256

struct skbt_prefilter {
        __u64 need_l3; /* sessions that need an IP header (l3, proto, address or port) */
        __u64 need_l4; /* sessions that need ports (a port filter) */
        __u64 no_port; /* sessions without an either-port filter */
        __u64 no_addr; /* sessions without an either-address filter */
        __u64 proto[SKBT_PF_BUCKETS]; /* by l4proto: exact, not hashed */
        __u64 sport[SKBT_PF_BUCKETS];
        __u64 dport[SKBT_PF_BUCKETS];
        __u64 port[SKBT_PF_BUCKETS]; /* either-port filters only */
        __u64 saddr[SKBT_PF_BUCKETS];
        __u64 daddr[SKBT_PF_BUCKETS];
        __u64 addr[SKBT_PF_BUCKETS]; /* either-address filters only */
};

/*
 * The bucket index must be visibly bounded for the verifier: clang drops a
 * final "& 0xff" it can prove redundant, and older verifiers (6.1) do not
 * follow bounds through XOR, so in BPF the mask is applied where clang
 * cannot see it.
 */
static inline __u32 skbt_pf_bucket(__u32 x)
{
#ifdef __VMLINUX_H__
        asm volatile("%[v] &= 0xff" : [v] "+r"(x));
        return x;
#else
        return x & (SKBT_PF_BUCKETS - 1);
#endif
}

static inline __u32 skbt_pf_port(__u16 port)
{
        return skbt_pf_bucket((__u32)(port ^ (port >> 8)));
}

/* Addresses as in struct skbt_tuple: IPv4 in the first word, the rest zero. */
static inline __u32 skbt_pf_addr(const __u32 *a)
{
        __u32 x = a[0] ^ a[1] ^ a[2] ^ a[3];

        x ^= x >> 16;
        x ^= x >> 8;
        return skbt_pf_bucket(x);
}
