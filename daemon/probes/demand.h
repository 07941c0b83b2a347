/* SPDX-License-Identifier: GPL-2.0-only */
/* demand.h - attach on demand: the probes sessions need, an operator's keep-set, detach after a
 * linger */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "skbt_abi.h"

struct skbt_attacher;
struct skbt_loader;
struct skbt_regex;

/*
 * Every attached probe costs every packet that passes it, session or not, so
 * what is attached is the union of what running sessions need plus the
 * operator's keep-set (keep_attached); a probe nothing needs is detached once
 * it has been unneeded for the linger (idle_detach_after).  Links that carry
 * several probes (kprobe-multi) go when none of their probes is needed.
 * Attaching and detaching happen in the attach worker (attacher.h); the event
 * loop only records who needs what and, as probes go live, sets the sessions'
 * bits in the programs' per-probe masks (live.h).  Programs stay loaded once
 * loaded: attaching again is only a link.
 */

/* A session's view: how much of what it needs is attached. */
struct skbt_coverage {
        bool active;       /* a session holds this slot */
        uint32_t total;    /* probes it needs attached */
        uint32_t live;     /* of which attached now */
        uint32_t failed;   /* of which could not be attached */
        uint64_t start_ns; /* when it asked */
        uint64_t full_ns;  /* when the last one was settled (attached or failed), 0: not yet */
        bool reported;     /* full_ns has been told to the session */
        /* The first of them that could not be attached (its error says why), UINT32_MAX: none.
         * Sessions show it, so that an operator sees why without the daemon's log. */
        uint32_t first_failed;
};

static inline bool skbt_coverage_settled(const struct skbt_coverage *c)
{
        return c->live + c->failed >= c->total;
}

struct skbt_demand_stats {
        uint64_t attach_jobs;    /* attach requests sent to the worker */
        uint64_t attached;       /* probes attached, over the daemon's life */
        uint64_t detached_links; /* links detached after their linger */
        uint64_t detached;       /* probes in them */
        uint64_t cancelled;      /* queued attaches dropped: no session needed them any more */
        uint64_t attach_ns;      /* time the worker spent attaching (loads included) */
        uint64_t detach_ns;      /* time it spent detaching */
        uint64_t last_idle_ns;   /* when the daemon last became idle: nothing linked */
        uint64_t last_attach_ns; /* how long the worker's last attach chunk took */
};

struct skbt_demand;

/*
 * Sort probe ids ids[0..n) into the order the worker attaches them in: the
 * likeliest to deliver a session's first event first (demand.c says why).
 * Reads only the probes' table.  Returns 0, or -ENOMEM with ids unchanged.
 */
int skbt_demand_order(const struct skbt_loader *l, uint32_t *ids, uint32_t n);

/* linger_usec < 0: never detach.  keep: probes kept attached (NULL: none; "all" and "none" are
 * given as keep_all). */
int skbt_demand_new(struct skbt_loader *l, struct skbt_attacher *a, struct skbt_demand **ret);
struct skbt_demand *skbt_demand_free(struct skbt_demand *dm);

/*
 * Session slot needs the probes need[i] != 0 attached, and hears those with
 * sel[i] != 0 (sel is a subset of need; the others serve it indirectly, e.g.
 * the free and copy probes of --track).  What is attached now delivers at
 * once; the rest is queued for the worker.  Returns the slot's coverage.
 */
const struct skbt_coverage *skbt_demand_session_start(struct skbt_demand *dm, uint32_t slot,
                                                      const uint8_t *need, const uint8_t *sel,
                                                      uint64_t now_ns);
/* The session in slot ended: what it alone needed starts its linger. */
void skbt_demand_session_end(struct skbt_demand *dm, uint32_t slot, uint64_t now_ns);
const struct skbt_coverage *skbt_demand_coverage(const struct skbt_demand *dm, uint32_t slot);

/*
 * Take what the worker finished: record each probe's link or error, deliver
 * newly attached probes to the sessions that want them, account coverage.
 * Returns the slots whose coverage changed.
 */
uint64_t skbt_demand_dispatch(struct skbt_demand *dm, uint64_t now_ns);
/*
 * Detach the links whose probes have all been unneeded for the linger.
 * Returns when to call again (CLOCK_MONOTONIC ns), 0 if nothing lingers.
 */
uint64_t skbt_demand_expire(struct skbt_demand *dm, uint64_t now_ns);

/* The linger (idle_detach_after, usec; < 0: never) and the keep-set: applied at once. */
void skbt_demand_set_linger(struct skbt_demand *dm, int64_t linger_usec, uint64_t now_ns);
/* keep: a regex over probe names, or NULL; all: keep every usable probe. */
void skbt_demand_set_keep(struct skbt_demand *dm, struct skbt_regex *keep, bool all,
                          uint64_t now_ns);

/* Probes linked now, of each kind, and probes waiting for the worker. */
struct skbt_demand_counts {
        uint32_t linked, linked_functions, linked_returns, linked_tracepoints, linked_netfilter;
        uint32_t kept;    /* in the keep-set */
        uint32_t pending; /* queued or being attached */
        uint32_t links;   /* kernel links held */
};
void skbt_demand_counts(const struct skbt_demand *dm, struct skbt_demand_counts *ret);
const struct skbt_demand_stats *skbt_demand_stats(const struct skbt_demand *dm);
/* Whether nothing is linked, being attached or being detached: no program runs on the packet
 * path. */
bool skbt_demand_idle(const struct skbt_demand *dm);
