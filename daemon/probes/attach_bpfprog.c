/* SPDX-License-Identifier: GPL-2.0-only */
/* attach_bpfprog.c - tc and XDP programs as probes: find them, say where they run, trace them */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "loader-internal.h"
#include "log.h"

/*
 * A tc (cls_bpf, act_bpf, tcx) or XDP program is traced with fentry and
 * fexit on the program itself (BPF trampolines take a BPF program as the
 * target as they take a kernel function): the entry sees its context (the
 * kernel's struct sk_buff, or struct xdp_buff), the return its verdict.
 * Programs come and go while the daemon runs, so the probe table grows: a
 * program found by a scan (at start, at 'ipftctl list', and when a session
 * that may select one starts) becomes a probe "tc:NAME" or "xdp:NAME", of
 * the fentry backend whatever backend serves the kernel functions.  Its
 * programs are loaded when it is attached, and closed once linked (the link
 * holds them): a tracing program whose target is a BPF program holds that
 * program alive while loaded, and cannot attach again once its first link
 * is gone, so each attach loads afresh.  A link keeps the traced program
 * alive too; when it goes (the linger after the last session that needed
 * it), a program nothing else holds is freed, and the next scan marks its
 * probe unusable.
 */

/* Probe table room kept for the kernel functions: tc and XDP programs take at most this many. */
#define BPFPROG_PROBES_MAX 256

static const char *prog_kind(uint32_t type)
{
        switch (type) {
        case BPF_PROG_TYPE_SCHED_CLS:
        case BPF_PROG_TYPE_SCHED_ACT:
                return "tc";
        case BPF_PROG_TYPE_XDP:
                return "xdp";
        default:
                return NULL;
        }
}

/* Where programs are attached, as far as BPF links and the XDP query tell. */
struct where {
        uint32_t prog_id;
        char text[64];
};

struct where_list {
        struct where w[BPFPROG_PROBES_MAX];
        uint32_t n;
};

static void where_add(struct where_list *wl, uint32_t prog_id, const char *fmt, ...) _printf_(3, 4);
static void where_add(struct where_list *wl, uint32_t prog_id, const char *fmt, ...)
{
        va_list ap;

        if (!prog_id || wl->n >= ARRAY_SIZE(wl->w))
                return;
        wl->w[wl->n].prog_id = prog_id;
        va_start(ap, fmt);
        vsnprintf(wl->w[wl->n].text, sizeof(wl->w[wl->n].text), fmt, ap);
        va_end(ap);
        wl->n++;
}

static const char *where_find(const struct where_list *wl, uint32_t prog_id)
{
        for (uint32_t i = 0; i < wl->n; i++)
                if (wl->w[i].prog_id == prog_id)
                        return wl->w[i].text;
        return NULL;
}

/* A link names no namespace: its index alone is what is known for sure. */
static const char *ifname(uint32_t ifindex, char *buf)
{
        snprintf(buf, 32, "ifindex %u", ifindex);
        return buf;
}

/* Linux 6.6 UAPI (include/uapi/linux/bpf.h), newer than the headers we may build with. */
#define LINK_TYPE_TCX 11     /* enum bpf_link_type BPF_LINK_TYPE_TCX */
#define ATTACH_TCX_EGRESS 47 /* enum bpf_attach_type BPF_TCX_EGRESS */

/* tcx (Linux 6.6+) and XDP programs attached through links. */
static void where_links(struct where_list *wl)
{
        uint32_t id = 0;

        while (bpf_link_get_next_id(id, &id) == 0) {
                struct bpf_link_info info = {};
                uint32_t len = sizeof(info);
                char buf[32];
                int fd = bpf_link_get_fd_by_id(id);

                if (fd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
                        /* Both start with the ifindex; tcx has its attach type next. */
                        const uint32_t *u = (const uint32_t *)&info.xdp;

                        if (info.type == BPF_LINK_TYPE_XDP)
                                where_add(wl, info.prog_id, "xdp link on %s", ifname(u[0], buf));
                        else if (info.type == LINK_TYPE_TCX)
                                where_add(wl, info.prog_id, "tcx %s on %s",
                                          u[1] == ATTACH_TCX_EGRESS ? "egress" : "ingress",
                                          ifname(u[0], buf));
                }
                close(fd);
        }
}

