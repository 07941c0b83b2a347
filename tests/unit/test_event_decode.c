/* SPDX-License-Identifier: GPL-2.0-only */
/* test_event_decode.c - recorded JSON events read back render exactly as the live session did */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "event_decode.h"
#include "fields_render.h"
#include "format.h"
#include "graph.h"
#include "json_scan.h"
#include "strbuf.h"
#include "testlib.h"
#include "track_agg.h"

/*
 * The property ipftctl show rests on: for any record the daemon can render,
 * JSON -> skbt_decode_event() -> the same renderers gives the same bytes as
 * rendering the record itself, in every output (text, JSON, function_graph,
 * aggregate blocks), with every session option.  Records are random, within
 * what the packet parser and the ring-buffer callback can produce.  A member
 * added to the output and not decoded makes this fail.
 */

#define SESSIONS 300
#define EVENTS 60

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static uint32_t below(uint32_t n)
{
        return (uint32_t)(rnd() % n);
}

static bool chance(unsigned percent)
{
        return below(100) < percent;
}

/* ---- the live side's names ---- */

static const char *const probe_pool[] = {
    "net:netif_receive_skb", "ip_rcv",           "skb:kfree_skb",
    "__ip_local_out",        "kfree_skb_reason", "consume_skb",
    "nf:nft_do_chain",       "ip_output",        "tcp_v4_rcv",
    "we\"ird\\name\x01",     "caf\xc3\xa9_rcv",  "bad\xff",
};
#define N_PROBES 14 /* two more ids than names: holes, printed as probe#N */

static const char *probes[N_PROBES];
static const char *groups[N_PROBES];

static const char *const reasons[] = {
    [0] = "NOT_DROPPED_YET",
    [2] = "NO_SOCKET",
    [5] = "TCP_CSUM",
    [6] = "weird \"reason\"",
};

/* Symbols: a few known addresses, the tracing glue among them. */
static const struct {
        uint64_t addr;
        const char *name;
} symbols[] = {
    {0xffffffff81000010ULL, "bpf_prog_1234_body"},
    {0xffffffff81000020ULL, "__bpf_trace_kfree_skb"},
    {0xffffffff81000030ULL, "udp_queue_rcv_one_skb+0x1a/0x200"},
    {0xffffffff81000040ULL, "ip_rcv+0x5/0xf0"},
    {0xffffffff81000050ULL, "ftrace_caller+0x1/0x2"},
    {0xffffffff81000060ULL, "name with \"quotes\" and \xff"},
};

static int live_symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(symbols); i++)
                if (symbols[i].addr == addr) {
                        snprintf(buf, len, "%s", symbols[i].name);
                        return 0;
                }
        return -ENOENT;
}

/* Some namespaces have names (ip netns), some odd; the same inode keeps its name. */
static const char *live_netns_name(void *data, uint32_t inode, uint64_t ts)
{
        static const char *const names[] = {"blue", "red\"\\ \xff\x01", "caf\xc3\xa9"};

        return inode % 4 < 3 ? names[inode % 4] : NULL;
}

static const struct skbt_names live_names = {
    .probes = probes,
    .n_probes = N_PROBES - 2,
    .drop_reasons = reasons,
    .n_drop_reasons = ARRAY_SIZE(reasons),
    .symbolize = live_symbolize,
    .probe_groups = groups,
    .netns_name = live_netns_name,
};

static void names_init(void)
{
        static const char *const group_pool[] = {"link-in", "ip-out", "weird group", NULL};

        for (uint32_t i = 0; i < ARRAY_SIZE(probe_pool); i++) {
                probes[i] = probe_pool[i];
                groups[i] = group_pool[i % ARRAY_SIZE(group_pool)];
        }
}

/* ---- random records ---- */

static uint64_t rnd_addr(void)
{
        return chance(60) ? symbols[below(ARRAY_SIZE(symbols))].addr
                          : (chance(50) ? 0 : 0xffffffff80000000ULL | rnd());
}

/* Bytes as a device or task may name itself: anything but NUL, sometimes full. */
static void rnd_name(char *dst, size_t size)
{
        static const char palette[] = "abcXYZ019 -_.:\\\"\x01\x1f\x7f\x80\xc3\xa9\xe2\x82\xac\xff";
        size_t n = below((uint32_t)size + 1);

        memset(dst, 0, size);
        for (size_t i = 0; i < n; i++)
                dst[i] = palette[below(sizeof(palette) - 1)];
}

