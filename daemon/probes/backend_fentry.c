/* SPDX-License-Identifier: GPL-2.0-only */
/* backend_fentry.c - fentry/fexit: one program per function, its attach target fixed at load */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "log.h"
#include "skbtrace.skel.h"

/* Trampolines pass up to twelve arguments (six before Linux 6.5: the attach says so). */
#define FENTRY_MAX_ARG 11
/* The kernel's ENOTSUPP, which reaches user space as is (include/linux/errno.h). */
#define ENOTSUPP_KERNEL 524

static struct bpf_link *caps_attach(struct bpf_program *prog)
{
        return bpf_program__attach(prog);
}

static bool wants_program(const char *n, bool nf)
{
        /* Return templates even without function_graph: copy functions' returns link
         * copies to the packets --track follows.  The whole-body entry is the fallback of
         * the stubs and their shared body (skbt_fentry_hop0-2). */
        if (strcmp(n, "skbt_fentry") == 0 || strcmp(n, "skbt_fexit") == 0 ||
            strncmp(n, "skbt_fentry_stub", 16) == 0 || strncmp(n, "skbt_fentry_hop", 15) == 0)
                return true;
        /* With the verdicts: nftables' trace hook (attach_nft_rule.c). */
        return nf && (strcmp(n, "skbt_nf_fentry") == 0 || strcmp(n, "skbt_nf_fexit") == 0 ||
                      strcmp(n, "skbt_nft_hook_fentry") == 0);
}

/* The stub per skb position (bpf/skbtrace.bpf.c SKBT_FENTRY_STUB), NULL past the last. */
static struct bpf_program *stub_template(struct skbtrace *skel, unsigned pos)
{
        struct bpf_program *t[] = {skel->progs.skbt_fentry_stub0, skel->progs.skbt_fentry_stub1,
                                   skel->progs.skbt_fentry_stub2, skel->progs.skbt_fentry_stub3,
                                   skel->progs.skbt_fentry_stub4, skel->progs.skbt_fentry_stub5};

        return pos < ARRAY_SIZE(t) ? t[pos] : NULL;
}

/*
 * Before the object's load: each stub per position needs, for its own load, a
 * function with the skb at that position (the verifier types ctx[pos] from
 * it).  The first such function of vmlinux the symbol list has; none (or
 * typed false: the kernel refused them once): not loaded, and functions with
 * the skb there take the stub that reads its position from the stamp.
 */
void skbt_fentry_set_targets(struct skbtrace *skel, const struct skbt_symdb *db, bool typed)
{
        struct bpf_program *p;

        for (unsigned pos = 0; (p = stub_template(skel, pos)); pos++) {
                const char *target = NULL;

                /* The first keeps the object's own target (SKBT_CAPS_FUNCTION). */
                if (!bpf_program__autoload(p) || (pos == 0 && typed))
                        continue;
                for (size_t i = 0; i < db->n_syms && typed && !target; i++) {
                        const struct skbt_sym *s = &db->syms[i];

                        /* At most six arguments: what every kernel's trampoline takes. */
                        if (s->kind == SKBT_SYM_FUNCTION && !s->module && s->skb_arg == pos &&
                            s->nr_args <= 6)
                                target = s->name;
                }
                if (!target || bpf_program__set_attach_target(p, 0, target) < 0)
                        bpf_program__set_autoload(p, false);
        }
}

/* Load a stamped copy of tmpl for p's function: the program fd, or negative errno. */
static int load_copy(struct skbt_loader *l, const struct skbt_probe *p, struct bpf_program *tmpl,
                     uint64_t stamp, const char *name, char *why)
{
        _cleanup_free_ void *insns = NULL;
        int r;

        r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), stamp,
                                &insns);
        if (r < 0) {
                snprintf(why, SKBT_WHY_MAX, "stamping failed: %s", strerror(-r));
                return r;
        }
        return skbt_load_stamped(l, tmpl, BPF_PROG_TYPE_TRACING, name, insns, p->btf_id,
                                 p->btf_obj_fd, why);
}

