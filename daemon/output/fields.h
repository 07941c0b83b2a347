/* SPDX-License-Identifier: GPL-2.0-only */
/* fields.h - custom fields (-F): names to BTF offset chains, a shared table, rendering */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "skbt_fields.h"
#include "skbt_record.h"
#include "strbuf.h"

struct btf;

#define SKBT_FIELD_NAME_MAX 64

/* One field a session asked for. */
struct skbt_field_spec {
        char name[SKBT_FIELD_NAME_MAX]; /* as asked, e.g. "gso_size" or "skb->dev->mtu" */
        struct skbt_field f;            /* the chain the BPF side follows */
        uint8_t slot;                   /* its entry in the shared table */
        bool is_signed;                 /* print as a signed number of f.size bytes */
        bool is_ptr;                    /* print in hex */
        bool big_endian;                /* __be16/__be32/__be64: print in host order */
};

struct skbt_session_fields {
        uint32_t n;
        struct skbt_field_spec f[SKBT_FIELDS_PER_SESSION];
};

/* Byte offset of member (found in anonymous members too) of struct type; -ENOENT if none
 * or a bitfield. */
int skbt_btf_member_offset(const struct btf *btf, const char *type, const char *member,
                           uint32_t *ret);

/* The table the BPF programs read, with a reference count per entry (daemon side). */
struct skbt_field_registry {
        struct skbt_field f[SKBT_FIELDS_MAX];
        uint32_t refs[SKBT_FIELDS_MAX];
};

/**
 * skbt_field_resolve() - resolve a field name through kernel BTF
 * @btf: kernel (vmlinux) BTF
 * @name: a built-in name (len, gso_size, mark, ...), a member of struct sk_buff
 *        ("tstamp"), or a path from skb or shinfo with -> (pointer) and . (embedded
 *        struct), e.g. "skb->dev->mtu", "shinfo->gso_type"
 * @ret: filled (slot is left 0)
 * @err: on failure, a message; unknown names list close matches
 * @errlen: size of @err
 *
 * Return: 0, -EINVAL (message in @err).
 */
int skbt_field_resolve(const struct btf *btf, const char *name, struct skbt_field_spec *ret,
                       char *err, size_t errlen);

/*
 * Give each of a session's fields a slot in the shared table, writing new
 * entries to the BPF table (bpf) before the session goes live.  -ENOSPC when
 * the table has no room: all references taken here are dropped again.
 */
int skbt_fields_acquire(struct skbt_field_registry *r, struct skbt_field_table *bpf,
                        struct skbt_session_fields *sf);
void skbt_fields_release(struct skbt_field_registry *r, struct skbt_field_table *bpf,
                         struct skbt_session_fields *sf);

/*
 * Append the session's fields to the event line just rendered at the end of
 * out (text: " name=value" before the newline; JSON: a "fields" object
 * before the closing brace).  vals: the record's SKBT_FIELDS_MAX values.
 */
void skbt_fields_format(struct strbuf *out, enum skbt_output fmt,
                        const struct skbt_session_fields *sf, const uint64_t *vals);

/*
 * Append the packet bytes of a record to the JSON line just rendered:
 * "packet": {"linktype": 1 (Ethernet) or 101 (raw IP), "orig_len": N,
 * "data": "hex"}, for pcapng output.  Text lines are left as they are.
 */
void skbt_snap_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                      const struct skbt_snap *snap);
