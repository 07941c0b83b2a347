/* SPDX-License-Identifier: GPL-2.0-only */
/* attach_nf.c - netfilter verdicts: find the table and chain evaluators, attach entry and return */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fields.h"
#include "loader-internal.h"
#include "log.h"
#include "symdb.h"
#include "skbtrace.skel.h"

/*
 * The functions that evaluate one table (iptables legacy) or one base
 * chain (nftables) for one packet and return its verdict.  Argument
 * positions are read from BTF, not assumed: ipt_do_table took (skb, state,
 * table) until 5.16 and (priv, skb, state) since.
 */
static const struct nf_target {
        const char *func;
        uint8_t engine; /* enum skbt_nf_engine */
} nf_targets[] = {
    {"ipt_do_table", SKBT_NF_XTABLES},
    {"ip6t_do_table", SKBT_NF_XTABLES},
    {"arpt_do_table", SKBT_NF_XTABLES},
    {"nft_do_chain", SKBT_NF_NFTABLES},
};

#define NF_ARGS 3

struct nf_found {
        char module[64]; /* "" for vmlinux */
        uint32_t btf_id;
        uint8_t pos[NF_ARGS]; /* xtables: skb, state, table; nftables: pktinfo, chain */
        bool found;
        char why[160]; /* found, but cannot be used */
};

/* Name of the struct a pointer parameter points to, "" for void *, NULL if not a pointer. */
static const char *pointee(const struct btf *btf, uint32_t type)
{
        const struct btf_type *t = btf__type_by_id(btf, type);

        if (!t || !btf_is_ptr(t))
                return NULL;
        for (int i = 0; i < 8; i++) {
                type = t->type;
                if (type == 0)
                        return "";
                t = btf__type_by_id(btf, type);
                if (!t)
                        return NULL;
                if (btf_is_struct(t) || btf_is_void(t))
                        return btf__name_by_offset(btf, t->name_off);
                if (!btf_is_mod(t) && !btf_is_typedef(t))
                        return NULL;
        }
        return NULL;
}

static void scan_function(const struct btf *btf, const char *module, const struct nf_target *tg,
                          struct nf_found *f)
{
        const struct btf_type *fn, *proto;
        const struct btf_param *p;
        int32_t id = btf__find_by_name_kind(btf, tg->func, BTF_KIND_FUNC);
        bool have[NF_ARGS] = {};
        uint16_t n;

        if (id < 0 || f->found)
                return;
        fn = btf__type_by_id(btf, (uint32_t)id);
        proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
        if (!proto || !btf_is_func_proto(proto))
                return;
        f->found = true;
        f->btf_id = (uint32_t)id;
        snprintf(f->module, sizeof(f->module), "%s", module ? module : "");
        p = btf_params(proto);
        n = btf_vlen(proto);
        for (uint16_t i = 0; i < n && i < 6; i++) {
                const char *s = pointee(btf, p[i].type);
                int slot = -1;

                if (!s)
                        continue;
                if (tg->engine == SKBT_NF_XTABLES)
                        slot = strcmp(s, "sk_buff") == 0           ? 0
                               : strcmp(s, "nf_hook_state") == 0   ? 1
                               : strcmp(s, "xt_table") == 0 || !*s ? 2
                                                                   : -1;
                else
                        slot = strcmp(s, "nft_pktinfo") == 0 ? 0 : !*s ? 1 : -1;
                if (slot >= 0 && !have[slot]) {
                        have[slot] = true;
                        f->pos[slot] = (uint8_t)i;
                }
        }
        if (!have[0] || !have[1] || (tg->engine == SKBT_NF_XTABLES && !have[2]))
                snprintf(f->why, sizeof(f->why),
                         "unexpected prototype in BTF: its packet, hook state or table "
                         "argument was not found (in the first 6)");
}

struct nf_offsets {
        struct skbt_nf_conf c;
        bool state, xt, nft;
};

static void scan_offsets(const struct btf *btf, struct nf_offsets *o)
{
        if (!o->state)
                o->state =
                    skbt_btf_member_offset(btf, "nf_hook_state", "hook", &o->c.state_hook) == 0 &&
                    skbt_btf_member_offset(btf, "nf_hook_state", "pf", &o->c.state_pf) == 0;
        if (!o->xt)
                o->xt = skbt_btf_member_offset(btf, "xt_table", "name", &o->c.xt_name) == 0;
        if (!o->nft)
                o->nft =
                    skbt_btf_member_offset(btf, "nft_pktinfo", "skb", &o->c.pkt_skb) == 0 &&
                    skbt_btf_member_offset(btf, "nft_pktinfo", "state", &o->c.pkt_state) == 0 &&
                    skbt_btf_member_offset(btf, "nft_chain", "name", &o->c.chain_name) == 0 &&
                    skbt_btf_member_offset(btf, "nft_chain", "table", &o->c.chain_table) == 0 &&
                    skbt_btf_member_offset(btf, "nft_table", "name", &o->c.table_name) == 0;
}

