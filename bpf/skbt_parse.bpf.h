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

/* Bytes copied from the packet for every hit. */
#define SKBT_HDR_MAX 128
/*
 * Bytes the parser may read: a tunnelled packet whose inner headers lie past
 * the first SKBT_HDR_MAX gets a second copy of the next SKBT_HDR_MAX bytes
 * (only then), into a buffer this big.
 */
#define SKBT_HDR_BUF (2 * SKBT_HDR_MAX)

#define SKBT_ETH_P_IP 0x0800
#define SKBT_ETH_P_IPV6 0x86dd
#define SKBT_ETH_P_8021Q 0x8100
#define SKBT_ETH_P_8021AD 0x88a8
#define SKBT_ETH_P_TEB 0x6558 /* transparent Ethernet bridging: Ethernet in GRE, Geneve */

#define SKBT_IPPROTO_ICMP 1
#define SKBT_IPPROTO_TCP 6
#define SKBT_IPPROTO_UDP 17
#define SKBT_IPPROTO_ICMPV6 58
#define SKBT_IPPROTO_SCTP 132
#define SKBT_IPPROTO_UDPLITE 136
#define SKBT_IPPROTO_IPIP 4
#define SKBT_IPPROTO_IPV6 41
#define SKBT_IPPROTO_GRE 47

#define SKBT_PORT_VXLAN 4789
#define SKBT_PORT_VXLAN_LINUX 8472 /* the Linux vxlan driver's default before IANA's */
#define SKBT_PORT_GENEVE 6081

/*
 * Pointer to n readable bytes at off, or NULL when they were not copied.
 * lim: the bytes the buffer may hold for this parse, a compile-time
 * constant: SKBT_HDR_MAX for the start of the packet itself (one copy:
 * skbt_parse_start() from skbt_parse_outer()), SKBT_HDR_BUF for everything
 * skbt_parse_net() reads (in BPF the global skbt_parse_net_g(), whose offset
 * is unknown to the verifier anyway) and for a tunnel's inner packet (which
 * may lie in a second copy).
 */
SKBT_INLINE const __u8 *skbt_hdr(const __u8 *buf, __u32 lim, __u32 len, __u32 off, __u32 n)
{
        __u64 o = off;

        /*
         * The packet itself: plain tests, which clang folds where it knows the
         * offset (Ethernet and IP at 0 or 14), as every hit of every session
         * runs this parse (docs/performance.md, tunnels: probe cost).
         */
        if (lim == SKBT_HDR_MAX) {
                if (off > SKBT_HDR_MAX - n)
                        return 0;
                if (off + n > len)
                        return 0;
                return buf + off;
        }
        /*
         * The inner packet, from a tunnel's offset: the offset is made opaque,
         * in 64 bits (no zero extension into another register), so that the
         * bound is tested on the register the pointer is computed from:
         * otherwise clang may test another expression of it (off + 22 in a
         * VLAN tag's loop) and add a copy made earlier, whose bounds the
         * verifier did not learn...
         */
        asm volatile("" : "+r"(o));
        if (o > SKBT_HDR_BUF - n)
                return 0;
        if (o + n > len)
                return 0;
        /* ... and the pointer computed after the tests (clang hoists it otherwise). */
        asm volatile("" : "+r"(o));
        return buf + o;
}

SKBT_INLINE __u16 skbt_be16(const __u8 *p)
{
        return (__u16)(((__u16)p[0] << 8) | p[1]);
}

SKBT_INLINE __u32 skbt_be24(const __u8 *p)
{
        return ((__u32)p[0] << 16) | ((__u32)p[1] << 8) | p[2];
}

/*
 * Tunnels: found where the outer packet's headers say so; only noted here
 * (type, id, where the inner packet starts and how), the inner packet is
 * parsed by skbt_parse_inner() once its bytes are in the buffer.  Only the
 * first level: the inner packet's own tunnels are not looked at.
 */
SKBT_INLINE void skbt_tunnel_at(struct skbt_tunnel *tun, __u8 type, __u8 flags, __u32 off, __u32 id)
{
        if (!tun)
                return;
        tun->type = type;
        tun->flags = flags;
        tun->inner_off = (__u16)off;
        tun->id = id;
}

/* UDP at off (header read): VXLAN or Geneve by destination port. */
SKBT_INLINE void skbt_tunnel_udp(const __u8 *buf, __u32 len, __u32 off, __u16 dport,
                                 struct skbt_tunnel *tun)
{
        const __u8 *p;

