/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_parse.bpf.h - packet header parser over a scratch copy of the headers */
#pragma once

/*
 * The parser never touches the skb: the caller copies up to SKBT_HDR_MAX
 * bytes of packet headers into a scratch buffer and the parser reads only
 * from there.  That makes it testable three ways with the same code: the
 * tracing programs (bpf_probe_read_kernel into the buffer), a tc wrapper run
 * by BPF_PROG_TEST_RUN (bpf_skb_load_bytes into the buffer), and the host
 * compiler in unit tests (memcpy).  Every read is bounds-checked against both
 * the buffer size (for the verifier) and the bytes actually copied (so a
 * truncated packet yields SKBT_TUPLE_TRUNCATED, never stale bytes).
 *
 * Host builds define SKBT_PARSE_HOST and provide __u8/__u16/__u32.
 */
#include "skbt_abi.h"

#ifdef SKBT_PARSE_HOST
#define SKBT_INLINE static inline
#else
#define SKBT_INLINE static __always_inline
#endif

#define SKBT_HDR_MAX 128

#define SKBT_ETH_P_IP 0x0800
#define SKBT_ETH_P_IPV6 0x86dd
#define SKBT_ETH_P_8021Q 0x8100
#define SKBT_ETH_P_8021AD 0x88a8

#define SKBT_IPPROTO_ICMP 1
#define SKBT_IPPROTO_TCP 6
#define SKBT_IPPROTO_UDP 17
#define SKBT_IPPROTO_ICMPV6 58
#define SKBT_IPPROTO_SCTP 132
#define SKBT_IPPROTO_UDPLITE 136

/* Pointer to n readable bytes at off, or NULL when they were not copied. */
SKBT_INLINE const __u8 *skbt_hdr(const __u8 *buf, __u32 len, __u32 off, __u32 n)
{
        if (off > SKBT_HDR_MAX - n)
                return 0;
        if (off + n > len)
                return 0;
        return buf + off;
}

SKBT_INLINE __u16 skbt_be16(const __u8 *p)
{
        return (__u16)(((__u16)p[0] << 8) | p[1]);
}

SKBT_INLINE void skbt_copy_addr(__u8 *dst, const __u8 *src, __u32 n)
{
        __u32 i;

        for (i = 0; i < n; i++)
                dst[i] = src[i];
}

/* Transport header at off: ports, TCP flags, ICMP type/code/id/seq. */
SKBT_INLINE void skbt_parse_l4(const __u8 *buf, __u32 len, __u32 off, struct skbt_tuple *t)
{
        const __u8 *p;

        switch (t->l4proto) {
        case SKBT_IPPROTO_TCP:
                p = skbt_hdr(buf, len, off, 14);
                if (!p)
                        break;
                t->sport = skbt_be16(p);
                t->dport = skbt_be16(p + 2);
                t->tcp_flags = p[13];
                t->flags |= SKBT_TUPLE_L4;
                return;
        case SKBT_IPPROTO_UDP:
        case SKBT_IPPROTO_UDPLITE:
        case SKBT_IPPROTO_SCTP:
                p = skbt_hdr(buf, len, off, 4);
                if (!p)
                        break;
                t->sport = skbt_be16(p);
                t->dport = skbt_be16(p + 2);
                t->flags |= SKBT_TUPLE_L4;
                return;
        case SKBT_IPPROTO_ICMP:
        case SKBT_IPPROTO_ICMPV6:
                p = skbt_hdr(buf, len, off, 8);
                if (!p)
                        break;
                t->icmp_type = p[0];
                t->icmp_code = p[1];
                t->icmp_id = skbt_be16(p + 4);
                t->icmp_seq = skbt_be16(p + 6);
                t->flags |= SKBT_TUPLE_L4;
                return;
        default:
                /* Other protocols have no header we decode; not truncated. */
                return;
        }
        t->flags |= SKBT_TUPLE_TRUNCATED;
}

SKBT_INLINE void skbt_parse_ipv4(const __u8 *buf, __u32 len, __u32 off, struct skbt_tuple *t)
{
        const __u8 *p = skbt_hdr(buf, len, off, 20);
        __u32 ihl;

        if (!p) {
                t->flags |= SKBT_TUPLE_TRUNCATED;
                return;
        }
        if ((p[0] >> 4) != 4)
                return;
        ihl = (__u32)(p[0] & 0xf) * 4;
        if (ihl < 20)
                return;
        t->l3 = SKBT_L3_IPV4;
        t->l4proto = p[9];
        skbt_copy_addr(t->saddr, p + 12, 4);
        skbt_copy_addr(t->daddr, p + 16, 4);
        t->flags |= SKBT_TUPLE_L3;
        /* A non-first fragment carries no transport header. */
        if (skbt_be16(p + 6) & 0x1fff) {
                t->flags |= SKBT_TUPLE_FRAGMENT;
                return;
        }
        skbt_parse_l4(buf, len, off + ihl, t);
}

