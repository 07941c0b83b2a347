/* SPDX-License-Identifier: GPL-2.0-only */
/* demand.c - attach on demand: the probes sessions need, an operator's keep-set, detach after a
 * linger */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attacher.h"
#include "demand.h"
#include "live.h"
#include "loader-internal.h"
#include "log.h"
#include "skbt_regex.h"

struct skbt_demand {
        struct skbt_loader *l;
        struct skbt_attacher *a;
        uint64_t *need;       /* per probe: sessions that need it attached */
        uint64_t *want;       /* per probe: sessions that hear it (a subset of need) */
        uint64_t *idle_since; /* per probe: when it stopped being needed (CLOCK_MONOTONIC ns) */
        bool *keep;           /* per probe: in the keep-set */
        bool *queued;         /* per probe: sent to the worker, not back yet */
        uint32_t n_queued;
        uint32_t n_detaching; /* links handed to the worker to detach, not done yet */
        int64_t linger_usec;  /* < 0: never detach */
        struct skbt_coverage cov[SKBT_MAX_SESSIONS];
        struct skbt_demand_stats stats;
        char last_why[160]; /* the attach failure logged last (log_failures()) */
};

int skbt_demand_new(struct skbt_loader *l, struct skbt_attacher *a, struct skbt_demand **ret)
{
        struct skbt_demand *dm = calloc(1, sizeof(*dm));
        size_t n = SKBT_MAX_PROBES;

        if (!dm)
                return -ENOMEM;
        dm->l = l;
        dm->a = a;
        dm->need = calloc(n, sizeof(*dm->need));
        dm->want = calloc(n, sizeof(*dm->want));
        dm->idle_since = calloc(n, sizeof(*dm->idle_since));
        dm->keep = calloc(n, sizeof(*dm->keep));
        dm->queued = calloc(n, sizeof(*dm->queued));
        if (!dm->need || !dm->want || !dm->idle_since || !dm->keep || !dm->queued) {
                skbt_demand_free(dm);
                return -ENOMEM;
        }
        dm->linger_usec = -1;
        *ret = dm;
        return 0;
}

struct skbt_demand *skbt_demand_free(struct skbt_demand *dm)
{
        if (!dm)
                return NULL;
        free(dm->need);
        free(dm->want);
        free(dm->idle_since);
        free(dm->keep);
        free(dm->queued);
        free(dm);
        return NULL;
}

static bool usable(const struct skbt_probe *p)
{
        return p->backend < _SKBT_BACKEND_MAX && p->attached;
}

/*
 * The order the worker attaches in: what delivers first, first.  A loaded
 * tracepoint attaches in a fraction of a millisecond and carries much of a
 * packet's story.  A tracepoint not loaded yet costs a program load of its
 * own (the whole body, verified), while a batching backend (kprobe-multi)
 * covers all its function entries with one load per skb position: right
 * after start-up, before the background loads are done, those functions come
 * first (a first session's 1,616 functions waited for 34 tracepoint loads,
 * docs/performance.md "Program loads").  On the backends that load a program
 * per function (fentry) or attach one at a time (kprobe), the tracepoints
 * stay first.  Then the netfilter evaluators and traced BPF programs, and the
 * returns (which add to entries already seen).
 */
static int attach_rank(const struct skbt_loader *l, const struct skbt_probe *p)
{
        if (p->kind == SKBT_PROBE_TRACEPOINT)
                return p->loaded || !skbt_backend_has(l->backend, SKBT_BACKEND_F_BATCH) ? 0 : 2;
        if (p->kind == SKBT_PROBE_FUNCTION && !p->is_return)
                return 1;
        return p->kind == SKBT_PROBE_NETFILTER || p->kind == SKBT_PROBE_BPF ? 3 : 4;
}

/* One probe's place in the attach order (skbt_demand_order()). */
struct order_key {
        uint64_t events;
        uint32_t id;
        uint8_t rank;
        bool load; /* its own program must be loaded first */
        bool grouped;
};

