/* SPDX-License-Identifier: GPL-2.0-only */
/* test_config.c - config file parsing, merging with the command line, and the access rule */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "skbt_config.h"
#include "testlib.h"

static int parse(const char *text, struct skbt_config *c, char *err, size_t errlen)
{
        skbt_config_defaults(c);
        return skbt_config_parse(text, strlen(text), "test.conf", c, err, errlen);
}

static void test_defaults(void)
{
        struct skbt_config c;

        skbt_config_defaults(&c);
        CHECK_STREQ(c.group, SKBT_DEFAULT_GROUP);
        CHECK_INTEQ(c.set, 0);
        CHECK_INTEQ(c.backend, SKBT_BACKEND_AUTO);
        CHECK_INTEQ(c.max_sessions, 64);
        CHECK_INTEQ(c.max_sessions_per_user, 16);
        CHECK_INTEQ(c.max_duration_usec, 0);
        CHECK_INTEQ(c.rate_limit, 0);
        CHECK_INTEQ(c.queue_bytes, 8 << 20);
        CHECK_INTEQ(c.ringbuf_bytes, 8 << 20);
        CHECK_INTEQ(c.max_connections, 256);
        CHECK_INTEQ(c.max_connections_per_user, 32);
        CHECK_INTEQ(c.idle_detach_usec, 10 * 1000000LL);
        CHECK_INTEQ(c.idle_timeout_usec, 30 * 1000000ULL);
        CHECK_STREQ(c.keep_attached, "none");
}

static void test_full_file(void)
{
        static const char text[] = "# skbtraced.conf\n"
                                   "\n"
                                   "; another comment style\n"
                                   "group = netops\n"
                                   "backend=tracepoint\n"
                                   "  ringbuf_size =  16  \n"
                                   "queue_size = 1024\r\n"
                                   "max_sessions = 32\n"
                                   "max_sessions_per_user = 4\n"
                                   "max_duration = 2h\n"
                                   "rate_limit = 5000\n"
                                   "max_connections = 100\n"
                                   "max_connections_per_user = 10"; /* no final newline */
        struct skbt_config c;
        char err[512] = "";

        CHECK_INTEQ(parse(text, &c, err, sizeof(err)), 0);
        CHECK_STREQ(err, "");
        CHECK_STREQ(c.group, "netops");
        CHECK_INTEQ(c.backend, SKBT_BACKEND_TRACEPOINT);
        CHECK_INTEQ(c.ringbuf_bytes, 16 << 20);
        CHECK_INTEQ(c.queue_bytes, 1024 << 10);
        CHECK_INTEQ(c.max_sessions, 32);
        CHECK_INTEQ(c.max_sessions_per_user, 4);
        CHECK_INTEQ(c.max_duration_usec, 7200ULL * 1000000);
        CHECK_INTEQ(c.rate_limit, 5000);
        CHECK_INTEQ(c.max_connections, 100);
        CHECK_INTEQ(c.max_connections_per_user, 10);
        CHECK_INTEQ(c.set, SKBT_CFG_GROUP | SKBT_CFG_BACKEND | SKBT_CFG_RINGBUF | SKBT_CFG_QUEUE |
                               SKBT_CFG_MAX_SESSIONS | SKBT_CFG_MAX_PER_USER |
                               SKBT_CFG_MAX_DURATION | SKBT_CFG_RATE_LIMIT |
                               SKBT_CFG_MAX_CONNECTIONS | SKBT_CFG_MAX_CONN_PER_USER);
}

static void test_empty_and_comments(void)
{
        struct skbt_config c;
        char err[256];

        CHECK_INTEQ(parse("", &c, err, sizeof(err)), 0);
        CHECK_INTEQ(parse("\n\n   \n# only comments\n\t; here\n", &c, err, sizeof(err)), 0);
        CHECK_INTEQ(c.set, 0);
        CHECK_INTEQ(c.max_sessions, 64);
}

static void test_backends(void)
{
        static const struct {
                const char *name;
                enum skbt_backend b;
        } names[] = {
            {"auto", SKBT_BACKEND_AUTO},
            {"fentry", SKBT_BACKEND_FENTRY},
            {"kprobe-multi", SKBT_BACKEND_KPROBE_MULTI},
            {"kprobe", SKBT_BACKEND_KPROBE},
            {"tracepoint", SKBT_BACKEND_TRACEPOINT},
        };
        struct skbt_config c;
        char err[256];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                skbt_config_defaults(&c);
                CHECK_INTEQ(skbt_config_set(&c, "backend", names[i].name, err, sizeof(err)), 0);
                CHECK_INTEQ(c.backend, names[i].b);
        }
}