/* XDP programs attached through netlink (ip link set ... xdp), on this namespace's devices. */
static void where_xdp(struct where_list *wl)
{
        struct if_nameindex *ifs = if_nameindex();

        if (!ifs)
                return;
        for (struct if_nameindex *i = ifs; i->if_index; i++) {
                LIBBPF_OPTS(bpf_xdp_query_opts, q);

                if (bpf_xdp_query((int)i->if_index, 0, &q) < 0)
                        continue;
                where_add(wl, q.drv_prog_id, "xdp (driver) on %s", i->if_name);
                where_add(wl, q.skb_prog_id, "xdp (generic) on %s", i->if_name);
                where_add(wl, q.hw_prog_id, "xdp (offload) on %s", i->if_name);
        }
        if_freenameindex(ifs);
}

static struct skbt_probe *probe_of_prog(struct skbt_loader *l, uint32_t prog_id)
{
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (l->probes[i].kind == SKBT_PROBE_BPF && l->probes[i].bpf_prog_id == prog_id)
                        return &l->probes[i];
        return NULL;
}

/* A usable probe has the name (one whose program was unloaded leaves it to the next). */
static bool name_taken(const struct skbt_loader *l, const char *name)
{
        for (uint32_t i = 0; i < l->n_probes; i++)
                if ((l->probes[i].attached || l->probes[i].link) &&
                    strcmp(l->probes[i].name, name) == 0)
                        return true;
        return false;
}

/*
 * The program's main function: its BTF id (in the program's own BTF: the
 * attach target fentry needs) and its full name (the program's name is cut
 * at 15 characters).  -ENOENT when it has no BTF.
 */
static int main_func(int fd, const struct bpf_prog_info *info, uint32_t *ret_id, char *name,
                     size_t name_len)
{
        struct bpf_func_info fi = {};
        struct bpf_prog_info one = {
            .nr_func_info = 1,
            .func_info_rec_size = sizeof(fi),
            .func_info = (uint64_t)(uintptr_t)&fi,
        };
        uint32_t len = sizeof(one);
        struct btf *btf;
        const struct btf_type *t;

        if (!info->btf_id || !info->nr_func_info)
                return -ENOENT;
        if (bpf_obj_get_info_by_fd(fd, &one, &len) < 0)
                return negative_errno();
        btf = btf__load_from_kernel_by_id(info->btf_id);
        if (!btf)
                return negative_errno();
        t = btf__type_by_id(btf, fi.type_id);
        snprintf(name, name_len, "%s", t ? btf__name_by_offset(btf, t->name_off) : info->name);
        btf__free(btf);
        *ret_id = fi.type_id;
        return 0;
}

static void add_prog(struct skbt_loader *l, int fd, const struct bpf_prog_info *info,
                     const char *kind, const struct where_list *wl)
{
        char fname[128], name[160];
        const char *where = where_find(wl, info->id);
        struct skbt_probe *p;
        uint32_t btf_id = 0;
        int r, id;

        r = main_func(fd, info, &btf_id, fname, sizeof(fname));
        if (r < 0)
                snprintf(fname, sizeof(fname), "%s", info->name);
        snprintf(name, sizeof(name), "%s:%s", kind, fname);
        if (name_taken(l, name))
                snprintf(name, sizeof(name), "%s:%s#%u", kind, fname, info->id);
        id = skbt_probe_add(l, name, SKBT_PROBE_BPF, 0, false);
        if (id < 0)
                return;
        p = &l->probes[id];
        p->backend = SKBT_BACKEND_FENTRY;
        p->bpf_prog_id = info->id;
        p->btf_id = btf_id;
        p->stamp = (uint64_t)(uint32_t)id |
                   ((uint64_t)(strcmp(kind, "xdp") == 0 ? SKBT_NF_XDP : SKBT_NF_TC) << 32);
        /* cls_bpf and act_bpf programs are attached through netlink filters, which are not
         * read here: their events name the device. */
        p->target = strdup(where ? where : "tc filter or action, or not attached");
        if (r < 0)
                skbt_probe_fail(l, p, "the program has no BTF: fentry cannot attach to it");
        log_debug("%s program %u found (%s): probe %s", kind, info->id, p->target ? p->target : "?",
                  name);
}

