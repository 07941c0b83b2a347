/* SPDX-License-Identifier: GPL-2.0-only */
/* attach_nf.c - netfilter verdicts: find the table and chain evaluators, attach entry and return */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fields.h"
#include "kernel_btf.h"
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
    {"ipt_do_table", SKBT_NF_XTABLES},  {"ip6t_do_table", SKBT_NF_XTABLES},
    {"arpt_do_table", SKBT_NF_XTABLES}, {"nft_do_chain", SKBT_NF_NFTABLES},
    {"ebt_do_table", SKBT_NF_EBTABLES},
};

#define NF_ARGS 3

struct nf_found {
        struct skbt_btf_func fn;
        uint8_t pos[NF_ARGS]; /* xtables: skb, state, table; nftables: pktinfo, chain */
        char why[160];        /* found, but cannot be used */
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
        const struct btf_type *proto = skbt_btf_func_find(btf, module, tg->func, &f->fn);
        const struct btf_param *p;
        bool have[NF_ARGS] = {};
        uint16_t n;

        if (!proto)
                return;
        p = btf_params(proto);
        n = btf_vlen(proto);
        for (uint16_t i = 0; i < n && i < 6; i++) {
                const char *s = pointee(btf, p[i].type);
                int slot = -1;

                if (!s)
                        continue;
                if (tg->engine != SKBT_NF_NFTABLES)
                        slot = strcmp(s, "sk_buff") == 0         ? 0
                               : strcmp(s, "nf_hook_state") == 0 ? 1
                               : strcmp(s, "xt_table") == 0 || strcmp(s, "ebt_table") == 0 || !*s
                                   ? 2
                                   : -1;
                else
                        slot = strcmp(s, "nft_pktinfo") == 0 ? 0 : !*s ? 1 : -1;
                if (slot >= 0 && !have[slot]) {
                        have[slot] = true;
                        f->pos[slot] = (uint8_t)i;
                }
        }
        if (!have[0] || !have[1] || (tg->engine != SKBT_NF_NFTABLES && !have[2]))
                snprintf(f->why, sizeof(f->why),
                         "unexpected prototype in BTF: its packet, hook state or table "
                         "argument was not found (in the first 6)");
}

struct nf_offsets {
        struct skbt_nf_conf c;
        bool state, xt, nft, ebt;
        uint32_t xt_rules; /* bit i: xt_rule_members[i] found (in whichever BTF has it) */
};

/*
 * What iptables rule numbers read (bpf/skbt_nf.bpf.h skbt_xt_snapshot()): the
 * x_tables members for both families, then each family's entry.  A family's
 * rules are numbered when the shared ones and its own are all found.
 */
#define XT_M(t, p, f, fam)                                                                         \
        {                                                                                          \
                t, p, offsetof(struct skbt_nf_conf, f), sizeof(((struct skbt_nf_conf *)0)->f), fam \
        }
#define XT_BOTH (SKBT_XT_RULES_IP | SKBT_XT_RULES_IP6)
static const struct xt_member {
        const char *type, *path;
        size_t at, size; /* where in struct skbt_nf_conf: a u16 or a u32 */
        uint8_t fam;     /* SKBT_XT_RULES_*: the families that need it */
} xt_rule_members[] = {
    XT_M("xt_table", "private", xt_private, XT_BOTH),
    XT_M("xt_table_info", "size", xti_size, XT_BOTH),
    XT_M("xt_table_info", "hook_entry", xti_hook_entry, XT_BOTH),
    XT_M("xt_table_info", "underflow", xti_underflow, XT_BOTH),
    XT_M("xt_table_info", "entries", xti_entries, XT_BOTH),
    XT_M("xt_entry_target", "u.kernel.target", tgt_kernel, XT_BOTH),
    XT_M("xt_entry_target", "data", tgt_data, XT_BOTH),
    XT_M("xt_target", "target", xtg_target, XT_BOTH),
    XT_M("ipt_entry", "target_offset", ipt_target, SKBT_XT_RULES_IP),
    XT_M("ipt_entry", "next_offset", ipt_next, SKBT_XT_RULES_IP),
    XT_M("ipt_entry", "counters.pcnt", ipt_pcnt, SKBT_XT_RULES_IP),
    XT_M("ipt_entry", "ip.flags", ipt_flags, SKBT_XT_RULES_IP),
    XT_M("ip6t_entry", "target_offset", ip6t_target, SKBT_XT_RULES_IP6),
    XT_M("ip6t_entry", "next_offset", ip6t_next, SKBT_XT_RULES_IP6),
    XT_M("ip6t_entry", "counters.pcnt", ip6t_pcnt, SKBT_XT_RULES_IP6),
    XT_M("ip6t_entry", "ipv6.flags", ip6t_flags, SKBT_XT_RULES_IP6),
};