static void scan_btf(const struct btf *btf, const char *module, struct nf_found *found,
                     struct nf_offsets *o)
{
        for (size_t i = 0; i < ARRAY_SIZE(nf_targets); i++)
                scan_function(btf, module, &nf_targets[i], &found[i]);
        scan_offsets(btf, o);
}

struct nf_scan {
        struct nf_found *found;
        struct nf_offsets *o;
};

static void scan_module(const struct btf *btf, const char *module, void *data)
{
        struct nf_scan *n = data;

        scan_btf(btf, module, n->found, n->o);
}

/* vmlinux, then the modules with BTF that can hold them (ip_tables, nf_tables, ...). */
static int discover(struct nf_found *found, struct nf_offsets *o)
{
        struct nf_scan n = {found, o};
        struct btf *vmlinux;

        vmlinux = btf__load_vmlinux_btf();
        if (!vmlinux)
                return negative_errno();
        scan_btf(vmlinux, NULL, found, o);
        /* Only the netfilter modules define what we look for. */
        skbt_btf_foreach_module(vmlinux, "tables", scan_module, &n);
        btf__free(vmlinux);
        return 0;
}

static uint64_t nf_stamp(uint32_t id, uint8_t engine, const struct nf_found *f)
{
        uint32_t hi = engine;

        for (int i = 0; i < NF_ARGS; i++)
                hi |= (uint32_t)(f->pos[i] & 0xf) << (4 * (i + 1));
        return (uint64_t)id | ((uint64_t)hi << 32);
}

/* Say why in why, return r. */
static int _printf_(4, 5) nf_fail(char *why, size_t len, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
        return r;
}

static int attach_fentry(struct skbt_loader *l, struct skbt_probe *p, uint64_t stamp,
                         const struct nf_found *f, char *why, size_t len)
{
        struct bpf_program *entry = l->skel->progs.skbt_nf_fentry;
        struct bpf_program *ret = l->skel->progs.skbt_nf_fexit;
        _cleanup_free_ void *insns = NULL;
        int obj_fd = 0, fd, r;

        if (f->module[0]) {
                obj_fd = skbt_module_btf_fd(l, f->module);
                if (obj_fd < 0)
                        return nf_fail(why, len, obj_fd, "module %s has no BTF object to attach to",
                                       f->module);
        }
        r = skbt_stamp_probe_id(bpf_program__insns(entry), bpf_program__insn_cnt(entry), stamp,
                                &insns);
        if (r < 0)
                return nf_fail(why, len, r, "stamping failed: %s", strerror(-r));
        fd = skbt_load_stamped(l, entry, BPF_PROG_TYPE_TRACING, "skbt_nf_fe", insns, f->btf_id,
                               obj_fd);
        if (fd < 0)
                return nf_fail(why, len, fd, "load failed: %s", strerror(-fd));
        p->link_fd = bpf_link_create(fd, 0, BPF_TRACE_FENTRY, NULL);
        r = -errno;
        safe_close(fd);
        if (p->link_fd < 0)
                return nf_fail(why, len, r, "attach failed: %s", strerror(-r));
        /* The return program reads no stamp: load the template's instructions as they are. */
        fd = skbt_load_stamped(l, ret, BPF_PROG_TYPE_TRACING, "skbt_nf_fx", bpf_program__insns(ret),
                               f->btf_id, obj_fd);
        if (fd < 0)
                return nf_fail(why, len, fd, "return load failed: %s", strerror(-fd));
        p->ret_link_fd = bpf_link_create(fd, 0, BPF_TRACE_FEXIT, NULL);
        r = -errno;
        safe_close(fd);
        if (p->ret_link_fd < 0)
                return nf_fail(why, len, r, "return attach failed: %s", strerror(-r));
        return 0;
}

