/* SPDX-License-Identifier: GPL-2.0-only */
/* attach_func.c - attach kernel functions with an skb: fentry/fexit, kprobe-multi, kprobe */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "loader-internal.h"
#include "log.h"
#include "skbt_regex.h"
#include "skbtrace.skel.h"

#define TRACEFS_FILTER_FUNCTIONS "/sys/kernel/tracing/available_filter_functions"
/* kprobes see the six x86-64 register arguments; trampolines up to twelve. */
#define KPROBE_MAX_ARG 5
#define FENTRY_MAX_ARG 11

bool skbt_function_is_drop(const struct skbt_sym *s)
{
        /* kfree_skb_reason(skb, reason) until 6.10, sk_skb_reason_drop(sk, skb, reason)
         * from 6.11: in both the reason follows the skb. */
        return strcmp(s->name, "kfree_skb_reason") == 0 ||
               strcmp(s->name, "sk_skb_reason_drop") == 0;
}

bool skbt_probe_wanted(const struct skbt_loader_opts *o, const char *name)
{
        char err[512];
        int r;

        if (!o->probe_regex)
                return true;
        r = skbt_regex_match(o->probe_regex, name);
        if (r < 0) {
                /* --probes is the operator's; a pattern over its limits skips the probe. */
                skbt_regex_limit_message(o->probe_regex, r, name, err, sizeof(err));
                log_warning("--probes: %s; not attaching %s", err, name);
        }
        return r == 1;
}

/* Names ftrace can hook, when tracefs lets us read them (sorted, for bsearch). */
struct traceable {
        char **names;
        size_t n;
};

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void traceable_load(struct traceable *t)
{
        FILE *f = fopen(TRACEFS_FILTER_FUNCTIONS, "re");
        char line[512];
        size_t cap = 0;

        *t = (struct traceable){0};
        if (!f) {
                log_debug_errno(errno,
                                "%s not readable (%m): attach failures will tell which "
                                "functions are not traceable",
                                TRACEFS_FILTER_FUNCTIONS);
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                char *sp = strpbrk(line, " \t\n");

                if (sp)
                        *sp = '\0';
                if (!line[0])
                        continue;
                if (t->n == cap) {
                        char **nn = reallocarray(t->names, cap ? cap * 2 : 4096, sizeof(*nn));

                        if (!nn)
                                break;
                        t->names = nn;
                        cap = cap ? cap * 2 : 4096;
                }
                t->names[t->n] = strdup(line);
                if (t->names[t->n])
                        t->n++;
        }
        fclose(f);
        qsort(t->names, t->n, sizeof(*t->names), cmp_str);
        log_debug("%zu traceable functions in %s", t->n, TRACEFS_FILTER_FUNCTIONS);
}

static bool traceable_has(const struct traceable *t, const char *name)
{
        if (!t->n)
                return true; /* unknown: let the attach decide */
        return bsearch(&name, t->names, t->n, sizeof(*t->names), cmp_str) != NULL;
}

static void traceable_free(struct traceable *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->names[i]);
        free(t->names);
}

/* Whether the function can be attached at all; records why not. */
static bool candidate(struct skbt_loader *l, const struct skbt_sym *s,
                      const struct skbt_ksyms *ksyms, const struct traceable *tr, int max_arg,
                      const struct skbt_loader_opts *o)
{
        char why[160];

        if (s->kind != SKBT_SYM_FUNCTION || !skbt_probe_wanted(o, s->name))
                return false;
        if (ksyms && skbt_ksyms_addresses_visible(ksyms) && !skbt_ksyms_lookup(ksyms, s->name)) {
                skbt_record_function(l, s, ksyms, "");
                return false;
        }
        if (!traceable_has(tr, s->name)) {
                skbt_record_function(l, s, NULL,
                                     "not traceable: not in available_filter_functions "
                                     "(notrace, or inlined)");
                return false;
        }
        if (s->skb_arg > max_arg) {
                snprintf(why, sizeof(why),
                         "skb is argument %u; backend %s reaches arguments 1 to %d", s->skb_arg + 1,
                         skbt_backend_to_string(l->backend), max_arg + 1);
                skbt_record_function(l, s, NULL, why);
                return false;
        }
        return true;
}

