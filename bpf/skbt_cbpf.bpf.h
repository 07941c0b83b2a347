/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_cbpf.bpf.h - bounded classic BPF interpreter for pcap filters over the header copy */
#pragma once

/*
 * A session's pcap filter (common/skbt_cbpf.h) runs here over the bytes the
 * parser copied (skbt_parse.bpf.h): at most SKBT_HDR_MAX bytes starting at
 * the Ethernet header (L2 probe points) or at the network header (L3).
 * libpcap compiles for Ethernet, so at an L3 start the interpreter shows the
 * program a synthesized 14-byte Ethernet header in front of the copy: zero
 * MAC addresses and skb->protocol (or, if unset, the IP version's) as
 * ethertype.  One program then serves both kinds of probe points.
 *
 * Loads past the copied bytes fail and the filter does not match, as a
 * classic BPF filter does not match a packet too short for its loads.
 * The daemon (daemon/probes/pcap_filter.c) only stores programs whose opcodes are
 * handled below; anything else stops the program without a match.
 *
 * Like skbt_parse.bpf.h, this compiles for the host too (SKBT_PARSE_HOST),
 * so the unit tests check it against libpcap's own interpreter.
 */
#include "skbt_cbpf.h"
#include "skbt_parse.bpf.h"

/* The interpreter's registers and scratch memory. */
struct skbt_cbpf_vm {
        __u32 a;
        __u32 x;
        __u32 pc;
        __u32 pad;
        __u32 mem[SKBT_CBPF_MEMWORDS];
};

/* skbt_cbpf_run()'s info argument: what the copy in the buffer is. */
#define SKBT_CBPF_INFO(len, l2, eth_proto)                                                         \
        (((__u32)(len)&0xff) | ((l2) ? 0x100u : 0) | ((__u32)(eth_proto) << 16))
/*
 * The same for a frame that starts base bytes into the buffer: a tunnel's
 * inner packet (--layer).  Headers are whole 2-byte words, so is base: it
 * is kept halved, in bits 9-15.
 */
#define SKBT_CBPF_INFO_AT(len, l2, eth_proto, base)                                                \
        (SKBT_CBPF_INFO(len, l2, eth_proto) | ((((__u32)(base) >> 1) & 0x7f) << 9))
#define SKBT_CBPF_BASE(info) ((((info) >> 9) & 0x7f) << 1)

/* The header copy as a sized type, so a global function can take it as an argument. */
struct skbt_cbpf_buf {
        __u8 b[SKBT_HDR_BUF];
};

/* Classic BPF opcodes (linux/filter.h, linux/bpf_common.h). */
#define SKBT_CB_LD 0x00
#define SKBT_CB_LDX 0x01
#define SKBT_CB_ST 0x02
#define SKBT_CB_STX 0x03
#define SKBT_CB_ALU 0x04
#define SKBT_CB_JMP 0x05
#define SKBT_CB_RET 0x06
#define SKBT_CB_MISC 0x07

#define SKBT_CB_W 0x00
#define SKBT_CB_H 0x08
#define SKBT_CB_B 0x10

#define SKBT_CB_IMM 0x00
#define SKBT_CB_ABS 0x20
#define SKBT_CB_IND 0x40
#define SKBT_CB_MEM 0x60
#define SKBT_CB_MSH 0xa0

#define SKBT_CB_ADD 0x00
#define SKBT_CB_SUB 0x10
#define SKBT_CB_MUL 0x20
#define SKBT_CB_DIV 0x30
#define SKBT_CB_OR 0x40
#define SKBT_CB_AND 0x50
#define SKBT_CB_LSH 0x60
#define SKBT_CB_RSH 0x70
#define SKBT_CB_NEG 0x80
#define SKBT_CB_MOD 0x90
#define SKBT_CB_XOR 0xa0

#define SKBT_CB_JA 0x00
#define SKBT_CB_JEQ 0x10
#define SKBT_CB_JGT 0x20
#define SKBT_CB_JGE 0x30
#define SKBT_CB_JSET 0x40

#define SKBT_CB_K 0x00
#define SKBT_CB_X 0x08
#define SKBT_CB_A 0x10

#define SKBT_CB_TAX 0x00
#define SKBT_CB_TXA 0x80

/*
 * Read through memory on purpose: in BPF the registers live in map memory,
 * whose contents the verifier does not track, so every iteration of the
 * loop starts from the same state instead of one per value range.
 */
#define SKBT_CB_VOL(v) (*(volatile __u32 *)&(v))

