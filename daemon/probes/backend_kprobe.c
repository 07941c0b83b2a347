/* SPDX-License-Identifier: GPL-2.0-only */
/* backend_kprobe.c - kprobe-multi (one link per skb position) and kprobe (one per function) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "backend.h"
#include "loader-internal.h"
#include "skbtrace.skel.h"

/* kprobes see the six x86-64 register arguments. */
#define KPROBE_MAX_ARG 5
#define KPROBE_PMU "/sys/bus/event_source/devices/kprobe"

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

/* The template for probe p: its entry position's, the return one, or a netfilter one. */
static struct bpf_program *probe_prog(struct skbtrace *skel, bool multi, const struct skbt_probe *p,
                                      bool nf_return)
{
        /* nftables' trace hook (attach_nft_rule.c): an entry only. */
        if (p->helper)
                return multi ? skel->progs.skbt_nft_hook_kmulti : skel->progs.skbt_nft_hook_kprobe;
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

/*
 * A netfilter evaluator's entry: a copy of its template with the probe's stamp
 * (id, engine, argument positions) in the program, as fentry does, not in the
 * attach cookie: with them unknown, Linux 6.1's verifier gave up on the
 * template after 1,000,001 instructions (bpf/skbtrace.bpf.c).  One load per
 * evaluator (a handful), kept in p->prog_fd.
 */
static int load_nf_entry(struct skbt_loader *l, bool multi, struct skbt_probe *p, char *why)
{
        _cleanup_free_ void *insns = NULL;
        struct bpf_program *tmpl = probe_prog(l->skel, multi, p, false);
        int r;

        r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), p->stamp,
                                &insns);
        if (r < 0) {
                snprintf(why, SKBT_WHY_MAX, "stamping %s failed: %s", bpf_program__name(tmpl),
                         strerror(-r));
                return r;
        }
        r = skbt_load_stamped(l, tmpl, BPF_PROG_TYPE_KPROBE, multi ? "skbt_nf_km" : "skbt_nf_kp",
                              insns, 0, 0, why);
        if (r < 0)
                return r;
        p->prog_fd = r;
        return 0;
}

/*
 * The entry templates serve every function of their position: a probe needs
 * no program of its own, only its template's copy (loaded once, the first
 * time a probe of that position is loaded: the attach worker's, or a
 * background preload's).  Netfilter evaluators load their own entry.
 */
static int load_common(struct skbt_loader *l, bool multi, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        int r;

        /* A helper (nftables' trace hook) is its template, entry only. */
        if (p->kind != SKBT_PROBE_NETFILTER || p->helper)
                r = skbt_template_fd(l, probe_prog(l->skel, multi, p, false), BPF_PROG_TYPE_KPROBE,
                                     why);
        else
                r = skbt_template_fd(l, probe_prog(l->skel, multi, p, true), BPF_PROG_TYPE_KPROBE,
                                     why);
        if (r >= 0 && skbt_probe_is_nf_eval(p) && p->prog_fd < 0)
                r = load_nf_entry(l, multi, p, why);
        return r < 0 ? r : 0;
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
        if (strncmp(n, "skbt_nf_kmulti", 14) == 0 || strcmp(n, "skbt_nft_hook_kmulti") == 0)
                return nf;
        return strncmp(n, "skbt_kmulti_", 12) == 0;
}

static int load_multi(struct skbt_loader *l, uint32_t id, char *why)
{
        return load_common(l, true, id, why);
}

/* A kprobe-multi link of prog_fd on syms (with cookies): its fd, or negative errno. */
static int multi_link(int prog_fd, const char **syms, const __u64 *cookies, uint32_t n,
                      bool retprobe)
{
        LIBBPF_OPTS(bpf_link_create_opts, opts, .kprobe_multi.syms = syms,
                    .kprobe_multi.cookies = cookies, .kprobe_multi.cnt = n,
                    .kprobe_multi.flags = retprobe ? BPF_F_KPROBE_MULTI_RETURN : 0);
        int r = bpf_link_create(prog_fd, 0, BPF_TRACE_KPROBE_MULTI, &opts);

        return r < 0 ? negative_errno() : r;
}

/*
 * Attach ids[0..n) (one program) with one kprobe-multi link.  The kernel
 * refuses the whole set if one function cannot be probed, so on failure split
 * it in halves until the bad ones are isolated: one bad function never costs
 * the others.
 */
