/* SPDX-License-Identifier: GPL-2.0-only */
/* session.c - sessions as BPF map entries, and fan-out of events to them */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <systemd/sd-daemon.h>

#include "demand.h"
#include "graph.h"
#include "json_util.h"
#include "log.h"
#include "live.h"
#include "skbtraced.h"
#include "track_agg.h"
#include "util.h"

#define NSEC_PER_SEC 1000000000ULL

/* STATUS= for systemctl status: what the daemon is doing right now. */
void skbt_notify_status(struct skbtraced *d)
{
        uint64_t events = d->events_total;

        if (d->shutting_down || !d->loader)
                return;
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++)
                if (d->slots[i])
                        events += d->slots[i]->events;
        sd_notifyf(0, "STATUS=%u sessions, %" PRIu64 " events; backend %s, %u probes usable, %s",
                   d->n_sessions, events, skbt_backend_to_string(d->backend), d->loader->n_attached,
                   skbt_idle_is_idle(d) ? "nothing attached" : "attached on demand");
}

static int session_on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
        struct skbt_session *s = userdata;

        skbt_session_end(s, s->timer_reason ? s->timer_reason : "duration");
        return 0;
}

/*
 * Make the session live in BPF: its filter and flags, and its bit in the
 * active mask last (live.h).  Its probes deliver to it as they attach
 * (probes/demand.c sets their bits).
 */
static void session_activate(struct skbtraced *d, struct skbt_session *s)
{
        struct skbt_live_session ls = {
            .filter = s->filter,
            .cbpf = s->cbpf,
            .graph = s->tracer == SKBT_TRACER_FUNCTION_GRAPH,
            .fields = s->fields.n > 0,
            .snapshot = s->snapshot,
            .ct = s->ct,
            .ct_len = d->ct_layout.len,
            .ident = s->ident,
            .track = s->track,
            .stack = s->fmt.stack,
            .dump_skb = s->dump_skb,
            .nf_rules = s->nf_rules,
            /* The tracking maps are shared: how fast a member's session may fill them. */
            .track_quota = s->track_limited ? d->opt.cfg.track_quota : 0,
        };

        /* No read of the miss counters here: with every fentry stub linked it takes 21-44 ms
         * under TCG (1,594 programs), on the way to the first event.  Runs skipped in the
         * second before it went live may count for it too (docs/skbtraced.8). */
        skbt_live_session_enable(d->loader, s->slot, &ls);
        s->live = true;
}

/*
 * What the session needs attached besides what it hears: a session that
 * follows packets (--track, aggregate output) needs the probes where packets
 * are freed, copied or re-buffered, and the copy functions' returns, whether
 * it selected them or not (bpf/skbt_track.bpf.h); --nf-rules needs nftables'
 * trace hook (probes/attach_nft_rule.c).
 */
static uint8_t *session_need(struct skbtraced *d, const struct skbt_session *s, const uint8_t *sel)
{
        const struct skbt_loader *l = d->loader;
        uint8_t *need = calloc(l->n_probes ? l->n_probes : 1, 1);

        if (!need)
                return NULL;
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                need[i] |= sel[i];
                if (s->nf_rules && i == l->nft_hook_id)
                        need[i] = 1;
                if (!s->ident || p->is_return || !p->life)
                        continue;
                need[i] = 1;
                if ((p->life & SKBT_STAMP_CLONE) && p->ret_id != SKBT_NO_PROBE)
                        need[p->ret_id] = 1;
        }
        return need;
}

/* How long since the session started, in ms. */
static uint64_t session_ms(const struct skbt_session *s, uint64_t ns)
{
        return ns > s->start_ns ? (ns - s->start_ns) / 1000000 : 0;
}

static void session_flush(struct skbt_session *s);

/*
 * "failure": the first probe the session needed that could not be attached,
 * and why (the probe's error, as List gives it), so the client can say it
 * without a look at the daemon's log.  Nothing when none failed.
 */
