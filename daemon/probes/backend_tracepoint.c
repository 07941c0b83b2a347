/* SPDX-License-Identifier: GPL-2.0-only */
/* backend_tracepoint.c - tracepoints: one shared program per skb position with attach cookies
 * (Linux 6.10+), else a stamped program per tracepoint; programs stay loaded, links come and go */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "log.h"
#include "skbtrace.skel.h"

/* The tracepoint entry points take the skb as one of their first five arguments. */
#define TP_MAX_ARG 4

static struct bpf_link *caps_attach(struct bpf_program *prog)
{
        return bpf_program__attach_raw_tracepoint(prog, SKBT_CAPS_TRACEPOINT);
}

/* The tp_btf templates are loaded unless the kernel refuses them (loader.c, load_best()). */
static bool wants_program(const char *n, bool nf)
{
        return strncmp(n, "skbt_tp_", 8) == 0 || strncmp(n, "skbt_tpbtf_", 11) == 0 ||
               strncmp(n, "skbt_tpc_", 9) == 0;
}

/* kfree_skb carries (skb, location, reason) since 5.17: the drop tracer's template. */
static bool tp_is_drop(const struct skbt_sym *s)
{
        return strcmp(s->name, "kfree_skb") == 0 && s->skb_arg == 0 && s->nr_args >= 3;
}

/*
 * The template that serves a tracepoint, or NULL if none fits: the tp_btf
 * flavour if btf (plain loads of the skb's fields), else raw_tp.
 */
static struct bpf_program *tp_template(struct skbtrace *skel, bool drop, int skb_arg, bool btf)
{
        if (drop)
                return btf ? skel->progs.skbt_tpbtf_kfree_skb : skel->progs.skbt_tp_kfree_skb;
        switch (skb_arg) {
        case 0:
                return btf ? skel->progs.skbt_tpbtf_arg0 : skel->progs.skbt_tp_arg0;
        case 1:
                return btf ? skel->progs.skbt_tpbtf_arg1 : skel->progs.skbt_tp_arg1;
        case 2:
                return btf ? skel->progs.skbt_tpbtf_arg2 : skel->progs.skbt_tp_arg2;
        case 3:
                return btf ? skel->progs.skbt_tpbtf_arg3 : skel->progs.skbt_tp_arg3;
        case 4:
                return btf ? skel->progs.skbt_tpbtf_arg4 : skel->progs.skbt_tp_arg4;
        default:
                return NULL;
        }
}

/* The shared program that serves a tracepoint (skbt_tpc_*), or NULL if none fits. */
static struct bpf_program *tp_shared_template(struct skbtrace *skel, bool drop, int skb_arg)
{
        struct bpf_program *pos[] = {skel->progs.skbt_tpc_arg0, skel->progs.skbt_tpc_arg1,
                                     skel->progs.skbt_tpc_arg2, skel->progs.skbt_tpc_arg3,
                                     skel->progs.skbt_tpc_arg4};

        if (drop)
                return skel->progs.skbt_tpc_kfree_skb;
        return skb_arg >= 0 && skb_arg <= TP_MAX_ARG ? pos[skb_arg] : NULL;
}

/*
 * BPF_RAW_TRACEPOINT_OPEN with an attach cookie, as Linux 6.10 added it to
 * union bpf_attr (spelled out here: the installed headers and libbpf may be
 * older).  Kernels before 6.10 see a non-zero byte past the fields they know
 * and refuse with EINVAL.  The link's fd, or a negative errno.
 */
static int raw_tp_open_cookie(const char *name, int prog_fd, uint64_t cookie)
{
        struct {
                uint64_t name;
                uint32_t prog_fd;
                uint32_t pad;
                uint64_t cookie;
        } attr = {.name = (uintptr_t)name, .prog_fd = (uint32_t)prog_fd, .cookie = cookie};
        long r = syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));

        return r < 0 ? negative_errno() : (int)r;
}

