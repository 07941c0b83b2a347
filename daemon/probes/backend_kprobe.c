/* SPDX-License-Identifier: GPL-2.0-only */
/* backend_kprobe.c - kprobe-multi (one link per skb position) and kprobe (one per function) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "skbtrace.skel.h"

/* kprobes see the six x86-64 register arguments. */
#define KPROBE_MAX_ARG 5

static struct bpf_program *entry_prog(struct skbtrace *skel, bool multi, int pos)
{
        struct bpf_program *m[] = {skel->progs.skbt_kmulti_arg0, skel->progs.skbt_kmulti_arg1,
                                   skel->progs.skbt_kmulti_arg2, skel->progs.skbt_kmulti_arg3,
                                   skel->progs.skbt_kmulti_arg4, skel->progs.skbt_kmulti_arg5};
        struct bpf_program *k[] = {skel->progs.skbt_kprobe_arg0, skel->progs.skbt_kprobe_arg1,
                                   skel->progs.skbt_kprobe_arg2, skel->progs.skbt_kprobe_arg3,
                                   skel->progs.skbt_kprobe_arg4, skel->progs.skbt_kprobe_arg5};

        return multi ? m[pos] : k[pos];
}

/* The program for probe p: its entry position's, the return one, or the netfilter one. */
static struct bpf_program *probe_prog(struct skbtrace *skel, bool multi,
                                      const struct skbt_probe *p, bool nf_return)
{
        if (p->kind == SKBT_PROBE_NETFILTER) {
                if (multi)
                        return nf_return ? skel->progs.skbt_nf_kmulti_ret
                                         : skel->progs.skbt_nf_kmulti;
                return nf_return ? skel->progs.skbt_nf_kretprobe : skel->progs.skbt_nf_kprobe;
        }
        if (p->is_return)
                return multi ? skel->progs.skbt_kmulti_ret : skel->progs.skbt_kretprobe;
        return entry_prog(skel, multi, p->skb_arg <= KPROBE_MAX_ARG ? p->skb_arg : 0);
}

/* What the kernel attaches: the function, also for a netfilter probe ("nf:ipt_do_table"). */
static const char *target(const struct skbt_probe *p)
{
        return p->target ? p->target : p->name;
}

/* ---- kprobe-multi: one link per skb position, cookies carry the ids ---- */

static struct bpf_link *caps_attach_multi(struct bpf_program *prog)
{
        const char *syms[] = {SKBT_CAPS_FUNCTION};
        LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cnt = 1);

        return bpf_program__attach_kprobe_multi_opts(prog, NULL, &opts);
}

static bool wants_program_multi(const char *n, bool nf)
{
        if (strncmp(n, "skbt_nf_kmulti", 14) == 0)
                return nf;
        return strncmp(n, "skbt_kmulti_", 12) == 0;
}

static struct bpf_link *multi_link(struct bpf_program *prog, const char **syms,
                                   const __u64 *cookies, uint32_t n, bool retprobe)
{
        LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cookies = cookies, .cnt = n,
                    .retprobe = retprobe);

        return bpf_program__attach_kprobe_multi_opts(prog, NULL, &opts);
}

/*
 * Attach ids[0..n) (one program) with one kprobe-multi link.  The kernel
 * refuses the whole set if one function cannot be probed, so on failure split
 * it in halves until the bad ones are isolated: one bad function never costs
 * the others.
 */
static void multi_attach_set(struct skbt_loader *l, struct bpf_program *prog, const uint32_t *ids,
                             uint32_t n, bool retprobe, struct skbt_link **links,
                             char (*why)[SKBT_WHY_MAX])
{
        _cleanup_free_ const char **syms = NULL;
        _cleanup_free_ __u64 *cookies = NULL;
        struct skbt_link *k;
        int err;

        if (n == 0)
                return;
        syms = calloc(n, sizeof(*syms));
        cookies = calloc(n, sizeof(*cookies));
        k = syms && cookies ? skbt_link_new(ids, n) : NULL;
        if (!k) {
                for (uint32_t i = 0; i < n; i++)
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                return;
        }
        for (uint32_t i = 0; i < n; i++) {
                syms[i] = target(&l->probes[ids[i]]);
                cookies[i] = l->probes[ids[i]].stamp;
        }
        k->bl[0] = multi_link(prog, syms, cookies, n, retprobe);
        if (k->bl[0]) {
                for (uint32_t i = 0; i < n; i++)
                        links[i] = k;
                return;
        }
        err = negative_errno();
        skbt_link_free(k);
        if (n == 1) {
                snprintf(why[0], SKBT_WHY_MAX, "attach failed: %s", strerror(-err));
                return;
        }
        multi_attach_set(l, prog, ids, n / 2, retprobe, links, why);
        multi_attach_set(l, prog, ids + n / 2, n - n / 2, retprobe, links + n / 2, why + n / 2);
}