static void coverage_failure(struct skbt_session *s, const struct skbt_coverage *cov,
                             json_object *o)
{
        const struct skbt_loader *l = s->d->loader;
        const struct skbt_probe *p;
        json_object *f;

        if (!cov->failed || cov->first_failed >= l->n_probes)
                return;
        p = &l->probes[cov->first_failed];
        f = json_object_new_object();
        if (!f)
                return;
        json_object_object_add(f, "probe", json_object_new_string(p->name));
        json_object_object_add(f, "is_return", json_object_new_boolean(p->is_return));
        json_object_object_add(f, "why", json_object_new_string(p->error ? p->error : "unknown"));
        json_object_object_add(o, "failure", f);
}

/*
 * Tell the client how far attaching got ("progress", docs/protocol.md): at
 * most every SKBT_PROGRESS_NS, and always once everything is settled.
 */
static void session_progress(struct skbt_session *s, const struct skbt_coverage *cov)
{
        bool settled = skbt_coverage_settled(cov);
        uint64_t now = skbt_now_ns();
        _cleanup_json_ json_object *params = NULL;
        json_object *p;

        if (!s->out.ops || (!settled && now - s->progress_ns < SKBT_PROGRESS_NS))
                return;
        if (settled && s->progress_final)
                return;
        s->progress_ns = now;
        s->progress_final = settled;
        /* Events rendered so far go out first: the record says what is live after them. */
        session_flush(s);
        p = json_object_new_object();
        params = json_object_new_object();
        if (!p || !params || json_object_object_add(params, "progress", p) < 0) {
                json_object_put(p);
                return;
        }
        json_object_object_add(p, "attached", json_object_new_int64(cov->live));
        json_object_object_add(p, "failed", json_object_new_int64(cov->failed));
        json_object_object_add(p, "total", json_object_new_int64(cov->total));
        json_object_object_add(p, "elapsed_ms", json_object_new_uint64(session_ms(s, now)));
        json_object_object_add(p, "complete", json_object_new_boolean(settled));
        coverage_failure(s, cov, p);
        s->out.ops->record(s->out.userdata, params);
}

void skbt_sessions_coverage(struct skbtraced *d, uint64_t slots)
{
        while (slots) {
                uint32_t slot = (uint32_t)__builtin_ctzll(slots);
                struct skbt_session *s = d->slots[slot];
                const struct skbt_coverage *cov = skbt_idle_coverage(d, slot);

                slots &= slots - 1;
                if (!s || !cov || s->end_reason)
                        continue;
                if (skbt_coverage_settled(cov) && !s->live) {
                        /* --wait-attached: the whole selection is in place, events flow now. */
                        session_activate(d, s);
                        if (s->duration_usec &&
                            skbt_session_set_duration(s, s->duration_usec, "duration") < 0) {
                                skbt_session_end(s, "duration");
                                continue;
                        }
                        log_info("session %" PRIu64 ": every probe settled after %" PRIu64
                                 " ms (%u attached, %u failed): live",
                                 s->id, session_ms(s, cov->full_ns), cov->live, cov->failed);
                }
                session_progress(s, cov);
        }
}

uint64_t skbt_session_track_refused(const struct skbt_session *s)
{
        if (!s->ident || !s->track_limited)
                return 0;
        return skbt_live_track_refused(s->d->loader, s->slot);
}

/* Evictions from the tracking map so far (0 if it cannot be read). */
static uint64_t track_evicted(struct skbtraced *d)
{
        struct skbt_track_stats st;

        return skbt_loader_track_stats(d->loader, &st) < 0 ? 0 : st.evicted;
}

/* What the session adds after an event from its record's tails (render/fields_render.h). */
static struct skbt_tails session_tails(const struct skbt_session *s, bool snapshot)
{
        return (struct skbt_tails){
            .fields = &s->fields,
            .ct = s->ct ? &s->d->ct_layout : NULL,
            .snapshot = snapshot && s->snapshot,
            .dump = s->dump_skb,
        };
}

