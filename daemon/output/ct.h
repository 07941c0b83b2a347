/* SPDX-License-Identifier: GPL-2.0-only */
/* ct.h - conntrack (--ct): where the members of struct nf_conn are, from kernel or module BTF */
#pragma once

#include <stddef.h>

#include "ct_render.h"

struct btf;

/**
 * skbt_ct_layout_resolve() - find struct nf_conn in kernel or module BTF
 * @vmlinux: kernel BTF; modules (nf_conntrack) are looked into when it lacks the struct
 * @ret: the offsets
 * @err: on failure, a message for the client saying what to do
 *
 * Return: 0; -ENOENT when no BTF has the struct (conntrack not loaded), -E2BIG
 * when what is needed lies beyond SKBT_CT_RAW_MAX bytes, -EINVAL when the
 * struct lacks a member every kernel has had (a changed layout).
 */
int skbt_ct_layout_resolve(const struct btf *vmlinux, struct skbt_ct_layout *ret, char *err,
                           size_t errlen);
/* The same on one BTF object (a test's); -ENOENT when it has no struct nf_conn. */
int skbt_ct_layout_from_btf(const struct btf *btf, struct skbt_ct_layout *ret, char *err,
                            size_t errlen);
