/* SPDX-License-Identifier: GPL-2.0-only */
/* test_verdict_host.c - the BPF verdict cache's key compare, compiled for the host */
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SKBT_PARSE_HOST 1
#include "skbt_verdict.bpf.h"

#include "testlib.h"

/* A key and header bytes as a probe hit fills them for a TCP/IPv4 packet. */
static void fill(struct skbt_vkey *k, __u8 *hdr)
{
        memset(k, 0, sizeof(*k));
        k->skb = 0xffff888103a4c100ULL;
        k->gen = 7;
        k->mark = 0x10;
        k->protocol = 0x0008;
        k->hdr_len = 40;
        for (int i = 0; i < SKBT_HDR_MAX; i++)
                hdr[i] = (__u8)(i * 7 + 1);
}

int main(void)
{
        struct skbt_vent e;
        struct skbt_vkey k, k2;
        struct skbt_tuple t = {.l3 = SKBT_L3_IPV4, .l4proto = SKBT_IPPROTO_TCP, .dport = 80};
        __u8 hdr[SKBT_HDR_MAX] __attribute__((aligned(8))),
            h2[SKBT_HDR_MAX] __attribute__((aligned(8)));
        bool slots[SKBT_VCACHE_SLOTS] = {};

        fill(&k, hdr);
        memset(&e, 0xa5, sizeof(e));
        skbt_vent_store(&e, &k, hdr, &t, 0x3, 0x1);
        /* The caller validates the entry; the store leaves it invalid. */
        CHECK(e.k.skb == 0);
        CHECK(!skbt_vent_match(&e, &k, hdr, 0x3));
        e.k.skb = k.skb;

        /* The same key and bytes: the verdict holds for every session it covers. */
        CHECK(skbt_vent_match(&e, &k, hdr, 0x3));
        CHECK(skbt_vent_match(&e, &k, hdr, 0x1));
        CHECK(skbt_vent_match(&e, &k, hdr, 0x2));
        CHECK(e.matched == 0x1 && e.evaluated == 0x3);
        CHECK(memcmp(&e.t, &t, sizeof(t)) == 0);
        /* A session that went live since: not covered. */
        CHECK(!skbt_vent_match(&e, &k, hdr, 0x7));

        /* Any change to what the filters read is a miss: every byte of the key (hdr_len
         * too: fewer or more bytes to compare; hdr_l2: where the parse starts)... */
        for (unsigned i = 0; i < offsetof(struct skbt_vkey, pad); i++) {
                k2 = k;
                ((__u8 *)&k2)[i] ^= 0x01;
                if (skbt_vent_match(&e, &k2, hdr, 0x3)) {
                        fprintf(stderr, "key byte %u changed and still a hit\n", i);
                        CHECK(0);
                }
        }
        /* ...and every header byte that was copied (NAT, a new mark in an
         * encapsulation, a decremented TTL)... */
        for (unsigned i = 0; i < k.hdr_len; i++) {
                memcpy(h2, hdr, sizeof(h2));
                h2[i] ^= 0x80;
                if (skbt_vent_match(&e, &k, h2, 0x3)) {
                        fprintf(stderr, "header byte %u changed and still a hit\n", i);
                        CHECK(0);
                }
        }
        /* ...while bytes past the copy are not the packet's and do not count. */
        for (unsigned i = k.hdr_len; i < SKBT_HDR_MAX; i++) {
                memcpy(h2, hdr, sizeof(h2));
                h2[i] ^= 0x80;
                CHECK(skbt_vent_match(&e, &k, h2, 0x3));
        }
        /* Lengths that end inside a word, and the longest copy. */
        for (__u16 n = 0; n <= SKBT_HDR_MAX; n++) {
                k2 = k;
                k2.hdr_len = n;
                skbt_vent_store(&e, &k2, hdr, &t, 0x1, 0);
                e.k.skb = k2.skb;
                CHECK(skbt_vent_match(&e, &k2, hdr, 0x1));
                if (n) {
                        memcpy(h2, hdr, sizeof(h2));
                        h2[n - 1] ^= 0x01;
                        CHECK(!skbt_vent_match(&e, &k2, h2, 0x1));
                }
                if (n < SKBT_HDR_MAX) {
                        memcpy(h2, hdr, sizeof(h2));
                        h2[n] ^= 0x01;
                        CHECK(skbt_vent_match(&e, &k2, h2, 0x1));
                }
        }
        /* A verdict that read a tunnel's inner packet past the first copy (--layer inner):
         * the second copy must be the same length and the same bytes, and only the bytes
         * that were copied count. */
        {
                struct skbt_tunnel tun = {.type = SKBT_TUN_VXLAN, .inner_off = 100};
                __u8 m2[SKBT_HDR_MAX] __attribute__((aligned(8)));

                skbt_vent_store(&e, &k, hdr, &t, 0x3, 0x1);
                skbt_vent_store_tun(&e, &tun, 1, hdr, 60);
                e.k.skb = k.skb;
                CHECK(e.inner == 1 && e.more == 60 && e.tun.type == SKBT_TUN_VXLAN);
                CHECK(skbt_vent_match_more(&e, hdr, 60));
                CHECK(!skbt_vent_match_more(&e, hdr, 59));
                CHECK(!skbt_vent_match_more(&e, hdr, 61));
                for (unsigned i = 0; i < SKBT_HDR_MAX; i++) {
                        memcpy(m2, hdr, sizeof(m2));
                        m2[i] ^= 0x40;
                        if (skbt_vent_match_more(&e, m2, 60) != (i >= 60)) {
                                fprintf(stderr, "second copy byte %u changed: wrong answer\n", i);
                                CHECK(0);
                        }
                }
                /* A verdict that did not read the inner packet keeps no second copy. */
                skbt_vent_store_tun(&e, &tun, 0, hdr, 60);
                CHECK(e.inner == 0 && e.more == 0);
        }
        /* An empty slot (all zero, as the map starts) answers nothing. */
        memset(&e, 0, sizeof(e));
        memset(h2, 0, sizeof(h2));
        k2 = k;
        k2.hdr_len = 0;
        CHECK(!skbt_vent_match(&e, &k2, h2, 0x1));

        /* sk_buffs are 256-byte slab objects: neighbours land in different slots. */
        for (unsigned i = 0; i < SKBT_VCACHE_SLOTS; i++)
                slots[skbt_vslot(0xffff888103a40000ULL + 256ULL * i)] = true;
        for (unsigned i = 0; i < SKBT_VCACHE_SLOTS; i++)
                CHECK(slots[i]);
        printf("verdict cache: key, header bytes, second copy, coverage and slots checked\n");
        return TEST_DONE();
}
