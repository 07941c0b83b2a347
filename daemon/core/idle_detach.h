/* SPDX-License-Identifier: GPL-2.0-only */
/* idle_detach.h - attach probes while sessions need them, detach them after a linger */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct json_object;
struct skbt_attacher;
struct skbt_coverage;
struct skbt_demand;
struct skbt_regex;
struct skbtraced;

/*
 * Every attached probe costs every packet that passes it (the kernel's
 * dispatch as much as the program), session or not.  So probes are attached
 * when a session needs them and detached once nothing has needed them for
 * idle_detach_after, plus an operator's keep_attached set; an idle daemon runs
 * nothing on the packet path.  The work happens in the attach worker
 * (probes/attacher.h); this glues it to the event loop: the worker's
 * completions go to probes/demand.h and then to the sessions (progress), and a
 * timer detaches what lingered.  Programs stay loaded once loaded.
 */
struct skbt_idle {
        struct skbt_attacher *attacher;
        struct skbt_demand *demand;
        sd_event_source *io;    /* the worker finished something */
        sd_event_source *timer; /* the next linger to run out */
        struct skbt_regex *keep_re;
        bool keep_all;
        /* Told which session slots' coverage changed when the worker attached something:
         * the sessions' skbt_sessions_coverage(), set by the manager, so that attaching
         * calls no session code (the layers call downwards only). */
        void (*coverage_changed)(struct skbtraced *d, uint64_t slots);
};

/* After the loader registered the probes: start the worker and apply the config. */
int skbt_idle_init(struct skbtraced *d);
void skbt_idle_done(struct skbtraced *d);
/* Session slot needs need[] attached and hears sel[] (demand.h). */
const struct skbt_coverage *skbt_idle_session_start(struct skbtraced *d, uint32_t slot,
                                                    const uint8_t *need, const uint8_t *sel);
/* The coverage of slot's session (demand.h). */
const struct skbt_coverage *skbt_idle_coverage(struct skbtraced *d, uint32_t slot);
/* The session in slot ended: its probes linger. */
void skbt_idle_session_end(struct skbtraced *d, uint32_t slot);
/* idle_detach_after or keep_attached changed (SIGHUP): apply them now. */
void skbt_idle_reconfigure(struct skbtraced *d);
/* Status members (docs/protocol.md): "attach" (every probe) and "tracepoints". */
struct json_object *skbt_idle_to_json(struct skbtraced *d);
struct json_object *skbt_idle_tracepoints_json(struct skbtraced *d);
/* Nothing linked, nothing being attached. */
bool skbt_idle_is_idle(struct skbtraced *d);
