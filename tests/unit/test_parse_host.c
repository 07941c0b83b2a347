/* SPDX-License-Identifier: GPL-2.0-only */
/* test_parse_host.c - the BPF packet parser and filter, compiled for the host */
#include <linux/types.h>
#include <stdio.h>

#define SKBT_PARSE_HOST 1
#include "skbt_filter.bpf.h"

#include "packets.h"
#include "testlib.h"

static struct pkt_case cases[64];
static struct filter_case fcases[64];

static const struct pkt_case *find_case(int n, const char *name)
{
        for (int i = 0; i < n; i++)
                if (strcmp(cases[i].name, name) == 0)
                        return &cases[i];
        return NULL;
}

static struct skbt_tunnel tun;

/* As the tracing path does: the outer packet from the first copy, the inner one from as much
 * as a second copy adds (SKBT_HDR_BUF in all). */
static void run(const struct pkt_case *c, struct skbt_tuple *t)
{
        uint8_t buf[SKBT_HDR_BUF];
        uint32_t len = c->len < SKBT_HDR_MAX ? c->len : SKBT_HDR_MAX;

        /* Poison what was not copied: the parser must never read it. */
        memset(buf, 0xa5, sizeof(buf));
        memcpy(buf, c->data, len);
        memset(t, 0, sizeof(*t));
        memset(&tun, 0x5a, sizeof(tun));
        skbt_parse_outer(buf, len, c->l2, c->eth_proto, t, &tun);
        if (tun.type != SKBT_TUN_NONE) {
                len = c->len < SKBT_HDR_BUF ? c->len : SKBT_HDR_BUF;
                memcpy(buf, c->data, len);
                skbt_parse_inner(buf, len, &tun);
        }
}

int main(void)
{
        int n = build_cases(cases), nf = build_filter_cases(fcases);
        struct skbt_tuple t;

        for (int i = 0; i < n; i++) {
                run(&cases[i], &t);
                CHECK(pkt_case_check(&cases[i], &t) == 0);
                CHECK(pkt_inner_check(&cases[i], &tun) == 0);
        }
        /* Every truncation point of every packet: no crash, and never a tuple
         * claiming more than the bytes present support. */
        for (int i = 0; i < n; i++) {
                for (uint32_t cut = 0; cut < cases[i].len; cut++) {
                        struct pkt_case c = cases[i];

                        c.len = cut;
                        run(&c, &t);
                        if (t.flags & SKBT_TUPLE_L4)
                                CHECK(cut >= 8);
                        if (t.flags & SKBT_TUPLE_L3)
                                CHECK(cut >= 20);
                        /* The inner packet ends where the bytes do, too. */
                        if (tun.type && (tun.inner.flags & SKBT_TUPLE_L3))
                                CHECK(cut >= tun.inner_off + 20u);
                }
        }
        for (int i = 0; i < nf; i++) {
                const struct pkt_case *c = find_case(n, fcases[i].pkt);

                CHECK(c != NULL);
                if (!c)
                        continue;
                run(c, &t);
                if (skbt_filter_match_layer(&fcases[i].f, &t, &tun, fcases[i].mark) !=
                    fcases[i].match) {
                        fprintf(stderr, "filter '%s' on '%s': expected %d\n", fcases[i].desc,
                                c->name, fcases[i].match);
                        CHECK(0);
                }
        }
        printf("%d packets, %d filters checked\n", n, nf);
        return TEST_DONE();
}
