/* SPDX-License-Identifier: GPL-2.0-only */
/* test_filter_spec.c - unit tests for filter parsing, validation and the JSON wire form */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "filter_spec.h"
#include "trace_params.h"
#include "testlib.h"

/* Every message must be one line and fit the documented buffer size. */
static void check_msg_shape(const char *err)
{
        CHECK(strlen(err) > 0);
        CHECK(strlen(err) < SKBT_ERR_MAX - 1);
        CHECK(strchr(err, '\n') == NULL);
}

/* Run a call expected to fail with exactly msg; the call writes to the caller's err[]. */
#define CHECK_FAIL(call, msg)                                                                      \
        do {                                                                                       \
                int _r;                                                                            \
                                                                                                   \
                err[0] = '\0';                                                                     \
                _r = (call);                                                                       \
                CHECK_INTEQ(_r, -EINVAL);                                                          \
                CHECK_STREQ(err, msg);                                                             \
                check_msg_shape(err);                                                              \
        } while (0)

/* As CHECK_FAIL, but only check that the message starts with prefix. */
#define CHECK_FAIL_PREFIX(call, prefix)                                                            \
        do {                                                                                       \
                int _r;                                                                            \
                                                                                                   \
                err[0] = '\0';                                                                     \
                _r = (call);                                                                       \
                CHECK_INTEQ(_r, -EINVAL);                                                          \
                if (strncmp(err, prefix, strlen(prefix)) != 0) {                                   \
                        fprintf(stderr, "%s:%d: message '%s' does not start with '%s'\n",          \
                                __FILE__, __LINE__, err, prefix);                                  \
                        testlib_failures++;                                                        \
                }                                                                                  \
                check_msg_shape(err);                                                              \
        } while (0)