/*
 * A netfilter evaluator: the entry builds the record, the return sends it with
 * the verdict.  The return program reads no stamp: its instructions load as
 * they are.
 */
static int load_nf(struct skbt_loader *l, struct skbt_probe *p, char *why)
{
        struct bpf_program *ret = l->skel->progs.skbt_nf_fexit;
        int r;

        r = load_copy(l, p, l->skel->progs.skbt_nf_fentry, p->stamp, "skbt_nf_fe", why);
        if (r < 0)
                return r;
        p->prog_fd = r;
        r = skbt_load_stamped(l, ret, BPF_PROG_TYPE_TRACING, "skbt_nf_fx", bpf_program__insns(ret),
                              p->btf_id, p->btf_obj_fd, why);
        if (r < 0) {
                p->prog_fd = safe_close(p->prog_fd);
                return r;
        }
        p->ret_prog_fd = r;
        return 0;
}

/*
 * A tc or XDP program (attach_bpfprog.c): the entry and return programs with
 * that program as their target, its main function as the attach BTF id.
 * Loaded at each attach (closed once linked): see there why.
 */
static int load_bpfprog(struct skbt_loader *l, struct skbt_probe *p, char *why)
{
        struct bpf_program *ent = l->skel->progs.skbt_prog_fentry;
        struct bpf_program *ret = l->skel->progs.skbt_prog_fexit;
        _cleanup_free_ void *insns = NULL;
        _cleanup_close_ int target = -1;
        int r;

        target = bpf_prog_get_fd_by_id(p->bpf_prog_id);
        if (target < 0) {
                r = negative_errno();
                snprintf(why, SKBT_WHY_MAX, "%s",
                         r == -ENOENT ? "the program was unloaded" : strerror(-r));
                return r;
        }
        r = skbt_stamp_probe_id(bpf_program__insns(ent), bpf_program__insn_cnt(ent), p->stamp,
                                &insns);
        if (r < 0) {
                snprintf(why, SKBT_WHY_MAX, "stamping failed: %s", strerror(-r));
                return r;
        }
        r = skbt_load_stamped_on_prog(l, ent, "skbt_prog_fe", insns, p->btf_id, target, why);
        if (r < 0)
                return r;
        p->prog_fd = r;
        r = skbt_load_stamped_on_prog(l, ret, "skbt_prog_fx", bpf_program__insns(ret), p->btf_id,
                                      target, why);
        if (r < 0) {
                p->prog_fd = safe_close(p->prog_fd);
                return r;
        }
        p->ret_prog_fd = r;
        return 0;
}

/*
 * The shared body's links, one per nesting level, made once and kept for the
 * daemon's life (closed with the loader).  Kept, not dropped with the last
 * stub after the linger: each is a trampoline update of bpf_strncmp() (~35 ms
 * under TCG on 6.1), three of them before a session's first stub could go
 * live (docs/performance.md "A session's first event: the shared body stays
 * linked"); and bpf_strncmp() is no part of the packet path: only BPF
 * programs call it, ours only from a stub, another tool's pays two compares
 * per body.  Called with h->lock held; 0, or negative errno with why.
 */
static int hop_links_locked(struct skbt_fentry_hop *h, char *why)
{
        for (int i = 0; i < SKBT_HOP_LEVELS; i++) {
                int r;

                if (h->link_fd[i] >= 0)
                        continue;
                h->link_fd[i] = bpf_link_create(h->prog_fd[i], 0, BPF_TRACE_FENTRY, NULL);
                if (h->link_fd[i] >= 0)
                        continue;
                r = negative_errno();
                snprintf(why, SKBT_WHY_MAX, "attaching the shared body failed: %s", strerror(-r));
                return r;
        }
        return 0;
}

