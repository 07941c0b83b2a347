/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.c - load the BPF programs once and attach them to every skb probe */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "kernel_btf.h"
#include "loader-internal.h"
#include "loader.h"
#include "log.h"
#include "skbtrace.skel.h"
#include "symdb.h"
#include "util.h"

struct skbt_loader *skbt_loader_free(struct skbt_loader *l)
{
        if (!l)
                return NULL;
        for (uint32_t i = 0; i < l->n_tmpl_copies; i++) {
                safe_close(l->tmpl_copies[i].fd);
                free(l->tmpl_copies[i].why);
        }
        pthread_mutex_destroy(&l->tmpl_lock);
        skbt_backend_detach_all(l);
        for (int i = 0; i < SKBT_HOP_LEVELS; i++) {
                safe_close(l->hop.link_fd[i]);
                safe_close(l->hop.prog_fd[i]);
        }
        pthread_mutex_destroy(&l->hop.lock);
        for (uint32_t i = 0; i < l->n_probes; i++) {
                safe_close(l->probes[i].prog_fd);
                safe_close(l->probes[i].ret_prog_fd);
                free(l->probes[i].name);
                free(l->probes[i].target);
                free(l->probes[i].error);
        }
        safe_close(l->xt_snaps_fd);
        skbt_module_btf_close(l);
        skbt_misses_free(&l->misses);
        free(l->probes);
        skbt_subprogs_free(l);
        skbtrace__destroy(l->skel);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_loader *, skbt_loader_free);

/* Load only the templates the backends in use need: on a kernel where, say, fentry is
 * refused, loading its template would fail the whole object. */
static void set_autoload(struct skbtrace *skel, enum skbt_backend backend, bool nf, bool btf,
                         bool progs, bool shared)
{
        const struct skbt_backend_ops *fn = skbt_backend_ops(backend);
        const struct skbt_backend_ops *tp = &skbt_backend_tracepoint;
        struct bpf_program *p;

        bpf_object__for_each_program (p, skel->obj) {
                const char *n = bpf_program__name(p);
                bool on = tp->wants_program(n, false) || fn->wants_program(n, nf);

                /* Shared programs serve every tracepoint: no copies, no tp_btf templates. */
                if (strncmp(n, "skbt_tpbtf_", 11) == 0)
                        on = btf && !shared;
                if (strncmp(n, "skbt_tpc_", 9) == 0)
                        on = shared;
                /* fentry on tc and XDP programs, whatever serves the kernel functions. */
                if (strcmp(n, "skbt_prog_fentry") == 0 || strcmp(n, "skbt_prog_fexit") == 0)
                        on = progs;
                bpf_program__set_autoload(p, on);
        }
}

/*
 * Load the templates.  SKBTRACED_VERIFIER_LOG (debugging) gives every
 * program a big verifier log and shows the end of the failing one's:
 * libbpf's own report is cut after its first few kilobytes, where the
 * reason is never found.  "stats": the error and the statistics only (the
 * full log of a big program overflows any buffer on older kernels, which
 * keep its start); anything else: the full log.
 */
static int load_skeleton(struct skbtrace *skel)
{
        const size_t size = 64u << 20;
        _cleanup_free_ char *log = NULL;
        struct bpf_program *p;
        int r;

        if (!getenv("SKBTRACED_VERIFIER_LOG"))
                return skbtrace__load(skel);
        log = calloc(1, size);
        if (!log)
                return -ENOMEM;
        bpf_object__for_each_program (p, skel->obj) {
                bpf_program__set_log_buf(p, log, size);
                bpf_program__set_log_level(
                    p, strcmp(getenv("SKBTRACED_VERIFIER_LOG"), "stats") == 0 ? 4 : 1);
                /* one file per failing load is enough; see below */
        }
        r = skbtrace__load(skel);
        if (r < 0) {
                const char *path = getenv("SKBTRACED_VERIFIER_LOG");
                size_t n = strlen(log);
                FILE *f;

                log_error("verifier log (end): ...%s", log + (n > 4000 ? n - 4000 : 0));
                /* A path: the whole log goes there. */
                if (path[0] == '/' && (f = fopen(path, "we"))) {
                        fwrite(log, 1, n, f);
                        fclose(f);
                }
        }
        return r;
}

