/* SPDX-License-Identifier: GPL-2.0-only */
/* test_load_why.c - why a program load failed, in words, from the verifier's statistics log */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "loader-internal.h"
#include "testlib.h"

int main(void)
{
        char why[SKBT_WHY_MAX];

        /* Linux 6.1 on the netfilter kprobe entry that read its stamp from the attach cookie
         * (tests/vm/netfilter.sh, kprobe): E2BIG, "Argument list too long" on its own. */
        skbt_load_why(why, E2BIG,
                      "BPF program is too large. Processed 1000001 insn\n"
                      "verification time 55022536 usec\n"
                      "stack depth 400+16+40+48\n"
                      "processed 1000001 insns (limit 1000000) max_states_per_insn 46 "
                      "total_states 51217 peak_states 3148 mark_read 73\n");
        CHECK_STREQ(why, "load failed: program too complex for this kernel's verifier (1000001 "
                         "instructions processed, its limit is 1000000)");

        /* Any other refusal: the verifier's own last word, before its statistics. */
        skbt_load_why(why, EACCES,
                      "R1 type=scalar expected=fp\n"
                      "R2 invalid mem access 'scalar'\n"
                      "processed 812 insns (limit 1000000) max_states_per_insn 1 total_states 40 "
                      "peak_states 40 mark_read 12\n");
        CHECK_STREQ(why, "load failed: the verifier refused it (Permission denied): R2 invalid "
                         "mem access 'scalar'");

        /* No log (the kernel wrote none): the errno alone. */
        skbt_load_why(why, EPERM, "");
        CHECK_STREQ(why, "load failed: Operation not permitted");

        /* A reason longer than the probe's error holds: cut, still a string. */
        {
                char log[600];

                memset(log, 'x', sizeof(log) - 1);
                log[sizeof(log) - 1] = '\0';
                skbt_load_why(why, EINVAL, log);
                CHECK(strlen(why) < SKBT_WHY_MAX);
                CHECK(strncmp(why, "load failed: the verifier refused it (Invalid argument): xx",
                              59) == 0);
        }
        return TEST_DONE();
}
