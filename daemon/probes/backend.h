/* SPDX-License-Identifier: GPL-2.0-only */
/* backend.h - attach backends as operations tables: what each can do, how it loads and attaches */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "caps.h"
#include "links.h"

struct bpf_link;
struct bpf_program;
struct caps;
struct skbt_loader;

/* Why a probe could not be loaded or attached: logged, listed, reported to sessions. */
#define SKBT_WHY_MAX 160

/* What a backend can do (struct skbt_backend_ops.flags). */
enum {
        SKBT_BACKEND_F_FUNCTIONS = 1 << 0, /* attaches kernel functions (else tracepoints) */
        SKBT_BACKEND_F_RETURNS = 1 << 1,   /* has return probes: function_graph, --track copies */
        SKBT_BACKEND_F_BATCH = 1 << 2,     /* one link attaches many functions */
        SKBT_BACKEND_F_PROG_PER_PROBE = 1 << 3, /* a program load per probe (attach target fixed
                                                   at load): fentry, tp_btf */
};

/*
 * A backend: how probes of one attach type are loaded and attached.  Every
 * probe records the backend that serves it (struct skbt_probe.backend); the
 * tracepoint backend serves the tracepoints whatever function backend was
 * chosen.  Loading and attaching may run outside the event loop (one thread
 * at a time per probe): they touch only the probes they were given, their
 * programs, and the object's templates, which are read-only once loaded.
 */
struct skbt_backend_ops {
        enum skbt_backend id;
        const char *name;
        unsigned flags;   /* SKBT_BACKEND_F_* */
        int max_arg;      /* highest 0-based skb argument position it reads */
        const char *caps; /* the capability probe's program (bpf/caps.bpf.c) */
        /* Capability probe: attach caps' program prog to a core RX function or tracepoint. */
        struct bpf_link *(*caps_attach)(struct bpf_program *prog);
        /* Whether the object program called name is one of this backend's templates (nf: the
         * netfilter verdict templates are loaded too). */
        bool (*wants_program)(const char *name, bool nf);
        /*
         * Load what probe id needs before it can be attached (a stamped copy of a
         * template) into its prog_fd; NULL when the templates serve every probe.
         * Returns 0 or a negative errno with the reason in why.
         */
        int (*load)(struct skbt_loader *l, uint32_t id, char *why);
        /*
         * Attach probes ids[0..n) (loaded, all of this backend and of one kind: entries,
         * returns or netfilter probes) in as few links as the backend allows.  For each i,
         * links[i] is the link that attached ids[i] (shared by the probes of one link) or
         * NULL with the reason in why[i].
         */
        void (*attach)(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                       struct skbt_link **links, char (*why)[SKBT_WHY_MAX]);
};

/* The operations of backend b (never NULL for b < _SKBT_BACKEND_MAX). */
const struct skbt_backend_ops *skbt_backend_ops(enum skbt_backend b);
static inline bool skbt_backend_has(enum skbt_backend b, unsigned flag)
{
        return b >= 0 && b < _SKBT_BACKEND_MAX && (skbt_backend_ops(b)->flags & flag);
}

extern const struct skbt_backend_ops skbt_backend_fentry;
extern const struct skbt_backend_ops skbt_backend_kprobe_multi;
extern const struct skbt_backend_ops skbt_backend_kprobe;
extern const struct skbt_backend_ops skbt_backend_tracepoint;

/*
 * Load (where needed) the programs of probes ids[0..n), all served by one
 * backend: why[i] says why ids[i] failed, "" if it did not.  Touches only
 * those probes' programs: safe outside the event loop.  Returns how many
 * failed.
 */
uint32_t skbt_backend_load(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                           char (*why)[SKBT_WHY_MAX]);
/* Whether one of ids[0..n) needs a program load before its attach (a backend with a program
 * per probe, not loaded yet).  Reads prog_fd: only in the thread that loads. */
bool skbt_backend_needs_load(const struct skbt_loader *l, const uint32_t *ids, uint32_t n);
/* Load where needed and attach probes ids[0..n) of one backend: links[i] or why[i].  Safe
 * outside the event loop, like skbt_backend_load(). */
void skbt_backend_run(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                      struct skbt_link **links, char (*why)[SKBT_WHY_MAX]);
/* On the event loop: record what skbt_backend_run() did in each probe (its link, or its
 * error) and keep the links.  Returns how many attached. */
uint32_t skbt_backend_apply(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                            struct skbt_link **links, char (*why)[SKBT_WHY_MAX]);
/* Both at once, on the caller's thread.  Returns how many attached. */
uint32_t skbt_backend_attach_now(struct skbt_loader *l, const uint32_t *ids, uint32_t n);
/* Keep k in the loader's list of links. */
void skbt_backend_link_add(struct skbt_loader *l, struct skbt_link *k);
/* Take link k out of its probes and the list (to hand it to the worker, which frees it). */
void skbt_backend_unlink(struct skbt_loader *l, struct skbt_link *k);
/* Detach link k (every probe it carries) and free it, here and now. */
void skbt_backend_detach_now(struct skbt_loader *l, struct skbt_link *k);
void skbt_backend_detach_all(struct skbt_loader *l);
/* Parallel program loads (fentry, tracepoints) at most. */
#define SKBT_LOAD_THREADS_MAX 16

/* A function every kernel has, with an skb, hit on every received packet: what the capability
 * probe attaches to (caps.c). */
#define SKBT_CAPS_FUNCTION "netif_receive_skb"
#define SKBT_CAPS_TRACEPOINT "netif_receive_skb"
