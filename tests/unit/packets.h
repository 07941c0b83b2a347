/* SPDX-License-Identifier: GPL-2.0-only */
/* packets.h - crafted packets and expected parse results, shared by host and BPF tests */
#pragma once

#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "skbt_abi.h"

/*
 * Each case is a packet as the tracing path would copy it: starting at the
 * Ethernet header (l2 = 1) or at the network header (l2 = 0).  The same
 * table drives the host-compiled parser (tests/unit/test_parse_host.c) and
 * the BPF parser through BPF_PROG_TEST_RUN (tests/bpf/test_bpf_parse.c).
 */
/* What a case expects of the inner packet of a tunnel. */
struct pkt_inner {
        uint8_t type, flags; /* struct skbt_tunnel's; type 0: no tunnel expected */
        uint32_t id;
        uint8_t tflags, l3, l4proto; /* the inner tuple's */
        const char *saddr, *daddr;
        uint16_t sport, dport;
        uint8_t icmp_type;
};

struct pkt_case {
        const char *name;
        uint8_t data[256];
        uint32_t len;
        int l2;
        uint16_t eth_proto; /* skb->protocol hint for L3 starts */
        /* expected */
        uint8_t flags;
        uint8_t l3;
        uint8_t l4proto;
        const char *saddr, *daddr;
        uint16_t sport, dport;
        uint8_t icmp_type;
        uint16_t icmp_id, icmp_seq;
        uint8_t tcp_flags;
        uint16_t vlan_id;
        struct pkt_inner in;
};

struct pkt_builder {
        uint8_t *p;
        uint32_t len;
};

static inline void pb_put(struct pkt_builder *b, const void *d, uint32_t n)
{
        memcpy(b->p + b->len, d, n);
        b->len += n;
}

static inline void pb_u8(struct pkt_builder *b, uint8_t v)
{
        pb_put(b, &v, 1);
}

static inline void pb_u16(struct pkt_builder *b, uint16_t v)
{
        uint16_t n = htons(v);

        pb_put(b, &n, 2);
}

static inline void pb_eth(struct pkt_builder *b, uint16_t proto)
{
        static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

        pb_put(b, macs, 12);
        pb_u16(b, proto);
}

static inline void pb_vlan(struct pkt_builder *b, uint16_t id, uint16_t proto)
{
        pb_u16(b, id);
        pb_u16(b, proto);
}

/* IPv4 header with ihl words (5 = no options), frag = fragment offset in 8-byte units. */
static inline void pb_ipv4(struct pkt_builder *b, uint8_t proto, const char *s, const char *d,
                           uint8_t ihl, uint16_t frag)
{
        uint8_t a[4];

        pb_u8(b, (uint8_t)(0x40 | ihl));
        pb_u8(b, 0);
        pb_u16(b, 84);
        pb_u16(b, 0x1234);
        pb_u16(b, frag);
        pb_u8(b, 64);
        pb_u8(b, proto);
        pb_u16(b, 0);
        inet_pton(AF_INET, s, a);
        pb_put(b, a, 4);
        inet_pton(AF_INET, d, a);
        pb_put(b, a, 4);
        for (int i = 5; i < ihl; i++)
                pb_put(b, "\x01\x01\x01\x01", 4); /* NOP options */
}

static inline void pb_ipv6(struct pkt_builder *b, uint8_t next, const char *s, const char *d)
{
        uint8_t a[16];

        pb_put(b, "\x60\x00\x00\x00", 4);
        pb_u16(b, 40);
        pb_u8(b, next);
        pb_u8(b, 64);
        inet_pton(AF_INET6, s, a);
        pb_put(b, a, 16);
        inet_pton(AF_INET6, d, a);
        pb_put(b, a, 16);
}

static inline void pb_ports(struct pkt_builder *b, uint16_t sp, uint16_t dp)
{
        pb_u16(b, sp);
        pb_u16(b, dp);
}

static inline void pb_tcp(struct pkt_builder *b, uint16_t sp, uint16_t dp, uint8_t flags)
{
        pb_ports(b, sp, dp);
        pb_put(b, "\0\0\0\1\0\0\0\0", 8);
        pb_u8(b, 0x50);
        pb_u8(b, flags);
        pb_put(b, "\xff\xff\0\0\0\0", 6);
}