static int hop_links(struct skbt_loader *l, char *why)
{
        int r;

        pthread_mutex_lock(&l->hop.lock);
        r = hop_links_locked(&l->hop, why);
        pthread_mutex_unlock(&l->hop.lock);
        return r;
}

/*
 * The shared body (bpf/skbtrace.bpf.c, "fentry through a hop"): its program for
 * each nesting level, loaded once, attached to bpf_strncmp(), the call the
 * stubs make.  Decided at the first function that needs it: if the kernel
 * refuses it (no such function, or no fentry on it), or SKBTRACED_NO_FENTRY_HOP
 * is set, every function loads its own copy of the whole body, as before.
 * Called from the load threads.  1 when the stubs can be used, else 0.
 */
static int hop_ready(struct skbt_loader *l)
{
        struct skbt_fentry_hop *h = &l->hop;
        struct bpf_program *tmpl[SKBT_HOP_LEVELS] = {l->skel->progs.skbt_fentry_hop0,
                                                     l->skel->progs.skbt_fentry_hop1,
                                                     l->skel->progs.skbt_fentry_hop2};
        int r = 0, btf_id = -ENOENT;

        pthread_mutex_lock(&h->lock);
        if (h->state != 0)
                goto out;
        if (getenv("SKBTRACED_NO_FENTRY_HOP")) {
                r = -ECANCELED;
                snprintf(h->why, sizeof(h->why), "SKBTRACED_NO_FENTRY_HOP is set");
        } else if (!bpf_program__autoload(l->skel->progs.skbt_fentry_stub)) {
                r = -ENOENT;
                snprintf(h->why, sizeof(h->why), "the stub template is not loaded");
        } else {
                btf_id = libbpf_find_vmlinux_btf_id("bpf_strncmp", BPF_TRACE_FENTRY);
                if (btf_id < 0) {
                        r = btf_id;
                        snprintf(h->why, sizeof(h->why),
                                 "the kernel has no bpf_strncmp() to reach it through (%s)",
                                 strerror(-r));
                }
        }
        for (int i = 0; r == 0 && i < SKBT_HOP_LEVELS; i++) {
                _cleanup_free_ void *insns = NULL;
                char why[SKBT_WHY_MAX];

                r = skbt_stamp_probe_id(bpf_program__insns(tmpl[i]), bpf_program__insn_cnt(tmpl[i]),
                                        0, &insns);
                if (r >= 0)
                        r = skbt_load_stamped(l, tmpl[i], BPF_PROG_TYPE_TRACING, "skbt_fentry_hop",
                                              insns, (uint32_t)btf_id, 0, why);
                else
                        snprintf(why, sizeof(why), "stamping failed: %s", strerror(-r));
                if (r < 0) {
                        snprintf(h->why, sizeof(h->why), "%s", why);
                        break;
                }
                h->prog_fd[i] = r;
                r = 0;
        }
        if (r < 0) {
                for (int i = 0; i < SKBT_HOP_LEVELS; i++)
                        h->prog_fd[i] = safe_close(h->prog_fd[i]);
                /* Said once, where it is decided. */
                log_warning("fentry: each function loads its own copy of the body (slower to "
                            "attach): the shared body cannot be used: %s",
                            h->why[0] ? h->why : strerror(-r));
                h->state = r;
        } else {
                char why[SKBT_WHY_MAX];

                log_debug("fentry: functions load stubs of one shared body");
                h->state = 1;
                /* Linked now, in the background with the preload's function: a failure here
                 * is each stub's attach's to report (it tries again). */
                if (hop_links_locked(h, why) < 0)
                        log_debug("fentry: %s; trying again at the first attach", why);
        }
out:
        r = h->state == 1;
        pthread_mutex_unlock(&h->lock);
        return r;
}

/*
 * Programs stay loaded after a detach: attaching again is only a link (the
 * load, a verification of the whole body, is what takes time).
 */
