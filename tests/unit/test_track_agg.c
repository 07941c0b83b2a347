/* SPDX-License-Identifier: GPL-2.0-only */
/* test_track_agg.c - aggregate output (blocks per packet) and the per-session format options */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "macro.h"
#include "testlib.h"
#include "track_agg.h"

static const char *const probes[] = {"net:net_dev_queue", "ip_rcv", "skb:consume_skb", "icmp_rcv",
                                     "skb_clone"};
static const char *const groups[] = {"link-out", "ip-in", "life", "icmp", "life"};

static int fake_symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        if (addr == 0xffffffff81000010ULL) {
                snprintf(buf, len, "udp_rcv+0x10/0x20");
                return 0;
        }
        return -ENOENT;
}

static const struct skbt_names names = {
    .probes = probes,
    .n_probes = ARRAY_SIZE(probes),
    .symbolize = fake_symbolize,
    .probe_groups = groups,
};

enum { P_QUEUE, P_IPRCV, P_CONSUME, P_ICMP, P_CLONE };

#define MS 1000000ULL

static struct skbt_event ev_of(uint64_t track, uint64_t skb, uint32_t probe, uint64_t ts,
                               uint8_t seq)
{
        struct skbt_event ev = {
            .ts = ts,
            .skb = skb,
            .probe_id = probe,
            .track_id = track,
            .protocol = 0x0800,
            .flags = SKBT_EV_HAS_DEV,
            .ifindex = 2,
            .netns = 7,
        };

        strcpy(ev.ifname, "veth0");
        strcpy(ev.comm, "ping");
        ev.pid = 42;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tuple.l4proto = 1;
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        ev.tuple.saddr[0] = 10;
        ev.tuple.saddr[3] = 1;
        ev.tuple.daddr[0] = 10;
        ev.tuple.daddr[3] = 2;
        ev.tuple.icmp_type = 8;
        ev.tuple.icmp_id = 9;
        ev.tuple.icmp_seq = seq;
        if (probe == P_CONSUME)
                ev.flags |= SKBT_EV_FREE;
        return ev;
}

static void add(struct skbt_agg *a, struct strbuf *out, struct skbt_event ev, uint64_t now)
{
        skbt_agg_add(a, out, &ev, sizeof(ev), &names, now);
}

static size_t count(const char *s, const char *what)
{
        size_t n = 0;

        for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
                n++;
        return n;
}

/* A packet's events, out of order and with a clone, become one block when it ends. */
static void test_block_on_free(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const struct skbt_format_opts o = {0};
        struct skbt_agg *a = NULL;
        struct skbt_event e;
        const char *s;

        CHECK_INTEQ(skbt_agg_new(SKBT_OUTPUT_AGGREGATE, &o, UINT32_MAX, NULL, NULL, &a), 0);
        add(a, &out, ev_of(5, 0xa000, P_IPRCV, 200, 1), 1 * MS);
        /* An earlier CPU's event, seen from the Ethernet header: the same flow to read. */
        e = ev_of(5, 0xa000, P_QUEUE, 100, 1);
        e.tuple.flags |= SKBT_TUPLE_L2;
        add(a, &out, e, 1 * MS);
        add(a, &out, ev_of(5, 0xb000, P_CLONE, 250, 1), 1 * MS);
        add(a, &out, ev_of(5, 0xa000, P_CONSUME, 300, 1), 2 * MS);
        CHECK_INTEQ(skbt_agg_open(a), 1); /* the clone lives on */
        add(a, &out, ev_of(5, 0xb000, P_CONSUME, 400, 1), 3 * MS);
        CHECK_INTEQ(out.len, 0); /* lingering: late events may still come */
        /* kfree_skbmem after the tracking ended has no track id: it joins by skb. */
        add(a, &out, ev_of(0, 0xb000, P_ICMP, 410, 1), 4 * MS);
        skbt_agg_tick(a, &out, &names, 4 * MS + SKBT_AGG_LINGER_NS);
        CHECK_INTEQ(skbt_agg_open(a), 0);
        s = strbuf_cstr(&out);
        CHECK(strncmp(s,
                      "=== ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=9 seq=1 (track 5: 6 "
                      "events, 2 skbs, freed)\n",
                      89) == 0);
        /* In time order, flow printed once (in the header). */
        CHECK(strstr(s, "\n100 000 0xa000 net:net_dev_queue veth0\n"
                        "200 000 0xa000 ip_rcv veth0\n"
                        "250 000 0xb000 skb_clone veth0\n"
                        "300 000 0xa000 skb:consume_skb veth0\n"
                        "400 000 0xb000 skb:consume_skb veth0\n"
                        "410 000 0xb000 icmp_rcv veth0\n\n") != NULL);
        if (!strstr(s, "\n100 000"))
                fprintf(stderr, "%s", s);
        skbt_agg_free(a);
}

