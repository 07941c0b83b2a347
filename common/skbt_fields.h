/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_fields.h - custom fields (-F): kernel BTF paths resolved by the daemon into offset chains */
#pragma once

/*
 * "skb->dev->mtu" becomes: start at the skb, read the pointer at
 * offsetof(sk_buff, dev), then read 4 bytes at offsetof(net_device, mtu).
 * The daemon resolves names through kernel BTF; the BPF side only follows
 * offsets with bpf_probe_read_kernel(), so no client-supplied code runs in
 * the kernel and a bad chain reads 0, never crashes.
 *
 * Sessions share one table of distinct fields (the daemon refcounts its
 * entries): a record carries one value per table entry, whatever mix of
 * sessions it goes to, and each session prints its own.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SKBT_FIELDS_PER_SESSION 8 /* fields one session may ask for */
#define SKBT_FIELDS_MAX 16        /* distinct fields of all live sessions together */
#define SKBT_FIELD_HOPS 4         /* pointer dereferences + the final read */

/* struct skbt_field.base: where the chain starts. */
enum skbt_field_base {
        SKBT_FIELD_BASE_SKB = 0,    /* the struct sk_buff */
        SKBT_FIELD_BASE_SHINFO = 1, /* its struct skb_shared_info (skb->head + skb->end) */
};

struct skbt_field {
        __u32 off[SKBT_FIELD_HOPS]; /* off[i]: offset read at hop i (pointers, then the value) */
        __u8 n_hops;                /* 1..SKBT_FIELD_HOPS; 0: unused entry */
        __u8 size;                  /* bytes of the final read: 1, 2, 4 or 8 */
        __u8 base;                  /* enum skbt_field_base */
        __u8 bit_shift;             /* bitfields: value = (read >> bit_shift) & mask */
        __u8 bit_size;              /* 0: not a bitfield */
        __u8 pad[3];
};
_Static_assert(sizeof(struct skbt_field) == 24, "skbt_field layout");

struct skbt_field_table {
        __u32 n; /* entries in use are below n */
        __u32 pad;
        struct skbt_field f[SKBT_FIELDS_MAX];
};

/* Values following a record that carries fields: one per table entry. */
struct skbt_field_vals {
        __u64 v[SKBT_FIELDS_MAX];
};
