/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_nf.bpf.h - netfilter verdicts: which table or chain saw the packet, and what it decided */
#pragma once

#include "skbt_body.bpf.h"

/*
 * One evaluation of an iptables table (ipt_do_table and its ip6/arp
 * twins) or nftables base chain (nft_do_chain) is one record, sent when the
 * function returns its verdict.  The entry does the usual work (select,
 * parse, filter) into a record kept in a per-task stack instead of the ring
 * buffer; the return pops it, adds the verdict and sends it.  At the return
 * the skb may be gone (NF_STOLEN, or a drop freed by the caller right
 * after), so nothing of it is read there.  kretprobes see no arguments at
 * all, which is the other reason for the stack.
 *
 * Offsets into the netfilter structures come from the daemon (struct
 * skbt_nf_conf): they live in modules, which need not be loaded when these
 * programs are.
 */
struct skbt_nf_conf nf_conf SEC(".bss");

struct skbt_nf_rec {
        struct skbt_event ev;
        struct skbt_nf nf;
};

/* Evaluations nest when a hook sends a packet (a REJECT's reply through OUTPUT). */
#define SKBT_NF_DEPTH 4
/*
 * An evaluation takes microseconds; a frame older than this many jiffies
 * (100 ms at HZ=250, 25 ms at HZ=1000) lost its return.  Jiffies, not
 * bpf_ktime_get_ns(): the entry runs at every evaluation, also of packets
 * no session wants, and a clock read was most of its cost in the VM
 * (docs/performance.md).
 */
#define SKBT_NF_STALE_JIFFIES 25

struct skbt_nf_frames {
        __u32 depth;
        __u32 overflow; /* entries deeper than SKBT_NF_DEPTH whose returns are pending */
        /* xt[depth]: 1 when the entry of the evaluation at depth - 1 took an iptables
         * snapshot (--nf-rules) that its return replays.  The return's only test for
         * evaluations that no session asked to number (indexed by the depth it loads). */
        __u8 xt[SKBT_NF_DEPTH + 1];
        __u8 pad[3];
        __u64 ts[SKBT_NF_DEPTH]; /* bpf_jiffies64() at each entry */
        /* f[].nf's rule fields: written by nftables' trace hook (skbt_nft_hook()). */
        struct skbt_nf_rec f[SKBT_NF_DEPTH];
};

/*
 * Frames on every task's stack (pushed and not yet popped or found stale),
 * changed atomically.  0 (almost always while no session wants the packets
 * evaluated): no task is inside an evaluation that has a frame, so a return
 * and a drop probe need no stack lookup (a hash of the task, under TCG as
 * costly as the rest of the hit), and an entry whose packet the mark rules out
 * needs no frame: its return finds none of its task's and pops nothing.
 * While some task has a frame, every entry pushes one (an empty one for a
 * packet no session wants), so that a return inside a task that has frames
 * always pops its own entry's.  It can only count too high (a task's stack
 * dropped by the LRU map with frames on it): that costs the lookups, never a
 * verdict.
 */
__u64 nf_frames SEC(".bss");

static __always_inline bool skbt_nf_no_frames(void)
{
        return !*(volatile __u64 *)&nf_frames;
}

/* Sessions whose verdicts name the rule that decided (the nf_rules parameter). */
__u64 nf_rule_sessions SEC(".bss");

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 1024); /* tasks inside a hook at once: a few per CPU */
        __type(key, __u64);        /* pid_tgid */
        __type(value, struct skbt_nf_frames);
} nf_stack SEC(".maps");

/* Too big for the BPF stack; never written. */
static const struct skbt_nf_frames nf_frames_zero;

static __always_inline __u64 skbt_nf_read_u64(__u64 base, __u32 off)
{
        __u64 v = 0;

        if (base)
                bpf_probe_read_kernel(&v, sizeof(v), (void *)(base + off));
        return v;
}

static __always_inline __u8 skbt_nf_read_u8(__u64 base, __u32 off)
{
        __u8 v = 0;

        if (base)
                bpf_probe_read_kernel(&v, sizeof(v), (void *)(base + off));
        return v;
}

static __always_inline void skbt_nf_read_str(char *dst, __u64 src)
{
        dst[0] = 0;
        if (src && bpf_probe_read_kernel_str(dst, SKBT_NF_NAME, (void *)src) < 0)
                dst[0] = 0;
}