/* The object's own load: its templates, each verified once. */
static void count_templates(struct skbt_loader *l, uint64_t ns)
{
        struct bpf_program *p;
        uint64_t verified = 0;
        uint32_t n = 0;

        bpf_object__for_each_program (p, l->skel->obj) {
                struct bpf_prog_info info = {};
                __u32 len = sizeof(info);

                if (bpf_program__fd(p) < 0 ||
                    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) < 0)
                        continue;
                n++;
                verified += info.verified_insns;
                log_debug("template %s: %u instructions verified", bpf_program__name(p),
                          info.verified_insns);
        }
        l->loads.n += n;
        l->loads.ns += ns;
        l->loads.verified_insns += verified;
        log_info("loaded the BPF object: %u templates in %.0f ms (%" PRIu64
                 " instructions verified)",
                 n, (double)ns / 1e6, verified);
}

const char *skbt_graph_stacks_to_string(enum skbt_graph_stacks s)
{
        static const char *const names[] = {
            [SKBT_GRAPH_STACKS_ON_USE] = "on-use",
            [SKBT_GRAPH_STACKS_PREALLOC] = "preallocated",
            [SKBT_GRAPH_STACKS_NONE] = "none",
        };

        return (size_t)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

/*
 * function_graph's per-task call stacks (graph_stack) are allocated on use
 * where tracing programs may update maps that are not preallocated: since
 * Linux 6.1, whose BPF memory allocator (struct bpf_mem_alloc in the kernel's
 * BTF) came with the verifier's leave to.  Before, kprobe and tracepoint
 * programs using one warn in the kernel's log (and RT kernels refuse them),
 * so there the map is the preallocated LRU hash it was.  Decided once, before
 * the first load; SKBTRACED_GRAPH_PREALLOC=1 forces the old form (tests).
 */
static void graph_stacks_choose(struct skbt_loader *l)
{
        const struct btf *vmlinux;

        if (!l->returns) {
                l->graph_stacks = SKBT_GRAPH_STACKS_NONE;
                return;
        }
        vmlinux = skbt_kernel_btf();
        if (!getenv("SKBTRACED_GRAPH_PREALLOC") && vmlinux &&
            btf__find_by_name_kind(vmlinux, "bpf_mem_alloc", BTF_KIND_STRUCT) >= 0) {
                l->graph_stacks = SKBT_GRAPH_STACKS_ON_USE;
                return;
        }
        l->graph_stacks = SKBT_GRAPH_STACKS_PREALLOC;
        log_info("function_graph: %s; the tasks' call stacks are preallocated (~10 MiB of locked "
                 "kernel memory from start-up)",
                 getenv("SKBTRACED_GRAPH_PREALLOC")
                     ? "SKBTRACED_GRAPH_PREALLOC is set"
                     : "tracing programs cannot allocate map entries on this kernel (Linux 6.1+)");
}

/*
 * Before the load: give graph_stack the form graph_stacks_choose() chose, and
 * the other per-task stacks (netfilter evaluations, copy functions: each a
 * preallocated LRU hash) one entry where no function probe pushes on them.
 */
static int graph_stacks_set(const struct skbt_loader *l)
{
        struct bpf_map *m = l->skel->maps.graph_stack;
        int r = 0;

        if (!skbt_backend_has(l->backend, SKBT_BACKEND_F_FUNCTIONS)) {
                r = bpf_map__set_max_entries(l->skel->maps.nf_stack, 1);
                if (r >= 0)
                        r = bpf_map__set_max_entries(l->skel->maps.clone_stack, 1);
                if (r < 0)
                        return log_error_errno(r, "cannot size the per-task stacks: %m");
        }

        switch (l->graph_stacks) {
        case SKBT_GRAPH_STACKS_ON_USE:
                break;
        case SKBT_GRAPH_STACKS_NONE:
                /* Nothing pushes; one entry keeps the hash's buckets to one. */
                r = bpf_map__set_max_entries(m, 1);
                break;
        case SKBT_GRAPH_STACKS_PREALLOC:
                /* The LRU map takes no BPF_F_NO_PREALLOC; it evicts the stacks of tasks
                 * gone with frames on them. */
                r = bpf_map__set_type(m, BPF_MAP_TYPE_LRU_HASH);
                if (r >= 0)
                        r = bpf_map__set_map_flags(m, 0);
                break;
        }
        return r < 0 ? log_error_errno(r, "cannot set up function_graph's call stacks: %m") : 0;
}

/*
 * Open the object and load the templates for nf (verdict programs), btf
 * (tp_btf tracepoint programs) and shared (the shared tracepoint programs
 * instead of either tracepoint flavour's copies).  A load the kernel refuses returns its
 * negative errno with *refused set and is logged at debug level only: the
 * caller decides whether to try with fewer programs.  Anything else is
 * logged here.
 */
static int open_and_load(struct skbt_loader *l, const struct skbt_symdb *db,
                         const struct skbt_loader_opts *opts, bool nf, bool btf, bool progs,
                         bool shared, bool *refused)
{
        uint64_t t0;
        int r;

        *refused = false;
        l->skel = skbtrace__open();
        if (!l->skel)
                return log_error_errno(negative_errno(), "cannot open BPF object: %m");
        r = bpf_map__set_max_entries(l->skel->maps.events, opts->ringbuf_bytes);
        if (r < 0)
                return log_error_errno(r, "cannot size ring buffer to %u bytes: %m",
                                       opts->ringbuf_bytes);
        r = graph_stacks_set(l);
        if (r < 0)
                return r;
        set_autoload(l->skel, l->backend, nf, btf, progs, shared);
        if (btf && !shared)
                skbt_tp_set_targets(l->skel, db);
        if (l->backend == SKBT_BACKEND_FENTRY)
                skbt_fentry_set_targets(l->skel, db, !l->fentry_untyped);
        l->skel->rodata->skbt_count_gated = getenv("SKBTRACED_COUNT_GATED") != NULL;
        t0 = skbt_now_ns();
        r = load_skeleton(l->skel);
        if (r >= 0)
                count_templates(l, skbt_now_ns() - t0);
        if (r < 0) {
                *refused = true;
                return log_debug_errno(r,
                                       "cannot load BPF programs (verdict programs: %s, "
                                       "tracepoint programs: %s, tc/XDP programs: %s): %m",
                                       nf ? "yes" : "no",
                                       shared ? "shared"
                                       : btf  ? "tp_btf"
                                              : "raw_tp",
                                       progs ? "yes" : "no");
        }
        l->tp_btf = btf && !shared;
        l->tp_shared = shared;
        l->nf_loaded = nf;
        l->bpfprog_loaded = progs;
        return 0;
}

/* What one load of the object takes along (load_best()). */
struct load_try {
        bool nf, btf, progs, shared;
};

/* One try of load_best(), after any earlier try's object is gone. */
static int load_try(struct skbt_loader *l, const struct skbt_symdb *db,
                    const struct skbt_loader_opts *opts, const struct load_try *t, bool *refused)
{
        int r;

        skbtrace__destroy(l->skel);
        l->skel = NULL;
        r = open_and_load(l, db, opts, t->nf, t->btf, t->progs, t->shared, refused);
        if (r >= 0 || !*refused || l->backend != SKBT_BACKEND_FENTRY || l->fentry_untyped)
                return r;
        /* The fentry stubs per skb position are an optimisation with attach targets of their
         * own: the same try without them. */
        l->fentry_untyped = true;
        skbtrace__destroy(l->skel);
        l->skel = NULL;
        r = open_and_load(l, db, opts, t->nf, t->btf, t->progs, t->shared, refused);
        if (r >= 0)
                log_warning("the kernel refused the fentry stubs per skb position; every stub "
                            "reads its skb's mark with a probe read (slower per hit)");
        return r;
}

/*
 * tp_btf programs are an optimisation and the verdicts a detail: a kernel
 * that refuses either still traces, with raw_tp programs or without
 * verdicts.  Verdicts (what users see) are given up last.  Shared tracepoint
 * programs (skb read like tp_btf's, probe from the attach cookie) are tried
 * first where raw tracepoint links take cookies, then a copy per tracepoint.
 * SKBTRACED_NO_TP_BTF=1 forces raw_tp copies, SKBTRACED_NO_TP_SHARED=1
 * copies of the best flavour (tests, benchmarks).
 */
static int load_best(struct skbt_loader *l, const struct skbt_symdb *db,
                     const struct skbt_loader_opts *opts)
{
        static const struct load_try tries[] = {
            {true, true, true, true},    {true, true, true, false},   {true, true, false, true},
            {true, true, false, false},  {true, false, false, false}, {false, true, false, true},
            {false, true, false, false}, {false, false, false, false}};
        const bool want_btf = !getenv("SKBTRACED_NO_TP_BTF");
        const bool want_shared =
            want_btf && !getenv("SKBTRACED_NO_TP_SHARED") && skbt_tp_shared_supported();
        /* The verdict programs exist only on the function backends. */
        const bool want_nf = skbt_backend_has(l->backend, SKBT_BACKEND_F_FUNCTIONS);
        bool refused = true;
        int r = -EINVAL;

        for (size_t i = 0; i < ARRAY_SIZE(tries) && refused; i++) {
                if ((tries[i].nf && !want_nf) || (tries[i].btf && !want_btf) ||
                    (tries[i].progs && !opts->bpf_progs) || (tries[i].shared && !want_shared))
                        continue;
                r = load_try(l, db, opts, &tries[i], &refused);
                if (r >= 0)
                        break;
        }
        if (r < 0)
                return refused ? log_error_errno(r, "cannot load BPF programs: %m (the libbpf "
                                                    "messages above give the verifier's reasons; "
                                                    "SKBTRACED_VERIFIER_LOG=PATH keeps its whole "
                                                    "log, see skbtraced(8))")
                               : r;
        if (want_shared && !l->tp_shared)
                log_warning("the kernel refused the shared tracepoint programs; loading a "
                            "program copy per tracepoint (slower per hit and at start-up)");
        if (want_btf && !l->tp_btf && !l->tp_shared)
                log_warning("the kernel refused the tp_btf tracepoint programs; using raw_tp "
                            "programs (probe reads: slower per hit)");
        if (want_nf && !l->nf_loaded)
                log_warning("the kernel refused the netfilter verdict programs; loaded the "
                            "others without them (no verdicts)");
        if (opts->bpf_progs && !l->bpfprog_loaded)
                log_warning("the kernel refused the tc/XDP program tracers; loaded the others "
                            "without them");
        l->bpfprog_why = l->bpfprog_loaded ? NULL
                         : opts->bpf_progs ? "the kernel refused the programs that trace them "
                                             "(see the daemon's log)"
                                           : opts->bpf_progs_why;
        return 0;
}

void skbt_loader_recount(struct skbt_loader *l)
{
        l->n_attached = l->n_skipped = l->n_unsupported = 0;
        l->n_functions = l->n_returns = l->n_nf = l->n_tp_btf = l->n_tp_shared = l->n_bpfprog = 0;
        l->n_fentry_hop = 0;
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (p->backend >= _SKBT_BACKEND_MAX) {
                        l->n_unsupported++;
                        continue;
                }
                if (!p->attached) {
                        l->n_skipped++;
                        continue;
                }
                l->n_attached++;
                if (p->helper)
                        continue;
                if (p->kind == SKBT_PROBE_NETFILTER) {
                        l->n_nf++;
                } else if (p->kind == SKBT_PROBE_BPF) {
                        l->n_bpfprog++;
                } else if (p->kind == SKBT_PROBE_TRACEPOINT) {
                        l->n_tp_btf += p->loaded && p->tp_btf;
                        l->n_tp_shared += p->loaded && l->tp_shared;
                } else if (p->is_return) {
                        l->n_returns++;
                } else {
                        l->n_functions++;
                        l->n_fentry_hop += p->loaded && p->hop;
                }
        }
}