static void test_durations(void)
{
        static const struct {
                const char *s;
                int r;
                uint64_t sec;
        } cases[] = {
            {"0", 0, 0},
            {"90", 0, 90},
            {"90s", 0, 90},
            {"15m", 0, 900},
            {"2h", 0, 7200},
            {"1d", 0, 86400},
            {"366d", 0, 31622400},
            {"367d", -ERANGE, 0},
            {"", -EINVAL, 0},
            {"s", -EINVAL, 0},
            {"-1", -EINVAL, 0},
            {"1.5h", -EINVAL, 0},
            {"010", -EINVAL, 0},
            {"0x10", -EINVAL, 0},
            {"10 m", -EINVAL, 0},
            {"1w", -EINVAL, 0},
            {"99999999999999999999", -EINVAL, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t usec = 12345;
                int r = skbt_parse_duration_sec(cases[i].s, &usec);

                if (r != cases[i].r)
                        fprintf(stderr, "duration '%s': got %d, want %d\n", cases[i].s, r,
                                cases[i].r);
                CHECK_INTEQ(r, cases[i].r);
                if (r == 0)
                        CHECK_INTEQ(usec, cases[i].sec * 1000000);
        }
}

/* Each bad file fails with a message naming the file, the line and the culprit. */
static void test_errors(void)
{
        static const struct {
                const char *text;
                const char *want; /* substring of the message */
        } cases[] = {
            {"max_sessions = 65\n", "test.conf:1: invalid max_sessions '65': expected a "
                                    "number from 1 to 64"},
            {"\n\nmax_sessions = 0\n", "test.conf:3: invalid max_sessions '0'"},
            {"max_sessions = 10x\n", "invalid max_sessions '10x'"},
            {"max_sessions = -1\n", "invalid max_sessions '-1'"},
            {"max_sessions = 010\n", "invalid max_sessions '010'"},
            {"max_sessions =\n", "test.conf:1: missing value for 'max_sessions'"},
            {"= 5\n", "test.conf:1: missing setting name"},
            {"max_sessions 5\n", "test.conf:1: expected 'key = value'"},
            {"[skbtraced]\n", "test.conf:1: expected 'key = value'"},
            {"max_session = 5\n", "test.conf:1: unknown setting 'max_session'"},
            {"group = bad group\n", "invalid group 'bad group'"},
            {"group = -x\n", "invalid group '-x'"},
            {"group = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "invalid group"},
            {"backend = bpf\n", "unknown backend 'bpf'"},
            {"ringbuf_size = 3\n", "expected a power of 2"},
            {"ringbuf_size = 2048\n", "invalid ringbuf_size '2048'"},
            {"queue_size = 63\n", "invalid queue_size '63': expected a number from 64"},
            {"max_duration = 1y\n", "invalid max_duration '1y'"},
            {"rate_limit = 10000001\n", "invalid rate_limit '10000001'"},
            {"max_connections = 0\n", "invalid max_connections '0'"},
            {"max_connections_per_user = 4097\n", "invalid max_connections_per_user"},
            {"idle_timeout = 0\n", "invalid idle_timeout '0'"},
            {"idle_timeout = 1.5\n", "invalid idle_timeout '1.5'"},
            {"idle_detach_after = soon\n", "invalid idle_detach_after 'soon'"},
            {"idle_detach_after = 1e3\n", "invalid idle_detach_after '1e3'"},
            {"idle_detach_after = 1m\n", "invalid idle_detach_after '1m'"},
            {"idle_detach_after = .\n", "invalid idle_detach_after '.'"},
            {"idle_detach_after = 40000000\n", "invalid idle_detach_after '40000000'"},
            {"idle_detach_after = 1\nidle_detach_after = 2\n", "'idle_detach_after' is set "
                                                               "twice"},
            {"max_sessions = 5\nmax_sessions = 6\n", "test.conf:2: 'max_sessions' is set "
                                                     "twice"},
            {"keep_attached = (ip_rcv\n", "invalid keep_attached '(ip_rcv'"},
            {"keep_attached = a\\1\n", "invalid keep_attached"},
        };
        struct skbt_config c;
        char err[512];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                err[0] = '\0';
                CHECK_INTEQ(parse(cases[i].text, &c, err, sizeof(err)), -EINVAL);
                if (!strstr(err, cases[i].want)) {
                        fprintf(stderr, "config '%s':\n  message: %s\n  wanted:  %s\n",
                                cases[i].text, err, cases[i].want);
                        CHECK(0);
                }
        }
        /* A NUL byte means a binary file was given. */
        skbt_config_defaults(&c);
        CHECK_INTEQ(skbt_config_parse("a = 1\0b", 7, "bin", &c, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "NUL") != NULL);
}

/* The command line wins over the file; unset command-line options do not. */
static void test_merge(void)
{
        struct skbt_config file, cli;
        char err[256];

        CHECK_INTEQ(
            parse("max_sessions = 10\nrate_limit = 100\ngroup = a\n", &file, err, sizeof(err)), 0);
        skbt_config_defaults(&cli);
        cli.set = 0;
        CHECK_INTEQ(skbt_config_set(&cli, "rate_limit", "7", err, sizeof(err)), 0);
        CHECK_INTEQ(skbt_config_set(&cli, "max_duration", "30m", err, sizeof(err)), 0);
        CHECK_INTEQ(cli.set, SKBT_CFG_RATE_LIMIT | SKBT_CFG_MAX_DURATION);
        skbt_config_merge(&file, &cli);
        CHECK_INTEQ(file.max_sessions, 10);
        CHECK_INTEQ(file.rate_limit, 7);
        CHECK_INTEQ(file.max_duration_usec, 1800ULL * 1000000);
        CHECK_STREQ(file.group, "a");
        CHECK_INTEQ(file.max_sessions_per_user, 16);
}

/* Seconds with a fraction; 0 detaches at once; never or a negative number keeps the links. */
static void test_idle_detach(void)
{
        static const struct {
                const char *value;
                int64_t usec;
        } ok[] = {
            {"10", 10000000},
            {"0", 0},
            {"0.3", 300000},
            {"2.5s", 2500000},
            {".5", 500000},
            {"1.0000009", 1000000},
            {"never", SKBT_IDLE_DETACH_NEVER},
            {"-1", SKBT_IDLE_DETACH_NEVER},
            {"-0.5", SKBT_IDLE_DETACH_NEVER},
        };
        struct skbt_config c, cli;
        char err[256];

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                int64_t v = 12345;

                CHECK_INTEQ(skbt_parse_idle_detach(ok[i].value, &v), 0);
                if (v != ok[i].usec)
                        fprintf(stderr, "idle_detach_after '%s': %lld, want %lld\n", ok[i].value,
                                (long long)v, (long long)ok[i].usec);
                CHECK(v == ok[i].usec);
        }
        CHECK_INTEQ(parse("idle_detach_after = never\n", &c, err, sizeof(err)), 0);
        CHECK(c.idle_detach_usec == SKBT_IDLE_DETACH_NEVER);
        CHECK_INTEQ(c.set, SKBT_CFG_IDLE_DETACH);
        /* The command line (--idle-detach-after) wins over the file. */
        skbt_config_defaults(&cli);
        cli.set = 0;
        CHECK_INTEQ(skbt_config_set(&cli, "idle_detach_after", "0.25", err, sizeof(err)), 0);
        skbt_config_merge(&c, &cli);
        CHECK(c.idle_detach_usec == 250000);
        /* idle_timeout: connections without a request (issue 14). */
        CHECK_INTEQ(parse("idle_timeout = 2m\n", &c, err, sizeof(err)), 0);
        CHECK_INTEQ(c.idle_timeout_usec, 120 * 1000000ULL);
        CHECK_INTEQ(c.set, SKBT_CFG_IDLE_TIMEOUT);
}