/*
 * iptables rule numbers (--nf-rules), from the per-rule counters.  For each
 * entry whose matches all matched, ipt_do_table() adds to the entry's
 * counter (this CPU's copy) before its target runs, with bottom halves off:
 * between an evaluation's entry and its return only that evaluation (and
 * one nested in it) moves this CPU's counters.  So the entry program keeps
 * this CPU's packet count of every entry of the table, and the return
 * program replays the walk the kernel made over the entries that moved:
 * sequential entries, jumps into user chains (pushed unless a goto),
 * RETURN, until an absolute verdict (a rule, or the underflow entry: the
 * policy).  An entry with a target of its own (REJECT, MARK, LOG...) ended
 * the walk unless a later entry on the path moved.  The rule number counts
 * from the chain's first rule, as 'iptables -L --line-numbers' does; a user
 * chain's name is the error entry before its first rule.  Only for records
 * of sessions that asked; ip_tables and ip6_tables (ip6t_do_table() walks
 * the same way over ip6t_entry, whose offsets and goto flag differ).
 */
#define SKBT_XT_RETURN (-5)   /* XT_RETURN: -NF_REPEAT - 1 */
#define SKBT_IPT_F_GOTO 0x02  /* include/uapi/linux/netfilter_ipv4/ip_tables.h */
#define SKBT_IP6T_F_GOTO 0x04 /* include/uapi/linux/netfilter_ipv6/ip6_tables.h */
#define SKBT_NFPROTO_IPV4 2
#define SKBT_NFPROTO_IPV6 10
_Static_assert(SKBT_XT_DEPTH == SKBT_NF_DEPTH, "one snapshot per evaluation depth");

/*
 * One snapshot per evaluation depth and CPU (bottom halves are off during
 * one, so no other task comes between), in an inner map the daemon puts at
 * key 0 while some --nf-rules session runs (sessions/nf_rules.c): without
 * one, the lookup finds nothing and no number is told.
 */
struct skbt_xt_snaps_inner {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, SKBT_XT_DEPTH);
        /* Sizes, not types: clang leaves an inner map's value type a forward declaration. */
        __uint(key_size, sizeof(__u32));
        __uint(value_size, sizeof(struct skbt_xt_snap));
};

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
        __uint(max_entries, 1);
        __type(key, __u32);
        __array(values, struct skbt_xt_snaps_inner);
} xt_snaps SEC(".maps");

static __always_inline struct skbt_xt_snap *skbt_xt_snap_get(__u32 d)
{
        __u32 zero = 0;
        void *inner = bpf_map_lookup_elem(&xt_snaps, &zero);

        return inner ? bpf_map_lookup_elem(inner, &d) : NULL;
}

/* The family's entry layout (pf: NFPROTO_IPV4 or _IPV6) into w; false for another family. */
static __always_inline bool skbt_xt_layout(struct skbt_xt_walk *w, __u8 pf)
{
        __u8 want = pf == SKBT_NFPROTO_IPV4   ? SKBT_XT_RULES_IP
                    : pf == SKBT_NFPROTO_IPV6 ? SKBT_XT_RULES_IP6
                                              : 0;

        if (!(want & nf_conf.xt_rules))
                return false;
        if (want == SKBT_XT_RULES_IP) {
                w->o_target = nf_conf.ipt_target;
                w->o_next = nf_conf.ipt_next;
                w->o_pcnt = nf_conf.ipt_pcnt;
                w->o_flags = nf_conf.ipt_flags;
                w->goto_flag = SKBT_IPT_F_GOTO;
        } else {
                w->o_target = nf_conf.ip6t_target;
                w->o_next = nf_conf.ip6t_next;
                w->o_pcnt = nf_conf.ip6t_pcnt;
                w->o_flags = nf_conf.ip6t_flags;
                w->goto_flag = SKBT_IP6T_F_GOTO;
        }
        return true;
}

/* This CPU's packet count of entry e (xt_get_this_cpu_counter()). */
static __always_inline __u64 skbt_xt_pcnt(__u64 e, const struct skbt_xt_walk *w)
{
        __u64 c = skbt_nf_read_u64(e, w->o_pcnt);

        return *(volatile __u8 *)&nf_conf.xt_percpu ? skbt_nf_read_u64(c + w->cpu_off, 0) : c;
}

