/* SPDX-License-Identifier: GPL-2.0-only */
/* main.c - skbtraced: command line, config file, logging set-up, run */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "filter_spec.h"
#include "log.h"
#include "skbtraced.h"

/*
 * The probe groups when no --groups is given: the installed file, or, for the
 * binary of a build tree while nothing is installed (scripts/demo.sh, the
 * README's walkthrough), the source tree's.  Only that exact binary falls back,
 * so an installed daemon never reads a build user's files.
 */
static const char *default_groups_path(void)
{
#ifdef SKBT_BUILD_DAEMON
        char exe[PATH_MAX], build[PATH_MAX];
        ssize_t n;

        if (access(SKBT_DEFAULT_GROUPS, F_OK) == 0)
                return SKBT_DEFAULT_GROUPS;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0 || !realpath(SKBT_BUILD_DAEMON, build))
                return SKBT_DEFAULT_GROUPS;
        exe[n] = '\0';
        if (strcmp(exe, build) == 0 && access(SKBT_SOURCE_GROUPS, R_OK) == 0)
                return SKBT_SOURCE_GROUPS;
#endif
        return SKBT_DEFAULT_GROUPS;
}

static void help(void)
{
        printf(
            "Usage: skbtraced [OPTIONS]\n"
            "\n"
            "Trace where packets go in the kernel: keep BPF programs attached to every\n"
            "traceable function and tracepoint that takes a struct sk_buff, and serve trace\n"
            "sessions to ipftctl over a Unix socket.\n"
            "\n"
            "Options:\n"
            "  -s, --socket PATH       control socket (default %s)\n"
            "  -c, --config PATH       config file (default %s; settings given\n"
            "                          here on the command line win over it)\n"
            "  -b, --backend NAME      auto|fentry|kprobe-multi|kprobe|tracepoint (default auto:\n"
            "                          probe what loads and attaches on this kernel)\n"
            "      --group NAME        group allowed to use the socket (default %s)\n"
            "      --ringbuf-size MB   BPF ring buffer size in MiB, a power of 2 (default 8)\n"
            "      --probes REGEX      attach only probes whose name matches (PCRE2 syntax,\n"
            "                          without back-references; see skbtraced(8) LIMITS);\n"
            "                          default: every skb function and tracepoint\n"
            "      --groups PATH       probe groups for 'ipftctl trace -g' (default %s)\n"
            "      --no-return-probes  no fexit/kretprobes: no function_graph tracer\n"
            "      --queue-size KB     per-session output queue in KiB before events are\n"
            "                          dropped and counted as lost (default 8192)\n"
            "      --idle-detach-after SEC  detach a probe this long after the last session\n"
            "                          that needed it ended (programs stay loaded; default\n"
            "                          10, 0: at once, never: keep what was attached)\n"
            "      --keep-attached WHAT  probes attached even with no session: none (default),\n"
            "                          all, or a regex over probe names; costs every packet\n"
            "                          that passes them (skbtraced(8))\n"
            "      --default-probes SET  probes of a session that chooses none: groups\n"
            "                          (default: those the groups file names, and the drop\n"
            "                          probes; all without a groups file) or all (every skb\n"
            "                          function and tracepoint)\n"
            "\n"
            "Limits (also in the config file):\n"
            "      --max-sessions N            sessions at once, 1-64 (default 64)\n"
            "      --max-sessions-per-user N   per non-root user (default 16)\n"
            "      --max-duration TIME         longest session: seconds or 30m, 2h, 1d\n"
            "                                  (default 0: unlimited)\n"
            "      --rate-limit N              events per second per session; the rest are\n"
            "                                  dropped and counted (default 0: unlimited)\n"
            "      --max-connections N         open connections (default 256)\n"
            "      --max-connections-per-user N  per non-root user (default 32)\n"
            "      --idle-timeout TIME         close a connection without a session that sends\n"
            "                                  no request for this long (default 30s)\n"
            "      --max-queued MB             output waiting for all clients together before\n"
            "                                  the sessions holding most drop (default 128)\n"
            "      --track-quota N             packets a non-root session may start tracking\n"
            "                                  per second (--track); the rest are counted\n"
            "                                  (default 256, 0: unlimited)\n"
            "\n"
            "  -v, --verbose           debug logging (repeat for libbpf details)\n"
            "  -h, --help              show this help\n"
            "      --version           show the version\n"
            "\n"
            "Signals: SIGTERM/SIGINT end every session (clients get their summary) and exit;\n"
            "SIGHUP re-reads the config file without ending sessions.\n"
            "See skbtraced(8) and ipftctl(1).\n",
            SKBT_DEFAULT_SOCKET, SKBT_DEFAULT_CONFIG, SKBT_DEFAULT_GROUP, default_groups_path());
}

enum {
        ARG_VERSION = 0x100,
        ARG_GROUP,
        ARG_RINGBUF,
        ARG_QUEUE,
        ARG_PROBES,
        ARG_GROUPS,
        ARG_NO_RETURNS,
        ARG_MAX_SESSIONS,
        ARG_MAX_PER_USER,
        ARG_MAX_DURATION,
        ARG_RATE_LIMIT,
        ARG_MAX_CONNECTIONS,
        ARG_MAX_CONN_PER_USER,
        ARG_IDLE_DETACH,
        ARG_IDLE_TIMEOUT,
        ARG_MAX_QUEUED,
        ARG_KEEP_ATTACHED,
        ARG_TRACK_QUOTA,
        ARG_DEFAULT_PROBES,
};

