/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_ct.h - conntrack (--ct): the skb's conntrack entry as a record carries it */
#pragma once

/*
 * The BPF side knows one thing about conntrack: skb->_nfct (CO-RE), the
 * entry's address with the packet's ctinfo in its low 3 bits.  It copies
 * the first ct_conf.len bytes of the entry (struct nf_conn) into the record
 * as they are; the daemon, which found the members' offsets in kernel (or
 * nf_conntrack module) BTF, picks status, zone, mark, the tuples and the TCP
 * state out of the copy (daemon/output/ct.c).  nf_conntrack is often a
 * module, which CO-RE cannot rely on being loaded when the programs are;
 * and one probe read of the entry costs about what one field would.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of struct nf_conn copied at most: it is 248 on 6.x without lock debugging. */
#define SKBT_CT_RAW_MAX 320

/* struct skbt_ct_rec.flags */
enum skbt_ct_flags {
        SKBT_CT_ENTRY = 1 << 0,     /* the skb has an entry: raw holds len bytes of it */
        SKBT_CT_UNTRACKED = 1 << 1, /* ctinfo IP_CT_UNTRACKED, no entry (notrack) */
        SKBT_CT_FAULT = 1 << 2,     /* the entry could not be read */
};

struct skbt_ct_rec {
        __u8 flags;  /* enum skbt_ct_flags; 0: the skb has no conntrack */
        __u8 ctinfo; /* enum ip_conntrack_info: the low 3 bits of skb->_nfct */
        __u16 len;   /* bytes in raw */
        __u32 pad;
        __u8 raw[SKBT_CT_RAW_MAX];
};
_Static_assert(sizeof(struct skbt_ct_rec) == 8 + SKBT_CT_RAW_MAX, "skbt_ct_rec layout");

/* Written by the daemon (daemon/output/ct.c) before a --ct session goes live. */
struct skbt_ct_conf {
        __u32 len; /* bytes of struct nf_conn to copy, at most SKBT_CT_RAW_MAX; 0: none */
        __u32 pad;
};
