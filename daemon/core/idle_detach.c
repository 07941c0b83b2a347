/* SPDX-License-Identifier: GPL-2.0-only */
/* idle_detach.c - attach probes while sessions need them, detach them after a linger */
#include <errno.h>
#include <malloc.h>

#include <json-c/json.h>

#include "attacher.h"
#include "backend.h"
#include "demand.h"
#include "idle_detach.h"
#include "log.h"
#include "skbt_regex.h"
#include "skbtraced.h"
#include "util.h"

/* Timer slack: the linger is a matter of seconds, a few milliseconds more do not matter. */
#define IDLE_TIMER_ACCURACY_USEC 1000ULL

/* Arm the timer for the next linger to run out (0: none). */
static void arm(struct skbtraced *d, uint64_t next_ns)
{
        int r;

        if (!d->idle.timer)
                return;
        if (!next_ns) {
                (void)sd_event_source_set_enabled(d->idle.timer, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(d->idle.timer, next_ns / 1000);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->idle.timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "cannot arm the idle detach timer (%m); probes stay "
                                     "attached, ignoring");
}

/* Detach what lingered long enough; the timer waits for the next one. */
static void expire(struct skbtraced *d)
{
        bool was_idle = skbt_demand_idle(d->idle.demand);

        arm(d, skbt_demand_expire(d->idle.demand, skbt_now_ns()));
        if (!was_idle && skbt_demand_idle(d->idle.demand)) {
                log_debug("no session needs a probe for %.3f s: every probe detached (their "
                          "programs stay loaded)",
                          (double)d->opt.cfg.idle_detach_usec / 1e6);
                /* What the sessions and the loads in the attach worker freed goes back
                 * to the kernel: glibc keeps freed heap (and other arenas') pages. */
                malloc_trim(0);
        }
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
        expire(userdata);
        return 0;
}

static int on_worker(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbtraced *d = userdata;
        uint64_t changed = skbt_demand_dispatch(d->idle.demand, skbt_now_ns());

        if (changed && d->idle.coverage_changed)
                d->idle.coverage_changed(d, changed);
        /* Probes attached for nobody (their session ended meanwhile) start to linger. */
        expire(d);
        return 0;
}

/* keep_attached from the config: "none", "all" or a regular expression. */
static void apply_keep(struct skbtraced *d)
{
        const char *k = d->opt.cfg.keep_attached;
        char err[512];

        d->idle.keep_re = skbt_regex_free(d->idle.keep_re);
        d->idle.keep_all = strcmp(k, "all") == 0;
        if (!d->idle.keep_all && strcmp(k, "none") != 0 && k[0] &&
            skbt_regex_new(k, &d->idle.keep_re, err, sizeof(err)) < 0)
                log_warning("keep_attached: %s; keeping none attached, ignoring", err);
        skbt_demand_set_keep(d->idle.demand, d->idle.keep_re, d->idle.keep_all, skbt_now_ns());
}

/*
 * Programs load in the background after start-up (each is a copy of the whole
 * body, verified on its own), so that the first session finds them loaded and
 * attaching is only a link; sessions that come meanwhile get theirs first (the
 * worker loads what they need before any background load).  What loads: the
 * template copies the kprobe backends share per skb position (one probe of
 * each position loads its position's) and each netfilter evaluator's entry,
 * then every tracepoint's (where the shared tracepoint programs serve them, one
 * per skb position: a handful of loads).  fentry programs (one per function)
 * load when a session first needs their function; one function's loads in the
 * background, and with it the shared body its stubs reach (backend_fentry.c:
 * three programs of the whole body, ~0.3 s each under TCG), so that a session's
 * first stubs load in milliseconds.
 */
static void preload(struct skbtraced *d)
{
        struct skbt_loader *l = d->loader;
        _cleanup_free_ uint32_t *ids = calloc(l->n_probes ? l->n_probes : 1, sizeof(*ids));
        bool shared = !skbt_backend_has(l->backend, SKBT_BACKEND_F_PROG_PER_PROBE);
        bool seen[SKBT_PROBE_BPF + 1][2][256] = {};
        uint32_t n = 0;

        if (!ids)
                return;
        for (uint32_t i = 0; shared && i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                /* A netfilter evaluator's entry is its own copy (backend_kprobe.c). A tc or XDP
                 * program's tracer holds that program while loaded: it loads when attached
                 * (attach_bpfprog.c). Helpers load when a session asks for them. */
                if (p->kind == SKBT_PROBE_TRACEPOINT || p->kind == SKBT_PROBE_BPF || !p->attached ||
                    p->helper || p->backend >= _SKBT_BACKEND_MAX ||
                    (p->kind != SKBT_PROBE_NETFILTER && seen[p->kind][p->is_return][p->skb_arg]))
                        continue;
                seen[p->kind][p->is_return][p->skb_arg] = true;
                ids[n++] = i;
        }
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (l->probes[i].kind == SKBT_PROBE_TRACEPOINT && l->probes[i].attached)
                        ids[n++] = i;
        for (uint32_t i = 0; !shared && i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (skbt_probe_is_function_entry(p) && p->attached &&
                    p->backend < _SKBT_BACKEND_MAX) {
                        ids[n++] = i;
                        break;
                }
        }
        if (skbt_attacher_preload(d->idle.attacher, ids, n) < 0)
                log_warning("out of memory queueing programs to load; they load when a session "
                            "needs them, ignoring");
}

int skbt_idle_init(struct skbtraced *d)
{
        int r;

        r = skbt_attacher_new(d->loader, &d->idle.attacher);
        if (r < 0)
                return r;
        r = skbt_demand_new(d->loader, d->idle.attacher, &d->idle.demand);
        if (r < 0)
                return log_error_errno(r, "cannot set up attach on demand: %m");
        r = sd_event_add_io(d->event, &d->idle.io, skbt_attacher_fd(d->idle.attacher), EPOLLIN,
                            on_worker, d);
        if (r < 0)
                return log_error_errno(r, "cannot watch the attach worker: %m");
        r = sd_event_add_time(d->event, &d->idle.timer, CLOCK_MONOTONIC, 0,
                              IDLE_TIMER_ACCURACY_USEC, on_timer, d);
        if (r < 0)
                return log_error_errno(r, "cannot create the idle detach timer: %m");
        (void)sd_event_source_set_enabled(d->idle.timer, SD_EVENT_OFF);
        skbt_demand_set_linger(d->idle.demand, d->opt.cfg.idle_detach_usec, skbt_now_ns());
        apply_keep(d);
        preload(d);
        return 0;
}

void skbt_idle_done(struct skbtraced *d)
{
        d->idle.io = sd_event_source_disable_unref(d->idle.io);
        d->idle.timer = sd_event_source_disable_unref(d->idle.timer);
        /* The worker first: it may still hand links over. */
        d->idle.attacher = skbt_attacher_free(d->idle.attacher);
        d->idle.demand = skbt_demand_free(d->idle.demand);
        d->idle.keep_re = skbt_regex_free(d->idle.keep_re);
}

const struct skbt_coverage *skbt_idle_session_start(struct skbtraced *d, uint32_t slot,
                                                    const uint8_t *need, const uint8_t *sel)
{
        return skbt_demand_session_start(d->idle.demand, slot, need, sel, skbt_now_ns());
}

const struct skbt_coverage *skbt_idle_coverage(struct skbtraced *d, uint32_t slot)
{
        return d->idle.demand ? skbt_demand_coverage(d->idle.demand, slot) : NULL;
}

void skbt_idle_session_end(struct skbtraced *d, uint32_t slot)
{
        skbt_demand_session_end(d->idle.demand, slot, skbt_now_ns());
        /* Even a linger of 0 goes through the loop: the session that just ended may be
         * ending deep inside a ring-buffer callback. */
        if (!d->shutting_down)
                arm(d, skbt_now_ns());
}

void skbt_idle_reconfigure(struct skbtraced *d)
{
        skbt_demand_set_linger(d->idle.demand, d->opt.cfg.idle_detach_usec, skbt_now_ns());
        apply_keep(d);
        arm(d, skbt_now_ns());
}

bool skbt_idle_is_idle(struct skbtraced *d)
{
        return skbt_demand_idle(d->idle.demand);
}

json_object *skbt_idle_to_json(struct skbtraced *d)
{
        const struct skbt_demand_stats *st = skbt_demand_stats(d->idle.demand);
        const struct skbt_loader *l = d->loader;
        int64_t linger = d->opt.cfg.idle_detach_usec;
        struct skbt_demand_counts c;
        json_object *o = json_object_new_object(), *lo = json_object_new_object();

        skbt_demand_counts(d->idle.demand, &c);
        json_object_object_add(o, "keep_attached",
                               json_object_new_string(d->opt.cfg.keep_attached));
        json_object_object_add(o, "kept", json_object_new_int64(c.kept));
        json_object_object_add(o, "idle_detach_after_s",
                               json_object_new_double(linger < 0 ? -1.0 : (double)linger / 1e6));
        json_object_object_add(o, "idle",
                               json_object_new_boolean(skbt_demand_idle(d->idle.demand)));
        json_object_object_add(o, "linked", json_object_new_int64(c.linked));
        json_object_object_add(o, "linked_functions", json_object_new_int64(c.linked_functions));
        json_object_object_add(o, "linked_returns", json_object_new_int64(c.linked_returns));
        json_object_object_add(o, "linked_tracepoints",
                               json_object_new_int64(c.linked_tracepoints));
        json_object_object_add(o, "linked_netfilter", json_object_new_int64(c.linked_netfilter));
        json_object_object_add(o, "links", json_object_new_int64(c.links));
        json_object_object_add(o, "pending", json_object_new_int64(c.pending));
        json_object_object_add(o, "attached_total", json_object_new_uint64(st->attached));
        json_object_object_add(o, "detached_total", json_object_new_uint64(st->detached));
        json_object_object_add(o, "detached_links", json_object_new_uint64(st->detached_links));
        json_object_object_add(o, "cancelled_total", json_object_new_uint64(st->cancelled));
        json_object_object_add(o, "attach_ms", json_object_new_uint64(st->attach_ns / 1000000));
        json_object_object_add(o, "detach_ms", json_object_new_uint64(st->detach_ns / 1000000));
        json_object_object_add(lo, "programs", json_object_new_uint64(l->loads.n));
        json_object_object_add(lo, "ms", json_object_new_uint64(l->loads.ns / 1000000));
        json_object_object_add(lo, "verified_insns",
                               json_object_new_uint64(l->loads.verified_insns));
        json_object_object_add(o, "loads", lo);
        return o;
}

json_object *skbt_idle_tracepoints_json(struct skbtraced *d)
{
        const struct skbt_demand_stats *st = skbt_demand_stats(d->idle.demand);
        const struct skbt_loader *l = d->loader;
        int64_t linger = d->opt.cfg.idle_detach_usec;
        json_object *o = json_object_new_object();
        uint32_t usable = 0, loaded = 0, linked = 0;

        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (p->kind != SKBT_PROBE_TRACEPOINT)
                        continue;
                usable += p->attached;
                loaded += p->attached && p->loaded;
                linked += p->link != NULL;
        }
        json_object_object_add(o, "usable", json_object_new_int64(usable));
        json_object_object_add(o, "loaded", json_object_new_int64(loaded));
        json_object_object_add(o, "linked", json_object_new_int64(linked));
        json_object_object_add(o, "attaches", json_object_new_uint64(st->attach_jobs));
        json_object_object_add(o, "last_attach_us",
                               json_object_new_uint64(st->last_attach_ns / 1000));
        json_object_object_add(o, "idle_detached",
                               json_object_new_boolean(skbt_demand_idle(d->idle.demand)));
        json_object_object_add(o, "idle_detach_after_s",
                               json_object_new_double(linger < 0 ? -1.0 : (double)linger / 1e6));
        return o;
}
