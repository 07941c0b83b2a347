/* SPDX-License-Identifier: GPL-2.0-only */
/* test_attach_order.c - the order the attach worker takes probes in (demand.c, skbt_demand_order())
 */
#include <stdint.h>
#include <string.h>

#include "demand.h"
#include "loader.h"
#include "testlib.h"

#define N 12

static struct skbt_probe probes[N];

static struct skbt_probe *probe(uint32_t id, uint8_t kind, uint8_t backend)
{
        probes[id] = (struct skbt_probe){.kind = kind, .backend = backend, .prog_fd = -1};
        return &probes[id];
}

/* Sort ids 0..N-1 given in reverse (the input order must not matter) and compare. */
static void check_order(const struct skbt_loader *l, const uint32_t *want, int line)
{
        uint32_t ids[N];

        for (uint32_t i = 0; i < N; i++)
                ids[i] = N - 1 - i;
        CHECK_INTEQ(skbt_demand_order(l, ids, N), 0);
        for (uint32_t i = 0; i < N; i++)
                if (ids[i] != want[i]) {
                        fprintf(stderr, "line %d: position %u: probe %u, expected %u\n", line, i,
                                ids[i], want[i]);
                        testlib_failures++;
                        return;
                }
}

/* fentry: one program per function; tracepoints on their own backend. */
static void fentry(void)
{
        struct skbt_loader l = {.probes = probes, .n_probes = N, .backend = SKBT_BACKEND_FENTRY};

        memset(probes, 0, sizeof(probes));
        /* 0-1: tracepoints, 1 not loaded yet. */
        probe(0, SKBT_PROBE_TRACEPOINT, SKBT_BACKEND_TRACEPOINT)->loaded = true;
        probe(1, SKBT_PROBE_TRACEPOINT, SKBT_BACKEND_TRACEPOINT);
        /* 2-8: function entries. */
        probe(2, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY);                 /* nothing known */
        probe(3, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->grouped = true; /* on a path */
        probe(4, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->loaded = true;  /* loaded, no events */
        probe(5, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->loaded = true;
        probes[5].events = 3;
        probe(6, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->loaded = true;
        probes[6].events = 40;
        /* Fired before, its program not loaded (a tc/XDP program's is closed after each link):
         * after the loaded ones. */
        probe(7, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->events = 1000;
        probe(8, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->grouped = true;
        /* 9: a netfilter evaluator, 10-11: returns (those after everything else). */
        probe(9, SKBT_PROBE_NETFILTER, SKBT_BACKEND_FENTRY);
        probe(10, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->is_return = true;
        probe(11, SKBT_PROBE_FUNCTION, SKBT_BACKEND_FENTRY)->is_return = true;
        probes[11].loaded = true;

        check_order(&l, (const uint32_t[N]){0, 1, 6, 5, 4, 7, 3, 8, 2, 9, 11, 10}, __LINE__);
}

/* kprobe: no program of its own per function, so loaded says nothing about the cost. */
static void kprobe(void)
{
        struct skbt_loader l = {.probes = probes, .n_probes = N, .backend = SKBT_BACKEND_KPROBE};

        memset(probes, 0, sizeof(probes));
        for (uint32_t i = 0; i < N; i++)
                probe(i, SKBT_PROBE_FUNCTION, SKBT_BACKEND_KPROBE);
        probes[2].loaded = true; /* attached before: no head start on kprobe */
        probes[5].events = 1;
        probes[9].events = 7;
        probes[3].grouped = true;
        probes[10].grouped = true;
        probes[11].grouped = true;
        probes[11].events = 1;
        /* A tracepoint not loaded yet: first all the same (kprobe does not batch). */
        probe(7, SKBT_PROBE_TRACEPOINT, SKBT_BACKEND_TRACEPOINT);

        check_order(&l, (const uint32_t[N]){7, 9, 11, 5, 3, 10, 0, 1, 2, 4, 6, 8}, __LINE__);
}

/* kprobe-multi batches its entries: tracepoints still loading go after them. */
static void kprobe_multi(void)
{
        struct skbt_loader l = {
            .probes = probes, .n_probes = N, .backend = SKBT_BACKEND_KPROBE_MULTI};

        memset(probes, 0, sizeof(probes));
        for (uint32_t i = 0; i < N; i++)
                probe(i, SKBT_PROBE_FUNCTION, SKBT_BACKEND_KPROBE_MULTI);
        probe(0, SKBT_PROBE_TRACEPOINT, SKBT_BACKEND_TRACEPOINT);
        probe(1, SKBT_PROBE_TRACEPOINT, SKBT_BACKEND_TRACEPOINT)->loaded = true;
        probes[8].events = 2;
        probes[4].grouped = true;

        check_order(&l, (const uint32_t[N]){1, 8, 4, 2, 3, 5, 6, 7, 9, 10, 11, 0}, __LINE__);
}

int main(void)
{
        uint32_t one = 0;

        fentry();
        kprobe();
        kprobe_multi();
        /* Nothing to order. */
        CHECK_INTEQ(skbt_demand_order(&(struct skbt_loader){.probes = probes}, &one, 0), 0);
        return TEST_DONE();
}