/* A rewritten flow shows on its line; egress ends a block; later events continue it. */
static void test_egress_and_continued(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const struct skbt_format_opts o = {0};
        struct skbt_agg *a = NULL;
        struct skbt_event nat;
        const char *s;

        CHECK_INTEQ(skbt_agg_new(SKBT_OUTPUT_AGGREGATE, &o, P_QUEUE, NULL, NULL, &a), 0);
        add(a, &out, ev_of(7, 0xa000, P_IPRCV, 100, 2), 1 * MS);
        nat = ev_of(7, 0xa000, P_QUEUE, 200, 2);
        nat.tuple.daddr[3] = 99;
        add(a, &out, nat, 1 * MS);
        s = strbuf_cstr(&out);
        CHECK(strstr(s, "(track 7: 2 events, 1 skb, egress)\n") != NULL);
        CHECK(strstr(s, "\n200 000 0xa000 net:net_dev_queue veth0 ICMP 10.0.0.1 -> 10.0.0.99 "
                        "echo-request id=9 seq=2\n") != NULL);
        CHECK_INTEQ(skbt_agg_open(a), 0);
        strbuf_reset(&out);
        add(a, &out, ev_of(7, 0xa000, P_CONSUME, 300, 2), 2 * MS);
        skbt_agg_flush_all(a, &out, &names);
        CHECK(strstr(strbuf_cstr(&out), "(track 7, continued: part 2: 1 event, 1 skb, freed)") !=
              NULL);
        skbt_agg_free(a);
}

/* Limits print early with a marker; idle packets and the session's end print too. */
static void test_limits_idle_end(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const struct skbt_format_opts o = {0};
        struct skbt_agg *a = NULL;

        CHECK_INTEQ(skbt_agg_new(SKBT_OUTPUT_AGGREGATE, &o, UINT32_MAX, NULL, NULL, &a), 0);
        for (unsigned i = 0; i < SKBT_AGG_MAX_EVENTS + 3; i++)
                add(a, &out, ev_of(9, 0xa000, P_IPRCV, 100 + i, 3), 1 * MS);
        CHECK_INTEQ(count(strbuf_cstr(&out), "printed early: 512 events held (limit)"), 1);
        CHECK_INTEQ(skbt_agg_open(a), 1);
        strbuf_reset(&out);
        skbt_agg_tick(a, &out, &names, 1 * MS + SKBT_AGG_IDLE_NS);
        CHECK(strstr(strbuf_cstr(&out), "continued: part 2: 3 events, 1 skb, idle: no free seen"));
        CHECK_INTEQ(skbt_agg_open(a), 0);

        for (unsigned i = 0; i < SKBT_AGG_MAX_OPEN + 1; i++)
                add(a, &out, ev_of(1000 + i, 0x10000 + i * 0x100, P_IPRCV, i, 3),
                    5 * SKBT_AGG_IDLE_NS);
        CHECK_INTEQ(skbt_agg_open(a), SKBT_AGG_MAX_OPEN);
        CHECK_INTEQ(count(strbuf_cstr(&out), "printed early: 4096 packets held (limit)"), 1);
        strbuf_reset(&out);
        skbt_agg_flush_all(a, &out, &names);
        CHECK_INTEQ(count(strbuf_cstr(&out), "session ended)"), SKBT_AGG_MAX_OPEN);
        CHECK_INTEQ(skbt_agg_bytes(a), 0);
        skbt_agg_free(a);
}

static void mark_hook(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                      size_t size, void *data)
{
        (*(int *)data)++;
        if (fmt == SKBT_OUTPUT_TEXT && out->len && out->data[out->len - 1] == '\n') {
                out->len--;
                strbuf_puts(out, " hooked\n");
        }
}

/* The session's hook completes each event's line, before its stack lines. */
static void test_hook(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const struct skbt_format_opts o = {.stack = true};
        struct skbt_agg *a = NULL;
        int calls = 0;
        struct {
                struct skbt_event ev;
                uint64_t frames[1];
        } rec = {.ev = ev_of(12, 0xa000, P_CONSUME, 100, 6), .frames = {0xffffffff81000010ULL}};

        rec.ev.stack_depth = 1;
        CHECK_INTEQ(skbt_agg_new(SKBT_OUTPUT_AGGREGATE, &o, UINT32_MAX, mark_hook, &calls, &a), 0);
        skbt_agg_add(a, &out, &rec.ev, sizeof(rec), &names, 1 * MS);
        skbt_agg_flush_all(a, &out, &names);
        CHECK_INTEQ(calls, 1);
        CHECK(strstr(strbuf_cstr(&out), "skb:consume_skb veth0 hooked\n    udp_rcv+0x10/0x20\n"));
        skbt_agg_free(a);
}

