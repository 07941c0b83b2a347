// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* graph_test.bpf.c - function_graph's per-task call stacks through BPF_PROG_TEST_RUN */
#include "skbt_body.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Entry test_entry pushes test_pushes frames, then return test_ret pops
 * test_pops: the frames the daemon's entries and returns push and pop, in the
 * test's own task (a raw tracepoint's test run runs in the caller's).
 */
__u32 test_entry SEC(".bss");
__u32 test_ret SEC(".bss");
__u32 test_pushes SEC(".bss");
__u32 test_pops SEC(".bss");

#define GRAPH_TEST_MAX (SKBT_GRAPH_DEPTH + 4)

SEC("raw_tp")
int graph_test(void *ctx)
{
        for (__u32 i = 0; i < GRAPH_TEST_MAX && i < test_pushes; i++)
                skbt_graph_push((struct sk_buff *)(0x1000UL + 8 * i), test_entry, ~0ULL);
        for (__u32 i = 0; i < GRAPH_TEST_MAX && i < test_pops; i++)
                skbt_graph_return(test_ret, test_entry, i);
        return 0;
}
