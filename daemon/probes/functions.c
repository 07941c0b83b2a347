/* SPDX-License-Identifier: GPL-2.0-only */
/* functions.c - kernel functions with an skb: which the backend can attach, their probes */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "log.h"

#define TRACEFS_FILTER_FUNCTIONS "/sys/kernel/tracing/available_filter_functions"

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

/*
 * A tracepoint's own machinery: the functions the kernel generates for each
 * tracepoint (its iterator and stub, the BPF, ftrace and perf wrappers that
 * run its probes) take the tracepoint's arguments, skb included.  The
 * tracepoint is probed as itself, so as functions they would add a second
 * run to every hit of it and show nothing new (measured in the VM:
 * docs/performance.md, "Where a non-matching session's time goes").
 */
static bool tracepoint_machinery(const char *name)
{
        static const char *const prefixes[] = {"__bpf_trace_", "__traceiter_", "__probestub_",
                                               "trace_event_raw_event_", "perf_trace_"};

        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
                if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

/* Whether the backend can attach the function at all; records why not. */
static bool candidate(struct skbt_loader *l, const struct skbt_sym *s,
                      const struct skbt_ksyms *ksyms, const struct traceable *tr,
                      const struct skbt_backend_ops *ops)
{
        char why[SKBT_WHY_MAX];

        if (ksyms && skbt_ksyms_addresses_visible(ksyms) && !skbt_ksyms_lookup(ksyms, s->name)) {
                skbt_record_function(l, s, ksyms, "");
                return false;
        }
        if (tracepoint_machinery(s->name)) {
                skbt_record_function(l, s, NULL,
                                     "part of a tracepoint (the tracepoint is probed as "
                                     "itself)");
                return false;
        }
        if (!traceable_has(tr, s->name)) {
                skbt_record_function(l, s, NULL,
                                     "not traceable: not in available_filter_functions "
                                     "(notrace, or inlined)");
                return false;
        }
        if (s->skb_arg > ops->max_arg) {
                snprintf(why, sizeof(why),
                         "skb is argument %u; backend %s reaches arguments 1 to %d", s->skb_arg + 1,
                         ops->name, ops->max_arg + 1);
                skbt_record_function(l, s, NULL, why);
                return false;
        }
        return true;
}

static uint64_t entry_stamp(uint32_t id, const struct skbt_probe *p)
{
        return (uint64_t)id | ((uint64_t)(p->skb_arg | (p->drop ? SKBT_STAMP_DROP : 0) | p->life |
                                          SKBT_STAMP_SK(p->sk_arg1))
                               << 32);
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
        const struct skbt_probe *e = &l->probes[id];
        struct skbt_probe *p;
        int rid;

        rid = skbt_probe_add(l, e->name, SKBT_PROBE_FUNCTION, e->skb_arg, false);
        if (rid < 0)
                return rid;
        e = &l->probes[id];
        p = &l->probes[rid];
        p->is_return = true;
        p->entry_id = id;
        p->backend = e->backend;
        p->btf_id = e->btf_id;
        p->btf_obj_fd = e->btf_obj_fd;
        p->stamp = return_stamp((uint32_t)rid, p);
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

void skbt_module_btf_close(struct skbt_loader *l)
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
}

/* Add the entry probe of function s (and its return twin); negative errno when the table is
 * full, 0 when s is recorded as unattachable, else 1. */
static int add_function(struct skbt_loader *l, const struct skbt_sym *s,
                        const struct skbt_backend_ops *ops)
{
        struct skbt_probe *p;
        int obj_fd = 0, id, rid;

        /* The program's attach target names the module's BTF object (fentry). */
        if (s->module && (ops->flags & SKBT_BACKEND_F_PROG_PER_PROBE)) {
                obj_fd = skbt_module_btf_fd(l, s->module);
                if (obj_fd < 0) {
                        skbt_record_function(l, s, NULL,
                                             "its module's BTF object is not available to "
                                             "attach to");
                        return 0;
                }
        }
        id = skbt_probe_add(l, s->name, SKBT_PROBE_FUNCTION, s->skb_arg, skbt_function_is_drop(s));
        if (id < 0)
                return id;
        p = &l->probes[id];
        p->backend = ops->id;
        p->btf_id = s->btf_id;
        p->btf_obj_fd = obj_fd;
        p->sk_arg1 = s->sk_arg1;
        p->stamp = entry_stamp((uint32_t)id, p);
        if (wants_return(l, p)) {
                rid = add_return(l, (uint32_t)id);
                if (rid < 0)
                        return rid;
        }
        return 1;
}

int skbt_functions_add(struct skbt_loader *l, const struct skbt_symdb *db,
                       const struct skbt_ksyms *ksyms, const struct skbt_loader_opts *opts)
{
        const struct skbt_backend_ops *ops = skbt_backend_ops(l->backend);
        struct traceable tr;
        int r = 0;

        if (!(ops->flags & SKBT_BACKEND_F_FUNCTIONS)) {
                for (size_t i = 0; i < db->n_syms; i++)
                        if (db->syms[i].kind == SKBT_SYM_FUNCTION)
                                skbt_record_function(l, &db->syms[i], ksyms,
                                                     "needs a function backend (fentry, "
                                                     "kprobe-multi, kprobe); none is usable "
                                                     "here, see ipftctl status");
                return 0;
        }
        traceable_load(&tr);
        for (size_t i = 0; i < db->n_syms && r >= 0; i++) {
                const struct skbt_sym *s = &db->syms[i];

                if (s->kind != SKBT_SYM_FUNCTION || !skbt_probe_wanted(opts, s->name) ||
                    !candidate(l, s, ksyms, &tr, ops))
                        continue;
                r = add_function(l, s, ops);
        }
        traceable_free(&tr);
        if (r < 0)
                return log_error_errno(r, "cannot add function probes: %m");
        return 0;
}
