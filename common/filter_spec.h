/* SPDX-License-Identifier: GPL-2.0-only */
/* filter_spec.h - parse and validate session filters (CLI strings and wire JSON) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "skbt_abi.h"

/*
 * Every parser returns 0 on success or -EINVAL with a one-line message in
 * err (what was wrong and what is accepted), e.g.
 *   "invalid port '70000': expected a number from 0 to 65535".
 * Both ipftctl (to fail early, without the daemon) and skbtraced (which must
 * not trust its clients) use these, so the messages are the same everywhere.
 */

#define SKBT_ERR_MAX 256

/* "icmp", "icmp6" (alias "ipv6-icmp"), "tcp", "udp", "sctp", or 0..255. */
int skbt_parse_proto(const char *s, uint8_t *ret, char *err, size_t errlen);
/* The wire form of a protocol: "icmp", "tcp", ... or the number in decimal (in buf). */
const char *skbt_proto_wire_name(uint8_t proto, char *buf, size_t len);
/* Name for a protocol number ("ICMP", "TCP", ... upper case), NULL if unnamed. */
const char *skbt_proto_name(uint8_t proto);
/* IPv4 or IPv6 address with optional /PREFIX; host bits must be zero is NOT
 * required: they are cleared ("10.0.0.1/24" means 10.0.0.0/24). */
int skbt_parse_prefix(const char *s, struct skbt_prefix *ret, char *err, size_t errlen);
/* Format a prefix as "10.0.0.0/24" (or without "/N" when it is a full-length host). */
void skbt_format_prefix(const struct skbt_prefix *p, char *buf, size_t len);
/* Decimal 0..65535. */
int skbt_parse_port(const char *s, uint16_t *ret, char *err, size_t errlen);
/* Decimal or 0x-hex unsigned 32-bit number, strict (no sign, no trailing junk). */
int skbt_parse_u32(const char *what, const char *s, uint32_t *ret, char *err, size_t errlen);
/* "VALUE" or "VALUE/MASK"; *has_mask tells whether a mask was given. */
int skbt_parse_mark(const char *s, uint32_t *mark, uint32_t *mask, bool *has_mask, char *err,
                    size_t errlen);

/* A network interface name as the kernel accepts it (dev_valid_name()). */
bool skbt_ifname_valid(const char *s);
/* Check s and copy it, NUL-padded, to ret. */
int skbt_parse_ifname(const char *s, char ret[static 16], char *err, size_t errlen);

/* Cross-field checks on a filter built from parts, e.g. -4 with an IPv6
 * address, icmp6 with -4, ports with a protocol that has none. */
int skbt_filter_validate(const struct skbt_filter *f, char *err, size_t errlen);

/* Human summary for logs and session lists: "proto icmp and addr 10.0.0.1";
 * "all packets" for an empty filter. */
void skbt_filter_describe(const struct skbt_filter *f, char *buf, size_t len);
