/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_record.h - ipftctl trace -w: record a session while showing it as asked */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "recording.h"

struct ctl;
struct trace_opts;

/* -w FILE and its companions (the options of the recording, not of the session). */
struct record_opts {
        const char *path; /* -w FILE; NULL: no recording */
        enum rec_compress compress;
        bool compress_given; /* --compress; else from FILE's extension */
        uint64_t rotate_bytes;
        uint64_t rotate_ns;
        uint32_t keep;
        bool quiet; /* -o none: record, show nothing (saves the rendering) */
};

/* The recording options, as ids of their rows in client/trace_args.c. */
enum {
        REC_OPT_WRITE = 1,
        REC_OPT_COMPRESS,
        REC_OPT_ROTATE_SIZE,
        REC_OPT_ROTATE_AGE,
        REC_OPT_ROTATE_KEEP,
};

/* One recording option (REC_OPT_*); -EINVAL with a message. */
int record_args_option(struct record_opts *r, int c, const char *arg, char *err, size_t errlen);
/* After all options: rotation needs -w, and so on. */
int record_args_check(struct record_opts *r, char *err, size_t errlen);
/* "100M" -> bytes (K, M, G, T: powers of 1024); "10m" -> ns (s, m, h, d; seconds without). */
int record_parse_size(const char *s, uint64_t *ret, char *err, size_t errlen);
int record_parse_age(const char *s, uint64_t *ret, char *err, size_t errlen);
void record_args_usage(FILE *f);

/*
 * The recording of one trace session.  The request asks the daemon for JSON
 * events (record, snapshot: docs/protocol.md); they go to the file as they
 * are, and through client/replay.c to standard output in the format asked.
 */
struct trace_record;

/* Ask the daemon what the header needs (Status, List), create the file, prepare the display. */
int trace_record_new(const struct ctl *ctl, const struct trace_opts *o, int argc, char **argv,
                     json_object *params, struct trace_record **ret);
struct trace_record *trace_record_free(struct trace_record *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct trace_record *, trace_record_free);
/* The session is live: write the header (with the daemon's "started" reply). */
int trace_record_started(struct trace_record *t, json_object *started);
/* Output bytes (whole or partial JSON lines). */
int trace_record_output(struct trace_record *t, const char *data, size_t len);
/* A batch's cumulative loss counters (ring buffer, queue, rate limit, runs the kernel skipped):
 * a loss record when they grew. */
int trace_record_loss(struct trace_record *t, const uint64_t lost[4]);
/* Once in a while (flush the compressed stream, end aggregate blocks whose time is over). */
int trace_record_tick(struct trace_record *t);
/* The summary: written, then the file is closed and the display finished. */
int trace_record_summary(struct trace_record *t, json_object *summary);
/* The session did not start: remove the file. */
void trace_record_abandon(struct trace_record *t);
/* How often trace_record_tick() wants to run, in ms (-1: only with output). */
int trace_record_tick_ms(const struct trace_record *t);