static int load(struct skbt_loader *l, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        struct bpf_program *tmpl =
            p->is_return ? l->skel->progs.skbt_fexit : l->skel->progs.skbt_fentry;
        char name[16];
        int r;

        if (p->helper)
                tmpl = l->skel->progs.skbt_nft_hook_fentry;
        else if (p->kind == SKBT_PROBE_NETFILTER)
                return load_nf(l, p, why);
        if (p->kind == SKBT_PROBE_BPF)
                return load_bpfprog(l, p, why);
        p->hop = skbt_probe_is_function_entry(p) && hop_ready(l);
        if (p->hop) {
                struct bpf_program *typed = stub_template(l->skel, p->skb_arg);

                tmpl =
                    typed && bpf_program__autoload(typed) ? typed : l->skel->progs.skbt_fentry_stub;
        }
        snprintf(name, sizeof(name), "skbt_%s_%u", p->is_return ? "fx" : "fe", id & 0xffffu);
        r = load_copy(l, p, tmpl, p->stamp, name, why);
        if (r < 0)
                return r;
        p->prog_fd = r;
        return 0;
}

/* A link for prog_fd into k->fd[slot]. */
static int link_prog(struct skbt_link *k, int slot, int prog_fd, enum bpf_attach_type type,
                     const char *what, char *why)
{
        int r = bpf_link_create(prog_fd, 0, type, NULL);

        if (r < 0) {
                r = negative_errno();
                /* ENOTSUPP (kernel-internal, no libc message): the trampoline cannot take the
                 * function's prototype. */
                if (r == -ENOTSUPP_KERNEL)
                        snprintf(why, SKBT_WHY_MAX,
                                 "%s failed: the kernel's BPF trampoline cannot take this "
                                 "function (more than 6 arguments before Linux 6.5, or "
                                 "arguments passed by value)",
                                 what);
                else
                        snprintf(why, SKBT_WHY_MAX, "%s failed: %s", what, strerror(-r));
                return r;
        }
        k->fd[slot] = r;
        return 0;
}

static void attach(struct skbt_loader *l, const uint32_t *ids, uint32_t n, struct skbt_link **links,
                   char (*why)[SKBT_WHY_MAX])
{
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                struct skbt_link *k;

                /* A stub's bodies first: a stub never runs without them (linked already
                 * unless that failed at load). */
                if (p->hop && hop_links(l, why[i]) < 0)
                        continue;
                k = skbt_link_new(&ids[i], 1);
                if (!k) {
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                        continue;
                }
                if (link_prog(k, SKBT_LINK_ENTRY, p->prog_fd,
                              p->is_return ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, "attach",
                              why[i]) < 0 ||
                    ((skbt_probe_is_nf_eval(p) || p->kind == SKBT_PROBE_BPF) &&
                     link_prog(k, SKBT_LINK_RETURN, p->ret_prog_fd, BPF_TRACE_FEXIT,
                               "return attach", why[i]) < 0))
                        k = skbt_link_free(k);
                links[i] = k;
                /* The links hold them; the next attach loads afresh (attach_bpfprog.c). */
                if (p->kind == SKBT_PROBE_BPF) {
                        p->prog_fd = safe_close(p->prog_fd);
                        p->ret_prog_fd = safe_close(p->ret_prog_fd);
                }
        }
}

const struct skbt_backend_ops skbt_backend_fentry = {
    .id = SKBT_BACKEND_FENTRY,
    .name = "fentry",
    .flags = SKBT_BACKEND_F_FUNCTIONS | SKBT_BACKEND_F_RETURNS | SKBT_BACKEND_F_PROG_PER_PROBE,
    .max_arg = FENTRY_MAX_ARG,
    .caps = "caps_fentry",
    .caps_attach = caps_attach,
    .wants_program = wants_program,
    .load = load,
    .attach = attach,
};
