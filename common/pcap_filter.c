/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_filter.c - compile tcpdump filter expressions for the BPF interpreter (client side) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "macro.h"
#include "pcap_filter.h"
#include "util.h"

static void pcap_closep(pcap_t **p)
{
        if (*p)
                pcap_close(*p);
}

int skbt_pcap_compile(const char *expr, struct skbt_cbpf_prog *ret, char *err, size_t errlen)
{
        _cleanup_(pcap_closep) pcap_t *p = NULL;
        struct bpf_program prog = {0};
        char why[256];
        uint32_t n;

        if (!expr || !*expr)
                return skbt_fail(err, errlen, "empty pcap filter expression");
        if (strlen(expr) > SKBT_PCAP_EXPR_MAX)
                return skbt_fail(err, errlen, "pcap filter expression longer than %d bytes",
                                 SKBT_PCAP_EXPR_MAX);
        /* The interpreter shows L3 probe points an Ethernet header too (skbt_cbpf.bpf.h). */
        p = pcap_open_dead(DLT_EN10MB, 262144);
        if (!p)
                return skbt_fail(err, errlen, "cannot set up libpcap to compile the filter");
        if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
                return skbt_fail(err, errlen, "invalid pcap filter '%.*s': %s", 200, expr,
                                 pcap_geterr(p));
        n = prog.bf_len;
        if (n > SKBT_CBPF_MAX_INSNS) {
                pcap_freecode(&prog);
                return skbt_fail(err, errlen,
                                 "pcap filter '%.*s' compiles to %u instructions, more than the %d "
                                 "a session may use: simplify it or use the filter options "
                                 "(--proto, --addr, --port...) for part of it",
                                 64, expr, n, SKBT_CBPF_MAX_INSNS);
        }
        *ret = (struct skbt_cbpf_prog){.len = n};
        for (uint32_t i = 0; i < n; i++) {
                const struct bpf_insn *in = &prog.bf_insns[i];

                ret->insns[i] = (struct skbt_cbpf_insn){
                    .code = in->code, .jt = in->jt, .jf = in->jf, .k = in->k};
        }
        pcap_freecode(&prog);
        /* The daemon's checks, so that what it would refuse fails here, with the expression. */
        if (skbt_cbpf_check(ret, why, sizeof(why)) < 0) {
                *ret = (struct skbt_cbpf_prog){0};
                return skbt_fail(err, errlen, "pcap filter '%.*s' is not supported: %s", 200, expr,
                                 why);
        }
        return 0;
}
