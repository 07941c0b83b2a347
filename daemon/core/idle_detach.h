/* SPDX-License-Identifier: GPL-2.0-only */
/* idle_detach.h - hold the tracepoint links only while sessions need them */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct json_object;
struct skbtraced;

/*
 * An idle daemon's programs still run on every hit of the tracepoints they
 * are linked to (only to find no session active), and the kernel's dispatch
 * costs as much as the program.  So the tracepoint links are closed once no
 * session has run for idle_detach_after, and opened again, from the programs
 * kept loaded, when the next session starts.  Function probes (fentry,
 * kprobes, netfilter) stay attached: re-attaching hundreds of functions takes
 * seconds, far past a session start's budget.
 */
struct skbt_idle {
        sd_event_source *timer;  /* the linger after the last session: then detach */
        bool detached;           /* tracepoint links closed: no program runs on them */
        uint64_t detaches;       /* times the links were closed */
        uint64_t attaches;       /* times they were opened again */
        uint64_t last_attach_ns; /* how long the last re-attach took */
        uint32_t last_failed;    /* tracepoints it could not re-attach */
};

/* After the loader attached everything: the linger starts now (a daemon starts idle). */
int skbt_idle_init(struct skbtraced *d);
void skbt_idle_done(struct skbtraced *d);
/* A session is about to go live: the links are there when this returns. */
void skbt_idle_session_starting(struct skbtraced *d);
/* A session ended: with none left, the linger starts. */
void skbt_idle_session_ended(struct skbtraced *d);
/* idle_detach_after changed (SIGHUP): apply it now. */
void skbt_idle_reconfigure(struct skbtraced *d);
/* The "tracepoints" member of io.skbtraced.Status (docs/protocol.md). */
struct json_object *skbt_idle_to_json(struct skbtraced *d);
