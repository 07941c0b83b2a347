/* SPDX-License-Identifier: GPL-2.0-only */
/* test_format.c - text and JSON rendering of events */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "format.h"
#include "testlib.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

static const char *const probes[] = {
    "net:netif_receive_skb",
    NULL, /* a hole: probes can be discovered and then dropped */
    "ip_rcv",
    "skb:kfree_skb",
    "__ip_local_out",
};

static const char *const reasons[] = {
    [0] = "NOT_DROPPED_YET",
    [2] = "NO_SOCKET",
    [5] = "TCP_CSUM",
};

/* Knows one address; writes a name for it like skbt_ksyms_symbolize(). */
static int fake_symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        int *calls = data;

        (*calls)++;
        if (addr != 0xffffffff81a2b3c4ULL)
                return -ENOENT;
        snprintf(buf, len, "udp_queue_rcv_one_skb+0x1a/0x200");
        return 0;
}

static int symbolize_calls;

static const struct skbt_names names = {
    .probes = probes,
    .n_probes = ARRAY_SIZE(probes),
    .drop_reasons = reasons,
    .n_drop_reasons = ARRAY_SIZE(reasons),
    .symbolize = fake_symbolize,
    .symbolize_data = &symbolize_calls,
};

static void set_ip4(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
        memset(a, 0, 16);
        a[0] = b0;
        a[1] = b1;
        a[2] = b2;
        a[3] = b3;
}

static void set_ip6(uint8_t *a, const char *s)
{
        if (inet_pton(AF_INET6, s, a) != 1)
                abort();
}

/* A device event with nothing parsed; tests fill in the rest. */
static struct skbt_event base_event(void)
{
        struct skbt_event ev = {
            .ts = 25052836431430ULL,
            .skb = 0xffff888004a1c000ULL,
            .probe_id = 0,
            .cpu = 0,
            .len = 84,
            .ifindex = 3,
            .netns = 4026531840U,
            .flags = SKBT_EV_HAS_DEV,
        };

        strcpy(ev.ifname, "veth1");
        return ev;
}

static struct skbt_event icmp_echo_event(void)
{
        struct skbt_event ev = base_event();

        ev.protocol = 0x0800;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tuple.l4proto = 1;
        ev.tuple.flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        set_ip4(ev.tuple.saddr, 10, 0, 0, 1);
        set_ip4(ev.tuple.daddr, 10, 0, 0, 2);
        ev.tuple.icmp_type = 8;
        ev.tuple.icmp_id = 7;
        ev.tuple.icmp_seq = 3;
        return ev;
}

static struct skbt_event tcp6_event(void)
{
        struct skbt_event ev = base_event();

        ev.protocol = 0x86dd;
        ev.tuple.l3 = SKBT_L3_IPV6;
        ev.tuple.l4proto = 6;
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        set_ip6(ev.tuple.saddr, "fd00::1");
        set_ip6(ev.tuple.daddr, "fd00::2");
        ev.tuple.sport = 40000;
        ev.tuple.dport = 80;
        ev.tuple.tcp_flags = TCP_SYN | TCP_ACK;
        return ev;
}

/* Render ev as one text line, without its '\n' (checked here). */
static const char *text(struct strbuf *sb, const struct skbt_event *ev, const struct skbt_names *n)
{
        strbuf_reset(sb);
        skbt_format_text(sb, ev, n);
        CHECK(!strbuf_failed(sb));
        CHECK(sb->len > 0 && sb->data[sb->len - 1] == '\n');
        CHECK(memchr(sb->data, '\n', sb->len) == sb->data + sb->len - 1);
        if (sb->len > 0)
                sb->len--;
        return strbuf_cstr(sb);
}

static const char *flow(struct strbuf *sb, const struct skbt_event *ev)
{
        strbuf_reset(sb);
        skbt_format_flow(sb, ev);
        return strbuf_cstr(sb);
}

/* Render ev as one JSON line (checked to be exactly one line) and parse it. */
static json_object *json(struct strbuf *sb, const struct skbt_event *ev, const struct skbt_names *n)
{
        json_object *obj;

        strbuf_reset(sb);
        skbt_format_json(sb, ev, n);
        CHECK(!strbuf_failed(sb));
        CHECK(sb->len > 0 && sb->data[sb->len - 1] == '\n');
        CHECK(memchr(sb->data, '\n', sb->len) == sb->data + sb->len - 1);
        obj = json_tokener_parse(strbuf_cstr(sb));
        CHECK(obj && json_object_is_type(obj, json_type_object));
        if (!obj)
                fprintf(stderr, "  unparseable: %s", strbuf_cstr(sb));
        return obj;
}

