/* SPDX-License-Identifier: GPL-2.0-only */
/* test_ipftctl_args.c - 'ipftctl trace' option parsing and the Trace parameters it builds */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

/* The unit-test build has no include path for client/: reach it relative to this file. */
#include "../../client/trace_args.h"
#include "skbt_regex.h"
#include "testlib.h"

#define ERRLEN 512
#define MAX_ARGS 32

/* argv as getopt wants it: writable pointers (it permutes them), NULL-terminated. */
static int run_parse(const char *const *args, struct trace_opts *o, char *err)
{
        char *argv[MAX_ARGS + 1];
        int argc = 0;

        for (; args[argc] && argc < MAX_ARGS; argc++)
                argv[argc] = (char *)args[argc];
        argv[argc] = NULL;
        return trace_args_parse(argc, argv, o, err, ERRLEN);
}

static void print_args(const char *const *args)
{
        for (; *args; args++)
                fprintf(stderr, " '%s'", *args);
        fputc('\n', stderr);
}

/* Parse args and compare the Trace parameters with the expected JSON, order-insensitively. */
static void check_good(int line, const char *expected, const char *const *args)
{
        struct trace_opts o;
        char err[ERRLEN] = "";
        json_object *exp, *got;
        int r;

        r = run_parse(args, &o, err);
        if (r < 0) {
                fprintf(stderr, "%s:%d: unexpected error '%s' for", __FILE__, line, err);
                print_args(args);
                testlib_failures++;
                return;
        }
        CHECK(!o.help);
        exp = json_tokener_parse(expected);
        got = trace_opts_to_params(&o);
        if (!exp || !got || !json_object_equal(exp, got)) {
                fprintf(stderr, "%s:%d: params differ for", __FILE__, line);
                print_args(args);
                fprintf(stderr, "  got:      %s\n  expected: %s\n",
                        got ? json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN)
                            : "(null)",
                        expected);
                testlib_failures++;
        }
        json_object_put(exp);
        json_object_put(got);
}