static void rnd_tuple(struct skbt_tuple *t)
{
        static const uint8_t protos[] = {1, 6, 17, 58, 132, 136, 47, 0, 255};

        memset(t, 0, sizeof(*t));
        if (chance(25)) {
                /* No IP header: the link layer's findings only. */
                if (chance(40))
                        t->flags |= SKBT_TUPLE_TRUNCATED;
                if (chance(40)) {
                        t->flags |= SKBT_TUPLE_VLAN;
                        t->vlan_id = (uint16_t)below(4096);
                }
                if (chance(50))
                        t->flags |= SKBT_TUPLE_L2;
                return;
        }
        t->flags = SKBT_TUPLE_L3 | (chance(50) ? SKBT_TUPLE_L2 : 0);
        t->l3 = chance(50) ? SKBT_L3_IPV4 : SKBT_L3_IPV6;
        for (int i = 0; i < 16; i++) {
                t->saddr[i] =
                    t->l3 == SKBT_L3_IPV4 && i >= 4 ? 0 : (uint8_t)(chance(40) ? 0 : rnd());
                t->daddr[i] =
                    t->l3 == SKBT_L3_IPV4 && i >= 4 ? 0 : (uint8_t)(chance(40) ? 0 : rnd());
        }
        if (t->l3 == SKBT_L3_IPV6 && chance(20)) {
                memset(t->saddr, 0, 10);
                t->saddr[10] = t->saddr[11] = 0xff;
        }
        t->l4proto = protos[below(ARRAY_SIZE(protos))];
        if (chance(20)) {
                t->flags |= SKBT_TUPLE_VLAN;
                t->vlan_id = (uint16_t)below(4096);
        }
        /* As the parser leaves it: a fragment, cut short, or the L4 header read. */
        switch (below(4)) {
        case 0:
                t->flags |= SKBT_TUPLE_FRAGMENT;
                return;
        case 1:
                if (t->l4proto == 1 || t->l4proto == 6 || t->l4proto == 17 || t->l4proto == 58 ||
                    t->l4proto == 132 || t->l4proto == 136)
                        t->flags |= SKBT_TUPLE_TRUNCATED;
                return;
        }
        if (t->l4proto == 47 || t->l4proto == 0 || t->l4proto == 255)
                return; /* not decoded by the parser: no L4 */
        t->flags |= SKBT_TUPLE_L4;
        /* A TCP skb before its headers: the tuple is its socket's. */
        if (t->l4proto == 6 && chance(20))
                t->flags |= SKBT_TUPLE_SOCK;
        t->sport = (uint16_t)rnd();
        t->dport = (uint16_t)rnd();
        t->tcp_flags = (uint8_t)rnd();
        t->icmp_type = (uint8_t)(chance(50) ? below(20) : 128 + below(20));
        t->icmp_code = (uint8_t)(chance(60) ? 0 : rnd());
        t->icmp_id = (uint16_t)rnd();
        t->icmp_seq = (uint16_t)rnd();
}

/* A tunnel as the parser notes it; the renderers show all but inner_off and the L2 flag. */
static void rnd_tunnel(struct skbt_tunnel *tun)
{
        static const uint16_t inner_protos[] = {0x0800, 0x86dd, 0x0806, 0};

        memset(tun, 0, sizeof(*tun));
        tun->type = (uint8_t)(SKBT_TUN_VXLAN + below(SKBT_TUN_IPIP));
        if (tun->type == SKBT_TUN_VXLAN || tun->type == SKBT_TUN_GRETAP)
                tun->flags |= SKBT_TUN_F_L2;
        if (tun->type != SKBT_TUN_IPIP && chance(70)) {
                tun->flags |= SKBT_TUN_F_ID;
                tun->id = tun->type == SKBT_TUN_GRE || tun->type == SKBT_TUN_GRETAP
                              ? (uint32_t)rnd()
                              : below(1u << 24);
        }
        tun->inner_off = (uint16_t)(16 + below(100));
        tun->inner_proto = inner_protos[below(ARRAY_SIZE(inner_protos))];
        rnd_tuple(&tun->inner);
}

struct session {
        struct skbt_format_opts opts; /* track, detail, stack */
        struct skbt_session_fields sf;
        bool snapshot;
        bool ct_on; /* --ct, with the kernel's layout of struct nf_conn */
        struct skbt_ct_layout ct;
};

