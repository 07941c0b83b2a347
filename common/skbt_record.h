/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_record.h - the optional tails of a ring-buffer record: stack, fields, packet bytes,
 * conntrack */
#pragma once

/*
 * A record is a struct skbt_event, or, when one of its sessions wants a
 * stack, custom fields (-F) or packet bytes (pcapng output), a "big" record
 * of fixed layout:
 *
 *   struct skbt_event | SKBT_STACK_MAX u64 | struct skbt_field_vals | struct skbt_snap
 *   | struct skbt_ct_rec [ | struct skbt_dump ]
 *
 * One size for every combination keeps the BPF reservation size a constant;
 * event flags say which parts are filled (stack_depth, SKBT_EV_FIELDS,
 * SKBT_EV_SNAP, SKBT_EV_CT).
 */
#include "skbt_abi.h"
#include "skbt_ct.h"
#include "skbt_fields.h"

/* Packet bytes copied for pcapng: what the parser copied (bpf/skbt_parse.bpf.h SKBT_HDR_MAX). */
#define SKBT_SNAP_MAX 128

struct skbt_snap {
        __u32 len;      /* bytes in data */
        __u32 orig_len; /* bytes of the packet from where data starts to its end */
        __u8 l2;        /* data starts at the Ethernet header, else at the network header */
        __u8 pad[7];
        __u8 data[SKBT_SNAP_MAX];
};
_Static_assert(sizeof(struct skbt_snap) == 144, "skbt_snap layout");

#define SKBT_REC_VALS_OFF (sizeof(struct skbt_event) + SKBT_STACK_MAX * sizeof(__u64))
#define SKBT_REC_SNAP_OFF (SKBT_REC_VALS_OFF + sizeof(struct skbt_field_vals))
#define SKBT_REC_CT_OFF (SKBT_REC_SNAP_OFF + sizeof(struct skbt_snap))
#define SKBT_REC_BIG (SKBT_REC_CT_OFF + sizeof(struct skbt_ct_rec))

/*
 * --dump-skb: the whole sk_buff as the kernel prints it (bpf_snprintf_btf(),
 * one line, members that are zero left out, pointers hashed as %p hashes
 * them), after a big record.  Only records going to a --dump-skb session are
 * this long; the daemon tells them by their size.  Bounded: a longer dump is
 * cut, and want says by how much.
 */
#define SKBT_DUMP_MAX 3072

struct skbt_dump {
        __s32 want; /* bytes the whole dump needs (bpf_snprintf_btf's return), or -errno */
        __u32 len;  /* bytes of text, without its NUL */
        char text[SKBT_DUMP_MAX];
};

#define SKBT_REC_DUMP_OFF SKBT_REC_BIG
#define SKBT_REC_DUMP (SKBT_REC_DUMP_OFF + sizeof(struct skbt_dump))