static int order_cmp(const void *a, const void *b)
{
        const struct order_key *x = a, *y = b;

        if (x->rank != y->rank)
                return x->rank < y->rank ? -1 : 1;
        if (x->load != y->load)
                return x->load ? 1 : -1;
        if (x->events != y->events)
                return x->events > y->events ? -1 : 1;
        if (x->grouped != y->grouped)
                return x->grouped ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

/*
 * Within a rank, a session's first event waits until the worker reaches a
 * probe its traffic crosses: on fentry and kprobe, which attach one function
 * at a time, the order decides it (in probe id order, that is by name, the
 * first events after an idle detach came 200-800 ms after the session asked,
 * docs/performance.md "Attach order: a session's first event after the
 * linger").  So, with no cost on the packet path: (1) probes whose program is
 * loaded before those that need a load (fentry: a link is milliseconds, a
 * load half a second under TCG); (2) the probes that delivered the most
 * records so far (the event loop counts them as it decodes them): what fired
 * on this host's traffic before most likely fires first again; (3) the probes
 * a probe group names (data/groups.conf: the common paths, for a daemon with
 * no history yet); (4) the rest by id.  Nothing is left out: only when each
 * goes changes.
 */
int skbt_demand_order(const struct skbt_loader *l, uint32_t *ids, uint32_t n)
{
        _cleanup_free_ struct order_key *k = calloc(n ? n : 1, sizeof(*k));

        if (!k)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                const struct skbt_probe *p = &l->probes[ids[i]];

                k[i] = (struct order_key){
                    .events = p->events,
                    .id = ids[i],
                    .rank = (uint8_t)attach_rank(l, p),
                    .load =
                        skbt_backend_has(p->backend, SKBT_BACKEND_F_PROG_PER_PROBE) && !p->loaded,
                    .grouped = p->grouped,
                };
        }
        qsort(k, n, sizeof(*k), order_cmp);
        for (uint32_t i = 0; i < n; i++)
                ids[i] = k[i].id;
        return 0;
}

/* Tell the worker whether probe i's queued attach still serves anyone. */
static void sync_unwanted(struct skbt_demand *dm, uint32_t i)
{
        skbt_attacher_set_unwanted(dm->a, i, dm->queued[i] && !dm->need[i] && !dm->keep[i]);
}

/* Send the probes marked in mark[] (and not yet queued) to the worker, in skbt_demand_order(). */
static void queue_marked(struct skbt_demand *dm, const uint8_t *mark)
{
        struct skbt_loader *l = dm->l;
        _cleanup_free_ uint32_t *ids = calloc(l->n_probes ? l->n_probes : 1, sizeof(*ids));
        uint32_t n = 0;
        int r;

        if (!ids) {
                log_warning("out of memory queueing probes to attach, ignoring");
                return;
        }
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (mark[i] && !dm->queued[i])
                        ids[n++] = i;
        if (n == 0)
                return;
        /* Out of memory for the order: they go by id, all of them still. */
        if (skbt_demand_order(l, ids, n) < 0)
                log_warning("out of memory ordering probes to attach, ignoring");
        r = skbt_attacher_attach(dm->a, ids, n);
        if (r < 0) {
                log_warning_errno(r, "cannot queue %u probes to attach (%m), ignoring", n);
                return;
        }
        for (uint32_t i = 0; i < n; i++) {
                dm->queued[ids[i]] = true;
                sync_unwanted(dm, ids[i]);
        }
        dm->n_queued += n;
        dm->stats.attach_jobs++;
}