static void rnd_session(struct session *s)
{
        static const char *const field_names[] = {"len",     "gso_size", "skb->dev->mtu",
                                                  "dev",     "hash",     "shinfo->gso_type",
                                                  "skb->sk", "priority", "tstamp"};

        memset(s, 0, sizeof(*s));
        s->opts.track = chance(50);
        s->opts.detail = chance(50);
        s->opts.stack = chance(30);
        s->opts.nf_rules = chance(50);
        s->snapshot = chance(30);
        s->ct_on = chance(40);
        /* A 6.x nf_conn as BTF describes it; zone, mark and TCP state as configured. */
        s->ct = (struct skbt_ct_layout){.len = 248,
                                        .status = 128,
                                        .status_size = 8,
                                        .mark = 136,
                                        .zone = 144,
                                        .tcp_state = 200,
                                        .tuple = {16, 72},
                                        .src_u3 = 0,
                                        .src_u = 16,
                                        .src_l3num = 18,
                                        .dst_u3 = 20,
                                        .dst_u = 36,
                                        .dst_protonum = 38,
                                        .has_mark = chance(70),
                                        .has_zone = chance(70),
                                        .has_tcp_state = chance(80)};
        if (chance(50))
                return;
        s->sf.n = 1 + below(SKBT_FIELDS_PER_SESSION);
        for (uint32_t i = 0; i < s->sf.n; i++) {
                struct skbt_field_spec *f = &s->sf.f[i];
                static const uint8_t sizes[] = {1, 2, 4, 8};

                snprintf(f->name, sizeof(f->name), "%s", field_names[i]);
                f->slot = (uint8_t)below(SKBT_FIELDS_MAX);
                f->f.size = sizes[below(4)];
                f->f.bit_size = chance(20) ? (uint8_t)(1 + below(f->f.size * 8u - 1)) : 0;
                f->is_ptr = chance(20);
                f->is_signed = !f->is_ptr && chance(40);
                f->big_endian = chance(20);
        }
}

/* A record and what the session adds when rendering it. */
struct live {
        union {
                struct skbt_event ev;
                uint8_t bytes[SKBT_REC_BIG];
        } rec;
        size_t size;
        bool nf_explains;
        struct skbt_nf nf;
        uint32_t verdict;
};

static void rnd_nf(struct skbt_nf *nf, uint32_t *verdict)
{
        static const uint8_t pfs[] = {1, 2, 3, 5, 7, 10, 0, 200};
        static const uint32_t verdicts[] = {0, 1, 2, 3, 4, 5, 2 | (5u << 16), 77};

        memset(nf, 0, sizeof(*nf));
        if (chance(20)) {
                /* A tc or XDP program's run: its type, direction (tc) and verdict. */
                static const uint32_t bpf_verdicts[] = {0, 1, 2, 3, 4, 7, 8, 77, (uint32_t)-1};

                nf->engine = chance(50) ? SKBT_NF_TC : SKBT_NF_XDP;
                nf->hook = nf->engine == SKBT_NF_TC ? (uint8_t)below(2) : 0;
                *verdict = bpf_verdicts[below(ARRAY_SIZE(bpf_verdicts))];
                return;
        }
        nf->engine = chance(40)   ? SKBT_NF_NFTABLES
                     : chance(70) ? SKBT_NF_XTABLES
                                  : SKBT_NF_EBTABLES;
        nf->pf = nf->engine == SKBT_NF_EBTABLES ? 7 : pfs[below(ARRAY_SIZE(pfs))];
        nf->hook = (uint8_t)below(8);
        rnd_name(nf->table, sizeof(nf->table) - 1);
        if (nf->engine == SKBT_NF_NFTABLES || chance(30))
                rnd_name(nf->chain, sizeof(nf->chain) - 1);
        /* The rule that decided (--nf-rules): a rule, maybe without position or chain, or
         * the policy; shown only by sessions that asked. */
        nf->rule_type = (uint8_t)below(3);
        if (nf->rule_type == SKBT_NF_RULE_RULE) {
                nf->rule_handle = chance(10) ? UINT64_MAX : below(1000);
                nf->rule_pos = chance(20) ? 0 : (uint32_t)below(300);
                if (chance(70))
                        rnd_name(nf->rule_chain, sizeof(nf->rule_chain) - 1);
        }
        *verdict = verdicts[below(ARRAY_SIZE(verdicts))];
}

