/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_ct.bpf.h - conntrack (--ct): copy the skb's conntrack entry into the record */
#pragma once

#include "skbt_ct.h"

/* Sessions that asked for conntrack (--ct): their records carry the entry. */
__u64 ct_sessions SEC(".bss");
/* How much of the entry to copy: written by the daemon (daemon/output/ct.c). */
struct skbt_ct_conf ct_conf SEC(".bss");

/* include/uapi/linux/netfilter/nf_conntrack_common.h: ctinfo lives in _nfct's low 3 bits. */
#define SKBT_NFCT_INFOMASK 7ULL
#define SKBT_IP_CT_UNTRACKED 7

/*
 * The entry skb->_nfct points to (nfct: its value) into out.  Global: verified
 * once whatever the number of entry points.  An unreadable entry is flagged,
 * never shown as zeros.
 */
__noinline int skbt_ct_read(__u64 nfct, struct skbt_ct_rec *out)
{
        __u64 ct = nfct & ~SKBT_NFCT_INFOMASK;
        __u32 len;

        if (!out)
                return 0;
        out->flags = 0;
        out->ctinfo = (__u8)(nfct & SKBT_NFCT_INFOMASK);
        out->len = 0;
        out->pad = 0;
        if (!ct) {
                if (out->ctinfo == SKBT_IP_CT_UNTRACKED)
                        out->flags = SKBT_CT_UNTRACKED;
                return 0;
        }
        len = *(volatile __u32 *)&ct_conf.len;
        if (!len || len > SKBT_CT_RAW_MAX)
                return 0;
        asm volatile("%[v] &= 0x1ff" : [v] "+r"(len));
        if (len > SKBT_CT_RAW_MAX)
                return 0;
        if (bpf_probe_read_kernel(out->raw, len, (void *)ct) < 0) {
                out->flags = SKBT_CT_ENTRY | SKBT_CT_FAULT;
                return 0;
        }
        out->flags = SKBT_CT_ENTRY;
        out->len = (__u16)len;
        return 0;
}
