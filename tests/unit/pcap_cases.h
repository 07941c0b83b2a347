/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_cases.h - pcap filter expressions checked against libpcap's own interpreter */
#pragma once

#include <stdint.h>
#include <string.h>

#include "packets.h"
#include "skbt_cbpf.h"

/*
 * Every expression runs on every crafted packet of packets.h; libpcap's
 * pcap_offline_filter() on the frame the interpreter is shown (the copied
 * bytes, behind a synthesized Ethernet header for L3 cases) gives the
 * expected answer.  Each expression must match at least one packet and
 * miss at least one, so that a "match all" or "match nothing" bug shows.
 */
static const char *const pcap_exprs[] = {
    "host 10.0.0.1",
    "src host 10.0.0.1",
    "dst host 10.0.0.2 and icmp",
    "net 10.0.0.0/8",
    "dst net 192.168.0.0/16",
    "not net 10.0.0.0/8",
    "port 80",
    "src port 40000",
    "dst port 53",
    "udp dst port 53",
    "portrange 5000-5400",
    "tcp portrange 70-90",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "ip proto 17",
    "ip6 proto 58",
    "sctp",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[tcpflags] == tcp-syn",
    "icmp[icmptype] == icmp-echo",
    "ip[8] == 64",
    "vlan",
    "vlan 100",
    "vlan and udp",
    "ip6",
    "ip6 host fd00::1",
    "ip6 net 2001:db8::/32",
    "vlan and vlan and tcp port 443",
    "ip6 and ip6[6] == 0",
    "tcp port 80 and host 192.168.1.10",
    "ip and not udp",
    "not ip",
    "arp",
    "ether proto 0x0800",
    "ether dst 02:00:00:00:00:01",
    "ip and ip[6:2] & 0x1fff != 0",
    "udp or icmp or icmp6",
};

/* SKBT_HDR_MAX (bpf/skbt_parse.bpf.h): the header bytes the tracing path copies. */
#define PCAP_CASE_HDR_MAX 128
#define PCAP_FRAME_MAX (14 + PCAP_CASE_HDR_MAX)

/* The frame the interpreter sees for a case: its skb->protocol-like ethertype and bytes. */
static inline uint32_t pcap_case_frame(const struct pkt_case *c, uint8_t *frame, uint32_t *info)
{
        uint32_t len = c->len < PCAP_CASE_HDR_MAX ? c->len : PCAP_CASE_HDR_MAX, n = 0;
        uint16_t proto = c->eth_proto;

        if (!c->l2) {
                /* As the interpreter does when skb->protocol is unset. */
                if (!proto && len > 0)
                        proto = (c->data[0] >> 4) == 4   ? 0x0800
                                : (c->data[0] >> 4) == 6 ? 0x86dd
                                                         : 0;
                memset(frame, 0, 12);
                frame[12] = (uint8_t)(proto >> 8);
                frame[13] = (uint8_t)proto;
                n = 14;
        }
        memcpy(frame + n, c->data, len);
        *info = (len & 0xff) | (c->l2 ? 0x100u : 0) | ((uint32_t)c->eth_proto << 16);
        return n + len;
}

/* libpcap's answer for a frame (pcap_ref.c, apart: pcap/bpf.h and linux/bpf.h clash). */
int pcap_reference(const char *expr, const uint8_t *frame, uint32_t n);
