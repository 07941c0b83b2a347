/* SPDX-License-Identifier: GPL-2.0-only */
/* track_agg.h - aggregate output: one block per packet journey, printed when it ends */
#pragma once

#include <stdint.h>

#include "format.h"

struct skbt_agg;

/*
 * Limits per session: the events of a packet are held until its life ends.
 * A packet past a limit is printed early with a marker saying so, and its
 * later events start a new block marked as continued: nothing is dropped.
 */
#define SKBT_AGG_MAX_OPEN 4096                /* packets held at once */
#define SKBT_AGG_MAX_EVENTS 512               /* events held for one packet */
#define SKBT_AGG_MAX_BYTES (16u << 20)        /* event memory held */
#define SKBT_AGG_LINGER_NS (200 * 1000000ULL) /* after the last free: late clones join */
#define SKBT_AGG_IDLE_NS (2000 * 1000000ULL)  /* no event and no free seen: print anyway */

/*
 * Called after each event's line or object is rendered into a block, before
 * its stack lines: the session adds what it knows of the record (custom
 * fields).  fmt is SKBT_OUTPUT_TEXT or SKBT_OUTPUT_JSON, size the record's.
 */
typedef void (*skbt_agg_event_hook)(struct strbuf *out, enum skbt_output fmt,
                                    const struct skbt_event *ev, size_t size, void *data);

/**
 * skbt_agg_new() - aggregate output for one session
 * @fmt: SKBT_OUTPUT_AGGREGATE (text blocks) or SKBT_OUTPUT_AGGREGATE_JSON (one object each)
 * @opts: the session's format options (detail, stack; track is implied)
 * @egress_probe: a block ends after this probe's event; UINT32_MAX for none
 * @hook: NULL, or called for each event rendered (with @hook_data)
 * @ret: the aggregator
 */
int skbt_agg_new(enum skbt_output fmt, const struct skbt_format_opts *opts, uint32_t egress_probe,
                 skbt_agg_event_hook hook, void *hook_data, struct skbt_agg **ret);
struct skbt_agg *skbt_agg_free(struct skbt_agg *a);
/* The egress probe, once known (a recording read back names it by its first event). */
void skbt_agg_set_egress(struct skbt_agg *a, uint32_t egress_probe);

/*
 * Add one event (size: the record's, stack frames included).  Blocks that
 * end with it (egress, limits) are rendered into out at once.  now_ns:
 * CLOCK_MONOTONIC, for the linger and idle timers.
 */
void skbt_agg_add(struct skbt_agg *a, struct strbuf *out, const struct skbt_event *ev, size_t size,
                  const struct skbt_names *names, uint64_t now_ns);
/* Render the blocks whose linger or idle time is over. */
void skbt_agg_tick(struct skbt_agg *a, struct strbuf *out, const struct skbt_names *names,
                   uint64_t now_ns);
/* Render every block still held (session end). */
void skbt_agg_flush_all(struct skbt_agg *a, struct strbuf *out, const struct skbt_names *names);
/* Blocks held and the memory their events take. */
uint32_t skbt_agg_open(const struct skbt_agg *a);
size_t skbt_agg_bytes(const struct skbt_agg *a);