/* A conntrack entry as BPF copies it: raw bytes, the members at the layout's offsets. */
static void rnd_ct(const struct session *s, struct skbt_ct_rec *r)
{
        static const uint8_t flags[] = {0,
                                        SKBT_CT_UNTRACKED,
                                        SKBT_CT_ENTRY,
                                        SKBT_CT_ENTRY,
                                        SKBT_CT_ENTRY | SKBT_CT_FAULT,
                                        SKBT_CT_ENTRY | SKBT_CT_UNTRACKED};
        static const uint8_t protos[] = {1, 6, 6, 17, 33, 58, 132, 136, 47};
        const struct skbt_ct_layout *l = &s->ct;
        uint8_t proto = protos[below(ARRAY_SIZE(protos))];
        uint16_t af = chance(10) ? (uint16_t)rnd() : chance(50) ? 2 : 10;

        r->flags = flags[below(ARRAY_SIZE(flags))];
        r->ctinfo = (uint8_t)below(8);
        r->len = (uint16_t)(chance(90) ? l->len : below(l->len));
        for (uint32_t i = 0; i < SKBT_CT_RAW_MAX; i++)
                r->raw[i] = (uint8_t)(chance(30) ? 0 : rnd());
        r->raw[l->tcp_state] = (uint8_t)below(12);
        for (int d = 0; d < 2; d++) {
                r->raw[l->tuple[d] + l->dst_protonum] = proto;
                memcpy(r->raw + l->tuple[d] + l->src_l3num, &af, 2);
        }
}

static void rnd_record(const struct session *s, struct live *l)
{
        struct skbt_event *ev = &l->rec.ev;
        static const uint16_t ethertypes[] = {0x0800, 0x86dd, 0x0806, 0x88cc, 0};

        memset(l, 0, sizeof(*l));
        ev->ts = chance(10) ? rnd() : rnd() % 100000000000000ULL;
        ev->skb = chance(5) ? 0 : 0xffff888000000000ULL | (rnd() & 0xffffffffffULL);
        ev->cpu = chance(90) ? below(16) : (uint32_t)rnd();
        ev->probe_id = below(N_PROBES);
        ev->mark = chance(50) ? 0 : (uint32_t)rnd();
        ev->len = (uint32_t)rnd();
        ev->ifindex = chance(20) ? 0 : (uint32_t)rnd();
        ev->netns = (uint32_t)rnd();
        ev->pid = (uint32_t)rnd();
        ev->protocol = ethertypes[below(ARRAY_SIZE(ethertypes))];
        rnd_name(ev->ifname, sizeof(ev->ifname));
        rnd_name(ev->comm, sizeof(ev->comm));
        rnd_tuple(&ev->tuple);
        if (chance(25))
                rnd_tunnel(&ev->tun);
        ev->track_id = chance(20) ? 0 : rnd();
        if (chance(30)) {
                ev->flags |= SKBT_EV_RETURN;
                ev->retval = (int64_t)rnd();
        }
        if (chance(20)) {
                ev->flags |= SKBT_EV_FREE;
        }
        l->size = sizeof(*ev);
        if (chance(15) && !s->opts.stack) {
                /* A verdict's record: no drop, no stack, its struct skbt_nf after the event. */
                struct skbt_nf nf;
                uint32_t verdict;

                rnd_nf(&nf, &verdict);
                memcpy(ev + 1, &nf, sizeof(nf));
                ev->flags |= SKBT_EV_NF;
                ev->retval = verdict;
                l->size = sizeof(*ev) + sizeof(nf);
        } else {
                if (chance(25)) {
                        ev->flags |= SKBT_EV_DROP;
                        ev->drop_reason = below(12);
                        ev->location = rnd_addr();
                        if (chance(30)) {
                                l->nf_explains = true;
                                rnd_nf(&l->nf, &l->verdict);
                        }
                }
                if (s->opts.stack) {
                        uint64_t *frames = (uint64_t *)(ev + 1);

                        ev->stack_depth = (uint8_t)below(SKBT_STACK_MAX + 1);
                        for (uint32_t i = 0; i < ev->stack_depth; i++)
                                frames[i] = rnd_addr();
                        l->size += ev->stack_depth * sizeof(uint64_t);
                }
        }
        if (s->sf.n && chance(90)) {
                uint64_t *vals = (uint64_t *)(l->rec.bytes + SKBT_REC_VALS_OFF);

                ev->flags |= SKBT_EV_FIELDS;
                for (int i = 0; i < SKBT_FIELDS_MAX; i++)
                        vals[i] =
                            chance(30) ? (uint64_t) - (int64_t)below(1000) : rnd() >> below(64);
                l->size = SKBT_REC_BIG;
        }
        if (s->ct_on && chance(90)) {
                rnd_ct(s, (struct skbt_ct_rec *)(l->rec.bytes + SKBT_REC_CT_OFF));
                ev->flags |= SKBT_EV_CT;
                l->size = SKBT_REC_BIG;
        }
        if (s->snapshot && chance(80)) {
                struct skbt_snap *snap = (struct skbt_snap *)(l->rec.bytes + SKBT_REC_SNAP_OFF);

                ev->flags |= SKBT_EV_SNAP;
                snap->len = below(SKBT_SNAP_MAX + 1);
                snap->orig_len = chance(50) ? snap->len + below(2000) : below(200);
                snap->l2 = (uint8_t)chance(50);
                for (uint32_t i = 0; i < snap->len; i++)
                        snap->data[i] = (uint8_t)rnd();
                l->size = SKBT_REC_BIG;
        }
}

