/* SPDX-License-Identifier: GPL-2.0-only */
/* nft_trace.h - switch on nftables' trace hook (the rule behind a verdict) without touching rules
 */
#pragma once

#include <stddef.h>

/**
 * skbt_nft_trace_hold() - make nf_tables call its trace hook at every rule
 * @ret_fd: a descriptor that keeps it so; skbt_nft_trace_release() ends it
 * @err: on failure, a message saying why and what would help
 *
 * nft_do_chain() tells which rule decided only through __nft_trace_packet(),
 * which it calls only while the static key nft_trace_enabled is on, and the
 * key is on while some rule anywhere uses "meta nftrace set".  So this makes
 * a network namespace of its own (nobody's traffic goes through it), adds
 * there a table "skbtraced" with such a rule in a chain no hook calls, and
 * keeps the namespace alive with the netlink socket that did it.  Closing
 * the socket frees the namespace, its table and the key's reference, also
 * when the daemon dies.  The packets' own nftrace bits are not touched: no
 * trace messages are sent, the hook returns at once, we only see it called.
 *
 * Return: 0, or a negative errno (-EPERM without CAP_SYS_ADMIN/CAP_NET_ADMIN,
 * -EPROTONOSUPPORT without nf_tables).
 */
int skbt_nft_trace_hold(int *ret_fd, char *err, size_t errlen);
/* Release what skbt_nft_trace_hold() holds (fd < 0: nothing).  Returns -1. */
int skbt_nft_trace_release(int fd);