static void test_port(void)
{
        char err[SKBT_ERR_MAX];
        uint16_t p = 1;

        CHECK_INTEQ(skbt_parse_port("0", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 0);
        CHECK_INTEQ(skbt_parse_port("80", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 80);
        CHECK_INTEQ(skbt_parse_port("65535", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 65535);
        CHECK_INTEQ(skbt_parse_port("00053", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 53);

        CHECK_FAIL(skbt_parse_port("65536", &p, err, sizeof(err)),
                   "invalid port '65536': expected a number from 0 to 65535");
        CHECK_FAIL(skbt_parse_port("70000", &p, err, sizeof(err)),
                   "invalid port '70000': expected a number from 0 to 65535");
        CHECK_FAIL(skbt_parse_port("", &p, err, sizeof(err)),
                   "invalid port '': expected a number from 0 to 65535");
        CHECK_FAIL_PREFIX(skbt_parse_port("-1", &p, err, sizeof(err)), "invalid port '-1'");
        CHECK_FAIL_PREFIX(skbt_parse_port("+1", &p, err, sizeof(err)), "invalid port '+1'");
        CHECK_FAIL_PREFIX(skbt_parse_port(" 80", &p, err, sizeof(err)), "invalid port ' 80'");
        CHECK_FAIL_PREFIX(skbt_parse_port("80 ", &p, err, sizeof(err)), "invalid port '80 '");
        CHECK_FAIL_PREFIX(skbt_parse_port("8o", &p, err, sizeof(err)), "invalid port '8o'");
        CHECK_FAIL_PREFIX(skbt_parse_port("0x50", &p, err, sizeof(err)), "invalid port '0x50'");
        CHECK_FAIL_PREFIX(skbt_parse_port("18446744073709551696", &p, err, sizeof(err)),
                          "invalid port '18446744073709551696'");
        CHECK_FAIL_PREFIX(skbt_parse_port("http", &p, err, sizeof(err)), "invalid port 'http'");
        /* failures leave the result alone */
        CHECK_INTEQ(p, 53);

        /* a NULL or empty err buffer must be safe */
        CHECK_INTEQ(skbt_parse_port("x", &p, NULL, 0), -EINVAL);
        err[0] = 'z';
        CHECK_INTEQ(skbt_parse_port("x", &p, err, 0), -EINVAL);
        CHECK(err[0] == 'z');
        /* a short buffer truncates and stays terminated */
        CHECK_INTEQ(skbt_parse_port("x", &p, err, 8), -EINVAL);
        CHECK_STREQ(err, "invalid");
}

static void test_proto(void)
{
        char err[SKBT_ERR_MAX];
        uint8_t p = 0;

        CHECK_INTEQ(skbt_parse_proto("icmp", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 1);
        CHECK_INTEQ(skbt_parse_proto("icmp6", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 58);
        CHECK_INTEQ(skbt_parse_proto("ipv6-icmp", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 58);
        CHECK_INTEQ(skbt_parse_proto("tcp", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 6);
        CHECK_INTEQ(skbt_parse_proto("UDP", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 17);
        CHECK_INTEQ(skbt_parse_proto("sctp", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 132);
        CHECK_INTEQ(skbt_parse_proto("0", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 0);
        CHECK_INTEQ(skbt_parse_proto("47", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 47);
        CHECK_INTEQ(skbt_parse_proto("255", &p, err, sizeof(err)), 0);
        CHECK_INTEQ(p, 255);

        CHECK_FAIL(skbt_parse_proto("foo", &p, err, sizeof(err)),
                   "unknown protocol 'foo': expected icmp, icmp6, tcp, udp, sctp or a number "
                   "0-255");
        CHECK_FAIL_PREFIX(skbt_parse_proto("256", &p, err, sizeof(err)), "unknown protocol '256'");
        CHECK_FAIL_PREFIX(skbt_parse_proto("", &p, err, sizeof(err)), "unknown protocol ''");
        CHECK_FAIL_PREFIX(skbt_parse_proto("-1", &p, err, sizeof(err)), "unknown protocol '-1'");
        CHECK_FAIL_PREFIX(skbt_parse_proto("tcp ", &p, err, sizeof(err)),
                          "unknown protocol 'tcp '");
        CHECK_FAIL_PREFIX(skbt_parse_proto("0x6", &p, err, sizeof(err)), "unknown protocol '0x6'");
        CHECK_FAIL_PREFIX(skbt_parse_proto("tcpx", &p, err, sizeof(err)),
                          "unknown protocol 'tcpx'");
        CHECK_INTEQ(p, 255);

        CHECK_STREQ(skbt_proto_name(1), "ICMP");
        CHECK_STREQ(skbt_proto_name(4), "IPIP");
        CHECK_STREQ(skbt_proto_name(6), "TCP");
        CHECK_STREQ(skbt_proto_name(17), "UDP");
        CHECK_STREQ(skbt_proto_name(41), "IPv6");
        CHECK_STREQ(skbt_proto_name(47), "GRE");
        CHECK_STREQ(skbt_proto_name(50), "ESP");
        CHECK_STREQ(skbt_proto_name(51), "AH");
        CHECK_STREQ(skbt_proto_name(58), "ICMPv6");
        CHECK_STREQ(skbt_proto_name(132), "SCTP");
        CHECK(skbt_proto_name(0) == NULL);
        CHECK(skbt_proto_name(253) == NULL);
        CHECK(skbt_proto_name(255) == NULL);
}

static void test_u32(void)
{
        char err[SKBT_ERR_MAX];
        uint32_t v = 7;

        CHECK_INTEQ(skbt_parse_u32("mark", "0", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 0);
        CHECK_INTEQ(skbt_parse_u32("mark", "4294967295", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 4294967295u);
        CHECK_INTEQ(skbt_parse_u32("mark", "0xffffffff", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 0xffffffffu);
        CHECK_INTEQ(skbt_parse_u32("mark", "0XaBc", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 0xabc);
        CHECK_INTEQ(skbt_parse_u32("mark", "0x0", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 0);
        CHECK_INTEQ(skbt_parse_u32("mark", "0x00000000000010", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 0x10);
        CHECK_INTEQ(skbt_parse_u32("mark", "16", &v, err, sizeof(err)), 0);
        CHECK_INTEQ(v, 16);

        CHECK_FAIL(skbt_parse_u32("mark", "x", &v, err, sizeof(err)),
                   "invalid mark 'x': expected a decimal or 0x hexadecimal number from 0 to "
                   "4294967295 (0xffffffff)");
        CHECK_FAIL_PREFIX(skbt_parse_u32("count", "4294967296", &v, err, sizeof(err)),
                          "invalid count '4294967296': expected");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "0x100000000", &v, err, sizeof(err)),
                          "invalid mark '0x100000000': expected");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "99999999999999999999999", &v, err, sizeof(err)),
                          "invalid mark '99999999999999999999999'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "0x", &v, err, sizeof(err)),
                          "invalid mark '0x': expected");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "", &v, err, sizeof(err)),
                          "invalid mark '': expected");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "-1", &v, err, sizeof(err)), "invalid mark '-1'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "+1", &v, err, sizeof(err)), "invalid mark '+1'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "-0x1", &v, err, sizeof(err)),
                          "invalid mark '-0x1'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "0x-1", &v, err, sizeof(err)),
                          "invalid mark '0x-1'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "0x1g", &v, err, sizeof(err)),
                          "invalid mark '0x1g'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", " 1", &v, err, sizeof(err)), "invalid mark ' 1'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "1 ", &v, err, sizeof(err)), "invalid mark '1 '");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "1x", &v, err, sizeof(err)), "invalid mark '1x'");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "1.5", &v, err, sizeof(err)),
                          "invalid mark '1.5'");
        /* octal to strtoul(base 0) and iptables, decimal to people: refuse to guess */
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "010", &v, err, sizeof(err)),
                          "invalid mark '010': leading zeros are ambiguous");
        CHECK_FAIL_PREFIX(skbt_parse_u32("mark", "00", &v, err, sizeof(err)),
                          "invalid mark '00': leading zeros are ambiguous");
        CHECK_INTEQ(v, 16);
}

static void test_mark(void)
{
        char err[SKBT_ERR_MAX], big[64];
        uint32_t mark = 1, mask = 1;
        bool has = true;

        CHECK_INTEQ(skbt_parse_mark("16", &mark, &mask, &has, err, sizeof(err)), 0);
        CHECK_INTEQ(mark, 16);
        CHECK_INTEQ(mask, 0xffffffffu);
        CHECK(!has);
        CHECK_INTEQ(skbt_parse_mark("0x10/0xff", &mark, &mask, &has, err, sizeof(err)), 0);
        CHECK_INTEQ(mark, 0x10);
        CHECK_INTEQ(mask, 0xff);
        CHECK(has);
        CHECK_INTEQ(skbt_parse_mark("32/4294967295", &mark, &mask, &has, err, sizeof(err)), 0);
        CHECK_INTEQ(mark, 32);
        CHECK_INTEQ(mask, 0xffffffffu);
        CHECK(has);
        CHECK_INTEQ(skbt_parse_mark("0/0", &mark, &mask, &has, err, sizeof(err)), 0);
        CHECK_INTEQ(mark, 0);
        CHECK_INTEQ(mask, 0);
        CHECK(has);

        CHECK_FAIL_PREFIX(skbt_parse_mark("", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark '': expected");
        CHECK_FAIL_PREFIX(skbt_parse_mark("x/0xff", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark 'x': expected");
        CHECK_FAIL_PREFIX(skbt_parse_mark("/0xff", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark '': expected");
        CHECK_FAIL_PREFIX(skbt_parse_mark("0x10/", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark mask '': expected");
        CHECK_FAIL_PREFIX(skbt_parse_mark("1/2/3", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark mask '2/3': expected");
        CHECK_FAIL_PREFIX(skbt_parse_mark("1/0x1ffffffff", &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark mask '0x1ffffffff': expected");
        memset(big, '1', sizeof(big));
        big[40] = '/';
        big[sizeof(big) - 1] = '\0';
        CHECK_FAIL_PREFIX(skbt_parse_mark(big, &mark, &mask, &has, err, sizeof(err)),
                          "invalid mark '1111");
        /* failures leave the results alone */
        CHECK_INTEQ(mark, 0);
        CHECK_INTEQ(mask, 0);
        CHECK(has);
}

static void check_prefix(const char *in, uint8_t l3, const char *addr, uint8_t plen,
                         const char *formatted)
{
        char err[SKBT_ERR_MAX] = "", buf[64];
        struct skbt_prefix p, want = {};
        int r;

        memset(&p, 0xaa, sizeof(p));
        r = skbt_parse_prefix(in, &p, err, sizeof(err));
        CHECK_INTEQ(r, 0);
        if (r < 0) {
                fprintf(stderr, "  for '%s': %s\n", in, err);
                return;
        }
        CHECK(inet_pton(l3 == SKBT_L3_IPV4 ? AF_INET : AF_INET6, addr, want.addr) == 1);
        want.l3 = l3;
        want.plen = plen;
        skbt_prefix_fill_mask(&want);
        /* whole struct, so the unused IPv4 bytes and the padding must be zero too */
        CHECK(memcmp(&p, &want, sizeof(p)) == 0);
        skbt_format_prefix(&p, buf, sizeof(buf));
        CHECK_STREQ(buf, formatted);
}

static void test_prefix(void)
{
        char err[SKBT_ERR_MAX], buf[256];
        struct skbt_prefix p;

        check_prefix("10.0.0.1", 4, "10.0.0.1", 32, "10.0.0.1");
        check_prefix("10.0.0.1/32", 4, "10.0.0.1", 32, "10.0.0.1");
        check_prefix("10.0.0.1/24", 4, "10.0.0.0", 24, "10.0.0.0/24");
        check_prefix("10.0.0.255/25", 4, "10.0.0.128", 25, "10.0.0.128/25");
        check_prefix("10.255.255.255/9", 4, "10.128.0.0", 9, "10.128.0.0/9");
        check_prefix("10.1.2.3/0", 4, "0.0.0.0", 0, "0.0.0.0/0");
        check_prefix("0.0.0.0/0", 4, "0.0.0.0", 0, "0.0.0.0/0");
        check_prefix("255.255.255.255", 4, "255.255.255.255", 32, "255.255.255.255");
        check_prefix("10.0.0.1/024", 4, "10.0.0.0", 24, "10.0.0.0/24");
        check_prefix("2001:db8::1", 6, "2001:db8::1", 128, "2001:db8::1");
        check_prefix("2001:db8::1/128", 6, "2001:db8::1", 128, "2001:db8::1");
        check_prefix("2001:db8:1:2:3:4:5:6/64", 6, "2001:db8:1:2::", 64, "2001:db8:1:2::/64");
        check_prefix("fd00:0:0:1ff::/63", 6, "fd00:0:0:1fe::", 63, "fd00:0:0:1fe::/63");
        check_prefix("FD00::ABCD/127", 6, "fd00::abcc", 127, "fd00::abcc/127");
        check_prefix("::/0", 6, "::", 0, "::/0");
        check_prefix("ffff::1/0", 6, "::", 0, "::/0");
        check_prefix("::1", 6, "::1", 128, "::1");
        /* v4-mapped stays IPv6, literally: it can match crafted packets on their way to a drop */
        check_prefix("::ffff:10.0.0.1", 6, "::ffff:a00:1", 128, "::ffff:10.0.0.1");
        check_prefix("::ffff:10.0.0.1/120", 6, "::ffff:10.0.0.0", 120, "::ffff:10.0.0.0/120");

        CHECK_FAIL(skbt_parse_prefix("10.0.0.300", &p, err, sizeof(err)),
                   "invalid address '10.0.0.300': expected an IPv4 or IPv6 address with optional "
                   "/PREFIX");
        CHECK_FAIL(skbt_parse_prefix("10.0.0.1/33", &p, err, sizeof(err)),
                   "prefix /33 is too long for an IPv4 address (maximum 32)");
        CHECK_FAIL(skbt_parse_prefix("fd00::1/129", &p, err, sizeof(err)),
                   "prefix /129 is too long for an IPv6 address (maximum 128)");
        CHECK_FAIL(skbt_parse_prefix("10.0.0.1/99999999999999999999999", &p, err, sizeof(err)),
                   "prefix /99999999999999999999999 is too long for an IPv4 address (maximum 32)");
        CHECK_FAIL(skbt_parse_prefix("10.0.0.1/", &p, err, sizeof(err)),
                   "invalid prefix length in '10.0.0.1/': expected /0 to /32 after the address");
        CHECK_FAIL(skbt_parse_prefix("fd00::/x", &p, err, sizeof(err)),
                   "invalid prefix length in 'fd00::/x': expected /0 to /128 after the address");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1/-1", &p, err, sizeof(err)),
                          "invalid prefix length in '10.0.0.1/-1'");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1/+8", &p, err, sizeof(err)),
                          "invalid prefix length in '10.0.0.1/+8'");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1/24x", &p, err, sizeof(err)),
                          "invalid prefix length in '10.0.0.1/24x'");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1/24/8", &p, err, sizeof(err)),
                          "invalid prefix length in '10.0.0.1/24/8'");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1/ 24", &p, err, sizeof(err)),
                          "invalid prefix length");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("", &p, err, sizeof(err)), "invalid address '':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("/24", &p, err, sizeof(err)), "invalid address '/24':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.1", &p, err, sizeof(err)),
                          "invalid address '10.1':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix(" 10.0.0.1", &p, err, sizeof(err)),
                          "invalid address ' 10.0.0.1':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1 ", &p, err, sizeof(err)),
                          "invalid address '10.0.0.1 ':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("fe80::1%eth0", &p, err, sizeof(err)),
                          "invalid address 'fe80::1%eth0':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("fd00:::1", &p, err, sizeof(err)),
                          "invalid address 'fd00:::1':");
        CHECK_FAIL_PREFIX(skbt_parse_prefix("example.com", &p, err, sizeof(err)),
                          "invalid address 'example.com':");
        /* longer than any address: must not be truncated into a valid one */
        CHECK_FAIL_PREFIX(skbt_parse_prefix("10.0.0.1                                         "
                                            "        /8",
                                            &p, err, sizeof(err)),
                          "invalid address '10.0.0.1 ");

        /* untrusted input is quoted bounded and printable, so messages stay one line */
        memset(buf, 'a', sizeof(buf));
        buf[sizeof(buf) - 1] = '\0';
        CHECK_FAIL(skbt_parse_prefix(buf, &p, err, sizeof(err)),
                   "invalid address 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': "
                   "expected an IPv4 or IPv6 address with optional /PREFIX");
        CHECK_FAIL(skbt_parse_prefix("1\n2\x1b\xc3\xa9", &p, err, sizeof(err)),
                   "invalid address '1?2\?\?\?': expected an IPv4 or IPv6 address with optional "
                   "/PREFIX");
}

static void test_format_prefix(void)
{
        struct skbt_prefix p = {};
        char buf[64];

        p.l3 = SKBT_L3_IPV4;
        p.plen = 8;
        p.addr[0] = 10;
        skbt_format_prefix(&p, buf, sizeof(buf));
        CHECK_STREQ(buf, "10.0.0.0/8");
        skbt_format_prefix(&p, buf, 5);
        CHECK_STREQ(buf, "10.0");
        buf[0] = 'z';
        skbt_format_prefix(&p, buf, 0);
        CHECK(buf[0] == 'z');
        p.l3 = 5;
        skbt_format_prefix(&p, buf, sizeof(buf));
        CHECK_STREQ(buf, "(invalid address)");
}

static struct skbt_filter filter_from(const char *json)
{
        struct skbt_filter f;
        char err[SKBT_ERR_MAX] = "";
        const char *bad = "unset";
        json_object *o = json_tokener_parse(json);
        int r;

        CHECK(o != NULL);
        memset(&f, 0xaa, sizeof(f));
        r = skbt_filter_from_json(o, &f, &bad, err, sizeof(err));
        CHECK_INTEQ(r, 0);
        if (r < 0)
                fprintf(stderr, "  for %s: %s (%s)\n", json, err, bad ? bad : "(null)");
        CHECK(bad == NULL);
        json_object_put(o);
        return f;
}

/* Decode json expecting failure with bad_member and a message starting with msg. */
static void check_json_fail(const char *json, const char *member, const char *msg)
{
        struct skbt_filter f, untouched;
        char err[SKBT_ERR_MAX] = "";
        const char *bad = "unset";
        json_object *o = json_tokener_parse(json);

        CHECK(o != NULL);
        memset(&f, 0x5a, sizeof(f));
        untouched = f;
        CHECK_INTEQ(skbt_filter_from_json(o, &f, &bad, err, sizeof(err)), -EINVAL);
        CHECK_STREQ(bad, member);
        if (strncmp(err, msg, strlen(msg)) != 0) {
                fprintf(stderr, "%s:%d: for %s: message '%s' does not start with '%s'\n", __FILE__,
                        __LINE__, json, err, msg);
                testlib_failures++;
        }
        check_msg_shape(err);
        CHECK(memcmp(&f, &untouched, sizeof(f)) == 0);
        json_object_put(o);
}

static struct skbt_filter base_filter(void)
{
        struct skbt_filter f = {};

        return f;
}

static void set_prefix(struct skbt_prefix *p, const char *s)
{
        char err[SKBT_ERR_MAX];

        CHECK_INTEQ(skbt_parse_prefix(s, p, err, sizeof(err)), 0);
}

static void test_validate(void)
{
        char err[SKBT_ERR_MAX];
        struct skbt_filter f;

        f = base_filter();
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);

        /* a full, consistent filter */
        f.flags = SKBT_F_MARK | SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR |
                  SKBT_F_ADDR | SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT;
        f.mark = 0x10;
        f.mark_mask = 0xff;
        f.l3 = SKBT_L3_IPV6;
        f.proto = 132;
        set_prefix(&f.saddr, "fd00::/8");
        set_prefix(&f.daddr, "fd00::1");
        set_prefix(&f.addr, "::/0");
        f.sport = 1;
        f.dport = 2;
        f.port = 3;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);

        /* structural checks */
        f = base_filter();
        f.flags = 1u << 20;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)), "unknown filter flags 0x100000");
        f = base_filter();
        f.flags = SKBT_F_L3;
        f.l3 = 5;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "invalid l3 5: expected ipv4 or ipv6");
        f = base_filter();
        f.flags = SKBT_F_SADDR;
        set_prefix(&f.saddr, "10.0.0.0/8");
        f.saddr.addr[3] = 1;
        CHECK_FAIL_PREFIX(skbt_filter_validate(&f, err, sizeof(err)), "invalid saddr:");
        set_prefix(&f.saddr, "10.0.0.0/8");
        f.saddr.addr[4] = 1;
        CHECK_FAIL_PREFIX(skbt_filter_validate(&f, err, sizeof(err)), "invalid saddr:");
        set_prefix(&f.saddr, "10.0.0.0/8");
        f.saddr.plen = 33;
        CHECK_FAIL_PREFIX(skbt_filter_validate(&f, err, sizeof(err)), "invalid saddr:");
        f.flags = SKBT_F_ADDR;
        f.addr.l3 = 0;
        CHECK_FAIL_PREFIX(skbt_filter_validate(&f, err, sizeof(err)), "invalid addr:");

        /* marks */
        f = base_filter();
        f.mark_mask = 0xff;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)), "mark_mask requires mark");
        f.flags = SKBT_F_MARK;
        f.mark = 0x11;
        f.mark_mask = 0x0f;
        CHECK_FAIL_PREFIX(skbt_filter_validate(&f, err, sizeof(err)),
                          "mark 0x11 has bits outside mask 0xf");
        f.mark = 0;
        f.mark_mask = 0;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);

        /* address families */
        f = base_filter();
        f.flags = SKBT_F_L3 | SKBT_F_SADDR;
        f.l3 = SKBT_L3_IPV4;
        set_prefix(&f.saddr, "fd00::1");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "address fd00::1 is IPv6 but -4/l3 ipv4 was given");
        f.flags = SKBT_F_L3 | SKBT_F_DADDR;
        f.l3 = SKBT_L3_IPV6;
        set_prefix(&f.daddr, "10.0.0.0/8");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "address 10.0.0.0/8 is IPv4 but -6/l3 ipv6 was given");
        f.flags = SKBT_F_L3 | SKBT_F_ADDR;
        f.l3 = SKBT_L3_IPV6;
        set_prefix(&f.addr, "10.0.0.1");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "address 10.0.0.1 is IPv4 but -6/l3 ipv6 was given");
        f = base_filter();
        f.flags = SKBT_F_SADDR | SKBT_F_DADDR;
        set_prefix(&f.saddr, "10.0.0.1");
        set_prefix(&f.daddr, "fd00::1");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "saddr 10.0.0.1 is IPv4 but daddr fd00::1 is IPv6: a packet has one address "
                   "family");
        f.flags = SKBT_F_DADDR | SKBT_F_ADDR;
        set_prefix(&f.addr, "10.0.0.0/0");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "daddr fd00::1 is IPv6 but addr 0.0.0.0/0 is IPv4: a packet has one address "
                   "family");
        f.flags = SKBT_F_SADDR | SKBT_F_ADDR;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);

        /* icmp and icmp6 belong to one family each */
        f = base_filter();
        f.flags = SKBT_F_PROTO | SKBT_F_L3;
        f.proto = 1;
        f.l3 = SKBT_L3_IPV6;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "proto icmp is IPv4 only but -6/l3 ipv6 was given: use icmp6");
        f.l3 = SKBT_L3_IPV4;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.flags = SKBT_F_PROTO | SKBT_F_DADDR;
        set_prefix(&f.daddr, "fd00::/16");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "proto icmp is IPv4 only but daddr fd00::/16 is IPv6: use icmp6");
        f.proto = 58;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.flags = SKBT_F_PROTO | SKBT_F_L3;
        f.l3 = SKBT_L3_IPV4;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "proto icmp6 is IPv6 only but -4/l3 ipv4 was given: use icmp");
        f.flags = SKBT_F_PROTO | SKBT_F_ADDR;
        set_prefix(&f.addr, "192.168.0.1");
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "proto icmp6 is IPv6 only but addr 192.168.0.1 is IPv4: use icmp");
        f.flags = SKBT_F_PROTO;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);

        /* ports need a protocol that has them */
        f = base_filter();
        f.flags = SKBT_F_PROTO | SKBT_F_DPORT;
        f.proto = 1;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "ports only apply to tcp, udp, sctp and udplite (136), not proto icmp");
        f.flags = SKBT_F_PROTO | SKBT_F_SPORT;
        f.proto = 47;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "ports only apply to tcp, udp, sctp and udplite (136), not proto 47");
        f.flags = SKBT_F_PROTO | SKBT_F_PORT;
        f.proto = 58;
        CHECK_FAIL(skbt_filter_validate(&f, err, sizeof(err)),
                   "ports only apply to tcp, udp, sctp and udplite (136), not proto icmp6");
        f.proto = 6;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.proto = 17;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.proto = 132;
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.proto = 136; /* udplite: the BPF parser reads its ports too */
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
        f.flags = SKBT_F_PORT;
        f.proto = 1; /* not flagged: ignored */
        CHECK_INTEQ(skbt_filter_validate(&f, err, sizeof(err)), 0);
}

