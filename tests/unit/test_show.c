/* SPDX-License-Identifier: GPL-2.0-only */
/* test_show.c - ipftctl show on hand-made recordings: filters, time windows, parts, refusals */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "testlib.h"

static char dir[] = "/tmp/skbt-show-XXXXXX";

#define START_NS 1000000000000ULL          /* the session's start, in event time */
#define MONO_TO_REAL 1700000000000000000LL /* 2023-11-14 22:13:20 UTC */

/* Not freed: a test process. */
static char *path_in(const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static void header(FILE *f, const char *id, int part, const char *request)
{
        fprintf(f,
                "{\"record\":\"header\",\"format\":1,\"id\":\"%s\",\"request\":%s,"
                "\"clock\":{\"mono_to_real_ns\":%lld,\"start_ns\":%llu},\"part\":%d}\n",
                id, request, MONO_TO_REAL, START_NS, part);
}

/* Event i: at START + i s, packet i % 3, a UDP flow whose source port is 1000 + i. */
static void event(FILE *f, int i, const char *probe, uint64_t track, const char *saddr)
{
        fprintf(f,
                "{\"packet_id\":\"0xffff8880000%05x\",\"timestamp\":%llu,\"processor_id\":0,"
                "\"function\":\"%s\",\"is_return\":false,\"mark\":%d,\"len\":60,"
                "\"protocol\":\"0x0800\",\"ifindex\":2,\"ifname\":\"eth0\",\"netns\":4026531840,"
                "\"pid\":0,\"tuple\":{\"l3\":\"ipv4\",\"proto\":\"udp\",\"saddr\":\"%s\","
                "\"daddr\":\"10.0.0.2\",\"sport\":%d,\"dport\":53},\"track_id\":%llu,"
                "\"comm\":\"swapper/0\",\"group\":\"\"}\n",
                i % 3, (unsigned long long)(START_NS + (uint64_t)i * 1000000000ULL), probe, i,
                saddr, 1000 + i, (unsigned long long)track);
}

/* A recording of 10 events, tracked; event 5 is the only one from 10.0.0.9 (a NAT rewrite). */
static const char *make_recording(const char *name)
{
        const char *p = path_in(name);
        FILE *f = fopen(p, "w");

        header(f, "r1", 1, "{\"track\":true}");
        for (int i = 0; i < 10; i++)
                event(f, i, i % 2 ? "ip_rcv" : "net:netif_receive_skb", i < 5 ? 7 : 8,
                      i == 5 ? "10.0.0.9" : "10.0.0.1");
        fputs("{\"record\":\"summary\",\"session\":1,\"events\":10,\"lost_ringbuf\":0,"
              "\"lost_queue\":0,\"lost_rate\":0,\"duration_ns\":10,\"reason\":\"count\"}\n",
              f);
        fclose(f);
        return p;
}

/* ipftctl show ARGS...: its exit status, its standard output in out. */
static int show(char *out, size_t outlen, ...)
{
        const struct ctl ctl = {.socket_path = "/nonexistent"};
        char *argv[32] = {(char *)"show"};
        int argc = 1, saved, fd, r;
        const char *outp = path_in("stdout");
        va_list ap;
        ssize_t n;

        va_start(ap, outlen);
        while ((argv[argc] = va_arg(ap, char *)))
                argc++;
        va_end(ap);
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        close(fd);
        r = cmd_show(&ctl, argc, argv);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        fd = open(outp, O_RDONLY);
        n = read(fd, out, outlen - 1);
        close(fd);
        out[n > 0 ? n : 0] = '\0';
        return r;
}

/* How many output lines, and the source ports they show ("1000 1003 ..."). */
static const char *ports(const char *out)
{
        static char buf[256];
        size_t n = 0;

        buf[0] = '\0';
        for (const char *p = out; (p = strstr(p, "\"sport\":")); p += 8)
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d", n ? " " : "",
                                      atoi(p + 8) - 1000);
        return buf;
}