static uint64_t entry_stamp(uint32_t id, const struct skbt_probe *p)
{
        return (uint64_t)id |
               ((uint64_t)(p->skb_arg | (p->drop ? SKBT_STAMP_DROP : 0) | p->life) << 32);
}

static uint64_t return_stamp(uint32_t ret_id, const struct skbt_probe *ret)
{
        return (uint64_t)ret_id | ((uint64_t)(ret->life & SKBT_STAMP_CLONE) << 32) |
               ((uint64_t)ret->entry_id << (32 + SKBT_STAMP_ENTRY_SHIFT));
}

/*
 * Return probes: every function's for function_graph, and in any case the
 * copy functions', whose return value is the copy that --track follows.
 */
static bool wants_return(const struct skbt_loader *l, const struct skbt_probe *p)
{
        if (skbt_function_keeps_return_address(p->name))
                return false;
        return l->returns || (p->life & SKBT_STAMP_CLONE);
}

/* Add the return twin of entry id; returns its id or a negative errno. */
static int add_return(struct skbt_loader *l, uint32_t id)
{
        int rid = skbt_probe_add(l, l->probes[id].name, SKBT_PROBE_FUNCTION, l->probes[id].skb_arg,
                                 false);

        if (rid < 0)
                return rid;
        l->probes[rid].is_return = true;
        l->probes[rid].entry_id = id;
        l->probes[rid].backend = l->backend;
        l->probes[id].ret_id = (uint32_t)rid;
        return rid;
}

/*
 * fentry on a module function names its BTF object too: find the kernel BTF
 * object of that module (by name, among the loaded BTF objects) and keep its
 * fd for the loader's lifetime.  Negative errno when there is none.
 */
int skbt_module_btf_fd(struct skbt_loader *l, const char *module)
{
        __u32 id = 0;
        char **names;
        int *fds;

        for (uint32_t i = 0; i < l->n_mods; i++)
                if (strcmp(l->mod_names[i], module) == 0)
                        return l->mod_fds[i];
        while (bpf_btf_get_next_id(id, &id) == 0) {
                struct bpf_btf_info info = {};
                __u32 len = sizeof(info);
                char name[64] = "";
                int fd = bpf_btf_get_fd_by_id(id);

                if (fd < 0)
                        continue;
                info.name = (__u64)(uintptr_t)name;
                info.name_len = sizeof(name);
                if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || !info.kernel_btf ||
                    strcmp(name, module) != 0) {
                        close(fd);
                        continue;
                }
                names = reallocarray(l->mod_names, l->n_mods + 1, sizeof(*names));
                fds = names ? reallocarray(l->mod_fds, l->n_mods + 1, sizeof(*fds)) : NULL;
                if (names)
                        l->mod_names = names;
                if (fds)
                        l->mod_fds = fds;
                if (!names || !fds || !(l->mod_names[l->n_mods] = strdup(module))) {
                        close(fd);
                        return -ENOMEM;
                }
                l->mod_fds[l->n_mods++] = fd;
                return fd;
        }
        return -ENOENT;
}

/* ---- fentry / fexit: one program per function, loaded in parallel ---- */

struct fentry_work {
        struct skbt_loader *l;
        uint32_t *ids;
        uint32_t n;
        uint32_t next; /* shared cursor */
        const struct skbt_symdb *db;
        uint32_t *btf_ids; /* per work item */
        int *obj_fds;      /* per work item: module BTF object, 0 for vmlinux */
};