static void test_from_json(void)
{
        char err[SKBT_ERR_MAX] = "";
        const char *bad = "unset";
        struct skbt_filter f, zero = {};

        /* NULL is the empty filter */
        memset(&f, 0xaa, sizeof(f));
        CHECK_INTEQ(skbt_filter_from_json(NULL, &f, &bad, err, sizeof(err)), 0);
        CHECK(memcmp(&f, &zero, sizeof(f)) == 0);
        CHECK(bad == NULL);
        /* bad_member is optional */
        memset(&f, 0xaa, sizeof(f));
        CHECK_INTEQ(skbt_filter_from_json(NULL, &f, NULL, err, sizeof(err)), 0);
        CHECK(memcmp(&f, &zero, sizeof(f)) == 0);

        f = filter_from("{}");
        CHECK(memcmp(&f, &zero, sizeof(f)) == 0);

        f = filter_from(
            "{\"mark\":16,\"mark_mask\":255,\"l3\":\"ipv4\",\"proto\":\"icmp\","
            "\"saddr\":\"10.0.0.1/24\",\"daddr\":\"10.1.0.0/16\",\"addr\":\"0.0.0.0/0\"}");
        CHECK_INTEQ(f.flags, SKBT_F_MARK | SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR |
                                 SKBT_F_ADDR);
        CHECK_INTEQ(f.mark, 16);
        CHECK_INTEQ(f.mark_mask, 255);
        CHECK_INTEQ(f.l3, SKBT_L3_IPV4);
        CHECK_INTEQ(f.proto, 1);
        CHECK_INTEQ(f.saddr.l3, SKBT_L3_IPV4);
        CHECK_INTEQ(f.saddr.plen, 24);
        CHECK(memcmp(f.saddr.addr, "\x0a\x00\x00\x00", 4) == 0);
        CHECK_INTEQ(f.daddr.plen, 16);
        CHECK_INTEQ(f.addr.plen, 0);
        CHECK_INTEQ(f.sport, 0);

        f = filter_from("{\"l3\":\"ipv6\",\"proto\":\"tcp\",\"sport\":0,\"dport\":65535,"
                        "\"port\":443,\"addr\":\"2001:db8::1/64\"}");
        CHECK_INTEQ(f.flags, SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT |
                                 SKBT_F_ADDR);
        CHECK_INTEQ(f.l3, SKBT_L3_IPV6);
        CHECK_INTEQ(f.proto, 6);
        CHECK_INTEQ(f.sport, 0);
        CHECK_INTEQ(f.dport, 65535);
        CHECK_INTEQ(f.port, 443);
        CHECK_INTEQ(f.addr.l3, SKBT_L3_IPV6);
        CHECK_INTEQ(f.addr.plen, 64);
        CHECK_INTEQ(f.addr.addr[15], 0);
        CHECK_INTEQ(f.mark_mask, 0);

        /* mark alone gets the full mask; the order of members does not matter */
        f = filter_from("{\"mark\":4294967295}");
        CHECK_INTEQ(f.flags, SKBT_F_MARK);
        CHECK_INTEQ(f.mark, 0xffffffffu);
        CHECK_INTEQ(f.mark_mask, 0xffffffffu);
        f = filter_from("{\"mark_mask\":0,\"mark\":0}");
        CHECK_INTEQ(f.flags, SKBT_F_MARK);
        CHECK_INTEQ(f.mark, 0);
        CHECK_INTEQ(f.mark_mask, 0);

        /* proto by name, number string and integer */
        f = filter_from("{\"proto\":\"icmp6\"}");
        CHECK_INTEQ(f.proto, 58);
        f = filter_from("{\"proto\":\"ipv6-icmp\"}");
        CHECK_INTEQ(f.proto, 58);
        f = filter_from("{\"proto\":\"sctp\"}");
        CHECK_INTEQ(f.proto, 132);
        f = filter_from("{\"proto\":\"47\"}");
        CHECK_INTEQ(f.proto, 47);
        f = filter_from("{\"proto\":0}");
        CHECK_INTEQ(f.flags, SKBT_F_PROTO);
        CHECK_INTEQ(f.proto, 0);
        f = filter_from("{\"proto\":255}");
        CHECK_INTEQ(f.proto, 255);

        /* not an object */
        check_json_fail("[]", "filter", "invalid filter: expected an object, got an array");
        check_json_fail("\"tcp\"", "filter", "invalid filter: expected an object, got a string");

        /* unknown members: a typo must not silently widen a trace */
        check_json_fail(
            "{\"foo\":1}", "filter.foo",
            "unknown parameter 'filter.foo': expected mark, mark_mask, l3, proto, "
            "saddr, daddr, addr, sport, dport, port, pid, netns, ifname, ifindex or layer");
        check_json_fail("{\"proto\":\"tcp\",\"Sport\":80}", "filter.Sport",
                        "unknown parameter 'filter.Sport'");
        /* The member name is the client's: quoted, printable only, in both places. */
        check_json_fail("{\"src\\nport\":80}", "filter.src?port",
                        "unknown parameter 'filter.src?port'");

        /* wrong types */
        check_json_fail("{\"sport\":\"80\"}", "filter.sport",
                        "invalid sport: expected an integer from 0 to 65535, got the string '80'");
        check_json_fail("{\"dport\":80.0}", "filter.dport",
                        "invalid dport: expected an integer from 0 to 65535, got a non-integer "
                        "number");
        check_json_fail("{\"port\":true}", "filter.port",
                        "invalid port: expected an integer from 0 to 65535, got a boolean");
        /* null is absent (varlink: optional members may be null) */
        CHECK(filter_from("{\"port\":null}").flags == 0);
        check_json_fail("{\"port\":[80]}", "filter.port",
                        "invalid port: expected an integer from 0 to 65535, got an array");
        check_json_fail("{\"mark\":\"0x10\"}", "filter.mark",
                        "invalid mark: expected an integer from 0 to 4294967295, got the string");
        check_json_fail("{\"mark\":1,\"mark_mask\":{}}", "filter.mark_mask",
                        "invalid mark_mask: expected an integer from 0 to 4294967295, got an "
                        "object");
        check_json_fail("{\"l3\":4}", "filter.l3",
                        "invalid l3: expected a string (ipv4 or ipv6), got an integer");
        check_json_fail("{\"saddr\":167772161}", "filter.saddr",
                        "invalid saddr: expected a string (an IPv4 or IPv6 address");
        CHECK(filter_from("{\"daddr\":null}").flags == 0);
        check_json_fail("{\"addr\":[\"10.0.0.1\"]}", "filter.addr",
                        "invalid addr: expected a string");
        check_json_fail(
            "{\"proto\":true}", "filter.proto",
            "invalid proto: expected a string (icmp, icmp6, tcp, udp, sctp or a number) or an "
            "integer from 0 to 255, got a boolean");
        check_json_fail("{\"proto\":6.5}", "filter.proto", "invalid proto: expected a string");

        /* ranges */
        check_json_fail("{\"sport\":65536}", "filter.sport",
                        "invalid sport 65536: expected an integer from 0 to 65535");
        check_json_fail("{\"dport\":-1}", "filter.dport",
                        "invalid dport -1: expected an integer from 0 to 65535");
        check_json_fail("{\"mark\":4294967296}", "filter.mark",
                        "invalid mark 4294967296: expected an integer from 0 to 4294967295");
        check_json_fail("{\"mark\":-1}", "filter.mark", "invalid mark -1:");
        /* INT64_MAX is told apart from the larger numbers json-c keeps as uint64 */
        check_json_fail("{\"mark\":9223372036854775807}", "filter.mark",
                        "invalid mark 9223372036854775807: expected an integer from 0 to "
                        "4294967295");
        /* json-c saturates these to UINT64_MAX / INT64_MIN; they must still be out of range */
        check_json_fail("{\"mark\":99999999999999999999999}", "filter.mark",
                        "invalid mark: out of range");
        check_json_fail("{\"port\":18446744073709551615}", "filter.port",
                        "invalid port: out of range");
        check_json_fail("{\"port\":-99999999999999999999999}", "filter.port",
                        "invalid port: out of range");
        check_json_fail("{\"mark\":1,\"mark_mask\":4294967296}", "filter.mark_mask",
                        "invalid mark_mask 4294967296:");
        check_json_fail("{\"proto\":256}", "filter.proto",
                        "invalid proto 256: expected an integer from 0 to 255");
        check_json_fail("{\"proto\":-1}", "filter.proto", "invalid proto -1:");

        /* string contents */
        check_json_fail("{\"l3\":\"ipv5\"}", "filter.l3",
                        "invalid l3 'ipv5': expected ipv4 or ipv6");
        check_json_fail("{\"l3\":\"IPv4\"}", "filter.l3", "invalid l3 'IPv4'");
        check_json_fail("{\"l3\":\"\"}", "filter.l3", "invalid l3 '':");
        check_json_fail("{\"proto\":\"foo\"}", "filter.proto",
                        "unknown protocol 'foo': expected icmp, icmp6, tcp, udp, sctp or a number "
                        "0-255");
        check_json_fail("{\"proto\":\"\"}", "filter.proto", "unknown protocol '':");
        check_json_fail("{\"saddr\":\"10.0.0.300\"}", "filter.saddr",
                        "invalid address '10.0.0.300': expected an IPv4 or IPv6 address with "
                        "optional /PREFIX");
        check_json_fail("{\"daddr\":\"10.0.0.0/33\"}", "filter.daddr",
                        "prefix /33 is too long for an IPv4 address (maximum 32)");
        check_json_fail("{\"addr\":\"\"}", "filter.addr", "invalid address '':");
        /* an embedded NUL would otherwise make "10.0.0.1\0junk" pass as 10.0.0.1 */
        check_json_fail("{\"saddr\":\"10.0.0.1\\u0000junk\"}", "filter.saddr",
                        "invalid saddr: the string contains a NUL character");
        check_json_fail("{\"proto\":\"tcp\\u0000\"}", "filter.proto",
                        "invalid proto: the string contains a NUL character");
        check_json_fail("{\"l3\":\"ipv4\\u0000x\"}", "filter.l3",
                        "invalid l3: the string contains a NUL character");

        /* the API has no "mask without mark" flag, so the decoder refuses it */
        check_json_fail("{\"mark_mask\":255}", "filter.mark_mask", "mark_mask requires mark");
        check_json_fail("{\"mark_mask\":0}", "filter.mark_mask", "mark_mask requires mark");

        /* cross-member checks run after decoding */
        check_json_fail("{\"l3\":\"ipv4\",\"saddr\":\"fd00::1\"}", "filter",
                        "address fd00::1 is IPv6 but -4/l3 ipv4 was given");
        check_json_fail("{\"saddr\":\"10.0.0.1\",\"daddr\":\"fd00::1\"}", "filter",
                        "saddr 10.0.0.1 is IPv4 but daddr fd00::1 is IPv6");
        check_json_fail("{\"proto\":\"icmp\",\"dport\":53}", "filter",
                        "ports only apply to tcp, udp, sctp and udplite (136), not proto icmp");
        check_json_fail("{\"proto\":1,\"l3\":\"ipv6\"}", "filter",
                        "proto icmp is IPv4 only but -6/l3 ipv6 was given: use icmp6");
        check_json_fail("{\"proto\":\"icmp6\",\"addr\":\"10.0.0.0/8\"}", "filter",
                        "proto icmp6 is IPv6 only but addr 10.0.0.0/8 is IPv4: use icmp");
        check_json_fail("{\"mark\":17,\"mark_mask\":15}", "filter",
                        "mark 0x11 has bits outside mask 0xf");
}