bool skbt_tp_shared_supported(void)
{
        /* r0 = bpf_get_attach_cookie(ctx); r0 = 0; exit */
        const struct bpf_insn insns[] = {
            {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_attach_cookie},
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
            {.code = BPF_JMP | BPF_EXIT},
        };
        _cleanup_close_ int prog = -1, link = -1;

        /* The helper for raw_tp programs and the cookie in the attach came together. */
        prog = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "skbt_tpc_probe", "GPL", insns,
                             ARRAY_SIZE(insns), NULL);
        if (prog < 0) {
                log_debug_errno(prog, "raw_tp programs cannot read an attach cookie (%m)");
                return false;
        }
        link = raw_tp_open_cookie(SKBT_CAPS_TRACEPOINT, prog, 1);
        if (link < 0) {
                log_debug_errno(link, "raw tracepoint links take no attach cookie (%m)");
                return false;
        }
        return true;
}

void skbt_tp_set_targets(struct skbtrace *skel, const struct skbt_symdb *db)
{
        struct bpf_program *p;

        bpf_object__for_each_program (p, skel->obj) {
                const char *target = NULL;

                if (strncmp(bpf_program__name(p), "skbt_tpbtf_", 11) != 0 ||
                    !bpf_program__autoload(p))
                        continue;
                for (size_t i = 0; i < db->n_syms && !target; i++) {
                        const struct skbt_sym *s = &db->syms[i];

                        if (s->kind == SKBT_SYM_TRACEPOINT && !s->module &&
                            tp_template(skel, tp_is_drop(s), s->skb_arg, true) == p)
                                target = s->name;
                }
                if (!target || bpf_program__set_attach_target(p, 0, target) < 0)
                        bpf_program__set_autoload(p, false);
        }
}

/*
 * The shared program of probe id's position (loaded at the first call, kept),
 * into its prog_fd as a duplicate so that it is released like a copy.
 */
static int load_shared(struct skbt_loader *l, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        struct bpf_program *tmpl = tp_shared_template(l->skel, p->drop, p->skb_arg);
        int r;

        if (!tmpl || !bpf_program__autoload(tmpl)) {
                snprintf(why, SKBT_WHY_MAX, "load failed: no shared program for that position");
                return -ENOENT;
        }
        r = skbt_template_fd(l, tmpl, BPF_PROG_TYPE_RAW_TRACEPOINT, why);
        if (r < 0)
                return r;
        r = fcntl(r, F_DUPFD_CLOEXEC, 3);
        if (r < 0) {
                r = negative_errno();
                snprintf(why, SKBT_WHY_MAX, "load failed: %s", strerror(-r));
                return r;
        }
        p->prog_fd = r;
        p->tp_btf = false;
        return 0;
}

/*
 * Load a stamped copy of a tracepoint template: tp_btf if it can, else
 * raw_tp; or, with shared programs, the shared one.  Returns the program fd, or negative errno with
 * why saying which step failed.
 */
static int load(struct skbt_loader *l, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        char prog_name[16];
        int r = -ENOENT;

        if (l->tp_shared)
                return load_shared(l, id, why);
        snprintf(prog_name, sizeof(prog_name), "skbt_tp_%u", (unsigned)id & 0xffffu);
        for (int flavour = 1; flavour >= 0; flavour--) {
                bool btf = flavour;
                struct bpf_program *tmpl;
                _cleanup_free_ void *insns = NULL;

                /* Module tracepoints would need their module's BTF fd as the target's. */
                if (btf && (!l->tp_btf || !p->btf_id))
                        continue;
                tmpl = tp_template(l->skel, p->drop, p->skb_arg, btf);
                if (!tmpl || !bpf_program__autoload(tmpl))
                        continue;
                r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl),
                                        p->stamp, &insns);
                if (r < 0) {
                        snprintf(why, SKBT_WHY_MAX, "probe id marker missing in template: %s",
                                 strerror(-r));
                        return r;
                }
                r = skbt_load_stamped(l, tmpl,
                                      btf ? BPF_PROG_TYPE_TRACING : BPF_PROG_TYPE_RAW_TRACEPOINT,
                                      prog_name, insns, btf ? p->btf_id : 0, 0, why);
                if (r >= 0) {
                        p->prog_fd = r;
                        p->tp_btf = btf;
                        return 0;
                }
                if (btf)
                        log_debug_errno(r, "tracepoint %s: tp_btf load failed (%m), trying raw_tp",
                                        p->name);
        }
        if (r == -ENOENT)
                snprintf(why, SKBT_WHY_MAX,
                         "load failed: no template loaded for that argument position");
        return r;
}

