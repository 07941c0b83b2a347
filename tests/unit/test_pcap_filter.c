/* SPDX-License-Identifier: GPL-2.0-only */
/* test_pcap_filter.c - pcap filters: compile checks, host-built interpreter vs libpcap */
#include <errno.h>
#include <stdio.h>

#define SKBT_PARSE_HOST
#include "skbt_cbpf.bpf.h"

#include "macro.h"
#include "pcap_cases.h"
#include "pcap_filter.h"
#include "testlib.h"

_Static_assert(PCAP_CASE_HDR_MAX == SKBT_HDR_MAX, "pcap cases copy what the tracing path copies");

static struct pkt_case cases[64];

static void test_against_libpcap(void)
{
        int n = build_cases(cases), checked = 0;

        for (size_t e = 0; e < ARRAY_SIZE(pcap_exprs); e++) {
                struct skbt_cbpf_prog prog;
                char err[512];
                int matched = 0, missed = 0;

                if (skbt_pcap_compile(pcap_exprs[e], &prog, err, sizeof(err)) < 0) {
                        fprintf(stderr, "'%s': %s\n", pcap_exprs[e], err);
                        CHECK(0);
                        continue;
                }
                for (int i = 0; i < n; i++) {
                        struct skbt_cbpf_buf buf = {0};
                        uint8_t frame[PCAP_FRAME_MAX];
                        uint32_t info, len = pcap_case_frame(&cases[i], frame, &info);
                        int want = pcap_reference(pcap_exprs[e], frame, len), got;

                        memcpy(buf.b, cases[i].data, MIN(cases[i].len, SKBT_HDR_MAX));
                        got = skbt_cbpf_run_host(&prog, &buf, info);
                        if (got != want) {
                                fprintf(stderr, "'%s' on '%s': got %d, libpcap says %d\n",
                                        pcap_exprs[e], cases[i].name, got, want);
                                CHECK(0);
                        }
                        matched += want == 1;
                        missed += want == 0;
                        checked++;
                }
                if (!matched || !missed) {
                        fprintf(stderr,
                                "'%s' matches %d and misses %d packets: not a useful case\n",
                                pcap_exprs[e], matched, missed);
                        CHECK(0);
                }
        }
        printf("%d expression x packet checks agree with libpcap\n", checked);
}

static void test_errors(void)
{
        struct skbt_cbpf_prog prog;
        char err[512];

        CHECK_INTEQ(skbt_pcap_compile("tcp prt 80", &prog, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "invalid pcap filter 'tcp prt 80'") != NULL);
        CHECK_INTEQ(skbt_pcap_compile("", &prog, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "empty") != NULL);
        CHECK_INTEQ(skbt_pcap_compile("greater 100", &prog, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "packet length") != NULL);
        CHECK_INTEQ(skbt_pcap_compile("host 1.1.1.1 or host 1.1.1.2 or host 1.1.1.3 or host "
                                      "1.1.1.4 or host 1.1.1.5 or host 1.1.1.6 or host 1.1.1.7 "
                                      "or host 1.1.1.8 or host 1.1.1.9 or host 1.1.1.10 or "
                                      "host 1.1.1.11 or host 1.1.1.12 or host 1.1.1.13 or "
                                      "host 1.1.1.14 or host 1.1.1.15 or host 1.1.1.16 or "
                                      "host 1.1.1.17 or host 1.1.1.18 or host 1.1.1.19 or "
                                      "host 1.1.1.20 or host 1.1.1.21 or host 1.1.1.22 or "
                                      "host 1.1.1.23 or host 1.1.1.24 or host 1.1.1.25 or "
                                      "host 1.1.1.26 or host 1.1.1.27 or host 1.1.1.28 or "
                                      "host 1.1.1.29 or host 1.1.1.30 or host 1.1.1.31",
                                      &prog, err, sizeof(err)),
                    -EINVAL);
        if (!strstr(err, "instructions, more than the 64")) {
                fprintf(stderr, "long filter: %s\n", err);
                CHECK(0);
        }
        CHECK_INTEQ(skbt_pcap_compile("tcp port 80 and host 10.0.0.1", &prog, err, sizeof(err)), 0);
        CHECK(prog.len > 0 && prog.len <= SKBT_CBPF_MAX_INSNS);
}

int main(void)
{
        test_errors();
        test_against_libpcap();
        return TEST_DONE();
}
