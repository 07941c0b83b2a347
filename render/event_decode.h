/* SPDX-License-Identifier: GPL-2.0-only */
/* event_decode.h - JSON events (as the daemon renders them) back into the records renderers take */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_render.h"
#include "fields_render.h"
#include "format.h"
#include "skbt_record.h"

/*
 * A recording holds events in the JSON the daemon sent (docs/output.md).
 * To render it again as text, aggregate blocks, function_graph lines,
 * crossings or pcapng with the daemon's own renderers (render/), each JSON
 * event is turned back into the binary record it was rendered from: a
 * struct skbt_event with its tails (stack, field values, packet bytes;
 * common/skbt_record.h).  Names the daemon looked up (probe, group, drop
 * reason, symbols) are interned here and served through struct skbt_names,
 * so rendering the record gives the same bytes as the live session did: the
 * round-trip test (tests/unit/test_event_decode.c) checks exactly that for
 * random records, and fails when a member is added to the output without
 * being decoded here.
 *
 * What JSON does not carry and no output shows (the tuple's L2 flag, the
 * ICMP id of a non-echo message, UDP-Lite ports) is not restored; filters on
 * recorded events see what JSON has.
 */

/* Limits of what one decoder interns (recordings are files anyone may hand us). */
#define SKBT_DECODE_MAX_NAMES (1u << 20) /* distinct probe, reason and symbol names */
#define SKBT_DECODE_NAME_MAX 512         /* bytes of one name (KSYM_NAME_LEN) */

struct skbt_decoder;

struct skbt_decoded {
        union {
                struct skbt_event ev;
                uint8_t bytes[SKBT_REC_BIG];
        } rec;
        size_t size;       /* of the record: sizeof(struct skbt_event) + its tails */
        bool nf_explains;  /* a drop with the verdict that caused it (format opts nf) */
        struct skbt_nf nf; /* that verdict's table and chain */
        uint32_t nf_verdict;
        bool has_depth; /* function_graph: "depth" was given (recomputed when rendering) */
};

int skbt_decoder_new(struct skbt_decoder **ret);
struct skbt_decoder *skbt_decoder_free(struct skbt_decoder *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_decoder *, skbt_decoder_free);

/* The names decoded records refer to; valid until the next decode (it may grow them). */
const struct skbt_names *skbt_decoder_names(struct skbt_decoder *d);
/* The custom fields seen so far, in the order the events gave them. */
const struct skbt_session_fields *skbt_decoder_fields(const struct skbt_decoder *d);
/* The conntrack layout the decoded entries use; NULL while no event had one (--ct). */
const struct skbt_ct_layout *skbt_decoder_ct_layout(const struct skbt_decoder *d);
/* The probe id a name has (interned now if new): for --egress. */
int skbt_decoder_probe_id(struct skbt_decoder *d, const char *name, uint32_t *ret);

/**
 * skbt_decode_event() - one JSON event object back into its record
 * @d: the decoder (names interned so far)
 * @json: the object, without its newline
 * @len: its length
 * @ret: the record
 * @err: on failure, what is wrong and at which byte of @json
 * @errlen: size of @err
 *
 * Members the decoder does not know are skipped (newer daemons add some).
 * Return: 0, -EINVAL (malformed: message in @err), -E2BIG (a limit above),
 * -ENOMEM.
 */
int skbt_decode_event(struct skbt_decoder *d, const char *json, size_t len,
                      struct skbt_decoded *ret, char *err, size_t errlen);
