/* SPDX-License-Identifier: GPL-2.0-only */
/* fields_render.h - custom field values (-F) and packet bytes (pcapng) appended to an event */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ct_render.h"
#include "format.h"
#include "skbt_fields.h"
#include "skbt_record.h"
#include "strbuf.h"

#define SKBT_FIELD_NAME_MAX 64

/* One field a session asked for. */
struct skbt_field_spec {
        char name[SKBT_FIELD_NAME_MAX]; /* as asked, e.g. "gso_size" or "skb->dev->mtu" */
        struct skbt_field f;            /* the chain the BPF side follows */
        uint8_t slot;                   /* its entry in the shared table */
        bool is_signed;                 /* print as a signed number of f.size bytes */
        bool is_ptr;                    /* print in hex */
        bool big_endian;                /* __be16/__be32/__be64: print in host order */
};

struct skbt_session_fields {
        uint32_t n;
        struct skbt_field_spec f[SKBT_FIELDS_PER_SESSION];
};

/*
 * Append the session's fields to the event line just rendered at the end of
 * out (text: " name=value" before the newline; JSON: a "fields" object
 * before the closing brace).  vals: the record's SKBT_FIELDS_MAX values.
 */
void skbt_fields_format(struct strbuf *out, enum skbt_output fmt,
                        const struct skbt_session_fields *sf, const uint64_t *vals);

/*
 * Append a record's sk_buff dump (--dump-skb) to the event just rendered:
 * JSON "skb_dump": "...", with "skb_dump_size": N when it was cut (N the
 * bytes the whole dump needed) or "skb_dump_error": -errno; text a line of
 * its own after the event's, "    skb (struct sk_buff){...}", with " (cut:
 * N of M bytes)" when cut.  Bytes other than printable ASCII are escaped in
 * text as \xHH.
 */
void skbt_dump_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_dump *d);

/*
 * Append the packet bytes of a record to the JSON line just rendered:
 * "packet": {"linktype": 1 (Ethernet) or 101 (raw IP), "orig_len": N,
 * "data": "hex"}, for pcapng output.  Text lines are left as they are.
 */
void skbt_snap_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                      const struct skbt_snap *snap);

/* What a session adds after each event's line from the tails of its record. */
struct skbt_tails {
        const struct skbt_session_fields *fields; /* -F: NULL or none */
        const struct skbt_ct_layout *ct;          /* --ct: NULL for none */
        bool snapshot;                            /* JSON: the packet bytes (pcapng) */
        bool dump;                                /* --dump-skb: the sk_buff, printed */
};

/*
 * The tails of a record (common/skbt_record.h) the session wants, after the
 * line just rendered from it, in one order for every output (lines, aggregate
 * blocks, the daemon's and ipftctl show's): fields, conntrack, packet bytes,
 * the sk_buff dump.
 * rec: the record (struct skbt_event first), size its length.
 */
void skbt_format_tails(struct strbuf *out, enum skbt_output fmt, const struct skbt_tails *t,
                       const void *rec, size_t size);
