/* SPDX-License-Identifier: GPL-2.0-only */
/* test_fanout.c - one record fanned out to many sessions: each gets the line it would render alone
 */
#include <string.h>

#include "format.h"
#include "kaddr.h"
#include "skbtraced.h"
#include "testlib.h"

/*
 * The ring buffer callback renders a record's line once and copies it to the
 * other sessions whose lines are equal (sessions/session.c, session_share_key).
 * Here sessions of every kind the copy must tell apart hear the same records:
 * each must end up with exactly the bytes that rendering the record for it
 * alone gives, in whatever order the slots put them.
 */
static const char *const probes[] = {"net:netif_receive_skb", "skb:kfree_skb"};
static const char *const groups[] = {"link-in", "drop"};

static const char *fake_netns_name(void *data, uint32_t inode, uint64_t ts)
{
        return inode == 4026531840u ? "blue" : NULL;
}

static int ignore_write(void *userdata, const char *data, size_t len,
                        const struct skbt_session_losses *lost)
{
        return 0;
}

static const struct skbt_session_output_ops ops = {.write = ignore_write};
static const size_t no_backlog;

struct kind {
        enum skbt_output render;
        bool detail, track, hide_kaddr, nf_rules;
        bool nf_drop; /* remembers a DROP verdict for the drop record's packet */
};

static const struct kind kinds[] = {
    {SKBT_OUTPUT_JSON},
    {SKBT_OUTPUT_JSON},
    {SKBT_OUTPUT_TEXT},
    {SKBT_OUTPUT_TEXT, .detail = true},
    {SKBT_OUTPUT_TEXT},
    {SKBT_OUTPUT_JSON, .hide_kaddr = true},
    {SKBT_OUTPUT_JSON, .track = true},
    {SKBT_OUTPUT_JSON, .hide_kaddr = true},
    {SKBT_OUTPUT_JSON, .nf_drop = true},
    {SKBT_OUTPUT_JSON},
    {SKBT_OUTPUT_TEXT, .track = true, .detail = true},
    {SKBT_OUTPUT_TEXT, .nf_drop = true},
    {SKBT_OUTPUT_TEXT, .detail = true},
    {SKBT_OUTPUT_JSON, .nf_rules = true},
    {SKBT_OUTPUT_TEXT, .nf_rules = true},
    {SKBT_OUTPUT_JSON},
};
#define N_KINDS ARRAY_SIZE(kinds)

static struct skbtraced d;
static struct skbt_session sessions[N_KINDS];

static struct skbt_event record(bool drop)
{
        struct skbt_event ev = {
            .ts = 1000,
            .skb = 0xffff888004a1c000ULL,
            .probe_id = drop ? 1 : 0,
            .len = 84,
            .protocol = 0x0800,
            .ifindex = 3,
            .netns = 4026531840u,
            .pid = 812,
            .track_id = 7,
            .ifname = "veth0",
            .comm = "ping",
            .flags = SKBT_EV_HAS_DEV,
        };

        if (drop) {
                ev.flags |= SKBT_EV_DROP;
                ev.drop_reason = 2;
                ev.location = 0xffffffff81a2b3c4ULL;
        }
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tuple.l4proto = 17;
        ev.tuple.saddr[0] = 10, ev.tuple.saddr[3] = 1;
        ev.tuple.daddr[0] = 10, ev.tuple.daddr[3] = 2;
        ev.tuple.sport = 12345;
        ev.tuple.dport = 53;
        return ev;
}

/* Sessions of kinds[order[i]] in slot i. */
static void setup(const uint32_t *order)
{
        for (uint32_t i = 0; i < N_KINDS; i++) {
                const struct kind *k = &kinds[order[i]];
                struct skbt_session *s = &sessions[i];

                strbuf_done(&s->pending);
                memset(s, 0, sizeof(*s));
                s->d = &d;
                s->slot = i;
                s->out = (struct skbt_session_output){.ops = &ops, .backlog = &no_backlog};
                s->render = s->output = k->render;
                s->fmt.detail = k->detail;
                s->fmt.track = s->ident = k->track;
                s->hide_kaddr = k->hide_kaddr;
                s->fmt.nf_rules = k->nf_rules;
                if (k->nf_drop) {
                        s->nf_drops[0] = (struct skbt_nf_drop){
                            .skb = 0xffff888004a1c000ULL,
                            .ts = 900,
                            .nf = {.table = "filter", .engine = 1, .pf = 2, .hook = 1},
                            .verdict = SKBT_NF_VERDICT_DROP,
                        };
                        s->nf_drops_next = 1;
                }
                d.slots[i] = s;
        }
}

