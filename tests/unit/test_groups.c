/* SPDX-License-Identifier: GPL-2.0-only */
/* test_groups.c - the probe groups data file: syntax, limits, selection, the shipped file */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "groups.h"
#include "testlib.h"

static struct skbt_groups *parse_ok(const char *text)
{
        struct skbt_groups *gs = NULL;
        char err[512] = "";

        if (skbt_groups_parse(text, "t.conf", &gs, err, sizeof(err)) < 0) {
                fprintf(stderr, "unexpected parse error: %s\n", err);
                testlib_failures++;
                return NULL;
        }
        return gs;
}

static void parse_bad(int line, const char *text, const char *want)
{
        struct skbt_groups *gs = NULL;
        char err[512] = "";
        int r = skbt_groups_parse(text, "t.conf", &gs, err, sizeof(err));

        if (r >= 0 || !strstr(err, want)) {
                fprintf(stderr, "%s:%d: parse of %s: r=%d err '%s', want '%s'\n", __FILE__, line,
                        text, r, err, want);
                testlib_failures++;
        }
        skbt_groups_free(gs);
}
#define BAD(text, want) parse_bad(__LINE__, text, want)

static void test_tree(void)
{
        struct skbt_groups *gs = parse_ok("# comment\n"
                                          "[link]\n"
                                          "description = link layer\n"
                                          "\n"
                                          "[link-in]\n"
                                          "parent = link\n"
                                          "probes = net:netif_receive_skb ip_rcv_x\n"
                                          "probes =   __netif_receive_skb_core\t\n"
                                          "[tcp]\n"
                                          "regex = ^tcp:\n"
                                          "[tcp-in]\n"
                                          "parent = tcp\n"
                                          "probes = tcp_v4_rcv tcp:tcp_probe\n");

        if (!gs)
                return;
        CHECK_INTEQ(gs->n, 4);
        CHECK_STREQ(gs->g[0].description, "link layer");
        CHECK_INTEQ(gs->g[1].parent, 0);
        CHECK_INTEQ(gs->g[1].depth, 1);
        CHECK_INTEQ(gs->g[1].n_probes, 3);
        CHECK_STREQ(gs->g[1].probes[2], "__netif_receive_skb_core");
        CHECK_INTEQ(skbt_groups_find(gs, "tcp-in"), 3);
        CHECK_INTEQ(skbt_groups_find(gs, "nope"), -ENOENT);

        /* A group selects its probes and those below it. */
        CHECK(skbt_group_selects(gs, 0, "net:netif_receive_skb"));
        CHECK(skbt_group_selects(gs, 1, "ip_rcv_x"));
        CHECK(!skbt_group_selects(gs, 1, "tcp_v4_rcv"));
        CHECK(skbt_group_selects(gs, 2, "tcp:tcp_retransmit_skb")); /* regex */
        CHECK(skbt_group_selects(gs, 2, "tcp_v4_rcv"));             /* child */
        CHECK(!skbt_group_selects(gs, 3, "tcp:tcp_retransmit_skb"));

        /* The most specific group names a probe. */
        CHECK_STREQ(skbt_groups_probe_group(gs, "net:netif_receive_skb"), "link-in");
        CHECK_STREQ(skbt_groups_probe_group(gs, "tcp:tcp_probe"), "tcp-in");
        CHECK_STREQ(skbt_groups_probe_group(gs, "tcp:tcp_send_reset"), "tcp");
        CHECK(skbt_groups_probe_group(gs, "udp_rcv") == NULL);
        skbt_groups_free(gs);
}

static void test_errors(void)
{
        BAD("probes = a\n", "t.conf:1: 'probes' before the first [NAME]");
        BAD("[a]\n[a]\n", "t.conf:2: group a defined twice");
        BAD("[A]\n", "invalid group name 'A'");
        BAD("[a b]\n", "invalid group name");
        BAD("[abcdefghijklmnopqrstuvwxyz0123456]\n", "at most 31 characters");
        BAD("[a]\nparent = b\n", "t.conf:2: parent 'b' is not a group defined above");
        BAD("[a]\nparent = a\n", "parent 'a' is not a group defined above");
        BAD("[a]\n[b]\nparent = a\nparent = a\n", "t.conf:4: group b has two parents");
        BAD("[a]\ncolour = red\n", "unknown key 'colour'");
        BAD("[a]\njust words\n", "expected KEY = VALUE or [NAME]");
        BAD("[a]\nprobes = ip_rcv bad/name\n", "invalid probe name 'bad/name'");
        BAD("[a]\nregex = (\n", "invalid regex '('");
        BAD("[a]\nregex = a\nregex = b\n", "two regexes");
        BAD("[a] x\n", "expected [NAME] on a line of its own");
}

static void test_limits(void)
{
        char big[SKBT_GROUPS_LINE_MAX + 64];
        struct skbt_groups *gs = NULL;
        char err[256];
        static char many[(SKBT_GROUPS_MAX + 1) * 16];
        size_t pos = 0;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        BAD(big, "longer than");

        for (int i = 0; i <= SKBT_GROUPS_MAX; i++)
                pos += (size_t)snprintf(many + pos, sizeof(many) - pos, "[g%d]\n", i);
        CHECK_INTEQ(skbt_groups_parse(many, "t.conf", &gs, err, sizeof(err)), -E2BIG);
        CHECK(strstr(err, "more than 256 groups") != NULL);
        skbt_groups_free(gs);
}

/* The file the daemon ships parses, and its tree is what the docs describe. */
static void test_shipped_file(void)
{
        static const char *const want[] = {"link",      "link-in", "link-out", "sched",  "bridge",
                                           "netfilter", "ip",      "ip-in",    "ip-out", "tcp",
                                           "udp",       "icmp",    "life",     "packet", "socket"};
        struct skbt_groups *gs = NULL;
        char err[512] = "";

        if (skbt_groups_load(SOURCE_DIR "/data/groups.conf", &gs, err, sizeof(err)) < 0) {
                fprintf(stderr, "data/groups.conf: %s\n", err);
                testlib_failures++;
                return;
        }
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                if (skbt_groups_find(gs, want[i]) < 0) {
                        fprintf(stderr, "data/groups.conf has no group %s\n", want[i]);
                        testlib_failures++;
                }
        CHECK(skbt_group_selects(gs, (uint32_t)skbt_groups_find(gs, "link"),
                                 "net:netif_receive_skb"));
        CHECK(skbt_group_selects(gs, (uint32_t)skbt_groups_find(gs, "ip-in"), "ip_rcv"));
        CHECK(skbt_group_selects(gs, (uint32_t)skbt_groups_find(gs, "tcp"), "tcp:tcp_probe"));
        CHECK(skbt_group_selects(gs, (uint32_t)skbt_groups_find(gs, "life"), "skb:consume_skb"));
        CHECK_STREQ(skbt_groups_probe_group(gs, "net:net_dev_queue"), "link-out");
        CHECK_STREQ(skbt_groups_probe_group(gs, "skb:kfree_skb"), "drop");
        skbt_groups_free(gs);

        CHECK_INTEQ(skbt_groups_load("/nonexistent/groups.conf", &gs, err, sizeof(err)), -ENOENT);
        CHECK(strstr(err, "cannot open /nonexistent/groups.conf") != NULL);
}

int main(void)
{
        test_tree();
        test_errors();
        test_limits();
        test_shipped_file();
        return TEST_DONE();
}
