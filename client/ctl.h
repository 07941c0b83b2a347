/* SPDX-License-Identifier: GPL-2.0-only */
/* ctl.h - what ipftctl's commands share: exit codes, the command table, reply accessors */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* meson generates config.h in the build root; a standalone build passes -D instead. */
#if __has_include("config.h")
#include "config.h"
#endif
#include "json_util.h"
#include "macro.h"

#ifndef SKBT_VERSION
#error "SKBT_VERSION is not defined: build with meson or pass -DSKBT_VERSION='\"x.y\"'"
#endif
#ifndef SKBT_DEFAULT_SOCKET
#error "SKBT_DEFAULT_SOCKET is not defined: build with meson or pass -DSKBT_DEFAULT_SOCKET=..."
#endif
#ifndef SKBT_DEFAULT_GROUP
#define SKBT_DEFAULT_GROUP "skbtrace"
#endif

enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1, /* runtime: error reply, connection lost, I/O error */
        EXIT_USAGE = 2, /* bad option or value: nothing was sent */
};

/* Settings every subcommand gets from the global options. */
struct ctl {
        const char *socket_path;
};

struct command {
        const char *name;
        int (*run)(const struct ctl *ctl, int argc, char **argv);
        void (*usage)(FILE *f);
        const char *summary;
};

/* commands.c: the command table, and the overview 'ipftctl --help' prints. */
const struct command *find_command(const char *name);
void main_usage(FILE *f);

/* One file per command. */
int cmd_trace(const struct ctl *ctl, int argc, char **argv);
int cmd_list(const struct ctl *ctl, int argc, char **argv);
void list_usage(FILE *f);
int cmd_status(const struct ctl *ctl, int argc, char **argv);
void status_usage(FILE *f);
int cmd_sessions(const struct ctl *ctl, int argc, char **argv);
void sessions_usage(FILE *f);
int cmd_stop(const struct ctl *ctl, int argc, char **argv);
void stop_usage(FILE *f);
int cmd_show(const struct ctl *ctl, int argc, char **argv);
void show_usage(FILE *f);
int cmd_help(const struct ctl *ctl, int argc, char **argv);
void help_usage(FILE *f);

/* ctl.c */
/* Small JSON accessors: absent and wrongly typed members read as absent. */
json_object *member(json_object *o, const char *key, json_type type);
const char *member_str(json_object *o, const char *key);
bool member_u64(json_object *o, const char *key, uint64_t *ret);
uint64_t member_u64_or(json_object *o, const char *key, uint64_t def);

/* Log msg, point to 'ipftctl [cmd] --help'; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *msg);
int usage_errorf(const char *cmd, const char *fmt, ...) _printf_(2, 3);
