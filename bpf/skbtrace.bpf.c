// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* skbtrace.bpf.c - entry points stamped per skb argument position over one body */
#include "skbt_body.bpf.h"
#include "skbt_nf.bpf.h"
#include "skbt_bpfprog.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Tracepoint templates.  The daemon loads each once more per tracepoint with
 * the probe id stamped in (see skbt_probe_id.bpf.h) and attaches the copy
 * with BPF_RAW_TRACEPOINT_OPEN; raw_tp needs neither BTF at load time nor
 * tracefs, and is the one attach type every kernel we target allows.
 */
#define SKBT_TP_ENTRY(pos)                                                                         \
        SEC("raw_tp")                                                                              \
        int skbt_tp_arg##pos(struct bpf_raw_tracepoint_args *ctx)                                  \
        {                                                                                          \
                struct sk_buff *skb = (struct sk_buff *)ctx->args[pos];                            \
                struct skbt_hit hit = {};                                                          \
                                                                                                   \
                if (skbt_gate_out(skb, false))                                                     \
                        SKBT_EXIT_HERE();                                                          \
                skbt_handle(ctx, skb, skbt_stamp(), &hit, SKBT_ARGS_RAW_TP);                       \
                return 0;                                                                          \
        }

SKBT_TP_ENTRY(0)
SKBT_TP_ENTRY(1)
SKBT_TP_ENTRY(2)
SKBT_TP_ENTRY(3)
SKBT_TP_ENTRY(4)

/* skb:kfree_skb(skb, location, reason[, rx_sk]) since 5.17: the drop tracer. */
SEC("raw_tp")
int skbt_tp_kfree_skb(struct bpf_raw_tracepoint_args *ctx)
{
        struct sk_buff *skb = (struct sk_buff *)ctx->args[0];
        struct skbt_hit hit = {};

        skbt_nf_drop_inside(skb);
        if (skbt_gate_out(skb, false))
                SKBT_EXIT_HERE();
        hit.location = ctx->args[1];
        hit.drop_reason = (__u32)ctx->args[2];
        hit.flags = SKBT_EV_DROP;
        skbt_handle(ctx, skb, skbt_stamp(), &hit, SKBT_ARGS_RAW_TP);
        return 0;
}

/*
 * The same tracepoints as tp_btf programs, preferred where the kernel has
 * BTF for them (every tracepoint in vmlinux on 5.5+): the verifier knows
 * the argument is a struct sk_buff *, so the body reads the skb and its
 * device with plain loads instead of probe reads (skbt_load_skb()).  The
 * daemon stamps and loads them like the raw_tp ones, with the tracepoint's
 * btf_trace_* type as attach target; the target named here is replaced
 * before the template's own load by one whose skb is at that position
 * (daemon/probes/loader.c).  The skb position is fixed per template because the
 * verifier types ctx[pos] from the tracepoint's prototype.
 */
#define SKBT_TPBTF_ENTRY(pos)                                                                      \
        SEC("tp_btf/netif_receive_skb")                                                            \
        int skbt_tpbtf_arg##pos(__u64 *ctx)                                                        \
        {                                                                                          \
                struct sk_buff *skb = (struct sk_buff *)ctx[pos];                                  \
                struct skbt_hit hit = {};                                                          \
                                                                                                   \
                if (skbt_gate_out(skb, true))                                                      \
                        SKBT_EXIT_HERE();                                                          \
                skbt_handle_btf(ctx, skb, skbt_stamp(), &hit);                                     \
                return 0;                                                                          \
        }

SKBT_TPBTF_ENTRY(0)
SKBT_TPBTF_ENTRY(1)
SKBT_TPBTF_ENTRY(2)
SKBT_TPBTF_ENTRY(3)
SKBT_TPBTF_ENTRY(4)

SEC("tp_btf/kfree_skb")
int skbt_tpbtf_kfree_skb(__u64 *ctx)
{
        struct sk_buff *skb = (struct sk_buff *)ctx[0];
        struct skbt_hit hit = {};

        skbt_nf_drop_inside(skb);
        if (skbt_gate_out(skb, true))
                SKBT_EXIT_HERE();
        hit.location = ctx[1];
        hit.drop_reason = (__u32)ctx[2];
        hit.flags = SKBT_EV_DROP;
        skbt_handle_btf(ctx, skb, skbt_stamp(), &hit);
        return 0;
}