int skbt_loader_new(const struct skbt_symdb *db, const struct skbt_ksyms *ksyms,
                    const struct skbt_loader_opts *opts, struct skbt_loader **ret)
{
        _cleanup_(skbt_loader_freep) struct skbt_loader *l = NULL;
        enum skbt_backend backend = opts->backend;
        uint64_t start = skbt_now_ns();
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->tmpl_lock, NULL);
        pthread_mutex_init(&l->hop.lock, NULL);
        for (int i = 0; i < SKBT_HOP_LEVELS; i++)
                l->hop.prog_fd[i] = l->hop.link_fd[i] = -1;
        l->backend = backend;
        l->threads = opts->threads > 0 ? opts->threads : 1;
        l->returns = opts->returns && skbt_backend_has(backend, SKBT_BACKEND_F_RETURNS);
        l->ringbuf_fd = l->lost_fd = l->stats_fd = l->track_fd = l->track_head_fd = -1;
        l->xt_snaps_fd = -1;
        l->nft_hook_id = SKBT_NO_PROBE;
        snprintf(l->nft_rule_why, sizeof(l->nft_rule_why),
                 "no netfilter verdicts on this backend (they need a function backend: fentry, "
                 "kprobe-multi or kprobe)");
        l->probes = calloc(SKBT_MAX_PROBES, sizeof(*l->probes));
        if (!l->probes)
                return -ENOMEM;
        l->n_cpus = libbpf_num_possible_cpus();
        if (l->n_cpus <= 0)
                return log_error_errno(l->n_cpus ? l->n_cpus : -EINVAL,
                                       "cannot count possible CPUs: %m");

        graph_stacks_choose(l);
        r = load_best(l, db, opts);
        if (r < 0)
                return r;

        l->state = &l->skel->bss->state;
        l->probe_sessions = (uint64_t *)l->skel->bss->probe_sessions;
        l->probe_return = (uint16_t *)l->skel->bss->probe_return;
        l->cbpf_progs = l->skel->bss->cbpf_progs;
        l->field_table = &l->skel->bss->field_table;
        l->field_sessions = (uint64_t *)&l->skel->bss->field_sessions;
        l->snap_sessions = (uint64_t *)&l->skel->bss->snap_sessions;
        l->ct_sessions = (uint64_t *)&l->skel->bss->ct_sessions;
        l->dump_sessions = (uint64_t *)&l->skel->bss->dump_sessions;
        l->nf_rule_sessions = (uint64_t *)&l->skel->bss->nf_rule_sessions;
        l->ct_conf = &l->skel->bss->ct_conf;
        l->nf_conf = &l->skel->bss->nf_conf;
        l->track_quota = l->skel->bss->track_quota;
        l->ringbuf_fd = bpf_map__fd(l->skel->maps.events);
        l->lost_fd = bpf_map__fd(l->skel->maps.lost);
        l->stats_fd = bpf_map__fd(l->skel->maps.stats);
        l->track_fd = bpf_map__fd(l->skel->maps.track);
        l->track_head_fd = bpf_map__fd(l->skel->maps.track_head);
        l->state->n_cpus = (uint64_t)l->n_cpus;
        l->state->track_idle_ns = SKBT_TRACK_IDLE_NS;

        /* Stamped copies may be loaded from several threads: this is read-only after. */
        r = skbt_subprogs_load(l);
        if (r < 0)
                log_debug_errno(r, "cannot index the object's subprograms (%m), ignoring");

        /* Only registered here: probes are loaded and attached when sessions need them
         * (core/idle_detach.h), in the attach worker. */
        skbt_tracepoints_add(l, db, opts);
        r = skbt_functions_add(l, db, ksyms, opts);
        if (r < 0)
                return r;
        skbt_nf_add(l, opts);
        skbt_bpfprog_add(l);
        skbt_loader_recount(l);
        l->load_ns = skbt_now_ns() - start;
        if (l->n_attached == 0)
                return log_error_errno(-ENOENT,
                                       "no probe could be attached (%u tried); see the "
                                       "messages above",
                                       l->n_probes);
        log_info("backend %s: %u probes usable (%u functions, %u returns, %u netfilter "
                 "evaluators, %u tc/XDP programs, %u tracepoints), %u skipped, in %.1f s; %u skb "
                 "functions not attachable with this backend; each is attached while a session "
                 "needs it",
                 skbt_backend_to_string(backend), l->n_attached, l->n_functions, l->n_returns,
                 l->n_nf, l->n_bpfprog,
                 l->n_attached - l->n_functions - l->n_returns - l->n_nf - l->n_bpfprog,
                 l->n_skipped, (double)l->load_ns / 1e9, l->n_unsupported);
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_percpu_sum(const struct skbt_loader *l, int fd, uint32_t key, uint64_t *ret)
{
        uint64_t vals[l->n_cpus], sum = 0;

        if (bpf_map_lookup_elem(fd, &key, vals) < 0)
                return negative_errno();
        for (int i = 0; i < l->n_cpus; i++)
                sum += vals[i];
        *ret = sum;
        return 0;
}

int skbt_loader_read_lost(const struct skbt_loader *l, uint32_t slot, uint64_t *ret)
{
        return read_percpu_sum(l, l->lost_fd, slot, ret);
}

int skbt_loader_reset_lost(const struct skbt_loader *l, uint32_t slot)
{
        uint64_t vals[l->n_cpus];

        memset(vals, 0, sizeof(vals));
        if (bpf_map_update_elem(l->lost_fd, &slot, vals, BPF_ANY) < 0)
                return negative_errno();
        return 0;
}

int skbt_loader_read_stat(const struct skbt_loader *l, uint32_t idx, uint64_t *ret)
{
        return read_percpu_sum(l, l->stats_fd, idx, ret);
}