/* keep_attached: none, all, or a pattern that compiles; the command line wins on merge. */
static void test_keep_attached(void)
{
        struct skbt_config c, cli;
        char err[512] = "", long_re[400];

        skbt_config_defaults(&c);
        CHECK_INTEQ(parse("keep_attached = all\n", &c, err, sizeof(err)), 0);
        CHECK_STREQ(c.keep_attached, "all");
        CHECK_INTEQ(c.set, SKBT_CFG_KEEP_ATTACHED);
        skbt_config_defaults(&c);
        CHECK_INTEQ(parse("keep_attached = ^(net|skb):\n", &c, err, sizeof(err)), 0);
        CHECK_STREQ(c.keep_attached, "^(net|skb):");
        skbt_config_defaults(&cli);
        cli.set = 0;
        CHECK_INTEQ(skbt_config_set(&cli, "keep_attached", "none", err, sizeof(err)), 0);
        skbt_config_merge(&c, &cli);
        CHECK_STREQ(c.keep_attached, "none");
        /* Longer than the setting holds: refused, not cut. */
        memset(long_re, 'x', sizeof(long_re) - 1);
        long_re[sizeof(long_re) - 1] = '\0';
        CHECK_INTEQ(skbt_config_set(&cli, "keep_attached", long_re, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "longer than") != NULL);
}

