/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_stop.c - ipftctl stop: end sessions by id */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "ctl.h"
#include "log.h"
#include "trace_args.h"
#include "varlink_client.h"

/* ---- stop ---- */

void stop_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] stop ID...\n"
              "\n"
              "End trace sessions by id (see 'ipftctl sessions').  Their clients receive the\n"
              "end-of-session summary with reason 'stopped'.  Users other than root can stop\n"
              "only their own sessions.\n"
              "\n"
              "Options:\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl stop 12\n"
              "  ipftctl sessions -o json | jq -r 'select(.uid == 1000) | .session' "
              "| xargs -r ipftctl stop\n",
              f);
}

/* Session ids are decimal, 1 .. 2^63-1 (the daemon's range); nothing else. */
static int parse_session_id(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!*s || *s == '0')
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (INT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return 0;
}

int cmd_stop(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"help", no_argument, NULL, 'h'},
            {},
        };
        char err[256];
        int c, ret = EXIT_OK;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        stop_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("stop", err);
                }
        }
        if (optind >= argc)
                return usage_error("stop", "missing session id (see 'ipftctl sessions')");
        /* Check every id before stopping any: a typo must not stop half the list. */
        for (int i = optind; i < argc; i++) {
                uint64_t id;

                if (parse_session_id(argv[i], &id) < 0)
                        return usage_errorf("stop",
                                            "invalid session id '%.64s': expected a number "
                                            "from 1, as 'ipftctl sessions' shows",
                                            argv[i]);
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
                json_object *rparams, *sum;
                uint64_t id;

                (void)parse_session_id(argv[i], &id);
                if (!params || json_object_object_add(params, "session",
                                                      json_object_new_int64((int64_t)id)) < 0) {
                        log_error("out of memory");
                        return EXIT_ERROR;
                }
                if (call_once(ctl, "io.skbtraced.Stop", params, &reply, &rparams) < 0) {
                        ret = EXIT_ERROR;
                        continue;
                }
                sum = member(rparams, "summary", json_type_object);
                printf("stopped session %" PRIu64 ": %" PRIu64 " events, %" PRIu64 " lost\n", id,
                       member_u64_or(sum, "events", 0),
                       member_u64_or(sum, "lost_ringbuf", 0) + member_u64_or(sum, "lost_queue", 0) +
                           member_u64_or(sum, "lost_rate", 0) +
                           member_u64_or(sum, "lost_missed", 0));
        }
        return ret;
}
