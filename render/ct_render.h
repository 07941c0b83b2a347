/* SPDX-License-Identifier: GPL-2.0-only */
/* ct_render.h - conntrack (--ct): a record's conntrack entry after an event, as text or JSON */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "skbt_ct.h"
#include "strbuf.h"
/* Offsets into struct nf_conn (and the tuple in it), from kernel or module BTF. */
struct skbt_ct_layout {
        uint32_t len;                 /* bytes the BPF side copies: the end of the last member */
        uint32_t status, status_size; /* unsigned long status (enum ip_conntrack_status bits) */
        uint32_t mark;                /* u32, with has_mark (CONFIG_NF_CONNTRACK_MARK) */
        uint32_t zone;                /* zone.id (u16), with has_zone (CONFIG_NF_CONNTRACK_ZONES) */
        uint32_t tcp_state;           /* proto.tcp.state (u8), with has_tcp_state */
        uint32_t tuple[2];            /* tuplehash[IP_CT_DIR_ORIGINAL / _REPLY].tuple */
        /* Inside struct nf_conntrack_tuple: */
        uint32_t src_u3, src_u, src_l3num, dst_u3, dst_u, dst_protonum;
        bool has_mark, has_zone, has_tcp_state;
};

/*
 * Append the record's conntrack to the event line just rendered at the end
 * of out (text: " ct=STATE ct_status=A,B ..." before the newline; JSON: a
 * "conntrack" object, or null, before the closing brace).
 */
void skbt_ct_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_ct_layout *l,
                    const struct skbt_ct_rec *r);

/* The names the renderer gives (NULL: none; ctinfo always has one), for reading them back. */
const char *skbt_ct_info_name(uint8_t ctinfo);
const char *skbt_ct_status_name(unsigned bit);
const char *skbt_ct_tcp_state_name(uint8_t state);
const char *skbt_ct_proto_name(uint8_t proto);
