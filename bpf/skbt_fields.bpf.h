/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_fields.bpf.h - read custom fields (-F) by following the daemon's offset chains */
#pragma once

#include "skbt_fields.h"

/* Written by the daemon (daemon/output/fields.c) before the sessions that use an entry go live. */
struct skbt_field_table field_table SEC(".bss");
/* Sessions that asked for fields: their records carry the values. */
__u64 field_sessions SEC(".bss");
/* Sessions that want packet bytes (pcapng output): their records carry a snapshot. */
__u64 snap_sessions SEC(".bss");
/* Sessions that want the whole sk_buff printed (--dump-skb): their records carry it. */
__u64 dump_sessions SEC(".bss");

/* One field; 0 when a pointer on the way is NULL or a read faults. */
static __always_inline __u64 skbt_field_read(const struct skbt_field *f, __u64 skb, __u64 shinfo)
{
        __u64 p = f->base == SKBT_FIELD_BASE_SHINFO ? shinfo : skb, v = 0;
        __u32 n = f->n_hops, size = f->size, i;

        if (!n || n > SKBT_FIELD_HOPS || !p)
                return 0;
                /* Pointer hops: all but the last offset. */
#pragma unroll
        for (i = 0; i < SKBT_FIELD_HOPS - 1; i++) {
                if (i + 1 >= n)
                        break;
                if (bpf_probe_read_kernel(&p, sizeof(p), (void *)(p + f->off[i])) < 0 || !p)
                        return 0;
        }
        i = n - 1;
        asm volatile("%[v] &= 3" : [v] "+r"(i));
        /* 1..8 bytes into a zeroed u64: little endian, so the value is right as read. */
        size -= 1;
        asm volatile("%[v] &= 7" : [v] "+r"(size));
        size += 1;
        if (bpf_probe_read_kernel(&v, size, (void *)(p + f->off[i])) < 0)
                return 0;
        if (f->bit_size && f->bit_size < 64)
                v = (v >> (f->bit_shift & 63)) & ((1ULL << f->bit_size) - 1);
        return v;
}

/* One field into *out; global, so it is verified once, not once per table entry. */
__noinline int skbt_field_read_g(const struct skbt_field *f, __u64 skb, __u64 shinfo, __u64 *out)
{
        if (!f || !out)
                return 0;
        *out = skbt_field_read(f, skb, shinfo);
        return 0;
}

/*
 * Every table entry's value into out.  Global: verified once, whatever the
 * number of entry points; a probe read per hop, at most SKBT_FIELDS_MAX *
 * SKBT_FIELD_HOPS of them.
 */
__noinline int skbt_fields_read(__u64 skb, __u64 shinfo, struct skbt_field_vals *out)
{
        __u32 n, i;

        if (!out)
                return 0;
        n = *(volatile __u32 *)&field_table.n;
        for (i = 0; i < SKBT_FIELDS_MAX; i++) {
                out->v[i] = 0;
                if (i < n)
                        skbt_field_read_g(&field_table.f[i], skb, shinfo, &out->v[i]);
        }
        return 0;
}