static __always_inline __u16 skbt_nf_read_u16(__u64 base, __u32 off)
{
        __u16 v = 0;

        bpf_probe_read_kernel(&v, sizeof(v), (void *)(base + off));
        return v;
}

/* bpf_loop()'s context must be on the stack: it points into the map. */
struct skbt_xt_ctx {
        struct skbt_xt_snap *s;
};

static long skbt_xt_snap_one(__u32 i, void *data)
{
        struct skbt_xt_snap *s = ((struct skbt_xt_ctx *)data)->s;
        struct skbt_xt_walk *w = &s->w;
        __u32 slot = w->off >> SKBT_XT_SLOT_SHIFT;
        __u64 e = w->base + w->off;
        __u16 next;

        if (w->off >= w->size || slot >= SKBT_XT_SLOTS)
                return 1;
        s->cnt[slot] = skbt_xt_pcnt(e, w);
        s->prev[slot] = w->prev;
        next = skbt_nf_read_u16(e, w->o_next);
        if (!next)
                return 1;
        w->prev = w->off;
        w->off += next;
        return 0;
}

/* This CPU's per-CPU area offset (this_cpu_ptr()): __per_cpu_offset[cpu], found by the daemon. */
static __always_inline __u64 skbt_xt_cpu_off(void)
{
        if (!*(volatile __u8 *)&nf_conf.xt_percpu)
                return 0;
        return skbt_nf_read_u64(*(volatile __u64 *)&nf_conf.xt_pcpu_offset,
                                8 * (bpf_get_smp_processor_id() & 0xffff));
}

/*
 * At an evaluation's entry (depth d, family pf) of table (struct xt_table *):
 * count.  1 when counted, then the return replays.  Global: verified once.
 */
__noinline int skbt_xt_snapshot(__u64 table, __u32 d, __u8 pf)
{
        struct skbt_xt_ctx c;
        struct skbt_xt_snap *snap;
        struct skbt_xt_walk *w;
        __u64 priv;

        snap = skbt_xt_snap_get(d);
        if (!snap)
                return 0;
        snap->base = 0;
        w = &snap->w;
        __builtin_memset(w, 0, sizeof(*w));
        priv = table ? skbt_nf_read_u64(table, nf_conf.xt_private) : 0;
        if (!priv || !skbt_xt_layout(w, pf))
                return 0;
        w->base = priv + nf_conf.xti_entries;
        w->size = (__u32)skbt_nf_read_u64(priv, nf_conf.xti_size);
        w->cpu_off = skbt_xt_cpu_off();
        c.s = snap;
        bpf_loop(SKBT_XT_SLOTS, skbt_xt_snap_one, &c, 0);
        snap->base = w->base;
        snap->size = w->size;
        return 1;
}

static __always_inline void skbt_xt_found(struct skbt_xt_walk *w, __u32 off, __u8 how)
{
        w->found = how;
        w->found_off = off;
        w->found_head = w->head;
        w->found_pos = w->pos;
}

/* A standard target's verdict v at entry off (next bytes long): follow it; 1 to stop. */
static __always_inline long skbt_xt_follow(struct skbt_xt_walk *w, __u64 e, __u32 off, __u16 next,
                                           __s32 v)
{
        __u32 sp;

        if (v < 0 && v != SKBT_XT_RETURN) {
                skbt_xt_found(w, off, 1);
                return 1;
        }
        if (v == SKBT_XT_RETURN) {
                if (!w->sp) {
                        /* Out of the built-in chain: its policy (the underflow entry). */
                        w->off = w->underflow;
                        return 0;
                }
                sp = (w->sp - 1) & (SKBT_XT_STACK - 1);
                w->sp = sp;
                w->off = w->st_off[sp];
                w->head = w->st_head[sp];
                w->pos = w->st_pos[sp];
                return 0;
        }
        if ((__u32)v == off + next) { /* a rule without a target: on to the next */
                w->off = off + next;
                w->pos++;
                return 0;
        }
        if (!(skbt_nf_read_u8(e, w->o_flags) & w->goto_flag)) {
                if (w->sp >= SKBT_XT_STACK)
                        return 1;
                sp = w->sp & (SKBT_XT_STACK - 1);
                w->st_off[sp] = off + next;
                w->st_head[sp] = w->head;
                w->st_pos[sp] = w->pos + 1;
                w->sp = sp + 1;
        }
        w->off = (__u32)v;
        w->head = (__u32)v;
        w->pos = 1;
        return 0;
}

