/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_filter.c - compile tcpdump filter expressions for the BPF interpreter */
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

/* Linux's ancillary loads start here (SKF_AD_OFF); a dead handle never emits them. */
#define SKF_AD_OFF_ ((uint32_t)-0x1000)

/* Why the interpreter cannot run insn, or NULL when it can. */
static const char *check_insn(const struct bpf_insn *in, uint32_t pc, uint32_t n)
{
        uint16_t code = in->code;

        switch (BPF_CLASS(code)) {
        case BPF_LD:
                if (BPF_MODE(code) == BPF_LEN)
                        return "the packet length (len, greater, less) is not available to "
                               "filters here";
                if (BPF_MODE(code) != BPF_IMM && BPF_MODE(code) != BPF_ABS &&
                    BPF_MODE(code) != BPF_IND && BPF_MODE(code) != BPF_MEM)
                        return "unsupported load";
                if ((BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND) &&
                    BPF_SIZE(code) != BPF_W && BPF_SIZE(code) != BPF_H && BPF_SIZE(code) != BPF_B)
                        return "unsupported load size";
                if (BPF_MODE(code) == BPF_ABS && in->k >= SKF_AD_OFF_)
                        return "Linux ancillary data (e.g. the skb's vlan tag) is not available";
                if (BPF_MODE(code) == BPF_MEM && in->k >= SKBT_CBPF_MEMWORDS)
                        return "scratch memory index out of range";
                return NULL;
        case BPF_LDX:
                if (BPF_MODE(code) == BPF_LEN)
                        return "the packet length (len, greater, less) is not available to "
                               "filters here";
                if (code != (BPF_LDX | BPF_W | BPF_IMM) && code != (BPF_LDX | BPF_W | BPF_MEM) &&
                    code != (BPF_LDX | BPF_B | BPF_MSH))
                        return "unsupported load into X";
                if (BPF_MODE(code) == BPF_MEM && in->k >= SKBT_CBPF_MEMWORDS)
                        return "scratch memory index out of range";
                return NULL;
        case BPF_ST:
        case BPF_STX:
                if (in->k >= SKBT_CBPF_MEMWORDS)
                        return "scratch memory index out of range";
                return NULL;
        case BPF_ALU:
                switch (BPF_OP(code)) {
                case BPF_ADD:
                case BPF_SUB:
                case BPF_MUL:
                case BPF_OR:
                case BPF_AND:
                case BPF_LSH:
                case BPF_RSH:
                case BPF_NEG:
                case BPF_XOR:
                        return NULL;
                case BPF_DIV:
                case BPF_MOD:
                        if (BPF_SRC(code) == BPF_K && in->k == 0)
                                return "division by zero";
                        return NULL;
                }
                return "unsupported arithmetic";
        case BPF_JMP:
                switch (BPF_OP(code)) {
                case BPF_JA:
                        if ((uint64_t)pc + 1 + in->k >= n)
                                return "jump out of the program";
                        return NULL;
                case BPF_JEQ:
                case BPF_JGT:
                case BPF_JGE:
                case BPF_JSET:
                        if (pc + 1 + (uint32_t)in->jt >= n || pc + 1 + (uint32_t)in->jf >= n)
                                return "jump out of the program";
                        return NULL;
                }
                return "unsupported jump";
        case BPF_RET:
                if (BPF_RVAL(code) != BPF_K && BPF_RVAL(code) != BPF_A)
                        return "unsupported return";
                return NULL;
        case BPF_MISC:
                if (BPF_MISCOP(code) != BPF_TAX && BPF_MISCOP(code) != BPF_TXA)
                        return "unsupported instruction";
                return NULL;
        }
        return "unsupported instruction";
}

int skbt_pcap_compile(const char *expr, struct skbt_cbpf_prog *ret, char *err, size_t errlen)
{
        _cleanup_(pcap_closep) pcap_t *p = NULL;
        struct bpf_program prog = {0};
        const char *why;
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

                why = check_insn(in, i, n);
                if (!why && i == n - 1 && BPF_CLASS(in->code) != BPF_RET)
                        why = "the program does not end in a return";
                if (why) {
                        pcap_freecode(&prog);
                        *ret = (struct skbt_cbpf_prog){0};
                        return skbt_fail(err, errlen, "pcap filter '%.*s' is not supported: %s",
                                         200, expr, why);
                }
                ret->insns[i] = (struct skbt_cbpf_insn){
                    .code = in->code, .jt = in->jt, .jf = in->jf, .k = in->k};
        }
        pcap_freecode(&prog);
        return 0;
}
