/* SPDX-License-Identifier: GPL-2.0-only */
/* fields.c - custom fields (-F): names to BTF offset chains, a shared table */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "fields.h"
#include "macro.h"
#include "util.h"

/* Names people know from ipftrace and the kernel, as paths. */
static const struct {
        const char *name;
        const char *path;
} builtins[] = {
    {"len", "skb->len"},
    {"data_len", "skb->data_len"},
    {"mac_len", "skb->mac_len"},
    {"hdr_len", "skb->hdr_len"},
    {"truesize", "skb->truesize"},
    {"mark", "skb->mark"},
    {"priority", "skb->priority"},
    {"protocol", "skb->protocol"},
    {"pkt_type", "skb->pkt_type"},
    {"ip_summed", "skb->ip_summed"},
    {"cloned", "skb->cloned"},
    {"queue_mapping", "skb->queue_mapping"},
    {"hash", "skb->hash"},
    {"vlan_tci", "skb->vlan_tci"},
    {"sk", "skb->sk"},
    {"dev", "skb->dev"},
    {"mtu", "skb->dev->mtu"},
    {"ifindex", "skb->dev->ifindex"},
    {"iif", "skb->skb_iif"},
    {"gso_size", "shinfo->gso_size"},
    {"gso_segs", "shinfo->gso_segs"},
    {"gso_type", "shinfo->gso_type"},
    {"nr_frags", "shinfo->nr_frags"},
    {"tx_flags", "shinfo->tx_flags"},
};

static unsigned edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        unsigned d[SKBT_FIELD_NAME_MAX + 1];

        if (la > SKBT_FIELD_NAME_MAX || lb > SKBT_FIELD_NAME_MAX)
                return 99;
        for (size_t j = 0; j <= lb; j++)
                d[j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned prev = d[0];

                d[0] = (unsigned)i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cur = d[j];
                        unsigned best = MIN(d[j] + 1, d[j - 1] + 1);

                        d[j] = MIN(best, prev + (a[i - 1] != b[j - 1]));
                        prev = cur;
                }
        }
        return d[lb];
}

/* Suggestions: names close to what was asked (typo, prefix, part of it). */
struct suggest {
        char buf[256];
        size_t len;
        unsigned n;
};

static void suggest_add(struct suggest *sg, const char *want, const char *cand)
{
        size_t lw = strlen(want);

        if (!*cand || sg->n >= 6 || strstr(sg->buf, cand))
                return;
        if (edit_distance(want, cand) > (lw > 4 ? 2u : 1u) &&
            !(lw >= 3 && (strstr(cand, want) || strstr(want, cand))))
                return;
        sg->len += (size_t)snprintf(sg->buf + sg->len, sizeof(sg->buf) - sg->len, "%s%s",
                                    sg->n ? ", " : "", cand);
        if (sg->len >= sizeof(sg->buf))
                sg->len = sizeof(sg->buf) - 1;
        sg->n++;
}

/* Members of a struct or union, anonymous ones flattened, as suggestions. */
static void suggest_members(struct suggest *sg, const struct btf *btf, uint32_t id,
                            const char *want, int depth)
{
        const struct btf_type *t = btf__type_by_id(btf, id);
        const struct btf_member *m;

        if (!t || depth > 8 || (!btf_is_struct(t) && !btf_is_union(t)))
                return;
        m = btf_members(t);
        for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
                const char *n = btf__name_by_offset(btf, m->name_off);

                if (n && *n)
                        suggest_add(sg, want, n);
                else
                        suggest_members(sg, btf,
                                        btf__resolve_type(btf, m->type) < 0
                                            ? m->type
                                            : (uint32_t)btf__resolve_type(btf, m->type),
                                        want, depth + 1);
        }
}