static long skbt_xt_step(__u32 i, void *data)
{
        struct skbt_xt_snap *s = ((struct skbt_xt_ctx *)data)->s;
        struct skbt_xt_walk *w = &s->w;
        __u32 off = w->off, slot = off >> SKBT_XT_SLOT_SHIFT;
        __u64 e = w->base + off, t, tg;
        __u16 next;

        if (off >= w->size || slot >= SKBT_XT_SLOTS)
                return 1;
        next = skbt_nf_read_u16(e, w->o_next);
        if (!next)
                return 1;
        if (skbt_xt_pcnt(e, w) == s->cnt[slot]) {
                /* Did not match (or its moves are used up by earlier visits). */
                w->off = off + next;
                w->pos++;
                return 0;
        }
        s->cnt[slot]++;
        t = e + skbt_nf_read_u16(e, w->o_target);
        tg = skbt_nf_read_u64(t, nf_conf.tgt_kernel);
        if (skbt_nf_read_u64(tg, nf_conf.xtg_target)) {
                /* A target of its own: the verdict, unless a later entry on the path moved. */
                skbt_xt_found(w, off, 2);
                w->off = off + next;
                w->pos++;
                return 0;
        }
        return skbt_xt_follow(w, e, off, next, (__s32)skbt_nf_read_u64(t, nf_conf.tgt_data));
}

/*
 * At the return of the evaluation at depth d: which entry decided, into
 * out (its hook and family say where to start and how to read).  Global:
 * verified once, in the return programs only.
 */
__noinline int skbt_xt_rule_resolve(__u32 d, struct skbt_nf *out)
{
        struct skbt_xt_ctx c;
        struct skbt_xt_snap *snap;
        struct skbt_xt_walk *w;
        __u64 priv;
        __u32 prev, hook;

        if (!out)
                return 0;
        hook = out->hook;
        snap = skbt_xt_snap_get(d);
        if (!snap || !snap->base || hook >= 5)
                return 0;
        w = &snap->w;
        __builtin_memset(w, 0, sizeof(*w));
        if (!skbt_xt_layout(w, out->pf)) {
                snap->base = 0;
                return 0;
        }
        w->base = snap->base;
        w->size = snap->size;
        w->cpu_off = skbt_xt_cpu_off();
        /* xt_table_info is entries' container: its hook offsets are before them. */
        priv = w->base - nf_conf.xti_entries;
        w->hook_entry = (__u32)skbt_nf_read_u64(priv, nf_conf.xti_hook_entry + 4 * hook);
        w->underflow = (__u32)skbt_nf_read_u64(priv, nf_conf.xti_underflow + 4 * hook);
        w->off = w->hook_entry;
        w->head = w->hook_entry;
        w->pos = 1;
        c.s = snap;
        bpf_loop(2 * SKBT_XT_SLOTS, skbt_xt_step, &c, 0);
        snap->base = 0;
        if (!w->found)
                return 0;
        if (w->found_off == w->underflow) {
                out->rule_type = SKBT_NF_RULE_POLICY;
                return 0;
        }
        out->rule_type = SKBT_NF_RULE_RULE;
        out->rule_pos = w->found_pos;
        if (w->found_head == w->hook_entry)
                return 0;
        /* A user chain: the error entry before its first rule holds its name. */
        prev = snap->prev[(w->found_head >> SKBT_XT_SLOT_SHIFT) & (SKBT_XT_SLOTS - 1)];
        skbt_nf_read_str(out->rule_chain, w->base + prev +
                                              skbt_nf_read_u16(w->base + prev, w->o_target) +
                                              nf_conf.tgt_data);
        return 0;
}

/*
 * A new frame on this task's stack for an evaluation that starts (its record
 * in (*ret)->f[*ret_d]); NULL when none can be had (too deep, no memory).
 */
