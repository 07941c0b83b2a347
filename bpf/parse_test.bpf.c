// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* parse_test.bpf.c - run the tracing parser + filter on a test packet (BPF_PROG_TEST_RUN) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "skbt_filter.bpf.h"
#include "skbt_cbpf.bpf.h"
#include "skbt_inner.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Inputs and outputs live in .bss/.data so the test can set them through the
 * skeleton.  The program fills the same kind of scratch buffer the tracing
 * path fills (here with bpf_skb_load_bytes from the test packet, which starts
 * at the Ethernet header) and runs the same parser and filter.
 */
struct skbt_filter test_filter SEC(".bss");
__u32 test_mark SEC(".bss");
__u32 test_l3_offset SEC(".bss"); /* 0: parse from L2; else: bytes to skip, parse as L3 */
__u16 test_eth_proto SEC(".bss");
struct skbt_tuple result SEC(".bss");
struct skbt_tunnel result_tun SEC(".bss");
__u32 result_match SEC(".bss");
__u32 result_len SEC(".bss");
/* A pcap filter run by the tracing path's interpreter over the same copy. */
struct skbt_cbpf_prog test_cbpf SEC(".bss");
__u32 result_cbpf SEC(".bss");

struct test_scratch {
        __u8 hdr[SKBT_HDR_BUF]; /* as in skbt_body.bpf.h: room for a tunnel's second copy */
        struct skbt_tunnel tun;
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct test_scratch);
} test_scratch SEC(".maps");

SEC("tc")
int parse_test(struct __sk_buff *skb)
{
        struct skbt_tuple t = {};
        struct test_scratch *s;
        __u32 zero = 0, off = test_l3_offset, avail;

        s = bpf_map_lookup_elem(&test_scratch, &zero);
        if (!s)
                return 0;
        if (off > skb->len) {
                avail = 0;
        } else {
                avail = skb->len - off;
                if (avail > SKBT_HDR_MAX)
                        avail = SKBT_HDR_MAX;
                /* bpf_skb_load_bytes needs a bounded, non-zero length; clang would
                 * drop a plain mask it can prove redundant. */
                if (avail) {
                        /* 1 <= avail <= SKBT_HDR_MAX, in a form the verifier follows */
                        asm volatile("%[v] += -1; %[v] &= 0x7f; %[v] += 1" : [v] "+r"(avail));
                        if (bpf_skb_load_bytes(skb, off, s->hdr, avail) < 0)
                                avail = 0;
                }
        }
        skbt_parse_outer(s->hdr, avail, off == 0, test_eth_proto, &t, &s->tun);
        result_len = avail;
        /* As the tracing path does: the next bytes for a tunnel's inner packet. */
        if (s->tun.type != SKBT_TUN_NONE && avail == SKBT_HDR_MAX &&
            skb->len > off + SKBT_HDR_MAX) {
                __u32 more = skb->len - off - SKBT_HDR_MAX;

                if (more > SKBT_HDR_MAX)
                        more = SKBT_HDR_MAX;
                asm volatile("%[v] += -1; %[v] &= 0x7f; %[v] += 1" : [v] "+r"(more));
                if (bpf_skb_load_bytes(skb, off + SKBT_HDR_MAX, s->hdr + SKBT_HDR_MAX, more) == 0)
                        result_len = SKBT_HDR_MAX + more;
        }
        /* The inner packet's parse as the tracing path runs it (skbt_inner.bpf.h). */
        skbt_parse_inner_g((const struct skbt_cbpf_buf *)s->hdr, result_len, &s->tun);
        result = t;
        result_tun = s->tun;
        result_match = skbt_filter_match_layer(&test_filter, &t, &s->tun, test_mark);
        result_cbpf = skbt_cbpf_run(&test_cbpf, (const struct skbt_cbpf_buf *)s->hdr,
                                    SKBT_CBPF_INFO(avail, off == 0, test_eth_proto));
        return 0;
}