/* Skip typedefs and qualifiers; note whether a typedef says big endian. */
static uint32_t skip_mods(const struct btf *btf, uint32_t id, bool *be)
{
        for (int i = 0; i < 32; i++) {
                const struct btf_type *t = btf__type_by_id(btf, id);

                if (!t)
                        return 0;
                switch (btf_kind(t)) {
                case BTF_KIND_TYPEDEF: {
                        const char *n = btf__name_by_offset(btf, t->name_off);

                        if (be && n && strncmp(n, "__be", 4) == 0)
                                *be = true;
                        id = t->type;
                        break;
                }
                case BTF_KIND_CONST:
                case BTF_KIND_VOLATILE:
                case BTF_KIND_RESTRICT:
                case BTF_KIND_TYPE_TAG:
                        id = t->type;
                        break;
                default:
                        return id;
                }
        }
        return 0;
}

/* Find member name in struct/union id, looking into anonymous members. */
static bool find_member(const struct btf *btf, uint32_t id, const char *name, uint32_t *bit_off,
                        uint32_t *type, uint32_t *bitfield, int depth)
{
        const struct btf_type *t = btf__type_by_id(btf, skip_mods(btf, id, NULL));
        const struct btf_member *m;

        if (!t || depth > 8 || (!btf_is_struct(t) && !btf_is_union(t)))
                return false;
        m = btf_members(t);
        for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
                const char *n = btf__name_by_offset(btf, m->name_off);
                uint32_t off = btf_member_bit_offset(t, i);

                if (n && *n) {
                        if (strcmp(n, name) != 0)
                                continue;
                        *bit_off = off;
                        *type = m->type;
                        *bitfield = btf_member_bitfield_size(t, i);
                        return true;
                }
                if (find_member(btf, m->type, name, bit_off, type, bitfield, depth + 1)) {
                        *bit_off += off;
                        return true;
                }
        }
        return false;
}

int skbt_btf_member_offset(const struct btf *btf, const char *type, const char *member,
                           uint32_t *ret)
{
        int32_t sid = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
        uint32_t bit_off, mtype, bitfield;

        if (sid < 0)
                return -ENOENT;
        if (!find_member(btf, (uint32_t)sid, member, &bit_off, &mtype, &bitfield, 0) || bitfield ||
            bit_off % 8)
                return -ENOENT;
        *ret = bit_off / 8;
        return 0;
}

int skbt_btf_member_path(const struct btf *btf, const char *type, const char *path,
                         uint32_t *ret_off, uint32_t *ret_size)
{
        int32_t sid = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
        uint32_t id, off = 0;
        char buf[128], *save = NULL, *tok;

        if (sid < 0 || strlen(path) >= sizeof(buf))
                return -ENOENT;
        id = (uint32_t)sid;
        snprintf(buf, sizeof(buf), "%s", path);
        for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
                uint32_t bit_off, mtype, bitfield;
                char *br = strchr(tok, '[');
                unsigned long idx = 0;

                if (br) {
                        char *end;

                        *br = '\0';
                        idx = strtoul(br + 1, &end, 10);
                        if (end == br + 1 || strcmp(end, "]") != 0)
                                return -EINVAL;
                }
                if (!find_member(btf, id, tok, &bit_off, &mtype, &bitfield, 0) || bitfield ||
                    bit_off % 8)
                        return -ENOENT;
                off += bit_off / 8;
                id = skip_mods(btf, mtype, NULL);
                if (br) {
                        const struct btf_type *t = btf__type_by_id(btf, id);
                        int64_t esz;

                        if (!t || !btf_is_array(t) || idx >= btf_array(t)->nelems)
                                return -ENOENT;
                        esz = btf__resolve_size(btf, btf_array(t)->type);
                        if (esz < 0)
                                return -ENOENT;
                        off += (uint32_t)(idx * (uint64_t)esz);
                        id = skip_mods(btf, btf_array(t)->type, NULL);
                }
        }
        if (ret_size) {
                int64_t sz = btf__resolve_size(btf, id);

                if (sz < 0)
                        return -ENOENT;
                *ret_size = (uint32_t)sz;
        }
        *ret_off = off;
        return 0;
}

