/* SPDX-License-Identifier: GPL-2.0-only */
/* track_agg.c - aggregate output: one block per packet journey, printed when it ends */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "track_agg.h"

/*
 * Events are grouped by track id: a packet and its clones and copies.  A
 * block is printed when the packet's life ends (every skb of it freed, plus
 * SKBT_AGG_LINGER_NS for late events: a clone first seen at its own free, or
 * kfree_skbmem() after consume_skb()), at the egress probe, at a limit, when
 * idle, or at the session's end.  Events without a track id (the tracking
 * map was full, or a free function after the skb's tracking ended) join the
 * block that saw their skb, else make a block of their own.
 */

#define AGG_BUCKETS 8192 /* power of two */
#define AGG_SKBS 8       /* skb addresses indexed per packet */
#define AGG_PARTS 4096   /* continued-block memory, power of two */
#define AGG_TICK_NS (50 * 1000000ULL)

#define STR_(x) #x
#define STRINGIFY(x) STR_(x)

enum ref_kind {
        REF_TRACK = 0,
        REF_SKB = 1,
};

struct agg_packet;

struct agg_ref {
        uint64_t key;
        uint8_t kind;
        bool linked;
        struct agg_packet *p;
        struct agg_ref *next;
};

struct agg_ev {
        uint64_t seq;
        size_t size;
        struct skbt_event ev; /* stack frames follow when ev.stack_depth */
};

struct agg_skb {
        uint64_t addr;
        bool freed;
};

struct agg_packet {
        struct agg_packet *prev, *next; /* open packets, oldest first */
        uint64_t track_id;              /* 0: untracked */
        uint64_t last_ns, ended_ns;     /* CLOCK_MONOTONIC; ended_ns 0: alive */
        uint32_t part;                  /* 0, or 1, 2, ... for a continued journey */
        struct agg_ev **ev;
        uint32_t n_ev, cap;
        size_t bytes;
        struct agg_skb skbs[AGG_SKBS];
        uint32_t n_skbs;
        uint32_t more_skbs; /* beyond AGG_SKBS: not indexed, not awaited */
        struct agg_ref tref;
        struct agg_ref sref[AGG_SKBS];
};

struct agg_part {
        uint64_t track_id;
        uint32_t next_part;
};

struct skbt_agg {
        enum skbt_output fmt;
        struct skbt_format_opts opts;
        uint32_t egress_probe;
        skbt_agg_event_hook hook;
        void *hook_data;
        struct agg_ref *bucket[AGG_BUCKETS];
        struct agg_packet *head, *tail;
        uint32_t n_open;
        size_t bytes;
        uint64_t seq;
        uint64_t last_tick_ns;
        struct agg_part parts[AGG_PARTS];
};

static uint32_t ref_hash(uint64_t key, uint8_t kind)
{
        uint64_t h = (key ^ ((uint64_t)kind << 63)) * 0x9e3779b97f4a7c15ULL;

        return (uint32_t)(h >> 40) & (AGG_BUCKETS - 1);
}

static void ref_link(struct skbt_agg *a, struct agg_ref *r, uint64_t key, uint8_t kind,
                     struct agg_packet *p)
{
        uint32_t h = ref_hash(key, kind);

        r->key = key;
        r->kind = kind;
        r->p = p;
        /* At the head: the newest packet with this key is found first. */
        r->next = a->bucket[h];
        a->bucket[h] = r;
        r->linked = true;
}

static void ref_unlink(struct skbt_agg *a, struct agg_ref *r)
{
        struct agg_ref **pp;

        if (!r->linked)
                return;
        for (pp = &a->bucket[ref_hash(r->key, r->kind)]; *pp; pp = &(*pp)->next)
                if (*pp == r) {
                        *pp = r->next;
                        break;
                }
        r->linked = false;
}

static struct agg_packet *ref_find(struct skbt_agg *a, uint64_t key, uint8_t kind)
{
        for (struct agg_ref *r = a->bucket[ref_hash(key, kind)]; r; r = r->next)
                if (r->key == key && r->kind == kind)
                        return r->p;
        return NULL;
}

int skbt_agg_new(enum skbt_output fmt, const struct skbt_format_opts *opts, uint32_t egress_probe,
                 skbt_agg_event_hook hook, void *hook_data, struct skbt_agg **ret)
{
        struct skbt_agg *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        a->fmt = fmt;
        a->opts = *opts;
        a->opts.track = true;
        a->egress_probe = egress_probe;
        a->hook = hook;
        a->hook_data = hook_data;
        *ret = a;
        return 0;
}