/* aggregate-json: one object per packet with the events as JSON objects. */
static void test_json_block(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        const struct skbt_format_opts o = {0};
        struct skbt_agg *a = NULL;
        json_object *obj, *v;

        CHECK_INTEQ(skbt_agg_new(SKBT_OUTPUT_AGGREGATE_JSON, &o, UINT32_MAX, NULL, NULL, &a), 0);
        add(a, &out, ev_of(3, 0xa000, P_QUEUE, 100, 4), 1 * MS);
        add(a, &out, ev_of(3, 0xa000, P_CONSUME, 200, 4), 1 * MS);
        skbt_agg_flush_all(a, &out, &names);
        CHECK_INTEQ(count(strbuf_cstr(&out), "\n"), 1);
        obj = json_tokener_parse(strbuf_cstr(&out));
        CHECK(obj != NULL);
        if (obj) {
                CHECK(json_object_object_get_ex(obj, "track_id", &v) &&
                      json_object_get_int64(v) == 3);
                CHECK(json_object_object_get_ex(obj, "end", &v) &&
                      strcmp(json_object_get_string(v), "freed") == 0);
                CHECK(json_object_object_get_ex(obj, "flow", &v) &&
                      strcmp(json_object_get_string(v),
                             "ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=9 seq=4") == 0);
                CHECK(json_object_object_get_ex(obj, "events", &v) &&
                      json_object_array_length(v) == 2);
                v = json_object_array_get_idx(v, 1);
                CHECK(json_object_object_get_ex(v, "track_id", &v) &&
                      json_object_get_int64(v) == 3);
                json_object_put(obj);
        }
        skbt_agg_free(a);
}

/* --detail, track ids and --stack in the plain formats. */
static void test_format_opts(void)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        struct {
                struct skbt_event ev;
                uint64_t frames[2];
        } rec = {.ev = ev_of(11, 0xa000, P_ICMP, 100, 5),
                 .frames = {0xffffffff81000010ULL, 0xffffffff81999999ULL}};
        struct skbt_format_opts o = {.track = true, .detail = true};
        json_object *obj, *v;

        rec.ev.stack_depth = 2;
        strcpy(rec.ev.comm, "a b");
        skbt_format_text_opts(&out, &o, &rec.ev, &names);
        CHECK_STREQ(strbuf_cstr(&out), "100 000 0xa000 icmp_rcv veth0 ICMP 10.0.0.1 -> 10.0.0.2 "
                                       "echo-request id=9 seq=5 track=11 if=veth0:2 netns=7 "
                                       "pid=42 comm=a\\x20b group=icmp\n");
        strbuf_reset(&out);
        o = (struct skbt_format_opts){.stack = true};
        skbt_format_text_opts(&out, &o, &rec.ev, &names);
        CHECK(strstr(strbuf_cstr(&out), "seq=5\n    udp_rcv+0x10/0x20\n    0xffffffff81999999\n"));
        strbuf_reset(&out);
        skbt_format_json_opts(&out, &o, &rec.ev, &names);
        obj = json_tokener_parse(strbuf_cstr(&out));
        CHECK(obj != NULL);
        if (obj) {
                /* Without the session's track ids, JSON says 0. */
                CHECK(json_object_object_get_ex(obj, "track_id", &v) &&
                      json_object_get_int64(v) == 0);
                CHECK(json_object_object_get_ex(obj, "comm", &v) &&
                      strcmp(json_object_get_string(v), "a b") == 0);
                CHECK(json_object_object_get_ex(obj, "group", &v) &&
                      strcmp(json_object_get_string(v), "icmp") == 0);
                CHECK(json_object_object_get_ex(obj, "stack", &v) &&
                      json_object_array_length(v) == 2 &&
                      strcmp(json_object_get_string(json_object_array_get_idx(v, 0)),
                             "udp_rcv+0x10/0x20") == 0);
                json_object_put(obj);
        }
        /* No stack asked: no member, whatever the record carries. */
        strbuf_reset(&out);
        o.stack = false;
        skbt_format_json_opts(&out, &o, &rec.ev, &names);
        CHECK(!strstr(strbuf_cstr(&out), "\"stack\""));
        strbuf_reset(&out);
        rec.ev.flags |= SKBT_EV_FREE;
        skbt_format_json_opts(&out, &o, &rec.ev, &names);
        CHECK(strstr(strbuf_cstr(&out), ",\"free\":true"));
}

int main(void)
{
        test_block_on_free();
        test_egress_and_continued();
        test_limits_idle_end();
        test_json_block();
        test_hook();
        test_format_opts();
        return TEST_DONE();
}
