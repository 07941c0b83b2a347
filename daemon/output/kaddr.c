/* SPDX-License-Identifier: GPL-2.0-only */
/* kaddr.c - kernel addresses only for those allowed to see them (like kptr_restrict) */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "kaddr.h"

int skbt_kaddr_key_init(struct skbt_kaddr_key *key)
{
        ssize_t n = getrandom(key->k, sizeof(key->k), 0);

        if (n != (ssize_t)sizeof(key->k))
                return n < 0 ? -errno : -EIO;
        return 0;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
        do {                                                                                       \
                v0 += v1;                                                                          \
                v1 = ROTL(v1, 13);                                                                 \
                v1 ^= v0;                                                                          \
                v0 = ROTL(v0, 32);                                                                 \
                v2 += v3;                                                                          \
                v3 = ROTL(v3, 16);                                                                 \
                v3 ^= v2;                                                                          \
                v0 += v3;                                                                          \
                v3 = ROTL(v3, 21);                                                                 \
                v3 ^= v0;                                                                          \
                v2 += v1;                                                                          \
                v1 = ROTL(v1, 17);                                                                 \
                v1 ^= v2;                                                                          \
                v2 = ROTL(v2, 32);                                                                 \
        } while (0)

/* SipHash-2-4 of one 8-byte message (Aumasson and Bernstein's reference algorithm). */
uint64_t skbt_kaddr_hash(const struct skbt_kaddr_key *key, uint64_t m)
{
        uint64_t v0 = 0x736f6d6570736575ULL ^ key->k[0], v1 = 0x646f72616e646f6dULL ^ key->k[1];
        uint64_t v2 = 0x6c7967656e657261ULL ^ key->k[0], v3 = 0x7465646279746573ULL ^ key->k[1];
        uint64_t b = (uint64_t)8 << 56;

        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
        v3 ^= b;
        SIPROUND;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}

bool skbt_kaddr_is_kernel(uint64_t v)
{
        /* x86-64 and arm64 kernel addresses; ERR_PTR(-4095..-1) sits at the very top. */
        return v >= 0xffff800000000000ULL && v < (uint64_t)-4095;
}

static uint64_t hide_text(const struct skbt_names *names, uint64_t addr)
{
        char buf[128];

        /* function+offset is fine (it is what /proc/PID/stack shows); a bare address is not. */
        if (addr && names && names->symbolize &&
            names->symbolize(names->symbolize_data, addr, buf, sizeof(buf)) >= 0 && buf[0])
                return addr;
        return 0;
}

void skbt_kaddr_mask(const struct skbt_kaddr_key *key, const struct skbt_names *names,
                     struct skbt_event *c)
{
        uint64_t *frames = (uint64_t *)(c + 1);

        if (c->skb)
                c->skb = skbt_kaddr_hash(key, c->skb);
        if (skbt_kaddr_is_kernel((uint64_t)c->retval))
                c->retval = (int64_t)skbt_kaddr_hash(key, (uint64_t)c->retval);
        c->location = hide_text(names, c->location);
        for (uint32_t i = 0; i < c->stack_depth; i++)
                frames[i] = hide_text(names, frames[i]);
}