/* A program seen before: true, with where it runs now if that is known. */
static bool refresh_target(struct skbt_loader *l, uint32_t prog_id, const struct where_list *wl)
{
        struct skbt_probe *p = probe_of_prog(l, prog_id);
        const char *where = where_find(wl, prog_id);

        if (!p)
                return false;
        if (where && (!p->target || strcmp(p->target, where) != 0)) {
                free(p->target);
                p->target = strdup(where);
        }
        return true;
}

static uint32_t count_bpf(const struct skbt_loader *l)
{
        uint32_t n = 0;

        for (uint32_t i = 0; i < l->n_probes; i++)
                n += l->probes[i].kind == SKBT_PROBE_BPF;
        return n;
}

/* A probe whose program is gone: nothing to attach any more. */
static void mark_gone(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_probes; i++) {
                struct skbt_probe *p = &l->probes[i];
                int fd;

                if (p->kind != SKBT_PROBE_BPF || !p->bpf_prog_id || !p->attached || p->link)
                        continue;
                fd = bpf_prog_get_fd_by_id(p->bpf_prog_id);
                if (fd >= 0) {
                        close(fd);
                        continue;
                }
                if (errno == ENOENT)
                        skbt_probe_fail(l, p, "the program was unloaded");
        }
}

int skbt_loader_scan_bpf_progs(struct skbt_loader *l)
{
        _cleanup_free_ struct where_list *wl = NULL;
        uint32_t id = 0, before = l->n_probes, n_bpf;

        if (!l->bpfprog_loaded)
                return 0;
        mark_gone(l);
        wl = calloc(1, sizeof(*wl));
        if (!wl)
                return -ENOMEM;
        where_links(wl);
        where_xdp(wl);
        n_bpf = count_bpf(l);
        while (bpf_prog_get_next_id(id, &id) == 0) {
                struct bpf_prog_info info = {};
                uint32_t len = sizeof(info);
                const char *kind;
                int fd;

                if (refresh_target(l, id, wl))
                        continue;
                fd = bpf_prog_get_fd_by_id(id);
                if (fd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && (kind = prog_kind(info.type))) {
                        if (n_bpf >= BPFPROG_PROBES_MAX) {
                                /* Once: scans come with every 'ipftctl list'. */
                                if (!l->bpfprog_full)
                                        log_warning("more than %u tc and XDP programs seen: "
                                                    "program %u (%s) and later ones are not "
                                                    "traced, ignoring",
                                                    BPFPROG_PROBES_MAX, id, info.name);
                                l->bpfprog_full = true;
                                close(fd);
                                break;
                        }
                        add_prog(l, fd, &info, kind, wl);
                        n_bpf++;
                }
                close(fd);
        }
        return (int)(l->n_probes - before);
}

/* Listed, so that 'ipftctl list' says why tc and XDP programs cannot be traced here. */
static void add_unsupported(struct skbt_loader *l)
{
        static const char *const names[] = {"tc:*", "xdp:*"};
        char why[SKBT_WHY_MAX];

        snprintf(why, sizeof(why),
                 "tracing tc and XDP programs needs fentry/fexit on BPF programs; fentry here: %s",
                 l->bpfprog_why ? l->bpfprog_why : "not available on this kernel");
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                int id = skbt_probe_add(l, names[i], SKBT_PROBE_BPF, 0, false);

                if (id < 0)
                        return;
                l->probes[id].backend = _SKBT_BACKEND_MAX;
                l->probes[id].attached = false;
                l->probes[id].error = strdup(why);
        }
}

void skbt_bpfprog_add(struct skbt_loader *l)
{
        int r;

        if (!l->bpfprog_loaded) {
                add_unsupported(l);
                return;
        }
        r = skbt_loader_scan_bpf_progs(l);
        if (r < 0)
                log_warning_errno(r, "cannot list the tc and XDP programs (%m), ignoring");
}
