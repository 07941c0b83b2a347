/* SPDX-License-Identifier: GPL-2.0-only */
/* groups.h - probe groups (link-in, ip-out, tcp, ...) from a data file */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skbt_regex.h"

/* Limits on the data file: it is read by a privileged daemon. */
#define SKBT_GROUPS_FILE_MAX (1024 * 1024)
#define SKBT_GROUPS_MAX 256
#define SKBT_GROUP_NAME_MAX 31
#define SKBT_GROUP_PROBES_MAX 4096
#define SKBT_GROUPS_LINE_MAX 4096

struct skbt_group {
        char name[SKBT_GROUP_NAME_MAX + 1];
        int parent;        /* index of the parent group, -1 for a top-level group */
        uint32_t depth;    /* 0 for top-level groups */
        char *description; /* never NULL */
        char **probes;     /* names as 'ipftctl list' shows them */
        uint32_t n_probes;
        char *regex;           /* NULL: none */
        struct skbt_regex *re; /* compiled from regex (docs/skbtraced.8, REGULAR EXPRESSIONS) */
};

struct skbt_groups {
        char *path;
        struct skbt_group *g; /* in file order: parents before their children */
        uint32_t n;
};

/**
 * skbt_groups_parse() - parse the text of a groups file (syntax: data/groups.conf)
 * @text: the contents, NUL-terminated
 * @path: the file's name, for messages and skbt_groups.path
 * @ret: the groups, on success
 * @err: on failure, "PATH:LINE: what is wrong"
 * @errlen: size of @err
 *
 * Return: 0, -EINVAL for a syntax error, -E2BIG past a limit, -ENOMEM.
 */
int skbt_groups_parse(const char *text, const char *path, struct skbt_groups **ret, char *err,
                      size_t errlen);
/* Read and parse a file (at most SKBT_GROUPS_FILE_MAX bytes); -ENOENT etc. as from open(). */
int skbt_groups_load(const char *path, struct skbt_groups **ret, char *err, size_t errlen);
struct skbt_groups *skbt_groups_free(struct skbt_groups *gs);

/* Index of the group called name, or -ENOENT. */
int skbt_groups_find(const struct skbt_groups *gs, const char *name);
/* The group itself lists the probe, or its regex matches it. */
bool skbt_group_names(const struct skbt_groups *gs, uint32_t idx, const char *probe);
/* The group's regex matches the probe (false without one, or past a match limit). */
bool skbt_group_regex_matches(const struct skbt_group *g, const char *probe);
/* Selecting group idx selects the probe: it or a group below it names the probe. */
bool skbt_group_selects(const struct skbt_groups *gs, uint32_t idx, const char *probe);
/* The most specific group naming the probe (deepest; a listed name wins over a regex
 * at the same depth; the first in the file after that), NULL for none. */
const char *skbt_groups_probe_group(const struct skbt_groups *gs, const char *probe);
/* "link, link-in, link-out, ...": every group name, for error messages. */
void skbt_groups_names(const struct skbt_groups *gs, char *buf, size_t len);