/*
 * Shared tracepoint programs (Linux 6.10+, where raw tracepoint links take an
 * attach cookie): one program per skb position, and one for kfree_skb's drop
 * flavour, attached to every tracepoint of that position with the probe's id
 * and SKBT_STAMP_* as the link's cookie (as kprobe-multi does).  A packet that
 * no session wants then runs the same few hot programs at every tracepoint
 * instead of a cold copy per tracepoint (docs/performance.md).  The skb is
 * cast to its BTF type with bpf_rdonly_cast() (6.2+; the verifier turns the
 * call into a move), so the body reads it with plain loads that the JIT
 * guards with exception tables, as the tp_btf copies do.  The cookie is read
 * only once the mark gate let the packet through.  Templates like the kprobe
 * ones: the object's own copy returns at once (skbt_in_template()), the
 * daemon loads one stamped with 0 when a session first needs a tracepoint of
 * that position (daemon/probes/backend_tracepoint.c).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline struct sk_buff *skbt_tp_skb(__u64 arg)
{
        return (struct sk_buff *)bpf_rdonly_cast((void *)arg,
                                                 bpf_core_type_id_kernel(struct sk_buff));
}

#define SKBT_TPC_ENTRY(pos)                                                                        \
        SEC("raw_tp")                                                                              \
        int skbt_tpc_arg##pos(struct bpf_raw_tracepoint_args *ctx)                                 \
        {                                                                                          \
                struct sk_buff *skb;                                                               \
                struct skbt_hit hit = {};                                                          \
                                                                                                   \
                if (skbt_in_template())                                                            \
                        return 0;                                                                  \
                skb = skbt_tp_skb(ctx->args[pos]);                                                 \
                if (skbt_gate_out(skb, true))                                                      \
                        SKBT_EXIT_HERE();                                                          \
                skbt_handle_btf(ctx, skb, bpf_get_attach_cookie(ctx), &hit);                       \
                return 0;                                                                          \
        }

SKBT_TPC_ENTRY(0)
SKBT_TPC_ENTRY(1)
SKBT_TPC_ENTRY(2)
SKBT_TPC_ENTRY(3)
SKBT_TPC_ENTRY(4)

SEC("raw_tp")
int skbt_tpc_kfree_skb(struct bpf_raw_tracepoint_args *ctx)
{
        struct sk_buff *skb;
        struct skbt_hit hit = {};

        if (skbt_in_template())
                return 0;
        skb = skbt_tp_skb(ctx->args[0]);
        skbt_nf_drop_inside(skb);
        if (skbt_gate_out(skb, true))
                SKBT_EXIT_HERE();
        hit.location = ctx->args[1];
        hit.drop_reason = (__u32)ctx->args[2];
        hit.flags = SKBT_EV_DROP;
        skbt_handle_btf(ctx, skb, bpf_get_attach_cookie(ctx), &hit);
        return 0;
}

/*
 * Function templates.  fentry/fexit: one program for every skb position,
 * loaded once per function with the position stamped next to the probe id
 * and read with bpf_get_func_arg(); the attach target given here is only
 * for the template's own load and is replaced per copy.
 */
/* A drop function's reason (the argument after the skb), for skbt_fentry_hit(). */
static __always_inline void skbt_fentry_drop(__u64 *ctx, __u64 stamp, __u32 pos,
                                             struct sk_buff *skb, struct skbt_hit *hit)
{
        __u64 v = 0;

        if (!((stamp >> 32) & SKBT_STAMP_DROP))
                return;
        bpf_get_func_arg(ctx, pos + 1, &v);
        hit->drop_reason = (__u32)v;
        hit->flags = SKBT_EV_DROP;
        skbt_nf_drop_inside(skb);
}

static __always_inline void skbt_fentry_hit(__u64 *ctx, __u64 stamp, struct sk_buff **skb,
                                            struct skbt_hit *hit)
{
        __u32 pos = (__u32)(stamp >> 32) & SKBT_STAMP_ARG_MASK;
        __u64 v = 0;

        bpf_get_func_arg(ctx, pos, &v);
        *skb = (struct sk_buff *)v;
        skbt_fentry_drop(ctx, stamp, pos, *skb, hit);
}