static void scan_xt_rules(const struct btf *btf, struct nf_offsets *o)
{
        for (size_t i = 0; i < ARRAY_SIZE(xt_rule_members); i++) {
                const struct xt_member *m = &xt_rule_members[i];
                uint32_t off;
                uint16_t off16;

                if ((o->xt_rules & (1u << i)) ||
                    skbt_btf_member_path(btf, m->type, m->path, &off, NULL) < 0 ||
                    (m->size == 2 && off > UINT16_MAX))
                        continue;
                off16 = (uint16_t)off;
                memcpy((char *)&o->c + m->at, m->size == 2 ? (void *)&off16 : (void *)&off,
                       m->size);
                o->xt_rules |= 1u << i;
        }
}

/* The families whose rules can be numbered (SKBT_XT_RULES_*), with what found says is there. */
static uint8_t xt_rule_families(uint32_t found)
{
        uint8_t fam = XT_BOTH;

        for (size_t i = 0; i < ARRAY_SIZE(xt_rule_members); i++)
                if (!(found & (1u << i)))
                        fam &= (uint8_t)~xt_rule_members[i].fam;
        return fam;
}

static void scan_offsets(const struct btf *btf, struct nf_offsets *o)
{
        if (!o->state)
                o->state =
                    skbt_btf_member_offset(btf, "nf_hook_state", "hook", &o->c.state_hook) == 0 &&
                    skbt_btf_member_offset(btf, "nf_hook_state", "pf", &o->c.state_pf) == 0;
        if (!o->xt)
                o->xt = skbt_btf_member_offset(btf, "xt_table", "name", &o->c.xt_name) == 0;
        if (!o->ebt)
                o->ebt = skbt_btf_member_offset(btf, "ebt_table", "name", &o->c.ebt_name) == 0;
        if (!o->nft)
                o->nft =
                    skbt_btf_member_offset(btf, "nft_pktinfo", "skb", &o->c.pkt_skb) == 0 &&
                    skbt_btf_member_offset(btf, "nft_pktinfo", "state", &o->c.pkt_state) == 0 &&
                    skbt_btf_member_offset(btf, "nft_chain", "name", &o->c.chain_name) == 0 &&
                    skbt_btf_member_offset(btf, "nft_chain", "table", &o->c.chain_table) == 0 &&
                    skbt_btf_member_offset(btf, "nft_table", "name", &o->c.table_name) == 0;
        scan_xt_rules(btf, o);
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

/*
 * vmlinux, then the modules with BTF that can hold them (ip_tables, nf_tables, ...).
 * The kernel's BTF is the daemon's shared copy (start-up parses it once, then lets it go).
 */
static int discover(struct nf_found *found, struct nf_offsets *o)
{
        struct nf_scan n = {found, o};
        const struct btf *vmlinux = skbt_kernel_btf();

        if (!vmlinux)
                return negative_errno();
        scan_btf(vmlinux, NULL, found, o);
        /* Only the netfilter modules define what we look for. */
        skbt_btf_foreach_module(vmlinux, "tables", scan_module, &n);
        return 0;
}

uint64_t skbt_nf_stamp(uint32_t id, uint8_t engine, const uint8_t pos[NF_ARGS])
{
        uint32_t hi = engine;

        for (int i = 0; i < NF_ARGS; i++)
                hi |= (uint32_t)(pos[i] & 0xf) << (4 * (i + 1));
        return (uint64_t)id | ((uint64_t)hi << 32);
}

/* Record why evaluator p cannot be attached, if it cannot: false then. */
static bool nf_usable(struct skbt_loader *l, struct skbt_probe *p, const struct nf_target *tg,
                      const struct nf_found *f, const struct nf_offsets *o)
{
        int obj_fd;

        if (f->why[0]) {
                skbt_probe_fail(l, p, "%s", f->why);
                return false;
        }
        if (!o->state || (tg->engine == SKBT_NF_XTABLES    ? !o->xt
                          : tg->engine == SKBT_NF_EBTABLES ? !o->ebt
                                                           : !o->nft)) {
                skbt_probe_fail(l, p, "kernel BTF lacks the %s structure members the verdict needs",
                                tg->engine == SKBT_NF_XTABLES    ? "x_tables"
                                : tg->engine == SKBT_NF_EBTABLES ? "ebtables"
                                                                 : "nf_tables");
                return false;
        }
        /* fentry names the module's BTF object as the attach target's. */
        if (f->fn.module[0] && skbt_backend_has(l->backend, SKBT_BACKEND_F_PROG_PER_PROBE)) {
                obj_fd = skbt_module_btf_fd(l, f->fn.module);
                if (obj_fd < 0) {
                        skbt_probe_fail(l, p, "module %s has no BTF object to attach to",
                                        f->fn.module);
                        return false;
                }
                p->btf_obj_fd = obj_fd;
        }
        return true;
}

/* Listed, so that 'ipftctl list' says why there are no verdicts. */
static void nf_add_unsupported(struct skbt_loader *l)
{
        bool functions = skbt_backend_has(l->backend, SKBT_BACKEND_F_FUNCTIONS);

        for (size_t i = 0; i < ARRAY_SIZE(nf_targets); i++) {
                char name[64];
                int id;

                snprintf(name, sizeof(name), "nf:%s", nf_targets[i].func);
                id = skbt_probe_add(l, name, SKBT_PROBE_NETFILTER, 0, false);
                if (id < 0)
                        return;
                l->probes[id].backend = _SKBT_BACKEND_MAX;
                l->probes[id].attached = false;
                l->probes[id].error =
                    strdup(!functions ? "netfilter verdicts need a function backend (fentry, "
                                        "kprobe-multi or kprobe): no tracepoint reports them"
                                      : "this kernel refused the netfilter verdict programs "
                                        "(see the daemon's log)");
        }
}

/* A kernel symbol's address from /proc/kallsyms (any type), 0 if absent or hidden. */
static uint64_t kallsyms_addr(const char *name)
{
        FILE *f = fopen("/proc/kallsyms", "re");
        char line[512], sym[256];
        unsigned long long addr;
        uint64_t found = 0;
        char type;

        while (f && !found && fgets(line, sizeof(line), f))
                if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && strcmp(sym, name) == 0)
                        found = addr;
        if (f)
                fclose(f);
        return found;
}

