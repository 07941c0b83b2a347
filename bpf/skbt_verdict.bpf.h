/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_verdict.bpf.h - the session filters' verdict on a packet, cached per CPU across its probes
 */
#pragma once

/* Also compiled for the host (tests/unit/test_verdict_host.c), like the parser. */
#include "skbt_parse.bpf.h"

/*
 * A packet passes tens of probes (function backends: ~60-120 per packet),
 * and a running session usually wants none of them.  Parsing the headers and
 * running the prefilter and the filters again at each of them was most of a
 * non-matching hit.  So the verdict (which live sessions' filters match) is
 * decided once and remembered per CPU, keyed by exactly what the filters
 * read:
 *
 * - the header bytes the parser and the pcap filters see (the copy in
 *   scratch: hdr_len bytes, from the Ethernet header or the network
 *   header), and skb->protocol, which the parser checks them against;
 * - skb->mark; the device's index and namespace (only while a live session
 *   filters on them) and the current process (likewise, --pid);
 * - the sessions: state.gen, which the daemon bumps before a session goes
 *   live (its slot may have held another filter), and the set of live
 *   sessions the verdict covers (a session that went live since is not in
 *   it, so the entry does not answer for it).
 *
 * So the cache is a memo of a pure function, and a hit costs the header
 * copy and a compare instead of the parse and the filters: a NAT rewrite
 * (the addresses or ports in the copy change), an encapsulation or
 * decapsulation (the header the copy starts at, and so its bytes, change),
 * a new mark all miss and decide again, and nothing is inferred from which
 * probe fired or how skb->data moved.  Anything else a filter comes to read
 * must join struct skbt_vkey.
 *
 * Tunnels: the outer parse notes a tunnel from the first copy (so it is a
 * function of the compared bytes).  The inner packet is parsed only when a
 * --layer inner|either filter looks at it, from the first copy and, when
 * its headers lie past it, a second copy of the next bytes.  An entry whose
 * verdict read the inner packet (inner) keeps that second copy (more
 * bytes of hdr2), and a hit reads it again and compares it too: an entry
 * answers for the inner headers it was decided on.  The layer a session
 * looks at is part of its filter, so of state.gen.
 *
 * Entries are found by skb address (SKBT_VCACHE_SLOTS, direct-mapped):
 * packets interleave on a CPU (a sender's next skb before the previous one's
 * receive), so one entry would thrash.  The address is the slot's tag only:
 * the verdict does not depend on it.
 */
#define SKBT_VCACHE_SLOTS 16

/* What the filters read besides the header bytes; compared as five words. */
struct skbt_vkey {
        __u64 skb; /* the slot's tag; 0: empty */
        __u64 gen;
        __u32 mark;
        __u32 pid;     /* 0 unless a live session filters on it */
        __u32 ifindex; /* these two: 0 unless a live session filters on them */
        __u32 netns;
        __u16 protocol;
        __u16 hdr_len;
        __u16 hdr_l2;
        __u16 pad;
};
_Static_assert(sizeof(struct skbt_vkey) == 40, "skbt_vkey: five words");

struct skbt_vent {
        struct skbt_vkey k;
        __u64 evaluated;     /* the live sessions whose filters were run */
        __u64 matched;       /* ... and matched */
        struct skbt_tuple t; /* the parse, for the events of matching hits */
        __u8 hdr[SKBT_HDR_MAX] __attribute__((aligned(8)));
        struct skbt_tunnel tun; /* the tunnel the parse found; tun.inner valid with inner */
        __u32 inner;            /* the verdict read the inner packet (a --layer filter) */
        __u32 more;             /* ... and these bytes of a second copy, in hdr2 */
        __u8 hdr2[SKBT_HDR_MAX] __attribute__((aligned(8)));
};

SKBT_INLINE __u32 skbt_vslot(__u64 skb)
{
        /* sk_buffs are 256-byte slab objects (fclones 512): skip the offset bits. */
        return (__u32)((skb >> 8) ^ (skb >> 12)) & (SKBT_VCACHE_SLOTS - 1);
}