static json_object *member(json_object *obj, const char *key, json_type type)
{
        json_object *v = NULL;

        if (!obj || !json_object_object_get_ex(obj, key, &v)) {
                fprintf(stderr, "  missing member '%s'\n", key);
                CHECK(!"member present");
                return NULL;
        }
        if (!json_object_is_type(v, type)) {
                fprintf(stderr, "  member '%s' has type %s, expected %s\n", key,
                        json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
                CHECK(!"member type");
        }
        return v;
}

static bool has_member(json_object *obj, const char *key)
{
        return obj && json_object_object_get_ex(obj, key, NULL);
}

static const char *member_str(json_object *obj, const char *key)
{
        json_object *v = member(obj, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

static int64_t member_int(json_object *obj, const char *key)
{
        json_object *v = member(obj, key, json_type_int);

        return v ? json_object_get_int64(v) : INT64_MIN;
}

static int member_bool(json_object *obj, const char *key)
{
        json_object *v = member(obj, key, json_type_boolean);

        return v ? json_object_get_boolean(v) : -1;
}

static void test_output_names(void)
{
        enum skbt_output o = SKBT_OUTPUT_JSON;

        CHECK_INTEQ(skbt_output_from_string("text", &o), 0);
        CHECK_INTEQ(o, SKBT_OUTPUT_TEXT);
        CHECK_INTEQ(skbt_output_from_string("json", &o), 0);
        CHECK_INTEQ(o, SKBT_OUTPUT_JSON);
        CHECK_INTEQ(skbt_output_from_string("JSON", &o), -EINVAL);
        CHECK_INTEQ(skbt_output_from_string("", &o), -EINVAL);
        CHECK_INTEQ(skbt_output_from_string("jsonl", &o), -EINVAL);
        CHECK_INTEQ(skbt_output_from_string(NULL, &o), -EINVAL);
        CHECK_INTEQ(o, SKBT_OUTPUT_JSON);
        CHECK_STREQ(skbt_output_to_string(SKBT_OUTPUT_TEXT), "text");
        CHECK_STREQ(skbt_output_to_string(SKBT_OUTPUT_JSON), "json");
        CHECK(skbt_output_to_string((enum skbt_output)7) == NULL);
}

static void test_icmp_echo(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        json_object *obj, *tuple, *icmp;

        CHECK_STREQ(text(&sb, &ev, &names), "25052836431430 000 0xffff888004a1c000 "
                                            "net:netif_receive_skb veth1 ICMP 10.0.0.1 -> "
                                            "10.0.0.2 echo-request id=7 seq=3");

        strbuf_reset(&sb);
        skbt_format_json(&sb, &ev, &names);
        CHECK_STREQ(strbuf_cstr(&sb),
                    "{\"packet_id\":\"0xffff888004a1c000\",\"timestamp\":25052836431430,"
                    "\"processor_id\":0,\"function\":\"net:netif_receive_skb\","
                    "\"is_return\":false,\"mark\":0,\"len\":84,\"protocol\":\"0x0800\","
                    "\"ifindex\":3,\"ifname\":\"veth1\",\"netns\":4026531840,\"pid\":0,"
                    "\"tuple\":{\"l3\":\"ipv4\",\"proto\":\"icmp\",\"saddr\":\"10.0.0.1\","
                    "\"daddr\":\"10.0.0.2\",\"sport\":0,\"dport\":0},"
                    "\"icmp\":{\"type\":8,\"code\":0,\"id\":7,\"seq\":3},"
                    "\"track_id\":0,\"comm\":\"\",\"group\":\"\"}\n");

        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "packet_id"), "0xffff888004a1c000");
        CHECK_INTEQ(member_int(obj, "timestamp"), 25052836431430LL);
        CHECK_INTEQ(member_int(obj, "processor_id"), 0);
        CHECK_STREQ(member_str(obj, "function"), "net:netif_receive_skb");
        CHECK_INTEQ(member_bool(obj, "is_return"), 0);
        CHECK_INTEQ(member_int(obj, "len"), 84);
        CHECK_STREQ(member_str(obj, "protocol"), "0x0800");
        CHECK_INTEQ(member_int(obj, "netns"), 4026531840LL);
        CHECK(!has_member(obj, "retval"));
        CHECK(!has_member(obj, "drop_reason"));
        CHECK(!has_member(obj, "location"));
        tuple = member(obj, "tuple", json_type_object);
        CHECK_STREQ(member_str(tuple, "l3"), "ipv4");
        CHECK_STREQ(member_str(tuple, "proto"), "icmp");
        CHECK(!has_member(tuple, "tcp_flags"));
        CHECK(!has_member(tuple, "vlan"));
        CHECK(!has_member(tuple, "truncated"));
        CHECK(!has_member(tuple, "fragment"));
        icmp = member(obj, "icmp", json_type_object);
        CHECK_INTEQ(member_int(icmp, "type"), 8);
        CHECK_INTEQ(member_int(icmp, "id"), 7);
        CHECK_INTEQ(member_int(icmp, "seq"), 3);
        json_object_put(obj);

        /* Replies, and the flow summary on its own. */
        ev.tuple.icmp_type = 0;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 echo-reply id=7 seq=3");
}

static void test_icmp_types(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        json_object *obj, *icmp;

        ev.tuple.icmp_type = 3;
        ev.tuple.icmp_code = 3;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 dest-unreachable code=3");
        /* Code 0 (net unreachable) is still worth showing for unreachables... */
        ev.tuple.icmp_code = 0;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 dest-unreachable code=0");
        /* ...but not for the others, where 0 is the usual case. */
        ev.tuple.icmp_type = 11;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 time-exceeded");
        ev.tuple.icmp_code = 1;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 time-exceeded code=1");
        ev.tuple.icmp_type = 42;
        ev.tuple.icmp_code = 9;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 type=42 code=9");

        /* id/seq are only echo fields; other types carry e.g. an MTU there. */
        ev.tuple.icmp_type = 3;
        ev.tuple.icmp_code = 4;
        ev.tuple.icmp_id = 0;
        ev.tuple.icmp_seq = 1400;
        obj = json(&sb, &ev, &names);
        icmp = member(obj, "icmp", json_type_object);
        CHECK_INTEQ(member_int(icmp, "type"), 3);
        CHECK_INTEQ(member_int(icmp, "code"), 4);
        CHECK(!has_member(icmp, "id"));
        CHECK(!has_member(icmp, "seq"));
        json_object_put(obj);

        ev.protocol = 0x86dd;
        ev.tuple.l3 = SKBT_L3_IPV6;
        ev.tuple.l4proto = 58;
        set_ip6(ev.tuple.saddr, "fe80::1");
        set_ip6(ev.tuple.daddr, "ff02::1:ff00:2");
        ev.tuple.icmp_code = 0;

        ev.tuple.icmp_type = 135;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 neighbor-solicitation");
        ev.tuple.icmp_type = 136;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 neighbor-advertisement");
        ev.tuple.icmp_type = 133;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 router-solicitation");
        ev.tuple.icmp_type = 134;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 router-advertisement");
        ev.tuple.icmp_type = 2;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 packet-too-big");
        ev.tuple.icmp_type = 3;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 time-exceeded");
        ev.tuple.icmp_type = 1;
        ev.tuple.icmp_code = 4;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 dest-unreachable code=4");
        ev.tuple.icmp_type = 200;
        ev.tuple.icmp_code = 0;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2 type=200 code=0");
        ev.tuple.icmp_type = 128;
        ev.tuple.icmp_id = 65535;
        ev.tuple.icmp_seq = 65535;
        CHECK_STREQ(flow(&sb, &ev),
                    "ICMPv6 fe80::1 -> ff02::1:ff00:2 echo-request id=65535 seq=65535");
        ev.tuple.icmp_type = 129;
        CHECK_STREQ(flow(&sb, &ev),
                    "ICMPv6 fe80::1 -> ff02::1:ff00:2 echo-reply id=65535 seq=65535");

        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(member(obj, "tuple", json_type_object), "proto"), "icmp6");
        icmp = member(obj, "icmp", json_type_object);
        CHECK_INTEQ(member_int(icmp, "type"), 129);
        CHECK_INTEQ(member_int(icmp, "id"), 65535);
        CHECK_INTEQ(member_int(icmp, "seq"), 65535);
        json_object_put(obj);

        /* Without the ICMP header there is nothing to name. */
        ev.tuple.flags &= ~SKBT_TUPLE_L4;
        CHECK_STREQ(flow(&sb, &ev), "ICMPv6 fe80::1 -> ff02::1:ff00:2");
        obj = json(&sb, &ev, &names);
        CHECK(!has_member(obj, "icmp"));
        json_object_put(obj);
}

static void test_tcp6(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = tcp6_event();
        json_object *obj, *tuple;

        ev.probe_id = 2;
        ev.cpu = 12;
        ev.mark = 0xdeadbeef;
        ev.pid = 4242;
        CHECK_STREQ(text(&sb, &ev, &names), "25052836431430 012 0xffff888004a1c000 ip_rcv veth1 "
                                            "TCP [fd00::1]:40000 -> [fd00::2]:80 [S.]");

        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(member_int(obj, "processor_id"), 12);
        CHECK_INTEQ(member_int(obj, "mark"), 0xdeadbeefLL);
        CHECK_INTEQ(member_int(obj, "pid"), 4242);
        CHECK_STREQ(member_str(obj, "protocol"), "0x86dd");
        tuple = member(obj, "tuple", json_type_object);
        CHECK_STREQ(member_str(tuple, "l3"), "ipv6");
        CHECK_STREQ(member_str(tuple, "proto"), "tcp");
        CHECK_STREQ(member_str(tuple, "saddr"), "fd00::1");
        CHECK_STREQ(member_str(tuple, "daddr"), "fd00::2");
        CHECK_INTEQ(member_int(tuple, "sport"), 40000);
        CHECK_INTEQ(member_int(tuple, "dport"), 80);
        CHECK_STREQ(member_str(tuple, "tcp_flags"), "S.");
        CHECK(!has_member(obj, "icmp"));
        json_object_put(obj);

        /* The same over IPv4: no brackets. */
        ev.tuple.l3 = SKBT_L3_IPV4;
        set_ip4(ev.tuple.saddr, 192, 168, 100, 254);
        set_ip4(ev.tuple.daddr, 0, 0, 0, 0);
        ev.tuple.tcp_flags = TCP_SYN;
        CHECK_STREQ(flow(&sb, &ev), "TCP 192.168.100.254:40000 -> 0.0.0.0:80 [S]");
}

