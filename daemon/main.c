/* SPDX-License-Identifier: GPL-2.0-only */
/* main.c - skbtraced: command line, logging set-up, run */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "filter_spec.h"
#include "log.h"
#include "skbtraced.h"

static void help(void)
{
        printf("Usage: skbtraced [OPTIONS]\n"
               "\n"
               "Trace where packets go in the kernel: keep BPF programs attached to every\n"
               "traceable function and tracepoint that takes a struct sk_buff, and serve trace\n"
               "sessions to ipftctl over a Unix socket.\n"
               "\n"
               "Options:\n"
               "  -s, --socket PATH       control socket (default %s)\n"
               "  -b, --backend NAME      auto|fentry|kprobe-multi|kprobe|tracepoint (default auto:\n"
               "                          probe what loads and attaches on this kernel)\n"
               "      --group NAME        group allowed to use the socket (default %s)\n"
               "      --ringbuf-size MB   BPF ring buffer size in MiB, a power of 2 (default 8)\n"
               "      --queue-size KB     per-client output queue in KiB before events are\n"
               "                          dropped and counted as lost (default 8192)\n"
               "  -v, --verbose           debug logging (repeat for libbpf details)\n"
               "  -h, --help              show this help\n"
               "      --version           show the version\n"
               "\n"
               "Signals: SIGTERM/SIGINT end every session (clients get their summary) and exit.\n"
               "See skbtraced(8) and ipftctl(1).\n",
               SKBT_DEFAULT_SOCKET, SKBT_DEFAULT_GROUP);
}

enum {
        ARG_VERSION = 0x100,
        ARG_GROUP,
        ARG_RINGBUF,
        ARG_QUEUE,
};

static int parse_args(int argc, char **argv, struct skbt_options *o)
{
        static const struct option longopts[] = {
                {"socket", required_argument, NULL, 's'},
                {"backend", required_argument, NULL, 'b'},
                {"group", required_argument, NULL, ARG_GROUP},
                {"ringbuf-size", required_argument, NULL, ARG_RINGBUF},
                {"queue-size", required_argument, NULL, ARG_QUEUE},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        char err[SKBT_ERR_MAX];
        uint32_t v;
        int c;

        while ((c = getopt_long(argc, argv, "s:b:vh", longopts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        o->socket_path = optarg;
                        break;
                case 'b':
                        if (skbt_backend_from_string(optarg, &o->backend) < 0) {
                                fprintf(stderr,
                                        "skbtraced: unknown backend '%s': expected auto, fentry, "
                                        "kprobe-multi, kprobe or tracepoint\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_GROUP:
                        o->group = optarg;
                        break;
                case ARG_RINGBUF:
                        if (skbt_parse_u32("ring buffer size", optarg, &v, err, sizeof(err)) < 0 ||
                            v == 0 || v > 1024 || (v & (v - 1))) {
                                fprintf(stderr,
                                        "skbtraced: invalid --ringbuf-size '%s': expected a power "
                                        "of 2 from 1 to 1024 (MiB)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o->ringbuf_bytes = v << 20;
                        break;
                case ARG_QUEUE:
                        if (skbt_parse_u32("queue size", optarg, &v, err, sizeof(err)) < 0 ||
                            v < 64 || v > 1024 * 1024) {
                                fprintf(stderr,
                                        "skbtraced: invalid --queue-size '%s': expected 64 to "
                                        "1048576 (KiB)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o->queue_bytes = (size_t)v << 10;
                        break;
                case 'v':
                        o->verbose++;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("skbtraced %s\n", SKBT_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'skbtraced --help'.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "skbtraced: unexpected argument '%s'\nTry 'skbtraced --help'.\n",
                        argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv)
{
        struct skbt_options opt = {
                .socket_path = SKBT_DEFAULT_SOCKET,
                .backend = SKBT_BACKEND_AUTO,
                .ringbuf_bytes = 8u << 20,
                .queue_bytes = (size_t)8 << 20,
                .group = SKBT_DEFAULT_GROUP,
        };
        struct skbtraced *d = NULL;
        int r;

        r = parse_args(argc, argv, &opt);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        log_set_ident("skbtraced");
        /* Under systemd, stderr goes to the journal: keep priorities, drop our name. */
        if (getenv("JOURNAL_STREAM"))
                log_set_syslog_prefix(1);
        if (opt.verbose)
                log_set_max_level(LOG_DEBUG);
        if (geteuid() != 0)
                log_warning("not running as root: loading BPF programs will likely fail");

        r = skbtraced_new(&opt, &d);
        if (r < 0)
                return 1;
        r = skbtraced_run(d);
        skbtraced_free(d);
        log_info("stopped");
        return r < 0 ? 1 : 0;
}
