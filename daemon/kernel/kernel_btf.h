/* SPDX-License-Identifier: GPL-2.0-only */
/* kernel_btf.h - the running kernel's BTF, parsed once and shared */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct btf;
struct btf_type;

/**
 * skbt_kernel_btf() - the BTF of the running kernel (/sys/kernel/btf/vmlinux)
 *
 * Parsed at the first call and shared by everyone who needs it (start-up
 * discovery, the netfilter offsets, custom fields) until
 * skbt_kernel_btf_release().  A failure is logged once and remembered until
 * then too.
 *
 * Return: the BTF (owned here), or NULL with errno set (the first failure's).
 */
struct btf *skbt_kernel_btf(void);

/*
 * Drop it until it is needed again: parsed, it holds ~6 MB (Debian's 6.18
 * kernel) that an idle daemon should not keep.
 */
void skbt_kernel_btf_release(void);

/* Where a function was found in the kernel's BTF (vmlinux or a module). */
struct skbt_btf_func {
        char module[64]; /* "" for vmlinux */
        uint32_t btf_id;
        bool found;
};

/**
 * skbt_btf_func_find() - find a function in one BTF and record where
 * @btf: vmlinux's BTF, or a module's split BTF on top of it
 * @module: the module @btf is of, NULL for vmlinux
 * @name: the function
 * @f: filled in (found, id, module) when @btf has the function; once found,
 *     left alone: in a scan of vmlinux then its modules
 *     (skbt_btf_foreach_module()), the first BTF that has it wins
 *
 * Probes attached to a function in a module need both its id and its module
 * (the module's BTF object to attach to).
 *
 * Return: the function's prototype (BTF_KIND_FUNC_PROTO) when it was found
 * now, NULL when @btf lacks it or @f was found before.
 */
const struct btf_type *skbt_btf_func_find(const struct btf *btf, const char *module,
                                          const char *name, struct skbt_btf_func *f);
