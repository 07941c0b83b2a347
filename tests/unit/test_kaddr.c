/* SPDX-License-Identifier: GPL-2.0-only */
/* test_kaddr.c - kernel addresses hidden from users other than root (output/kaddr.c) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kaddr.h"
#include "testlib.h"

/* Knows one function: 0xffffffff81000000 .. +0x100. */
static int fake_symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        if (addr < 0xffffffff81000000ULL || addr >= 0xffffffff81000100ULL)
                return -ENOENT;
        snprintf(buf, len, "ip_rcv+0x%x/0x100", (unsigned)(addr - 0xffffffff81000000ULL));
        return 0;
}

int main(void)
{
        struct skbt_kaddr_key k1 = {{1, 2}}, k2 = {{3, 4}}, rnd;
        struct skbt_names names = {.symbolize = fake_symbolize};
        struct {
                struct skbt_event ev;
                uint64_t frames[3];
        } rec = {0};
        uint64_t skb = 0xffff888004a1c000ULL;

        /* SipHash-2-4: stable for a key, different across keys and addresses. */
        CHECK(skbt_kaddr_hash(&k1, skb) == skbt_kaddr_hash(&k1, skb));
        CHECK(skbt_kaddr_hash(&k1, skb) != skbt_kaddr_hash(&k2, skb));
        CHECK(skbt_kaddr_hash(&k1, skb) != skbt_kaddr_hash(&k1, skb + 0x100));
        CHECK(skbt_kaddr_hash(&k1, skb) != skb);
        /* The reference implementation's 8-byte vector, key 00..0f, message 00..07. */
        {
                struct skbt_kaddr_key ref = {{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}};

                CHECK(skbt_kaddr_hash(&ref, 0x0706050403020100ULL) == 0x93f5f5799a932462ULL);
        }
        CHECK_INTEQ(skbt_kaddr_key_init(&rnd), 0);

        CHECK(skbt_kaddr_is_kernel(skb));
        CHECK(skbt_kaddr_is_kernel(0xffffffff81000000ULL));
        CHECK(!skbt_kaddr_is_kernel((uint64_t)-22)); /* -EINVAL stays a number */
        CHECK(!skbt_kaddr_is_kernel(0));
        CHECK(!skbt_kaddr_is_kernel(1500));

        rec.ev.skb = skb;
        rec.ev.retval = (int64_t)0xffff888004a1e400ULL; /* skb_clone's new skb */
        rec.ev.location = 0xffffffff81000042ULL;        /* symbolized: kept */
        rec.ev.stack_depth = 3;
        rec.frames[0] = 0xffffffff81000010ULL;
        rec.frames[1] = 0xffffffffc0001234ULL; /* unknown: hidden */
        rec.frames[2] = 0;
        skbt_kaddr_mask(&k1, &names, &rec.ev);
        CHECK(rec.ev.skb == skbt_kaddr_hash(&k1, skb));
        CHECK((uint64_t)rec.ev.retval == skbt_kaddr_hash(&k1, 0xffff888004a1e400ULL));
        CHECK(rec.ev.location == 0xffffffff81000042ULL);
        CHECK(rec.frames[0] == 0xffffffff81000010ULL);
        CHECK(rec.frames[1] == 0);
        CHECK(rec.frames[2] == 0);

        rec.ev.retval = -22;
        rec.ev.location = 0xffffffffc0000000ULL;
        skbt_kaddr_mask(&k1, NULL, &rec.ev);
        CHECK(rec.ev.retval == -22);
        CHECK(rec.ev.location == 0);
        return TEST_DONE();
}
