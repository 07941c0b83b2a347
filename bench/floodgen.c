/* SPDX-License-Identifier: GPL-2.0-only */
/* floodgen.c - bounded UDP packet flood for the benchmarks (run it inside a test namespace) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg() */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Sends UDP datagrams to one address and port, as fast as it can or at a
 * fixed rate, and stops by itself: after --duration seconds (at most 600)
 * or --count packets, whichever comes first.  Both bounds are mandatory in
 * effect: the duration defaults to 1 s.  At the end it prints one line:
 *
 *   sent=N errors=N seconds=S pps=P
 *
 * sendmmsg() sends a burst per system call, so the sender costs little next
 * to the kernel's per-packet work that the benchmarks want to exercise.  A
 * full socket buffer (ENOBUFS/EAGAIN) is counted in errors and retried: the
 * rate is an upper bound, never exceeded.
 */

#define BURST_MAX 64
#define DURATION_MAX 600.0

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
        fputs("Usage: floodgen [OPTIONS] ADDRESS PORT\n"
              "\n"
              "Send UDP datagrams to ADDRESS:PORT (IPv4 or IPv6) until the duration or\n"
              "count is reached.  Meant to run inside a network namespace made for a\n"
              "benchmark; never point it at an address you do not own.\n"
              "\n"
              "Options:\n"
              "  -d, --duration SEC   stop after SEC seconds (default 1, at most 600)\n"
              "  -c, --count N        stop after N packets (default: no count limit)\n"
              "  -r, --rate PPS       at most PPS packets per second (default: unlimited)\n"
              "  -s, --size BYTES     UDP payload size (default 18, at most 1400)\n"
              "  -b, --burst N        datagrams per sendmmsg() call (default 32, at most 64)\n"
              "  -p, --sport PORT     source port (default: chosen by the kernel)\n"
              "  -h, --help           show this help\n",
              f);
}

static int parse_num(const char *what, const char *s, double lo, double hi, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || v < lo || v > hi) {
                fprintf(stderr, "floodgen: invalid %s '%s': expected %g to %g\n", what, s, lo, hi);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"duration", required_argument, NULL, 'd'}, {"count", required_argument, NULL, 'c'},
            {"rate", required_argument, NULL, 'r'},     {"size", required_argument, NULL, 's'},
            {"burst", required_argument, NULL, 'b'},    {"sport", required_argument, NULL, 'p'},
            {"help", no_argument, NULL, 'h'},           {},
        };
        double duration = 1, count = 0, rate = 0, size = 18, burst = 32, sport = 0, port;
        struct sockaddr_storage dst = {0}, src = {0};
        struct mmsghdr msgs[BURST_MAX];
        struct iovec iov;
        static char payload[1400];
        uint64_t sent = 0, errors = 0, start, deadline, now, limit;
        socklen_t dlen;
        int c, fd, family;

        while ((c = getopt_long(argc, argv, "d:c:r:s:b:p:h", longopts, NULL)) >= 0) {
                int r = 0;

                switch (c) {
                case 'd':
                        r = parse_num("duration", optarg, 0.001, DURATION_MAX, &duration);
                        break;
                case 'c':
                        r = parse_num("count", optarg, 1, 1e12, &count);
                        break;
                case 'r':
                        r = parse_num("rate", optarg, 1, 1e9, &rate);
                        break;
                case 's':
                        r = parse_num("size", optarg, 0, sizeof(payload), &size);
                        break;
                case 'b':
                        r = parse_num("burst", optarg, 1, BURST_MAX, &burst);
                        break;
                case 'p':
                        r = parse_num("source port", optarg, 1, 65535, &sport);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
                if (r < 0)
                        return 2;
        }
        if (argc - optind != 2) {
                usage(stderr);
                return 2;
        }
        if (parse_num("port", argv[optind + 1], 1, 65535, &port) < 0)
                return 2;

        if (inet_pton(AF_INET, argv[optind], &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
                family = AF_INET;
                ((struct sockaddr_in *)&dst)->sin_family = AF_INET;
                ((struct sockaddr_in *)&dst)->sin_port = htons((uint16_t)port);
                ((struct sockaddr_in *)&src)->sin_family = AF_INET;
                ((struct sockaddr_in *)&src)->sin_port = htons((uint16_t)sport);
                dlen = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, argv[optind], &((struct sockaddr_in6 *)&dst)->sin6_addr) ==
                   1) {
                family = AF_INET6;
                ((struct sockaddr_in6 *)&dst)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *)&dst)->sin6_port = htons((uint16_t)port);
                ((struct sockaddr_in6 *)&src)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *)&src)->sin6_port = htons((uint16_t)sport);
                dlen = sizeof(struct sockaddr_in6);
        } else {
                fprintf(stderr, "floodgen: '%s' is not an IPv4 or IPv6 address\n", argv[optind]);
                return 2;
        }

        fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                perror("floodgen: socket");
                return 1;
        }
        if (sport && bind(fd, (struct sockaddr *)&src, dlen) < 0) {
                perror("floodgen: bind");
                return 1;
        }
        /* connect(): no per-packet route lookup in the sender, so the flood
         * measures the stack's receive side and the tracing, not ours. */
        if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
                perror("floodgen: connect");
                return 1;
        }
        memset(payload, 's', sizeof(payload));
        iov = (struct iovec){.iov_base = payload, .iov_len = (size_t)size};
        for (int i = 0; i < BURST_MAX; i++)
                msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};

        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        limit = count > 0 ? (uint64_t)count : UINT64_MAX;
        start = now_ns();
        deadline = start + (uint64_t)(duration * 1e9);
        while (!stop && sent < limit && (now = now_ns()) < deadline) {
                unsigned n = (unsigned)burst;
                int r;

                if (rate > 0) {
                        /* Packets allowed by now; sleep until the next one is due. */
                        uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9) + 1;

                        if (due <= sent) {
                                uint64_t at = start + (uint64_t)((double)sent * 1e9 / rate);
                                struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ULL),
                                                      .tv_nsec = (long)(at % 1000000000ULL)};

                                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                                continue;
                        }
                        if (due - sent < n)
                                n = (unsigned)(due - sent);
                }
                if (limit - sent < n)
                        n = (unsigned)(limit - sent);
                r = sendmmsg(fd, msgs, n, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) {
                                /* ECONNREFUSED: an ICMP port unreachable came back on the
                                 * connected socket; the next send goes out as usual. */
                                errors++;
                                continue;
                        }
                        perror("floodgen: sendmmsg");
                        return 1;
                }
                sent += (uint64_t)r;
        }
        now = now_ns();
        printf("sent=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f pps=%.0f\n", sent, errors,
               (double)(now - start) / 1e9, (double)sent * 1e9 / (double)(now - start));
        return 0;
}
