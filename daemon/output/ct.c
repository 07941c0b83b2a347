/* SPDX-License-Identifier: GPL-2.0-only */
/* ct.c - conntrack (--ct): where the members of struct nf_conn are, from kernel or module BTF */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "ct.h"
#include "fields.h"
#include "symdb.h"

static int path(const struct btf *btf, const char *type, const char *p, uint32_t *off,
                uint32_t *size, uint32_t *end)
{
        uint32_t sz = 0;
        int r = skbt_btf_member_path(btf, type, p, off, &sz);

        if (r < 0)
                return r;
        if (size)
                *size = sz;
        if (end && *off + sz > *end)
                *end = *off + sz;
        return 0;
}

int skbt_ct_layout_from_btf(const struct btf *btf, struct skbt_ct_layout *l, char *err,
                            size_t errlen)
{
        static const char *const tuple_paths[2] = {"tuplehash[0].tuple", "tuplehash[1].tuple"};
        uint32_t end = 0, tsize = 0, sz = 0;

        if (btf__find_by_name_kind(btf, "nf_conn", BTF_KIND_STRUCT) < 0)
                return -ENOENT;
        memset(l, 0, sizeof(*l));
        if (path(btf, "nf_conn", "status", &l->status, &l->status_size, &end) < 0 ||
            (l->status_size != 4 && l->status_size != 8))
                goto changed;
        for (int i = 0; i < 2; i++) {
                if (path(btf, "nf_conn", tuple_paths[i], &l->tuple[i], &tsize, NULL) < 0)
                        goto changed;
                if (l->tuple[i] + tsize > end)
                        end = l->tuple[i] + tsize;
        }
        if (path(btf, "nf_conntrack_tuple", "src.u3", &l->src_u3, &sz, NULL) < 0 || sz != 16 ||
            path(btf, "nf_conntrack_tuple", "src.u", &l->src_u, NULL, NULL) < 0 ||
            path(btf, "nf_conntrack_tuple", "src.l3num", &l->src_l3num, NULL, NULL) < 0 ||
            path(btf, "nf_conntrack_tuple", "dst.u3", &l->dst_u3, NULL, NULL) < 0 ||
            path(btf, "nf_conntrack_tuple", "dst.u", &l->dst_u, NULL, NULL) < 0 ||
            path(btf, "nf_conntrack_tuple", "dst.protonum", &l->dst_protonum, NULL, NULL) < 0)
                goto changed;
        /* Members that depend on the kernel's configuration. */
        l->has_mark = path(btf, "nf_conn", "mark", &l->mark, &sz, &end) == 0 && sz == 4;
        l->has_zone = path(btf, "nf_conn", "zone.id", &l->zone, &sz, &end) == 0 && sz == 2;
        l->has_tcp_state =
            path(btf, "nf_conn", "proto.tcp.state", &l->tcp_state, &sz, &end) == 0 && sz == 1;
        if (end > SKBT_CT_RAW_MAX) {
                snprintf(err, errlen,
                         "this kernel's struct nf_conn needs %u bytes copied, more than the %d "
                         "skbtraced copies (a kernel with lock debugging?)",
                         end, SKBT_CT_RAW_MAX);
                return -E2BIG;
        }
        l->len = end;
        return 0;
changed:
        snprintf(err, errlen,
                 "kernel BTF has a struct nf_conn without the members skbtraced reads "
                 "(status, tuplehash[].tuple with src/dst): a layout this version does not know");
        return -EINVAL;
}

struct ct_scan {
        struct skbt_ct_layout *l;
        char *err;
        size_t errlen;
        int r;
};

static void scan_module(const struct btf *btf, const char *module, void *data)
{
        struct ct_scan *c = data;

        (void)module;
        if (c->r != -ENOENT)
                return;
        c->r = skbt_ct_layout_from_btf(btf, c->l, c->err, c->errlen);
}

int skbt_ct_layout_resolve(const struct btf *vmlinux, struct skbt_ct_layout *ret, char *err,
                           size_t errlen)
{
        struct ct_scan c = {ret, err, errlen, -ENOENT};

        c.r = skbt_ct_layout_from_btf(vmlinux, ret, err, errlen);
        /* nf_conntrack, or a module using it (nf_nat, ...): each carries the struct. */
        if (c.r == -ENOENT)
                skbt_btf_foreach_module(vmlinux, "nf_", scan_module, &c);
        if (c.r == -ENOENT)
                snprintf(err, errlen,
                         "no conntrack in this kernel: its BTF has no struct nf_conn (conntrack "
                         "is not built in and the nf_conntrack module is not loaded; it loads "
                         "with the first rule or tool that uses it, e.g. 'conntrack -L')");
        return c.r;
}