static void test_tcp_flags(void)
{
        static const struct {
                uint8_t flags;
                const char *text;
        } cases[] = {
            {0, "none"},
            {TCP_SYN, "S"},
            {TCP_SYN | TCP_ACK, "S."},
            {TCP_ACK, "."},
            {TCP_PSH | TCP_ACK, "P."},
            {TCP_FIN | TCP_ACK, "F."},
            {TCP_RST, "R"},
            {TCP_RST | TCP_ACK, "R."},
            {TCP_FIN | TCP_PSH | TCP_ACK, "FP."},
            {TCP_SYN | TCP_ECE | TCP_CWR, "SEW"},
            {TCP_SYN | TCP_ACK | TCP_ECE, "S.E"},
            {TCP_URG | TCP_ACK, ".U"},
            {0xff, "FSRP.UEW"},
        };
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = tcp6_event();
        char expected[128];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                json_object *obj;

                ev.tuple.tcp_flags = cases[i].flags;
                snprintf(expected, sizeof(expected), "TCP [fd00::1]:40000 -> [fd00::2]:80 [%s]",
                         cases[i].text);
                CHECK_STREQ(flow(&sb, &ev), expected);
                obj = json(&sb, &ev, &names);
                CHECK_STREQ(member_str(member(obj, "tuple", json_type_object), "tcp_flags"),
                            cases[i].text);
                json_object_put(obj);
        }
}

static void test_udp_sctp_other(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = base_event();
        json_object *obj, *tuple;

        ev.protocol = 0x0800;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tuple.l4proto = 17;
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        set_ip4(ev.tuple.saddr, 10, 1, 2, 3);
        set_ip4(ev.tuple.daddr, 224, 0, 0, 251);
        ev.tuple.sport = 5353;
        ev.tuple.dport = 5353;
        CHECK_STREQ(flow(&sb, &ev), "UDP 10.1.2.3:5353 -> 224.0.0.251:5353");
        obj = json(&sb, &ev, &names);
        tuple = member(obj, "tuple", json_type_object);
        CHECK_STREQ(member_str(tuple, "proto"), "udp");
        CHECK_STREQ(member_str(tuple, "saddr"), "10.1.2.3");
        CHECK_STREQ(member_str(tuple, "daddr"), "224.0.0.251");
        CHECK_INTEQ(member_int(tuple, "sport"), 5353);
        CHECK_INTEQ(member_int(tuple, "dport"), 5353);
        CHECK(!has_member(tuple, "tcp_flags"));
        CHECK(!has_member(obj, "icmp"));
        json_object_put(obj);

        ev.tuple.l4proto = 132;
        CHECK_STREQ(flow(&sb, &ev), "SCTP 10.1.2.3:5353 -> 224.0.0.251:5353");

        /* A protocol without a name: its number, and no ports even if set. */
        ev.tuple.l4proto = 47;
        CHECK_STREQ(flow(&sb, &ev), "proto 47 10.1.2.3 -> 224.0.0.251");
        obj = json(&sb, &ev, &names);
        tuple = member(obj, "tuple", json_type_object);
        CHECK_INTEQ(member_int(tuple, "proto"), 47);
        CHECK_INTEQ(member_int(tuple, "sport"), 0);
        CHECK_INTEQ(member_int(tuple, "dport"), 0);
        json_object_put(obj);

        /* A fragment: addresses, no ports. */
        ev.tuple.l4proto = 17;
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_FRAGMENT;
        CHECK_STREQ(flow(&sb, &ev), "UDP 10.1.2.3 -> 224.0.0.251 frag");
        obj = json(&sb, &ev, &names);
        tuple = member(obj, "tuple", json_type_object);
        CHECK_INTEQ(member_bool(tuple, "fragment"), 1);
        CHECK(!has_member(tuple, "truncated"));
        CHECK_INTEQ(member_int(tuple, "sport"), 0);
        json_object_put(obj);

        /* VLAN */
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4 | SKBT_TUPLE_VLAN;
        ev.tuple.vlan_id = 100;
        CHECK_STREQ(flow(&sb, &ev), "UDP 10.1.2.3:5353 -> 224.0.0.251:5353 vlan=100");
        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(member_int(member(obj, "tuple", json_type_object), "vlan"), 100);
        json_object_put(obj);
}

static void test_non_ip(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = base_event();
        json_object *obj;

        ev.protocol = 0x0806;
        ev.tuple.flags = SKBT_TUPLE_L2;
        /* Stale bytes in the tuple must not leak into the output. */
        memset(ev.tuple.saddr, 0xab, sizeof(ev.tuple.saddr));
        ev.tuple.l3 = SKBT_L3_IPV4;
        CHECK_STREQ(text(&sb, &ev, &names), "25052836431430 000 0xffff888004a1c000 "
                                            "net:netif_receive_skb veth1 proto 0x0806");
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "protocol"), "0x0806");
        member(obj, "tuple", json_type_null);
        CHECK(!has_member(obj, "icmp"));
        json_object_put(obj);

        /* IP by ethertype, but the header could not be parsed. */
        ev.protocol = 0x0800;
        CHECK_STREQ(flow(&sb, &ev), "proto 0x0800 (no ip header)");
        ev.protocol = 0x86dd;
        ev.tuple.flags = SKBT_TUPLE_TRUNCATED;
        CHECK_STREQ(flow(&sb, &ev), "proto 0x86dd (no ip header) (truncated)");
        /* What text shows of the link layer, JSON has too (tuple is null). */
        obj = json(&sb, &ev, &names);
        CHECK(json_object_get_boolean(member(obj, "truncated", json_type_boolean)));
        CHECK(!has_member(obj, "vlan"));
        json_object_put(obj);
        ev.protocol = 0x0806;
        ev.tuple.flags = SKBT_TUPLE_VLAN | SKBT_TUPLE_L2;
        ev.tuple.vlan_id = 42;
        CHECK_STREQ(flow(&sb, &ev), "proto 0x0806 vlan=42");
        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(json_object_get_int(member(obj, "vlan", json_type_int)), 42);
        CHECK(!has_member(obj, "truncated"));
        json_object_put(obj);
        ev.tuple.vlan_id = 0;
        ev.protocol = 0;
        ev.tuple.flags = 0;
        CHECK_STREQ(flow(&sb, &ev), "proto 0x0000");

        /* An L3 flag with an l3 value we do not know is not an address. */
        ev.protocol = 0x0800;
        ev.tuple.flags = SKBT_TUPLE_L3;
        ev.tuple.l3 = 5;
        CHECK_STREQ(flow(&sb, &ev), "proto 0x0800 (no ip header)");
        obj = json(&sb, &ev, &names);
        member(obj, "tuple", json_type_null);
        json_object_put(obj);
}

