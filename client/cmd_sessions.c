/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_sessions.c - ipftctl sessions: who is tracing what */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "filter_spec.h"
#include "log.h"
#include "trace_args.h"
#include "varlink_client.h"

/* ---- sessions ---- */

void sessions_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] sessions [OPTIONS]\n"
              "\n"
              "List the trace sessions running in skbtraced: your own, or every session when\n"
              "run as root.  LOST counts events lost in the ring buffer, in the session's\n"
              "queue (client too slow) and over the rate limit.  The number of sessions goes\n"
              "to standard error.\n"
              "\n"
              "Options:\n"
              "  -o, --output FORMAT    text (a table, default) or json (one object per line)\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl sessions\n"
              "  ipftctl sessions -o json | jq -r 'select(.lost_queue > 0) | .session'\n",
              f);
}

/* User name of uid, or the number; buf must hold it. */
static const char *user_name(uint64_t uid, char *buf, size_t len)
{
        struct passwd *pw = getpwuid((uid_t)uid);

        if (pw)
                return pw->pw_name;
        snprintf(buf, len, "%" PRIu64, uid);
        return buf;
}

static void sessions_print_table(json_object *arr)
{
        size_t n = json_object_array_length(arr);

        printf("%6s %-12s %8s %-14s %-19s %10s %8s  %s\n", "ID", "USER", "PID", "TRACER", "STARTED",
               "EVENTS", "LOST", "FILTER");
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(arr, i);
                const char *tracer = member_str(o, "tracer");
                const char *filter = member_str(o, "filter_text");
                const char *regex = member_str(o, "regex");
                uint64_t started = member_u64_or(o, "started_usec", 0);
                uint64_t lost =
                    member_u64_or(o, "lost_ringbuf", 0) + member_u64_or(o, "lost_queue", 0) +
                    member_u64_or(o, "lost_rate", 0) + member_u64_or(o, "lost_missed", 0);
                char ubuf[24], tbuf[32] = "-";
                time_t t = (time_t)(started / 1000000);
                struct tm tm;

                if (started && localtime_r(&t, &tm))
                        strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%6" PRIu64 " %-12s %8" PRIu64 " %-14s %-19s %10" PRIu64 " %8" PRIu64
                       "  %s%s%s%s\n",
                       member_u64_or(o, "session", 0),
                       user_name(member_u64_or(o, "uid", 0), ubuf, sizeof(ubuf)),
                       member_u64_or(o, "pid", 0), tracer ? tracer : "?", tbuf,
                       member_u64_or(o, "events", 0), lost, filter ? filter : "?",
                       regex ? ", probes matching " : "", regex ? regex : "",
                       /* ipftctl trace -w: its client keeps the events in a file */
                       json_object_get_boolean(member(o, "record", json_type_boolean))
                           ? " (recorded)"
                           : "");
        }
}

int cmd_sessions(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"output", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_json_ json_object *reply = NULL;
        const char *output = "text";
        char err[SKBT_ERR_MAX + 128];
        json_object *params, *arr;
        size_t n;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        if (args_parse_output(optarg, &output, err, sizeof(err)) < 0)
                                return usage_error("sessions", err);
                        break;
                case 'h':
                        sessions_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("sessions", err);
                }
        }
        if (optind < argc)
                return usage_errorf("sessions", "unexpected argument '%.64s'", argv[optind]);

        r = call_once(ctl, "io.skbtraced.Sessions", NULL, &reply, &params);
        if (r < 0)
                return EXIT_ERROR;
        arr = member(params, "sessions", json_type_array);
        if (!arr) {
                log_error("malformed reply from skbtraced: no sessions array");
                return EXIT_ERROR;
        }
        n = json_object_array_length(arr);
        if (strcmp(output, "json") == 0) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n",
                               json_object_to_json_string_ext(json_object_array_get_idx(arr, i),
                                                              JSON_C_TO_STRING_PLAIN));
        } else {
                sessions_print_table(arr);
        }
        fflush(stdout);
        fprintf(stderr, "%zu session%s\n", n, n == 1 ? "" : "s");
        return EXIT_OK;
}