static __always_inline struct skbt_nf_frames *skbt_nf_push(__u32 *ret_d)
{
        __u64 key, now;
        struct skbt_nf_frames *fr;
        __u32 d;

        key = bpf_get_current_pid_tgid();
        fr = bpf_map_lookup_elem(&nf_stack, &key);
        if (!fr) {
                bpf_map_update_elem(&nf_stack, &key, &nf_frames_zero, BPF_NOEXIST);
                fr = bpf_map_lookup_elem(&nf_stack, &key);
                if (!fr)
                        return 0;
        }
        now = bpf_jiffies64();
        d = fr->depth;
        /* Returns missed (a session started between an entry and its return,
         * or a kretprobe instance limit): start over. */
        if (d > SKBT_NF_DEPTH ||
            (d && (__s64)(now - fr->ts[(d - 1) & (SKBT_NF_DEPTH - 1)]) > SKBT_NF_STALE_JIFFIES)) {
                if (d <= SKBT_NF_DEPTH)
                        __sync_fetch_and_add(&nf_frames, -(__s64)d);
                d = 0;
                fr->overflow = 0;
        }
        if (d >= SKBT_NF_DEPTH) {
                fr->overflow++;
                skbt_stat_inc(SKBT_STAT_NF_DEEP);
                return NULL;
        }
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        fr->f[d].ev.sessions = 0;
        fr->ts[d] = now;
        fr->depth = d + 1;
        __sync_fetch_and_add(&nf_frames, 1);
        *ret_d = d;
        return fr;
}

static __always_inline __u64 skbt_nf_func_arg(__u64 *ctx, __u32 pos)
{
        __u64 v = 0;

        bpf_get_func_arg(ctx, pos, &v);
        return v;
}

/* How an evaluator's entry reads its arguments: a constant per entry point. */
enum {
        SKBT_NF_ARGS_REGS, /* kprobes: registers (a probe read each) */
        SKBT_NF_ARGS_FUNC, /* fentry: bpf_get_func_arg() */
        SKBT_NF_ARGS_TC,   /* a tc program's run: its context only */
};

/* Argument i (0-2) at the stamped position. */
static __always_inline __u64 skbt_nf_arg(void *ctx, __u64 stamp, __u32 i, const int kind)
{
        __u32 pos = SKBT_NF_STAMP_POS((__u32)(stamp >> 32), i);

        if (kind == SKBT_NF_ARGS_REGS)
                return skbt_regs_arg(ctx, pos);
        if (kind == SKBT_NF_ARGS_FUNC)
                return skbt_nf_func_arg(ctx, pos);
        return 0;
}

/*
 * An evaluation starts.  a: the first argument at its stamped position
 * (xtables: skb, nftables: pktinfo, tc: the program's context); b and c, read
 * only for a record (each is a probe read on kprobes): xtables' hook state
 * and table, nftables' chain.  kind: SKBT_NF_ARGS_*, a constant, so that a
 * netfilter evaluator's copy has none of the tc branches.
 */