static void multi_attach_set(struct skbt_loader *l, int prog_fd, const uint32_t *ids, uint32_t n,
                             bool retprobe, struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        _cleanup_free_ const char **syms = NULL;
        _cleanup_free_ __u64 *cookies = NULL;
        struct skbt_link *k;
        int r;

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
        r = multi_link(prog_fd, syms, cookies, n, retprobe);
        if (r >= 0) {
                k->fd[SKBT_LINK_ENTRY] = r;
                for (uint32_t i = 0; i < n; i++)
                        links[i] = k;
                return;
        }
        skbt_link_free(k);
        if (n == 1) {
                snprintf(why[0], SKBT_WHY_MAX, "attach failed: %s", strerror(-r));
                return;
        }
        multi_attach_set(l, prog_fd, ids, n / 2, retprobe, links, why);
        multi_attach_set(l, prog_fd, ids + n / 2, n - n / 2, retprobe, links + n / 2, why + n / 2);
}

/* A netfilter evaluator: entry and return, one function each (a helper: the entry only). */
static struct skbt_link *nf_attach_multi(struct skbt_loader *l, uint32_t id, char *why)
{
        struct skbt_probe *p = &l->probes[id];
        struct skbt_link *k = skbt_link_new(&id, 1);
        const char *syms[1] = {target(p)};
        const __u64 cookie[1] = {p->stamp};

