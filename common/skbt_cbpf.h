/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_cbpf.h - a session's pcap filter: classic BPF run by a bounded interpreter in BPF */
#pragma once

/*
 * The daemon compiles a tcpdump expression with libpcap (DLT_EN10MB) and
 * stores the classic BPF program in the session's slot of the programs'
 * .bss; bpf/skbt_cbpf.bpf.h interprets it over the header copy the parser
 * already made.  Programs are small and bounded so that the interpreter's
 * loop has a fixed trip count the verifier can walk once.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Instructions per session: libpcap's optimised output for a few terms ("tcp port 80 and
 * host 10.0.0.1" is 20; a dual-stack "host X or port Y" about 40). */
#define SKBT_CBPF_MAX_INSNS 64
/* Scratch memory words (BPF_MEMWORDS in classic BPF). */
#define SKBT_CBPF_MEMWORDS 16

/* The layout of struct sock_filter / struct bpf_insn of classic BPF. */
struct skbt_cbpf_insn {
        __u16 code;
        __u8 jt;
        __u8 jf;
        __u32 k;
};

struct skbt_cbpf_prog {
        __u32 len; /* instructions; 0: no pcap filter (matches everything) */
        __u32 pad;
        struct skbt_cbpf_insn insns[SKBT_CBPF_MAX_INSNS];
};
_Static_assert(sizeof(struct skbt_cbpf_prog) == 8 + 8 * SKBT_CBPF_MAX_INSNS, "skbt_cbpf layout");
