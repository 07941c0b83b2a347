/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_inner.bpf.h - a tunnel's inner packet parsed in a global function, verified once */
#pragma once

#include "skbt_parse.bpf.h"
#include "skbt_cbpf.bpf.h"

/*
 * The inner packet of a tunnel, parsed once per hit (skbt_body.bpf.h
 * skbt_inner()) and by the parse test (parse_test.bpf.c) as the tracing path
 * runs it.  Global, so the verifier checks it once on its own: inlined after
 * the outer parse, it would be verified again for every state the outer parse
 * ends in (1,000,001 instructions, E2BIG).
 */
__noinline int skbt_parse_inner_g(const struct skbt_cbpf_buf *buf, __u32 len,
                                  struct skbt_tunnel *tun)
{
        if (!buf || !tun)
                return 0;
        if (len > SKBT_HDR_BUF)
                len = SKBT_HDR_BUF;
        skbt_parse_inner(buf->b, len, tun);
        return 0;
}