static void test_truncated(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = tcp6_event();
        json_object *obj, *tuple;

        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_TRUNCATED;
        CHECK_STREQ(flow(&sb, &ev), "TCP fd00::1 -> fd00::2 (truncated)");
        obj = json(&sb, &ev, &names);
        tuple = member(obj, "tuple", json_type_object);
        CHECK_INTEQ(member_bool(tuple, "truncated"), 1);
        CHECK_INTEQ(member_int(tuple, "sport"), 0);
        CHECK_INTEQ(member_int(tuple, "dport"), 0);
        CHECK(!has_member(tuple, "tcp_flags"));
        json_object_put(obj);

        /* Truncated after the L4 header: the ports are fine, say nothing. */
        ev.tuple.flags = SKBT_TUPLE_L3 | SKBT_TUPLE_L4 | SKBT_TUPLE_TRUNCATED;
        CHECK_STREQ(flow(&sb, &ev), "TCP [fd00::1]:40000 -> [fd00::2]:80 [S.]");
}

static void test_drop(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        struct skbt_names no_sym = names;
        json_object *obj;

        ev.probe_id = 3;
        ev.flags |= SKBT_EV_DROP;
        ev.drop_reason = 2;
        ev.location = 0xffffffff81a2b3c4ULL;
        symbolize_calls = 0;
        CHECK_STREQ(text(&sb, &ev, &names),
                    "25052836431430 000 0xffff888004a1c000 skb:kfree_skb veth1 ICMP 10.0.0.1 -> "
                    "10.0.0.2 echo-request id=7 seq=3 drop_reason=NO_SOCKET "
                    "location=udp_queue_rcv_one_skb+0x1a/0x200");
        CHECK_INTEQ(symbolize_calls, 1);
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "drop_reason"), "NO_SOCKET");
        CHECK_STREQ(member_str(obj, "location"), "udp_queue_rcv_one_skb+0x1a/0x200");
        CHECK(!has_member(obj, "retval"));
        json_object_put(obj);
        CHECK(strstr(strbuf_cstr(&sb), ",\"drop_reason\":\"NO_SOCKET\","
                                       "\"location\":\"udp_queue_rcv_one_skb+0x1a/0x200\","
                                       "\"track_id\":0,"));

        /* Unknown reason (past the table, and a hole), unknown address. */
        ev.drop_reason = 77;
        ev.location = 0xffffffffc0de0042ULL;
        CHECK_STREQ(flow(&sb, &ev), "ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=7 seq=3");
        CHECK(strstr(text(&sb, &ev, &names), " drop_reason=reason#77 "
                                             "location=0xffffffffc0de0042"));
        ev.drop_reason = 3;
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "drop_reason"), "reason#3");
        CHECK_STREQ(member_str(obj, "location"), "0xffffffffc0de0042");
        json_object_put(obj);

        /* No symbolizer (kallsyms unreadable) and no reason table (pre-5.17 kernel). */
        no_sym.symbolize = NULL;
        no_sym.drop_reasons = NULL;
        no_sym.n_drop_reasons = 0;
        ev.drop_reason = 2;
        ev.location = 0xffffffff81a2b3c4ULL;
        CHECK(strstr(text(&sb, &ev, &no_sym), " drop_reason=reason#2 "
                                              "location=0xffffffff81a2b3c4"));

        /* Not a drop: the symbolizer is not even asked. */
        symbolize_calls = 0;
        ev.flags &= ~SKBT_EV_DROP;
        CHECK(!strstr(text(&sb, &ev, &names), "drop_reason"));
        obj = json(&sb, &ev, &names);
        CHECK(!has_member(obj, "drop_reason"));
        CHECK(!has_member(obj, "location"));
        json_object_put(obj);
        CHECK_INTEQ(symbolize_calls, 0);
}

static void test_return(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = tcp6_event();
        json_object *obj;

        ev.probe_id = 4;
        ev.flags |= SKBT_EV_RETURN;
        ev.retval = -22;
        CHECK_STREQ(text(&sb, &ev, &names),
                    "25052836431430 000 0xffff888004a1c000 __ip_local_out veth1 "
                    "TCP [fd00::1]:40000 -> [fd00::2]:80 [S.] retval=-22");
        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(member_bool(obj, "is_return"), 1);
        CHECK_INTEQ(member_int(obj, "retval"), -22);
        json_object_put(obj);

        ev.retval = INT64_MIN;
        CHECK(strstr(text(&sb, &ev, &names), " retval=-9223372036854775808"));
        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(member_int(obj, "retval"), INT64_MIN);
        json_object_put(obj);

        ev.retval = 0;
        CHECK(strstr(text(&sb, &ev, &names), "[S.] retval=0"));

        /* A drop seen on return carries both. */
        ev.flags |= SKBT_EV_DROP;
        ev.drop_reason = 5;
        ev.location = 0;
        ev.retval = 1;
        CHECK(strstr(text(&sb, &ev, &names), "[S.] drop_reason=TCP_CSUM location=0x0 retval=1"));
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "drop_reason"), "TCP_CSUM");
        CHECK_INTEQ(member_int(obj, "retval"), 1);
        json_object_put(obj);
}

static void test_probe_names(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        json_object *obj;

        ev.probe_id = 12;
        ev.cpu = 7;
        CHECK_STREQ(text(&sb, &ev, &names), "25052836431430 007 0xffff888004a1c000 probe#12 "
                                            "veth1 ICMP 10.0.0.1 -> 10.0.0.2 echo-request "
                                            "id=7 seq=3");
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "function"), "probe#12");
        CHECK_INTEQ(member_int(obj, "processor_id"), 7);
        json_object_put(obj);

        /* A hole in the table. */
        ev.probe_id = 1;
        CHECK(strstr(text(&sb, &ev, &names), " probe#1 veth1 "));

        /* No names at all. */
        ev.probe_id = UINT32_MAX;
        ev.cpu = 1234;
        CHECK(strstr(text(&sb, &ev, NULL), " 1234 0xffff888004a1c000 probe#4294967295 veth1 "));
        obj = json(&sb, &ev, NULL);
        CHECK_STREQ(member_str(obj, "function"), "probe#4294967295");
        CHECK_INTEQ(member_int(obj, "processor_id"), 1234);
        json_object_put(obj);

        ev.cpu = 99;
        CHECK(strstr(text(&sb, &ev, NULL), " 099 "));
        ev.cpu = 100;
        CHECK(strstr(text(&sb, &ev, NULL), " 100 "));
        ev.skb = 0;
        ev.ts = 0;
        CHECK(strncmp(text(&sb, &ev, NULL), "0 100 0x0 ", 10) == 0);
}