static void fentry_one(struct skbt_loader *l, uint32_t id, uint32_t btf_id, int obj_fd)
{
        struct skbt_probe *p = &l->probes[id];
        bool ret = p->is_return;
        struct bpf_program *tmpl = ret ? l->skel->progs.skbt_fexit : l->skel->progs.skbt_fentry;
        uint64_t stamp = ret ? return_stamp(id, p) : entry_stamp(id, p);
        char name[16], why[160];
        void *insns = NULL;
        int r;

        r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), stamp,
                                &insns);
        if (r < 0) {
                snprintf(why, sizeof(why), "stamping failed: %s", strerror(-r));
                goto fail;
        }
        snprintf(name, sizeof(name), "skbt_%s_%u", ret ? "fx" : "fe", id & 0xffffu);
        r = skbt_load_stamped(l, tmpl, BPF_PROG_TYPE_TRACING, name, insns, btf_id, obj_fd);
        free(insns);
        if (r < 0) {
                snprintf(why, sizeof(why), "load failed: %s", strerror(-r));
                goto fail;
        }
        p->prog_fd = r;
        r = bpf_link_create(p->prog_fd, 0, ret ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, NULL);
        if (r < 0) {
                snprintf(why, sizeof(why), "attach failed: %s", strerror(errno));
                p->prog_fd = safe_close(p->prog_fd);
                goto fail;
        }
        p->link_fd = r;
        p->attached = true;
        /* The link holds the program; one descriptor per function is enough. */
        p->prog_fd = safe_close(p->prog_fd);
        return;
fail:
        /* Recorded here, counted by the caller: this may run in a worker thread. */
        p->error = strdup(why);
}

static void *fentry_worker(void *arg)
{
        struct fentry_work *w = arg;

        for (;;) {
                uint32_t i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);

                if (i >= w->n)
                        return NULL;
                fentry_one(w->l, w->ids[i], w->btf_ids[i], w->obj_fds[i]);
        }
}

static int attach_fentry(struct skbt_loader *l, const struct skbt_symdb *db,
                         const struct skbt_ksyms *ksyms, const struct traceable *tr,
                         const struct skbt_loader_opts *o)
{
        struct fentry_work w = {.l = l, .db = db};
        int nthreads = o->threads > 0 ? o->threads : 1;
        pthread_t th[16];
        int started = 0;

        w.ids = calloc(db->n_syms * 2 + 1, sizeof(*w.ids));
        w.btf_ids = calloc(db->n_syms * 2 + 1, sizeof(*w.btf_ids));
        w.obj_fds = calloc(db->n_syms * 2 + 1, sizeof(*w.obj_fds));
        if (!w.ids || !w.btf_ids || !w.obj_fds) {
                free(w.ids);
                free(w.btf_ids);
                free(w.obj_fds);
                return -ENOMEM;
        }
        for (size_t i = 0; i < db->n_syms; i++) {
                const struct skbt_sym *s = &db->syms[i];
                int id, rid;

                int obj_fd = 0;

                if (!candidate(l, s, ksyms, tr, FENTRY_MAX_ARG, o))
                        continue;
                if (s->module) {
                        obj_fd = skbt_module_btf_fd(l, s->module);
                        if (obj_fd < 0) {
                                skbt_record_function(l, s, NULL,
                                                     "its module's BTF object is not "
                                                     "available to attach to");
                                continue;
                        }
                }
                id = skbt_probe_add(l, s->name, SKBT_PROBE_FUNCTION, s->skb_arg,
                                    skbt_function_is_drop(s));
                if (id < 0)
                        break;
                l->probes[id].backend = SKBT_BACKEND_FENTRY;
                w.ids[w.n] = (uint32_t)id;
                w.obj_fds[w.n] = obj_fd;
                w.btf_ids[w.n++] = s->btf_id;
                if (wants_return(l, &l->probes[id])) {
                        rid = add_return(l, (uint32_t)id);
                        if (rid < 0)
                                break;
                        w.ids[w.n] = (uint32_t)rid;
                        w.obj_fds[w.n] = obj_fd;
                        w.btf_ids[w.n++] = s->btf_id;
                }
        }
        log_info("fentry: loading %u programs with %d threads", w.n, nthreads);
        for (int t = 1; t < nthreads && t < (int)ARRAY_SIZE(th); t++)
                if (pthread_create(&th[started], NULL, fentry_worker, &w) == 0)
                        started++;
        fentry_worker(&w);
        for (int t = 0; t < started; t++)
                pthread_join(th[t], NULL);
        free(w.ids);
        free(w.btf_ids);
        free(w.obj_fds);
        return 0;
}