static bool valid_name(const char *s)
{
        if (!*s || strlen(s) >= SKBT_FIELD_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '>' || *s == '.'))
                        return false;
        return true;
}

/* A path being resolved, member by member (skb->dev->mtu, shinfo->gso_size). */
struct path_walk {
        const struct btf *btf;
        const char *shown;              /* the name as asked, for messages */
        const char *p;                  /* what is left of the path */
        char comp[SKBT_FIELD_NAME_MAX]; /* the member at hand */
        uint32_t id;                    /* the struct it is a member of */
        uint32_t hop_bits, n_hops, bitfield;
        bool be;
        struct skbt_field f;
};

static int walk_base(struct path_walk *w, char *err, size_t errlen)
{
        int sid;

        if (strncmp(w->p, "skb->", 5) == 0) {
                sid = btf__find_by_name_kind(w->btf, "sk_buff", BTF_KIND_STRUCT);
                w->f.base = SKBT_FIELD_BASE_SKB;
                w->p += 5;
        } else if (strncmp(w->p, "shinfo->", 8) == 0) {
                sid = btf__find_by_name_kind(w->btf, "skb_shared_info", BTF_KIND_STRUCT);
                w->f.base = SKBT_FIELD_BASE_SHINFO;
                w->p += 8;
        } else {
                return skbt_fail(err, errlen,
                                 "field '%s': a path starts with skb-> or shinfo-> (e.g. "
                                 "skb->dev->mtu, shinfo->gso_size)",
                                 w->shown);
        }
        if (sid < 0)
                return skbt_fail(err, errlen, "field '%s': the kernel's BTF has no such struct",
                                 w->shown);
        w->id = (uint32_t)sid;
        return 0;
}

/* The next member of the struct at hand: its offset is added, its type returned. */
static int walk_member(struct path_walk *w, uint32_t *ret_type, const struct btf_type **ret,
                       char *err, size_t errlen)
{
        size_t n = strcspn(w->p, "-.");
        uint32_t bit_off, mtype, bf;

        if (n == 0 || n >= sizeof(w->comp))
                return skbt_fail(err, errlen, "field '%s': empty or too long member name",
                                 w->shown);
        memcpy(w->comp, w->p, n);
        w->comp[n] = '\0';
        w->p += n;
        if (!find_member(w->btf, w->id, w->comp, &bit_off, &mtype, &bf, 0)) {
                struct suggest sg = {.buf = ""};
                const struct btf_type *st = btf__type_by_id(w->btf, w->id);

                suggest_members(&sg, w->btf, w->id, w->comp, 0);
                return skbt_fail(err, errlen, "field '%s': struct %s has no member '%s'%s%s",
                                 w->shown, st ? btf__name_by_offset(w->btf, st->name_off) : "?",
                                 w->comp, sg.n ? "; close matches: " : "", sg.buf);
        }
        w->hop_bits += bit_off;
        w->bitfield = bf;
        w->be = false;
        *ret_type = skip_mods(w->btf, mtype, &w->be);
        *ret = btf__type_by_id(w->btf, *ret_type);
        if (!*ret)
                return skbt_fail(err, errlen, "field '%s': broken BTF", w->shown);
        return 0;
}

