/* SPDX-License-Identifier: GPL-2.0-only */
/* replay.c - render JSON events (a recording, or a recorded session live) with the daemon's
 * renderers */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crossings.h"
#include "event_decode.h"
#include "fields_render.h"
#include "graph.h"
#include "log.h"
#include "msgframe.h"
#include "pcapng.h"
#include "replay.h"
#include "skbt_regex.h"
#include "track_agg.h"

/* The BPF filter, compiled for the host: offline filters match as live ones do. */
#define SKBT_PARSE_HOST 1
#include "skbt_filter.bpf.h"

/* Output is written once this much is pending (and at every flush). */
#define REPLAY_BATCH (64 * 1024)
/* Journeys followed at once by a packet filter; past it the set starts again. */
#define FOLLOW_MAX (1u << 22)

struct replay {
        struct replay_opts o;
        struct skbt_decoder *dec;
        struct skbt_decoded ev;
        struct skbt_graph *graph;
        struct skbt_agg *agg;
        bool egress_found;
        struct crossings *crossings;
        struct pcapng_writer pcapng;
        bool pcapng_started;
        struct strbuf out;     /* rendered, not yet written */
        struct strbuf lines;   /* JSON lines for crossings and pcapng */
        struct strbuf partial; /* replay_feed(): a line cut by a batch boundary */
        uint64_t now_ns;       /* offline clock: the latest event timestamp */
        uint64_t shown, read;
        uint64_t *follow; /* track ids whose journey matched the packet filter */
        uint32_t n_follow, follow_slots;
        uint8_t *probe_ok; /* by probe id: 0 not asked yet, 1 the regex matches, 2 not */
        uint32_t n_probe_ok;
};

static const char *const format_names[] = {
    [REPLAY_TEXT] = "text",           [REPLAY_JSON] = "json",
    [REPLAY_AGGREGATE] = "aggregate", [REPLAY_AGGREGATE_JSON] = "aggregate-json",
    [REPLAY_CROSSINGS] = "crossings", [REPLAY_PCAPNG] = "pcapng",
};

int replay_format_from_string(const char *s, enum replay_format *ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
                if (strcmp(s, format_names[i]) == 0) {
                        *ret = (enum replay_format)i;
                        return 0;
                }
        return -EINVAL;
}