/* Aggregate blocks show the custom fields and conntrack of each event, as lines do. */
static void session_agg_hook(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                             size_t size, void *data)
{
        struct skbt_tails t = session_tails(data, false);

        skbt_format_tails(out, fmt, &t, ev, size);
}

/* A session that did not start: what session_new() allocated (the strings stay tmpl's). */
static struct skbt_session *session_unwind(struct skbt_session *s)
{
        if (!s)
                return NULL;
        skbt_graph_free(s->graph);
        skbt_agg_free(s->agg);
        free(s);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_session *, session_unwind);

static int session_new(struct skbtraced *d, const struct skbt_session *tmpl,
                       const struct skbt_session_output *out, uint32_t slot,
                       struct skbt_session **ret)
{
        _cleanup_(session_unwindp) struct skbt_session *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *s = *tmpl;
        s->d = d;
        s->out = *out;
        s->slot = slot;
        s->pending = (struct strbuf)STRBUF_INIT;
        s->timer = NULL;
        s->graph = NULL;
        s->agg = NULL;
        if (s->tracer == SKBT_TRACER_FUNCTION_GRAPH && skbt_graph_new(&s->graph) < 0)
                return -ENOMEM;
        if (skbt_output_is_aggregate(s->render) &&
            skbt_agg_new(s->render, &s->fmt, s->egress_probe, session_agg_hook, s, &s->agg) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

int skbt_session_start(struct skbtraced *d, struct skbt_session *tmpl, const uint8_t *probe_sel,
                       const struct skbt_session_output *out, struct skbt_session **ret)
{
        const struct skbt_coverage *cov;
        _cleanup_free_ uint8_t *need = NULL;
        _cleanup_(session_unwindp) struct skbt_session *s = NULL;
        uint32_t slot;
        int r;

        for (slot = 0; slot < SKBT_MAX_SESSIONS; slot++)
                if (!d->slots[slot])
                        break;
        if (slot == SKBT_MAX_SESSIONS)
                return -EBUSY;
        r = session_new(d, tmpl, out, slot, &s);
        if (r < 0)
                return r;
        need = session_need(d, s, probe_sel);
        if (!need)
                return -ENOMEM;
        /* Entries in the shared field table before the session can produce records. */
        if (s->fields.n) {
                r = skbt_fields_acquire(&d->fields, d->loader->field_table, &s->fields);
                if (r < 0)
                        return r;
        }
        r = skbt_loader_reset_lost(d->loader, slot);
        if (r < 0) {
                if (s->fields.n)
                        skbt_fields_release(&d->fields, d->loader->field_table, &s->fields);
                return log_error_errno(r, "cannot reset loss counter of slot %u: %m", slot);
        }
        s->id = ++d->next_session_id;
        if (s->ident)
                s->track_evicted_start = track_evicted(d);
        s->start_ns = skbt_now_ns();
        s->start_realtime_usec = skbt_realtime_usec();
        s->rate_last_ts = s->start_ns;
        s->rate_credit_ns = NSEC_PER_SEC; /* a full second of burst to begin with */
        /* Nothing can fail after this.  What is attached delivers from now on; the rest
         * joins as the worker attaches it (skbt_sessions_coverage()), unless the client
         * asked to wait for all of it. */
        d->slots[slot] = s;
        d->n_sessions++;
        d->n_nf_rules += s->nf_rules;
        cov = skbt_idle_session_start(d, slot, need, probe_sel);
        s->attach_total = cov->total;
        s->attach_live = cov->live;
        s->attach_failed = cov->failed;
        if (!s->wait_attached || skbt_coverage_settled(cov))
                session_activate(d, s);
        log_info("session %" PRIu64 " started: uid %u pid %d, slot %u, tracer %s, %u probes "
                 "(%u of %u needed attached, %u failed), %s",
                 s->id, s->uid, s->pid, slot, skbt_tracer_to_string(s->tracer), s->n_probes,
                 cov->live, cov->total, cov->failed, s->filter_desc);
        skbt_notify_status(d);
        *ret = TAKE_PTR(s);
        return 0;
}

int skbt_session_set_duration(struct skbt_session *s, uint64_t usec, const char *reason)
{
        s->timer_reason = reason;
        /* --wait-attached: the client's duration counts from when events start (the
         * daemon's max_duration from the start, whatever happens). */
        if (!s->live && strcmp(reason, "duration") == 0) {
                s->duration_usec = usec;
                return 0;
        }
        return sd_event_add_time_relative(s->d->event, &s->timer, CLOCK_MONOTONIC, usec, 1000,
                                          session_on_timer, s);
}

void skbt_session_detach_output(struct skbt_session *s)
{
        s->out = (struct skbt_session_output){};
}

size_t skbt_session_queued(const struct skbt_session *s)
{
        return s->pending.len + (s->out.ops ? *s->out.backlog : 0);
}

/* Hand pending output and the loss counters to the client's output, if anything changed. */
static void session_flush(struct skbt_session *s)
{
        struct skbt_session_losses lost = {s->lost_ringbuf, s->lost_queue, s->lost_rate,
                                           s->lost_missed};

        if (!s->out.ops)
                return;
        if (s->pending.len == 0 && s->lost_ringbuf == s->sent_lost_ringbuf &&
            s->lost_queue == s->sent_lost_queue && s->lost_rate == s->sent_lost_rate &&
            s->lost_missed == s->sent_lost_missed)
                return;
        if (strbuf_failed(&s->pending) ||
            s->out.ops->write(s->out.userdata, s->pending.data ? s->pending.data : "",
                              s->pending.len, &lost) < 0) {
                /* Out of memory: the events in this batch are lost, and counted. */
                log_warning("session %" PRIu64 ": out of memory rendering a batch, "
                            "counting it as lost",
                            s->id);
                s->lost_queue += 1;
        }
        strbuf_reset(&s->pending);
        s->pending.failed = false;
        s->sent_lost_ringbuf = s->lost_ringbuf;
        s->sent_lost_queue = s->lost_queue;
        s->sent_lost_rate = s->lost_rate;
        s->sent_lost_missed = s->lost_missed;
}

static void session_read_lost(struct skbt_session *s)
{
        uint64_t v;

        if (skbt_loader_read_lost(s->d->loader, s->slot, &v) == 0)
                s->lost_ringbuf = v;
}

/*
 * The summary's "coverage": how much of what the session needed got
 * attached, and when all of it was settled ("full_ms", absent when it never
 * was while the session ran: "failed" probes count as settled).
 */
static json_object *coverage_json(struct skbt_session *s)
{
        const struct skbt_coverage *cov = skbt_idle_coverage(s->d, s->slot);
        json_object *o = json_object_new_object();

        if (!cov || !cov->active)
                return o;
        json_object_object_add(o, "total", json_object_new_int64(cov->total));
        json_object_object_add(o, "attached", json_object_new_int64(cov->live));
        json_object_object_add(o, "failed", json_object_new_int64(cov->failed));
        if (cov->full_ns)
                json_object_object_add(o, "full_ms",
                                       json_object_new_uint64(session_ms(s, cov->full_ns)));
        coverage_failure(s, cov, o);
        return o;
}

json_object *skbt_session_end_summary(struct skbt_session *s, const char *reason)
{
        struct skbtraced *d = s->d;
        struct skbt_session_output out = s->out;
        json_object *sum;

        /* Its share of the runs skipped while it was live, before it is not any more. */
        if (s->live)
                skbt_sessions_poll_missed(d);
        skbt_live_session_disable(d->loader, s->slot, s->ident);
        s->live = false;
        session_read_lost(s);
        /* Packets still open are printed, marked as such: never dropped. */
        if (s->agg)
                skbt_agg_flush_all(s->agg, &s->pending, &d->names);
        session_flush(s);

        sum = json_object_new_object();
        json_object_object_add(sum, "session", json_object_new_uint64(s->id));
        json_object_object_add(sum, "events", json_object_new_uint64(s->events));
        json_object_object_add(sum, "lost_ringbuf", json_object_new_uint64(s->lost_ringbuf));
        json_object_object_add(sum, "lost_queue", json_object_new_uint64(s->lost_queue));
        json_object_object_add(sum, "lost_rate", json_object_new_uint64(s->lost_rate));
        json_object_object_add(sum, "lost_missed", json_object_new_uint64(s->lost_missed));
        json_object_object_add(sum, "duration_ns",
                               json_object_new_uint64(skbt_now_ns() - s->start_ns));
        json_object_object_add(sum, "reason", json_object_new_string(reason));
        json_object_object_add(sum, "coverage", coverage_json(s));
        /* The tracking map is shared and bounded: packets it had to forget while
         * this session ran may have left it early (docs/output.md). */
        if (s->ident) {
                uint64_t ev = track_evicted(d);

                /* Not tracked for this session: over its track_quota (docs/skbtraced.8). */
                json_object_object_add(sum, "track_refused",
                                       json_object_new_uint64(skbt_session_track_refused(s)));

                json_object_object_add(sum, "track_evicted",
                                       json_object_new_uint64(ev > s->track_evicted_start
                                                                  ? ev - s->track_evicted_start
                                                                  : 0));
        }
        log_info("session %" PRIu64 " ended (%s): %" PRIu64 " events, %" PRIu64
                 " lost in ring buffer, %" PRIu64 " lost in queue, %" PRIu64
                 " over the rate limit, %" PRIu64 " probe runs skipped by the kernel",
                 s->id, reason, s->events, s->lost_ringbuf, s->lost_queue, s->lost_rate,
                 s->lost_missed);

        d->events_total += s->events;
        d->lost_queue_total += s->lost_queue;
        d->lost_ringbuf_total += s->lost_ringbuf;
        d->lost_rate_total += s->lost_rate;
        d->lost_missed_total += s->lost_missed;
        d->track_refused_total += skbt_session_track_refused(s);
        d->slots[s->slot] = NULL;
        d->n_sessions--;
        skbt_idle_session_end(d, s->slot);
        if (s->nf_rules) {
                d->n_nf_rules--;
                skbt_nf_rules_idle(d);
        }
        sd_event_source_disable_unref(s->timer);
        strbuf_done(&s->pending);
        skbt_graph_free(s->graph);
        skbt_agg_free(s->agg);
        free(s->regex);
        free(s->pcap_filter);
        skbt_fields_release(&d->fields, d->loader->field_table, &s->fields);
        free(s->groups);
        free(s);
        skbt_notify_status(d);
        if (out.ops)
                out.ops->ended(out.userdata, sum);
        return sum;
}

void skbt_session_end(struct skbt_session *s, const char *reason)
{
        json_object_put(skbt_session_end_summary(s, reason));
}

/*
 * Token bucket on the events' own timestamps (no clock read per event):
 * credit grows with time, capped at one second's worth (the burst), and
 * each event costs 1/rate s.  Timestamps from different CPUs may arrive
 * slightly out of order; only forward steps add credit.
 */
static bool rate_allow(struct skbt_session *s, uint64_t ts)
{
        uint64_t cost = NSEC_PER_SEC / s->rate_limit;

        if (ts > s->rate_last_ts) {
                s->rate_credit_ns += ts - s->rate_last_ts;
                s->rate_last_ts = ts;
                if (s->rate_credit_ns > NSEC_PER_SEC)
                        s->rate_credit_ns = NSEC_PER_SEC;
        }
        if (s->rate_credit_ns < cost)
                return false;
        s->rate_credit_ns -= cost;
        return true;
}

static bool nf_hidden(const struct skbt_session *s, uint32_t probe_id)
{
        for (uint32_t i = 0; i < s->n_nf_hidden; i++)
                if (s->nf_hidden[i] == probe_id)
                        return true;
        return false;
}

/* A DROP verdict: remember it for the drop of the same packet that follows. */
static void nf_remember_drop(struct skbt_session *s, const struct skbt_event *ev)
{
        struct skbt_nf_drop *nd = &s->nf_drops[s->nf_drops_next++ % SKBT_NF_DROPS];

        nd->skb = ev->skb;
        nd->ts = ev->ts;
        nd->nf = *(const struct skbt_nf *)(ev + 1);
        nd->verdict = (uint32_t)ev->retval;
}

/* The verdict that explains this drop, if a table or chain just dropped the packet. */
static const struct skbt_nf_drop *nf_explain_drop(struct skbt_session *s,
                                                  const struct skbt_event *ev)
{
        for (uint32_t i = 0; i < SKBT_NF_DROPS; i++) {
                struct skbt_nf_drop *nd = &s->nf_drops[i];

                if (nd->skb == ev->skb && nd->skb && ev->ts >= nd->ts &&
                    ev->ts - nd->ts <= SKBT_NF_DROP_NS)
                        return nd; /* kfree_skb_reason() and skb:kfree_skb both say it */
        }
        return NULL;
}

/*
 * The record with its kernel addresses hidden (output/kaddr.h), for the
 * sessions of users other than root: built once per record, in a buffer the
 * daemon reuses.  hdr is the record's header as checked (it may be a copy
 * without the stack frames); NULL when out of memory.
 */
static const struct skbt_event *kaddr_masked(struct skbtraced *d, const void *data,
                                             const struct skbt_event *hdr, size_t size)
{
        struct skbt_event *c;

        if (d->kaddr_buf_size < size) {
                void *nb = realloc(d->kaddr_buf, size);

                if (!nb)
                        return NULL;
                d->kaddr_buf = nb;
                d->kaddr_buf_size = size;
        }
        c = d->kaddr_buf;
        memcpy(c, data, size);
        memcpy(c, hdr, sizeof(*hdr));
        skbt_kaddr_mask(&d->kaddr_key, &d->names, c);
        return c;
}

/*
 * A session's queue is full at queue_size; and while the output waiting for
 * all sessions together is over max_queued (as of the last batch), at an
 * equal share of it: stalled clients then cannot make the daemon hold
 * max_sessions x queue_size, and a session that keeps up is not hurt.
 */
static bool session_over_queue(const struct skbtraced *d, const struct skbt_session *s)
{
        size_t q = skbt_session_queued(s), budget = d->opt.cfg.max_queued_bytes;

        if (q >= d->opt.cfg.queue_bytes)
                return true;
        return budget && d->queued_total >= budget && d->n_sessions && q >= budget / d->n_sessions;
}

/* The record as the renderers may read it, or NULL to skip it. */
static const struct skbt_event *event_checked(const void *data, size_t *size,
                                              struct skbt_event *copy)
{
        const struct skbt_event *ev = data;

        if (*size < sizeof(*ev))
                return NULL;
        /* Stack frames follow the record only if it is long enough for them. */
        if (ev->stack_depth && (ev->stack_depth > SKBT_STACK_MAX ||
                                *size < sizeof(*ev) + (size_t)ev->stack_depth * sizeof(uint64_t))) {
                *copy = *ev;
                copy->stack_depth = 0;
                ev = copy;
                *size = sizeof(*copy);
        }
        /* A verdict's record carries its struct skbt_nf and never a stack. */
        if ((ev->flags & SKBT_EV_NF) &&
            (*size < sizeof(*ev) + sizeof(struct skbt_nf) || ev->stack_depth))
                return NULL;
        return ev;
}

/* Whether s shows this event; what it drops by its rate limit or full queue is counted. */
static bool session_admits(const struct skbtraced *d, struct skbt_session *s,
                           const struct skbt_event *ev)
{
        /* A record from before this session started belongs to the slot's previous owner. */
        if (s->end_reason || ev->ts < s->start_ns || !s->out.ops)
                return false;
        if (ev->flags & SKBT_EV_NF) {
                if (skbt_record_verdict_is_drop((const struct skbt_nf *)(ev + 1),
                                                (uint32_t)ev->retval))
                        nf_remember_drop(s, ev);
                if (nf_hidden(s, ev->probe_id))
                        return false;
        }
        if (s->rate_limit && !rate_allow(s, ev->ts)) {
                s->lost_rate++;
                return false;
        }
        if (session_over_queue(d, s)) {
                s->lost_queue++;
                return false;
        }
        return true;
}

/*
 * One event as a line (or graph line) with its tails, into s->pending.  ev is
 * the record as checked; sev and sdata what this session renders (the same, or
 * the copy without kernel addresses); nd the netfilter verdict that explains
 * this drop, if any.
 */
static void session_render(struct skbt_session *s, const struct skbtraced *d,
                           const struct skbt_event *ev, const struct skbt_event *sev,
                           const void *sdata, size_t size, const struct skbt_nf_drop *nd)
{
        /* Stack lines (text) follow the line the fields complete. */
        struct skbt_format_opts o = s->fmt;
        struct skbt_tails tails;

        o.stack = s->fmt.stack && s->render == SKBT_OUTPUT_JSON;
        if (nd) {
                o.nf = &nd->nf;
                o.nf_verdict = nd->verdict;
        }
        /* function_graph lines take the same tails (fields, snapshot, stack) as plain
         * events: only the line itself differs. */
        if (s->graph)
                skbt_graph_format(s->graph, &s->pending, s->render, &o, sev, &d->names);
        else
                skbt_format_event_opts(&s->pending, s->render, &o, sev, &d->names);
        /* The optional tails of a big record (common/skbt_record.h). */
        tails = session_tails(s, true);
        skbt_format_tails(&s->pending, s->render, &tails, sdata, size);
        if (s->fmt.stack && s->render != SKBT_OUTPUT_JSON)
                skbt_format_stack_text(&s->pending, sev, &d->names);
}

/*
 * What a session's line for a record depends on besides the record (and, for
 * a drop, the verdict that explains it): sessions with equal keys render equal
 * bytes.  With several sessions on the same traffic (8 clients of one flow in
 * bench/), rendering dominates the daemon's cost per event, so the line is
 * rendered once per record and copied to the others.  0: the session's lines
 * depend on state of its own (function_graph depth, aggregate blocks) or on
 * tails of its own (custom fields, conntrack, packet bytes, sk_buff dump):
 * never shared.  A new option that changes how lines look goes here too.
 */
static uint32_t session_share_key(const struct skbt_session *s)
{
        if (s->graph || s->agg || s->fields.n || s->ct || s->snapshot || s->dump_skb || s->fmt.nf)
                return 0;
        return 1u | (uint32_t)s->fmt.track << 1 | (uint32_t)s->fmt.detail << 2 |
               (uint32_t)s->fmt.stack << 3 | (uint32_t)s->fmt.omit_flow << 4 |
               (uint32_t)s->hide_kaddr << 5 | (uint32_t)s->fmt.nf_rules << 6 |
               (uint32_t)s->render << 8;
}

/*
 * Lines rendered from the current record, by key: a few kinds of sessions
 * interleave.  Only n and next are set per record: zeroing the whole table
 * (a `rep stos` of 136 bytes) was a measurable part of one record's cost
 * (docs/performance.md, issue 13).
 */
#define SHARED_LINES 4
struct shared_lines {
        uint32_t n;    /* entries of l in use */
        uint32_t next; /* replaced next when all are taken */
        struct shared_line {
                uint32_t key;
                const struct strbuf *buf;
                size_t off, len;
        } l[SHARED_LINES];
};

/* One event of a line-output session into s->pending: rendered, or copied from an equal one. */
static void session_line(struct skbt_session *s, const struct skbtraced *d,
                         const struct skbt_event *ev, const struct skbt_event *sev,
                         const void *sdata, size_t size, struct shared_lines *shared)
{
        const struct skbt_nf_drop *nd = ev->flags & SKBT_EV_DROP ? nf_explain_drop(s, ev) : NULL;
        uint32_t key = nd ? 0 : session_share_key(s);
        size_t off = s->pending.len;

        for (uint32_t i = 0; key && i < shared->n; i++) {
                const struct shared_line *l = &shared->l[i];

                if (l->key == key) {
                        strbuf_put(&s->pending, l->buf->data + l->off, l->len);
                        return;
                }
        }
        session_render(s, d, ev, sev, sdata, size, nd);
        if (!key || strbuf_failed(&s->pending))
                return;
        shared->l[shared->next++ % SHARED_LINES] =
            (struct shared_line){key, &s->pending, off, s->pending.len - off};
        if (shared->n < SHARED_LINES)
                shared->n++;
}

/* ring_buffer callback: render the event for every session in its mask. */
int skbt_ringbuf_event(void *ctx, void *data, size_t size)
{
        struct skbtraced *d = ctx;
        struct skbt_event copy;
        const struct skbt_event *ev = event_checked(data, &size, &copy), *masked = NULL;
        struct shared_lines shared;
        uint64_t mask, now = 0;

        if (!ev)
                return 0;
        d->records++;
        d->batch_records++;
        /* The probes that fire on this host's traffic attach first after an idle detach
         * (demand.c, skbt_demand_order()). */
        if (d->loader && ev->probe_id < d->loader->n_probes)
                d->loader->probes[ev->probe_id].events++;
        shared.n = 0;
        shared.next = 0;
        for (mask = ev->sessions; mask; mask &= mask - 1) {
                struct skbt_session *s = d->slots[__builtin_ctzll(mask)];
                const struct skbt_event *sev = ev;
                const void *sdata = data;

                if (!s || !session_admits(d, s, ev))
                        continue;
                /* Root's sessions render the record; others a copy without kernel addresses. */
                if (s->hide_kaddr) {
                        if (!masked && !(masked = kaddr_masked(d, data, ev, size))) {
                                s->lost_queue++; /* out of memory: counted, as for a full queue */
                                continue;
                        }
                        sev = masked;
                        sdata = masked;
                }
                if (s->agg) {
                        if (!now)
                                now = skbt_now_ns();
                        skbt_agg_add(s->agg, &s->pending, sev, size, &d->names, now);
                } else {
                        session_line(s, d, ev, sev, sdata, size, &shared);
                }
                s->events++;
                if (s->count_limit && s->events >= s->count_limit)
                        s->end_reason = "count";
        }
        /* Under a flood the ring buffer never runs dry: stop after a batch so the
         * output goes to the clients (skbt_sessions_after_batch()) while it is
         * fresh, rather than piling up until the queues overflow. */
        if (d->batch_records >= SKBT_BATCH_RECORDS)
                return SKBT_BATCH_FULL;
        return 0;
}

void skbt_sessions_after_batch(struct skbtraced *d)
{
        uint64_t now = 0;
        size_t queued = 0;

        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (!s)
                        continue;
                if (s->end_reason) {
                        skbt_session_end(s, s->end_reason);
                        continue;
                }
                if (s->agg) {
                        if (!now)
                                now = skbt_now_ns();
                        skbt_agg_tick(s->agg, &s->pending, &d->names, now);
                }
                if (s->pending.len)
                        session_flush(s);
                if (d->slots[i])
                        queued += skbt_session_queued(d->slots[i]);
        }
        d->queued_total = queued;
}

void skbt_sessions_poll_missed(struct skbtraced *d)
{
        uint64_t per_slot[SKBT_MAX_SESSIONS] = {}, delta, live;

        if (skbt_misses_poll(d->loader, per_slot, &delta) < 0 || !delta)
                return;
        live = skbt_live_active(d->loader);
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (s && s->live && (live & (1ULL << s->slot)))
                        s->lost_missed += per_slot[s->slot];
        }
}

/* Ring-buffer losses are counted in BPF; tell clients promptly when they grow. */
void skbt_sessions_poll_lost(struct skbtraced *d)
{
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (!s)
                        continue;
                session_read_lost(s);
                /* Packets end without events too (their linger or idle time runs out). */
                if (s->agg)
                        skbt_agg_tick(s->agg, &s->pending, &d->names, skbt_now_ns());
                session_flush(s);
        }
}
