/* SPDX-License-Identifier: GPL-2.0-only */
/* groups.c - probe groups (link-in, ip-out, tcp, ...) from a data file */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "groups.h"
#include "macro.h"

static int _printf_(5, 6)
    fail(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (err && errlen)
                snprintf(err, errlen, "%s:%u: %s", path, line, msg);
        return -EINVAL;
}

static void group_done(struct skbt_group *g)
{
        for (uint32_t i = 0; i < g->n_probes; i++)
                free(g->probes[i]);
        free(g->probes);
        free(g->description);
        skbt_regex_free(g->re);
        free(g->regex);
}

struct skbt_groups *skbt_groups_free(struct skbt_groups *gs)
{
        if (!gs)
                return NULL;
        for (uint32_t i = 0; i < gs->n; i++)
                group_done(&gs->g[i]);
        free(gs->g);
        free(gs->path);
        free(gs);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_groups *, skbt_groups_free);

int skbt_groups_find(const struct skbt_groups *gs, const char *name)
{
        for (uint32_t i = 0; gs && i < gs->n; i++)
                if (strcmp(gs->g[i].name, name) == 0)
                        return (int)i;
        return -ENOENT;
}

static bool valid_name(const char *s, size_t n)
{
        if (n == 0 || n > SKBT_GROUP_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

/* Probe names: what kernel symbols and "system:tracepoint" contain. */
static bool valid_probe(const char *s, size_t n)
{
        if (n == 0 || n > 127)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == ':'))
                        return false;
        }
        return true;
}

static char *strip(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

static int add_probes(struct skbt_group *g, char *list, char *err, size_t errlen, const char *path,
                      unsigned line)
{
        char *save = NULL;

        for (char *w = strtok_r(list, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char **np;

                if (!valid_probe(w, strlen(w)))
                        return fail(err, errlen, path, line,
                                    "invalid probe name '%.64s': expected a function or "
                                    "SYSTEM:TRACEPOINT name",
                                    w);
                if (g->n_probes >= SKBT_GROUP_PROBES_MAX) {
                        fail(err, errlen, path, line, "group %s lists more than %d probes", g->name,
                             SKBT_GROUP_PROBES_MAX);
                        return -E2BIG;
                }
                np = reallocarray(g->probes, g->n_probes + 1, sizeof(*np));
                if (!np)
                        return -ENOMEM;
                g->probes = np;
                g->probes[g->n_probes] = strdup(w);
                if (!g->probes[g->n_probes])
                        return -ENOMEM;
                g->n_probes++;
        }
        return 0;
}

/* Where skbt_groups_parse() is: the groups so far, the one being read, the line. */
struct groups_parser {
        struct skbt_groups *gs;
        struct skbt_group *cur;
        const char *path;
        unsigned line;
        char *err;
        size_t errlen;
};

/* "[NAME]": a new group. */
static int parse_section(struct groups_parser *ps, char *s)
{
        struct skbt_groups *gs = ps->gs;
        char *close = strchr(s, ']');
        struct skbt_group *ng;

        if (!close || close[1] != '\0')
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "expected [NAME] on a line of its own");
        *close = '\0';
        if (!valid_name(s + 1, strlen(s + 1)))
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "invalid group name '%.40s': a-z, 0-9 and '-', at most %d characters",
                            s + 1, SKBT_GROUP_NAME_MAX);
        if (skbt_groups_find(gs, s + 1) >= 0)
                return fail(ps->err, ps->errlen, ps->path, ps->line, "group %s defined twice",
                            s + 1);
        if (gs->n >= SKBT_GROUPS_MAX) {
                fail(ps->err, ps->errlen, ps->path, ps->line, "more than %d groups",
                     SKBT_GROUPS_MAX);
                return -E2BIG;
        }
        ng = reallocarray(gs->g, gs->n + 1, sizeof(*ng));
        if (!ng)
                return -ENOMEM;
        gs->g = ng;
        ps->cur = &gs->g[gs->n++];
        *ps->cur = (struct skbt_group){.parent = -1};
        strcpy(ps->cur->name, s + 1);
        ps->cur->description = strdup("");
        return ps->cur->description ? 0 : -ENOMEM;
}

static int set_parent(struct groups_parser *ps, const char *val)
{
        struct skbt_group *cur = ps->cur;
        int idx = skbt_groups_find(ps->gs, val);

        if (cur->parent >= 0)
                return fail(ps->err, ps->errlen, ps->path, ps->line, "group %s has two parents",
                            cur->name);
        if (idx < 0 || &ps->gs->g[idx] == cur)
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "parent '%.40s' is not a group defined above", val);
        cur->parent = idx;
        cur->depth = ps->gs->g[idx].depth + 1;
        return 0;
}

static int set_regex(struct groups_parser *ps, const char *val)
{
        struct skbt_group *cur = ps->cur;
        char msg[512];
        int r;

        if (cur->regex)
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "group %s has two regexes: combine them with '|'", cur->name);
        r = skbt_regex_new(val, &cur->re, msg, sizeof(msg));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(ps->err, ps->errlen, ps->path, ps->line, "%s", msg);
        cur->regex = strdup(val);
        return cur->regex ? 0 : -ENOMEM;
}