static __always_inline int skbt_nf_enter(void *ctx, __u64 stamp, __u64 a, const int kind)
{
        const bool tc = kind == SKBT_NF_ARGS_TC;
        __u64 mask, st, skb, b, c;
        __u32 engine = SKBT_NF_STAMP_ENGINE(stamp >> 32), d;
        struct skbt_nf_frames *fr;
        struct skbt_nf_rec *f;
        bool out;

        if (!*(volatile __u64 *)&state.active)
                return 0;
        /* tc: a, the program's context (the kernel's struct sk_buff). */
        skb = engine == SKBT_NF_NFTABLES ? skbt_nf_read_u64(a, *(volatile __u32 *)&nf_conf.pkt_skb)
                                         : a;
        /* A packet the mark rules out gets no frame unless its task has some (nf_frames). */
        out = skbt_gate_out((struct sk_buff *)skb, false);
        if (out && skbt_nf_no_frames())
                SKBT_EXIT_HERE();
        fr = skbt_nf_push(&d);
        if (!fr || out)
                return 0;
        f = &fr->f[d];
        {
                struct skbt_hit hit = {.defer = &f->ev};

                /* The stamp's high half means something else here: pass the id alone. */
                mask = skbt_handle(ctx, (struct sk_buff *)skb, (__u32)stamp, &hit, SKBT_ARGS_NONE);
        }
        if (!mask)
                return 0;
        /* The other arguments and the hook state only for a record: most evaluations are of
         * packets no session wants. */
        b = skbt_nf_arg(ctx, stamp, 1, kind);
        c = skbt_nf_arg(ctx, stamp, 2, kind);
        st = tc ? 0
             : engine == SKBT_NF_NFTABLES
                 ? skbt_nf_read_u64(a, *(volatile __u32 *)&nf_conf.pkt_state)
                 : b;
        __builtin_memset(&f->nf, 0, sizeof(f->nf));
        f->nf.engine = (__u8)engine;
        if (tc) {
                /* Which side of the device the program runs on. */
                f->nf.hook =
                    BPF_CORE_READ_BITFIELD_PROBED((struct sk_buff *)skb, tc_at_ingress) ? 0 : 1;
                return 0;
        }
        f->nf.hook = skbt_nf_read_u8(st, *(volatile __u32 *)&nf_conf.state_hook);
        f->nf.pf = skbt_nf_read_u8(st, *(volatile __u32 *)&nf_conf.state_pf);
        if (engine == SKBT_NF_NFTABLES) {
                __u64 table = skbt_nf_read_u64(b, *(volatile __u32 *)&nf_conf.chain_table);

                skbt_nf_read_str(f->nf.chain,
                                 skbt_nf_read_u64(b, *(volatile __u32 *)&nf_conf.chain_name));
                skbt_nf_read_str(f->nf.table,
                                 skbt_nf_read_u64(table, *(volatile __u32 *)&nf_conf.table_name));
        } else if (c) {
                __u32 off = engine == SKBT_NF_EBTABLES ? *(volatile __u32 *)&nf_conf.ebt_name
                                                       : *(volatile __u32 *)&nf_conf.xt_name;

                skbt_nf_read_str(f->nf.table, c + off);
                /* --nf-rules: iptables' counters now, for the rule number at the return
                 * (arptables' evaluations are refused by the snapshot's family test). */
                if ((mask & *(volatile __u64 *)&nf_rule_sessions) && engine == SKBT_NF_XTABLES)
                        fr->xt[d + 1] = (__u8)skbt_xt_snapshot(c, d, f->nf.pf);
        }
        return 0;
}

/* include/uapi/linux/netfilter/nf_tables.h, enum nft_trace_types */
#define SKBT_NFT_TRACETYPE_POLICY 1
#define SKBT_NFT_TRACETYPE_RULE 3
/* Rules walked at most to find a rule's chain and position: bounded work per verdict. */
#define SKBT_NFT_RULES_MAX 256

static __always_inline __u64 skbt_bits(__u64 v, __u8 shift, __u8 bits)
{
        v >>= shift & 63;
        return bits >= 64 ? v : v & ((1ULL << (bits & 63)) - 1);
}

/* The rule after r in its blob (nft_rule_next()), 0 at the blob's end. */
static __always_inline __u64 skbt_nft_next(__u64 r, __u64 hdr)
{
        if (skbt_bits(hdr, nf_conf.last_shift, 1))
                return 0;
        return r + nf_conf.rule_hdr + skbt_bits(hdr, nf_conf.dlen_shift, nf_conf.dlen_bits);
}

/*
 * Which rule decided, into out: its handle, its chain (the hook names it on
 * 6.1; later kernels keep it after the blob's last rule, struct
 * nft_rule_dp_last) and its position in the chain's current blob.  Global:
 * verified once, and only in nftables' trace hook (skbt_nft_hook()), so
 * that no other program (the evaluators, the drop probes that send a
 * verdict early) carries its walks; at most a few hundred probe reads per
 * hook call, for frames of sessions that asked only.
 */
