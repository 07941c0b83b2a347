/* SPDX-License-Identifier: GPL-2.0-only */
/* prefilter.c - keep the BPF session prefilter tables in step with the session filters */
#include <string.h>

#include "loader.h"
#include "prefilter.h"
#include "skbtrace.skel.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136

static void all_buckets(__u64 *t, uint64_t bit)
{
        for (unsigned i = 0; i < SKBT_PF_BUCKETS; i++)
                t[i] |= bit;
}

/* A prefix narrows to one bucket only when it is a full address. */
static void addr_buckets(__u64 *t, const struct skbt_prefix *p, uint64_t bit)
{
        unsigned full = p->l3 == SKBT_L3_IPV4 ? 32 : 128;
        uint32_t w[4];

        if (p->plen != full) {
                all_buckets(t, bit);
                return;
        }
        memcpy(w, p->addr, sizeof(w));
        t[skbt_pf_addr(w)] |= bit;
}

void skbt_prefilter_build(struct skbt_prefilter *pf, const struct skbt_filter *filters,
                          uint64_t mask)
{
        memset(pf, 0, sizeof(*pf));
        for (unsigned slot = 0; slot < SKBT_MAX_SESSIONS; slot++) {
                const struct skbt_filter *f = &filters[slot];
                uint64_t bit = 1ULL << slot;
                uint32_t fl = f->flags;
                bool ports = fl & (SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT);

                if (!(mask & bit))
                        continue;
                /* A filter on a tunnel's inner packet (--layer) cannot be told from the outer
                 * tuple the tables see: such sessions pass and their filter decides. */
                if ((fl & SKBT_F_LAYER) && f->layer != SKBT_LAYER_OUTER)
                        fl &= ~(uint32_t)(SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR |
                                          SKBT_F_ADDR | SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT);
                /* Mirrors skbt_filter_match() (bpf/skbt_filter.bpf.h). */
                if (fl & (SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR | SKBT_F_ADDR) ||
                    ports)
                        pf->need_l3 |= bit;
                if (ports)
                        pf->need_l4 |= bit;
                for (unsigned p = 0; p < SKBT_PF_BUCKETS; p++) {
                        if ((fl & SKBT_F_PROTO) && p != f->proto)
                                continue;
                        if (ports && p != IPPROTO_TCP_ && p != IPPROTO_UDP_ && p != IPPROTO_SCTP_ &&
                            p != IPPROTO_UDPLITE_)
                                continue;
                        pf->proto[p] |= bit;
                }
                if (fl & SKBT_F_SPORT)
                        pf->sport[skbt_pf_port(f->sport)] |= bit;
                else
                        all_buckets(pf->sport, bit);
                if (fl & SKBT_F_DPORT)
                        pf->dport[skbt_pf_port(f->dport)] |= bit;
                else
                        all_buckets(pf->dport, bit);
                if (fl & SKBT_F_PORT)
                        pf->port[skbt_pf_port(f->port)] |= bit;
                else
                        pf->no_port |= bit;
                if (fl & SKBT_F_SADDR)
                        addr_buckets(pf->saddr, &f->saddr, bit);
                else
                        all_buckets(pf->saddr, bit);
                if (fl & SKBT_F_DADDR)
                        addr_buckets(pf->daddr, &f->daddr, bit);
                else
                        all_buckets(pf->daddr, bit);
                if (fl & SKBT_F_ADDR)
                        addr_buckets(pf->addr, &f->addr, bit);
                else
                        pf->no_addr |= bit;
        }
}

void skbt_prefilter_sync(struct skbt_loader *l, uint64_t mask)
{
        struct skbt_prefilter next;
        uint64_t *dst = (uint64_t *)&l->skel->bss->prefilter;
        const uint64_t *src = (const uint64_t *)&next;

        skbt_prefilter_build(&next, l->state->filters, mask);
        /* Word by word, each store atomic: a probe hit reads every word whole. */
        for (size_t i = 0; i < sizeof(next) / sizeof(uint64_t); i++)
                if (dst[i] != src[i])
                        __atomic_store_n(&dst[i], src[i], __ATOMIC_RELEASE);
}
