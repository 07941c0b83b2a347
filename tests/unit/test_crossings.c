/* SPDX-License-Identifier: GPL-2.0-only */
/* test_crossings.c - -o crossings: a line per (netns, interface) entered, per packet */
#include <stdio.h>
#include <string.h>

#include "../../client/crossings.h"
#include "testlib.h"

static struct crossings x;

static void feed(const char *json, struct strbuf *out)
{
        crossings_event(&x, json, strlen(json), out);
}

#define EV(fn, id, netns, ifi, ifname, extra)                                                      \
        "{\"packet_id\":\"" id "\",\"function\":\"" fn "\",\"ifindex\":" #ifi                      \
        ",\"ifname\":\"" ifname "\",\"netns\":" #netns extra "}"
#define ICMP_REQ                                                                                   \
        ",\"tuple\":{\"l3\":\"ipv4\",\"proto\":\"icmp\",\"saddr\":\"10.0.0.1\",\"daddr\":"         \
        "\"10.0.0.2\",\"sport\":0,\"dport\":0},\"icmp\":{\"type\":8,\"code\":0}"
#define TCP_SYN                                                                                    \
        ",\"tuple\":{\"l3\":\"ipv6\",\"proto\":\"tcp\",\"saddr\":\"fd00::1\",\"daddr\":"           \
        "\"fd00::2\",\"sport\":40000,\"dport\":80,\"tcp_flags\":\"S\"}"