__noinline int skbt_nft_rule_resolve(__u64 rule, __u64 chain, __u32 type, struct skbt_nf *out)
{
        __u64 r, hdr, blob;
        __u32 i, g;

        if (!out)
                return 0;
        /* An earlier call in this evaluation (a rule that did not end it) said otherwise. */
        out->rule_type = SKBT_NF_RULE_NONE;
        out->rule_pos = 0;
        out->rule_handle = 0;
        out->rule_chain[0] = 0;
        if (type == SKBT_NFT_TRACETYPE_POLICY) {
                out->rule_type = SKBT_NF_RULE_POLICY;
                return 0;
        }
        if (type != SKBT_NFT_TRACETYPE_RULE || !rule)
                return 0;
        hdr = skbt_nf_read_u64(rule, 0);
        out->rule_type = SKBT_NF_RULE_RULE;
        out->rule_handle = skbt_bits(hdr, nf_conf.handle_shift, nf_conf.handle_bits);
        /* Kernels whose hook is not given the chain end each blob with it (6.3+). */
        if (!chain && nf_conf.last_chain) {
                r = rule;
                for (i = 0; i < SKBT_NFT_RULES_MAX && r; i++) {
                        hdr = skbt_nf_read_u64(r, 0);
                        if (skbt_bits(hdr, nf_conf.last_shift, 1)) {
                                chain = skbt_nf_read_u64(r, nf_conf.last_chain);
                                break;
                        }
                        r = skbt_nft_next(r, hdr);
                }
        }
        if (!chain)
                return 0;
        skbt_nf_read_str(out->rule_chain, skbt_nf_read_u64(chain, nf_conf.chain_name));
        for (g = 0; g < 2; g++) {
                blob = skbt_nf_read_u64(chain, nf_conf.chain_blob[g & 1]);
                r = blob ? blob + nf_conf.blob_data : 0;
                for (i = 0; i < SKBT_NFT_RULES_MAX && r; i++) {
                        if (r == rule) {
                                out->rule_pos = i + 1;
                                return 0;
                        }
                        r = skbt_nft_next(r, skbt_nf_read_u64(r, 0));
                }
        }
        return 0;
}

/* Send frame d's record with verdict to the sessions it matched, once. */
static __always_inline void skbt_nf_send(struct skbt_nf_frames *fr, __u32 d, __u32 verdict)
{
        struct skbt_nf_rec *r;
        struct skbt_event *e;
        __u64 mask;

        asm volatile("%[v] &= 3" : [v] "+r"(d));
        mask = fr->f[d].ev.sessions & *(volatile __u64 *)&state.active;
        fr->f[d].ev.sessions = 0;
        if (!mask)
                return;
        r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
        if (!r) {
                skbt_record_lost(mask);
                return;
        }
        __builtin_memcpy(r, &fr->f[d], sizeof(*r));
        e = &r->ev;
        e->sessions = mask;
        e->ts = bpf_ktime_get_ns();
        e->retval = verdict;
        e->flags = (e->flags & ~(SKBT_EV_FREE | SKBT_EV_DROP)) | SKBT_EV_NF;
        e->stack_depth = 0;
        bpf_ringbuf_submit(r, 0);
        skbt_stat_inc(SKBT_STAT_EMITTED);
}

/* The evaluation returned verdict.  nf: a constant, false for a tc or XDP program's run. */
static __always_inline int skbt_nf_leave(__u64 verdict, const bool nf)
{
        struct skbt_nf_frames *fr;
        __u64 key;
        __u32 d;

        /* Not the idle test: a session that ended inside an evaluation leaves its frame. */
        if (skbt_nf_no_frames())
                return 0;
        key = bpf_get_current_pid_tgid();
        fr = bpf_map_lookup_elem(&nf_stack, &key);
        if (!fr)
                return 0;
        if (fr->overflow) {
                fr->overflow--;
                return 0;
        }
        d = fr->depth;
        if (d == 0 || d > SKBT_NF_DEPTH)
                return 0;
        fr->depth = d - 1;
        /*
         * Not in skbt_nf_send(): the drop probes that send a verdict early carry none of
         * it.  One load and branch for evaluations no --nf-rules session matched: the
         * entry's snapshot flag.  The sessions are tested again behind it, as a flag left
         * by a return that never ran (the frame went stale) must not number a record.
         */
        if (nf && fr->xt[d]) {
                __u32 e = (d - 1) & (SKBT_NF_DEPTH - 1);

                fr->xt[d] = 0;
                if ((fr->f[e].ev.sessions & *(volatile __u64 *)&nf_rule_sessions) &&
                    fr->f[e].nf.engine == SKBT_NF_XTABLES)
                        skbt_xt_rule_resolve(e, &fr->f[e].nf);
        }
        d -= 1;
        __sync_fetch_and_add(&nf_frames, -1);
        skbt_nf_send(fr, d, (__u32)verdict);
        return 0;
}

/*
 * skb is being dropped.  If that happens inside the evaluation of the same
 * skb, the table or chain dropped it itself: nftables does since 6.8
 * (NF_DROP_REASON(): kfree_skb_reason() and NF_STOLEN).  Say DROP now,
 * before the drop's own event, which it explains; the return sends nothing.
 * A function of its own (a BPF-to-BPF call, its code after the program's):
 * inlined, its record copy sat between a drop probe's first instructions and
 * its mark gate (skbt_gate_out()), which it runs before.
 */