static void test_ifname(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        json_object *obj;

        /* Device names may hold any byte but '/', ':' and NUL; do not trust them. */
        memcpy(ev.ifname, "a\"b\\c\nd\xff", 9);
        CHECK(strstr(text(&sb, &ev, &names), " a\"b\\\\c\\x0ad\\xff ICMP "));

        obj = json(&sb, &ev, &names);
        CHECK(strstr(strbuf_cstr(&sb), ",\"ifname\":\"a\\\"b\\\\c\\nd\\u00ff\","));
        /* json-c decodes \u00ff to U+00FF in UTF-8. */
        CHECK_STREQ(member_str(obj, "ifname"), "a\"b\\c\nd\xc3\xbf");
        json_object_put(obj);

        /* Escape sequences must not reach a terminal; spaces would split the field. */
        memset(ev.ifname, 0, sizeof(ev.ifname));
        memcpy(ev.ifname, "\x1b[2J x\x7f", 8);
        CHECK(strstr(text(&sb, &ev, &names), " \\x1b[2J\\x20x\\x7f ICMP "));

        /* All 16 bytes used, no NUL: stop at the array, never read past it. */
        memset(ev.ifname, 'e', sizeof(ev.ifname));
        CHECK(strstr(text(&sb, &ev, &names), " eeeeeeeeeeeeeeee ICMP "));
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "ifname"), "eeeeeeeeeeeeeeee");
        json_object_put(obj);

        /* Worst case: every byte escaped. */
        memset(ev.ifname, 0x01, sizeof(ev.ifname));
        CHECK(strstr(text(&sb, &ev, &names), " net:netif_receive_skb "
                                             "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
                                             "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01 ICMP "));
        obj = json(&sb, &ev, &names);
        CHECK_INTEQ(json_object_get_string_len(member(obj, "ifname", json_type_string)), 16);
        json_object_put(obj);

        /* No device. */
        memset(ev.ifname, 0, sizeof(ev.ifname));
        ev.ifindex = 0;
        ev.netns = 0;
        ev.flags &= ~SKBT_EV_HAS_DEV;
        CHECK(strstr(text(&sb, &ev, &names), " net:netif_receive_skb - ICMP "));
        obj = json(&sb, &ev, &names);
        CHECK_STREQ(member_str(obj, "ifname"), "");
        CHECK_INTEQ(member_int(obj, "ifindex"), 0);
        json_object_put(obj);
}

static void test_names_escaped(void)
{
        static const char *const odd_probes[] = {"we\"ird\\probe\x01"};
        static const char *const odd_reasons[] = {"BAD\"REASON"};
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        struct skbt_names n = {
            .probes = odd_probes,
            .n_probes = 1,
            .drop_reasons = odd_reasons,
            .n_drop_reasons = 1,
        };
        json_object *obj;

        ev.flags |= SKBT_EV_DROP;
        obj = json(&sb, &ev, &n);
        CHECK_STREQ(member_str(obj, "function"), "we\"ird\\probe\x01");
        CHECK_STREQ(member_str(obj, "drop_reason"), "BAD\"REASON");
        json_object_put(obj);
}

/* Long names must fit the single up-front reservation (ASan checks the writes). */
static int long_symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        /* Fill the whole buffer without a NUL: the renderer must bound it. */
        memset(buf, '\x80', len);
        return 0;
}

static void test_worst_case(void)
{
        static char long_probe[4096], long_reason[4096];
        static const char *const lp[] = {long_probe};
        static const char *const lr[] = {long_reason};
        struct skbt_names n = {
            .probes = lp,
            .n_probes = 1,
            .drop_reasons = lr,
            .n_drop_reasons = 1,
            .symbolize = long_symbolize,
        };
        struct skbt_event ev = tcp6_event();

        memset(long_probe, '"', sizeof(long_probe) - 1);
        memset(long_reason, '\x7f', sizeof(long_reason) - 1);
        memset(ev.ifname, 0xff, sizeof(ev.ifname));
        set_ip6(ev.tuple.saddr, "1111:2222:3333:4444:5555:6666:7777:8888");
        set_ip6(ev.tuple.daddr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        ev.tuple.sport = 65535;
        ev.tuple.dport = 65535;
        ev.tuple.tcp_flags = 0xff;
        ev.tuple.flags = 0xff;
        ev.tuple.vlan_id = 65535;
        ev.flags = 0xff;
        ev.retval = INT64_MIN;
        ev.ts = UINT64_MAX;
        ev.cpu = UINT32_MAX;
        ev.skb = UINT64_MAX;
        ev.location = UINT64_MAX;
        ev.mark = ev.len = ev.ifindex = ev.netns = ev.pid = UINT32_MAX;

        for (int fmt = 0; fmt < 2; fmt++) {
                struct strbuf sb = STRBUF_INIT;
                json_object *obj;

                skbt_format_event(&sb, fmt, &ev, &n);
                CHECK(!strbuf_failed(&sb));
                CHECK(sb.len > 2 * 4096 && sb.data[sb.len - 1] == '\n');
                if (fmt == SKBT_OUTPUT_JSON) {
                        obj = json_tokener_parse(strbuf_cstr(&sb));
                        CHECK(obj);
                        CHECK_INTEQ(
                            json_object_get_string_len(member(obj, "location", json_type_string)),
                            255 * 2);
                        json_object_put(obj);
                }
                strbuf_done(&sb);
        }
}

/* A failed buffer stays failed and untouched. */
static void test_failed_buffer(void)
{
        struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();

        sb.failed = true;
        skbt_format_text(&sb, &ev, &names);
        skbt_format_json(&sb, &ev, &names);
        skbt_format_flow(&sb, &ev);
        CHECK(sb.len == 0 && sb.data == NULL && strbuf_failed(&sb));
}

static void test_ipv4_addresses(void)
{
        static const struct {
                uint8_t a[4];
                const char *s;
        } cases[] = {
            {{0, 0, 0, 0}, "0.0.0.0"},           {{255, 255, 255, 255}, "255.255.255.255"},
            {{1, 10, 100, 200}, "1.10.100.200"}, {{9, 99, 101, 250}, "9.99.101.250"},
            {{127, 0, 0, 1}, "127.0.0.1"},
        };
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        char expected[128];

        ev.tuple.flags = SKBT_TUPLE_L3;
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                set_ip4(ev.tuple.saddr, cases[i].a[0], cases[i].a[1], cases[i].a[2], cases[i].a[3]);
                snprintf(expected, sizeof(expected), "ICMP %s -> 10.0.0.2", cases[i].s);
                CHECK_STREQ(flow(&sb, &ev), expected);
        }
        /* Every octet value, against inet_ntop(). */
        for (unsigned v = 0; v < 256; v++) {
                char want[INET_ADDRSTRLEN];

                set_ip4(ev.tuple.saddr, (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7),
                        (uint8_t)(v / 3));
                inet_ntop(AF_INET, ev.tuple.saddr, want, sizeof(want));
                snprintf(expected, sizeof(expected), "ICMP %s -> 10.0.0.2", want);
                CHECK_STREQ(flow(&sb, &ev), expected);
        }
}