int main(void)
{
        struct strbuf out = STRBUF_INIT;

        crossings_init(&x, -1);
        feed(EV("net:net_dev_queue", "0xffff1", 100, 2, "va", ICMP_REQ), &out);
        /* Same place again: no line. */
        feed(EV("net:net_dev_start_xmit", "0xffff1", 100, 2, "va", ICMP_REQ), &out);
        feed(EV("net:netif_rx", "0xffff1", 200, 3, "vb", ICMP_REQ), &out);
        /* No device: nothing to say. */
        feed(EV("tcp:tcp_probe", "0xffff1", 0, 0, "", ICMP_REQ), &out);
        /* Freed: the address is another packet next time. */
        feed(EV("skb:consume_skb", "0xffff1", 200, 3, "vb", ICMP_REQ), &out);
        feed(EV("net:netif_rx", "0xffff1", 200, 3, "vb", TCP_SYN), &out);
        /* A track id wins over the skb address. */
        feed(EV("net:netif_rx", "0xffff2", 200, 3, "vb", ",\"track_id\":7" TCP_SYN), &out);
        feed(EV("net:netif_rx", "0xffff3", 200, 3, "vb", ",\"track_id\":7" TCP_SYN), &out);
        feed("not json", &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data,
                    "[       100] va               request 10.0.0.1 -> 10.0.0.2  "
                    "(net:net_dev_queue)\n"
                    "[       200] vb               request 10.0.0.1 -> 10.0.0.2  (net:netif_rx)\n"
                    "[       200] vb               TCP [S] [fd00::1]:40000 -> [fd00::2]:80  "
                    "(net:netif_rx)\n"
                    "[       200] vb               TCP [S] [fd00::1]:40000 -> [fd00::2]:80  "
                    "(net:netif_rx)\n");
        CHECK(x.lines == 4);

        /* Verdicts join their packet's line, even after another packet's line... */
        strbuf_reset(&out);
        crossings_done(&x);
        crossings_init(&x, -1);
#define NF(t, c, v) ",\"netfilter\":{\"table\":\"" t "\",\"chain\":\"" c "\",\"verdict\":\"" v "\"}"
        feed(EV("ip_rcv", "0xa1", 300, 4, "eth0", ICMP_REQ), &out);
        feed(EV("ip_rcv", "0xa2", 300, 5, "eth1", TCP_SYN), &out);
        feed(
            EV("nf:ipt_do_table", "0xa1", 300, 4, "eth0", ICMP_REQ NF("filter", "INPUT", "ACCEPT")),
            &out);
        feed(EV("nf:nft_do_chain", "0xa1", 300, 4, "eth0", ICMP_REQ NF("t", "in", "DROP")), &out);
        /* ...not a drop they explain... */
        feed(EV("skb:kfree_skb", "0xa1", 300, 4, "eth0",
                ICMP_REQ NF("t", "in", "DROP") ",\"drop_reason\":\"NETFILTER_DROP\""),
             &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data,
                    "[       300] eth0             request 10.0.0.1 -> 10.0.0.2  (ip_rcv) "
                    "filter.INPUT:ACCEPT t.in:DROP\n"
                    "[       300] eth1             TCP [S] [fd00::1]:40000 -> "
                    "[fd00::2]:80  (ip_rcv)\n");
        /* ...and a line of their own once the packet's line was written. */
        strbuf_reset(&out);
        x.batch++;
        feed(EV("nf:nft_do_chain", "0xa2", 300, 5, "eth1", TCP_SYN NF("t", "in", "ACCEPT")), &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data, "[       300] eth1             t.in:ACCEPT  (nf:nft_do_chain)\n");
        /* The rule that decided (--nf-rules). */
        strbuf_reset(&out);
        feed(EV("nf:nft_do_chain", "0xa2", 300, 5, "eth1",
                TCP_SYN ",\"netfilter\":{\"table\":\"t\",\"chain\":\"in\",\"verdict\":\"DROP\","
                        "\"rule\":{\"handle\":4,\"position\":2,\"chain\":\"in\"}}"),
             &out);
        feed(EV("nf:nft_do_chain", "0xa2", 300, 5, "eth1",
                TCP_SYN ",\"netfilter\":{\"table\":\"t\",\"chain\":\"in\",\"verdict\":\"ACCEPT\","
                        "\"rule\":{\"policy\":true}}"),
             &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data,
                    "[       300] eth1             t.in:DROP(rule 4)  (nf:nft_do_chain)\n"
                    "[       300] eth1             t.in:ACCEPT(policy)  (nf:nft_do_chain)\n");

        /* A tunnel: the outer packet, then the tunnel and its inner packet. */
        strbuf_reset(&out);
        feed(EV("net:net_dev_queue", "0xc1", 500, 7, "veth0",
                ",\"tuple\":{\"l3\":\"ipv4\",\"proto\":\"udp\",\"saddr\":\"192.0.2.1\","
                "\"daddr\":\"192.0.2.2\",\"sport\":40000,\"dport\":4789},\"tunnel\":{\"type\":"
                "\"vxlan\",\"vni\":42,\"inner\":{\"l3\":\"ipv4\",\"proto\":\"icmp\",\"saddr\":"
                "\"10.0.0.1\",\"daddr\":\"10.0.0.2\",\"sport\":0,\"dport\":0},\"inner_icmp\":"
                "{\"type\":8,\"code\":0}}"),
             &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data, "[       500] veth0            UDP 192.0.2.1:40000 -> 192.0.2.2:4789 "
                              "vxlan 42 {request 10.0.0.1 -> 10.0.0.2}  (net:net_dev_queue)\n");

        /* Named namespaces (ip netns) show the name before the inode; no escapes pass. */
        strbuf_reset(&out);
        feed(EV("net:netif_rx", "0xb1", 400, 6, "vc", ",\"netns_name\":\"blue\"" ICMP_REQ), &out);
        feed(EV("net:netif_rx", "0xb2", 401, 6, "vc", ",\"netns_name\":\"r\\u001bd\"" ICMP_REQ),
             &out);
        strbuf_putc(&out, '\0');
        CHECK_STREQ(out.data, "[blue:400] vc               request 10.0.0.1 -> 10.0.0.2  "
                              "(net:netif_rx)\n"
                              "[r?d:401] vc               request 10.0.0.1 -> 10.0.0.2  "
                              "(net:netif_rx)\n");
        strbuf_done(&out);
        crossings_done(&x);
        return TEST_DONE();
}