/* The last member: the value, read in 1, 2, 4 or 8 bytes. */
static int walk_value(struct path_walk *w, const struct btf_type *mt, struct skbt_field_spec *ret,
                      char *err, size_t errlen)
{
        uint32_t size, start = w->hop_bits / 8, shift = 0;

        if (btf_is_ptr(mt)) {
                size = 8;
                ret->is_ptr = true;
        } else if (btf_is_int(mt) || btf_is_enum(mt)) {
                size = mt->size;
                ret->is_signed = btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED);
        } else {
                return skbt_fail(err, errlen,
                                 "field '%s': '%s' is not a number or pointer (a struct or "
                                 "array); name one of its members",
                                 w->shown, w->comp);
        }
        if (w->bitfield) {
                shift = w->hop_bits % 8;
                size = (shift + w->bitfield + 7) / 8;
                size = size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8;
        } else if (w->hop_bits % 8) {
                return skbt_fail(err, errlen, "field '%s': not byte aligned", w->shown);
        }
        if (size != 1 && size != 2 && size != 4 && size != 8)
                return skbt_fail(err, errlen, "field '%s': %u-byte values are not supported",
                                 w->shown, size);
        if (w->n_hops >= SKBT_FIELD_HOPS)
                return skbt_fail(err, errlen, "field '%s': more than %d pointers to follow",
                                 w->shown, SKBT_FIELD_HOPS - 1);
        w->f.off[w->n_hops++] = start;
        w->f.n_hops = (uint8_t)w->n_hops;
        w->f.size = (uint8_t)size;
        w->f.bit_shift = (uint8_t)shift;
        w->f.bit_size = (uint8_t)w->bitfield;
        ret->f = w->f;
        ret->big_endian = w->be && !w->bitfield && size > 1;
        return 0;
}

/* Into the member: "." into an embedded struct, "->" through a pointer (a hop). */
static int walk_into(struct path_walk *w, uint32_t mtype, const struct btf_type *mt, char *err,
                     size_t errlen)
{
        if (w->bitfield)
                return skbt_fail(err, errlen, "field '%s': '%s' is a bitfield", w->shown, w->comp);
        if (*w->p == '.') {
                if (!btf_is_struct(mt) && !btf_is_union(mt))
                        return skbt_fail(err, errlen,
                                         "field '%s': '%s' is not a struct: use -> for pointers",
                                         w->shown, w->comp);
                w->id = mtype;
                w->p += 1;
                return 0;
        }
        if (strncmp(w->p, "->", 2) != 0)
                return skbt_fail(err, errlen, "field '%s': expected -> or . after '%s'", w->shown,
                                 w->comp);
        w->p += 2;
        if (!btf_is_ptr(mt))
                return skbt_fail(err, errlen,
                                 "field '%s': '%s' is not a pointer: use . for embedded structs",
                                 w->shown, w->comp);
        w->id = skip_mods(w->btf, mt->type, NULL);
        mt = btf__type_by_id(w->btf, w->id);
        if (!mt || (!btf_is_struct(mt) && !btf_is_union(mt)))
                return skbt_fail(err, errlen, "field '%s': '%s' does not point to a struct",
                                 w->shown, w->comp);
        if (w->hop_bits % 8)
                return skbt_fail(err, errlen, "field '%s': not byte aligned", w->shown);
        if (w->n_hops >= SKBT_FIELD_HOPS - 1)
                return skbt_fail(err, errlen, "field '%s': more than %d pointers to follow",
                                 w->shown, SKBT_FIELD_HOPS - 1);
        w->f.off[w->n_hops++] = w->hop_bits / 8;
        w->hop_bits = 0;
        return 0;
}

static int resolve_path(const struct btf *btf, const char *shown, const char *path,
                        struct skbt_field_spec *ret, char *err, size_t errlen)
{
        struct path_walk w = {.btf = btf, .shown = shown, .p = path};
        const struct btf_type *mt = NULL;
        uint32_t mtype = 0;
        int r;

        r = walk_base(&w, err, errlen);
        while (r >= 0) {
                r = walk_member(&w, &mtype, &mt, err, errlen);
                if (r < 0)
                        break;
                if (*w.p == '\0')
                        return walk_value(&w, mt, ret, err, errlen);
                r = walk_into(&w, mtype, mt, err, errlen);
        }
        return r;
}