const struct skbt_coverage *skbt_demand_session_start(struct skbt_demand *dm, uint32_t slot,
                                                      const uint8_t *need, const uint8_t *sel,
                                                      uint64_t now_ns)
{
        struct skbt_loader *l = dm->l;
        struct skbt_coverage *cov = &dm->cov[slot];
        _cleanup_free_ uint8_t *mark = calloc(l->n_probes ? l->n_probes : 1, 1);
        uint64_t bit = 1ULL << slot;

        *cov = (struct skbt_coverage){
            .active = true, .start_ns = now_ns, .first_failed = SKBT_NO_PROBE};
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (!need[i])
                        continue;
                dm->need[i] |= bit;
                if (sel[i])
                        dm->want[i] |= bit;
                dm->idle_since[i] = 0;
                if (dm->queued[i])
                        sync_unwanted(dm, i);
                cov->total++;
                if (p->link) {
                        cov->live++;
                        if (sel[i])
                                skbt_live_probe_add(l, i, bit);
                } else if (!usable(p)) {
                        cov->failed++;
                        if (cov->first_failed == SKBT_NO_PROBE)
                                cov->first_failed = i;
                } else if (mark) {
                        mark[i] = 1;
                }
        }
        if (mark)
                queue_marked(dm, mark);
        else
                log_warning("out of memory queueing probes to attach, ignoring");
        if (skbt_coverage_settled(cov))
                cov->full_ns = now_ns;
        return cov;
}

void skbt_demand_session_end(struct skbt_demand *dm, uint32_t slot, uint64_t now_ns)
{
        struct skbt_loader *l = dm->l;
        uint64_t bit = 1ULL << slot;

        for (uint32_t i = 0; i < l->n_probes; i++) {
                if (!(dm->need[i] & bit))
                        continue;
                dm->need[i] &= ~bit;
                dm->want[i] &= ~bit;
                skbt_live_probe_remove(l, i, bit);
                /* Queued for it and for no one else: the worker drops it. */
                if (dm->queued[i])
                        sync_unwanted(dm, i);
                if (!dm->need[i] && !dm->keep[i])
                        dm->idle_since[i] = now_ns;
        }
        dm->cov[slot] = (struct skbt_coverage){0};
}

const struct skbt_coverage *skbt_demand_coverage(const struct skbt_demand *dm, uint32_t slot)
{
        return slot < SKBT_MAX_SESSIONS ? &dm->cov[slot] : NULL;
}

/* Every slot in mask: probe id is live now, or failed. */
static void account(struct skbt_demand *dm, uint64_t mask, uint32_t id, bool live)
{
        while (mask) {
                uint32_t slot = (uint32_t)__builtin_ctzll(mask);
                struct skbt_coverage *cov = &dm->cov[slot];

                mask &= mask - 1;
                if (!cov->active)
                        continue;
                if (live) {
                        cov->live++;
                        continue;
                }
                cov->failed++;
                if (cov->first_failed == SKBT_NO_PROBE)
                        cov->first_failed = id;
        }
}

/*
 * Probes of an attach job that could not be attached: said in the log at
 * warning level (the reason is the operator's to act on), once per new reason,
 * not once per probe: a backend may refuse hundreds for the same one.
 */
static void log_failures(struct skbt_demand *dm, const struct skbt_job_done *d, uint32_t ok)
{
        const struct skbt_probe *first = NULL;

        for (uint32_t k = 0; k < d->n && !first; k++)
                if (!dm->l->probes[d->ids[k]].link)
                        first = &dm->l->probes[d->ids[k]];
        if (!first || !first->error || strcmp(first->error, dm->last_why) == 0)
                return;
        snprintf(dm->last_why, sizeof(dm->last_why), "%s", first->error);
        log_warning("%u of %u probes could not be attached, %s%s among them: %s (every probe and "
                    "its reason: ipftctl list)",
                    d->n - ok, d->n, first->name, first->is_return ? " (return)" : "",
                    first->error);
}

/*
 * Probes the worker dropped from an attach job because no session needed them
 * any more when their turn came.  One that a session or the keep-set wants
 * again since then is queued again.
 */
