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

/*
 * True in the object's own program (the template the daemon copies), false in
 * every stamped copy.  The verdict's global functions begin with it: before
 * Linux 6.8 the verifier checks every global function a program carries,
 * called or not, and in a template the body that calls them is dead (its stamp
 * is the marker); this makes theirs dead too, so loading the templates at
 * start-up does not verify them (6.1: 262,025 instructions for the 17
 * templates instead of 576,403).  The daemon stamps every copy of the marker,
 * the functions' included.
 */
static __always_inline bool skbt_in_template(void)
{
        return (__u32)skbt_stamp() == SKBT_PROBE_ID_MARKER;
}