/* Which families' iptables rules --nf-rules numbers, from the members found; logs why not. */
static void xt_rules_setup(struct skbt_nf_conf *c, uint32_t found)
{
        uint8_t fam = xt_rule_families(found);

        c->xt_rules = fam;
        /* This CPU's counters are per CPU with more than one possible CPU
         * (xt_get_this_cpu_counter()): their offsets from __per_cpu_offset[]. */
        c->xt_percpu = libbpf_num_possible_cpus() > 1;
        if (fam && c->xt_percpu && !(c->xt_pcpu_offset = kallsyms_addr("__per_cpu_offset")))
                c->xt_rules = 0;
        log_info("iptables rule numbers: IPv4 %s, IPv6 %s%s",
                 c->xt_rules & SKBT_XT_RULES_IP ? "yes" : "no",
                 c->xt_rules & SKBT_XT_RULES_IP6 ? "yes" : "no",
                 fam && !c->xt_rules ? " (__per_cpu_offset not in /proc/kallsyms)"
                 : fam != XT_BOTH    ? " (kernel BTF lacks ip_tables' or ip6_tables' structures: "
                                       "module not loaded?)"
                                     : "");
}

/*
 * The per-CPU snapshots iptables rule numbers need (struct skbt_xt_snap, ~24 KiB per
 * evaluation depth and possible CPU): created when the first --nf-rules session starts and
 * dropped after the last (sessions/nf_rules.c), so that the daemon holds none while no session
 * asks.  The programs find it in xt_snaps; without it they number nothing.
 */
