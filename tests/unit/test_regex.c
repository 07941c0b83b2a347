/* SPDX-License-Identifier: GPL-2.0-only */
/* test_regex.c - skbt_regex: probe selections match, hostile patterns are bounded */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "skbt_regex.h"
#include "testlib.h"

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 match, 0 no match, or the error of new/match. */
static int match(const char *pattern, const char *name)
{
        struct skbt_regex *re = NULL;
        char err[512];
        int r;

        r = skbt_regex_new(pattern, &re, err, sizeof(err));
        if (r < 0)
                return r;
        CHECK_STREQ(skbt_regex_pattern(re), pattern);
        r = skbt_regex_match(re, name);
        skbt_regex_free(re);
        return r;
}

/* Compile must fail with r and a message containing what. */
static void refused(const char *pattern, int r, const char *what)
{
        struct skbt_regex *re = NULL;
        char err[512] = "";
        double t0 = now_s();

        CHECK_INTEQ(skbt_regex_new(pattern, &re, err, sizeof(err)), r);
        CHECK(re == NULL);
        if (!strstr(err, what))
                fprintf(stderr, "pattern %.40s: message '%s' lacks '%s'\n", pattern, err, what);
        CHECK(strstr(err, what) != NULL);
        /* Refusing is cheap, whatever the pattern. */
        CHECK(now_s() - t0 < 0.05);
}

/* What people write for probe selections: POSIX ERE that PCRE2 reads the same way. */
static void test_selections(void)
{
        CHECK_INTEQ(match("^ip_", "ip_rcv"), 1);
        CHECK_INTEQ(match("^ip_", "__ip_rcv"), 0);
        CHECK_INTEQ(match("^(ip|ipv6)_", "ipv6_rcv"), 1);
        CHECK_INTEQ(match("rcv$", "ip_rcv"), 1);
        CHECK_INTEQ(match("rcv$", "ip_rcv_finish"), 0);
        CHECK_INTEQ(match("^net:", "net:netif_receive_skb"), 1);
        CHECK_INTEQ(match("^(tcp|udp)_v[46]_rcv$", "tcp_v4_rcv"), 1);
        CHECK_INTEQ(match("[[:digit:]]_rcv", "tcp_v4_rcv"), 1);
        CHECK_INTEQ(match("skb", "kfree_skb"), 1);
        CHECK_INTEQ(match("a{2,3}b", "xaab"), 1);
        CHECK_INTEQ(match("", "anything"), 1);
        CHECK_INTEQ(match("^skb:kfree_skb$", "skb:kfree_skb"), 1);
        CHECK_INTEQ(match("^skb:kfree_skb$", "skb:kfree_skb\n"), 0);
        /* The long alternations the VM tier passes to --probes. */
        CHECK_INTEQ(match("^(ip_rcv|ip_rcv_finish|ip_local_deliver|ip_forward|ip_forward_finish|"
                          "ip_output|ip_finish_output2|icmp_rcv|__dev_queue_xmit|dev_queue_xmit_"
                          "nit|dev_hard_start_xmit|__netif_receive_skb_one_core|skb_clone|skb_"
                          "copy|__pskb_copy_fclone|pskb_expand_head|__kfree_skb|kfree_skbmem|"
                          "kfree_skb_partial|tpacket_rcv|packet_rcv|udp_rcv|__udp4_lib_rcv|kfree_"
                          "skb_reason|sk_skb_reason_drop|skb:.*|net:.*)$",
                          "net:netif_receive_skb"),
                    1);
}

/* The classes that crashed or stalled glibc's regex in the root daemon (issue 14). */
static void test_hostile(void)
{
        char long_re[SKBT_REGEX_MAX_LEN + 2], deep[256] = "";
        struct skbt_regex *re = NULL;
        char err[512];
        double t0;
        int r;

        /* Back-references: parentheses do not capture, so there is nothing to refer to. */
        refused("(|)(\\1\\1)*", -EINVAL, "non-existent");
        refused("(a)\\1", -EINVAL, "non-existent");
        /* Nested bounded repeats: a syntax error, or bounded by the compiled size. */
        refused("x{1,700}{1,700}", -EINVAL, "invalid regex");
        refused("(?:(?:abcdefgh){1,100}){1,100}", -E2BIG, "too complex");
        refused("(?:(?:(?:(?:ab){1,9}){1,9}){1,9}){1,9}", -E2BIG, "too complex");
        /* Deep nesting. */
        for (int i = 0; i < SKBT_REGEX_NEST_MAX + 2; i++)
                strcat(deep, "(");
        strcat(deep, "a");
        for (int i = 0; i < SKBT_REGEX_NEST_MAX + 2; i++)
                strcat(deep, ")");
        refused(deep, -E2BIG, "nested");
        /* Long patterns. */
        memset(long_re, 'a', sizeof(long_re) - 1);
        long_re[sizeof(long_re) - 1] = '\0';
        refused(long_re, -E2BIG, "longer than 1024 bytes");
        long_re[SKBT_REGEX_MAX_LEN] = '\0';
        CHECK_INTEQ(match(long_re, "a"), 0);
        /* Modes that only add cost, and a pattern that tries to raise its own limit. */
        refused("(*UTF)a", -EINVAL, "UTF");
        refused("\\C", -EINVAL, "invalid regex");

        /* Catastrophic backtracking: an error naming the limit, in well under a second. */
        CHECK_INTEQ(skbt_regex_new("(?:a+)+$", &re, err, sizeof(err)), 0);
        t0 = now_s();
        r = skbt_regex_match(re, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
        CHECK_INTEQ(r, -E2BIG);
        CHECK(now_s() - t0 < 0.05);
        skbt_regex_limit_message(re, r, "aaaab", err, sizeof(err));
        CHECK(strstr(err, "backtracks too much") != NULL);
        CHECK(strstr(err, "10000 steps") != NULL);
        skbt_regex_free(re);
        re = NULL;
        CHECK_INTEQ(skbt_regex_new("(*LIMIT_MATCH=100000000)(?:a+)+$", &re, err, sizeof(err)), 0);
        CHECK_INTEQ(skbt_regex_match(re, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
                    -E2BIG);
        skbt_regex_free(re);
}

/* A request's walk over many names stops at its time budget. */
static void test_time_budget(void)
{
        struct skbt_regex *re = NULL;
        char err[512];
        int r = 0, i;

        /* Just under the match limit on every name: slow, never an error by itself. */
        CHECK_INTEQ(skbt_regex_new("(?:a+)+$", &re, err, sizeof(err)), 0);
        skbt_regex_set_time_budget(re, 20 * 1000);
        for (i = 0; i < 1000000 && r >= 0; i++)
                r = skbt_regex_match(re, "aaaaaaaaaaab");
        CHECK_INTEQ(r, -ETIME);
        CHECK(i > 1);
        skbt_regex_limit_message(re, r, "x", err, sizeof(err));
        CHECK(strstr(err, "matching time") != NULL);
        /* Without a budget the same expression keeps working. */
        skbt_regex_set_time_budget(re, 0);
        CHECK_INTEQ(skbt_regex_match(re, "aaa"), 1);
        skbt_regex_free(re);
}

int main(void)
{
        test_selections();
        test_hostile();
        test_time_budget();
        return TEST_DONE();
}
