// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* caps.bpf.c - minimal programs that probe which attach types this kernel allows */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Each program is loaded and attached on its own by daemon/probes/caps.c; a failure
 * of one says only that its attach type is unusable here. */
__u64 hits SEC(".bss");

SEC("raw_tp")
int caps_raw_tp(void *ctx)
{
        __sync_fetch_and_add(&hits, 1);
        return 0;
}

SEC("fentry/netif_receive_skb")
int caps_fentry(void *ctx)
{
        __sync_fetch_and_add(&hits, 1);
        return 0;
}

SEC("fexit/netif_receive_skb")
int caps_fexit(void *ctx)
{
        __sync_fetch_and_add(&hits, 1);
        return 0;
}

SEC("kprobe")
int caps_kprobe(void *ctx)
{
        __sync_fetch_and_add(&hits, 1);
        return 0;
}

SEC("kprobe.multi")
int caps_kprobe_multi(void *ctx)
{
        __sync_fetch_and_add(&hits, 1);
        return 0;
}
