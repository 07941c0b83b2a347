/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - load the BPF programs once and attach them to every skb probe */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend.h"
#include "caps.h"
#include "misses.h"
#include "skbt_abi.h"
#include "skbt_cbpf.h"
#include "skbt_fields.h"
#include "skbt_probe_names.h"
#include "skbt_regex.h"

struct skbt_symdb;
struct skbtrace;

#define SKBT_NO_PROBE UINT32_MAX
/* Templates a loader copies at most (bpf/skbtrace.bpf.c has 14 kprobe ones). */
#define SKBT_TMPL_COPIES_MAX 32

struct skbt_loader_opts;

struct skbt_link;

/*
 * One probe point: a tracepoint, function, function return or netfilter
 * evaluator.  Its id (index in the loader's table) is fixed from discovery
 * on: it is stamped into its program or attach cookie.
 */
struct skbt_probe {
        char *name;        /* "skb:kfree_skb" for tracepoints, "ip_rcv" for functions */
        uint8_t kind;      /* enum skbt_probe_kind */
        uint8_t skb_arg;   /* 0-based position of the skb argument */
        uint8_t sk_arg1;   /* 1 + 0-based position of a struct sock * argument, 0: none */
        uint8_t backend;   /* enum skbt_backend serving it; _SKBT_BACKEND_MAX: none can */
        bool drop;         /* reports drop reason and location */
        bool attached;     /* usable: loaded and attached, or ready to be (a tracepoint's link
                              is closed while idle) */
        char *error;       /* why it is not attached */
        uint16_t life;     /* SKBT_STAMP_FREE, _CLONE, _REHEAD, _LIVE: see skbt_probe_life() */
        bool is_return;    /* the return side of entry_id (fexit / kretprobe) */
        bool tp_btf;       /* tracepoints: a tp_btf program, else raw_tp */
        uint32_t entry_id; /* for returns */
        uint32_t ret_id;   /* for entries: the return probe, or SKBT_NO_PROBE */
        uint64_t stamp;    /* the id and SKBT_STAMP_* its program or cookie carries */
        /* What the backend attaches to: a function or tracepoint's BTF id and the BTF object
         * of its module (0: vmlinux), and the kernel's name ("kfree_skb", "ipt_do_table"). */
        uint32_t btf_id;
        int btf_obj_fd;
        char *target;
        /* Loaded and attached by its backend (backend.h); a probe is never loaded or
         * attached by two threads at once.  prog_fd (and tp_btf) belong to whoever loads:
         * the event loop reads them only once loaded says the load is done. */
        int prog_fd;     /* its own program (fentry, tracepoints), -1: none */
        int ret_prog_fd; /* netfilter probes on fentry: the return program */
        bool hop;        /* fentry: its program is a stub of the shared body (backend_fentry.c) */
        bool loaded;     /* its program loaded (or it needs none of its own) */
        /* A helper: attached only while a session needs the feature it serves (nftables'
         * trace hook for --nf-rules), never selected or heard by a session. */
        bool helper;
        struct skbt_link *link; /* the link attaching it, NULL: not attached */
        uint32_t bpf_prog_id;   /* SKBT_PROBE_BPF: the tc or XDP program traced */
        /* Hints for the attach order (demand.c, skbt_demand_order()), kept by the event
         * loop: records decoded from it (it fires on this host's traffic), and whether a
         * probe group names it (data/groups.conf: on a common path). */
        uint64_t events;
        bool grouped;
};

/* A netfilter evaluator (entry and return: the verdict), not a helper probe. */
static inline bool skbt_probe_is_nf_eval(const struct skbt_probe *p)
{
        return p->kind == SKBT_PROBE_NETFILTER && !p->helper;
}

/* A kernel function's own entry (not its return, a netfilter evaluator or a helper): what an
 * fentry stub serves (backend_fentry.c). */
static inline bool skbt_probe_is_function_entry(const struct skbt_probe *p)
{
        return p->kind == SKBT_PROBE_FUNCTION && !p->is_return && !p->helper;
}

/* Attached now: a link holds it to its function or tracepoint. */
static inline bool skbt_probe_linked(const struct skbt_probe *p)
{
        return p->link != NULL;
}

/* function_graph's per-task call stacks (graph_stack, bpf/skbt_body.bpf.h). */
enum skbt_graph_stacks {
        SKBT_GRAPH_STACKS_ON_USE,   /* allocated by a task's outermost push, freed when emptied */
        SKBT_GRAPH_STACKS_PREALLOC, /* preallocated (kernels before 6.1): 10.3 MiB */
        SKBT_GRAPH_STACKS_NONE,     /* no return probes on this backend: nothing pushes */
};

