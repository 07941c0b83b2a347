/* SPDX-License-Identifier: GPL-2.0-only */
/* kernel_btf.h - the running kernel's BTF, parsed once and shared */
#pragma once

struct btf;

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