void skbt_agg_set_egress(struct skbt_agg *a, uint32_t egress_probe)
{
        a->egress_probe = egress_probe;
}

static void packet_free(struct skbt_agg *a, struct agg_packet *p)
{
        ref_unlink(a, &p->tref);
        for (uint32_t i = 0; i < AGG_SKBS; i++)
                ref_unlink(a, &p->sref[i]);
        if (p->prev)
                p->prev->next = p->next;
        else
                a->head = p->next;
        if (p->next)
                p->next->prev = p->prev;
        else
                a->tail = p->prev;
        a->n_open--;
        a->bytes -= p->bytes;
        for (uint32_t i = 0; i < p->n_ev; i++)
                free(p->ev[i]);
        free(p->ev);
        free(p);
}

struct skbt_agg *skbt_agg_free(struct skbt_agg *a)
{
        if (!a)
                return NULL;
        while (a->head)
                packet_free(a, a->head);
        free(a);
        return NULL;
}

uint32_t skbt_agg_open(const struct skbt_agg *a)
{
        return a->n_open;
}

size_t skbt_agg_bytes(const struct skbt_agg *a)
{
        return a->bytes;
}

static struct agg_part *part_slot(struct skbt_agg *a, uint64_t track_id)
{
        return &a->parts[(track_id * 0x9e3779b97f4a7c15ULL >> 52) & (AGG_PARTS - 1)];
}

/* A block of this journey was printed before its end: the next one says "continued". */
static void part_remember(struct skbt_agg *a, const struct agg_packet *p)
{
        struct agg_part *s;

        if (!p->track_id)
                return;
        s = part_slot(a, p->track_id);
        s->track_id = p->track_id;
        s->next_part = p->part + 1;
}

static uint32_t part_next(struct skbt_agg *a, uint64_t track_id)
{
        struct agg_part *s = part_slot(a, track_id);

        return track_id && s->track_id == track_id ? s->next_part : 0;
}

static struct agg_packet *packet_new(struct skbt_agg *a, const struct skbt_event *ev)
{
        struct agg_packet *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->track_id = ev->track_id;
        p->part = part_next(a, ev->track_id);
        if (ev->track_id)
                ref_link(a, &p->tref, ev->track_id, REF_TRACK, p);
        p->prev = a->tail;
        if (a->tail)
                a->tail->next = p;
        else
                a->head = p;
        a->tail = p;
        a->n_open++;
        return p;
}

static struct agg_skb *packet_skb(struct skbt_agg *a, struct agg_packet *p, uint64_t addr)
{
        for (uint32_t i = 0; i < p->n_skbs; i++)
                if (p->skbs[i].addr == addr)
                        return &p->skbs[i];
        if (p->n_skbs == AGG_SKBS) {
                p->more_skbs++;
                return NULL;
        }
        p->skbs[p->n_skbs] = (struct agg_skb){.addr = addr};
        ref_link(a, &p->sref[p->n_skbs], addr, REF_SKB, p);
        return &p->skbs[p->n_skbs++];
}

static bool packet_alive(const struct agg_packet *p)
{
        for (uint32_t i = 0; i < p->n_skbs; i++)
                if (!p->skbs[i].freed)
                        return true;
        return false;
}

/* ---- rendering ---- */