SEC("fentry/netif_receive_skb")
int skbt_fentry(__u64 *ctx)
{
        __u64 stamp = skbt_stamp();
        struct skbt_hit hit = {};
        struct sk_buff *skb;
        __u64 mask;

        if (skbt_idle())
                return 0;
        skbt_fentry_hit(ctx, stamp, &skb, &hit);
        if (skbt_gate_out(skb, false))
                SKBT_EXIT_HERE();
        mask = skbt_handle(ctx, skb, stamp, &hit, SKBT_ARGS_FENTRY);
        if (mask)
                skbt_graph_push(skb, (__u32)stamp, mask);
        return 0;
}

SEC("fexit/netif_receive_skb")
int skbt_fexit(__u64 *ctx)
{
        __u64 stamp = skbt_stamp(), ret = 0;

        if (skbt_returns_idle())
                return 0;
        bpf_get_func_ret(ctx, &ret);
        return skbt_return(stamp, (__s64)ret);
}

/*
 * fentry through a hop.  A stamped copy of the whole body per function is
 * what made fentry slow to attach: each copy is verified again (tens of
 * thousands of instructions, ~0.3 s each under TCG on 6.1), where ipftrace2
 * loads a few dozen instructions per function.  A tracing program cannot
 * tail-call one attached to a function of another prototype, nor can an
 * extension program replace an fentry program's function, so the shared body
 * is reached through a kernel function instead: the stub calls
 * bpf_strncmp(), on which the body programs (skbt_fentry_hop0-2, one per
 * nesting level, verified once each) are attached with fentry.  The stub
 * passes its record (per CPU and level, map memory) as the string, the
 * record's size plus its level as the length, and skbt_hop_tag as the other
 * string: a body runs only for its own level's calls, and any other caller of
 * bpf_strncmp() costs it two compares.  The body sets done: a hop it could not
 * take (deeper nesting, the recursion guard) is counted as lost for the
 * sessions the packet may have matched, never dropped silently.
 * daemon/probes/backend_fentry.c loads the stub per function; the bodies are
 * loaded and attached once, with the first stub (the background preload's),
 * and stay attached: bpf_strncmp() is not on the packet path.
 */
const char skbt_hop_tag[8] = "skbthop";

/* skbt_handle_flavour()'s first exit, for a stub: no live session selected the probe, and
 * none that follows packets needs to see this one's life (a free, a clone). */
static __always_inline bool skbt_stub_unselected(__u64 stamp)
{
        __u64 active = *(volatile __u64 *)&state.active;
        __u32 probe_id = (__u32)stamp & (SKBT_MAX_PROBES - 1);

        if (active & probe_sessions[probe_id])
                return false;
        return !(active & *(volatile __u64 *)&state.ident) ||
               !((__u32)(stamp >> 32) & SKBT_STAMP_LIFE);
}

/*
 * A stub's work once it has its skb.  btf: skb is BTF-typed (the stubs per skb
 * position below), so the mark gate reads the mark with one plain load; else
 * a probe read (a helper call on every hit of every function).
 */
static __always_inline int skbt_stub(__u64 *ctx, struct sk_buff *skb, __u64 stamp,
                                     struct skbt_hit *hit, const bool btf)
{
        struct skbt_hop_cpu *h;
        struct skbt_hop_rec *r;
        __u32 zero = 0, d, pos;
        __u64 v = 0;

        /* What the body would return at once for, decided here, before the hop: no skb
         * (ip_route_output_key_hash_rcu() and others are called without one), the mark, or
         * no live session selected this function and none follows packets. */
        if (!skb || skbt_gate_out(skb, btf))
                SKBT_EXIT_HERE();
        if (skbt_stub_unselected(stamp))
                return 0;
        h = bpf_map_lookup_elem(&hop, &zero);
        if (!h)
                return 0;
        d = h->depth;
        if (d >= SKBT_HOP_LEVELS) {
                skbt_lost_for(SKBT_STAT_HOP_LOST, *(volatile __u64 *)&state.active);
                return 0;
        }
        r = &h->rec[d];
        /* Through map memory: a BTF-typed pointer cannot be stored as a number. */
        r->skb = (__u64)skb;
        r->stamp = stamp;
        r->drop_reason = hit->drop_reason;
        r->flags = hit->flags;
        r->done = 0;
        pos = ((__u32)(stamp >> 32) >> SKBT_STAMP_SK_SHIFT) & SKBT_STAMP_SK_MASK;
        if (pos)
                bpf_get_func_arg(ctx, pos - 1, &v);
        r->sk = v;
        h->depth = d + 1;
        bpf_strncmp((char *)r, SKBT_HOP_SIZE + d, skbt_hop_tag);
        h->depth = d;
        if (!r->done)
                skbt_lost_for(SKBT_STAT_HOP_LOST, *(volatile __u64 *)&state.active);
        return 0;
}

