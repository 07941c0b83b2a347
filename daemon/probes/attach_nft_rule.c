/* SPDX-License-Identifier: GPL-2.0-only */
/* attach_nft_rule.c - the rule behind an nftables verdict: nftables' trace hook as a probe */
#include <errno.h>
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
 * nft_do_chain() reports the rule that ended each chain walk, the policy,
 * and the rules that continued, to __nft_trace_packet() (bpf/skbt_nf.bpf.h
 * skbt_nft_hook()), whose arguments changed: (info, chain, type) with
 * info->rule on 6.1, (pkt, verdict, rule, info, type) later.  Positions
 * come from BTF by the arguments' types.  The hook runs only while some rule
 * uses "meta nftrace set": sessions that want rules switch it on
 * (daemon/kernel/nft_trace.c) and need the probe attached (on demand, like
 * any probe), so it costs nothing to sessions that do not ask.
 */
#define HOOK "__nft_trace_packet"

enum { ARG_INFO, ARG_RULE, ARG_CHAIN, ARG_TYPE, N_ARGS };

struct hook_found {
        struct skbt_btf_func fn;
        uint8_t pos[N_ARGS]; /* SKBT_NFT_HOOK_NONE: no such argument */
        bool conf;
        struct skbt_nf_conf c; /* the members of nf_conf this needs */
};

/* Name of the struct or enum a parameter is (or points to); NULL otherwise. */
static const char *param_type(const struct btf *btf, uint32_t type, bool *is_enum)
{
        const struct btf_type *t = btf__type_by_id(btf, type);

        *is_enum = false;
        for (int i = 0; t && i < 8; i++) {
                if (btf_is_enum(t)) {
                        *is_enum = true;
                        return btf__name_by_offset(btf, t->name_off);
                }
                if (btf_is_struct(t))
                        return btf__name_by_offset(btf, t->name_off);
                if (!btf_is_ptr(t) && !btf_is_mod(t) && !btf_is_typedef(t))
                        return NULL;
                t = btf__type_by_id(btf, t->type);
        }
        return NULL;
}

/* Bit offset and size of a bitfield member of struct type (direct members only). */
static int bitfield(const struct btf *btf, const char *type, const char *member, uint8_t *shift,
                    uint8_t *bits)
{
        int32_t id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
        const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, (uint32_t)id);
        const struct btf_member *m;

        if (!t)
                return -ENOENT;
        m = btf_members(t);
        for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
                const char *n = btf__name_by_offset(btf, m->name_off);
                uint32_t size = btf_member_bitfield_size(t, i);

                if (!n || strcmp(n, member) != 0)
                        continue;
                /* The header is one u64 of bitfields: positions within it. */
                if (!size || btf_member_bit_offset(t, i) + size > 64)
                        return -EINVAL;
                *shift = (uint8_t)btf_member_bit_offset(t, i);
                *bits = (uint8_t)size;
                return 0;
        }
        return -ENOENT;
}

static void scan_conf(const struct btf *btf, struct hook_found *f)
{
        struct skbt_nf_conf *c = &f->c;
        uint8_t last_bits = 0;
        int64_t sz = -1;
        int32_t id;

        if (f->conf)
                return;
        id = btf__find_by_name_kind(btf, "nft_rule_dp", BTF_KIND_STRUCT);
        if (id >= 0)
                sz = btf__resolve_size(btf, (uint32_t)id);
        if (sz <= 0 || sz > 64 ||
            bitfield(btf, "nft_rule_dp", "is_last", &c->last_shift, &last_bits) || last_bits != 1 ||
            bitfield(btf, "nft_rule_dp", "dlen", &c->dlen_shift, &c->dlen_bits) ||
            bitfield(btf, "nft_rule_dp", "handle", &c->handle_shift, &c->handle_bits) ||
            skbt_btf_member_path(btf, "nft_chain", "blob_gen_0", &c->chain_blob[0], NULL) ||
            skbt_btf_member_path(btf, "nft_chain", "blob_gen_1", &c->chain_blob[1], NULL) ||
            skbt_btf_member_path(btf, "nft_rule_blob", "data", &c->blob_data, NULL))
                return;
        c->rule_hdr = (uint8_t)sz;
        /* A blob's end names its chain since 6.3 (struct nft_rule_dp_last); 6.1 has no such
         * trailer, but its hook is given the chain (hook_why() checks one of the two). */
        if (skbt_btf_member_path(btf, "nft_rule_dp_last", "chain", &c->last_chain, NULL) < 0)
                c->last_chain = 0;
        /* 6.1 passes the rule in the traceinfo. */
        if (skbt_btf_member_path(btf, "nft_traceinfo", "rule", &c->info_rule, NULL) < 0)
                c->info_rule = 0;
        f->conf = true;
}

