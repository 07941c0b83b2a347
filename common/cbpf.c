/* SPDX-License-Identifier: GPL-2.0-only */
/* cbpf.c - check, parse and print the classic BPF programs of pcap filters (no libpcap) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/filter.h>

#include "macro.h"
#include "pcap_filter.h"
#include "util.h"

/* Linux's ancillary loads start here (SKF_AD_OFF); a dead handle never emits them. */
#define SKF_AD_OFF_ ((uint32_t)-0x1000)

#define LEN_UNAVAILABLE "the packet length (len, greater, less) is not available to filters here"

static const char *check_ld(const struct skbt_cbpf_insn *in)
{
        uint16_t code = in->code, mode = BPF_MODE(code), size = BPF_SIZE(code);

        if (mode == BPF_LEN)
                return LEN_UNAVAILABLE;
        if (mode != BPF_IMM && mode != BPF_ABS && mode != BPF_IND && mode != BPF_MEM)
                return "unsupported load";
        if ((mode == BPF_ABS || mode == BPF_IND) && size != BPF_W && size != BPF_H && size != BPF_B)
                return "unsupported load size";
        if (mode == BPF_ABS && in->k >= SKF_AD_OFF_)
                return "Linux ancillary data (e.g. the skb's vlan tag) is not available";
        if (mode == BPF_MEM && in->k >= SKBT_CBPF_MEMWORDS)
                return "scratch memory index out of range";
        return NULL;
}

static const char *check_ldx(const struct skbt_cbpf_insn *in)
{
        uint16_t code = in->code;

        if (BPF_MODE(code) == BPF_LEN)
                return LEN_UNAVAILABLE;
        if (code != (BPF_LDX | BPF_W | BPF_IMM) && code != (BPF_LDX | BPF_W | BPF_MEM) &&
            code != (BPF_LDX | BPF_B | BPF_MSH))
                return "unsupported load into X";
        if (BPF_MODE(code) == BPF_MEM && in->k >= SKBT_CBPF_MEMWORDS)
                return "scratch memory index out of range";
        return NULL;
}

static const char *check_alu(const struct skbt_cbpf_insn *in)
{
        switch (BPF_OP(in->code)) {
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
                if (BPF_SRC(in->code) == BPF_K && in->k == 0)
                        return "division by zero";
                return NULL;
        }
        return "unsupported arithmetic";
}

/* Classic BPF jumps only forward; they must land inside the program. */
static const char *check_jmp(const struct skbt_cbpf_insn *in, uint32_t pc, uint32_t n)
{
        switch (BPF_OP(in->code)) {
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
}

/* Why the interpreter cannot run insn, or NULL when it can. */
static const char *check_insn(const struct skbt_cbpf_insn *in, uint32_t pc, uint32_t n)
{
        uint16_t code = in->code;

        switch (BPF_CLASS(code)) {
        case BPF_LD:
                return check_ld(in);
        case BPF_LDX:
                return check_ldx(in);
        case BPF_ST:
        case BPF_STX:
                if (in->k >= SKBT_CBPF_MEMWORDS)
                        return "scratch memory index out of range";
                return NULL;
        case BPF_ALU:
                return check_alu(in);
        case BPF_JMP:
                return check_jmp(in, pc, n);
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

int skbt_cbpf_check(const struct skbt_cbpf_prog *prog, char *err, size_t errlen)
{
        const char *why;

        if (prog->len == 0 || prog->len > SKBT_CBPF_MAX_INSNS)
                return skbt_fail(err, errlen,
                                 "a pcap filter program has 1 to %d instructions, not %u: "
                                 "simplify the expression or use the filter options (--proto, "
                                 "--addr, --port...) for part of it",
                                 SKBT_CBPF_MAX_INSNS, prog->len);
        for (uint32_t i = 0; i < prog->len; i++) {
                const struct skbt_cbpf_insn *in = &prog->insns[i];

                why = check_insn(in, i, prog->len);
                if (!why && i == prog->len - 1 && BPF_CLASS(in->code) != BPF_RET)
                        why = "the program does not end in a return";
                if (why)
                        return skbt_fail(err, errlen, "instruction %u: %s", i, why);
        }
        return 0;
}

/* One unsigned decimal number of at most max, then sep (or the end of the text for '\\0'). */
static const char *number(const char *s, uint32_t max, char sep, uint32_t *ret)
{
        uint64_t v = 0;
        const char *b = s;

        while (*s >= '0' && *s <= '9' && s - b < 10)
                v = v * 10 + (uint64_t)(*s++ - '0');
        if (s == b || v > max || (*s >= '0' && *s <= '9') || *s != sep)
                return NULL;
        *ret = (uint32_t)v;
        return sep ? s + 1 : s;
}

int skbt_cbpf_parse(const char *text, struct skbt_cbpf_prog *ret, char *err, size_t errlen)
{
        const char *s = text;
        uint32_t n, v[4];

        *ret = (struct skbt_cbpf_prog){0};
        s = number(s, UINT32_MAX, ',', &n);
        if (!s || n == 0 || n > SKBT_CBPF_MAX_INSNS)
                return skbt_fail(err, errlen,
                                 "pcap_program must be \"N,CODE JT JF K,...\" (tcpdump -ddd, "
                                 "lines joined by commas) with N from 1 to %d",
                                 SKBT_CBPF_MAX_INSNS);
        for (uint32_t i = 0; i < n; i++) {
                s = number(s, 0xffff, ' ', &v[0]);
                s = s ? number(s, 0xff, ' ', &v[1]) : NULL;
                s = s ? number(s, 0xff, ' ', &v[2]) : NULL;
                s = s ? number(s, UINT32_MAX, i + 1 < n ? ',' : '\0', &v[3]) : NULL;
                if (!s)
                        return skbt_fail(err, errlen,
                                         "pcap_program: instruction %u is not \"CODE JT JF K\" "
                                         "(decimal numbers; %u instructions announced)",
                                         i, n);
                ret->insns[i] = (struct skbt_cbpf_insn){
                    .code = (uint16_t)v[0], .jt = (uint8_t)v[1], .jf = (uint8_t)v[2], .k = v[3]};
        }
        if (*s)
                return skbt_fail(err, errlen, "pcap_program: text after the %u instructions", n);
        ret->len = n;
        return skbt_cbpf_check(ret, err, errlen);
}

int skbt_cbpf_format(const struct skbt_cbpf_prog *prog, char *buf, size_t len)
{
        size_t o;
        int w;

        w = snprintf(buf, len, "%u", prog->len);
        if (w < 0 || (size_t)w >= len)
                return -ENOBUFS;
        o = (size_t)w;
        for (uint32_t i = 0; i < prog->len; i++) {
                const struct skbt_cbpf_insn *in = &prog->insns[i];

                w = snprintf(buf + o, len - o, ",%u %u %u %u", in->code, in->jt, in->jf, in->k);
                if (w < 0 || (size_t)w >= len - o)
                        return -ENOBUFS;
                o += (size_t)w;
        }
        return 0;
}