/* The stub for any skb position (stamped next to the probe id), its skb a number. */
SEC("fentry/netif_receive_skb")
int skbt_fentry_stub(__u64 *ctx)
{
        __u64 stamp = skbt_stamp();
        struct skbt_hit hit = {};
        struct sk_buff *skb;

        if (skbt_idle())
                return 0;
        skbt_fentry_hit(ctx, stamp, &skb, &hit);
        return skbt_stub(ctx, skb, stamp, &hit, false);
}

/*
 * The stubs per skb position, preferred (daemon/probes/backend_fentry.c): the
 * verifier types ctx[pos] from the function's prototype, so the skb is
 * BTF-typed and its mark one plain load instead of a helper call, as ipftrace2
 * reads it.  Each template's attach target for its own load is a function with
 * the skb at that position (skbt_fentry_set_targets()).
 */
#define SKBT_FENTRY_STUB(pos)                                                                      \
        SEC("fentry/netif_receive_skb")                                                            \
        int skbt_fentry_stub##pos(__u64 *ctx)                                                      \
        {                                                                                          \
                struct sk_buff *skb = (struct sk_buff *)ctx[pos];                                  \
                __u64 stamp = skbt_stamp();                                                        \
                struct skbt_hit hit = {};                                                          \
                                                                                                   \
                if (skbt_idle())                                                                   \
                        return 0;                                                                  \
                skbt_fentry_drop(ctx, stamp, pos, skb, &hit);                                      \
                return skbt_stub(ctx, skb, stamp, &hit, true);                                     \
        }

SKBT_FENTRY_STUB(0)
SKBT_FENTRY_STUB(1)
SKBT_FENTRY_STUB(2)
SKBT_FENTRY_STUB(3)
SKBT_FENTRY_STUB(4)
SKBT_FENTRY_STUB(5)

/* The shared body for the stubs' hops at one nesting level (attached to bpf_strncmp). */
#define SKBT_FENTRY_HOP(level)                                                                     \
        SEC("fentry/netif_receive_skb")                                                            \
        int skbt_fentry_hop##level(__u64 *ctx)                                                     \
        {                                                                                          \
                struct skbt_hit hit = {};                                                          \
                struct skbt_hop_cpu *h;                                                            \
                struct skbt_hop_rec *r;                                                            \
                struct sk_buff *skb;                                                               \
                __u32 zero = 0;                                                                    \
                __u64 mask;                                                                        \
                                                                                                   \
                if (skbt_in_template())                                                            \
                        return 0;                                                                  \
                if (ctx[1] != SKBT_HOP_SIZE + (level) || ctx[2] != (__u64)skbt_hop_tag)            \
                        return 0;                                                                  \
                h = bpf_map_lookup_elem(&hop, &zero);                                              \
                if (!h)                                                                            \
                        return 0;                                                                  \
                r = &h->rec[level];                                                                \
                r->done = 1;                                                                       \
                skb = (struct sk_buff *)r->skb;                                                    \
                hit.drop_reason = r->drop_reason;                                                  \
                hit.flags = r->flags;                                                              \
                mask = skbt_handle(ctx, skb, r->stamp, &hit, SKBT_ARGS_HOP + (level));             \
                if (mask)                                                                          \
                        skbt_graph_push(skb, (__u32)r->stamp, mask);                               \
                return 0;                                                                          \
        }

SKBT_FENTRY_HOP(0)
SKBT_FENTRY_HOP(1)
SKBT_FENTRY_HOP(2)

/*
 * kprobe and kprobe-multi: one program per register position (x86-64 passes
 * the first six arguments in di, si, dx, cx, r8, r9), attached to many
 * functions; the attach cookie carries the probe id (low 32 bits) and
 * SKBT_STAMP_* (high 32 bits).  The packet is judged before the cookie is
 * read: on kprobe-multi that is a binary search over the link's functions,
 * and most hits of a running session are packets no session wants.
 */