static void test_filters(void)
{
        const char *rec = make_recording("filters.jsonl");
        char out[65536];

        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "0 1 2 3 4 5 6 7 8 9");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-r", "^ip_", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "1 3 5 7 9");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "--track-id", "8", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "5 6 7 8 9");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "--packet-id", "0xffff888000000001",
                         "--packet-id", "0xffff888000000002", rec, NULL),
                    EXIT_OK);
        CHECK_STREQ(ports(out), "1 2 4 5 7 8");
        /* A journey followed from its first match on: 5 matches, 6..9 are its later events
         * (another source, as after NAT); 0..4 are another journey. */
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-s", "10.0.0.9", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "5 6 7 8 9");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "--sport", "1003", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "3 4");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-m", "2", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "2 3 4");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-p", "tcp", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-i", "eth1", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", "-6", rec, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "");
}

static void test_time_window(void)
{
        const char *rec = make_recording("time.jsonl");
        char out[65536], since[64], until[64];
        time_t t = (time_t)((MONO_TO_REAL + (int64_t)START_NS) / 1000000000LL);
        struct tm tm;

        CHECK_INTEQ(
            show(out, sizeof(out), "-o", "json", "--since", "+2", "--until", "4.5", rec, NULL),
            EXIT_OK);
        CHECK_STREQ(ports(out), "2 3 4");
        /* Local times on the recording's day. */
        t += 6;
        localtime_r(&t, &tm);
        strftime(since, sizeof(since), "%H:%M:%S", &tm);
        t += 2;
        localtime_r(&t, &tm);
        strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S.5", &tm);
        CHECK_INTEQ(
            show(out, sizeof(out), "-o", "json", "--since", since, "--until", until, rec, NULL),
            EXIT_OK);
        CHECK_STREQ(ports(out), "6 7 8");
        CHECK_INTEQ(show(out, sizeof(out), "--since", "yesterday", rec, NULL), EXIT_ERROR);
}

/* Parts in any order, a gap said, another recording after the first. */
static void test_parts(void)
{
        const char *p1 = path_in("a-0001.jsonl"), *p2 = path_in("a-0002.jsonl");
        const char *other = path_in("b.jsonl");
        FILE *f;
        char out[65536];

        f = fopen(p1, "w");
        header(f, "ra", 1, "{}");
        event(f, 0, "ip_rcv", 0, "10.0.0.1");
        fputs("{\"record\":\"end\",\"reason\":\"rotate\"}\n", f);
        fclose(f);
        f = fopen(p2, "w");
        header(f, "ra", 2, "{}");
        event(f, 1, "ip_rcv", 0, "10.0.0.1");
        fclose(f);
        f = fopen(other, "w");
        header(f, "rb", 1, "{}");
        event(f, 7, "ip_rcv", 0, "10.0.0.1");
        fclose(f);
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", other, p2, p1, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "7 0 1");
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", p2, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "1");
}

static void test_refusals(void)
{
        const char *rec = make_recording("refuse.jsonl");
        const char *joined = path_in("joined.jsonl");
        char out[65536], cmd[1024];

        CHECK_INTEQ(show(out, sizeof(out), NULL), EXIT_USAGE);
        CHECK_INTEQ(show(out, sizeof(out), "-o", "yaml", rec, NULL), EXIT_USAGE);
        CHECK_INTEQ(show(out, sizeof(out), "-4", "-6", rec, NULL), EXIT_USAGE);
        CHECK_INTEQ(show(out, sizeof(out), "-r", "(", rec, NULL), EXIT_USAGE);
        CHECK_INTEQ(show(out, sizeof(out), path_in("missing"), NULL), EXIT_ERROR);
        /* Two recordings joined by cat: the second header stops the first recording. */
        snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", rec, make_recording("again.jsonl"),
                 joined);
        CHECK(system(cmd) == 0);
        CHECK_INTEQ(show(out, sizeof(out), "-o", "json", joined, NULL), EXIT_OK);
        CHECK_STREQ(ports(out), "0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9");
        /* A newer format is refused, not guessed at. */
        snprintf(cmd, sizeof(cmd), "sed 's/\"format\":1/\"format\":2/' '%s' > '%s'", rec, joined);
        CHECK(system(cmd) == 0);
        CHECK_INTEQ(show(out, sizeof(out), joined, NULL), EXIT_ERROR);
}

int main(void)
{
        char cmd[600];

        if (!mkdtemp(dir))
                return EXIT_FAILURE;
        /* The local times above are those of this zone. */
        setenv("TZ", "UTC", 1);
        tzset();
        test_filters();
        test_time_window();
        test_parts();
        test_refusals();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
        return TEST_DONE();
}