int skbt_xt_snaps_hold(struct skbt_loader *l, char *err, size_t errlen)
{
        size_t size = SKBT_XT_DEPTH * sizeof(struct skbt_xt_snap);
        uint32_t zero = 0;
        int fd, r;

        if (l->xt_snaps_fd >= 0 || !l->nf_conf || !l->nf_conf->xt_rules)
                return 0;
        fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "skbt_xt_snap", sizeof(uint32_t),
                            sizeof(struct skbt_xt_snap), SKBT_XT_DEPTH, NULL);
        if (fd < 0) {
                r = -errno;
                snprintf(err, errlen,
                         "iptables rule numbers need a per-CPU map of %zu bytes per CPU, which "
                         "the kernel refused: %s",
                         size, strerror(-r));
                return r;
        }
        if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.xt_snaps), &zero, &fd, BPF_ANY) < 0) {
                r = -errno;
                safe_close(fd);
                snprintf(err, errlen, "iptables rule numbers: cannot install their per-CPU map: %s",
                         strerror(-r));
                return r;
        }
        l->xt_snaps_fd = fd;
        return 0;
}

void skbt_xt_snaps_release(struct skbt_loader *l)
{
        uint32_t zero = 0;

        if (l->xt_snaps_fd < 0)
                return;
        /* The kernel frees the map once no program runs on it any more. */
        (void)bpf_map_delete_elem(bpf_map__fd(l->skel->maps.xt_snaps), &zero);
        l->xt_snaps_fd = safe_close(l->xt_snaps_fd);
}

/*
 * Give each evaluator found a probe "nf:FUNC", attached (entry and return)
 * by the function backend in use.  Nothing here is fatal: without verdicts,
 * tracing goes on.
 */
void skbt_nf_add(struct skbt_loader *l, const struct skbt_loader_opts *opts)
{
        struct nf_found found[ARRAY_SIZE(nf_targets)] = {};
        struct nf_offsets o = {};
        bool nft = false;
        int r;

        if (!skbt_backend_has(l->backend, SKBT_BACKEND_F_FUNCTIONS) || !l->nf_loaded) {
                nf_add_unsupported(l);
                return;
        }
        r = discover(found, &o);
        if (r < 0) {
                log_warning_errno(r, "cannot read kernel BTF for netfilter verdicts (%m), "
                                     "ignoring");
                return;
        }
        *l->nf_conf = o.c;
        /* iptables rule numbers (--nf-rules): this CPU's counters are per CPU with more than
         * one possible CPU (xt_get_this_cpu_counter()). */
        xt_rules_setup(l->nf_conf, o.xt_rules);
        for (size_t i = 0; i < ARRAY_SIZE(nf_targets); i++) {
                const struct nf_target *tg = &nf_targets[i];
                struct nf_found *f = &found[i];
                struct skbt_probe *p;
                char name[64];
                int id;

                if (!f->fn.found)
                        continue;
                snprintf(name, sizeof(name), "nf:%s", tg->func);
                if (!skbt_probe_wanted(opts, name) && !skbt_probe_wanted(opts, tg->func))
                        continue;
                id = skbt_probe_add(l, name, SKBT_PROBE_NETFILTER, f->pos[0], false);
                if (id < 0)
                        return;
                p = &l->probes[id];
                p->backend = l->backend;
                p->btf_id = f->fn.btf_id;
                p->stamp = skbt_nf_stamp((uint32_t)id, tg->engine, f->pos);
                p->target = strdup(tg->func);
                if (!p->target)
                        skbt_probe_fail(l, p, "out of memory");
                else if (nf_usable(l, p, tg, f, &o) && tg->engine == SKBT_NF_NFTABLES)
                        nft = true;
        }
        /* The rule behind an nftables verdict: only with the verdicts. */
        if (nft)
                skbt_nft_rule_add(l);
        else
                snprintf(l->nft_rule_why, sizeof(l->nft_rule_why),
                         "nf:nft_do_chain is not usable here (nf_tables not loaded, or see "
                         "'ipftctl list')");
}