/* ---- rendering, as the daemon's session.c does it ---- */

static void render_line(struct strbuf *out, enum skbt_output fmt, const struct session *s,
                        const struct skbt_event *ev, size_t size, bool nf_explains,
                        const struct skbt_nf *nf, uint32_t verdict, const struct skbt_names *n,
                        const struct skbt_tails *tails, struct skbt_graph *graph)
{
        struct skbt_format_opts o = s->opts;
        struct skbt_tails t = *tails;

        o.stack = s->opts.stack && fmt == SKBT_OUTPUT_JSON;
        if (nf_explains) {
                o.nf = nf;
                o.nf_verdict = verdict;
        }
        if (graph)
                skbt_graph_format(graph, out, fmt, &o, ev, n);
        else
                skbt_format_event_opts(out, fmt, &o, ev, n);
        t.snapshot = s->snapshot;
        skbt_format_tails(out, fmt, &t, ev, size);
        if (s->opts.stack && fmt != SKBT_OUTPUT_JSON)
                skbt_format_stack_text(out, ev, n);
}

/* The live session's tails, or those of what the decoder read back (known as it reads). */
static struct skbt_tails live_tails(const struct session *s)
{
        return (struct skbt_tails){.fields = &s->sf, .ct = s->ct_on ? &s->ct : NULL};
}

static struct skbt_tails back_tails(const struct skbt_decoder *d)
{
        return (struct skbt_tails){.fields = skbt_decoder_fields(d),
                                   .ct = skbt_decoder_ct_layout(d)};
}

struct hook_data {
        const struct session *s; /* the live side's, or NULL */
        const struct skbt_decoder *d;
};

static void agg_hook(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                     size_t size, void *data)
{
        const struct hook_data *h = data;
        struct skbt_tails t = h->s ? live_tails(h->s) : back_tails(h->d);

        skbt_format_tails(out, fmt, &t, ev, size);
}

static const char *cstr(struct strbuf *b)
{
        return b->data ? strbuf_cstr(b) : "";
}

/* Compare two renderings; report the first difference once per kind. */
static void same(const char *what, struct strbuf *live, struct strbuf *back, const char *json)
{
        static unsigned reported;

        if (live->len == back->len &&
            (!live->len || memcmp(live->data, back->data, live->len) == 0))
                return;
        testlib_failures++;
        if (reported++ < 5) {
                size_t i = 0;

                while (i < live->len && i < back->len && live->data[i] == back->data[i])
                        i++;
                /* From the line where they part. */
                while (i > 0 && live->data[i - 1] != '\n')
                        i--;
                fprintf(
                    stderr,
                    "%s differs after the round trip\n  json: %s  live: %.300s\n  back: %.300s\n",
                    what, json, cstr(live) + i, cstr(back) + i);
        }
}

/* Both aggregators of one output get the same events, at the same times. */
static void agg_add(struct skbt_agg *live, struct skbt_agg *back, struct strbuf *out_live,
                    struct strbuf *out_back, const struct live *l, const struct skbt_decoded *d,
                    const struct skbt_names *bn, uint64_t now)
{
        skbt_agg_add(live, out_live, &l->rec.ev, l->size, &live_names, now);
        skbt_agg_add(back, out_back, &d->rec.ev, d->size, bn, now);
        skbt_agg_tick(live, out_live, &live_names, now);
        skbt_agg_tick(back, out_back, bn, now);
}