static void check_to_json(const struct skbt_filter *f, const char *want)
{
        json_object *o = skbt_filter_to_json(f);

        CHECK(o != NULL);
        if (!o)
                return;
        /* json-c writes "/" as "\/" by default; both are valid JSON */
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE),
                    want);
        json_object_put(o);
}

static void test_to_json(void)
{
        struct skbt_filter f = {};

        check_to_json(&f, "{}");
        f.flags = SKBT_F_MARK | SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DPORT;
        f.mark = 0x10;
        f.mark_mask = 0xff;
        f.l3 = SKBT_L3_IPV4;
        f.proto = 1;
        set_prefix(&f.saddr, "10.0.0.0/24");
        f.dport = 53;
        check_to_json(&f, "{\"mark\":16,\"mark_mask\":255,\"l3\":\"ipv4\",\"proto\":\"icmp\","
                          "\"saddr\":\"10.0.0.0/24\",\"dport\":53}");

        f = (struct skbt_filter){};
        f.flags =
            SKBT_F_MARK | SKBT_F_PROTO | SKBT_F_DADDR | SKBT_F_ADDR | SKBT_F_SPORT | SKBT_F_PORT;
        f.mark = 0xffffffff;
        f.mark_mask = 0xffffffff; /* the default: left out */
        f.proto = 47;
        set_prefix(&f.daddr, "fd00::1");
        set_prefix(&f.addr, "fd00::/8");
        f.sport = 0;
        f.port = 65535;
        check_to_json(&f, "{\"mark\":4294967295,\"proto\":\"47\",\"daddr\":\"fd00::1\","
                          "\"addr\":\"fd00::/8\",\"sport\":0,\"port\":65535}");

        f = (struct skbt_filter){};
        f.flags = SKBT_F_PROTO | SKBT_F_L3;
        f.proto = 58;
        f.l3 = SKBT_L3_IPV6;
        check_to_json(&f, "{\"l3\":\"ipv6\",\"proto\":\"icmp6\"}");
}