/* Parse args, expect -EINVAL and every '|'-separated word in the message. */
static void check_bad(int line, const char *words, const char *const *args)
{
        struct trace_opts o;
        char err[ERRLEN] = "", w[128];
        const char *p = words, *bar;
        int r;

        r = run_parse(args, &o, err);
        if (r != -EINVAL) {
                fprintf(stderr, "%s:%d: expected -EINVAL, got %d for", __FILE__, line, r);
                print_args(args);
                testlib_failures++;
                return;
        }
        for (;;) {
                bar = strchr(p, '|');
                snprintf(w, sizeof(w), "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
                if (!strstr(err, w)) {
                        fprintf(stderr, "%s:%d: error '%s' lacks '%s' for", __FILE__, line, err, w);
                        print_args(args);
                        testlib_failures++;
                }
                if (!bar)
                        break;
                p = bar + 1;
        }
        /* One line, so "ipftctl: <message>" stays one line. */
        CHECK(!strchr(err, '\n'));
}

#define ARGS(...) ((const char *const[]){"trace", ##__VA_ARGS__, NULL})
#define GOOD(expected, ...) check_good(__LINE__, expected, ARGS(__VA_ARGS__))
#define BAD(words, ...) check_bad(__LINE__, words, ARGS(__VA_ARGS__))

static void test_defaults(void)
{
        /* Nothing given: nothing sent, the daemon's defaults apply. */
        GOOD("{}");
        GOOD("{}", "--");
}

static void test_mark(void)
{
        GOOD("{\"filter\":{\"mark\":5}}", "-m", "5");
        GOOD("{\"filter\":{\"mark\":16}}", "--mark=0x10");
        GOOD("{\"filter\":{\"mark\":16}}", "-m0x10");
        GOOD("{\"filter\":{\"mark\":16,\"mark_mask\":240}}", "-m", "0x10/0xf0");
        GOOD("{\"filter\":{\"mark\":1,\"mark_mask\":255}}", "--mark", "1", "--mask", "0xff");
        /* Order does not matter: --mask is applied after all options are read. */
        GOOD("{\"filter\":{\"mark\":1,\"mark_mask\":255}}", "--mask", "255", "--mark", "1");
        /* The full mask is the wire default and left out. */
        GOOD("{\"filter\":{\"mark\":1}}", "-m", "1", "--mask", "0xffffffff");
        GOOD("{\"filter\":{\"mark\":4294967295}}", "-m", "0xffffffff");

        BAD("--mask needs --mark", "--mask", "0xff");
        BAD("--mask needs --mark", "-p", "tcp", "--mask=1");
        BAD("mask given twice", "-m", "1/0xff", "--mask", "0xff");
        BAD("invalid mark 'abc'", "-m", "abc");
        BAD("invalid mark '-1'", "-m", "-1");
        BAD("invalid mark '4294967296'", "-m", "4294967296");
        BAD("leading zeros", "-m", "010");
        BAD("invalid mark mask 'x'", "-m", "1/x");
        BAD("invalid mark mask 'zz'", "-m", "1", "--mask", "zz");
        BAD("could never match", "-m", "0x100/0xff");
        BAD("--mark given more than once", "-m", "1", "-m", "2");
}

static void test_proto(void)
{
        GOOD("{\"filter\":{\"proto\":\"icmp\"}}", "-p", "icmp");
        GOOD("{\"filter\":{\"proto\":\"icmp\"}}", "--proto", "ICMP");
        GOOD("{\"filter\":{\"proto\":\"icmp6\"}}", "--proto=icmp6");
        GOOD("{\"filter\":{\"proto\":\"icmp6\"}}", "-p", "ipv6-icmp");
        GOOD("{\"filter\":{\"proto\":\"tcp\"}}", "-p", "6");
        GOOD("{\"filter\":{\"proto\":\"udp\"}}", "-p", "udp");
        GOOD("{\"filter\":{\"proto\":\"sctp\"}}", "-p", "sctp");
        /* Numbers go as strings: the interface file types proto as a string. */
        GOOD("{\"filter\":{\"proto\":\"47\"}}", "-p", "47");
        GOOD("{\"filter\":{\"proto\":\"0\"}}", "-p", "0");
        GOOD("{\"filter\":{\"proto\":\"255\"}}", "-p", "255");

        BAD("unknown protocol 'foo'|icmp, icmp6, tcp, udp, sctp", "-p", "foo");
        BAD("unknown protocol '256'|0-255", "-p", "256");
        BAD("unknown protocol '-1'", "-p", "-1");
        BAD("unknown protocol ''", "-p", "");
        BAD("--proto given more than once", "-p", "tcp", "--proto", "udp");
}

static void test_l3(void)
{
        GOOD("{\"filter\":{\"l3\":\"ipv4\"}}", "-4");
        GOOD("{\"filter\":{\"l3\":\"ipv6\"}}", "-6");
        GOOD("{\"filter\":{\"l3\":\"ipv4\"}}", "-4", "-4");
        GOOD("{\"filter\":{\"l3\":\"ipv4\",\"proto\":\"icmp\"}}", "-4p", "icmp");

        BAD("-4 and -6 cannot be used together", "-4", "-6");
        BAD("-6 and -4 cannot be used together", "-64");
        BAD("2001:db8::1 is IPv6|-4", "-4", "-s", "2001:db8::1");
        BAD("10.0.0.0/8 is IPv4|-6", "--addr", "10.1.2.3/8", "-6");
        BAD("icmp6", "-6", "-p", "icmp");
        BAD("icmp", "-4", "-p", "icmp6");
}

static void test_addresses(void)
{
        GOOD("{\"filter\":{\"saddr\":\"10.0.0.1\"}}", "-s", "10.0.0.1");
        GOOD("{\"filter\":{\"daddr\":\"10.1.0.0/16\"}}", "--daddr", "10.1.2.3/16");
        GOOD("{\"filter\":{\"addr\":\"2001:db8::/32\"}}", "--addr", "2001:db8::1/32");
        GOOD("{\"filter\":{\"saddr\":\"0.0.0.0/0\"}}", "--saddr=1.2.3.4/0");
        GOOD("{\"filter\":{\"saddr\":\"::1\",\"daddr\":\"fe80::/10\",\"l3\":\"ipv6\"}}", "-6", "-s",
             "::1", "-d", "fe80::1/10");
        GOOD("{\"filter\":{\"addr\":\"192.168.1.1\",\"proto\":\"icmp\"}}", "--addr", "192.168.1.1",
             "-p", "icmp");

        BAD("invalid address '10.0.0.256'", "-s", "10.0.0.256");
        BAD("invalid address 'example.com'", "-d", "example.com");
        BAD("invalid address ''", "--addr", "");
        BAD("/33 is too long|IPv4", "-s", "10.0.0.1/33");
        BAD("/129 is too long|IPv6", "-d", "::1/129");
        BAD("invalid prefix length", "--addr", "10.0.0.1/x");
        BAD("one address family", "-s", "10.0.0.1", "-d", "2001:db8::1");
        BAD("--saddr given more than once", "-s", "10.0.0.1", "-s", "10.0.0.2");
        BAD("--addr given more than once", "--addr", "10.0.0.1", "--addr", "10.0.0.2");
}

static void test_ports(void)
{
        GOOD("{\"filter\":{\"sport\":0}}", "--sport", "0");
        GOOD("{\"filter\":{\"dport\":65535}}", "--dport", "65535");
        GOOD("{\"filter\":{\"proto\":\"tcp\",\"port\":443}}", "-p", "tcp", "--port", "443");
        GOOD("{\"filter\":{\"proto\":\"udp\",\"sport\":53,\"dport\":1024}}", "-p", "udp",
             "--sport=53", "--dport=1024");

        BAD("invalid port '70000'|0 to 65535", "--port", "70000");
        BAD("invalid port '-1'", "--sport", "-1");
        BAD("invalid port 'http'", "--dport", "http");
        BAD("invalid port ''", "--dport", "");
        BAD("ports only apply to|icmp", "-p", "icmp", "--dport", "80");
        BAD("--dport given more than once", "--dport", "1", "--dport", "2");
}

/* One byte over the daemon's pattern length limit. */
static const char *long_regex(void)
{
        static char re[SKBT_REGEX_MAX_LEN + 2];

        memset(re, 'a', sizeof(re) - 1);
        return re;
}

static void test_tracer_regex_output(void)
{
        GOOD("{\"tracer\":\"drop\"}", "-t", "drop");
        GOOD("{\"tracer\":\"function\"}", "--tracer", "function");
        /* Passed through: the daemon knows whether its backend can do it. */
        GOOD("{\"tracer\":\"function_graph\"}", "--tracer=function_graph");
        /* Settings may be repeated so scripts can override their defaults. */
        GOOD("{\"tracer\":\"drop\"}", "-t", "function", "-t", "drop");
        GOOD("{\"regex\":\"^(ip|ip6)_rcv\"}", "-r", "^(ip|ip6)_rcv");
        GOOD("{\"regex\":\"tcp_v4_rcv\"}", "--regex", "tcp_v4_rcv");
        GOOD("{\"output\":\"json\"}", "-o", "json");
        GOOD("{\"output\":\"text\"}", "--output=text");
        GOOD("{\"output\":\"json\"}", "-o", "text", "-o", "json");

        BAD("invalid tracer 'foo'|function, drop or function_graph", "-t", "foo");
        BAD("invalid tracer 'Drop'", "-t", "Drop");
        BAD("invalid regex '(['", "-r", "([");
        /* PCRE2 (the daemon's engine): no capture groups, so no back-references. */
        BAD("invalid regex '(a)\\1'|non-existent", "--regex", "(a)\\1");
        BAD("regex longer than 1024 bytes", "--regex", long_regex());
        BAD("--regex given more than once|A|B", "-r", "a", "-r", "b");
        BAD("invalid output format 'yaml'|text, json, pcapng, crossings, aggregate, "
            "aggregate-json or none",
            "-o", "yaml");
        BAD("-o none shows nothing: only with -w FILE", "-o", "none");
        BAD("--rotate-*, --compress: only with -w FILE", "--rotate-size", "1M");
        BAD("--rotate-keep needs --rotate-size or --rotate-age", "-w", "f", "--rotate-keep", "2");
        BAD("invalid size '1X'", "-w", "f", "--rotate-size", "1X");
        BAD("invalid age '0'", "-w", "f", "--rotate-age", "0");
        BAD("invalid compression 'lz4'", "-w", "f", "--compress", "lz4");
}

static void test_regex_message(void)
{
        struct trace_opts o;
        char err[ERRLEN] = "";
        const char *colon;

        /* The message carries PCRE2's explanation after the quoted regex and offset. */
        CHECK_INTEQ(run_parse(ARGS("-r", "(["), &o, err), -EINVAL);
        colon = strstr(err, "' at offset 2: ");
        CHECK(colon && strlen(colon) > 3);

        CHECK_INTEQ(args_check_regex("^ip_(rcv|local_deliver)$", err, ERRLEN), 0);
        CHECK_INTEQ(args_check_regex("(", err, ERRLEN), -EINVAL);
}

static void test_count_duration(void)
{
        struct trace_opts o;
        char err[ERRLEN];
        json_object *p;

        GOOD("{\"count\":1}", "-c", "1");
        GOOD("{\"count\":100}", "--count=100");
        GOOD("{\"count\":9223372036854775807}", "-c", "9223372036854775807");
        GOOD("{\"duration\":2.5}", "--duration", "2.5");
        GOOD("{\"duration\":10.0}", "--duration", "10");
        GOOD("{\"duration\":0.5}", "--duration", ".5");
        GOOD("{\"duration\":3.0}", "--duration", "3.");
        GOOD("{\"duration\":0.001}", "--duration=0.001");

        BAD("invalid count '0'|from 1", "-c", "0");
        BAD("invalid count '-1'", "-c", "-1");
        BAD("invalid count 'abc'", "--count", "abc");
        BAD("invalid count ''", "--count", "");
        BAD("invalid count ' 5'", "-c", " 5");
        BAD("invalid count '10k'", "-c", "10k");
        BAD("invalid count '9223372036854775808'", "-c", "9223372036854775808");
        BAD("invalid count '99999999999999999999'", "-c", "99999999999999999999");
        BAD("invalid duration '-1'|greater than 0", "--duration", "-1");
        BAD("invalid duration 'abc'", "--duration", "abc");
        BAD("invalid duration '0'", "--duration", "0");
        BAD("invalid duration '0.0'", "--duration", "0.0");
        BAD("invalid duration ''", "--duration", "");
        BAD("invalid duration '.'", "--duration", ".");
        BAD("invalid duration '1e3'", "--duration", "1e3");
        BAD("invalid duration '0x10'", "--duration", "0x10");
        BAD("invalid duration 'inf'", "--duration", "inf");
        BAD("invalid duration 'nan'", "--duration", "nan");
        BAD("invalid duration ' 5'", "--duration", " 5");
        BAD("invalid duration '1.2.3'", "--duration", "1.2.3");
        BAD("invalid duration '5s'", "--duration", "5s");

        /* The wire shows the shortest form of the number, not 0.10000000000000001. */
        CHECK_INTEQ(run_parse(ARGS("--duration", "0.1"), &o, err), 0);
        p = trace_opts_to_params(&o);
        CHECK_STREQ(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
                    "{\"duration\":0.1}");
        json_object_put(p);
}

static void test_positional_and_getopt(void)
{
        /* Words after the options are a pcap filter, as with tcpdump; the daemon compiles it. */
        GOOD("{\"pcap_filter\":\"foo\"}", "foo");
        GOOD("{\"filter\":{\"proto\":\"tcp\"},\"pcap_filter\":\"foo\"}", "-p", "tcp", "foo");
        GOOD("{\"filter\":{\"l3\":\"ipv4\",\"proto\":\"tcp\"},\"pcap_filter\":\"port 80\"}", "-p",
             "tcp", "port", "80", "-4");
        GOOD("{\"pcap_filter\":\"tcp port 80 and host 10.0.0.1\"}", "tcp port 80 and", "host",
             "10.0.0.1");
        GOOD("{\"pcap_filter\":\"-x\"}", "--", "-x");
        BAD("empty word in the pcap filter expression", "tcp", "");
        BAD("empty word in the pcap filter expression", " ");
        BAD("unrecognized option '--foo'", "--foo");
        BAD("unrecognized option '--foo'", "--foo=bar");
        BAD("invalid option -- 'x'", "-x");
        BAD("invalid option -- 'x'", "-4x");
        BAD("option '-p' requires an argument", "-p");
        BAD("option '--mark' requires an argument", "--mark");
        BAD("option '--duration' requires an argument", "-4", "--duration");
        BAD("option '--help' does not take an argument", "--help=yes");
        /* --p could be --proto or --port: refuse to guess. */
        BAD("option '--p' is ambiguous", "--p", "1");
        /* Unique abbreviations work as with any GNU tool. */
        GOOD("{\"filter\":{\"proto\":\"tcp\"}}", "--prot", "tcp");
}

static void test_crossings(void)
{
        const char *const a[] = {"ipftctl", "-p", "icmp", "--crossings", NULL};
        const char *const b[] = {"ipftctl", "-o", "crossings", NULL};
        struct trace_opts o;
        char err[ERRLEN] = "";

        /* The view is ipftctl's, from the daemon's JSON. */
        GOOD("{\"output\":\"json\",\"filter\":{\"proto\":\"icmp\"}}", "-p", "icmp", "--crossings");
        CHECK_INTEQ(run_parse(a, &o, err), 0);
        CHECK(o.crossings && !o.pcapng);
        CHECK_INTEQ(run_parse(b, &o, err), 0);
        CHECK(o.crossings);
}

static void test_pcapng(void)
{
        /* The daemon sends JSON with the packet bytes; ipftctl writes the pcapng. */
        GOOD("{\"output\":\"json\",\"snapshot\":true}", "-o", "pcapng");
        GOOD("{\"output\":\"text\"}", "-o", "pcapng", "-o", "text");
        BAD("invalid output format 'pcap'|pcapng", "-o", "pcap");
}

static void test_fields(void)
{
        GOOD("{\"fields\":[\"len\",\"gso_size\"]}", "-F", "len,gso_size");
        GOOD("{\"fields\":[\"len\",\"skb->dev->mtu\",\"shinfo->gso_type\"]}", "-F", "len",
             "--field", "skb->dev->mtu,shinfo->gso_type");
        BAD("invalid field list 'len,'|empty name", "-F", "len,");
        BAD("invalid field name 'a;b'", "-F", "a;b");
        BAD("field 'len' given twice", "-F", "len,mark", "-F", "len");
        BAD("more than 8 fields", "-F", "a,b,c,d,e,f,g,h,i");
        BAD("option '-F' requires an argument", "-F");
}

static void test_help(void)
{
        struct trace_opts o;
        char err[ERRLEN];

        CHECK_INTEQ(run_parse(ARGS("-h"), &o, err), 0);
        CHECK(o.help);
        CHECK_INTEQ(run_parse(ARGS("-p", "tcp", "--help"), &o, err), 0);
        CHECK(o.help);
        CHECK_INTEQ(run_parse(ARGS("-p", "tcp"), &o, err), 0);
        CHECK(!o.help);
}

static void test_reuse(void)
{
        /* A call that failed in the middle of "-4x" must not leak getopt state into the next. */
        BAD("invalid option -- 'x'", "-4xs", "10.0.0.1");
        GOOD("{\"filter\":{\"l3\":\"ipv6\"}}", "-6");
        BAD("empty word in the pcap filter expression", "a", "");
        GOOD("{\"filter\":{\"proto\":\"udp\"}}", "-p", "udp");
}

static void test_everything(void)
{
        GOOD("{\"filter\":{\"mark\":16,\"mark_mask\":240,\"l3\":\"ipv4\",\"proto\":\"tcp\","
             "\"saddr\":\"10.0.0.0/8\",\"daddr\":\"192.168.1.1\",\"sport\":1234,\"dport\":80},"
             "\"tracer\":\"drop\",\"regex\":\"^tcp_\",\"output\":\"json\",\"count\":5,"
             "\"duration\":1.5}",
             "-m", "0x10/0xf0", "-4", "-p", "tcp", "-s", "10.1.1.1/8", "-d", "192.168.1.1",
             "--sport", "1234", "--dport", "80", "-t", "drop", "-r", "^tcp_", "-o", "json", "-c",
             "5", "--duration", "1.5");
}

/* Packet journeys, groups, and the where/who filters (--pid, --netns, -i). */
static void test_journeys(void)
{
        GOOD("{\"track\":true,\"output\":\"aggregate\",\"egress\":\"ip_output\"}", "--track", "-o",
             "aggregate", "--egress", "ip_output");
        GOOD("{\"output\":\"aggregate-json\"}", "-o", "aggregate-json");
        GOOD("{\"detail\":true,\"stack\":true}", "--detail", "--stack");
        GOOD("{\"tracer\":\"drop\",\"stack\":true}", "-t", "drop", "--stack");
        GOOD("{\"conntrack\":true}", "--ct");
        GOOD("{\"output\":\"json\",\"conntrack\":true}", "--ct", "-o", "json");
        BAD("--egress|-o aggregate", "--egress", "ip_output");
        BAD("--egress|-o aggregate", "--egress", "ip_output", "-o", "json");
        BAD("invalid egress probe ", "--egress", "");
        BAD("function_graph", "-t", "function_graph", "-o", "aggregate");

        GOOD("{\"groups\":[\"ip-in\",\"tcp\"]}", "-g", "ip-in,tcp");
        GOOD("{\"groups\":[\"ip-in\",\"tcp\",\"link\"]}", "-g", "ip-in,tcp", "--group", "link");
        BAD("invalid group list", "-g", "ip-in,");
        BAD("invalid group list", "-g", ",tcp");
        BAD("invalid group list", "-g", "a,,b");
        BAD("invalid group name 'IP'", "-g", "IP");
        BAD("invalid group name", "-g", "ip in");

        GOOD("{\"filter\":{\"pid\":1234}}", "--pid", "1234");
        BAD("invalid pid '0'|1 to 4194304", "--pid", "0");
        BAD("invalid pid '4194305'", "--pid", "4194305");
        BAD("invalid pid '-1'", "--pid", "-1");
        BAD("--pid given more than once", "--pid", "1", "--pid", "2");
        GOOD("{\"filter\":{\"netns\":4026531840}}", "--netns", "4026531840");
        BAD("invalid netns '0'", "--netns", "0");
        BAD("invalid netns '4294967296'", "--netns", "4294967296");
        GOOD("{\"filter\":{\"ifname\":\"veth0\"}}", "-i", "veth0");
        GOOD("{\"filter\":{\"netns\":12,\"ifname\":\"eth0\"}}", "--netns", "12", "--ifname",
             "eth0");
        BAD("invalid interface name 'a/b'", "-i", "a/b");
        BAD("invalid interface name", "-i", "0123456789abcdef");
        BAD("invalid interface name", "-i", "..");
        BAD("--ifname given more than once", "-i", "a", "-i", "b");
}

/* --netns PATH is resolved by stat: only namespace files pass. */
static void test_netns_path(void)
{
        char err[ERRLEN];
        uint32_t ino = 0;
        struct stat st;

        if (stat("/proc/self/ns/net", &st) == 0) {
                CHECK(args_netns_inode("/proc/self/ns/net", &ino, err, sizeof(err)) == 0);
                CHECK(ino == (uint32_t)st.st_ino);
        }
        CHECK(args_netns_inode("/etc/hostname", &ino, err, sizeof(err)) == -EINVAL);
        CHECK(strstr(err, "not a namespace file") || strstr(err, "No such file"));
        CHECK(args_netns_inode("/nonexistent/x", &ino, err, sizeof(err)) == -EINVAL);
}

int main(void)
{
        test_journeys();
        test_netns_path();
        test_defaults();
        test_mark();
        test_proto();
        test_l3();
        test_addresses();
        test_ports();
        test_tracer_regex_output();
        test_regex_message();
        test_count_duration();
        test_positional_and_getopt();
        test_fields();
        test_pcapng();
        test_crossings();
        test_help();
        test_reuse();
        test_everything();
        return TEST_DONE();
}