/* Options that are config settings: the same parser and checks as the file. */
static const struct {
        int opt;
        const char *name;
        const char *key;
} setting_opts[] = {
    {'b', "backend", "backend"},
    {ARG_GROUP, "group", "group"},
    {ARG_RINGBUF, "ringbuf-size", "ringbuf_size"},
    {ARG_QUEUE, "queue-size", "queue_size"},
    {ARG_MAX_SESSIONS, "max-sessions", "max_sessions"},
    {ARG_MAX_PER_USER, "max-sessions-per-user", "max_sessions_per_user"},
    {ARG_MAX_DURATION, "max-duration", "max_duration"},
    {ARG_RATE_LIMIT, "rate-limit", "rate_limit"},
    {ARG_MAX_CONNECTIONS, "max-connections", "max_connections"},
    {ARG_MAX_CONN_PER_USER, "max-connections-per-user", "max_connections_per_user"},
    {ARG_IDLE_DETACH, "idle-detach-after", "idle_detach_after"},
    {ARG_IDLE_TIMEOUT, "idle-timeout", "idle_timeout"},
    {ARG_MAX_QUEUED, "max-queued", "max_queued"},
    {ARG_KEEP_ATTACHED, "keep-attached", "keep_attached"},
    {ARG_TRACK_QUOTA, "track-quota", "track_quota"},
    {ARG_DEFAULT_PROBES, "default-probes", "default_probes"},
};

static int parse_args(int argc, char **argv, struct skbt_options *o)
{
        static const struct option longopts[] = {
            {"socket", required_argument, NULL, 's'},
            {"config", required_argument, NULL, 'c'},
            {"backend", required_argument, NULL, 'b'},
            {"group", required_argument, NULL, ARG_GROUP},
            {"ringbuf-size", required_argument, NULL, ARG_RINGBUF},
            {"queue-size", required_argument, NULL, ARG_QUEUE},
            {"probes", required_argument, NULL, ARG_PROBES},
            {"groups", required_argument, NULL, ARG_GROUPS},
            {"no-return-probes", no_argument, NULL, ARG_NO_RETURNS},
            {"max-sessions", required_argument, NULL, ARG_MAX_SESSIONS},
            {"max-sessions-per-user", required_argument, NULL, ARG_MAX_PER_USER},
            {"max-duration", required_argument, NULL, ARG_MAX_DURATION},
            {"rate-limit", required_argument, NULL, ARG_RATE_LIMIT},
            {"max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS},
            {"max-connections-per-user", required_argument, NULL, ARG_MAX_CONN_PER_USER},
            {"idle-detach-after", required_argument, NULL, ARG_IDLE_DETACH},
            {"idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT},
            {"max-queued", required_argument, NULL, ARG_MAX_QUEUED},
            {"keep-attached", required_argument, NULL, ARG_KEEP_ATTACHED},
            {"track-quota", required_argument, NULL, ARG_TRACK_QUOTA},
            {"default-probes", required_argument, NULL, ARG_DEFAULT_PROBES},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, ARG_VERSION},
            {},
        };
        char err[SKBT_ERR_MAX];
        int c;

        while ((c = getopt_long(argc, argv, "s:c:b:vh", longopts, NULL)) >= 0) {
                bool handled = false;

                for (size_t i = 0; i < ARRAY_SIZE(setting_opts); i++) {
                        if (setting_opts[i].opt != c)
                                continue;
                        if (skbt_config_set(&o->cli, setting_opts[i].key, optarg, err,
                                            sizeof(err)) < 0) {
                                fprintf(stderr, "skbtraced: --%s: %s\n", setting_opts[i].name, err);
                                return -EINVAL;
                        }
                        handled = true;
                }
                if (handled)
                        continue;
                switch (c) {
                case 's':
                        o->socket_path = optarg;
                        break;
                case 'c':
                        if (!*optarg) {
                                fprintf(stderr, "skbtraced: --config needs a path\n");
                                return -EINVAL;
                        }
                        o->config_path = optarg;
                        o->config_required = true;
                        break;
                case ARG_PROBES:
                        o->probes = optarg;
                        break;
                case ARG_GROUPS:
                        if (!*optarg) {
                                fprintf(stderr, "skbtraced: --groups needs a path\n");
                                return -EINVAL;
                        }
                        o->groups_path = optarg;
                        break;
                case ARG_NO_RETURNS:
                        o->no_returns = true;
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

/* Exit status for a bad config file: LSB "not configured", which the unit's
 * RestartPreventExitStatus= names, since restarting cannot fix it. */
#define EXIT_NOTCONFIGURED 6

/*
 * Settings in effect: built-in defaults, then the config file, then the
 * command line.  The default file may be absent; one named with --config
 * must exist.  A bad file stops the start: running with settings other than
 * the administrator wrote (limits!) would be worse than not running.
 */
static int load_settings(struct skbt_options *o)
{
        char err[SKBT_ERR_MAX + 256];
        int r;

        skbt_config_defaults(&o->cfg);
        r = skbt_config_load(o->config_path, &o->cfg, err, sizeof(err));
        if (r == -ENOENT && !o->config_required) {
                /* Kept: SIGHUP reads it should it appear later. */
                log_debug("no config file %s, using the defaults", o->config_path);
        } else if (r < 0) {
                return log_error_errno(r, "invalid configuration, not starting: %s", err);
        } else {
                log_info("configuration read from %s", o->config_path);
                o->config_loaded = true;
        }
        skbt_config_merge(&o->cfg, &o->cli);
        o->backend = o->cfg.backend;
        o->ringbuf_bytes = o->cfg.ringbuf_bytes;
        return 0;
}

int main(int argc, char **argv)
{
        struct skbt_options opt = {
            .socket_path = SKBT_DEFAULT_SOCKET,
            .config_path = SKBT_DEFAULT_CONFIG,
            .groups_path = default_groups_path(),
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
        if (load_settings(&opt) < 0)
                return EXIT_NOTCONFIGURED;
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