/* A netfilter evaluator: entry and return, one function each. */
static struct skbt_link *nf_attach(struct skbt_loader *l, bool multi, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        struct skbt_link *k = skbt_link_new(&id, 1);
        const char *syms[1] = {target(p)};
        const __u64 cookie[1] = {p->stamp};

        if (!k) {
                snprintf(why, SKBT_WHY_MAX, "out of memory");
                return NULL;
        }
        for (int ret = 0; ret <= 1; ret++) {
                struct bpf_program *prog = probe_prog(l->skel, multi, p, ret);

                if (multi) {
                        k->bl[ret] = multi_link(prog, syms, cookie, 1, ret);
                } else {
                        LIBBPF_OPTS(bpf_kprobe_opts, kopts, .bpf_cookie = p->stamp,
                                    .retprobe = ret);

                        k->bl[ret] = bpf_program__attach_kprobe_opts(prog, syms[0], &kopts);
                }
                if (!k->bl[ret]) {
                        snprintf(why, SKBT_WHY_MAX, "%sattach failed: %s", ret ? "return " : "",
                                 strerror(-negative_errno()));
                        return skbt_link_free(k);
                }
        }
        return k;
}

/* Group ids by program (skb position, or return) into one link each. */
static void attach_multi(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                         struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        _cleanup_free_ uint32_t *set = calloc(n, sizeof(*set));
        _cleanup_free_ uint32_t *pos = calloc(n, sizeof(*pos));
        _cleanup_free_ struct skbt_link **lk = calloc(n, sizeof(*lk));
        _cleanup_free_ char(*wh)[SKBT_WHY_MAX] = calloc(n, sizeof(*wh));

        if (!set || !pos || !lk || !wh) {
                for (uint32_t i = 0; i < n; i++)
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                return;
        }
        for (uint32_t i = 0; i < n; i++)
                if (l->probes[ids[i]].kind == SKBT_PROBE_NETFILTER)
                        links[i] = nf_attach(l, true, ids[i], why[i]);
        /* One program per skb position, one for every return. */
        for (int g = 0; g <= KPROBE_MAX_ARG + 1; g++) {
                struct bpf_program *prog = NULL;
                uint32_t m = 0;

                for (uint32_t i = 0; i < n; i++) {
                        const struct skbt_probe *p = &l->probes[ids[i]];
                        int pg = p->is_return ? KPROBE_MAX_ARG + 1
                                              : (p->skb_arg <= KPROBE_MAX_ARG ? p->skb_arg : 0);

                        if (p->kind == SKBT_PROBE_NETFILTER || pg != g)
                                continue;
                        prog = probe_prog(l->skel, true, p, false);
                        pos[m] = i;
                        set[m++] = ids[i];
                }
                if (m == 0)
                        continue;
                memset(lk, 0, m * sizeof(*lk));
                memset(wh, 0, m * sizeof(*wh));
                multi_attach_set(l, prog, set, m, g == KPROBE_MAX_ARG + 1, lk, wh);
                for (uint32_t j = 0; j < m; j++) {
                        links[pos[j]] = lk[j];
                        memcpy(why[pos[j]], wh[j], SKBT_WHY_MAX);
                }
        }
}

const struct skbt_backend_ops skbt_backend_kprobe_multi = {
    .id = SKBT_BACKEND_KPROBE_MULTI,
    .name = "kprobe-multi",
    .flags = SKBT_BACKEND_F_FUNCTIONS | SKBT_BACKEND_F_RETURNS | SKBT_BACKEND_F_BATCH,
    .max_arg = KPROBE_MAX_ARG,
    .caps = "caps_kprobe_multi",
    .caps_attach = caps_attach_multi,
    .wants_program = wants_program_multi,
    .attach = attach_multi,
};

/* ---- kprobe / kretprobe: one link per function ---- */

static struct bpf_link *caps_attach_kprobe(struct bpf_program *prog)
{
        return bpf_program__attach_kprobe(prog, false, SKBT_CAPS_FUNCTION);
}

static bool wants_program_kprobe(const char *n, bool nf)
{
        if (strcmp(n, "skbt_nf_kprobe") == 0 || strcmp(n, "skbt_nf_kretprobe") == 0)
                return nf;
        return strcmp(n, "skbt_kretprobe") == 0 || strncmp(n, "skbt_kprobe_", 12) == 0;
}

static void attach_kprobe(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                          struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                LIBBPF_OPTS(bpf_kprobe_opts, kopts, .bpf_cookie = p->stamp,
                            .retprobe = p->is_return);
                struct skbt_link *k;

                if (p->kind == SKBT_PROBE_NETFILTER) {
                        links[i] = nf_attach(l, false, ids[i], why[i]);
                        continue;
                }
                k = skbt_link_new(&ids[i], 1);
                if (!k) {
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                        continue;
                }
                k->bl[0] = bpf_program__attach_kprobe_opts(probe_prog(l->skel, false, p, false),
                                                           target(p), &kopts);
                if (!k->bl[0]) {
                        snprintf(why[i], SKBT_WHY_MAX, "attach failed: %s",
                                 strerror(-negative_errno()));
                        k = skbt_link_free(k);
                }
                links[i] = k;
        }
}

const struct skbt_backend_ops skbt_backend_kprobe = {
    .id = SKBT_BACKEND_KPROBE,
    .name = "kprobe",
    .flags = SKBT_BACKEND_F_FUNCTIONS | SKBT_BACKEND_F_RETURNS,
    .max_arg = KPROBE_MAX_ARG,
    .caps = "caps_kprobe",
    .caps_attach = caps_attach_kprobe,
    .wants_program = wants_program_kprobe,
    .attach = attach_kprobe,
};