static void dispatch_skipped(struct skbt_demand *dm, const struct skbt_job_done *d)
{
        struct skbt_loader *l = dm->l;
        _cleanup_free_ uint8_t *mark = NULL;
        bool again = false;

        for (uint32_t k = d->n; k < d->n + d->n_skipped; k++) {
                uint32_t i = d->ids[k];

                if (dm->queued[i]) {
                        dm->queued[i] = false;
                        dm->n_queued--;
                }
                skbt_attacher_set_unwanted(dm->a, i, false);
                dm->stats.cancelled++;
                if (!dm->need[i] && !dm->keep[i])
                        continue;
                if (!mark)
                        mark = calloc(l->n_probes ? l->n_probes : 1, 1);
                if (mark) {
                        mark[i] = 1;
                        again = true;
                }
        }
        if (again)
                queue_marked(dm, mark);
}

static uint64_t dispatch_attach(struct skbt_demand *dm, struct skbt_job_done *d, uint64_t now_ns)
{
        struct skbt_loader *l = dm->l;
        uint64_t changed = 0;
        uint32_t ok;

        ok = skbt_backend_apply(l, d->ids, d->n, d->links, d->why);
        dm->stats.attach_ns += d->ns;
        dm->stats.last_attach_ns = d->ns;
        log_debug("attached %u of %u probes in %.2f ms (the worker's time, loads included)", ok,
                  d->n, (double)d->ns / 1e6);
        if (ok < d->n)
                log_failures(dm, d, ok);
        for (uint32_t k = 0; k < d->n; k++) {
                uint32_t i = d->ids[k];

                if (dm->queued[i]) {
                        dm->queued[i] = false;
                        dm->n_queued--;
                }
                changed |= dm->need[i];
                account(dm, dm->need[i], i, l->probes[i].link != NULL);
                if (!l->probes[i].link)
                        continue;
                dm->stats.attached++;
                /* Sessions hear it from now on. */
                skbt_live_probe_add(l, i, dm->want[i]);
                if (!dm->need[i] && !dm->keep[i])
                        dm->idle_since[i] = now_ns;
        }
        return changed;
}

/* Background loads: loaded now, or the probe cannot be attached (listed with why). */
static void dispatch_preload(struct skbt_demand *dm, struct skbt_job_done *d)
{
        for (uint32_t k = 0; k < d->n; k++) {
                struct skbt_probe *p = &dm->l->probes[d->ids[k]];

                if (!d->why[k][0])
                        p->loaded = true;
                else if (!dm->queued[d->ids[k]] && !p->link)
                        skbt_probe_fail(dm->l, p, "%s", d->why[k]);
        }
}

uint64_t skbt_demand_dispatch(struct skbt_demand *dm, uint64_t now_ns)
{
        struct skbt_job_done *d = skbt_attacher_take(dm->a), *next;
        uint64_t changed = 0;

        if (!d)
                return 0;
        for (; d; d = next) {
                next = d->next;
                if (d->type == SKBT_JOB_ATTACH) {
                        changed |= dispatch_attach(dm, d, now_ns);
                        dispatch_skipped(dm, d);
                } else if (d->type == SKBT_JOB_PRELOAD)
                        dispatch_preload(dm, d);
                else {
                        dm->stats.detach_ns += d->ns;
                        if (dm->n_detaching)
                                dm->n_detaching--;
                }
                skbt_job_done_free(d);
        }
        for (uint64_t m = changed; m;) {
                uint32_t slot = (uint32_t)__builtin_ctzll(m);
                struct skbt_coverage *cov = &dm->cov[slot];

                m &= m - 1;
                if (cov->active && !cov->full_ns && skbt_coverage_settled(cov))
                        cov->full_ns = now_ns;
        }
        skbt_loader_recount(dm->l);
        if (skbt_demand_idle(dm))
                dm->stats.last_idle_ns = now_ns;
        return changed;
}