/*
 * The entry holds the verdict for this key and these header bytes, for at
 * least every session in active.  Branch-free over the key; the header
 * words up to hdr_len, the last one masked to the bytes that were copied.
 */
SKBT_INLINE bool skbt_vent_match(const struct skbt_vent *e, const struct skbt_vkey *k,
                                 const __u8 *hdr, __u64 active)
{
        const __u64 *a = (const __u64 *)k, *b = (const __u64 *)&e->k;
        const __u64 *ha = (const __u64 *)hdr, *hb = (const __u64 *)e->hdr;
        __u32 n = k->hdr_len, i;
        __u64 diff;

        diff = (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]);
        if (diff || (e->evaluated & active) != active)
                return false;
        for (i = 0; i < SKBT_HDR_MAX / 8; i++) {
                __u32 left;
                __u64 d;

                if (i * 8 >= n)
                        break;
                d = ha[i] ^ hb[i];
                left = n - i * 8;
                if (left < 8)
                        d &= (1ULL << (left * 8)) - 1;
                if (d)
                        return false;
        }
        return true;
}

/*
 * The second copy of a hit (more bytes in hdr2) against the entry's: the
 * same length, the same bytes.  Only for entries whose verdict read it.
 */
SKBT_INLINE bool skbt_vent_match_more(const struct skbt_vent *e, const __u8 *hdr2, __u32 more)
{
        const __u64 *ha = (const __u64 *)hdr2, *hb = (const __u64 *)e->hdr2;
        __u32 i;

        if (more != e->more)
                return false;
        for (i = 0; i < SKBT_HDR_MAX / 8; i++) {
                __u32 left;
                __u64 d;

                if (i * 8 >= more)
                        break;
                d = ha[i] ^ hb[i];
                left = more - i * 8;
                if (left < 8)
                        d &= (1ULL << (left * 8)) - 1;
                if (d)
                        return false;
        }
        return true;
}

/*
 * Fill an entry; the caller validates it (k.skb) afterwards if nothing ran
 * on this CPU meanwhile.  Invalid while it is being written: a probe that
 * interrupts this (an interrupt's packet) finds no half-written entry.
 */
SKBT_INLINE void skbt_vent_store(struct skbt_vent *e, const struct skbt_vkey *k, const __u8 *hdr,
                                 const struct skbt_tuple *t, __u64 evaluated, __u64 matched)
{
        *(volatile __u64 *)&e->k.skb = 0;
        asm volatile("" ::: "memory");
        /* From the aligned field, not (void *)k + 8: with no alignment known clang
         * copied byte by byte through the stack, 168 of the 416 bytes of stack of
         * every entry program, whose budget of 512 the frames of the global
         * functions it calls share (6.1 refused fentry copies at 544). */
        __builtin_memcpy(&e->k.gen, &k->gen, sizeof(*k) - 8);
        e->evaluated = evaluated;
        e->matched = matched;
        __builtin_memcpy(&e->t, t, sizeof(*t));
        __builtin_memcpy(e->hdr, hdr, SKBT_HDR_MAX);
        asm volatile("" ::: "memory");
}

/*
 * The tunnel part of an entry, between skbt_vent_store() and its
 * validation: the tunnel the parse found and, if the verdict read the inner
 * packet (inner), its tuple and the more bytes of the second copy hdr2.
 */
SKBT_INLINE void skbt_vent_store_tun(struct skbt_vent *e, const struct skbt_tunnel *tun,
                                     __u32 inner, const __u8 *hdr2, __u32 more)
{
        __builtin_memcpy(&e->tun, tun, sizeof(*tun));
        e->inner = inner;
        e->more = inner ? more : 0;
        if (e->more)
                __builtin_memcpy(e->hdr2, hdr2, SKBT_HDR_MAX);
        asm volatile("" ::: "memory");
}