/* A record as the ring buffer hands it over: a verdict's carries its struct skbt_nf. */
struct rec {
        struct skbt_event ev;
        struct skbt_nf nf;
};

/* A netfilter verdict (NF_ACCEPT: nothing to remember for a drop) naming its rule. */
static struct rec verdict_record(void)
{
        struct rec r = {.ev = record(false)};

        r.ev.flags |= SKBT_EV_NF;
        r.ev.retval = 1; /* NF_ACCEPT */
        r.nf = (struct skbt_nf){.table = "filter",
                                .chain = "input",
                                .engine = 2,
                                .pf = 2,
                                .hook = 1,
                                .rule_type = SKBT_NF_RULE_RULE,
                                .rule_pos = 2,
                                .rule_handle = 4,
                                .rule_chain = "input"};
        return r;
}

/* What the session renders for the record when it is the only one. */
static void expect(struct strbuf *out, const struct skbt_session *s, const struct rec *r)
{
        struct skbt_format_opts o = s->fmt;
        struct rec masked = *r;

        if (s->hide_kaddr)
                skbt_kaddr_mask(&d.kaddr_key, &d.names, &masked.ev);
        if ((r->ev.flags & SKBT_EV_DROP) && s->nf_drops_next) {
                o.nf = &s->nf_drops[0].nf;
                o.nf_verdict = s->nf_drops[0].verdict;
        }
        skbt_format_event_opts(out, s->render, &o, &masked.ev, &d.names);
}

static void check_order(const uint32_t *order)
{
        struct rec recs[] = {
            {.ev = record(false)}, {.ev = record(true)}, verdict_record(), {.ev = record(false)}};

        setup(order);
        for (size_t i = 0; i < ARRAY_SIZE(recs); i++) {
                size_t size = recs[i].ev.flags & SKBT_EV_NF ? sizeof(recs[i]) : sizeof(recs[i].ev);

                recs[i].ev.ts += i;
                recs[i].ev.sessions = (1ULL << N_KINDS) - 1;
                CHECK_INTEQ(skbt_ringbuf_event(&d, &recs[i], size), 0);
        }
        for (uint32_t i = 0; i < N_KINDS; i++) {
                _cleanup_strbuf_ struct strbuf want = STRBUF_INIT;
                struct skbt_session *s = &sessions[i];

                for (size_t j = 0; j < ARRAY_SIZE(recs); j++)
                        expect(&want, s, &recs[j]);
                CHECK_INTEQ(s->events, ARRAY_SIZE(recs));
                CHECK(!strbuf_failed(&s->pending));
                CHECK_STREQ(strbuf_cstr(&s->pending), strbuf_cstr(&want));
        }
}

static uint32_t next_random(void)
{
        static uint32_t x = 2463534242u; /* xorshift32: the same orders on every run */

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
}

int main(void)
{
        uint32_t order[N_KINDS];

        d.names = (struct skbt_names){
            .probes = probes,
            .n_probes = ARRAY_SIZE(probes),
            .probe_groups = groups,
            .netns_name = fake_netns_name,
        };
        d.opt.cfg.queue_bytes = 1 << 20;
        CHECK_INTEQ(skbt_kaddr_key_init(&d.kaddr_key), 0);
        /* As listed, reversed, rotated, and shuffled (a fixed seed): kinds next to and
         * apart from every other kind. */
        for (uint32_t r = 0; r < N_KINDS; r++) {
                for (uint32_t i = 0; i < N_KINDS; i++)
                        order[i] = (i + r) % N_KINDS;
                check_order(order);
                for (uint32_t i = 0; i < N_KINDS; i++)
                        order[i] = (N_KINDS - 1 - i + r) % N_KINDS;
                check_order(order);
        }
        for (uint32_t n = 0; n < 200; n++) {
                for (uint32_t i = N_KINDS - 1; i > 0; i--) {
                        uint32_t j = next_random() % (i + 1), t = order[i];

                        order[i] = order[j];
                        order[j] = t;
                }
                check_order(order);
        }
        for (uint32_t i = 0; i < N_KINDS; i++)
                strbuf_done(&sessions[i].pending);
        free(d.kaddr_buf);
        return TEST_DONE();
}