#define SKBT_IPV6_MAX_EXT 6

SKBT_INLINE void skbt_parse_ipv6(const __u8 *buf, __u32 len, __u32 off, struct skbt_tuple *t)
{
        const __u8 *p = skbt_hdr(buf, len, off, 40);
        __u8 next;
        int i;

        if (!p) {
                t->flags |= SKBT_TUPLE_TRUNCATED;
                return;
        }
        if ((p[0] >> 4) != 6)
                return;
        t->l3 = SKBT_L3_IPV6;
        next = p[6];
        skbt_copy_addr(t->saddr, p + 8, 16);
        skbt_copy_addr(t->daddr, p + 24, 16);
        t->flags |= SKBT_TUPLE_L3;
        off += 40;

        /* Skip the extension headers that commonly precede the transport. */
        for (i = 0; i < SKBT_IPV6_MAX_EXT; i++) {
                const __u8 *e;

                if (next != 0 && next != 43 && next != 60 && next != 44 && next != 51)
                        break;
                e = skbt_hdr(buf, len, off, 8);
                if (!e) {
                        t->l4proto = next;
                        t->flags |= SKBT_TUPLE_TRUNCATED;
                        return;
                }
                if (next == 44) {
                        /* Fragment header: only the first fragment has L4. */
                        if (skbt_be16(e + 2) & 0xfff8) {
                                t->l4proto = e[0];
                                t->flags |= SKBT_TUPLE_FRAGMENT;
                                return;
                        }
                        off += 8;
                } else if (next == 51) {
                        off += ((__u32)e[1] + 2) * 4;
                } else {
                        off += ((__u32)e[1] + 1) * 8;
                }
                next = e[0];
        }
        t->l4proto = next;
        skbt_parse_l4(buf, len, off, t);
}

/*
 * Parse len bytes at buf.  With l2 set, buf starts at an Ethernet header
 * (up to two VLAN tags); otherwise at the network header, whose version
 * nibble decides IPv4 or IPv6.  eth_proto (host order, 0 if unknown) is
 * skb->protocol: at an L3 start it must agree with the version nibble, so a
 * stale header offset is not mistaken for a packet.
 */
SKBT_INLINE void skbt_parse(const __u8 *buf, __u32 len, int l2, __u16 eth_proto,
                            struct skbt_tuple *t)
{
        __u32 off = 0;
        __u16 proto = eth_proto;
        const __u8 *p;
        int i;

        if (l2) {
                p = skbt_hdr(buf, len, 0, 14);
                if (!p) {
                        t->flags |= SKBT_TUPLE_TRUNCATED;
                        return;
                }
                proto = skbt_be16(p + 12);
                off = 14;
                t->flags |= SKBT_TUPLE_L2;
                for (i = 0; i < 2; i++) {
                        if (proto != SKBT_ETH_P_8021Q && proto != SKBT_ETH_P_8021AD)
                                break;
                        p = skbt_hdr(buf, len, off, 4);
                        if (!p) {
                                t->flags |= SKBT_TUPLE_TRUNCATED;
                                return;
                        }
                        t->vlan_id = skbt_be16(p) & 0x0fff;
                        t->flags |= SKBT_TUPLE_VLAN;
                        proto = skbt_be16(p + 2);
                        off += 4;
                }
                if (proto == SKBT_ETH_P_IP)
                        skbt_parse_ipv4(buf, len, off, t);
                else if (proto == SKBT_ETH_P_IPV6)
                        skbt_parse_ipv6(buf, len, off, t);
                return;
        }

        p = skbt_hdr(buf, len, 0, 1);
        if (!p) {
                t->flags |= SKBT_TUPLE_TRUNCATED;
                return;
        }
        if ((p[0] >> 4) == 4 && (proto == 0 || proto == SKBT_ETH_P_IP))
                skbt_parse_ipv4(buf, len, 0, t);
        else if ((p[0] >> 4) == 6 && (proto == 0 || proto == SKBT_ETH_P_IPV6))
                skbt_parse_ipv6(buf, len, 0, t);
}