        /* One compare for the ports below VXLAN's or above Linux's old VXLAN port (most
         * traffic): every hit of every session parses UDP. */
        if (!tun || (__u16)(dport - SKBT_PORT_VXLAN) > SKBT_PORT_VXLAN_LINUX - SKBT_PORT_VXLAN)
                return;
        if (dport == SKBT_PORT_VXLAN || dport == SKBT_PORT_VXLAN_LINUX) {
                /* flags (I bit: a VNI), 3 reserved, VNI (24 bits), 1 reserved */
                p = skbt_hdr(buf, SKBT_HDR_BUF, len, off + 8, 8);
                if (p && (p[0] & 0x08))
                        skbt_tunnel_at(tun, SKBT_TUN_VXLAN, SKBT_TUN_F_ID | SKBT_TUN_F_L2, off + 16,
                                       skbt_be24(p + 4));
        } else if (dport == SKBT_PORT_GENEVE) {
                /* version (2 bits) and options length (6, in 4-byte words), flags,
                 * protocol type, VNI (24 bits), reserved, options */
                __u16 ptype;

                p = skbt_hdr(buf, SKBT_HDR_BUF, len, off + 8, 8);
                if (!p || (p[0] >> 6) != 0)
                        return;
                ptype = skbt_be16(p + 2);
                skbt_tunnel_at(tun, SKBT_TUN_GENEVE,
                               SKBT_TUN_F_ID | (ptype == SKBT_ETH_P_TEB ? SKBT_TUN_F_L2 : 0),
                               off + 16 + (__u32)(p[0] & 0x3f) * 4, skbt_be24(p + 4));
        }
}

/* GRE (version 0) at off: what it carries, and its key. */
SKBT_INLINE void skbt_tunnel_gre(const __u8 *buf, __u32 len, __u32 off, struct skbt_tunnel *tun)
{
        const __u8 *p = skbt_hdr(buf, SKBT_HDR_BUF, len, off, 4);
        __u32 hlen = 4, key = 0;
        __u16 proto;
        __u8 flags = 0;

        /*
         * Without the barrier clang tests !p as the bounds skbt_hdr() tested
         * (it knows they are the same) in a branch of its own, and the
         * verifier, which keeps no relation between two registers, then
         * walks a path where p is NULL into p[1].
         */
        asm volatile("" : "+r"(p));
        if (!p || !tun || (p[1] & 0x07) != 0)
                return;
        proto = skbt_be16(p + 2);
        if (p[0] & 0x80) /* checksum (and reserved) */
                hlen += 4;
        if (p[0] & 0x20) { /* key */
                const __u8 *k = skbt_hdr(buf, SKBT_HDR_BUF, len, off + hlen, 4);

                if (k) {
                        key = ((__u32)skbt_be16(k) << 16) | skbt_be16(k + 2);
                        flags |= SKBT_TUN_F_ID;
                }
                hlen += 4;
        }
        if (p[0] & 0x10) /* sequence number */
                hlen += 4;
        if (proto == SKBT_ETH_P_TEB)
                skbt_tunnel_at(tun, SKBT_TUN_GRETAP, flags | SKBT_TUN_F_L2, off + hlen, key);
        else if (proto == SKBT_ETH_P_IP || proto == SKBT_ETH_P_IPV6)
                skbt_tunnel_at(tun, SKBT_TUN_GRE, flags, off + hlen, key);
}

SKBT_INLINE void skbt_copy_addr(__u8 *dst, const __u8 *src, __u32 n)
{
        __u32 i;

        for (i = 0; i < n; i++)
                dst[i] = src[i];
}

/* Transport header at off: ports, TCP flags, ICMP type/code/id/seq; tunnels in tun if tunnels. */
SKBT_INLINE void skbt_parse_l4(const __u8 *buf, __u32 lim, __u32 len, __u32 off,
                               struct skbt_tuple *t, struct skbt_tunnel *tun, int tunnels)
{
        const __u8 *p;