/* When link k may go (its probes' latest linger end), or 0 if one of them is needed. */
static uint64_t link_deadline(struct skbt_demand *dm, const struct skbt_link *k, uint64_t now_ns)
{
        uint64_t latest = 0;

        for (uint32_t j = 0; j < k->n; j++) {
                uint32_t i = k->ids[j];

                if (dm->need[i] || dm->keep[i] || dm->queued[i])
                        return 0;
                /* Unneeded since it attached (for nobody): its linger starts now. */
                if (!dm->idle_since[i])
                        dm->idle_since[i] = now_ns;
                latest = MAX(latest, dm->idle_since[i]);
        }
        return latest + (uint64_t)dm->linger_usec * 1000ULL;
}

uint64_t skbt_demand_expire(struct skbt_demand *dm, uint64_t now_ns)
{
        struct skbt_loader *l = dm->l;
        struct skbt_link *k, *next;
        uint64_t next_ns = 0;
        bool detached = false;

        if (dm->linger_usec < 0)
                return 0;
        for (k = l->links; k; k = next) {
                uint64_t deadline = link_deadline(dm, k, now_ns);

                next = k->next;
                if (!deadline)
                        continue;
                if (deadline > now_ns) {
                        next_ns = next_ns ? MIN(next_ns, deadline) : deadline;
                        continue;
                }
                skbt_backend_unlink(l, k);
                dm->stats.detached_links++;
                dm->stats.detached += k->n;
                detached = true;
                if (skbt_attacher_detach(dm->a, k) < 0)
                        /* Out of memory for the job: detach here rather than keep it. */
                        skbt_link_free(k);
                else
                        dm->n_detaching++;
        }
        if (detached) {
                log_debug("detaching %" PRIu64 " probes in %" PRIu64 " links so far: nothing "
                          "needed them for %.3f s",
                          dm->stats.detached, dm->stats.detached_links,
                          (double)dm->linger_usec / 1e6);
                skbt_loader_recount(l);
                if (skbt_demand_idle(dm))
                        dm->stats.last_idle_ns = now_ns;
        }
        return next_ns;
}

void skbt_demand_set_linger(struct skbt_demand *dm, int64_t linger_usec, uint64_t now_ns)
{
        (void)now_ns;
        dm->linger_usec = linger_usec;
}

void skbt_demand_set_keep(struct skbt_demand *dm, struct skbt_regex *keep, bool all,
                          uint64_t now_ns)
{
        struct skbt_loader *l = dm->l;
        _cleanup_free_ uint8_t *mark = calloc(l->n_probes ? l->n_probes : 1, 1);

        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];
                /* Return probes cost as much as entries and serve only function_graph and
                 * --track sessions: those attach them when they run. */
                bool k = usable(p) && !p->is_return &&
                         (all || (keep && skbt_regex_match(keep, p->name) == 1));

                if (k == dm->keep[i])
                        continue;
                dm->keep[i] = k;
                if (dm->queued[i])
                        sync_unwanted(dm, i);
                if (k && !p->link && mark)
                        mark[i] = 1;
                else if (!k && !dm->need[i])
                        dm->idle_since[i] = now_ns;
        }
        if (mark)
                queue_marked(dm, mark);
}

void skbt_demand_counts(const struct skbt_demand *dm, struct skbt_demand_counts *ret)
{
        const struct skbt_loader *l = dm->l;

        *ret = (struct skbt_demand_counts){.pending = dm->n_queued};
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                ret->kept += dm->keep[i];
                if (!p->link)
                        continue;
                ret->linked++;
                if (p->kind == SKBT_PROBE_TRACEPOINT)
                        ret->linked_tracepoints++;
                else if (p->kind == SKBT_PROBE_NETFILTER)
                        ret->linked_netfilter++;
                else if (p->is_return)
                        ret->linked_returns++;
                else
                        ret->linked_functions++;
        }
        for (const struct skbt_link *k = l->links; k; k = k->next)
                ret->links++;
}

const struct skbt_demand_stats *skbt_demand_stats(const struct skbt_demand *dm)
{
        return &dm->stats;
}

bool skbt_demand_idle(const struct skbt_demand *dm)
{
        return !dm->l->links && dm->n_queued == 0 && dm->n_detaching == 0;
}