static void scan(const struct btf *btf, const char *module, struct hook_found *f)
{
        const struct btf_type *proto;
        const struct btf_param *p;

        scan_conf(btf, f);
        proto = skbt_btf_func_find(btf, module, HOOK, &f->fn);
        if (!proto)
                return;
        memset(f->pos, SKBT_NFT_HOOK_NONE, sizeof(f->pos));
        p = btf_params(proto);
        for (uint16_t i = 0; i < btf_vlen(proto) && i < 6; i++) {
                bool is_enum;
                const char *s = param_type(btf, p[i].type, &is_enum);
                int a = !s                                ? -1
                        : is_enum                         ? ARG_TYPE
                        : strcmp(s, "nft_traceinfo") == 0 ? ARG_INFO
                        : strcmp(s, "nft_rule_dp") == 0   ? ARG_RULE
                        : strcmp(s, "nft_chain") == 0     ? ARG_CHAIN
                                                          : -1;

                if (a >= 0 && f->pos[a] == SKBT_NFT_HOOK_NONE)
                        f->pos[a] = (uint8_t)i;
        }
}

static void scan_module(const struct btf *btf, const char *module, void *data)
{
        scan(btf, module, data);
}

/* Why rules cannot be told with what the scan found; "" when they can. */
static void hook_why(const struct hook_found *f, char *why, size_t len)
{
        if (!f->fn.found)
                snprintf(why, len, "%s not found in kernel BTF (nf_tables not loaded?)", HOOK);
        else if (!f->conf)
                snprintf(why, len, "kernel BTF lacks the nf_tables structures rules are read from");
        else if (f->pos[ARG_INFO] == SKBT_NFT_HOOK_NONE || f->pos[ARG_TYPE] == SKBT_NFT_HOOK_NONE ||
                 (f->pos[ARG_RULE] == SKBT_NFT_HOOK_NONE && !f->c.info_rule) ||
                 (f->pos[ARG_CHAIN] == SKBT_NFT_HOOK_NONE && !f->c.last_chain))
                snprintf(why, len, "unexpected prototype of %s in BTF", HOOK);
        else
                why[0] = '\0';
}

/* What the programs read to tell the rule (skbt_nf.bpf.h skbt_nft_rule_resolve()). */
static void set_conf(struct skbt_nf_conf *c, const struct skbt_nf_conf *f)
{
        c->info_rule = f->info_rule;
        c->last_chain = f->last_chain;
        c->chain_blob[0] = f->chain_blob[0];
        c->chain_blob[1] = f->chain_blob[1];
        c->blob_data = f->blob_data;
        c->rule_hdr = f->rule_hdr;
        c->dlen_shift = f->dlen_shift;
        c->dlen_bits = f->dlen_bits;
        c->handle_shift = f->handle_shift;
        c->handle_bits = f->handle_bits;
        c->last_shift = f->last_shift;
        c->rules = 1;
}

/*
 * Register nftables' trace hook as a helper probe "nf:__nft_trace_packet" of
 * the function backend in use (backend_fentry.c, backend_kprobe.c load and
 * attach it): attached while an --nf-rules session runs, detached after the
 * linger like any probe.  Its stamp or cookie carries the arguments'
 * positions in the high half.  Only with nf:nft_do_chain usable: the hook
 * adds to its verdicts.
 */
void skbt_nft_rule_add(struct skbt_loader *l)
{
        struct hook_found f = {.pos = {0}};
        const struct btf *vmlinux = skbt_kernel_btf();
        struct skbt_probe *p;
        uint64_t hi = 0;
        char why[SKBT_WHY_MAX];
        int id, obj_fd = 0;

        if (!vmlinux) {
                snprintf(l->nft_rule_why, sizeof(l->nft_rule_why), "no kernel BTF");
                return;
        }
        scan(vmlinux, NULL, &f);
        skbt_btf_foreach_module(vmlinux, "nf_tables", scan_module, &f);
        hook_why(&f, why, sizeof(why));
        if (!why[0] && f.fn.module[0] &&
            skbt_backend_has(l->backend, SKBT_BACKEND_F_PROG_PER_PROBE) &&
            (obj_fd = skbt_module_btf_fd(l, f.fn.module)) < 0)
                snprintf(why, sizeof(why), "module %s has no BTF object to attach to", f.fn.module);
        if (why[0]) {
                snprintf(l->nft_rule_why, sizeof(l->nft_rule_why), "%s", why);
                log_info("nftables rules not available: %s", why);
                return;
        }
        id = skbt_probe_add(l, "nf:" HOOK, SKBT_PROBE_NETFILTER, 0, false);
        if (id < 0) {
                snprintf(l->nft_rule_why, sizeof(l->nft_rule_why), "probe table full");
                return;
        }
        p = &l->probes[id];
        p->helper = true;
        p->backend = l->backend;
        p->btf_id = f.fn.btf_id;
        p->btf_obj_fd = obj_fd;
        for (int i = 0; i < N_ARGS; i++)
                hi |= (uint64_t)(f.pos[i] & 0xf) << (4 * i);
        p->stamp = (uint64_t)id | hi << 32;
        p->target = strdup(HOOK);
        if (!p->target) {
                skbt_probe_fail(l, p, "out of memory");
                snprintf(l->nft_rule_why, sizeof(l->nft_rule_why), "out of memory");
                return;
        }
        set_conf(l->nf_conf, &f.c);
        l->nft_hook_id = (uint32_t)id;
        l->nft_rule_why[0] = '\0';
        log_info("nftables rules: %s registered (argument positions %u %u %u %u), attached while "
                 "an nf_rules session runs",
                 HOOK, f.pos[0], f.pos[1], f.pos[2], f.pos[3]);
}