/* to_json, through text as ipftctl sends it, and back must give the same bytes. */
static void check_round_trip(const struct skbt_filter *f)
{
        char err[SKBT_ERR_MAX] = "";
        const char *bad = "unset";
        struct skbt_filter back;
        json_object *o, *parsed;
        int r;

        CHECK_INTEQ(skbt_filter_validate(f, err, sizeof(err)), 0);
        o = skbt_filter_to_json(f);
        CHECK(o != NULL);
        if (!o)
                return;
        parsed = json_tokener_parse(json_object_to_json_string(o));
        CHECK(parsed != NULL);
        memset(&back, 0x77, sizeof(back));
        r = skbt_filter_from_json(parsed, &back, &bad, err, sizeof(err));
        CHECK_INTEQ(r, 0);
        if (r < 0)
                fprintf(stderr, "  %s: %s\n", json_object_to_json_string(o), err);
        CHECK(memcmp(f, &back, sizeof(back)) == 0);
        json_object_put(parsed);
        json_object_put(o);
}

static void test_round_trip(void)
{
        char err[SKBT_ERR_MAX];
        struct skbt_filter f = {};
        bool has;

        check_round_trip(&f);

        CHECK_INTEQ(skbt_parse_mark("0x10/0xff", &f.mark, &f.mark_mask, &has, err, sizeof(err)), 0);
        f.flags = SKBT_F_MARK;
        check_round_trip(&f);
        CHECK_INTEQ(skbt_parse_mark("0xdeadbeef", &f.mark, &f.mark_mask, &has, err, sizeof(err)),
                    0);
        check_round_trip(&f);
        f.mark = 0;
        f.mark_mask = 0;
        check_round_trip(&f);

        f = (struct skbt_filter){};
        f.flags = SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR | SKBT_F_ADDR |
                  SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT;
        f.l3 = SKBT_L3_IPV4;
        CHECK_INTEQ(skbt_parse_proto("udp", &f.proto, err, sizeof(err)), 0);
        set_prefix(&f.saddr, "10.0.0.1/24");
        set_prefix(&f.daddr, "192.168.1.1");
        set_prefix(&f.addr, "0.0.0.0/0");
        f.sport = 0;
        f.dport = 65535;
        f.port = 53;
        check_round_trip(&f);

        f = (struct skbt_filter){};
        f.flags = SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_ADDR;
        f.l3 = SKBT_L3_IPV6;
        f.proto = 58;
        set_prefix(&f.saddr, "2001:db8::1/33");
        set_prefix(&f.addr, "::ffff:10.0.0.1");
        check_round_trip(&f);

        for (unsigned p = 0; p <= 255; p++) {
                f = (struct skbt_filter){};
                f.flags = SKBT_F_PROTO;
                f.proto = (uint8_t)p;
                check_round_trip(&f);
        }
        for (unsigned plen = 0; plen <= 128; plen++) {
                char s[64];

                f = (struct skbt_filter){};
                f.flags = SKBT_F_DADDR;
                snprintf(s, sizeof(s), "fd12:3456:789a:bcde:f012:3456:789a:bcde/%u", plen);
                set_prefix(&f.daddr, s);
                check_round_trip(&f);
                if (plen <= 32) {
                        snprintf(s, sizeof(s), "255.255.255.255/%u", plen);
                        set_prefix(&f.daddr, s);
                        check_round_trip(&f);
                }
        }
}