/*
 * Where a drop function was called from, as skb:kfree_skb reports it
 * (__builtin_return_address(0)): at a function's entry the stack pointer
 * points at its return address.
 */
static __always_inline __u64 skbt_kprobe_caller(struct pt_regs *ctx)
{
        __u64 ret = 0;

        bpf_probe_read_kernel(&ret, sizeof(ret), (void *)ctx->sp);
        return ret;
}

/*
 * The kprobe entry points serve every function of their skb position through
 * the attach cookie, yet they are templates too: in the object's own copy the
 * stamp is the marker, so the verifier drops the body and the object loads in
 * a fraction of a second.  The daemon loads a copy stamped with 0 when a session
 * first needs the position (daemon/probes/backend_kprobe.c), in the attach
 * worker, and keeps it.
 */
static __always_inline bool skbt_kprobe_template(void)
{
        return (__u32)skbt_stamp() == SKBT_PROBE_ID_MARKER;
}

#define SKBT_KPROBE_ENTRY(sec, name, reg, next)                                                    \
        SEC(sec)                                                                                   \
        int name(struct pt_regs *ctx)                                                              \
        {                                                                                          \
                struct sk_buff *skb = (struct sk_buff *)ctx->reg;                                  \
                struct skbt_hit hit = {};                                                          \
                struct skbt_scratch *s;                                                            \
                __u64 cookie, mask, active;                                                        \
                                                                                                   \
                if (skbt_kprobe_template())                                                        \
                        return 0;                                                                  \
                /* skbt_idle(), with the value kept for what follows. */                           \
                active = *(volatile __u64 *)&state.active;                                         \
                if (!active || skbt_mark_gate(skb, active, false))                                 \
                        return 0;                                                                  \
                s = skbt_judge(skb, active, false, ctx, 0, SKBT_ARGS_KPROBE);                      \
                if (!s || skbt_unwanted(s))                                                        \
                        return 0;                                                                  \
                cookie = bpf_get_attach_cookie(ctx);                                               \
                if ((cookie >> 32) & SKBT_STAMP_DROP) {                                            \
                        hit.drop_reason = (__u32)ctx->next;                                        \
                        hit.flags = SKBT_EV_DROP;                                                  \
                        hit.location = skbt_kprobe_caller(ctx);                                    \
                        skbt_nf_drop_inside(skb);                                                  \
                }                                                                                  \
                mask = skbt_handle_judged(ctx, skb, cookie, &hit, s);                              \
                if (mask)                                                                          \
                        skbt_graph_push(skb, (__u32)cookie, mask);                                 \
                return 0;                                                                          \
        }

SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg0, di, si)
SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg1, si, dx)
SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg2, dx, cx)
SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg3, cx, r8)
SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg4, r8, r9)
SKBT_KPROBE_ENTRY("kprobe.multi", skbt_kmulti_arg5, r9, r9)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg0, di, si)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg1, si, dx)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg2, dx, cx)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg3, cx, r8)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg4, r8, r9)
SKBT_KPROBE_ENTRY("kprobe", skbt_kprobe_arg5, r9, r9)

/* Returns: the cookie is the return probe's id, its high half the entry's and SKBT_STAMP_*. */
#define SKBT_KRETPROBE(sec, name)                                                                  \
        SEC(sec)                                                                                   \
        int name(struct pt_regs *ctx)                                                              \
        {                                                                                          \
                if (skbt_returns_idle())                                                           \
                        return 0;                                                                  \
                return skbt_return(bpf_get_attach_cookie(ctx), (__s64)ctx->ax);                    \
        }

SKBT_KRETPROBE("kretprobe.multi", skbt_kmulti_ret)
SKBT_KRETPROBE("kretprobe", skbt_kretprobe)

/*
 * Netfilter verdicts (skbt_nf.bpf.h): one entry and one return template per
 * attach type, on the table and chain evaluation functions.  Every entry,
 * kprobes' too, is loaded once per evaluator with the engine and the argument
 * positions stamped in (never read from an attach cookie): constants let the
 * verifier follow one engine and one register per argument.  A kprobe copy
 * that read them from the cookie went through 1,000,001 instructions on Linux
 * 6.1's verifier and was refused (E2BIG); stamped, it verifies like the fentry
 * copy.  The returns read no stamp: the object's own programs serve them all.
 * They test for frames (skbt_nf_no_frames()), not for live sessions: a frame
 * left by a session that ended inside an evaluation is still popped.
 */
