/* SPDX-License-Identifier: GPL-2.0-only */
/* test_misses.c - what each kernel does not count of the probe runs it skips */
#include <string.h>

#include "misses.h"
#include "testlib.h"

/* The reason given, and that it names the release that counts. */
static int names(const char *why, const char *release)
{
        return why && strstr(why, release) != NULL;
}

int main(void)
{
        /* fentry/fexit (trampolines, 5.12+) and raw tracepoints (6.1+; before, nested runs
         * were not skipped at all): counted on the VM tier's kernels and the host's. */
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_FENTRY, "6.1.0-57-cloud-amd64 x86_64") == NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_FENTRY, "6.12.118+deb12-cloud-amd64") == NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_TRACEPOINT, "6.18.0 x86_64") == NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_TRACEPOINT, "5.15.0-91-generic") == NULL);
        /* kprobes skipped for bpf_prog_active: counted from 6.7 (trace_call_bpf(), kprobe-multi
         * and the links' missed), so not on 6.1. */
        CHECK(names(skbt_misses_uncounted(SKBT_BACKEND_KPROBE, "6.1.0-57-cloud-amd64"), "6.7"));
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_KPROBE_MULTI, "6.6.30") != NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_KPROBE, "6.7.0") == NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_KPROBE_MULTI, "6.12.118+deb12-cloud-amd64") ==
              NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_KPROBE, "7.0-rc1") == NULL);
        /* No recursion_misses at all before 5.12. */
        CHECK(names(skbt_misses_uncounted(SKBT_BACKEND_FENTRY, "5.11.22"), "5.12"));
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_TRACEPOINT, "4.19.0") != NULL);
        /* Unreadable: said so, not guessed. */
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_FENTRY, "") != NULL);
        CHECK(skbt_misses_uncounted(SKBT_BACKEND_FENTRY, NULL) != NULL);
        return TEST_DONE();
}