static void attach(struct skbt_loader *l, const uint32_t *ids, uint32_t n, struct skbt_link **links,
                   char (*why)[SKBT_WHY_MAX])
{
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                struct skbt_link *k = skbt_link_new(&ids[i], 1);
                int r;

                if (!k) {
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                        continue;
                }
                /* raw_tp programs attach by name, tp_btf programs to the tracepoint they were
                 * loaded for, shared programs by name with the probe's stamp as cookie;
                 * BPF_RAW_TRACEPOINT_OPEN gives the link (libbpf 1.0+ returns a negative
                 * errno on failure).  The program stays loaded: idle detach closes
                 * the link and a later session opens it again from the program. */
                if (l->tp_shared)
                        r = raw_tp_open_cookie(p->target, p->prog_fd, p->stamp);
                else
                        r = bpf_raw_tracepoint_open(p->tp_btf ? NULL : p->target, p->prog_fd);
                if (r < 0) {
                        snprintf(why[i], SKBT_WHY_MAX, "attach failed: %s", strerror(-r));
                        k = skbt_link_free(k);
                } else {
                        k->fd[SKBT_LINK_ENTRY] = r;
                }
                links[i] = k;
        }
}

const struct skbt_backend_ops skbt_backend_tracepoint = {
    .id = SKBT_BACKEND_TRACEPOINT,
    .name = "tracepoint",
    .flags = SKBT_BACKEND_F_PROG_PER_PROBE,
    .max_arg = TP_MAX_ARG,
    .caps = "caps_raw_tp",
    .caps_attach = caps_attach,
    .wants_program = wants_program,
    .load = load,
    .attach = attach,
};

/* Register tracepoint s as a probe served by the tracepoint backend. */
static void add_tracepoint(struct skbt_loader *l, const struct skbt_sym *s,
                           const struct skbt_loader_opts *opts)
{
        struct skbt_probe *p;
        char name[256];
        int id;

        if (s->system)
                snprintf(name, sizeof(name), "%s:%s", s->system, s->name);
        else
                snprintf(name, sizeof(name), "tp:%s", s->name);
        /* --probes matches the name users see, "skb:kfree_skb". */
        if (!skbt_probe_wanted(opts, name))
                return;
        id = skbt_probe_add(l, name, SKBT_PROBE_TRACEPOINT, s->skb_arg, tp_is_drop(s));
        if (id < 0) {
                log_warning_errno(id, "cannot record probe %s, ignoring: %m", name);
                return;
        }
        p = &l->probes[id];
        p->backend = SKBT_BACKEND_TRACEPOINT;
        p->sk_arg1 = s->sk_arg1;
        p->stamp = (uint64_t)id | (uint64_t)(p->life | SKBT_STAMP_SK(p->sk_arg1)) << 32;
        p->btf_id = s->module ? 0 : s->btf_id;
        p->target = strdup(s->name);
        if (!p->target)
                skbt_probe_fail(l, p, "out of memory");
        else if (!tp_template(l->skel, p->drop, p->skb_arg, false))
                skbt_probe_fail(l, p, "skb is argument %u: no entry point for that position",
                                s->skb_arg + 1);
}

void skbt_tracepoints_add(struct skbt_loader *l, const struct skbt_symdb *db,
                          const struct skbt_loader_opts *opts)
{
        for (size_t i = 0; i < db->n_syms; i++)
                if (db->syms[i].kind == SKBT_SYM_TRACEPOINT)
                        add_tracepoint(l, &db->syms[i], opts);
}