        switch (t->l4proto) {
        case SKBT_IPPROTO_TCP:
                p = skbt_hdr(buf, lim, len, off, 14);
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
                p = skbt_hdr(buf, lim, len, off, 4);
                if (!p)
                        break;
                t->sport = skbt_be16(p);
                t->dport = skbt_be16(p + 2);
                t->flags |= SKBT_TUPLE_L4;
                if (tunnels && t->l4proto == SKBT_IPPROTO_UDP)
                        skbt_tunnel_udp(buf, len, off, t->dport, tun);
                return;
        case SKBT_IPPROTO_IPIP:
        case SKBT_IPPROTO_IPV6:
                if (tunnels)
                        skbt_tunnel_at(tun, SKBT_TUN_IPIP, 0, off, 0);
                return;
        case SKBT_IPPROTO_GRE:
                if (tunnels)
                        skbt_tunnel_gre(buf, len, off, tun);
                return;
        case SKBT_IPPROTO_ICMP:
        case SKBT_IPPROTO_ICMPV6:
                p = skbt_hdr(buf, lim, len, off, 8);
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

SKBT_INLINE void skbt_parse_ipv4(const __u8 *buf, __u32 lim, __u32 len, __u32 off,
                                 struct skbt_tuple *t, struct skbt_tunnel *tun, int tunnels)
{
        const __u8 *p = skbt_hdr(buf, lim, len, off, 20);
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
        skbt_parse_l4(buf, lim, len, off + ihl, t, tun, tunnels);
}

#define SKBT_IPV6_MAX_EXT 6

SKBT_INLINE void skbt_parse_ipv6(const __u8 *buf, __u32 lim, __u32 len, __u32 off,
                                 struct skbt_tuple *t, struct skbt_tunnel *tun, int tunnels)
{
        const __u8 *p = skbt_hdr(buf, lim, len, off, 40);
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
                e = skbt_hdr(buf, lim, len, off, 8);
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
        skbt_parse_l4(buf, lim, len, off, t, tun, tunnels);
}

/* What skbt_parse_start() found at the network header (kind in the low byte). */
#define SKBT_NET_NONE 0
#define SKBT_NET_IPV4 4
#define SKBT_NET_IPV6 6
/* With kind: note a tunnel in tun (skbt_parse_net()); else tun is not looked at. */
#define SKBT_NET_TUN 0x100

/*
 * The start of the packet at off in buf (len bytes valid): with l2, an
 * Ethernet header (up to two VLAN tags), whose EtherType says what follows;
 * otherwise the network header, whose version nibble decides IPv4 or IPv6.
 * eth_proto (host order, 0 if unknown) is skb->protocol: at an L3 start it
 * must agree with the version nibble, so a stale header offset is not
 * mistaken for a packet.  Returns SKBT_NET_*, with *off where the network
 * header starts.  lim: SKBT_HDR_MAX or SKBT_HDR_BUF (skbt_hdr()).
 */
SKBT_INLINE __u32 skbt_parse_start(const __u8 *buf, __u32 lim, __u32 len, __u32 *off, int l2,
                                   __u16 eth_proto, struct skbt_tuple *t, __u16 *ret_proto)
{
        __u16 proto = eth_proto;
        const __u8 *p;
        int i;

        if (l2) {
                p = skbt_hdr(buf, lim, len, *off, 14);
                if (!p) {
                        t->flags |= SKBT_TUPLE_TRUNCATED;
                        return SKBT_NET_NONE;
                }
                proto = skbt_be16(p + 12);
                *off += 14;
                t->flags |= SKBT_TUPLE_L2;
                for (i = 0; i < 2; i++) {
                        if (proto != SKBT_ETH_P_8021Q && proto != SKBT_ETH_P_8021AD)
                                break;
                        p = skbt_hdr(buf, lim, len, *off, 4);
                        if (!p) {
                                t->flags |= SKBT_TUPLE_TRUNCATED;
                                return SKBT_NET_NONE;
                        }
                        t->vlan_id = skbt_be16(p) & 0x0fff;
                        t->flags |= SKBT_TUPLE_VLAN;
                        proto = skbt_be16(p + 2);
                        *off += 4;
                }
                if (ret_proto)
                        *ret_proto = proto;
                return proto == SKBT_ETH_P_IP     ? SKBT_NET_IPV4
                       : proto == SKBT_ETH_P_IPV6 ? SKBT_NET_IPV6
                                                  : SKBT_NET_NONE;
        }

        p = skbt_hdr(buf, lim, len, *off, 1);
        if (!p) {
                t->flags |= SKBT_TUPLE_TRUNCATED;
                return SKBT_NET_NONE;
        }
        if ((p[0] >> 4) == 4 && (proto == 0 || proto == SKBT_ETH_P_IP)) {
                if (ret_proto)
                        *ret_proto = SKBT_ETH_P_IP;
                return SKBT_NET_IPV4;
        }
        if ((p[0] >> 4) == 6 && (proto == 0 || proto == SKBT_ETH_P_IPV6)) {
                if (ret_proto)
                        *ret_proto = SKBT_ETH_P_IPV6;
                return SKBT_NET_IPV6;
        }
        return SKBT_NET_NONE;
}

/*
 * The network header (kind: skbt_parse_start()'s) at off and what it
 * carries; a tunnel noted in tun if kind has SKBT_NET_TUN.  A flag rather
 * than a NULL tun: the verifier would walk the parse once per kind of
 * pointer, and clang turned the choice into arithmetic on it.
 */
SKBT_INLINE void skbt_parse_net(const __u8 *buf, __u32 lim, __u32 len, __u32 off, __u32 kind,
                                struct skbt_tuple *t, struct skbt_tunnel *tun)
{
        int tunnels = !!(kind & SKBT_NET_TUN);

        if ((kind & 0xff) == SKBT_NET_IPV4)
                skbt_parse_ipv4(buf, lim, len, off, t, tun, tunnels);
        else if ((kind & 0xff) == SKBT_NET_IPV6)
                skbt_parse_ipv6(buf, lim, len, off, t, tun, tunnels);
}

#ifdef SKBT_PARSE_HOST
#define SKBT_PARSE_NET(buf, len, off, kind, t, tun)                                                \
        skbt_parse_net(buf, SKBT_HDR_BUF, len, off, kind, t, tun)
#else
/* The parse's buffer as a global function's argument: its size for the verifier. */
struct skbt_parse_buf {
        __u8 b[SKBT_HDR_BUF];
};

/*
 * skbt_parse_net() as a global function, for the packet and for a tunnel's
 * inner packet: the verifier checks it once per program, from one state (the
 * offset unknown), where inlined it was verified again for each header offset
 * the start tells apart (0, 14, 18, 22: a constant each) and twice over (the
 * outer and the inner parse): 25,000 of every stamped copy's 54,000
 * instructions (docs/performance.md, "Verified instructions per stamped
 * copy").  One call per parse.  buf holds SKBT_HDR_BUF bytes; the packet's
 * own parse passes len <= SKBT_HDR_MAX, so the bounds are the same as with
 * lim SKBT_HDR_MAX.  tun is never NULL (kind says whether to look for a tunnel).
 */
__noinline int skbt_parse_net_g(const struct skbt_parse_buf *buf, __u32 off_len, __u32 kind,
                                struct skbt_tuple *t, struct skbt_tunnel *tun)
{
        __u32 len = off_len & 0xffff, off = off_len >> 16;

        if (!buf || !t || !tun)
                return 0;
        if (len > SKBT_HDR_BUF)
                len = SKBT_HDR_BUF;
        skbt_parse_net(buf->b, SKBT_HDR_BUF, len, off, kind, t, tun);
        return 0;
}

/* At most five arguments: the offset and the length share one (both below 64 KiB). */
#define SKBT_PARSE_NET(buf, len, off, kind, t, tun)                                                \
        skbt_parse_net_g((const struct skbt_parse_buf *)(buf), ((off) << 16) | (len), kind, t, tun)
#endif

/*
 * The packet at the start of buf (len bytes valid, at most SKBT_HDR_MAX; buf
 * holds SKBT_HDR_BUF) and the tunnel around it, if any (tun zeroed first).
 */
SKBT_INLINE void skbt_parse_outer(const __u8 *buf, __u32 len, int l2, __u16 eth_proto,
                                  struct skbt_tuple *t, struct skbt_tunnel *tun)
{
        __u32 off = 0, kind;

        tun->type = SKBT_TUN_NONE;
        tun->flags = 0;
        tun->inner_off = 0;
        tun->id = 0;
        kind = skbt_parse_start(buf, SKBT_HDR_MAX, len, &off, l2, eth_proto, t, 0);
        if (kind != SKBT_NET_NONE)
                SKBT_PARSE_NET(buf, len, off, kind | SKBT_NET_TUN, t, tun);
}

/*
 * The inner packet of a tunnel skbt_parse_outer() found, from the bytes now
 * in buf (len of them: the caller may have copied more since), into
 * tun->inner (zeroed first).  Its own tunnels are not looked for.
 */
SKBT_INLINE void skbt_parse_inner(const __u8 *buf, __u32 len, struct skbt_tunnel *tun)
{
        struct skbt_tuple *t = &tun->inner;
        __u32 off = tun->inner_off, kind;

        __builtin_memset(t, 0, sizeof(*t));
        tun->inner_proto = 0;
        __builtin_memset(tun->pad, 0, sizeof(tun->pad));
        if (tun->type == SKBT_TUN_NONE)
                return;
        kind = skbt_parse_start(buf, SKBT_HDR_BUF, len, &off, tun->flags & SKBT_TUN_F_L2, 0, t,
                                &tun->inner_proto);
        if (kind != SKBT_NET_NONE)
                SKBT_PARSE_NET(buf, len, off, kind, t, tun);
}
