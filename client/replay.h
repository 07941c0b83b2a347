/* SPDX-License-Identifier: GPL-2.0-only */
/* replay.h - render JSON events (a recording, or a recorded session live) with the daemon's
 * renderers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "skbt_abi.h"

struct skbt_regex;

/*
 * ipftctl show, and ipftctl trace -w for what it shows while recording: each
 * JSON event is decoded back into its record (render/event_decode.h) and
 * rendered by the code the daemon renders live sessions with (render/), or
 * for crossings and pcapng by the client's own converters from the JSON the
 * daemon would have sent.
 */
enum replay_format {
        REPLAY_TEXT = 0,
        REPLAY_JSON,
        REPLAY_AGGREGATE,
        REPLAY_AGGREGATE_JSON,
        REPLAY_CROSSINGS,
        REPLAY_PCAPNG,
};

int replay_format_from_string(const char *s, enum replay_format *ret);
const char *replay_format_to_string(enum replay_format f);

#define REPLAY_IDS_MAX 64

/* What ipftctl show selects; all given members must match (AND). */
struct replay_filter {
        /* Packet members (5-tuple, mark, netns, pid) as the BPF filter takes them, evaluated
         * by the same code (bpf/skbt_filter.bpf.h).  An event with a track id whose journey
         * matched before passes too, as with --track live. */
        struct skbt_filter packet;
        char ifname[16];           /* the device by its recorded name; "" for any */
        struct skbt_regex *probes; /* probe names; NULL: all */
        uint64_t track_ids[REPLAY_IDS_MAX];
        unsigned n_track_ids;
        uint64_t packet_ids[REPLAY_IDS_MAX];
        unsigned n_packet_ids;
        uint64_t from_ns, to_ns; /* event timestamps (CLOCK_MONOTONIC); 0: open */
};

struct replay_opts {
        enum replay_format format;
        struct skbt_format_opts fmt;        /* track (the events carry track ids), detail, stack */
        bool graph;                         /* tracer function_graph: calls nested per packet */
        const char *egress;                 /* aggregate: a block ends at this probe; NULL: none */
        int64_t mono_to_real_ns;            /* pcapng: event time to wall-clock time */
        int fd;                             /* where the output goes */
        const struct replay_filter *filter; /* NULL: every event */
};

struct replay;

int replay_new(const struct replay_opts *o, struct replay **ret);
struct replay *replay_free(struct replay *r);

/*
 * One JSON event (without its newline).  -EBADMSG: it is not an event, message
 * in err; write errors pass through (-EPIPE).  Output is written in batches:
 * call replay_flush() when the input pauses.
 */
int replay_event(struct replay *r, const char *line, size_t len, char *err, size_t errlen);
/* Bytes of complete or partial lines, as the daemon sends them; errors are logged. */
int replay_feed(struct replay *r, const char *data, size_t len);
/* Aggregate output: print blocks whose linger or idle time is over at now_ns (CLOCK_MONOTONIC,
 * live), then write what is pending. */
int replay_tick(struct replay *r, uint64_t now_ns);
int replay_flush(struct replay *r);
/* The end: blocks still open are printed, everything is written. */
int replay_finish(struct replay *r);
/* Events rendered (that passed the filter); events read. */
uint64_t replay_shown(const struct replay *r);
uint64_t replay_read(const struct replay *r);