const char *skbt_graph_stacks_to_string(enum skbt_graph_stacks s);

struct skbt_loader {
        struct skbtrace *skel;
        struct skbt_probe *probes; /* index = probe id */
        uint32_t n_probes;
        uint32_t n_attached;
        uint32_t n_skipped;      /* tried and failed to load or attach */
        uint32_t n_unsupported;  /* discovered, but no backend in use can attach them */
        uint32_t n_functions;    /* function entries attached */
        uint32_t n_returns;      /* function returns attached */
        bool returns;            /* return probes (function_graph) were asked for */
        struct skbt_link *links; /* every link held now */
        /* How function_graph's call stacks are held (loader.c graph_stacks_choose()). */
        enum skbt_graph_stacks graph_stacks;
        /* Kernel BTF objects of modules whose functions fentry attaches to. */
        char **mod_names;
        int *mod_fds;
        uint32_t n_mods;
        enum skbt_backend backend;
        int threads; /* parallel program loads */
        /* Shared with the programs through the mmapped .bss. */
        struct skbt_state *state;
        uint64_t *probe_sessions;
        uint16_t *probe_return; /* per entry: its return probe's id + 1 once that is live */
        struct skbt_cbpf_prog *cbpf_progs;    /* per session slot: pcap filters */
        struct skbt_field_table *field_table; /* custom fields of all sessions (fields.c) */
        uint64_t *field_sessions;             /* sessions whose records carry them */
        uint64_t *snap_sessions;              /* sessions whose records carry packet bytes */
        uint64_t *ct_sessions;                /* sessions whose records carry conntrack (--ct) */
        uint64_t *dump_sessions;              /* sessions whose records carry an skb dump */
        uint64_t *nf_rule_sessions;           /* sessions whose verdicts name their rule */
        struct skbt_ct_conf *ct_conf;         /* how much of a conntrack entry to copy */
        struct skbt_nf_conf *nf_conf;         /* netfilter structure offsets (attach_nf.c) */
        struct skbt_track_quota *track_quota; /* per session slot: packets it may start tracking */
        uint32_t n_nf;                        /* netfilter probes attached */
        uint32_t n_bpfprog;                   /* tc and XDP program probes usable */
        bool tp_btf;                          /* tp_btf tracepoint templates loaded */
        /* Tracepoints served by one shared raw_tp program per skb position, the probe in the
         * link's attach cookie (backend_tracepoint.c); else a program copy per tracepoint. */
        bool tp_shared;
        bool fentry_untyped;     /* the kernel refused the fentry stubs per skb position */
        bool nf_loaded;          /* netfilter verdict templates loaded (attach_nf.c) */
        bool bpfprog_loaded;     /* tc/XDP program templates loaded (attach_bpfprog.c) */
        const char *bpfprog_why; /* why not, for 'ipftctl list' */
        bool bpfprog_full;       /* as many tc/XDP programs as it takes seen: warned */
        /* nftables' trace hook (attach_nft_rule.c): a helper probe attached for --nf-rules
         * sessions, SKBT_NO_PROBE when rules cannot be told, and nft_rule_why says why. */
        uint32_t nft_hook_id;
        char nft_rule_why[160];
        int xt_snaps_fd;   /* iptables rule numbers' per-CPU map, while --nf-rules sessions run */
        uint32_t n_tp_btf; /* tracepoints attached as tp_btf copies */
        uint32_t n_tp_shared; /* tracepoints attached through the shared programs */
        /* fentry's shared body (backend_fentry.c): each function loads a small stub that
         * reaches the body programs through a hop, one per nesting level, loaded and linked
         * with the first function that needs them (the background preload's); the links
         * stay for the daemon's life (link_fd: -1 until made). */
        struct skbt_fentry_hop {
                pthread_mutex_t lock;
                int state; /* 0: not tried yet, 1: in use, negative errno: refused (copies) */
                char why[160];
                int prog_fd[SKBT_HOP_LEVELS];
                int link_fd[SKBT_HOP_LEVELS];
        } hop;
        uint32_t n_fentry_hop; /* function entries attached as stubs */
        /* Runs of our programs the kernel skipped (misses.c), read by the event loop. */
        struct skbt_misses misses;
        int ringbuf_fd;
        int lost_fd;
        int stats_fd;
        int track_fd;         /* skb address -> struct skbt_track */
        int track_head_fd;    /* skb->head -> struct skbt_track */
        uint64_t track_swept; /* entries the daemon removed when their sessions ended */
        int n_cpus;
        /* Program loads so far (the object's templates and every stamped copy). */
        struct skbt_load_stats {
                uint64_t n;
                uint64_t ns;
                uint64_t verified_insns;
        } loads;
        uint64_t load_ns; /* time to load and attach everything */
        uint64_t tp_ns;   /* of which tracepoints */
        /* Copies of the templates that serve many probes through attach cookies (kprobe,
         * kprobe-multi), loaded when first needed: skbt_template_fd(). */
        struct skbt_tmpl_copy {
                const struct bpf_program *tmpl;
                int fd;    /* negative errno: the kernel refused it */
                char *why; /* then why */
        } tmpl_copies[SKBT_TMPL_COPIES_MAX];
        uint32_t n_tmpl_copies;
        pthread_mutex_t tmpl_lock;
        /* The object's functions, to give BPF-to-BPF call targets their BTF (stamped.c). */
        struct skbt_subprog {
                uint32_t btf_id;
                uint32_t n;     /* instructions */
                uint8_t *codes; /* their opcodes */
        } * subprogs;
        uint32_t n_subprogs;
};