        if (!k) {
                snprintf(why, SKBT_WHY_MAX, "out of memory");
                return NULL;
        }
        for (int ret = 0; ret <= !p->helper; ret++) {
                /* An evaluator's entry is its own stamped copy (load_nf_entry()); a helper's is
                 * its template. */
                int fd = ret || p->helper ? skbt_template_fd(l, probe_prog(l->skel, true, p, ret),
                                                             BPF_PROG_TYPE_KPROBE, why)
                                          : p->prog_fd;
                int r = fd < 0 ? -EBADF : multi_link(fd, syms, cookie, 1, ret);

                if (r < 0) {
                        if (fd >= 0)
                                snprintf(why, SKBT_WHY_MAX, "%sattach failed: %s",
                                         ret ? "return " : "", strerror(-r));
                        else if (!why[0])
                                snprintf(why, SKBT_WHY_MAX, "not loaded");
                        return skbt_link_free(k);
                }
                k->fd[ret ? SKBT_LINK_RETURN : SKBT_LINK_ENTRY] = r;
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
                        links[i] = nf_attach_multi(l, ids[i], why[i]);
        /* One program per skb position, one for every return. */
        for (int g = 0; g <= KPROBE_MAX_ARG + 1; g++) {
                struct bpf_program *prog = NULL;
                char err[SKBT_WHY_MAX] = "";
                uint32_t m = 0;
                int fd;

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
                fd = skbt_template_fd(l, prog, BPF_PROG_TYPE_KPROBE, err);
                if (fd >= 0)
                        multi_attach_set(l, fd, set, m, g == KPROBE_MAX_ARG + 1, lk, wh);
                for (uint32_t j = 0; j < m; j++) {
                        links[pos[j]] = lk[j];
                        memcpy(why[pos[j]], fd < 0 ? err : wh[j], SKBT_WHY_MAX);
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
    .load = load_multi,
    .attach = attach_multi,
};

/* ---- kprobe / kretprobe: one link per function, on a perf event ---- */

static struct bpf_link *caps_attach_kprobe(struct bpf_program *prog)
{
        return bpf_program__attach_kprobe(prog, false, SKBT_CAPS_FUNCTION);
}

static bool wants_program_kprobe(const char *n, bool nf)
{
        if (strcmp(n, "skbt_nf_kprobe") == 0 || strcmp(n, "skbt_nf_kretprobe") == 0 ||
            strcmp(n, "skbt_nft_hook_kprobe") == 0)
                return nf;
        return strcmp(n, "skbt_kretprobe") == 0 || strncmp(n, "skbt_kprobe_", 12) == 0;
}

static int load_kprobe(struct skbt_loader *l, uint32_t id, char *why)
{
        return load_common(l, false, id, why);
}

/* A number from a sysfs file of the kprobe PMU ("6", or "config:0" for a format bit). */
static int pmu_read(const char *file, const char *prefix, int *ret)
{
        char path[128], buf[64];
        FILE *f;
        int ok;

        snprintf(path, sizeof(path), "%s/%s", KPROBE_PMU, file);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        ok = fgets(buf, sizeof(buf), f) && strncmp(buf, prefix, strlen(prefix)) == 0 &&
             sscanf(buf + strlen(prefix), "%d", ret) == 1;
        fclose(f);
        return ok ? 0 : -EINVAL;
}

/*
 * The kprobe PMU's type and its retprobe format bit: read from sysfs once, not
 * per probe as libbpf does (1.9 ms a probe under TCG, 5% of a full kprobe
 * attach: docs/performance.md).  They do not change while the system runs, so
 * two threads reading them at once (the attach worker, an attach on the event
 * loop) store the same values.  0 means not read yet (type 0 is
 * PERF_TYPE_HARDWARE, never a dynamic PMU's).
 */
static int pmu_params(bool retprobe, int *type, int *bit)
{
        static int cached_type, cached_bit = -1;
        int r;

        *type = __atomic_load_n(&cached_type, __ATOMIC_RELAXED);
        if (!*type) {
                r = pmu_read("type", "", type);
                if (r < 0)
                        return r;
                __atomic_store_n(&cached_type, *type, __ATOMIC_RELAXED);
        }
        *bit = __atomic_load_n(&cached_bit, __ATOMIC_RELAXED);
        if (retprobe && *bit < 0) {
                r = pmu_read("format/retprobe", "config:", bit);
                if (r < 0)
                        return r;
                __atomic_store_n(&cached_bit, *bit, __ATOMIC_RELAXED);
        }
        return 0;
}

/*
 * A kprobe (or kretprobe) perf event on func, through the kprobe PMU, as
 * libbpf does for programs it loaded itself: the event goes with its fd.
 */
static int kprobe_event(const char *func, bool retprobe)
{
        struct perf_event_attr attr = {.size = sizeof(attr)};
        int type, bit, r;

        r = pmu_params(retprobe, &type, &bit);
        if (r < 0)
                return r;
        if (retprobe)
                attr.config |= 1ULL << bit;
        attr.type = (uint32_t)type;
        attr.config1 = (uint64_t)(uintptr_t)func; /* kprobe_func */
        attr.config2 = 0;                         /* offset */
        r = (int)syscall(__NR_perf_event_open, &attr, -1 /* pid */, 0 /* cpu */, -1 /* group */,
                         PERF_FLAG_FD_CLOEXEC);
        return r < 0 ? negative_errno() : r;
}

/* Attach prog_fd to func as a kprobe or kretprobe with cookie, into k's slot pair. */
static int kprobe_link(struct skbt_link *k, int slot, int prog_fd, const char *func, bool ret,
                       uint64_t cookie, char *why)
{
        LIBBPF_OPTS(bpf_link_create_opts, opts, .perf_event.bpf_cookie = cookie);
        int r;

        r = kprobe_event(func, ret);
        if (r < 0) {
                snprintf(why, SKBT_WHY_MAX, "%sattach failed: %s", ret ? "return " : "",
                         strerror(-r));
                return r;
        }
        k->fd[slot + 1] = r;
        r = bpf_link_create(prog_fd, k->fd[slot + 1], BPF_PERF_EVENT, &opts);
        if (r < 0) {
                r = negative_errno();
                snprintf(why, SKBT_WHY_MAX, "%sattach failed: %s", ret ? "return " : "",
                         strerror(-r));
                return r;
        }
        k->fd[slot] = r;
        return 0;
}

static void attach_kprobe(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                          struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                bool nf = skbt_probe_is_nf_eval(p);
                struct skbt_link *k = skbt_link_new(&ids[i], 1);
                int fd, r = -ENOMEM;

                if (!k) {
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                        continue;
                }
                /* A netfilter evaluator's entry is its own stamped copy (load_nf_entry()). */
                fd = nf ? p->prog_fd
                        : skbt_template_fd(l, probe_prog(l->skel, false, p, false),
                                           BPF_PROG_TYPE_KPROBE, why[i]);
                if (nf && fd < 0)
                        snprintf(why[i], SKBT_WHY_MAX, "not loaded");
                if (fd >= 0)
                        r = kprobe_link(k, p->is_return ? SKBT_LINK_RETURN : SKBT_LINK_ENTRY, fd,
                                        target(p), p->is_return, p->stamp, why[i]);
                /* A netfilter evaluator's return: the verdict. */
                if (r >= 0 && nf) {
                        fd = skbt_template_fd(l, probe_prog(l->skel, false, p, true),
                                              BPF_PROG_TYPE_KPROBE, why[i]);
                        r = fd < 0 ? fd
                                   : kprobe_link(k, SKBT_LINK_RETURN, fd, target(p), true, p->stamp,
                                                 why[i]);
                }
                links[i] = r < 0 ? skbt_link_free(k) : k;
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
    .load = load_kprobe,
    .attach = attach_kprobe,
};