SEC("fentry/netif_receive_skb")
int skbt_nf_fentry(__u64 *ctx)
{
        if (skbt_idle())
                return 0;
        return skbt_nf_fentry_enter(ctx, skbt_stamp());
}

SEC("fexit/netif_receive_skb")
int skbt_nf_fexit(__u64 *ctx)
{
        __u64 ret = 0;

        if (skbt_nf_no_frames())
                return 0;
        bpf_get_func_ret(ctx, &ret);
        return skbt_nf_leave(ret, true);
}

SEC("kprobe.multi")
int skbt_nf_kmulti(struct pt_regs *ctx)
{
        __u64 stamp = skbt_stamp();

        if ((__u32)stamp == SKBT_PROBE_ID_MARKER || skbt_idle())
                return 0;
        return skbt_nf_kprobe_enter(ctx, stamp);
}

SEC("kretprobe.multi")
int skbt_nf_kmulti_ret(struct pt_regs *ctx)
{
        return skbt_nf_leave(ctx->ax, true);
}

SEC("kprobe")
int skbt_nf_kprobe(struct pt_regs *ctx)
{
        __u64 stamp = skbt_stamp();

        if ((__u32)stamp == SKBT_PROBE_ID_MARKER || skbt_idle())
                return 0;
        return skbt_nf_kprobe_enter(ctx, stamp);
}

SEC("kretprobe")
int skbt_nf_kretprobe(struct pt_regs *ctx)
{
        return skbt_nf_leave(ctx->ax, true);
}

/*
 * tc and XDP programs themselves (skbt_bpfprog.bpf.h): entry and return,
 * loaded per traced program with that program as the attach target (the
 * section's function is a placeholder: the loader gives the target).
 */
SEC("fentry/netif_receive_skb")
int skbt_prog_fentry(__u64 *ctx)
{
        if (skbt_idle())
                return 0;
        return skbt_bpfprog_enter(ctx, skbt_stamp());
}

SEC("fexit/netif_receive_skb")
int skbt_prog_fexit(__u64 *ctx)
{
        __u64 ret = 0;

        if (skbt_nf_no_frames())
                return 0;
        bpf_get_func_ret(ctx, &ret);
        return skbt_nf_leave(ret, false);
}

/*
 * nftables' trace hook (skbt_nf.bpf.h skbt_nft_hook()): entry only; the
 * stamp or cookie's high half holds the argument positions.
 */
SEC("fentry/netif_receive_skb")
int skbt_nft_hook_fentry(__u64 *ctx)
{
        __u32 hi;

        if (skbt_idle())
                return 0;
        hi = (__u32)(skbt_stamp() >> 32);
        return skbt_nft_hook(
            skbt_nft_hook_fentry_arg(ctx, hi, 0), skbt_nft_hook_fentry_arg(ctx, hi, 1),
            skbt_nft_hook_fentry_arg(ctx, hi, 2), (__u32)skbt_nft_hook_fentry_arg(ctx, hi, 3));
}

#define SKBT_NFT_HOOK_KPROBE(sec, name)                                                            \
        SEC(sec)                                                                                   \
        int name(struct pt_regs *ctx)                                                              \
        {                                                                                          \
                __u32 hi;                                                                          \
                                                                                                   \
                if (skbt_idle())                                                                   \
                        return 0;                                                                  \
                hi = (__u32)(bpf_get_attach_cookie(ctx) >> 32);                                    \
                return skbt_nft_hook(skbt_nft_hook_kprobe_arg(ctx, hi, 0),                         \
                                     skbt_nft_hook_kprobe_arg(ctx, hi, 1),                         \
                                     skbt_nft_hook_kprobe_arg(ctx, hi, 2),                         \
                                     (__u32)skbt_nft_hook_kprobe_arg(ctx, hi, 3));                 \
        }

SKBT_NFT_HOOK_KPROBE("kprobe.multi", skbt_nft_hook_kmulti)
SKBT_NFT_HOOK_KPROBE("kprobe", skbt_nft_hook_kprobe)
