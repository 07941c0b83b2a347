/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_filter.h - compile tcpdump filter expressions for the BPF interpreter */
#pragma once

#include <stddef.h>

#include "skbt_cbpf.h"

/* Longest expression accepted (bytes). */
#define SKBT_PCAP_EXPR_MAX 1024

/**
 * skbt_pcap_compile() - compile a pcap-filter(7) expression for a session
 * @expr: the expression, e.g. "tcp port 80 and host 10.0.0.1"
 * @ret: the classic BPF program, as bpf/skbt_cbpf.bpf.h runs it
 * @err: on failure, a one-line message saying what to change
 * @errlen: size of @err
 *
 * Compiles for Ethernet (libpcap, DLT_EN10MB, optimised) and checks that the
 * program fits SKBT_CBPF_MAX_INSNS and uses only what the interpreter runs:
 * no packet length loads (len, greater, less), no Linux ancillary loads, no
 * backward jumps.
 *
 * Return: 0, -EINVAL for an expression we cannot run (message in @err).
 */
int skbt_pcap_compile(const char *expr, struct skbt_cbpf_prog *ret, char *err, size_t errlen);