static inline void pb_u32(struct pkt_builder *b, uint32_t v)
{
        uint32_t n = htonl(v);

        pb_put(b, &n, 4);
}

/* VXLAN header: I flag, VNI. */
static inline void pb_vxlan(struct pkt_builder *b, uint32_t vni)
{
        pb_u32(b, 0x08000000);
        pb_u32(b, vni << 8);
}

/* Geneve header with opt_words 4-byte option words (zeros), protocol type, VNI. */
static inline void pb_geneve(struct pkt_builder *b, uint8_t opt_words, uint16_t ptype, uint32_t vni)
{
        pb_u8(b, opt_words & 0x3f);
        pb_u8(b, 0);
        pb_u16(b, ptype);
        pb_u32(b, vni << 8);
        for (int i = 0; i < opt_words; i++)
                pb_u32(b, 0);
}

static inline void pb_icmp(struct pkt_builder *b, uint8_t type, uint16_t id, uint16_t seq)
{
        pb_u8(b, type);
        pb_u8(b, 0);
        pb_u16(b, 0);
        pb_u16(b, id);
        pb_u16(b, seq);
}

/* Fill cases[]; returns the count. */
static inline int build_cases(struct pkt_case *cs)
{
        struct pkt_builder b;
        int n = 0;
        struct pkt_case *c;

#define BEGIN(nm, l2_, hint)                                                                       \
        c = &cs[n++];                                                                              \
        memset(c, 0, sizeof(*c));                                                                  \
        c->name = nm;                                                                              \
        c->l2 = l2_;                                                                               \
        c->eth_proto = hint;                                                                       \
        b = (struct pkt_builder){c->data, 0}
#define END() c->len = b.len

        BEGIN("eth ipv4 icmp echo", 1, 0x0800);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 1, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_icmp(&b, 8, 7, 3);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 1, c->saddr = "10.0.0.1", c->daddr = "10.0.0.2";
        c->icmp_type = 8, c->icmp_id = 7, c->icmp_seq = 3;

        BEGIN("l3 ipv4 tcp syn", 0, 0x0800);
        pb_ipv4(&b, 6, "192.168.1.10", "192.168.1.20", 5, 0);
        pb_tcp(&b, 40000, 80, 0x02);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 6, c->saddr = "192.168.1.10", c->daddr = "192.168.1.20";
        c->sport = 40000, c->dport = 80, c->tcp_flags = 0x02;

        BEGIN("l3 ipv4 options udp", 0, 0x0800);
        pb_ipv4(&b, 17, "10.1.1.1", "10.1.1.2", 8, 0);
        pb_ports(&b, 5353, 53);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 17, c->saddr = "10.1.1.1", c->daddr = "10.1.1.2";
        c->sport = 5353, c->dport = 53;

        BEGIN("eth vlan ipv4 udp", 1, 0x8100);
        pb_eth(&b, 0x8100);
        pb_vlan(&b, 100, 0x0800);
        pb_ipv4(&b, 17, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_ports(&b, 1111, 2222);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_VLAN | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 17, c->saddr = "10.0.0.1", c->daddr = "10.0.0.2";
        c->sport = 1111, c->dport = 2222, c->vlan_id = 100;

        BEGIN("eth qinq ipv6 tcp", 1, 0x88a8);
        pb_eth(&b, 0x88a8);
        pb_vlan(&b, 10, 0x8100);
        pb_vlan(&b, 20, 0x86dd);
        pb_ipv6(&b, 6, "fd00::1", "fd00::2");
        pb_tcp(&b, 443, 50000, 0x12);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_VLAN | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 6, c->saddr = "fd00::1", c->daddr = "fd00::2";
        c->sport = 443, c->dport = 50000, c->tcp_flags = 0x12, c->vlan_id = 20;

        BEGIN("l3 ipv6 icmp6 echo", 0, 0x86dd);
        pb_ipv6(&b, 58, "2001:db8::1", "2001:db8::2");
        pb_icmp(&b, 128, 9, 1);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 58, c->saddr = "2001:db8::1", c->daddr = "2001:db8::2";
        c->icmp_type = 128, c->icmp_id = 9, c->icmp_seq = 1;

        BEGIN("l3 ipv6 hbh+dst ext udp", 0, 0x86dd);
        pb_ipv6(&b, 0, "fd00::a", "fd00::b");
        pb_put(&b, "\x3c\x00\x01\x04\x00\x00\x00\x00", 8); /* hop-by-hop -> dest opts */
        pb_put(&b, "\x11\x00\x01\x04\x00\x00\x00\x00", 8); /* dest opts -> udp */
        pb_ports(&b, 9999, 53);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 17, c->saddr = "fd00::a", c->daddr = "fd00::b";
        c->sport = 9999, c->dport = 53;

        BEGIN("l3 ipv6 first fragment tcp", 0, 0x86dd);
        pb_ipv6(&b, 44, "fd00::a", "fd00::b");
        pb_put(&b, "\x06\x00\x00\x01\x00\x00\x00\x01", 8); /* offset 0, M=1 */
        pb_tcp(&b, 1, 2, 0x10);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 6, c->saddr = "fd00::a", c->daddr = "fd00::b";
        c->sport = 1, c->dport = 2, c->tcp_flags = 0x10;

        BEGIN("l3 ipv6 later fragment", 0, 0x86dd);
        pb_ipv6(&b, 44, "fd00::a", "fd00::b");
        pb_put(&b, "\x11\x00\x00\xa8\x00\x00\x00\x01", 8); /* offset 21*8 */
        pb_put(&b, "garbagegarbage", 14);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_FRAGMENT;
        c->l3 = 6, c->l4proto = 17, c->saddr = "fd00::a", c->daddr = "fd00::b";

        BEGIN("l3 ipv4 later fragment", 0, 0x0800);
        pb_ipv4(&b, 17, "10.0.0.1", "10.0.0.2", 5, 185);
        pb_put(&b, "\x01\x02\x03\x04", 4);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_FRAGMENT;
        c->l3 = 4, c->l4proto = 17, c->saddr = "10.0.0.1", c->daddr = "10.0.0.2";

        BEGIN("l3 ipv4 truncated l4", 0, 0x0800);
        pb_ipv4(&b, 6, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_put(&b, "\x9c\x40\x00", 3);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_TRUNCATED;
        c->l3 = 4, c->l4proto = 6, c->saddr = "10.0.0.1", c->daddr = "10.0.0.2";

        BEGIN("l3 ipv4 truncated ip header", 0, 0x0800);
        pb_put(&b, "\x45\x00\x00\x54\x12\x34\x00\x00\x40\x01", 10);
        END();
        c->flags = SKBT_TUPLE_TRUNCATED;

        BEGIN("eth truncated", 1, 0x0800);
        pb_put(&b, "\x02\x00\x00\x00\x00\x01\x02\x00", 8);
        END();
        c->flags = SKBT_TUPLE_TRUNCATED;

        BEGIN("eth arp", 1, 0x0806);
        pb_eth(&b, 0x0806);
        pb_put(&b, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
        END();
        c->flags = SKBT_TUPLE_L2;

        BEGIN("l3 bad ihl", 0, 0x0800);
        pb_ipv4(&b, 6, "10.0.0.1", "10.0.0.2", 5, 0);
        c->data[0] = 0x43; /* ihl 3 < 5 */
        END();
        c->flags = 0;

        BEGIN("l3 version mismatch with skb->protocol", 0, 0x86dd);
        pb_ipv4(&b, 1, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_icmp(&b, 8, 1, 1);
        END();
        c->flags = 0;

        BEGIN("l3 garbage", 0, 0x0800);
        pb_put(&b,
               "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x00\x11\x22\x33",
               20);
        END();
        c->flags = 0;

        /* GRE carrying IPv4, but nothing of the inner packet copied. */
        BEGIN("l3 ipv4 gre (no l4 decode)", 0, 0x0800);
        pb_ipv4(&b, 47, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_put(&b, "\0\0\x08\0", 4);
        END();
        c->flags = SKBT_TUPLE_L3;
        c->l3 = 4, c->l4proto = 47, c->saddr = "10.0.0.1", c->daddr = "10.0.0.2";
        c->in = (struct pkt_inner){.type = SKBT_TUN_GRE, .tflags = SKBT_TUPLE_TRUNCATED};

        /* Tunnels: the outer tuple as before, the inner packet in the tunnel. */
        BEGIN("eth ipv4 vxlan icmp", 1, 0x0800);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 17, "192.0.2.1", "192.0.2.2", 5, 0);
        pb_ports(&b, 54321, 4789);
        pb_put(&b, "\0\x40\0\0", 4); /* length, checksum */
        pb_vxlan(&b, 42);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 1, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_icmp(&b, 8, 5, 1);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 17, c->saddr = "192.0.2.1", c->daddr = "192.0.2.2";
        c->sport = 54321, c->dport = 4789;
        c->in = (struct pkt_inner){.type = SKBT_TUN_VXLAN,
                                   .flags = SKBT_TUN_F_ID | SKBT_TUN_F_L2,
                                   .id = 42,
                                   .tflags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 1,
                                   .saddr = "10.0.0.1",
                                   .daddr = "10.0.0.2",
                                   .icmp_type = 8};

        BEGIN("l3 ipv4 vxlan 8472 tcp", 0, 0x0800);
        pb_ipv4(&b, 17, "192.0.2.1", "192.0.2.2", 5, 0);
        pb_ports(&b, 40000, 8472);
        pb_put(&b, "\0\x40\0\0", 4);
        pb_vxlan(&b, 0xabcdef);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 6, "10.0.0.1", "10.0.0.2", 5, 0);
        pb_tcp(&b, 1234, 80, 0x02);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 17, c->saddr = "192.0.2.1", c->daddr = "192.0.2.2";
        c->sport = 40000, c->dport = 8472;
        c->in = (struct pkt_inner){.type = SKBT_TUN_VXLAN,
                                   .flags = SKBT_TUN_F_ID | SKBT_TUN_F_L2,
                                   .id = 0xabcdef,
                                   .tflags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 6,
                                   .saddr = "10.0.0.1",
                                   .daddr = "10.0.0.2",
                                   .sport = 1234,
                                   .dport = 80};

        /* No I flag: not VXLAN, whatever the port. */
        BEGIN("l3 ipv4 udp 4789 without vni", 0, 0x0800);
        pb_ipv4(&b, 17, "192.0.2.1", "192.0.2.2", 5, 0);
        pb_ports(&b, 40000, 4789);
        pb_put(&b, "\0\x40\0\0", 4);
        pb_u32(&b, 0);
        pb_u32(&b, 0);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 4, c->l4proto = 17, c->saddr = "192.0.2.1", c->daddr = "192.0.2.2";
        c->sport = 40000, c->dport = 4789;

        /* IPv6 outside, options in Geneve: the inner headers lie past the first copy. */
        BEGIN("eth ipv6 geneve options ipv6 udp", 1, 0x86dd);
        pb_eth(&b, 0x86dd);
        pb_ipv6(&b, 17, "2001:db8::1", "2001:db8::2");
        pb_ports(&b, 33333, 6081);
        pb_put(&b, "\0\x40\0\0", 4);
        pb_geneve(&b, 2, 0x6558, 7);
        pb_eth(&b, 0x86dd);
        pb_ipv6(&b, 17, "fd00::1", "fd00::2");
        pb_ports(&b, 5000, 53);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 17, c->saddr = "2001:db8::1", c->daddr = "2001:db8::2";
        c->sport = 33333, c->dport = 6081;
        c->in = (struct pkt_inner){.type = SKBT_TUN_GENEVE,
                                   .flags = SKBT_TUN_F_ID | SKBT_TUN_F_L2,
                                   .id = 7,
                                   .tflags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 6,
                                   .l4proto = 17,
                                   .saddr = "fd00::1",
                                   .daddr = "fd00::2",
                                   .sport = 5000,
                                   .dport = 53};

        BEGIN("l3 ipv4 gre key ipv4 tcp", 0, 0x0800);
        pb_ipv4(&b, 47, "198.51.100.1", "198.51.100.2", 5, 0);
        pb_put(&b, "\xa0\0\x08\0", 4); /* checksum and key present */
        pb_u32(&b, 0);                 /* checksum, reserved */
        pb_u32(&b, 1001);              /* key */
        pb_ipv4(&b, 6, "10.9.0.1", "10.9.0.2", 5, 0);
        pb_tcp(&b, 2000, 22, 0x10);
        END();
        c->flags = SKBT_TUPLE_L3;
        c->l3 = 4, c->l4proto = 47, c->saddr = "198.51.100.1", c->daddr = "198.51.100.2";
        c->in = (struct pkt_inner){.type = SKBT_TUN_GRE,
                                   .flags = SKBT_TUN_F_ID,
                                   .id = 1001,
                                   .tflags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 6,
                                   .saddr = "10.9.0.1",
                                   .daddr = "10.9.0.2",
                                   .sport = 2000,
                                   .dport = 22};

        BEGIN("eth ipv4 gretap udp", 1, 0x0800);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 47, "198.51.100.1", "198.51.100.2", 5, 0);
        pb_put(&b, "\0\0\x65\x58", 4);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, 17, "10.9.0.1", "10.9.0.2", 5, 0);
        pb_ports(&b, 7, 9);
        END();
        c->flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3;
        c->l3 = 4, c->l4proto = 47, c->saddr = "198.51.100.1", c->daddr = "198.51.100.2";
        c->in = (struct pkt_inner){.type = SKBT_TUN_GRETAP,
                                   .flags = SKBT_TUN_F_L2,
                                   .tflags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 17,
                                   .saddr = "10.9.0.1",
                                   .daddr = "10.9.0.2",
                                   .sport = 7,
                                   .dport = 9};

        BEGIN("l3 ipip icmp", 0, 0x0800);
        pb_ipv4(&b, 4, "198.51.100.1", "198.51.100.2", 5, 0);
        pb_ipv4(&b, 1, "10.8.0.1", "10.8.0.2", 5, 0);
        pb_icmp(&b, 0, 3, 4);
        END();
        c->flags = SKBT_TUPLE_L3;
        c->l3 = 4, c->l4proto = 4, c->saddr = "198.51.100.1", c->daddr = "198.51.100.2";
        c->in = (struct pkt_inner){.type = SKBT_TUN_IPIP,
                                   .tflags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 1,
                                   .saddr = "10.8.0.1",
                                   .daddr = "10.8.0.2"};

        BEGIN("l3 sit ipv6 tcp", 0, 0x0800);
        pb_ipv4(&b, 41, "198.51.100.1", "198.51.100.2", 5, 0);
        pb_ipv6(&b, 6, "2001:db8:1::1", "2001:db8:2::2");
        pb_tcp(&b, 443, 55555, 0x18);
        END();
        c->flags = SKBT_TUPLE_L3;
        c->l3 = 4, c->l4proto = 41, c->saddr = "198.51.100.1", c->daddr = "198.51.100.2";
        c->in = (struct pkt_inner){.type = SKBT_TUN_IPIP,
                                   .tflags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 6,
                                   .l4proto = 6,
                                   .saddr = "2001:db8:1::1",
                                   .daddr = "2001:db8:2::2",
                                   .sport = 443,
                                   .dport = 55555};

        BEGIN("l3 ip6tnl ipv4 udp", 0, 0x86dd);
        pb_ipv6(&b, 4, "2001:db8::a", "2001:db8::b");
        pb_ipv4(&b, 17, "10.7.0.1", "10.7.0.2", 5, 0);
        pb_ports(&b, 68, 67);
        END();
        c->flags = SKBT_TUPLE_L3;
        c->l3 = 6, c->l4proto = 4, c->saddr = "2001:db8::a", c->daddr = "2001:db8::b";
        c->in = (struct pkt_inner){.type = SKBT_TUN_IPIP,
                                   .tflags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4,
                                   .l3 = 4,
                                   .l4proto = 17,
                                   .saddr = "10.7.0.1",
                                   .daddr = "10.7.0.2",
                                   .sport = 68,
                                   .dport = 67};

        BEGIN("l3 ipv6 sctp", 0, 0);
        pb_ipv6(&b, 132, "fd00::1", "fd00::2");
        pb_ports(&b, 3868, 3869);
        pb_put(&b, "\0\0\0\0\0\0\0\0", 8);
        END();
        c->flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        c->l3 = 6, c->l4proto = 132, c->saddr = "fd00::1", c->daddr = "fd00::2";
        c->sport = 3868, c->dport = 3869;
#undef BEGIN
#undef END
        return n;
}

/* Compare a parsed tuple with a case; prints and returns the number of differences. */
static inline int pkt_case_check(const struct pkt_case *c, const struct skbt_tuple *t)
{
        uint8_t a[16] = {0};
        int bad = 0;
        int fam = c->l3 == 6 ? AF_INET6 : AF_INET;
        uint32_t alen = c->l3 == 6 ? 16 : 4;

#define DIFF(field, exp)                                                                           \
        if ((long)(t->field) != (long)(exp)) {                                                     \
                fprintf(stderr, "case '%s': %s = %ld, expected %ld\n", c->name, #field,            \
                        (long)(t->field), (long)(exp));                                            \
                bad++;                                                                             \
        }
        DIFF(flags, c->flags);
        DIFF(l3, c->l3);
        if (c->flags & SKBT_TUPLE_L3) {
                DIFF(l4proto, c->l4proto);
                inet_pton(fam, c->saddr, a);
                if (memcmp(a, t->saddr, alen)) {
                        fprintf(stderr, "case '%s': saddr differs\n", c->name);
                        bad++;
                }
                inet_pton(fam, c->daddr, a);
                if (memcmp(a, t->daddr, alen)) {
                        fprintf(stderr, "case '%s': daddr differs\n", c->name);
                        bad++;
                }
        }
        DIFF(sport, c->sport);
        DIFF(dport, c->dport);
        DIFF(icmp_type, c->icmp_type);
        DIFF(icmp_id, c->icmp_id);
        DIFF(icmp_seq, c->icmp_seq);
        DIFF(tcp_flags, c->tcp_flags);
        DIFF(vlan_id, c->vlan_id);
#undef DIFF
        return bad;
}

/* The same for a tunnel and its inner packet. */
static inline int pkt_inner_check(const struct pkt_case *c, const struct skbt_tunnel *tun)
{
        const struct pkt_inner *e = &c->in;
        const struct skbt_tuple *t = &tun->inner;
        uint8_t a[16] = {0};
        int bad = 0;
        int fam = e->l3 == 6 ? AF_INET6 : AF_INET;
        uint32_t alen = e->l3 == 6 ? 16 : 4;

#define DIFF(what, got, exp)                                                                       \
        if ((long)(got) != (long)(exp)) {                                                          \
                fprintf(stderr, "case '%s': %s = %ld, expected %ld\n", c->name, what, (long)(got), \
                        (long)(exp));                                                              \
                bad++;                                                                             \
        }
        DIFF("tunnel type", tun->type, e->type);
        if (!e->type)
                return bad;
        DIFF("tunnel flags", tun->flags, e->flags);
        DIFF("tunnel id", tun->id, e->id);
        DIFF("inner flags", t->flags, e->tflags);
        DIFF("inner l3", t->l3, e->l3);
        if (e->tflags & SKBT_TUPLE_L3) {
                DIFF("inner l4proto", t->l4proto, e->l4proto);
                inet_pton(fam, e->saddr, a);
                if (memcmp(a, t->saddr, alen)) {
                        fprintf(stderr, "case '%s': inner saddr differs\n", c->name);
                        bad++;
                }
                inet_pton(fam, e->daddr, a);
                if (memcmp(a, t->daddr, alen)) {
                        fprintf(stderr, "case '%s': inner daddr differs\n", c->name);
                        bad++;
                }
        }
        DIFF("inner sport", t->sport, e->sport);
        DIFF("inner dport", t->dport, e->dport);
        DIFF("inner icmp type", t->icmp_type, e->icmp_type);
#undef DIFF
        return bad;
}

/* Filters evaluated against the cases: {case name, filter, expected match}. */
struct filter_case {
        const char *pkt;
        const char *desc;
        struct skbt_filter f;
        uint32_t mark;
        int match;
};

static inline struct skbt_prefix pfx(const char *s, uint8_t plen)
{
        struct skbt_prefix p = {0};

        if (strchr(s, ':')) {
                inet_pton(AF_INET6, s, p.addr);
                p.l3 = 6;
        } else {
                inet_pton(AF_INET, s, p.addr);
                p.l3 = 4;
        }
        p.plen = plen;
        skbt_prefix_fill_mask(&p);
        return p;
}

static inline int build_filter_cases(struct filter_case *fc)
{
        int n = 0;

#define FC(pkt_, desc_, mark_, match_, ...)                                                        \
        fc[n++] = (struct filter_case)                                                             \
        {                                                                                          \
                .pkt = pkt_, .desc = desc_, .mark = mark_, .match = match_, .f = { __VA_ARGS__ }   \
        }
        FC("eth ipv4 icmp echo", "empty filter", 0, 1, .flags = 0);
        FC("eth ipv4 icmp echo", "proto icmp", 0, 1, .flags = SKBT_F_PROTO, .proto = 1);
        FC("eth ipv4 icmp echo", "proto tcp", 0, 0, .flags = SKBT_F_PROTO, .proto = 6);
        FC("eth ipv4 icmp echo", "saddr /24", 0, 1, .flags = SKBT_F_SADDR,
           .saddr = pfx("10.0.0.0", 24));
        FC("eth ipv4 icmp echo", "saddr other", 0, 0, .flags = SKBT_F_SADDR,
           .saddr = pfx("10.0.1.0", 24));
        FC("eth ipv4 icmp echo", "addr matches daddr", 0, 1, .flags = SKBT_F_ADDR,
           .addr = pfx("10.0.0.2", 32));
        FC("eth ipv4 icmp echo", "ipv6 only", 0, 0, .flags = SKBT_F_L3, .l3 = 6);
        FC("eth ipv4 icmp echo", "mark 0x10/0xff, packet 0x110", 0x110, 1, .flags = SKBT_F_MARK,
           .mark = 0x10, .mark_mask = 0xff);
        FC("eth ipv4 icmp echo", "mark 0x10, packet 0x11", 0x11, 0, .flags = SKBT_F_MARK,
           .mark = 0x10, .mark_mask = 0xffffffff);
        FC("eth ipv4 icmp echo", "port filter on icmp", 0, 0, .flags = SKBT_F_PORT, .port = 0);
        FC("l3 ipv4 tcp syn", "dport 80", 0, 1, .flags = SKBT_F_DPORT, .dport = 80);
        FC("l3 ipv4 tcp syn", "sport 80", 0, 0, .flags = SKBT_F_SPORT, .sport = 80);
        FC("l3 ipv4 tcp syn", "port 80 either", 0, 1, .flags = SKBT_F_PORT, .port = 80);
        FC("l3 ipv4 tcp syn", "tcp + daddr + dport", 0, 1,
           .flags = SKBT_F_PROTO | SKBT_F_DADDR | SKBT_F_DPORT, .proto = 6,
           .daddr = pfx("192.168.1.20", 32), .dport = 80);
        FC("l3 ipv4 tcp syn", "tcp + daddr + wrong dport", 0, 0,
           .flags = SKBT_F_PROTO | SKBT_F_DADDR | SKBT_F_DPORT, .proto = 6,
           .daddr = pfx("192.168.1.20", 32), .dport = 81);
        FC("eth qinq ipv6 tcp", "ipv6 saddr /64", 0, 1, .flags = SKBT_F_SADDR,
           .saddr = pfx("fd00::", 64));
        FC("eth qinq ipv6 tcp", "ipv6 saddr /128 other", 0, 0, .flags = SKBT_F_SADDR,
           .saddr = pfx("fd00::2", 128));
        FC("eth qinq ipv6 tcp", "ipv4 prefix on ipv6 packet", 0, 0, .flags = SKBT_F_ADDR,
           .addr = pfx("0.0.0.0", 0));
        FC("l3 ipv6 hbh+dst ext udp", "dport 53 after ext headers", 0, 1,
           .flags = SKBT_F_DPORT | SKBT_F_PROTO, .proto = 17, .dport = 53);
        FC("l3 ipv4 truncated l4", "port filter on truncated", 0, 0, .flags = SKBT_F_PORT,
           .port = 40000);
        FC("l3 ipv4 truncated l4", "addr filter on truncated l4 still matches", 0, 1,
           .flags = SKBT_F_SADDR, .saddr = pfx("10.0.0.1", 32));
        FC("l3 ipv4 truncated ip header", "addr filter on truncated ip", 0, 0, .flags = SKBT_F_ADDR,
           .addr = pfx("0.0.0.0", 0));
        FC("l3 garbage", "proto filter on garbage", 0, 0, .flags = SKBT_F_PROTO, .proto = 0);
        FC("l3 garbage", "mark-only filter on garbage", 7, 1, .flags = SKBT_F_MARK, .mark = 7,
           .mark_mask = 0xffffffff);
        FC("l3 ipv4 later fragment", "dport on later fragment", 0, 0, .flags = SKBT_F_DPORT,
           .dport = 0);
        FC("l3 ipv6 sctp", "sctp sport", 0, 1, .flags = SKBT_F_SPORT, .sport = 3868);
        /* Tunnels: the outer packet unless the filter says (--layer). */
        FC("eth ipv4 vxlan icmp", "outer: inner daddr", 0, 0, .flags = SKBT_F_DADDR,
           .daddr = pfx("10.0.0.2", 32));
        FC("eth ipv4 vxlan icmp", "inner: inner daddr", 0, 1, .flags = SKBT_F_DADDR | SKBT_F_LAYER,
           .layer = SKBT_LAYER_INNER, .daddr = pfx("10.0.0.2", 32));
        FC("eth ipv4 vxlan icmp", "inner: outer daddr", 0, 0, .flags = SKBT_F_DADDR | SKBT_F_LAYER,
           .layer = SKBT_LAYER_INNER, .daddr = pfx("192.0.2.2", 32));
        FC("eth ipv4 vxlan icmp", "either: outer daddr", 0, 1, .flags = SKBT_F_DADDR | SKBT_F_LAYER,
           .layer = SKBT_LAYER_EITHER, .daddr = pfx("192.0.2.2", 32));
        FC("eth ipv4 vxlan icmp", "either: inner proto", 0, 1, .flags = SKBT_F_PROTO | SKBT_F_LAYER,
           .layer = SKBT_LAYER_EITHER, .proto = 1);
        FC("eth ipv4 vxlan icmp", "either: neither", 0, 0, .flags = SKBT_F_PROTO | SKBT_F_LAYER,
           .layer = SKBT_LAYER_EITHER, .proto = 6);
        FC("eth ipv4 vxlan icmp", "inner: proto udp (the outer's)", 0, 0,
           .flags = SKBT_F_PROTO | SKBT_F_LAYER, .layer = SKBT_LAYER_INNER, .proto = 17);
        FC("l3 ipv4 gre key ipv4 tcp", "inner: dport 22", 0, 1,
           .flags = SKBT_F_DPORT | SKBT_F_LAYER, .layer = SKBT_LAYER_INNER, .dport = 22);
        FC("eth ipv6 geneve options ipv6 udp", "inner: ipv6 daddr past the first copy", 0, 1,
           .flags = SKBT_F_DADDR | SKBT_F_LAYER, .layer = SKBT_LAYER_INNER,
           .daddr = pfx("fd00::2", 128));
        /* A packet without a tunnel is its own inner packet. */
        FC("eth ipv4 icmp echo", "inner on a plain packet", 0, 1,
           .flags = SKBT_F_DADDR | SKBT_F_LAYER, .layer = SKBT_LAYER_INNER,
           .daddr = pfx("10.0.0.2", 32));
#undef FC
        return n;
}