/*
 * Load the programs and attach them to every probe in db that backend can
 * serve.  A probe that fails to load or attach is recorded with its error
 * and skipped; only a failure to load the object itself is fatal.
 */
struct skbt_ksyms;

/* What to attach. */
struct skbt_loader_opts {
        enum skbt_backend backend;
        uint32_t ringbuf_bytes;
        bool returns;                   /* also attach return probes (function_graph) */
        struct skbt_regex *probe_regex; /* attach only probes whose name matches (NULL: all) */
        int threads;                    /* parallel program loads (fentry) */
        /* fentry works here (the capability probe): tc and XDP programs can be traced; else
         * why not. */
        bool bpf_progs;
        const char *bpf_progs_why;
};

int skbt_loader_new(const struct skbt_symdb *db, const struct skbt_ksyms *ksyms,
                    const struct skbt_loader_opts *opts, struct skbt_loader **ret);
/* Detach and unload everything.  Accepts NULL, returns NULL. */
struct skbt_loader *skbt_loader_free(struct skbt_loader *l);

/* iptables rule numbers' per-CPU map (attach_nf.c): made at the first --nf-rules session,
 * dropped after the last.  Hold returns a negative errno with err saying why when it cannot be
 * made (the caller logs and refuses the session). */
int skbt_xt_snaps_hold(struct skbt_loader *l, char *err, size_t errlen);
void skbt_xt_snaps_release(struct skbt_loader *l);

/* Count the probes again (n_attached, n_functions, ...) after attaches or detaches. */
void skbt_loader_recount(struct skbt_loader *l);

/*
 * Look for tc and XDP programs loaded since the last look (attach_bpfprog.c): each new one
 * becomes a probe "tc:NAME" or "xdp:NAME", attached when a session selects it; a probe whose
 * program was unloaded is marked unusable.  On the event loop; skbt_loader_recount() after.
 * Returns how many probes were added (the new ones are the last in the table), or a negative
 * errno.
 */
int skbt_loader_scan_bpf_progs(struct skbt_loader *l);

/* Sum a per-CPU counter from the lost (per session slot) or stats map. */
int skbt_loader_read_lost(const struct skbt_loader *l, uint32_t slot, uint64_t *ret);
int skbt_loader_reset_lost(const struct skbt_loader *l, uint32_t slot);
int skbt_loader_read_stat(const struct skbt_loader *l, uint32_t idx, uint64_t *ret);
/* track_life.c: what a probe means for a packet's life (SKBT_STAMP_FREE, _CLONE,
 * _REHEAD, or 0), by name ("skb:consume_skb", "kfree_skbmem"). */
uint32_t skbt_probe_life(const char *name, uint8_t kind);
/* Read the tracking counters (enum skbt_stat) and count the live entries. */
struct skbt_track_stats {
        uint64_t created, clones, freed, stale, failed, swept;
        uint64_t live, live_heads;
        uint64_t evicted; /* created + clones - freed - stale - swept - live, never < 0 */
};
int skbt_loader_track_stats(struct skbt_loader *l, struct skbt_track_stats *ret);
/* Clear the session slots in mask from every tracking entry (session end). */
void skbt_loader_track_sweep(struct skbt_loader *l, uint64_t mask);

/* Make a program that is a copy of the template with the probe id patched
 * into the marker immediate.  Exposed for tests. */
int skbt_stamp_probe_id(const void *insns, size_t n_insns, uint64_t stamp, void **ret);