/* ---- kprobe-multi: one link per skb position, cookies carry the ids ---- */

static struct bpf_program *kmulti_prog(struct skbtrace *skel, int pos)
{
        struct bpf_program *p[] = {skel->progs.skbt_kmulti_arg0, skel->progs.skbt_kmulti_arg1,
                                   skel->progs.skbt_kmulti_arg2, skel->progs.skbt_kmulti_arg3,
                                   skel->progs.skbt_kmulti_arg4, skel->progs.skbt_kmulti_arg5};

        return p[pos];
}

static struct bpf_program *kprobe_prog(struct skbtrace *skel, int pos)
{
        struct bpf_program *p[] = {skel->progs.skbt_kprobe_arg0, skel->progs.skbt_kprobe_arg1,
                                   skel->progs.skbt_kprobe_arg2, skel->progs.skbt_kprobe_arg3,
                                   skel->progs.skbt_kprobe_arg4, skel->progs.skbt_kprobe_arg5};

        return p[pos];
}

int skbt_keep_link(struct skbt_loader *l, struct bpf_link *link)
{
        struct bpf_link **nl = reallocarray(l->multi_links, l->n_multi_links + 1, sizeof(*nl));

        if (!nl) {
                bpf_link__destroy(link);
                return -ENOMEM;
        }
        l->multi_links = nl;
        l->multi_links[l->n_multi_links++] = link;
        return 0;
}

/*
 * Attach ids[0..n) with one kprobe-multi link.  The kernel refuses the whole
 * set if one function cannot be probed, so on failure split it in halves
 * until the bad ones are isolated: one bad function never costs the others.
 */
static void kmulti_attach(struct skbt_loader *l, struct bpf_program *prog, const uint32_t *ids,
                          uint32_t n, bool retprobe)
{
        const char **syms;
        __u64 *cookies;
        struct bpf_link *link;
        int err;

        if (n == 0)
                return;
        syms = calloc(n, sizeof(*syms));
        cookies = calloc(n, sizeof(*cookies));
        if (!syms || !cookies) {
                free(syms);
                free(cookies);
                return;
        }
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];

                syms[i] = p->name;
                cookies[i] = retprobe ? return_stamp(ids[i], p) : entry_stamp(ids[i], p);
        }
        LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cookies = cookies, .cnt = n,
                    .retprobe = retprobe);
        link = bpf_program__attach_kprobe_multi_opts(prog, NULL, &opts);
        err = link ? 0 : -errno;
        free(syms);
        free(cookies);
        if (link) {
                if (skbt_keep_link(l, link) == 0)
                        for (uint32_t i = 0; i < n; i++)
                                l->probes[ids[i]].attached = true;
                return;
        }
        if (n == 1) {
                char why[128];

                snprintf(why, sizeof(why), "attach failed: %s", strerror(-err));
                l->probes[ids[0]].error = strdup(why);
                return;
        }
        kmulti_attach(l, prog, ids, n / 2, retprobe);
        kmulti_attach(l, prog, ids + n / 2, n - n / 2, retprobe);
}