static void test_describe(void)
{
        struct skbt_filter f = {};
        char buf[256];

        skbt_filter_describe(&f, buf, sizeof(buf));
        CHECK_STREQ(buf, "all packets");

        f.flags = SKBT_F_MARK | SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DPORT;
        f.mark = 0x10;
        f.mark_mask = 0xff;
        f.l3 = SKBT_L3_IPV4;
        f.proto = 1;
        set_prefix(&f.saddr, "10.0.0.0/24");
        f.dport = 53;
        skbt_filter_describe(&f, buf, sizeof(buf));
        CHECK_STREQ(buf,
                    "mark 0x10/0xff and ipv4 and proto icmp and saddr 10.0.0.0/24 and dport 53");

        /* truncation keeps the buffer terminated */
        skbt_filter_describe(&f, buf, 10);
        CHECK_STREQ(buf, "mark 0x10");
        skbt_filter_describe(&f, buf, 1);
        CHECK_STREQ(buf, "");
        buf[0] = 'z';
        skbt_filter_describe(&f, buf, 0);
        CHECK(buf[0] == 'z');

        f = (struct skbt_filter){};
        f.flags = SKBT_F_MARK | SKBT_F_PROTO | SKBT_F_DADDR | SKBT_F_ADDR | SKBT_F_SPORT |
                  SKBT_F_PORT | SKBT_F_L3;
        f.mark = 0;
        f.mark_mask = 0xffffffff;
        f.l3 = SKBT_L3_IPV6;
        f.proto = 47;
        set_prefix(&f.daddr, "fd00::1");
        set_prefix(&f.addr, "fd00::/8");
        f.sport = 0;
        f.port = 65535;
        skbt_filter_describe(&f, buf, sizeof(buf));
        CHECK_STREQ(buf, "mark 0x0 and ipv6 and proto 47 and daddr fd00::1 and addr fd00::/8 and "
                         "sport 0 and port 65535");

        f = (struct skbt_filter){};
        f.flags = SKBT_F_PROTO | SKBT_F_ADDR;
        f.proto = 1;
        set_prefix(&f.addr, "10.0.0.1");
        skbt_filter_describe(&f, buf, sizeof(buf));
        CHECK_STREQ(buf, "proto icmp and addr 10.0.0.1");
}