/* "KEY = VALUE" of the group being read. */
static int parse_setting(struct groups_parser *ps, char *s)
{
        char *eq = strchr(s, '='), *key, *val;

        if (!eq)
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "expected KEY = VALUE or [NAME]");
        *eq = '\0';
        key = strip(s);
        val = strip(eq + 1);
        if (!ps->cur)
                return fail(ps->err, ps->errlen, ps->path, ps->line,
                            "'%.32s' before the first [NAME]", key);
        if (strcmp(key, "parent") == 0)
                return set_parent(ps, val);
        if (strcmp(key, "description") == 0) {
                free(ps->cur->description);
                ps->cur->description = strdup(val);
                return ps->cur->description ? 0 : -ENOMEM;
        }
        if (strcmp(key, "probes") == 0)
                return add_probes(ps->cur, val, ps->err, ps->errlen, ps->path, ps->line);
        if (strcmp(key, "regex") == 0)
                return set_regex(ps, val);
        return fail(ps->err, ps->errlen, ps->path, ps->line,
                    "unknown key '%.32s': expected parent, description, probes or regex", key);
}

int skbt_groups_parse(const char *text, const char *path, struct skbt_groups **ret, char *err,
                      size_t errlen)
{
        _cleanup_(skbt_groups_freep) struct skbt_groups *gs = NULL;
        struct groups_parser ps = {.path = path, .err = err, .errlen = errlen};
        const char *p = text;
        int r;

        gs = calloc(1, sizeof(*gs));
        if (!gs)
                return -ENOMEM;
        gs->path = strdup(path);
        if (!gs->path)
                return -ENOMEM;
        ps.gs = gs;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                char buf[SKBT_GROUPS_LINE_MAX + 1], *s;

                ps.line++;
                if (len > SKBT_GROUPS_LINE_MAX)
                        return fail(err, errlen, path, ps.line, "line longer than %d bytes",
                                    SKBT_GROUPS_LINE_MAX);
                memcpy(buf, p, len);
                buf[len] = '\0';
                p = nl ? nl + 1 : p + len;
                if (memchr(buf, '\0', len))
                        return fail(err, errlen, path, ps.line, "NUL byte in the line");
                s = strip(buf);
                if (!*s || *s == '#')
                        continue;
                r = *s == '[' ? parse_section(&ps, s) : parse_setting(&ps, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(gs);
        return 0;
}

int skbt_groups_load(const char *path, struct skbt_groups **ret, char *err, size_t errlen)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = negative_errno();

                snprintf(err, errlen, "cannot open %s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SKBT_GROUPS_FILE_MAX) {
                snprintf(err, errlen, "%s is not a regular file of at most %d bytes", path,
                         SKBT_GROUPS_FILE_MAX);
                return -EINVAL;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + size, (size_t)st.st_size - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size += (size_t)n;
        }
        buf[size] = '\0';
        if (strlen(buf) != size) {
                snprintf(err, errlen, "%s contains a NUL byte", path);
                return -EINVAL;
        }
        return skbt_groups_parse(buf, path, ret, err, errlen);
}

bool skbt_group_regex_matches(const struct skbt_group *g, const char *probe)
{
        /* The file is the operator's: a pattern past a match limit matches nothing. */
        return g->re && skbt_regex_match(g->re, probe) == 1;
}

bool skbt_group_names(const struct skbt_groups *gs, uint32_t idx, const char *probe)
{
        const struct skbt_group *g = &gs->g[idx];

        for (uint32_t i = 0; i < g->n_probes; i++)
                if (strcmp(g->probes[i], probe) == 0)
                        return true;
        return skbt_group_regex_matches(g, probe);
}

static bool below(const struct skbt_groups *gs, uint32_t idx, uint32_t ancestor)
{
        for (int i = (int)idx; i >= 0; i = gs->g[i].parent)
                if ((uint32_t)i == ancestor)
                        return true;
        return false;
}

bool skbt_group_selects(const struct skbt_groups *gs, uint32_t idx, const char *probe)
{
        for (uint32_t i = idx; i < gs->n; i++)
                if (below(gs, i, idx) && skbt_group_names(gs, i, probe))
                        return true;
        return false;
}

const char *skbt_groups_probe_group(const struct skbt_groups *gs, const char *probe)
{
        const struct skbt_group *best = NULL;
        bool best_listed = false;

        for (uint32_t i = 0; gs && i < gs->n; i++) {
                const struct skbt_group *g = &gs->g[i];
                bool listed = false;

                for (uint32_t k = 0; k < g->n_probes && !listed; k++)
                        listed = strcmp(g->probes[k], probe) == 0;
                if (!listed && !skbt_group_regex_matches(g, probe))
                        continue;
                if (!best || g->depth > best->depth ||
                    (g->depth == best->depth && listed && !best_listed)) {
                        best = g;
                        best_listed = listed;
                }
        }
        return best ? best->name : NULL;
}

void skbt_groups_names(const struct skbt_groups *gs, char *buf, size_t len)
{
        size_t pos = 0;

        if (!len)
                return;
        buf[0] = '\0';
        for (uint32_t i = 0; gs && i < gs->n && pos < len; i++) {
                int n = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", gs->g[i].name);

                if (n < 0)
                        break;
                pos += (size_t)n;
        }
}