static int attach_kprobe_family(struct skbt_loader *l, const struct skbt_symdb *db,
                                const struct skbt_ksyms *ksyms, const struct traceable *tr,
                                const struct skbt_loader_opts *o)
{
        bool multi = l->backend == SKBT_BACKEND_KPROBE_MULTI;
        uint32_t *ids, *rets, n_rets = 0;

        ids = calloc(db->n_syms + 1, sizeof(*ids));
        rets = calloc(db->n_syms + 1, sizeof(*rets));
        if (!ids || !rets) {
                free(ids);
                free(rets);
                return -ENOMEM;
        }
        for (int pos = 0; pos <= KPROBE_MAX_ARG; pos++) {
                uint32_t n = 0;

                for (size_t i = 0; i < db->n_syms; i++) {
                        const struct skbt_sym *s = &db->syms[i];
                        int id;

                        if (s->skb_arg != pos && !(pos == 0 && s->skb_arg > KPROBE_MAX_ARG))
                                continue;
                        if (!candidate(l, s, ksyms, tr, KPROBE_MAX_ARG, o))
                                continue;
                        id = skbt_probe_add(l, s->name, SKBT_PROBE_FUNCTION, s->skb_arg,
                                            skbt_function_is_drop(s));
                        if (id < 0)
                                break;
                        l->probes[id].backend = l->backend;
                        ids[n++] = (uint32_t)id;
                }
                if (multi) {
                        kmulti_attach(l, kmulti_prog(l->skel, pos), ids, n, false);
                } else {
                        for (uint32_t i = 0; i < n; i++) {
                                struct skbt_probe *p = &l->probes[ids[i]];
                                LIBBPF_OPTS(bpf_kprobe_opts, kopts,
                                            .bpf_cookie = entry_stamp(ids[i], p));

                                p->link = bpf_program__attach_kprobe_opts(kprobe_prog(l->skel, pos),
                                                                          p->name, &kopts);
                                if (p->link) {
                                        p->attached = true;
                                } else {
                                        char why[128];

                                        snprintf(why, sizeof(why), "attach failed: %s",
                                                 strerror(errno));
                                        p->error = strdup(why);
                                }
                        }
                }
                for (uint32_t i = 0; i < n; i++) {
                        int rid;

                        if (!l->probes[ids[i]].attached || !wants_return(l, &l->probes[ids[i]]))
                                continue;
                        rid = add_return(l, ids[i]);
                        if (rid >= 0)
                                rets[n_rets++] = (uint32_t)rid;
                }
        }
        if (multi) {
                kmulti_attach(l, l->skel->progs.skbt_kmulti_ret, rets, n_rets, true);
        } else {
                for (uint32_t i = 0; i < n_rets; i++) {
                        struct skbt_probe *p = &l->probes[rets[i]];
                        LIBBPF_OPTS(bpf_kprobe_opts, kopts, .bpf_cookie = return_stamp(rets[i], p),
                                    .retprobe = true);

                        p->link = bpf_program__attach_kprobe_opts(l->skel->progs.skbt_kretprobe,
                                                                  p->name, &kopts);
                        if (p->link) {
                                p->attached = true;
                        } else {
                                char why[128];

                                snprintf(why, sizeof(why), "attach failed: %s", strerror(errno));
                                p->error = strdup(why);
                        }
                }
        }
        free(ids);
        free(rets);
        return 0;
}

int skbt_functions_attach(struct skbt_loader *l, const struct skbt_symdb *db,
                          const struct skbt_ksyms *ksyms, const struct skbt_loader_opts *opts)
{
        struct traceable tr;
        uint32_t first = l->n_probes;
        int r;

        traceable_load(&tr);
        if (l->backend == SKBT_BACKEND_FENTRY)
                r = attach_fentry(l, db, ksyms, &tr, opts);
        else
                r = attach_kprobe_family(l, db, ksyms, &tr, opts);
        traceable_free(&tr);
        if (r < 0)
                return log_error_errno(r, "cannot attach functions: %m");

        /* Count once, here: the attach code may have run in threads. */
        for (uint32_t i = first; i < l->n_probes; i++) {
                struct skbt_probe *p = &l->probes[i];

                if (p->backend == _SKBT_BACKEND_MAX)
                        continue; /* recorded as unsupported */
                if (p->attached) {
                        l->n_attached++;
                        if (p->is_return)
                                l->n_returns++;
                        else
                                l->n_functions++;
                } else {
                        l->n_skipped++;
                        log_debug("probe %s%s skipped: %s", p->name,
                                  p->is_return ? " (return)" : "", p->error ? p->error : "?");
                }
        }
        return 0;
}

void skbt_functions_detach(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_mods; i++) {
                free(l->mod_names[i]);
                safe_close(l->mod_fds[i]);
        }
        free(l->mod_names);
        free(l->mod_fds);
        l->mod_names = NULL;
        l->mod_fds = NULL;
        l->n_mods = 0;
        for (uint32_t i = 0; i < l->n_multi_links; i++)
                bpf_link__destroy(l->multi_links[i]);
        free(l->multi_links);
        l->multi_links = NULL;
        l->n_multi_links = 0;
}
