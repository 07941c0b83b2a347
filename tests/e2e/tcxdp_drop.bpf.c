// SPDX-License-Identifier: GPL-2.0-only
/* tcxdp_drop.bpf.c - a tc and an XDP program that drop IPv4 ICMP echo requests (e2e tests) */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* UAPI #defines, which vmlinux.h does not carry. */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800

/* An IPv4 ICMP echo request in [data, end): the only packets dropped, so ARP still works. */
static __always_inline int echo_request(void *data, void *end)
{
        struct ethhdr *eth = data;
        struct iphdr *ip = (void *)(eth + 1);
        __u8 *icmp;

        if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
            ip->protocol != IPPROTO_ICMP)
                return 0;
        icmp = (__u8 *)ip + ip->ihl * 4;
        if ((void *)(icmp + 1) > end)
                return 0;
        return icmp[0] == 8;
}

SEC("tc")
int skbt_tc_drop(struct __sk_buff *skb)
{
        void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

        return echo_request(data, end) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("xdp")
int skbt_xdp_drop(struct xdp_md *ctx)
{
        void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

        return echo_request(data, end) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
