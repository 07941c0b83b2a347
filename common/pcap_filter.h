/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_filter.h - pcap filters: compiled by the client, checked by the daemon */
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
 * Runs in the client (ipftctl), in the user's own context: host and port
 * names in the expression are resolved there.
 *
 * Return: 0, -EINVAL for an expression we cannot run (message in @err).
 */
int skbt_pcap_compile(const char *expr, struct skbt_cbpf_prog *ret, char *err, size_t errlen);

/*
 * The daemon never compiles an expression (pcap_compile resolves host, port
 * and network names, which blocked its event loop for as long as a resolver
 * took): the client compiles in its own context and sends the program as
 * "pcap_program", and the daemon checks every instruction (cbpf.c, no
 * libpcap).  Text form: tcpdump -ddd's, lines joined by commas
 * ("N,CODE JT JF K,...", as iptables' xt_bpf --bytecode).
 */
#define SKBT_CBPF_TEXT_MAX (12 + SKBT_CBPF_MAX_INSNS * 24)

/* What the interpreter runs: 1..SKBT_CBPF_MAX_INSNS instructions of the opcodes it knows,
 * jumps forward and inside, scratch indexes in range, no packet-length or ancillary loads,
 * a return at the end.  0 or -EINVAL with the reason in err. */
int skbt_cbpf_check(const struct skbt_cbpf_prog *prog, char *err, size_t errlen);
/* Parse (strictly: decimal numbers, single blanks and commas) and check. */
int skbt_cbpf_parse(const char *text, struct skbt_cbpf_prog *ret, char *err, size_t errlen);
/* The text form of prog into buf; -ENOBUFS when it does not fit. */
int skbt_cbpf_format(const struct skbt_cbpf_prog *prog, char *buf, size_t len);
