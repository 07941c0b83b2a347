/* SPDX-License-Identifier: GPL-2.0-only */
/* test_bpf_graph.c - function_graph's per-task call stacks through BPF_PROG_TEST_RUN */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The types of the programs' .bss (the skeleton names them). */
#include "loader.h"
#include "graph_test.skel.h"
#include "testlib.h"

#define ENTRY 1
#define RET 2
#define DEPTH 32 /* SKBT_GRAPH_DEPTH in bpf/skbt_body.bpf.h */

static int n_cpus;

static uint64_t percpu_sum(int fd, uint32_t key)
{
        uint64_t vals[n_cpus], sum = 0;

        if (bpf_map_lookup_elem(fd, &key, vals) < 0)
                return ~0ULL;
        for (int i = 0; i < n_cpus; i++)
                sum += vals[i];
        return sum;
}

static uint64_t stat(struct graph_test *skel, uint32_t idx)
{
        return percpu_sum(bpf_map__fd(skel->maps.stats), idx);
}

/* Session slot 0's losses. */
static uint64_t lost0(struct graph_test *skel)
{
        return percpu_sum(bpf_map__fd(skel->maps.lost), 0);
}

static uint32_t entries(struct graph_test *skel)
{
        int fd = bpf_map__fd(skel->maps.graph_stack);
        uint64_t key, next;
        uint32_t n = 0;
        int r = bpf_map_get_next_key(fd, NULL, &next);

        while (r == 0 && n < 1000) {
                n++;
                key = next;
                r = bpf_map_get_next_key(fd, &key, &next);
        }
        return n;
}

static void run(struct graph_test *skel, uint32_t pushes, uint32_t pops)
{
        LIBBPF_OPTS(bpf_test_run_opts, opts);

        skel->bss->test_pushes = pushes;
        skel->bss->test_pops = pops;
        CHECK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.graph_test), &opts) == 0);
}

/* max_entries 0: as declared.  prealloc: the form kernels before 6.1 get (probes/loader.c). */
static struct graph_test *open_load(uint32_t max_entries, bool prealloc)
{
        struct graph_test *skel = graph_test__open();

        CHECK(skel != NULL);
        if (!skel)
                return NULL;
        if (max_entries)
                CHECK(bpf_map__set_max_entries(skel->maps.graph_stack, max_entries) == 0);
        if (prealloc) {
                CHECK(bpf_map__set_type(skel->maps.graph_stack, BPF_MAP_TYPE_LRU_HASH) == 0);
                CHECK(bpf_map__set_map_flags(skel->maps.graph_stack, 0) == 0);
        }
        /* The ring buffer the returns report to: small is enough. */
        CHECK(bpf_map__set_max_entries(skel->maps.events, 1 << 16) == 0);
        if (graph_test__load(skel) < 0) {
                fprintf(stderr, "cannot load graph_test: %s\n", strerror(errno));
                CHECK(0);
                graph_test__destroy(skel);
                return NULL;
        }
        skel->bss->test_entry = ENTRY;
        skel->bss->test_ret = RET;
        skel->bss->probe_return[ENTRY] = RET + 1;
        skel->bss->probe_sessions[RET] = 1;
        skel->bss->state.active = 1;
        skel->bss->state.graph = 1;
        return skel;
}

/* A stack exists while its task is inside a call, and goes with the return that empties it. */
static void test_push_pop(bool prealloc)
{
        struct graph_test *skel = open_load(0, prealloc);
        uint64_t emitted;

        if (!skel)
                return;
        emitted = stat(skel, SKBT_STAT_EMITTED);
        run(skel, 1, 0);
        CHECK_INTEQ(entries(skel), 1);
        run(skel, 0, 1);
        CHECK_INTEQ(entries(skel), 0);
        CHECK_INTEQ(stat(skel, SKBT_STAT_EMITTED) - emitted, 1);

        /* Deeper than followed: the 33rd entry's return is lost, counted. */
        run(skel, DEPTH + 1, 0);
        CHECK_INTEQ(entries(skel), 1);
        CHECK_INTEQ(stat(skel, SKBT_STAT_GRAPH_LOST), 1);
        CHECK_INTEQ(lost0(skel), 1);
        run(skel, 0, DEPTH);
        CHECK_INTEQ(entries(skel), 0);
        CHECK_INTEQ(stat(skel, SKBT_STAT_EMITTED) - emitted, 1 + DEPTH);
        /* Nothing to pop: no stack made. */
        run(skel, 0, 1);
        CHECK_INTEQ(entries(skel), 0);
        graph_test__destroy(skel);
}

/* No room for the task's stack (full; no memory takes the same path): the return is lost, counted.
 */
static void test_full(void)
{
        struct graph_test *skel = open_load(1, false);
        struct bpf_map_info info = {};
        uint32_t len = sizeof(info);
        uint64_t other = 1; /* no task's pid_tgid */
        static const char zero[4096];

        if (!skel)
                return;
        CHECK(bpf_map__value_size(skel->maps.graph_stack) <= sizeof(zero));
        CHECK(bpf_obj_get_info_by_fd(bpf_map__fd(skel->maps.graph_stack), &info, &len) == 0);
        CHECK_INTEQ(info.type, BPF_MAP_TYPE_HASH);
        CHECK_INTEQ(info.map_flags, BPF_F_NO_PREALLOC);
        CHECK(bpf_map_update_elem(bpf_map__fd(skel->maps.graph_stack), &other, zero, BPF_NOEXIST) ==
              0);
        run(skel, 1, 0);
        CHECK_INTEQ(entries(skel), 1);
        CHECK_INTEQ(stat(skel, SKBT_STAT_GRAPH_LOST), 1);
        CHECK_INTEQ(lost0(skel), 1);
        graph_test__destroy(skel);
}

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "needs root to load BPF programs\n");
                return 77;
        }
        n_cpus = libbpf_num_possible_cpus();
        CHECK(n_cpus > 0);
        if (n_cpus <= 0)
                return TEST_DONE();
        test_push_pop(false);
        test_push_pop(true);
        test_full();
        return TEST_DONE();
}