int skbt_field_resolve(const struct btf *btf, const char *name, struct skbt_field_spec *ret,
                       char *err, size_t errlen)
{
        char path[SKBT_FIELD_NAME_MAX + 8];
        struct suggest sg = {.buf = ""};
        int sid;

        *ret = (struct skbt_field_spec){0};
        if (!valid_name(name))
                return skbt_fail(err, errlen,
                                 "invalid field name '%.*s': letters, digits, _, -> and . only, "
                                 "shorter than %d bytes",
                                 SKBT_FIELD_NAME_MAX, name, SKBT_FIELD_NAME_MAX);
        snprintf(ret->name, sizeof(ret->name), "%s", name);
        if (!btf)
                return skbt_fail(err, errlen,
                                 "custom fields need the kernel's BTF, which the daemon "
                                 "could not load");
        if (strstr(name, "->") || strchr(name, '.'))
                return resolve_path(btf, name, name, ret, err, errlen);
        for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
                if (strcmp(builtins[i].name, name) == 0)
                        return resolve_path(btf, name, builtins[i].path, ret, err, errlen);
        /* Any other member of struct sk_buff by its name alone. */
        snprintf(path, sizeof(path), "skb->%s", name);
        if (resolve_path(btf, name, path, ret, NULL, 0) == 0)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
                suggest_add(&sg, name, builtins[i].name);
        sid = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
        if (sid >= 0)
                suggest_members(&sg, btf, (uint32_t)sid, name, 0);
        return skbt_fail(
            err, errlen,
            "unknown field '%s'%s%s; fields are built-in names (len, gso_size, mark, ...), "
            "members of struct sk_buff, or paths like skb->dev->mtu and "
            "shinfo->gso_type",
            name, sg.n ? ": close matches: " : "", sg.buf);
}

int skbt_fields_acquire(struct skbt_field_registry *r, struct skbt_field_table *bpf,
                        struct skbt_session_fields *sf)
{
        uint32_t done;

        for (done = 0; done < sf->n; done++) {
                struct skbt_field_spec *fs = &sf->f[done];
                int slot = -1, free_slot = -1;

                for (int i = 0; i < SKBT_FIELDS_MAX; i++) {
                        if (r->refs[i] && memcmp(&r->f[i], &fs->f, sizeof(fs->f)) == 0) {
                                slot = i;
                                break;
                        }
                        if (!r->refs[i] && free_slot < 0)
                                free_slot = i;
                }
                if (slot < 0) {
                        if (free_slot < 0)
                                break;
                        slot = free_slot;
                        r->f[slot] = fs->f;
                        /* The entry is complete before n covers it. */
                        bpf->f[slot] = fs->f;
                        if (bpf->n < (uint32_t)slot + 1)
                                __atomic_store_n(&bpf->n, (uint32_t)slot + 1, __ATOMIC_RELEASE);
                }
                r->refs[slot]++;
                fs->slot = (uint8_t)slot;
        }
        if (done < sf->n) {
                struct skbt_session_fields taken = *sf;

                taken.n = done;
                skbt_fields_release(r, bpf, &taken);
                return -ENOSPC;
        }
        return 0;
}

void skbt_fields_release(struct skbt_field_registry *r, struct skbt_field_table *bpf,
                         struct skbt_session_fields *sf)
{
        uint32_t n = 0;

        for (uint32_t i = 0; i < sf->n; i++) {
                uint8_t slot = sf->f[i].slot;

                if (slot < SKBT_FIELDS_MAX && r->refs[slot] && --r->refs[slot] == 0)
                        r->f[slot] = (struct skbt_field){0};
        }
        /* Unused entries stay as they are (a stale value is never shown); n shrinks. */
        for (uint32_t i = 0; i < SKBT_FIELDS_MAX; i++)
                if (r->refs[i])
                        n = i + 1;
        __atomic_store_n(&bpf->n, n, __ATOMIC_RELEASE);
}