/* One event in text, JSON and function_graph, rendered live and read back. */
static void check_lines(const struct session *s, const struct live *l,
                        const struct skbt_decoded *back, const struct skbt_names *bn,
                        const struct skbt_decoder *d, struct skbt_graph **g, const char *json)
{
        _cleanup_strbuf_ struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        struct skbt_tails lt = live_tails(s), bt = back_tails(d);

        for (int fmt = 0; fmt < 2; fmt++) {
                strbuf_reset(&a);
                strbuf_reset(&b);
                render_line(&a, fmt, s, &l->rec.ev, l->size, l->nf_explains, &l->nf, l->verdict,
                            &live_names, &lt, NULL);
                render_line(&b, fmt, s, &back->rec.ev, back->size, back->nf_explains, &back->nf,
                            back->nf_verdict, bn, &bt, NULL);
                same(fmt ? "JSON" : "text", &a, &b, json);
                /* function_graph: the daemon names every probe it attached; an unnamed
                 * one's return line would add "probe#N" as a comment when read back. */
                if (l->rec.ev.probe_id >= live_names.n_probes)
                        continue;
                strbuf_reset(&a);
                strbuf_reset(&b);
                render_line(&a, fmt, s, &l->rec.ev, l->size, l->nf_explains, &l->nf, l->verdict,
                            &live_names, &lt, g[fmt]);
                render_line(&b, fmt, s, &back->rec.ev, back->size, back->nf_explains, &back->nf,
                            back->nf_verdict, bn, &bt, g[2 + fmt]);
                same(fmt ? "function_graph JSON" : "function_graph text", &a, &b, json);
        }
}

/* One session: its events rendered live and read back, in every output. */
static void round_trip_session(void)
{
        _cleanup_(skbt_decoder_freep) struct skbt_decoder *d = NULL;
        _cleanup_strbuf_ struct strbuf json = STRBUF_INIT;
        struct strbuf agg_out[4] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
        struct skbt_graph *g[4] = {0};
        struct skbt_agg *agg[4] = {0};
        struct session s;
        struct hook_data hl, hb;
        static struct live l;
        static struct skbt_decoded back;
        uint32_t egress = UINT32_MAX;
        struct skbt_tails lt;
        char err[256];

        rnd_session(&s);
        lt = live_tails(&s);
        CHECK(skbt_decoder_new(&d) == 0);
        for (int i = 0; i < 4; i++)
                CHECK(skbt_graph_new(&g[i]) == 0);
        /* Aggregate blocks end at live probe 7 ("ip_output"), which the recorded side
         * looks up by name, as ipftctl show --egress does. */
        CHECK(skbt_decoder_probe_id(d, probes[7], &egress) == 0);
        hl = (struct hook_data){.s = &s};
        hb = (struct hook_data){.d = d};
        for (int i = 0; i < 4; i++)
                CHECK(skbt_agg_new(i % 2 ? SKBT_OUTPUT_AGGREGATE_JSON : SKBT_OUTPUT_AGGREGATE,
                                   &s.opts, i < 2 ? 7 : egress, agg_hook, i < 2 ? &hl : &hb,
                                   &agg[i]) == 0);

        for (int e = 0; e < EVENTS; e++) {
                const struct skbt_names *bn;
                int r;

                rnd_record(&s, &l);
                /* What the recording holds: the session's JSON with packet bytes. */
                strbuf_reset(&json);
                render_line(&json, SKBT_OUTPUT_JSON, &s, &l.rec.ev, l.size, l.nf_explains, &l.nf,
                            l.verdict, &live_names, &lt, NULL);
                r = skbt_decode_event(d, json.data, json.len - 1, &back, err, sizeof(err));
                if (r < 0) {
                        fprintf(stderr, "decode failed: %s\n  %s", err, cstr(&json));
                        testlib_failures++;
                        continue;
                }
                bn = skbt_decoder_names(d);
                check_lines(&s, &l, &back, bn, d, g, cstr(&json));
                /* Aggregate sessions follow packets: their JSON has the track ids. */
                for (int i = 0; i < 2 && s.opts.track; i++)
                        agg_add(agg[i], agg[2 + i], &agg_out[i], &agg_out[2 + i], &l, &back, bn,
                                (uint64_t)e * 60000000ULL);
        }
        for (int i = 0; i < 2; i++) {
                skbt_agg_flush_all(agg[i], &agg_out[i], &live_names);
                skbt_agg_flush_all(agg[2 + i], &agg_out[2 + i], skbt_decoder_names(d));
                same(i ? "aggregate-json" : "aggregate", &agg_out[i], &agg_out[2 + i], "");
        }
        for (int i = 0; i < 4; i++) {
                skbt_graph_free(g[i]);
                skbt_agg_free(agg[i]);
                strbuf_done(&agg_out[i]);
        }
}