static uint64_t rng_next(uint64_t *s)
{
        /* xorshift64: reproducible without touching libc's global rand() state. */
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void check_ipv6(struct strbuf *sb, struct skbt_event *ev, const char *want)
{
        char expected[128];

        snprintf(expected, sizeof(expected), "UDP %s -> ::", want);
        CHECK_STREQ(flow(sb, ev), expected);
}

static void test_ipv6_addresses(void)
{
        static const struct {
                const char *in;
                const char *out;
        } cases[] = {
            {"::", "::"},
            {"::1", "::1"},
            {"1::", "1::"},
            {"fe80::1:2", "fe80::1:2"},
            {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* first of equal runs */
            {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one zero: no "::" */
            {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* longest run */
            {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
            {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
            {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
            {"abcd:ef01:2345:6789:abcd:ef01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
            {"::fff:1.2.3.4", "::fff:102:304"},
        };
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = base_event();
        uint64_t seed = 0x9e3779b97f4a7c15ULL;

        ev.protocol = 0x86dd;
        ev.tuple.l3 = SKBT_L3_IPV6;
        ev.tuple.l4proto = 17;
        ev.tuple.flags = SKBT_TUPLE_L3;

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                set_ip6(ev.tuple.saddr, cases[i].in);
                check_ipv6(&sb, &ev, cases[i].out);
        }

        /*
         * Against inet_ntop() on addresses made of many zero groups, so that
         * every placement of the "::" run comes up.  Addresses whose first 96
         * bits are zero are left out: libcs disagree on those (glibc prints
         * the deprecated IPv4-compatible "::1.2.3.4" form, musl does not).
         */
        for (int i = 0; i < 20000; i++) {
                char want[INET6_ADDRSTRLEN];
                uint64_t r = rng_next(&seed);
                static const uint8_t zero12[12];

                for (int g = 0; g < 8; g++) {
                        unsigned w;

                        switch ((r >> (4 * g)) & 3) {
                        case 0:
                        case 1:
                                w = 0;
                                break;
                        case 2:
                                w = (unsigned)(r >> (32 + 2 * g)) & 0xf;
                                break;
                        default:
                                w = (unsigned)(rng_next(&seed) & 0xffff);
                                break;
                        }
                        ev.tuple.saddr[2 * g] = (uint8_t)(w >> 8);
                        ev.tuple.saddr[2 * g + 1] = (uint8_t)w;
                }
                if (memcmp(ev.tuple.saddr, zero12, 12) == 0)
                        continue;
                inet_ntop(AF_INET6, ev.tuple.saddr, want, sizeof(want));
                check_ipv6(&sb, &ev, want);
        }
}

/* The decimal writer at every digit-count boundary, against printf. */
static void test_numbers(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = icmp_echo_event();
        uint64_t pow10 = 1;
        char want[64];

        ev.flags |= SKBT_EV_RETURN;
        for (int k = 0; k <= 20; k++) {
                const uint64_t values[] = {pow10 - 1, pow10, pow10 + 1, UINT64_MAX - pow10 + 1};

                for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
                        ev.ts = values[i];
                        ev.retval = (int64_t)values[i];
                        snprintf(want, sizeof(want), "%llu ", (unsigned long long)ev.ts);
                        CHECK(strncmp(text(&sb, &ev, &names), want, strlen(want)) == 0);
                        snprintf(want, sizeof(want), " retval=%lld", (long long)ev.retval);
                        CHECK(strstr(strbuf_cstr(&sb), want) != NULL);
                }
                if (k < 19)
                        pow10 *= 10;
        }
}

/* Many events appended to one buffer: one complete, parseable line each. */
static void test_many_lines(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev;
        const char *p, *end;
        size_t lines = 0, parsed = 0;

        for (int i = 0; i < 1000; i++) {
                switch (i % 4) {
                case 0:
                        ev = icmp_echo_event();
                        ev.tuple.icmp_seq = (uint16_t)i;
                        break;
                case 1:
                        ev = tcp6_event();
                        ev.flags |= SKBT_EV_RETURN;
                        ev.retval = -i;
                        break;
                case 2:
                        ev = icmp_echo_event();
                        ev.flags |= SKBT_EV_DROP;
                        ev.drop_reason = (uint32_t)i % 7;
                        ev.location = i % 2 ? 0xffffffff81a2b3c4ULL : (uint64_t)i;
                        break;
                default:
                        ev = base_event();
                        ev.protocol = 0x0806;
                        ev.ifname[0] = (char)(i & 0xff);
                        break;
                }
                ev.ts += (uint64_t)i;
                ev.probe_id = (uint32_t)i % 8;
                skbt_format_json(&sb, &ev, &names);
        }
        CHECK(!strbuf_failed(&sb));
        p = strbuf_cstr(&sb);
        end = p + sb.len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                json_tokener *tok;
                json_object *obj;

                CHECK(nl != NULL);
                if (!nl)
                        break;
                lines++;
                tok = json_tokener_new();
                obj = json_tokener_parse_ex(tok, p, (int)(nl - p));
                if (obj && json_tokener_get_error(tok) == json_tokener_success &&
                    json_object_is_type(obj, json_type_object) &&
                    json_tokener_get_parse_end(tok) == (size_t)(nl - p))
                        parsed++;
                else
                        fprintf(stderr, "  line %zu: %.*s\n", lines, (int)(nl - p), p);
                json_object_put(obj);
                json_tokener_free(tok);
                p = nl + 1;
        }
        CHECK_INTEQ(lines, 1000);
        CHECK_INTEQ(parsed, 1000);

        /* The text form of the same: 1,000 lines. */
        strbuf_reset(&sb);
        for (int i = 0; i < 1000; i++) {
                ev = icmp_echo_event();
                ev.ifname[0] = (char)(i & 0xff);
                ev.probe_id = (uint32_t)i;
                skbt_format_event(&sb, SKBT_OUTPUT_TEXT, &ev, &names);
        }
        lines = 0;
        for (size_t i = 0; i < sb.len; i++)
                lines += sb.data[i] == '\n';
        CHECK_INTEQ(lines, 1000);
}

/* A verdict's record: the event, then its struct skbt_nf (as the ring buffer has it). */
struct nf_record {
        struct skbt_event ev;
        struct skbt_nf nf;
};

static void test_netfilter(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct nf_record r = {.ev = icmp_echo_event()};
        struct skbt_format_opts o = {};
        json_object *obj, *nf;

        r.ev.probe_id = 2;
        r.ev.flags |= SKBT_EV_NF;
        r.ev.retval = 0; /* NF_DROP */
        strcpy(r.nf.table, "t");
        strcpy(r.nf.chain, "in");
        r.nf.engine = SKBT_NF_NFTABLES;
        r.nf.pf = 2;   /* NFPROTO_IPV4 */
        r.nf.hook = 1; /* NF_INET_LOCAL_IN */
        CHECK_STREQ(text(&sb, &r.ev, &names),
                    "25052836431430 000 0xffff888004a1c000 ip_rcv veth1 ICMP 10.0.0.1 -> 10.0.0.2 "
                    "echo-request id=7 seq=3 nf=nftables family=ip table=t chain=in hook=INPUT "
                    "verdict=DROP");
        obj = json(&sb, &r.ev, &names);
        nf = member(obj, "netfilter", json_type_object);
        CHECK_STREQ(member_str(nf, "engine"), "nftables");
        CHECK_STREQ(member_str(nf, "family"), "ip");
        CHECK_STREQ(member_str(nf, "table"), "t");
        CHECK_STREQ(member_str(nf, "chain"), "in");
        CHECK_STREQ(member_str(nf, "hook"), "INPUT");
        CHECK_STREQ(member_str(nf, "verdict"), "DROP");
        CHECK(!has_member(obj, "retval"));
        json_object_put(obj);

        /* iptables: the chain is the hook's; ip6tables and arptables by family. */
        r.nf.engine = SKBT_NF_XTABLES;
        strcpy(r.nf.table, "nat");
        r.nf.chain[0] = 0;
        r.nf.hook = 4;
        r.ev.retval = 1;
        CHECK(strstr(text(&sb, &r.ev, &names),
                     " nf=iptables family=ip table=nat "
                     "chain=POSTROUTING hook=POSTROUTING verdict=ACCEPT"));
        r.nf.pf = 10;
        r.ev.retval = 3 | (5 << 16); /* NF_QUEUE to queue 5 */
        CHECK(strstr(text(&sb, &r.ev, &names), " nf=ip6tables family=ip6 table=nat "
                                               "chain=POSTROUTING hook=POSTROUTING verdict=QUEUE"));
        r.nf.pf = 3;
        r.nf.hook = 1;
        strcpy(r.nf.table, "filter");
        CHECK(strstr(text(&sb, &r.ev, &names), " nf=arptables family=arp table=filter "
                                               "chain=OUTPUT hook=OUTPUT"));
        /* ebtables: the bridge family's hooks (BROUTING where inet has INGRESS). */
        r.nf.engine = SKBT_NF_EBTABLES;
        r.nf.pf = 7;
        r.nf.hook = 2;
        r.ev.retval = 0;
        CHECK(strstr(text(&sb, &r.ev, &names), " nf=ebtables family=bridge table=filter "
                                               "chain=FORWARD hook=FORWARD verdict=DROP"));
        r.nf.hook = 5;
        strcpy(r.nf.table, "broute");
        CHECK(strstr(text(&sb, &r.ev, &names), " nf=ebtables family=bridge table=broute "
                                               "chain=BROUTING hook=BROUTING"));
        /* nftables' bridge family names the hooks the same way. */
        r.nf.engine = SKBT_NF_NFTABLES;
        strcpy(r.nf.chain, "fwd");
        r.nf.hook = 2;
        CHECK(strstr(text(&sb, &r.ev, &names), " nf=nftables family=bridge table=broute "
                                               "chain=fwd hook=FORWARD"));
        r.nf.engine = SKBT_NF_XTABLES;
        r.nf.chain[0] = 0;
        strcpy(r.nf.table, "filter");
        /* NF_DROP_REASON(): NF_STOLEN with an errno is the hook's own drop. */
        CHECK_STREQ(skbt_nf_verdict_name(2 | (1 << 16)), "DROP");
        CHECK_STREQ(skbt_nf_verdict_name(2), "STOLEN");
        CHECK(skbt_nf_verdict_is_drop(2 | (1 << 16)) && skbt_nf_verdict_is_drop(0));
        CHECK(!skbt_nf_verdict_is_drop(2) && !skbt_nf_verdict_is_drop(1));
        /* The rule that decided: only for sessions that asked (o.nf_rules). */
        r.nf.engine = SKBT_NF_NFTABLES;
        r.nf.pf = 2;
        r.nf.hook = 1;
        strcpy(r.nf.chain, "in");
        r.nf.rule_type = SKBT_NF_RULE_RULE;
        r.nf.rule_handle = 4;
        r.nf.rule_pos = 2;
        strcpy(r.nf.rule_chain, "sub chain");
        r.ev.retval = 0;
        CHECK(!strstr(text(&sb, &r.ev, &names), "rule"));
        o = (struct skbt_format_opts){.nf_rules = true};
        strbuf_reset(&sb);
        skbt_format_text_opts(&sb, &o, &r.ev, &names);
        CHECK(strstr(strbuf_cstr(&sb),
                     " verdict=DROP rule_handle=4 rule_pos=2 rule_chain=sub\\x20chain\n"));
        strbuf_reset(&sb);
        skbt_format_json_opts(&sb, &o, &r.ev, &names);
        CHECK(strstr(strbuf_cstr(&sb),
                     ",\"verdict\":\"DROP\",\"rule\":{\"handle\":4,\"position\":2,"
                     "\"chain\":\"sub chain\"}}"));
        obj = json(&sb, &r.ev, &names);
        CHECK(!has_member(member(obj, "netfilter", json_type_object), "rule"));
        json_object_put(obj);
        r.nf.rule_type = SKBT_NF_RULE_POLICY;
        strbuf_reset(&sb);
        skbt_format_text_opts(&sb, &o, &r.ev, &names);
        CHECK(strstr(strbuf_cstr(&sb), " verdict=DROP rule=policy\n"));
        strbuf_reset(&sb);
        skbt_format_json_opts(&sb, &o, &r.ev, &names);
        CHECK(strstr(strbuf_cstr(&sb), ",\"rule\":{\"policy\":true}}"));
        r.nf.rule_type = SKBT_NF_RULE_NONE;
        o = (struct skbt_format_opts){};
        r.nf.engine = SKBT_NF_XTABLES;
        r.nf.chain[0] = 0;
        /* Numbers without names. */
        r.nf.pf = 99;
        r.nf.hook = 9;
        r.ev.retval = 0x42;
        CHECK(strstr(text(&sb, &r.ev, &names),
                     " family=pf#99 table=filter chain=- hook=hook#9 verdict=verdict#66"));

        /* Names are the rule writer's: a hostile one cannot break either format. */
        r.nf.engine = SKBT_NF_NFTABLES;
        r.nf.pf = 2;
        strcpy(r.nf.table, "a\"b\\c\n");
        strcpy(r.nf.chain, "x y\x1b[0m");
        r.nf.hook = 1;
        CHECK(strstr(text(&sb, &r.ev, &names),
                     " table=a\"b\\\\c\\x0a chain=x\\x20y\\x1b[0m hook=INPUT"));
        obj = json(&sb, &r.ev, &names);
        nf = member(obj, "netfilter", json_type_object);
        CHECK_STREQ(member_str(nf, "table"), "a\"b\\c\n");
        CHECK_STREQ(member_str(nf, "chain"), "x y\x1b[0m");
        json_object_put(obj);

        /* A drop explained by a verdict the session saw before. */
        r.ev.flags = (r.ev.flags & ~SKBT_EV_NF) | SKBT_EV_DROP;
        r.ev.probe_id = 3;
        r.ev.drop_reason = 2;
        strcpy(r.nf.table, "filter");
        r.nf.chain[0] = 0;
        r.nf.engine = SKBT_NF_XTABLES;
        o.nf = &r.nf;
        o.nf_verdict = 0;
        strbuf_reset(&sb);
        skbt_format_text_opts(&sb, &o, &r.ev, &names);
        CHECK(strstr(strbuf_cstr(&sb), " drop_reason=NO_SOCKET location=0x0 nf=iptables "
                                       "family=ip table=filter chain=INPUT hook=INPUT "
                                       "verdict=DROP\n"));
        strbuf_reset(&sb);
        skbt_format_json_opts(&sb, &o, &r.ev, &names);
        obj = json_tokener_parse(strbuf_cstr(&sb));
        nf = member(obj, "netfilter", json_type_object);
        CHECK_STREQ(member_str(nf, "verdict"), "DROP");
        CHECK_STREQ(member_str(obj, "drop_reason"), "NO_SOCKET");
        json_object_put(obj);
}

/* Tunnels: the outer flow, the tunnel and its id, the inner flow in braces; JSON "tunnel". */
static void test_tunnel(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = base_event();
        json_object *obj, *tun, *inner;

        ev.protocol = 0x0800;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tuple.l4proto = 17;
        ev.tuple.flags = SKBT_TUPLE_L2 | SKBT_TUPLE_L3 | SKBT_TUPLE_L4;
        set_ip4(ev.tuple.saddr, 192, 0, 2, 1);
        set_ip4(ev.tuple.daddr, 192, 0, 2, 2);
        ev.tuple.sport = 54321;
        ev.tuple.dport = 4789;
        ev.tun.type = SKBT_TUN_VXLAN;
        ev.tun.flags = SKBT_TUN_F_ID | SKBT_TUN_F_L2;
        ev.tun.id = 42;
        ev.tun.inner_proto = 0x0800;
        ev.tun.inner = icmp_echo_event().tuple;
        CHECK_STREQ(flow(&sb, &ev), "UDP 192.0.2.1:54321 -> 192.0.2.2:4789 vxlan vni=42 "
                                    "{ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=7 seq=3}");
        CHECK(strstr(text(&sb, &ev, &names), " veth1 UDP 192.0.2.1:54321 -> 192.0.2.2:4789 vxlan "
                                             "vni=42 {ICMP 10.0.0.1 -> 10.0.0.2 echo-request id=7 "
                                             "seq=3}"));
        obj = json(&sb, &ev, &names);
        tun = member(obj, "tunnel", json_type_object);
        CHECK_STREQ(member_str(tun, "type"), "vxlan");
        CHECK_INTEQ(member_int(tun, "vni"), 42);
        CHECK_STREQ(member_str(tun, "inner_protocol"), "0x0800");
        inner = member(tun, "inner", json_type_object);
        CHECK_STREQ(member_str(inner, "daddr"), "10.0.0.2");
        CHECK_STREQ(member_str(inner, "proto"), "icmp");
        CHECK_INTEQ(member_int(member(tun, "inner_icmp", json_type_object), "id"), 7);
        /* The outer tuple stays the event's. */
        CHECK_INTEQ(member_int(member(obj, "tuple", json_type_object), "dport"), 4789);
        json_object_put(obj);

        /* GRE with a key, over IPv6; an inner packet without IP (ARP in GRETAP). */
        ev.tuple.l3 = SKBT_L3_IPV6;
        ev.tuple.l4proto = 47;
        ev.tuple.flags = SKBT_TUPLE_L3;
        set_ip6(ev.tuple.saddr, "2001:db8::1");
        set_ip6(ev.tuple.daddr, "2001:db8::2");
        ev.protocol = 0x86dd;
        ev.tun.type = SKBT_TUN_GRETAP;
        ev.tun.id = 7;
        ev.tun.inner_proto = 0x0806;
        memset(&ev.tun.inner, 0, sizeof(ev.tun.inner));
        ev.tun.inner.flags = SKBT_TUPLE_L2;
        CHECK_STREQ(flow(&sb, &ev), "proto 47 2001:db8::1 -> 2001:db8::2 ip6gretap key=7 "
                                    "{proto 0x0806}");
        obj = json(&sb, &ev, &names);
        tun = member(obj, "tunnel", json_type_object);
        CHECK_INTEQ(member_int(tun, "key"), 7);
        CHECK(json_object_object_get_ex(tun, "inner", &inner) && inner == NULL);
        json_object_put(obj);
        /* IP in IP: named by the families, no id. */
        ev.tun.type = SKBT_TUN_IPIP;
        ev.tun.flags = 0;
        ev.tuple.l3 = SKBT_L3_IPV4;
        ev.tun.inner.l3 = SKBT_L3_IPV6;
        CHECK(strstr(flow(&sb, &ev), " sit {"));
        ev.tun.inner.l3 = SKBT_L3_IPV4;
        CHECK(strstr(flow(&sb, &ev), " ipip {"));
        /* No tunnel: nothing more. */
        ev.tun.type = SKBT_TUN_NONE;
        CHECK(!strchr(flow(&sb, &ev), '{'));
        obj = json(&sb, &ev, &names);
        CHECK(!has_member(obj, "tunnel"));
        json_object_put(obj);
}

/* A TCP skb before its headers: the socket's tuple and the control block's flags. */
static void test_socket_tuple(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_event ev = tcp6_event();
        json_object *obj;

        ev.protocol = 0;
        ev.tuple.flags |= SKBT_TUPLE_SOCK;
        ev.tuple.tcp_flags = TCP_PSH | TCP_ACK;
        CHECK_STREQ(flow(&sb, &ev), "TCP [fd00::1]:40000 -> [fd00::2]:80 [P.] (socket)");
        obj = json(&sb, &ev, &names);
        CHECK(member_bool(member(obj, "tuple", json_type_object), "from_socket") == 1);
        CHECK_STREQ(member_str(member(obj, "tuple", json_type_object), "tcp_flags"), "P.");
        json_object_put(obj);
}

static const char *fake_netns_name(void *data, uint32_t inode, uint64_t ts)
{
        (void)data;
        (void)ts;
        if (inode == 4026531840U)
                return "blue";
        if (inode == 4026531841U)
                return "a b\x1b:c";
        return NULL;
}

/* Names of namespaces (ip netns): text --detail and JSON, escaped, only when known. */
static void test_netns_name(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_names n = names;
        struct skbt_format_opts o = {.detail = true};
        struct skbt_event ev = icmp_echo_event();
        json_object *obj;

        n.netns_name = fake_netns_name;
        skbt_format_text_opts(&sb, &o, &ev, &n);
        CHECK(strstr(strbuf_cstr(&sb), " if=veth1:3 netns=blue:4026531840 pid=0 "));
        /* Without --detail, text shows no namespace at all. */
        CHECK(!strstr(text(&sb, &ev, &n), "blue"));
        obj = json(&sb, &ev, &n);
        CHECK_STREQ(member_str(obj, "netns_name"), "blue");
        CHECK_INTEQ(member_int(obj, "netns"), 4026531840U);
        json_object_put(obj);

        /* A name is a file name: escaped like device names; the number stays last. */
        ev.netns = 4026531841U;
        strbuf_reset(&sb);
        skbt_format_text_opts(&sb, &o, &ev, &n);
        CHECK(strstr(strbuf_cstr(&sb), " netns=a\\x20b\\x1b:c:4026531841 pid=0 "));
        obj = json(&sb, &ev, &n);
        CHECK_STREQ(member_str(obj, "netns_name"), "a b\x1b:c");
        json_object_put(obj);

        /* No name: as before, and no member. */
        ev.netns = 4026531999U;
        strbuf_reset(&sb);
        skbt_format_text_opts(&sb, &o, &ev, &n);
        CHECK(strstr(strbuf_cstr(&sb), " netns=4026531999 pid=0 "));
        obj = json(&sb, &ev, &n);
        CHECK(!has_member(obj, "netns_name"));
        json_object_put(obj);
        /* No device: no lookup. */
        ev.netns = 0;
        obj = json(&sb, &ev, &n);
        CHECK(!has_member(obj, "netns_name"));
        json_object_put(obj);
}

int main(void)
{
        test_output_names();
        test_netns_name();
        test_tunnel();
        test_socket_tuple();
        test_icmp_echo();
        test_icmp_types();
        test_tcp6();
        test_tcp_flags();
        test_udp_sctp_other();
        test_non_ip();
        test_truncated();
        test_drop();
        test_return();
        test_probe_names();
        test_ifname();
        test_names_escaped();
        test_worst_case();
        test_failed_buffer();
        test_numbers();
        test_ipv4_addresses();
        test_ipv6_addresses();
        test_many_lines();
        test_netfilter();
        return TEST_DONE();
}