static __noinline int skbt_nf_drop_frame(__u64 skb)
{
        __u64 key;
        struct skbt_nf_frames *fr;
        __u32 d;

        key = bpf_get_current_pid_tgid();
        fr = bpf_map_lookup_elem(&nf_stack, &key);
        if (!fr)
                return 0;
        d = fr->depth;
        if (d == 0 || d > SKBT_NF_DEPTH)
                return 0;
        d -= 1;
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        if (fr->f[d].ev.skb != skb || !fr->f[d].ev.sessions)
                return 0;
        skbt_nf_send(fr, d, SKBT_NF_VERDICT_DROP);
        return 0;
}

static __always_inline void skbt_nf_drop_inside(struct sk_buff *skb)
{
        /* No task inside an evaluation with a frame (e.g. the tracepoint backend: no
         * evaluator attached): no frame to look up. */
        if (skbt_nf_no_frames() || !*(volatile __u64 *)&state.active)
                return;
        skbt_nf_drop_frame((__u64)skb);
}

static __always_inline int skbt_nf_kprobe_enter(struct pt_regs *ctx, __u64 cookie)
{
        __u32 hi = (__u32)(cookie >> 32);

        return skbt_nf_enter(ctx, cookie, skbt_regs_arg(ctx, SKBT_NF_STAMP_POS(hi, 0)),
                             SKBT_NF_ARGS_REGS);
}

static __always_inline int skbt_nf_fentry_enter(__u64 *ctx, __u64 stamp)
{
        __u32 hi = (__u32)(stamp >> 32);

        return skbt_nf_enter(ctx, stamp, skbt_nf_func_arg(ctx, SKBT_NF_STAMP_POS(hi, 0)),
                             SKBT_NF_ARGS_FUNC);
}

/*
 * nftables' trace hook (__nft_trace_packet()): nft_do_chain() calls it for
 * each rule that ends without a verdict, for the rule whose verdict ends a
 * chain, and for the policy, but only while the static key nft_trace_enabled
 * is on (daemon/kernel/nft_trace.c).  Each call resolves its rule into the
 * frame's record, over the one before: the last call before the evaluation
 * returns (or drops the packet) names what decided.  Arguments by kernel:
 * 6.1 (info, chain, type) with info->rule set; later (pkt, verdict, rule,
 * info, type).
 */
static __always_inline int skbt_nft_hook(__u64 info, __u64 rule, __u64 chain, __u32 type)
{
        __u64 key = bpf_get_current_pid_tgid();
        struct skbt_nf_frames *fr;
        __u32 d;

        if (!*(volatile __u64 *)&nf_rule_sessions)
                return 0;
        fr = bpf_map_lookup_elem(&nf_stack, &key);
        if (!fr)
                return 0;
        d = fr->depth;
        if (d == 0 || d > SKBT_NF_DEPTH)
                return 0;
        d -= 1;
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        /* Frames of evaluations some session that asked wants (their entry zeroed the rule). */
        if (fr->f[d].nf.engine != SKBT_NF_NFTABLES ||
            !(fr->f[d].ev.sessions & *(volatile __u64 *)&nf_rule_sessions))
                return 0;
        if (!rule && type != SKBT_NFT_TRACETYPE_POLICY)
                rule = skbt_nf_read_u64(info, *(volatile __u32 *)&nf_conf.info_rule);
        skbt_nft_rule_resolve(rule, chain, type, &fr->f[d].nf);
        return 0;
}

/* Argument i of the hook from a position in the stamp or cookie (0xf: none). */
static __always_inline __u64 skbt_nft_hook_fentry_arg(__u64 *ctx, __u32 hi, __u32 i)
{
        __u32 pos = SKBT_NFT_HOOK_POS(hi, i);

        return pos == SKBT_NFT_HOOK_NONE ? 0 : skbt_nf_func_arg(ctx, pos);
}

static __always_inline __u64 skbt_nft_hook_kprobe_arg(struct pt_regs *ctx, __u32 hi, __u32 i)
{
        __u32 pos = SKBT_NFT_HOOK_POS(hi, i);

        return pos == SKBT_NFT_HOOK_NONE ? 0 : skbt_regs_arg(ctx, pos);
}