static int attach_kprobe(struct skbt_loader *l, struct skbt_probe *p, uint64_t stamp,
                         const char *func, char *why, size_t len)
{
        struct bpf_link *link;

        if (l->backend == SKBT_BACKEND_KPROBE_MULTI) {
                const char *syms[1] = {func};
                __u64 cookies[1] = {stamp};
                LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cookies = cookies,
                            .cnt = 1);

                p->link = bpf_program__attach_kprobe_multi_opts(l->skel->progs.skbt_nf_kmulti, NULL,
                                                                &opts);
                if (!p->link)
                        return nf_fail(why, len, -errno, "attach failed: %m");
                opts.retprobe = true;
                link = bpf_program__attach_kprobe_multi_opts(l->skel->progs.skbt_nf_kmulti_ret,
                                                             NULL, &opts);
        } else {
                LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = stamp);

                p->link =
                    bpf_program__attach_kprobe_opts(l->skel->progs.skbt_nf_kprobe, func, &opts);
                if (!p->link)
                        return nf_fail(why, len, -errno, "attach failed: %m");
                opts.retprobe = true;
                link =
                    bpf_program__attach_kprobe_opts(l->skel->progs.skbt_nf_kretprobe, func, &opts);
        }
        if (!link)
                return nf_fail(why, len, -errno, "return attach failed: %m");
        return skbt_keep_link(l, link);
}

/*
 * Give each evaluator found a probe "nf:FUNC" and attach its entry and
 * return.  Nothing here is fatal: without verdicts, tracing goes on.
 */
void skbt_nf_attach(struct skbt_loader *l, const struct skbt_loader_opts *opts)
{
        struct nf_found found[ARRAY_SIZE(nf_targets)] = {};
        struct nf_offsets o = {};
        int r;

        if (l->backend == SKBT_BACKEND_TRACEPOINT || !l->nf_loaded) {
                /* Listed, so that 'ipftctl list' says why there are no verdicts. */
                for (size_t i = 0; i < ARRAY_SIZE(nf_targets); i++) {
                        char name[64];
                        int id;

                        snprintf(name, sizeof(name), "nf:%s", nf_targets[i].func);
                        id = skbt_probe_add(l, name, SKBT_PROBE_NETFILTER, 0, false);
                        if (id < 0)
                                return;
                        l->probes[id].backend = _SKBT_BACKEND_MAX;
                        l->probes[id].error =
                            strdup(l->backend == SKBT_BACKEND_TRACEPOINT
                                       ? "netfilter verdicts need a function backend (fentry, "
                                         "kprobe-multi or kprobe): no tracepoint reports them"
                                       : "this kernel refused the netfilter verdict programs "
                                         "(see the daemon's log)");
                        l->n_unsupported++;
                }
                return;
        }
        r = discover(found, &o);
        if (r < 0) {
                log_warning_errno(r, "cannot read kernel BTF for netfilter verdicts (%m), "
                                     "ignoring");
                return;
        }
        *l->nf_conf = o.c;
        for (size_t i = 0; i < ARRAY_SIZE(nf_targets); i++) {
                const struct nf_target *tg = &nf_targets[i];
                struct nf_found *f = &found[i];
                char name[64], why[192] = "";
                struct skbt_probe *p;
                int id;

                if (!f->found)
                        continue;
                snprintf(name, sizeof(name), "nf:%s", tg->func);
                if (!skbt_probe_wanted(opts, name) && !skbt_probe_wanted(opts, tg->func))
                        continue;
                id = skbt_probe_add(l, name, SKBT_PROBE_NETFILTER, f->pos[0], false);
                if (id < 0)
                        return;
                p = &l->probes[id];
                p->backend = l->backend;
                if (f->why[0])
                        snprintf(why, sizeof(why), "%s", f->why);
                else if (!o.state || (tg->engine == SKBT_NF_XTABLES ? !o.xt : !o.nft))
                        snprintf(why, sizeof(why),
                                 "kernel BTF lacks the %s structure members the verdict "
                                 "needs",
                                 tg->engine == SKBT_NF_XTABLES ? "x_tables" : "nf_tables");
                else if (l->backend == SKBT_BACKEND_FENTRY)
                        r = attach_fentry(l, p, nf_stamp((uint32_t)id, tg->engine, f), f, why,
                                          sizeof(why));
                else
                        r = attach_kprobe(l, p, nf_stamp((uint32_t)id, tg->engine, f), tg->func,
                                          why, sizeof(why));
                if (why[0]) {
                        /* An entry without its return would only fill the stack. */
                        bpf_link__destroy(p->link);
                        p->link = NULL;
                        p->link_fd = safe_close(p->link_fd);
                        skbt_probe_fail(l, p, "%s", why);
                        continue;
                }
                p->attached = true;
                l->n_attached++;
                l->n_nf++;
        }
        l->nf_conf->attached = l->n_nf;
        log_info("netfilter verdicts: %u of the table/chain evaluators attached (%s)", l->n_nf,
                 l->n_nf ? "ip_tables, ip6_tables, arp_tables, nf_tables as loaded"
                         : "none loaded, or none attachable: see ipftctl list");
}
