/* SPDX-License-Identifier: GPL-2.0-only */
/* fields.h - custom fields (-F): names to BTF offset chains, a shared table */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields_render.h"

struct btf;

/* Byte offset of member (found in anonymous members too) of struct type; -ENOENT if none
 * or a bitfield. */
int skbt_btf_member_offset(const struct btf *btf, const char *type, const char *member,
                           uint32_t *ret);

/*
 * Byte offset (and size, if ret_size) of a member path in struct type:
 * "tuplehash[1].tuple.src.u3", members separated by '.', an array element by
 * [N]; anonymous members are looked into.  -ENOENT if a member is missing or
 * a bitfield, -EINVAL for a malformed path.
 */
int skbt_btf_member_path(const struct btf *btf, const char *type, const char *path,
                         uint32_t *ret_off, uint32_t *ret_size);

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