/* Frame byte p (p < frame length, checked by the caller). */
SKBT_INLINE __u32 skbt_cbpf_byte(const struct skbt_cbpf_buf *buf, __u32 info, __u32 p)
{
        __u32 proto = info >> 16;

        if (!(info & 0x100)) {
                if (p < 14) {
                        if (p == 12)
                                return proto >> 8;
                        if (p == 13)
                                return proto & 0xff;
                        return 0;
                }
                p -= 14;
        }
        p += SKBT_CBPF_BASE(info);
#ifndef SKBT_PARSE_HOST
        /* p < 256 here; the verifier needs to see the bound on this copy of it. */
        asm volatile("%[v] &= 0xff" : [v] "+r"(p));
#endif
        return buf->b[p & 0xff];
}

/* Load size (1, 2 or 4) bytes at frame offset off, big endian; -1 when out of the copy. */
SKBT_INLINE int skbt_cbpf_load(const struct skbt_cbpf_buf *buf, __u32 info, __u64 off, __u32 size,
                               __u32 *ret)
{
        __u32 flen = (info & 0xff) + ((info & 0x100) ? 0 : 14);
        __u32 p = (__u32)off, v;

        if (off >= flen || off + size > flen)
                return -1;
        v = skbt_cbpf_byte(buf, info, p);
        if (size >= 2)
                v = (v << 8) | skbt_cbpf_byte(buf, info, p + 1);
        if (size == 4) {
                v = (v << 8) | skbt_cbpf_byte(buf, info, p + 2);
                v = (v << 8) | skbt_cbpf_byte(buf, info, p + 3);
        }
        *ret = v;
        return 0;
}

SKBT_INLINE __u32 skbt_cbpf_size(__u16 code)
{
        switch (code & 0x18) {
        case SKBT_CB_W:
                return 4;
        case SKBT_CB_H:
                return 2;
        default:
                return 1;
        }
}

/* Execute one instruction: -1 to go on (vm->pc updated), else the filter's verdict. */
SKBT_INLINE int skbt_cbpf_step(const struct skbt_cbpf_prog *prog, const struct skbt_cbpf_buf *buf,
                               __u32 info, struct skbt_cbpf_vm *vm)
{
        __u32 pc = SKBT_CB_VOL(vm->pc), n = prog->len, a, x, k, v = 0, next;
        const struct skbt_cbpf_insn *in;
        __u16 code;

        if (pc >= n || pc >= SKBT_CBPF_MAX_INSNS)
                return 0;
#ifndef SKBT_PARSE_HOST
        asm volatile("%[v] &= 0x3f" : [v] "+r"(pc));
#endif
        in = &prog->insns[pc & (SKBT_CBPF_MAX_INSNS - 1)];
        code = in->code;
        k = in->k;
        a = SKBT_CB_VOL(vm->a);
        x = SKBT_CB_VOL(vm->x);
        next = pc + 1;

        switch (code & 0x07) {
        case SKBT_CB_LD:
                switch (code & 0xe0) {
                case SKBT_CB_IMM:
                        a = k;
                        break;
                case SKBT_CB_ABS:
                        if (skbt_cbpf_load(buf, info, k, skbt_cbpf_size(code), &v) < 0)
                                return 0;
                        a = v;
                        break;
                case SKBT_CB_IND:
                        if (skbt_cbpf_load(buf, info, (__u64)x + k, skbt_cbpf_size(code), &v) < 0)
                                return 0;
                        a = v;
                        break;
                case SKBT_CB_MEM:
                        a = SKBT_CB_VOL(vm->mem[k & (SKBT_CBPF_MEMWORDS - 1)]);
                        break;
                default:
                        return 0;
                }
                break;
        case SKBT_CB_LDX:
                switch (code & 0xe0) {
                case SKBT_CB_IMM:
                        x = k;
                        break;
                case SKBT_CB_MEM:
                        x = SKBT_CB_VOL(vm->mem[k & (SKBT_CBPF_MEMWORDS - 1)]);
                        break;
                case SKBT_CB_MSH:
                        if (skbt_cbpf_load(buf, info, k, 1, &v) < 0)
                                return 0;
                        x = (v & 0xf) << 2;
                        break;
                default:
                        return 0;
                }
                break;
        case SKBT_CB_ST:
                SKBT_CB_VOL(vm->mem[k & (SKBT_CBPF_MEMWORDS - 1)]) = a;
                break;
        case SKBT_CB_STX:
                SKBT_CB_VOL(vm->mem[k & (SKBT_CBPF_MEMWORDS - 1)]) = x;
                break;
        case SKBT_CB_ALU:
                v = (code & SKBT_CB_X) ? x : k;
                switch (code & 0xf0) {
                case SKBT_CB_ADD:
                        a += v;
                        break;
                case SKBT_CB_SUB:
                        a -= v;
                        break;
                case SKBT_CB_MUL:
                        a *= v;
                        break;
                case SKBT_CB_DIV:
                        if (!v)
                                return 0;
                        a /= v;
                        break;
                case SKBT_CB_MOD:
                        if (!v)
                                return 0;
                        a %= v;
                        break;
                case SKBT_CB_OR:
                        a |= v;
                        break;
                case SKBT_CB_AND:
                        a &= v;
                        break;
                case SKBT_CB_XOR:
                        a ^= v;
                        break;
                case SKBT_CB_LSH:
                        a = v < 32 ? a << v : 0;
                        break;
                case SKBT_CB_RSH:
                        a = v < 32 ? a >> v : 0;
                        break;
                case SKBT_CB_NEG:
                        a = 0 - a;
                        break;
                default:
                        return 0;
                }
                break;
        case SKBT_CB_JMP: {
                int taken;

                v = (code & SKBT_CB_X) ? x : k;
                switch (code & 0xf0) {
                case SKBT_CB_JA:
                        next = pc + 1 + k;
                        goto out;
                case SKBT_CB_JEQ:
                        taken = a == v;
                        break;
                case SKBT_CB_JGT:
                        taken = a > v;
                        break;
                case SKBT_CB_JGE:
                        taken = a >= v;
                        break;
                case SKBT_CB_JSET:
                        taken = (a & v) != 0;
                        break;
                default:
                        return 0;
                }
                next = pc + 1 + (taken ? in->jt : in->jf);
                break;
        }
        case SKBT_CB_RET:
                v = (code & 0x18) == SKBT_CB_A ? a : k;
                return v != 0;
        case SKBT_CB_MISC:
                if ((code & 0xf8) == SKBT_CB_TXA)
                        a = x;
                else
                        x = a;
                break;
        }
out:
        SKBT_CB_VOL(vm->a) = a;
        SKBT_CB_VOL(vm->x) = x;
        SKBT_CB_VOL(vm->pc) = next;
        return -1;
}

