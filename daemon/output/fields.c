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

static int resolve_path(const struct btf *btf, const char *shown, const char *path,
                        struct skbt_field_spec *ret, char *err, size_t errlen)
{
        char comp[SKBT_FIELD_NAME_MAX];
        const char *p = path;
        uint32_t id, hop_bits = 0, n_hops = 0, bitfield = 0;
        int sid;
        bool be = false;
        struct skbt_field f = {0};

        if (strncmp(p, "skb->", 5) == 0) {
                sid = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
                f.base = SKBT_FIELD_BASE_SKB;
                p += 5;
        } else if (strncmp(p, "shinfo->", 8) == 0) {
                sid = btf__find_by_name_kind(btf, "skb_shared_info", BTF_KIND_STRUCT);
                f.base = SKBT_FIELD_BASE_SHINFO;
                p += 8;
        } else {
                return skbt_fail(err, errlen,
                                 "field '%s': a path starts with skb-> or shinfo-> (e.g. "
                                 "skb->dev->mtu, shinfo->gso_size)",
                                 shown);
        }
        if (sid < 0)
                return skbt_fail(err, errlen, "field '%s': the kernel's BTF has no such struct",
                                 shown);
        id = (uint32_t)sid;
        for (;;) {
                size_t n = strcspn(p, "-.");
                const struct btf_type *mt;
                uint32_t bit_off, mtype, bf;
                char sep;

                if (n == 0 || n >= sizeof(comp))
                        return skbt_fail(err, errlen, "field '%s': empty or too long member name",
                                         shown);
                memcpy(comp, p, n);
                comp[n] = '\0';
                p += n;
                if (!find_member(btf, id, comp, &bit_off, &mtype, &bf, 0)) {
                        struct suggest sg = {.buf = ""};
                        const struct btf_type *st = btf__type_by_id(btf, id);

                        suggest_members(&sg, btf, id, comp, 0);
                        return skbt_fail(err, errlen,
                                         "field '%s': struct %s has no member '%s'%s%s", shown,
                                         st ? btf__name_by_offset(btf, st->name_off) : "?", comp,
                                         sg.n ? "; close matches: " : "", sg.buf);
                }
                hop_bits += bit_off;
                bitfield = bf;
                be = false;
                mtype = skip_mods(btf, mtype, &be);
                mt = btf__type_by_id(btf, mtype);
                if (!mt)
                        return skbt_fail(err, errlen, "field '%s': broken BTF", shown);
                if (*p == '\0') {
                        /* The value. */
                        uint32_t size, start = hop_bits / 8, shift = 0;

                        if (btf_is_ptr(mt)) {
                                size = 8;
                                ret->is_ptr = true;
                        } else if (btf_is_int(mt)) {
                                size = mt->size;
                                ret->is_signed = btf_int_encoding(mt) & BTF_INT_SIGNED;
                        } else if (btf_is_enum(mt)) {
                                size = mt->size;
                        } else {
                                return skbt_fail(err, errlen,
                                                 "field '%s': '%s' is not a number or pointer (a "
                                                 "struct or array); name one of its members",
                                                 shown, comp);
                        }
                        if (bitfield) {
                                shift = hop_bits % 8;
                                size = (shift + bitfield + 7) / 8;
                                size = size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8;
                        } else if (hop_bits % 8) {
                                return skbt_fail(err, errlen, "field '%s': not byte aligned",
                                                 shown);
                        }
                        if (size != 1 && size != 2 && size != 4 && size != 8)
                                return skbt_fail(err, errlen,
                                                 "field '%s': %u-byte values are not "
                                                 "supported",
                                                 shown, size);
                        if (n_hops >= SKBT_FIELD_HOPS)
                                return skbt_fail(err, errlen,
                                                 "field '%s': more than %d pointers to follow",
                                                 shown, SKBT_FIELD_HOPS - 1);
                        f.off[n_hops++] = start;
                        f.n_hops = (uint8_t)n_hops;
                        f.size = (uint8_t)size;
                        f.bit_shift = (uint8_t)shift;
                        f.bit_size = (uint8_t)bitfield;
                        ret->f = f;
                        ret->big_endian = be && !bitfield && size > 1;
                        return 0;
                }
                if (bitfield)
                        return skbt_fail(err, errlen, "field '%s': '%s' is a bitfield", shown,
                                         comp);
                sep = *p;
                if (sep == '.') {
                        if (!btf_is_struct(mt) && !btf_is_union(mt))
                                return skbt_fail(err, errlen,
                                                 "field '%s': '%s' is not a struct: use -> for "
                                                 "pointers",
                                                 shown, comp);
                        id = mtype;
                        p += 1;
                        continue;
                }
                if (strncmp(p, "->", 2) != 0)
                        return skbt_fail(err, errlen, "field '%s': expected -> or . after '%s'",
                                         shown, comp);
                p += 2;
                if (!btf_is_ptr(mt))
                        return skbt_fail(err, errlen,
                                         "field '%s': '%s' is not a pointer: use . for embedded "
                                         "structs",
                                         shown, comp);
                id = skip_mods(btf, mt->type, NULL);
                mt = btf__type_by_id(btf, id);
                if (!mt || (!btf_is_struct(mt) && !btf_is_union(mt)))
                        return skbt_fail(err, errlen, "field '%s': '%s' does not point to a struct",
                                         shown, comp);
                if (hop_bits % 8)
                        return skbt_fail(err, errlen, "field '%s': not byte aligned", shown);
                if (n_hops >= SKBT_FIELD_HOPS - 1)
                        return skbt_fail(err, errlen, "field '%s': more than %d pointers to follow",
                                         shown, SKBT_FIELD_HOPS - 1);
                f.off[n_hops++] = hop_bits / 8;
                hop_bits = 0;
        }
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