/* Malformed events: a clear message naming the byte, never a crash. */
static void errors(void)
{
        static const struct {
                const char *json;
                const char *msg;
        } cases[] = {
            {"", "at byte 0: expected an object, found the end of the line"},
            {"[1]", "at byte 0: expected an object, found an array"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":5",
             "at byte 32: unexpected end of the line (missing '}')"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":\"5\"}",
             "at byte 31: expected a number, found a string"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":5}",
             "at byte 33: not an event: it needs packet_id, timestamp and function"},
            {"{\"packet_id\":\"zz\",\"timestamp\":5,\"function\":\"f\"}",
             "at byte 17: packet_id must be \"0x\" and 1 to 16 hex digits"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":5,\"function\":\"f\",\"ifname\":"
             "\"12345678901234567\"}",
             "at byte 57: string longer than 16 bytes"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":5,\"function\":\"f\",\"tuple\":{\"l3\":"
             "\"ipv4\",\"saddr\":\"1.2.3\",\"daddr\":\"1.2.3.4\"}}",
             "at byte 56: tuple addresses are not IPv4 addresses"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":5,\"function\":\"f\"} x",
             "at byte 49: expected the end of the line after the value, found an invalid "
             "character"},
            {"{\"packet_id\":\"0x1\",\"packet_id\":\"0x1\"}",
             "at byte 31: member 'packet_id' given twice"},
            {"{\"packet_id\":\"0x1\",\"timestamp\":18446744073709551616}",
             "at byte 50: number out of range"},
            {"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
             "at byte 37: nested deeper than 32"},
        };
        _cleanup_(skbt_decoder_freep) struct skbt_decoder *d = NULL;
        static struct skbt_decoded back;
        char err[256];

        CHECK(skbt_decoder_new(&d) == 0);
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                err[0] = '\0';
                CHECK_INTEQ(skbt_decode_event(d, cases[i].json, strlen(cases[i].json), &back, err,
                                              sizeof(err)),
                            -EINVAL);
                CHECK_STREQ(err, cases[i].msg);
        }
}

/* The example of docs/output.md reads back into its text line. */
static void documented_example(void)
{
        static const char json[] =
            "{\"packet_id\":\"0xffff888004a1c000\",\"timestamp\":25052836601870,\"processor_id\":0,"
            "\"function\":\"skb:kfree_skb\",\"is_return\":false,\"mark\":0,\"len\":33,"
            "\"protocol\":\"0x0800\",\"ifindex\":3,\"ifname\":\"veth1\",\"netns\":4026531840,"
            "\"pid\":0,\"tuple\":{\"l3\":\"ipv4\",\"proto\":\"udp\",\"saddr\":\"10.0.0.1\","
            "\"daddr\":\"10.0.0.2\",\"sport\":53000,\"dport\":9},\"drop_reason\":\"NO_SOCKET\","
            "\"location\":\"udp_queue_rcv_one_skb+0x1a/0x200\"}";
        _cleanup_(skbt_decoder_freep) struct skbt_decoder *d = NULL;
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        static struct skbt_decoded back;
        char err[256];

        CHECK(skbt_decoder_new(&d) == 0);
        CHECK(skbt_decode_event(d, json, strlen(json), &back, err, sizeof(err)) == 0);
        skbt_format_text(&out, &back.rec.ev, skbt_decoder_names(d));
        CHECK_STREQ(strbuf_cstr(&out),
                    "25052836601870 000 0xffff888004a1c000 skb:kfree_skb veth1 UDP "
                    "10.0.0.1:53000 -> 10.0.0.2:9 drop_reason=NO_SOCKET "
                    "location=udp_queue_rcv_one_skb+0x1a/0x200\n");
}

int main(void)
{
        names_init();
        errors();
        documented_example();
        for (int i = 0; i < SESSIONS; i++)
                round_trip_session();
        return TEST_DONE();
}