/* At an L3 start without skb->protocol, the IP version nibble gives the ethertype. */
SKBT_INLINE __u32 skbt_cbpf_info_fixup(const struct skbt_cbpf_buf *buf, __u32 info)
{
        __u32 v;

        if ((info & 0x100) || (info >> 16) || !(info & 0xff))
                return info;
        v = buf->b[SKBT_CBPF_BASE(info) & 0xff] >> 4;
        if (v == 4)
                return info | (0x0800u << 16);
        if (v == 6)
                return info | (0x86ddu << 16);
        return info;
}

#ifdef SKBT_PARSE_HOST
/* Host build: the same steps over a local state. */
static inline int skbt_cbpf_run_host(const struct skbt_cbpf_prog *prog,
                                     const struct skbt_cbpf_buf *buf, __u32 info)
{
        struct skbt_cbpf_vm vm = {0};

        if (!prog->len)
                return 1;
        info = skbt_cbpf_info_fixup(buf, info);
        for (int i = 0; i < SKBT_CBPF_MAX_INSNS; i++) {
                int r = skbt_cbpf_step(prog, buf, info, &vm);

                if (r >= 0)
                        return r;
        }
        return 0;
}
#else
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct skbt_cbpf_vm);
} cbpf_vm SEC(".maps");

/*
 * One step, as a global function of its own: the verifier checks it once,
 * and the loop below costs it a call per iteration instead of a walk of
 * every opcode's path per iteration (64 of them), which made each program
 * several times more expensive to load (a program is loaded per probe).
 */
__noinline int skbt_cbpf_step_g(const struct skbt_cbpf_prog *prog, const struct skbt_cbpf_buf *buf,
                                __u32 info, struct skbt_cbpf_vm *vm)
{
        if (!prog || !buf || !vm)
                return 0;
        return skbt_cbpf_step(prog, buf, info, vm);
}

/*
 * 1 when the program accepts the packet.  Global, so the verifier walks it
 * once for all callers; a program of n instructions runs at most n steps,
 * since the daemon only stores programs whose jumps all go forward.
 * info: SKBT_CBPF_INFO() of the copy in buf.
 */
__noinline int skbt_cbpf_run(const struct skbt_cbpf_prog *prog, const struct skbt_cbpf_buf *buf,
                             __u32 info)
{
        struct skbt_cbpf_vm *vm;
        __u32 zero = 0;
        int i, r;

        if (!prog || !buf)
                return 0;
        if (!prog->len)
                return 1;
        vm = bpf_map_lookup_elem(&cbpf_vm, &zero);
        if (!vm)
                return 0;
        info = skbt_cbpf_info_fixup(buf, info);
        SKBT_CB_VOL(vm->pc) = 0;
        SKBT_CB_VOL(vm->a) = 0;
        SKBT_CB_VOL(vm->x) = 0;
        for (i = 0; i < SKBT_CBPF_MAX_INSNS; i++) {
                r = skbt_cbpf_step_g(prog, buf, info, vm);
                if (r >= 0)
                        return r;
        }
        return 0;
}
#endif