static int ev_cmp(const void *x, const void *y)
{
        const struct agg_ev *a = *(const struct agg_ev *const *)x,
                            *b = *(const struct agg_ev *const *)y;

        if (a->ev.ts != b->ev.ts)
                return a->ev.ts < b->ev.ts ? -1 : 1;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool has_l3(const struct skbt_event *ev)
{
        return ev->tuple.flags & SKBT_TUPLE_L3;
}

/* The event that names the block: the first with an IP header, else the first. */
static const struct skbt_event *header_event(const struct agg_packet *p)
{
        for (uint32_t i = 0; i < p->n_ev; i++)
                if (has_l3(&p->ev[i]->ev))
                        return &p->ev[i]->ev;
        return &p->ev[0]->ev;
}

/*
 * Whether ev's flow reads as the header's (flow: the header's, rendered).
 * The text decides, not the parsed bytes: two probes may see the same
 * packet from its Ethernet or its IP header (SKBT_TUPLE_L2), which no output
 * shows, and a recording read back (render/event_decode.c) has only what the
 * output showed.
 */
static bool same_flow(struct strbuf *scratch, const struct strbuf *flow,
                      const struct skbt_event *ev)
{
        strbuf_reset(scratch);
        skbt_format_flow(scratch, ev);
        return !strbuf_failed(scratch) && scratch->len == flow->len &&
               memcmp(scratch->data, flow->data, flow->len) == 0;
}

static void put_end_text(struct strbuf *out, const char *end)
{
        strbuf_puts(out, end);
}

static void render_text(struct skbt_agg *a, struct strbuf *out, struct agg_packet *p,
                        const char *end, const struct skbt_names *names)
{
        _cleanup_strbuf_ struct strbuf flow = STRBUF_INIT, scratch = STRBUF_INIT;
        const struct skbt_event *h = header_event(p);
        struct skbt_format_opts o = a->opts;

        skbt_format_flow(&flow, h);
        strbuf_puts(out, "=== ");
        strbuf_put(out, flow.data ? flow.data : "", flow.len);
        if (p->track_id) {
                strbuf_puts(out, " (track ");
                strbuf_put_u64(out, p->track_id);
        } else {
                strbuf_puts(out, " (untracked ");
                strbuf_put_hex(out, p->skbs[0].addr);
        }
        if (p->part) {
                strbuf_puts(out, ", continued: part ");
                strbuf_put_u64(out, p->part + 1);
        }
        strbuf_puts(out, ": ");
        strbuf_put_u64(out, p->n_ev);
        strbuf_puts(out, p->n_ev == 1 ? " event, " : " events, ");
        strbuf_put_u64(out, p->n_skbs + p->more_skbs);
        strbuf_puts(out, p->n_skbs + p->more_skbs == 1 ? " skb, " : " skbs, ");
        put_end_text(out, end);
        strbuf_puts(out, ")\n");
        o.track = false; /* in the header */
        o.stack = false; /* after the hook's additions to the line */
        for (uint32_t i = 0; i < p->n_ev; i++) {
                const struct skbt_event *ev = &p->ev[i]->ev;

                o.omit_flow = same_flow(&scratch, &flow, ev);
                skbt_format_text_opts(out, &o, ev, names);
                if (a->hook)
                        a->hook(out, SKBT_OUTPUT_TEXT, ev, p->ev[i]->size, a->hook_data);
                if (a->opts.stack)
                        skbt_format_stack_text(out, ev, names);
        }
        strbuf_putc(out, '\n');
}

static void render_json(struct skbt_agg *a, struct strbuf *out, struct agg_packet *p,
                        const char *end, const struct skbt_names *names)
{
        _cleanup_strbuf_ struct strbuf flow = STRBUF_INIT;

        skbt_format_flow(&flow, header_event(p));
        strbuf_puts(out, "{\"track_id\":");
        strbuf_put_u64(out, p->track_id);
        strbuf_puts(out, ",\"part\":");
        strbuf_put_u64(out, p->part + 1);
        strbuf_puts(out, ",\"flow\":");
        strbuf_put_json_string(out, flow.data ? flow.data : "", flow.len);
        strbuf_puts(out, ",\"end\":");
        strbuf_put_json_string(out, end, strlen(end));
        strbuf_puts(out, ",\"packets\":[");
        for (uint32_t i = 0; i < p->n_skbs; i++) {
                strbuf_puts(out, i ? ",\"" : "\"");
                strbuf_put_hex(out, p->skbs[i].addr);
                strbuf_putc(out, '"');
        }
        strbuf_puts(out, "],\"events\":[");
        for (uint32_t i = 0; i < p->n_ev; i++) {
                if (i)
                        strbuf_putc(out, ',');
                skbt_format_json_opts(out, &a->opts, &p->ev[i]->ev, names);
                if (a->hook)
                        a->hook(out, SKBT_OUTPUT_JSON, &p->ev[i]->ev, p->ev[i]->size, a->hook_data);
                /* Each object ends its line; inside the block it is an array member. */
                if (!strbuf_failed(out) && out->len && out->data[out->len - 1] == '\n')
                        out->len--;
        }
        strbuf_puts(out, "]}\n");
}

/* Print the block and forget the packet.  early: its journey may go on. */
static void packet_flush(struct skbt_agg *a, struct strbuf *out, struct agg_packet *p,
                         const char *end, bool early, const struct skbt_names *names)
{
        if (p->n_ev) {
                qsort(p->ev, p->n_ev, sizeof(*p->ev), ev_cmp);
                if (a->fmt == SKBT_OUTPUT_AGGREGATE_JSON)
                        render_json(a, out, p, end, names);
                else
                        render_text(a, out, p, end, names);
        }
        if (early)
                part_remember(a, p);
        packet_free(a, p);
}

/* ---- events ---- */

static struct agg_packet *packet_of(struct skbt_agg *a, const struct skbt_event *ev)
{
        struct agg_packet *p;

        if (ev->track_id) {
                p = ref_find(a, ev->track_id, REF_TRACK);
                if (p)
                        return p;
        } else {
                /* No track id: the block that saw this skb, if any. */
                p = ref_find(a, ev->skb, REF_SKB);
                if (p)
                        return p;
        }
        return packet_new(a, ev);
}

static bool packet_append(struct skbt_agg *a, struct agg_packet *p, const struct skbt_event *ev,
                          size_t size)
{
        struct agg_ev *e;

        if (p->n_ev == p->cap) {
                uint32_t cap = p->cap ? p->cap * 2 : 16;
                struct agg_ev **n = reallocarray(p->ev, cap, sizeof(*n));

                if (!n)
                        return false;
                p->ev = n;
                p->cap = cap;
        }
        e = malloc(offsetof(struct agg_ev, ev) + size);
        if (!e)
                return false;
        e->seq = a->seq++;
        e->size = size;
        memcpy(&e->ev, ev, size);
        p->ev[p->n_ev++] = e;
        p->bytes += size;
        a->bytes += size;
        return true;
}

void skbt_agg_add(struct skbt_agg *a, struct strbuf *out, const struct skbt_event *ev, size_t size,
                  const struct skbt_names *names, uint64_t now_ns)
{
        struct agg_packet *p = packet_of(a, ev);
        struct agg_skb *skb;

        if (!p || !packet_append(a, p, ev, size)) {
                /* Out of memory: print the event on its own rather than lose it. */
                strbuf_puts(out, "=== out of memory holding a packet's events; one event:\n");
                skbt_format_event_opts(out, SKBT_OUTPUT_TEXT, &a->opts, ev, names);
                if (p && p->n_ev == 0)
                        packet_free(a, p);
                return;
        }
        p->last_ns = now_ns;
        skb = packet_skb(a, p, ev->skb);
        if (skb && !skb->freed) {
                /* A new or living skb: the journey goes on. */
                p->ended_ns = 0;
                if (ev->flags & SKBT_EV_FREE) {
                        skb->freed = true;
                        if (!packet_alive(p))
                                p->ended_ns = now_ns ? now_ns : 1;
                }
        }
        if (ev->probe_id == a->egress_probe) {
                packet_flush(a, out, p, "egress", true, names);
        } else if (p->n_ev >= SKBT_AGG_MAX_EVENTS) {
                packet_flush(
                    a, out, p,
                    "printed early: " STRINGIFY(SKBT_AGG_MAX_EVENTS) " events held (limit)", true,
                    names);
        }
        while (a->head && (a->n_open > SKBT_AGG_MAX_OPEN || a->bytes > SKBT_AGG_MAX_BYTES))
                packet_flush(
                    a, out, a->head,
                    a->n_open > SKBT_AGG_MAX_OPEN
                        ? "printed early: " STRINGIFY(SKBT_AGG_MAX_OPEN) " packets held (limit)"
                        : "printed early: event memory limit",
                    true, names);
}

void skbt_agg_tick(struct skbt_agg *a, struct strbuf *out, const struct skbt_names *names,
                   uint64_t now_ns)
{
        struct agg_packet *p, *next;

        if (now_ns - a->last_tick_ns < AGG_TICK_NS)
                return;
        a->last_tick_ns = now_ns;
        for (p = a->head; p; p = next) {
                next = p->next;
                if (p->ended_ns && now_ns - p->ended_ns >= SKBT_AGG_LINGER_NS)
                        packet_flush(a, out, p, "freed", false, names);
                else if (!p->ended_ns && now_ns - p->last_ns >= SKBT_AGG_IDLE_NS)
                        packet_flush(a, out, p, "idle: no free seen", true, names);
        }
}

void skbt_agg_flush_all(struct skbt_agg *a, struct strbuf *out, const struct skbt_names *names)
{
        while (a->head)
                packet_flush(a, out, a->head, a->head->ended_ns ? "freed" : "session ended",
                             !a->head->ended_ns, names);
}
