/* SPDX-License-Identifier: GPL-2.0-only */
/* commands.c - the table of ipftctl commands, and ipftctl help */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "trace_args.h"

static const struct command commands[] = {
    {"trace", cmd_trace, trace_args_usage, "trace packets matching a filter"},
    {"list", cmd_list, list_usage, "list the probes skbtraced can trace"},
    {"status", cmd_status, status_usage, "show the daemon's backend, probes and counters"},
    {"sessions", cmd_sessions, sessions_usage, "list trace sessions (yours; all as root)"},
    {"stop", cmd_stop, stop_usage, "end trace sessions by id"},
    {"show", cmd_show, show_usage, "render recordings (trace -w) again, filtered"},
    {"help", cmd_help, help_usage, "show the help of a command"},
};

const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

void main_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] COMMAND [OPTIONS]\n"
              "\n"
              "Trace packets through the Linux kernel's networking stack with skbtraced.\n"
              "\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
        fputs("\n"
              "Global options:\n"
              "      --socket PATH   control socket of skbtraced (default: $SKBTRACED_SOCKET,\n"
              "                      else " SKBT_DEFAULT_SOCKET ")\n"
              "  -h, --help          show this help\n"
              "      --version       show the version\n"
              "\n"
              "Run 'ipftctl COMMAND --help' for the options and examples of a command.\n"
              "\n"
              "Examples:\n"
              "  ipftctl trace -p icmp --addr 10.0.0.1\n"
              "  ipftctl list -r '^ip_'\n"
              "  ipftctl status\n"
              "  ipftctl sessions\n"
              "  ipftctl stop 12\n"
              "  ipftctl trace -t drop --duration 600 -w drops.jsonl.zst\n"
              "  ipftctl show drops.jsonl.zst -o aggregate\n",
              f);
}

void help_usage(FILE *f)
{
        fputs("Usage: ipftctl help [COMMAND]\n"
              "\n"
              "Show the overview, or the options and examples of COMMAND.\n"
              "\n"
              "Examples:\n"
              "  ipftctl help\n"
              "  ipftctl help trace\n",
              f);
}

int cmd_help(const struct ctl *ctl, int argc, char **argv)
{
        const struct command *cmd;

        if (argc < 2) {
                main_usage(stdout);
                return EXIT_OK;
        }
        if (argc > 2)
                return usage_errorf("help", "unexpected argument '%.64s'", argv[2]);
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                help_usage(stdout);
                return EXIT_OK;
        }
        cmd = find_command(argv[1]);
        if (!cmd)
                return usage_errorf(NULL, "unknown command '%.64s'", argv[1]);
        cmd->usage(stdout);
        return EXIT_OK;
}
