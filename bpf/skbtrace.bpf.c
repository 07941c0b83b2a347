// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* skbtrace.bpf.c - entry points stamped per skb argument position over one body */
#include "skbt_body.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Tracepoint templates.  The daemon loads each once more per tracepoint with
 * the probe id stamped in (see skbt_probe_id.bpf.h) and attaches the copy
 * with BPF_RAW_TRACEPOINT_OPEN; raw_tp needs neither BTF at load time nor
 * tracefs, and is the one attach type every kernel we target allows.
 */
#define SKBT_TP_ENTRY(pos)                                                                         \
        SEC("raw_tp")                                                                              \
        int skbt_tp_arg##pos(struct bpf_raw_tracepoint_args *ctx)                                  \
        {                                                                                          \
                struct skbt_hit hit = {};                                                          \
                return skbt_handle((struct sk_buff *)ctx->args[pos], skbt_stamped_probe_id(),      \
                                   &hit);                                                          \
        }

SKBT_TP_ENTRY(0)
SKBT_TP_ENTRY(1)
SKBT_TP_ENTRY(2)
SKBT_TP_ENTRY(3)
SKBT_TP_ENTRY(4)

/* skb:kfree_skb(skb, location, reason[, rx_sk]) since 5.17: the drop tracer. */
SEC("raw_tp")
int skbt_tp_kfree_skb(struct bpf_raw_tracepoint_args *ctx)
{
        struct skbt_hit hit = {
                .location = ctx->args[1],
                .drop_reason = (__u32)ctx->args[2],
                .flags = SKBT_EV_DROP,
        };

        return skbt_handle((struct sk_buff *)ctx->args[0], skbt_stamped_probe_id(), &hit);
}
