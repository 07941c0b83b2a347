/* SPDX-License-Identifier: GPL-2.0-only */
/* main.c - ipftctl, the command-line client of skbtraced: global options, then a command */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "log.h"
#include "msgframe.h"
#include "trace_args.h"

/* A failed write to stdout must not pass for success, except a closed pipe
 * (| head): the reader then has all it wanted. */
static int finish_stdout(int ret)
{
        if (fflush(stdout) == 0 && !ferror(stdout))
                return ret;
        if (errno == EPIPE)
                return ret;
        log_error_errno(negative_errno(), "cannot write to standard output: %m");
        return ret == EXIT_OK ? EXIT_ERROR : ret;
}

int main(int argc, char **argv)
{
        enum {
                OPT_SOCKET = 0x100,
                OPT_VERSION,
        };
        static const struct option longopts[] = {
            {"socket", required_argument, NULL, OPT_SOCKET},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {},
        };
        struct ctl ctl = {};
        const struct command *cmd;
        const char *env;
        char err[256];
        int c;

        log_set_ident("ipftctl");
        /* A closed stdout or socket must surface as EPIPE where it is written, so it
         * can be handled (quietly for | head), not kill the process silently. */
        signal(SIGPIPE, SIG_IGN);

        /* '+': stop at the command name; its options belong to the command. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
                switch (c) {
                case OPT_SOCKET:
                        if (!*optarg)
                                return usage_error(NULL, "--socket needs a non-empty path");
                        ctl.socket_path = optarg;
                        break;
                case 'h':
                        main_usage(stdout);
                        return finish_stdout(EXIT_OK);
                case OPT_VERSION:
                        printf("ipftctl %s (protocol %d)\n", SKBT_VERSION, SKBT_PROTOCOL_VERSION);
                        return finish_stdout(EXIT_OK);
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error(NULL, err);
                }
        }
        if (!ctl.socket_path) {
                env = getenv("SKBTRACED_SOCKET");
                ctl.socket_path = env && *env ? env : SKBT_DEFAULT_SOCKET;
        }

        if (optind >= argc)
                return usage_error(NULL,
                                   "missing command (trace, show, list, status, sessions, stop "
                                   "or help)");
        cmd = find_command(argv[optind]);
        if (!cmd)
                return usage_errorf(NULL, "unknown command '%.64s'", argv[optind]);
        return finish_stdout(cmd->run(&ctl, argc - optind, argv + optind));
}