const char *replay_format_to_string(enum replay_format f)
{
        return (size_t)f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

/* What the recorded session added after each event: its fields and conntrack (decoded). */
static struct skbt_tails replay_tails(const struct replay *r, bool snapshot)
{
        return (struct skbt_tails){
            .fields = skbt_decoder_fields(r->dec),
            .ct = skbt_decoder_ct_layout(r->dec),
            .snapshot = snapshot,
        };
}

/* Aggregate blocks show them too, as the daemon's do (daemon/sessions/session.c). */
static void agg_hook(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                     size_t size, void *data)
{
        struct skbt_tails t = replay_tails(data, false);

        skbt_format_tails(out, fmt, &t, ev, size);
}

int replay_new(const struct replay_opts *o, struct replay **ret)
{
        struct replay *r = calloc(1, sizeof(*r));
        int e;

        if (!r)
                return -ENOMEM;
        r->o = *o;
        e = skbt_decoder_new(&r->dec);
        if (e == 0 && o->graph && (o->format == REPLAY_TEXT || o->format == REPLAY_JSON))
                e = skbt_graph_new(&r->graph);
        if (e == 0 && (o->format == REPLAY_AGGREGATE || o->format == REPLAY_AGGREGATE_JSON))
                /* The egress probe gets its id when an event first names it. */
                e = skbt_agg_new(o->format == REPLAY_AGGREGATE ? SKBT_OUTPUT_AGGREGATE
                                                               : SKBT_OUTPUT_AGGREGATE_JSON,
                                 &o->fmt, UINT32_MAX, agg_hook, r, &r->agg);
        if (e == 0 && o->format == REPLAY_CROSSINGS) {
                r->crossings = malloc(sizeof(*r->crossings));
                if (!r->crossings)
                        e = -ENOMEM;
                else
                        crossings_init(r->crossings, o->fd);
        }
        if (e < 0) {
                replay_free(r);
                return e;
        }
        *ret = r;
        return 0;
}

struct replay *replay_free(struct replay *r)
{
        if (!r)
                return NULL;
        skbt_decoder_free(r->dec);
        skbt_graph_free(r->graph);
        skbt_agg_free(r->agg);
        if (r->crossings) {
                crossings_done(r->crossings);
                free(r->crossings);
        }
        if (r->pcapng_started)
                pcapng_done(&r->pcapng);
        strbuf_done(&r->out);
        strbuf_done(&r->lines);
        strbuf_done(&r->partial);
        free(r->follow);
        free(r->probe_ok);
        free(r);
        return NULL;
}

uint64_t replay_shown(const struct replay *r)
{
        return r->shown;
}

uint64_t replay_read(const struct replay *r)
{
        return r->read;
}

/* ---- filter ---- */

static uint64_t *follow_slot(struct replay *r, uint64_t id)
{
        uint64_t h = id * 0x9e3779b97f4a7c15ULL;

        for (;; h++) {
                uint64_t *s = &r->follow[h & (r->follow_slots - 1)];

                if (*s == id || *s == 0)
                        return s;
        }
}

static void follow_add(struct replay *r, uint64_t id)
{
        uint64_t *old = r->follow;
        uint32_t n = r->follow_slots;

        if ((r->n_follow + 1) * 2 > r->follow_slots) {
                /* Bounded: a journey followed long ago is forgotten with the rest. */
                uint32_t slots = r->n_follow >= FOLLOW_MAX ? 1024 : (n ? n * 2 : 1024);
                bool keep = r->n_follow < FOLLOW_MAX;

                r->follow = calloc(slots, sizeof(*r->follow));
                if (!r->follow) {
                        r->follow = old;
                        return;
                }
                r->follow_slots = slots;
                r->n_follow = 0;
                for (uint32_t i = 0; keep && i < n; i++)
                        if (old[i]) {
                                *follow_slot(r, old[i]) = old[i];
                                r->n_follow++;
                        }
                free(old);
        }
        if (*follow_slot(r, id) == 0) {
                *follow_slot(r, id) = id;
                r->n_follow++;
        }
}

static bool followed(struct replay *r, uint64_t id)
{
        return id && r->follow_slots && *follow_slot(r, id) == id;
}

static bool in_ids(const uint64_t *ids, unsigned n, uint64_t v)
{
        for (unsigned i = 0; i < n; i++)
                if (ids[i] == v)
                        return true;
        return false;
}

static bool packet_match(struct replay *r, const struct replay_filter *f,
                         const struct skbt_event *ev)
{
        if (!f->packet.flags && !f->ifname[0])
                return true;
        if (followed(r, ev->track_id))
                return true;
        if (!skbt_filter_match(&f->packet, &ev->tuple, ev->mark) ||
            !skbt_meta_match(&f->packet, ev->pid, ev->ifindex, ev->netns) ||
            (f->ifname[0] && strncmp(ev->ifname, f->ifname, sizeof(ev->ifname)) != 0))
                return false;
        if (ev->track_id)
                follow_add(r, ev->track_id);
        return true;
}

/* The probe regex, asked once per probe: names are few, events many. */
static bool probe_selected(struct replay *r, struct skbt_regex *re, uint32_t id,
                           const struct skbt_names *n)
{
        const char *name = id < n->n_probes ? n->probes[id] : NULL;

        if (id >= r->n_probe_ok) {
                uint32_t cap = MAX(id + 1, r->n_probe_ok * 2);
                uint8_t *a = realloc(r->probe_ok, cap);

                if (!a)
                        return name && skbt_regex_match(re, name) > 0;
                memset(a + r->n_probe_ok, 0, cap - r->n_probe_ok);
                r->probe_ok = a;
                r->n_probe_ok = cap;
        }
        if (!r->probe_ok[id])
                r->probe_ok[id] = name && skbt_regex_match(re, name) > 0 ? 1 : 2;
        return r->probe_ok[id] == 1;
}

static bool selected(struct replay *r, const struct skbt_event *ev, const struct skbt_names *n)
{
        const struct replay_filter *f = r->o.filter;

        if (!f)
                return true;
        if ((f->from_ns && ev->ts < f->from_ns) || (f->to_ns && ev->ts > f->to_ns))
                return false;
        if (f->n_track_ids && !in_ids(f->track_ids, f->n_track_ids, ev->track_id))
                return false;
        if (f->n_packet_ids && !in_ids(f->packet_ids, f->n_packet_ids, ev->skb))
                return false;
        if (f->probes && !probe_selected(r, f->probes, ev->probe_id, n))
                return false;
        return packet_match(r, f, ev);
}

/* ---- rendering ---- */

/* One event as a line, the way the daemon's session renders it (daemon/sessions/session.c). */
static void render_line(struct replay *r, struct strbuf *out, enum skbt_output fmt, bool snapshot,
                        const struct skbt_names *n)
{
        const struct skbt_event *ev = &r->ev.rec.ev;
        struct skbt_tails tails = replay_tails(r, snapshot);
        struct skbt_format_opts o = r->o.fmt;

        o.stack = r->o.fmt.stack && fmt == SKBT_OUTPUT_JSON;
        if (r->ev.nf_explains) {
                o.nf = &r->ev.nf;
                o.nf_verdict = r->ev.nf_verdict;
        }
        if (r->graph)
                skbt_graph_format(r->graph, out, fmt, &o, ev, n);
        else
                skbt_format_event_opts(out, fmt, &o, ev, n);
        skbt_format_tails(out, fmt, &tails, r->ev.rec.bytes, r->ev.size);
        if (r->o.fmt.stack && fmt != SKBT_OUTPUT_JSON)
                skbt_format_stack_text(out, ev, n);
}

static void aggregate(struct replay *r, const struct skbt_names *n, uint64_t now)
{
        if (r->o.egress && !r->egress_found) {
                const char *name =
                    r->ev.rec.ev.probe_id < n->n_probes ? n->probes[r->ev.rec.ev.probe_id] : NULL;

                if (name && strcmp(name, r->o.egress) == 0) {
                        skbt_agg_set_egress(r->agg, r->ev.rec.ev.probe_id);
                        r->egress_found = true;
                }
        }
        skbt_agg_add(r->agg, &r->out, &r->ev.rec.ev, r->ev.size, n, now);
        skbt_agg_tick(r->agg, &r->out, n, now);
}

static int write_out(struct replay *r)
{
        int e = 0;

        if (strbuf_failed(&r->out) || strbuf_failed(&r->lines))
                return log_error_errno(-ENOMEM, "out of memory");
        if (r->lines.len && r->o.format == REPLAY_CROSSINGS)
                e = crossings_feed(r->crossings, r->lines.data, r->lines.len);
        else if (r->lines.len && r->o.format == REPLAY_PCAPNG)
                e = pcapng_feed(&r->pcapng, r->lines.data, r->lines.len);
        strbuf_reset(&r->lines);
        if (e == 0 && r->out.len)
                e = write_full(r->o.fd, r->out.data, r->out.len);
        strbuf_reset(&r->out);
        return e;
}

int replay_flush(struct replay *r)
{
        return write_out(r);
}

static int pcapng_begin(struct replay *r)
{
        int e;

        if (r->pcapng_started)
                return 0;
        e = pcapng_start(&r->pcapng, r->o.fd);
        r->pcapng_started = true;
        /* The recording's clock, not ours: the packets keep the time they were seen. */
        if (r->o.mono_to_real_ns)
                r->pcapng.mono_to_real_ns = r->o.mono_to_real_ns;
        return e;
}

int replay_event(struct replay *r, const char *line, size_t len, char *err, size_t errlen)
{
        const struct skbt_names *n;
        int e;

        r->read++;
        e = skbt_decode_event(r->dec, line, len, &r->ev, err, errlen);
        if (e < 0)
                return -EBADMSG;
        n = skbt_decoder_names(r->dec);
        if (r->ev.rec.ev.ts > r->now_ns)
                r->now_ns = r->ev.rec.ev.ts;
        if (!selected(r, &r->ev.rec.ev, n))
                return 0;
        r->shown++;
        switch (r->o.format) {
        case REPLAY_TEXT:
                render_line(r, &r->out, SKBT_OUTPUT_TEXT, false, n);
                break;
        case REPLAY_JSON:
                render_line(r, &r->out, SKBT_OUTPUT_JSON, false, n);
                break;
        case REPLAY_AGGREGATE:
        case REPLAY_AGGREGATE_JSON:
                aggregate(r, n, r->now_ns);
                break;
        case REPLAY_CROSSINGS:
                render_line(r, &r->lines, SKBT_OUTPUT_JSON, false, n);
                break;
        case REPLAY_PCAPNG:
                e = pcapng_begin(r);
                if (e < 0)
                        return e;
                render_line(r, &r->lines, SKBT_OUTPUT_JSON, true, n);
                break;
        }
        if (r->out.len + r->lines.len >= REPLAY_BATCH)
                return write_out(r);
        return 0;
}

int replay_feed(struct replay *r, const char *data, size_t len)
{
        const char *p = data, *end = data + len;
        char err[512];
        int e;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));

                if (!nl) {
                        strbuf_put(&r->partial, p, (size_t)(end - p));
                        break;
                }
                if (r->partial.len) {
                        strbuf_put(&r->partial, p, (size_t)(nl - p));
                        if (strbuf_failed(&r->partial))
                                return log_error_errno(-ENOMEM, "out of memory");
                        e = replay_event(r, r->partial.data, r->partial.len, err, sizeof(err));
                        strbuf_reset(&r->partial);
                } else {
                        e = replay_event(r, p, (size_t)(nl - p), err, sizeof(err));
                }
                /* The daemon's own output: a line we cannot read is a bug to report,
                 * not a reason to stop showing the rest. */
                if (e == -EBADMSG)
                        log_warning("warning: cannot render an event: %s, ignoring", err);
                else if (e < 0)
                        return e;
                p = nl + 1;
        }
        return write_out(r);
}

int replay_tick(struct replay *r, uint64_t now_ns)
{
        if (r->agg)
                skbt_agg_tick(r->agg, &r->out, skbt_decoder_names(r->dec), now_ns);
        return write_out(r);
}

int replay_finish(struct replay *r)
{
        int e;

        if (r->agg)
                skbt_agg_flush_all(r->agg, &r->out, skbt_decoder_names(r->dec));
        if (r->o.format == REPLAY_PCAPNG) {
                e = pcapng_begin(r);
                if (e < 0)
                        return e;
        }
        return write_out(r);
}
