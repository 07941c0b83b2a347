/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_probe_id.bpf.h - which probe fired: stamped immediate or attach cookie */
#pragma once

#include "skbt_abi.h"

/*
 * Programs that are attached to one probe each (tracepoints, fentry, and
 * kprobes on kernels without cookies) are loaded once per probe from the
 * template's final instructions, with this ld_imm64 immediate rewritten to
 * the probe id by the daemon (daemon/probes/stamped.c, skbt_stamp_probe_id()).
 * The inline asm keeps clang from folding the constant away, so the marker
 * appears exactly once per template.  This works on every kernel, unlike
 * raw_tp attach cookies (6.10+) or fentry cookies (6.6+).
 */
static __always_inline __u64 skbt_stamp(void)
{
        __u64 v;

        asm volatile("%[v] = 0x5eb7ab1e ll" : [v] "=r"(v));
        return v;
}

static __always_inline __u32 skbt_stamped_probe_id(void)
{
        return (__u32)skbt_stamp();
}
