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

/* The text the client sends (pcap_program) and what the daemon parses and checks from it. */
static void test_program_text(void)
{
        static const char *const bad[] = {
            "",
            "0",
            "65,6 0 0 0",
            "1,6 0 0 0,6 0 0 0",  /* more than announced */
            "2,6 0 0 0",          /* fewer */
            "1,6 0 0 4294967296", /* k out of range */
            "1,6  0 0 0",         /* two blanks */
            "1,6 0 0 -1",
            "1, 6 0 0 0",
            "1,6 0 0 0 ",
            "1,21 0 0 0",                  /* jumps out, and no return at the end */
            "2,21 5 0 0,6 0 0 0",          /* jump past the end */
            "2,128 0 0 0,6 0 0 0",         /* packet length */
            "2,32 0 0 4294963200,6 0 0 0", /* ancillary load */
            "2,2 0 0 16,6 0 0 0",          /* scratch index out of range */
            "2,52 0 0 0,6 0 0 0",          /* division by constant zero */
            "1,65535 0 0 0",               /* unknown opcode */
            "1,6 0 0 0,",
            "01x",
        };
        struct skbt_cbpf_prog prog, back;
        char text[SKBT_CBPF_TEXT_MAX + 1], err[512];

        for (size_t e = 0; e < ARRAY_SIZE(pcap_exprs); e++) {
                CHECK_INTEQ(skbt_pcap_compile(pcap_exprs[e], &prog, err, sizeof(err)), 0);
                CHECK_INTEQ(skbt_cbpf_format(&prog, text, sizeof(text)), 0);
                CHECK_INTEQ(skbt_cbpf_parse(text, &back, err, sizeof(err)), 0);
                CHECK(memcmp(&prog, &back, sizeof(prog)) == 0);
        }
        CHECK_INTEQ(skbt_cbpf_parse("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0", &prog, err,
                                    sizeof(err)),
                    0);
        CHECK_INTEQ(prog.len, 4);
        CHECK_INTEQ(prog.insns[1].k, 2048);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                err[0] = '\0';
                if (skbt_cbpf_parse(bad[i], &prog, err, sizeof(err)) != -EINVAL)
                        fprintf(stderr, "'%s' was accepted\n", bad[i]);
                CHECK(err[0] != '\0');
        }
        CHECK_INTEQ(skbt_cbpf_format(&back, text, 8), -ENOBUFS);
}

int main(void)
{
        test_errors();
        test_program_text();
        test_against_libpcap();
        return TEST_DONE();
}