/* Where and who: pid, netns, ifname (resolved by the daemon into ifindex). */
static void test_context_members(void)
{
        struct skbt_filter f;
        char desc[256];
        json_object *o;

        f = filter_from("{\"pid\":1234,\"netns\":4026531840,\"ifname\":\"veth0\"}");
        CHECK_INTEQ(f.flags, SKBT_F_PID | SKBT_F_NETNS);
        CHECK_INTEQ(f.pid, 1234);
        CHECK(f.netns == 4026531840U);
        CHECK_STREQ(f.ifname, "veth0");
        CHECK_INTEQ(f.ifname[15], 0);
        o = skbt_filter_to_json(&f);
        CHECK_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                    "{\"pid\":1234,\"netns\":4026531840,\"ifname\":\"veth0\"}");
        json_object_put(o);
        /* Resolved by the daemon: index and namespace. */
        f.flags |= SKBT_F_IFINDEX;
        f.ifindex = 3;
        skbt_filter_describe(&f, desc, sizeof(desc));
        CHECK_STREQ(desc, "pid 1234 and ifname veth0 (index 3) and netns 4026531840");
        CHECK_INTEQ(skbt_filter_validate(&f, desc, sizeof(desc)), 0);
        f.flags &= ~(uint32_t)SKBT_F_NETNS;
        CHECK_INTEQ(skbt_filter_validate(&f, desc, sizeof(desc)), -EINVAL);
        CHECK(strstr(desc, "needs its network namespace") != NULL);

        check_json_fail("{\"pid\":0}", "filter.pid", "invalid pid 0");
        check_json_fail("{\"pid\":4194305}", "filter.pid", "invalid pid 4194305");
        check_json_fail("{\"pid\":\"1\"}", "filter.pid", "invalid pid: expected an integer");
        check_json_fail("{\"netns\":0}", "filter.netns", "invalid netns 0");
        check_json_fail("{\"netns\":4294967296}", "filter.netns", "invalid netns 4294967296");
        check_json_fail("{\"ifname\":\"a/b\"}", "filter.ifname", "invalid interface name 'a/b'");
        check_json_fail("{\"ifname\":\"0123456789abcdef\"}", "filter.ifname",
                        "invalid interface name");
        check_json_fail("{\"ifname\":\"\"}", "filter.ifname", "invalid interface name");
        check_json_fail("{\"ifname\":\"..\"}", "filter.ifname", "invalid interface name");
        check_json_fail("{\"ifname\":3}", "filter.ifname", "invalid ifname: expected a string");
        CHECK(skbt_ifname_valid("eth0.100"));
        CHECK(skbt_ifname_valid("\xff"));
        CHECK(!skbt_ifname_valid("a b"));
        CHECK(!skbt_ifname_valid("a:b"));
}

int main(void)
{
        test_context_members();
        test_port();
        test_proto();
        test_u32();
        test_mark();
        test_prefix();
        test_format_prefix();
        test_validate();
        test_from_json();
        test_to_json();
        test_round_trip();
        test_describe();
        return TEST_DONE();
}