/* default_probes: groups (built in) or all; anything else names both. */
static void test_default_probes(void)
{
        struct skbt_config c, cli;
        char err[512] = "";

        skbt_config_defaults(&c);
        CHECK_INTEQ(c.default_probes, SKBT_PROBES_GROUPS);
        CHECK_INTEQ(parse("default_probes = all\n", &c, err, sizeof(err)), 0);
        CHECK_INTEQ(c.default_probes, SKBT_PROBES_ALL);
        CHECK_INTEQ(c.set, SKBT_CFG_DEFAULT_PROBES);
        skbt_config_defaults(&cli);
        cli.set = 0;
        CHECK_INTEQ(skbt_config_set(&cli, "default_probes", "groups", err, sizeof(err)), 0);
        skbt_config_merge(&c, &cli);
        CHECK_INTEQ(c.default_probes, SKBT_PROBES_GROUPS);
        CHECK_INTEQ(skbt_config_set(&cli, "default_probes", "some", err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "invalid default_probes 'some'") && strstr(err, "groups") &&
              strstr(err, " or all"));
}

static void test_load(void)
{
        char path[] = "/tmp/skbt-test-config-XXXXXX";
        struct skbt_config c;
        char err[512];
        int fd;

        skbt_config_defaults(&c);
        CHECK_INTEQ(skbt_config_load("/nonexistent/skbtraced.conf", &c, err, sizeof(err)), -ENOENT);
        CHECK(strstr(err, "/nonexistent/skbtraced.conf") != NULL);
        CHECK_INTEQ(skbt_config_load("/tmp", &c, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "not a regular file") != NULL);

        fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        CHECK(write(fd, "max_sessions = 3\nbogus = 1\n", 27) == 27);
        close(fd);
        CHECK_INTEQ(skbt_config_load(path, &c, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, ":2: unknown setting 'bogus'") != NULL);
        CHECK(strncmp(err, path, strlen(path)) == 0);
        unlink(path);
}

static void test_access_rule(void)
{
        const gid_t groups[] = {10, 20, 30};
        struct ucred root = {.pid = 1, .uid = 0, .gid = 0};
        struct ucred user = {.pid = 2, .uid = 1000, .gid = 1000};
        struct ucred primary = {.pid = 3, .uid = 1001, .gid = 20};

        CHECK(skbt_access_allowed(&root, NULL, 0, 20, true));
        CHECK(skbt_access_allowed(&root, NULL, 0, 0, false));
        CHECK(skbt_access_allowed(&user, groups, 3, 20, true));
        CHECK(skbt_access_allowed(&user, groups, 3, 30, true));
        CHECK(!skbt_access_allowed(&user, groups, 3, 40, true));
        CHECK(!skbt_access_allowed(&user, NULL, 0, 20, true));
        CHECK(skbt_access_allowed(&primary, NULL, 0, 20, true));
        /* No such group: root only, whatever the numbers say. */
        CHECK(!skbt_access_allowed(&user, groups, 3, 20, false));
        CHECK(!skbt_access_allowed(&primary, NULL, 0, 20, false));
}

/* Our own end of a socketpair: the peer is this process, with its groups. */
static void test_access_check_self(void)
{
        struct skbt_peer peer;
        int sv[2];

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK_INTEQ(skbt_access_check(sv[0], getegid(), true, &peer), 0);
        CHECK_INTEQ(peer.cred.pid, getpid());
        CHECK_INTEQ(peer.cred.uid, geteuid());
        CHECK(peer.allowed);
        CHECK_INTEQ(peer.admin, geteuid() == 0);
        if (geteuid() != 0) {
                /* A group nobody here has. */
                CHECK_INTEQ(skbt_access_check(sv[0], 4000000000u, true, &peer), 0);
                CHECK(!peer.allowed);
        }
        close(sv[0]);
        close(sv[1]);
}

int main(void)
{
        test_defaults();
        test_full_file();
        test_empty_and_comments();
        test_backends();
        test_durations();
        test_errors();
        test_merge();
        test_idle_detach();
        test_keep_attached();
        test_default_probes();
        test_load();
        test_access_rule();
        test_access_check_self();
        return TEST_DONE();
}
