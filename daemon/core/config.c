/* SPDX-License-Identifier: GPL-2.0-only */
/* config.c - parse /etc/skbtraced/skbtraced.conf and merge it with the command line */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* meson generates config.h in the build root; it has the default group name. */
#include "config.h"
#include "filter_spec.h"
#include "macro.h"
#include "skbt_abi.h"
#include "skbt_config.h"
#include "skbt_regex.h"
#include "util.h"

#define MAX_DURATION_SEC (366ULL * 86400)
#define MAX_RATE_LIMIT 10000000U
#define MAX_CONNECTIONS 4096U

void skbt_config_defaults(struct skbt_config *c)
{
        *c = (struct skbt_config){
            .backend = SKBT_BACKEND_AUTO,
            .ringbuf_bytes = 8u << 20,
            .queue_bytes = (size_t)8 << 20,
            .max_sessions = SKBT_MAX_SESSIONS,
            .max_sessions_per_user = 16,
            .max_duration_usec = 0,
            .rate_limit = 0,
            .max_connections = 256,
            .max_connections_per_user = 32,
            .idle_detach_usec = SKBT_IDLE_DETACH_DEFAULT_USEC,
            .idle_timeout_usec = SKBT_IDLE_TIMEOUT_DEFAULT_USEC,
            .max_queued_bytes = (size_t)128 << 20,
            .track_quota = SKBT_TRACK_QUOTA_DEFAULT,
            .default_probes = SKBT_DEFAULT_PROBES,
        };
        snprintf(c->group, sizeof(c->group), "%s", SKBT_DEFAULT_GROUP);
        snprintf(c->keep_attached, sizeof(c->keep_attached), "none");
}

/*
 * The backend names, as caps.c spells them.  Duplicated here so that this
 * file (and its unit test) does not pull in the BPF capability probe;
 * tests/unit/test_config.c checks every name.
 */
static const char *const backend_names[] = {
    [SKBT_BACKEND_FENTRY] = "fentry",
    [SKBT_BACKEND_KPROBE_MULTI] = "kprobe-multi",
    [SKBT_BACKEND_KPROBE] = "kprobe",
    [SKBT_BACKEND_TRACEPOINT] = "tracepoint",
};

/* POSIX portable user/group names (useradd's rule), at most 32 bytes. */
static bool valid_group_name(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 32 || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
                      (ch == '$' && i == n - 1)))
                        return false;
        }
        return true;
}

int skbt_parse_duration_sec(const char *s, uint64_t *ret_usec)
{
        static const struct {
                char suffix;
                uint64_t sec;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
        char num[24];
        size_t n = strlen(s);
        uint64_t mult = 1;
        uint32_t v;
        char err[SKBT_ERR_MAX];

        if (n == 0 || n >= sizeof(num))
                return -EINVAL;
        memcpy(num, s, n + 1);
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (num[n - 1] == units[i].suffix) {
                        mult = units[i].sec;
                        num[--n] = '\0';
                        break;
                }
        /* Decimal only: "0x10m" would be a strange way to write a duration. */
        if (n == 0 || (num[0] == '0' && n != 1))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (num[i] < '0' || num[i] > '9')
                        return -EINVAL;
        if (skbt_parse_u32("duration", num, &v, err, sizeof(err)) < 0)
                return -EINVAL;
        if ((uint64_t)v * mult > MAX_DURATION_SEC)
                return -ERANGE;
        *ret_usec = (uint64_t)v * mult * 1000000ULL;
        return 0;
}

/* "none", "all", or a regular expression that compiles (skbt_regex.h). */
static int parse_keep_attached(const char *value, struct skbt_config *c, char *err, size_t errlen)
{
        struct skbt_regex *re = NULL;
        char msg[SKBT_ERR_MAX];

        if (strlen(value) >= sizeof(c->keep_attached))
                return skbt_fail(err, errlen, "keep_attached is longer than %zu bytes",
                                 sizeof(c->keep_attached) - 1);
        if (strcmp(value, "none") != 0 && strcmp(value, "all") != 0) {
                if (skbt_regex_new(value, &re, msg, sizeof(msg)) < 0)
                        return skbt_fail(
                            err, errlen,
                            "invalid keep_attached '%.64s': %s (expected none, all, or "
                            "a regular expression over probe names)",
                            value, msg);
                skbt_regex_free(re);
        }
        snprintf(c->keep_attached, sizeof(c->keep_attached), "%s", value);
        c->set |= SKBT_CFG_KEEP_ATTACHED;
        return 0;
}

/* "groups" or "all": the probes of a session that chooses none (trace_params.h). */
static int parse_default_probes(const char *value, struct skbt_config *c, char *err, size_t errlen)
{
        enum skbt_probe_set ps;

        if (skbt_probe_set_from_string(value, &ps) < 0)
                return skbt_fail(err, errlen,
                                 "invalid default_probes '%.64s': expected groups (the probes "
                                 "the groups file names, and the drop probes) or all",
                                 value);
        c->default_probes = (uint8_t)ps;
        c->set |= SKBT_CFG_DEFAULT_PROBES;
        return 0;
}

int skbt_parse_idle_detach(const char *s, int64_t *ret_usec)
{
        uint64_t whole = 0, frac = 0, scale = 1000000;
        size_t i = 0, n = strlen(s), digits = 0;
        bool negative = false;

        if (strcmp(s, "never") == 0) {
                *ret_usec = SKBT_IDLE_DETACH_NEVER;
                return 0;
        }
        if (n > 0 && s[n - 1] == 's')
                n--;
        if (i < n && s[i] == '-') {
                negative = true;
                i++;
        }
        /* By hand rather than strtod(): no locale, exponents, "inf" or blanks. */
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
                whole = whole * 10 + (uint64_t)(s[i] - '0');
                if (whole > MAX_DURATION_SEC)
                        return -ERANGE;
        }
        if (i < n && s[i] == '.') {
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t)(s[i] - '0') * scale;
                        }
        }
        if (digits == 0 || i != n)
                return -EINVAL;
        if (negative) {
                *ret_usec = SKBT_IDLE_DETACH_NEVER;
                return 0;
        }
        *ret_usec = (int64_t)(whole * 1000000ULL + frac);
        return 0;
}

/* Decimal or 0x number in [min, max]. */
static int parse_range(const char *key, const char *value, uint32_t min, uint32_t max,
                       const char *unit, uint32_t *ret, char *err, size_t errlen)
{
        uint32_t v;

        if (skbt_parse_u32(key, value, &v, err, errlen) < 0 || v < min || v > max)
                return skbt_fail(err, errlen,
                                 "invalid %s '%.64s': expected a number from %u to %u%s%s", key,
                                 value, min, max, unit ? " " : "", unit ? unit : "");
        *ret = v;
        return 0;
}

static int set_backend(struct skbt_config *c, const char *value, char *err, size_t errlen)
{
        bool found = strcmp(value, "auto") == 0;

        if (found)
                c->backend = SKBT_BACKEND_AUTO;
        for (int b = 0; !found && b < _SKBT_BACKEND_MAX; b++)
                if (strcmp(value, backend_names[b]) == 0) {
                        c->backend = (enum skbt_backend)b;
                        found = true;
                }
        if (!found)
                return skbt_fail(err, errlen,
                                 "unknown backend '%.64s': expected auto, fentry, kprobe-multi, "
                                 "kprobe or tracepoint",
                                 value);
        c->set |= SKBT_CFG_BACKEND;
        return 0;
}

static int set_ringbuf_size(struct skbt_config *c, const char *value, char *err, size_t errlen)
{
        uint32_t v;
        int r;

        r = parse_range("ringbuf_size", value, 1, 1024, "(MiB)", &v, err, errlen);
        if (r < 0)
                return r;
        if (v & (v - 1))
                return skbt_fail(err, errlen,
                                 "invalid ringbuf_size '%.64s': expected a power of 2 from 1 to "
                                 "1024 (MiB)",
                                 value);
        c->ringbuf_bytes = v << 20;
        c->set |= SKBT_CFG_RINGBUF;
        return 0;
}

int skbt_config_set(struct skbt_config *c, const char *key, const char *value, char *err,
                    size_t errlen)
{
        uint32_t v;
        int r;

        if (strcmp(key, "group") == 0) {
                if (!valid_group_name(value))
                        return skbt_fail(err, errlen,
                                         "invalid group '%.64s': expected a group name (letters, "
                                         "digits, '_', '-', '.', at most 32 bytes)",
                                         value);
                snprintf(c->group, sizeof(c->group), "%s", value);
                c->set |= SKBT_CFG_GROUP;
        } else if (strcmp(key, "backend") == 0) {
                return set_backend(c, value, err, errlen);
        } else if (strcmp(key, "ringbuf_size") == 0) {
                return set_ringbuf_size(c, value, err, errlen);
        } else if (strcmp(key, "queue_size") == 0) {
                r = parse_range(key, value, 64, 1024 * 1024, "(KiB)", &v, err, errlen);
                if (r < 0)
                        return r;
                c->queue_bytes = (size_t)v << 10;
                c->set |= SKBT_CFG_QUEUE;
        } else if (strcmp(key, "max_sessions") == 0) {
                r = parse_range(key, value, 1, SKBT_MAX_SESSIONS, NULL, &c->max_sessions, err,
                                errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_MAX_SESSIONS;
        } else if (strcmp(key, "max_sessions_per_user") == 0) {
                r = parse_range(key, value, 1, SKBT_MAX_SESSIONS, NULL, &c->max_sessions_per_user,
                                err, errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_MAX_PER_USER;
        } else if (strcmp(key, "max_duration") == 0) {
                r = skbt_parse_duration_sec(value, &c->max_duration_usec);
                if (r < 0)
                        return skbt_fail(err, errlen,
                                         "invalid max_duration '%.64s': expected seconds, or a "
                                         "number with s, m, h or d, at most 366d; 0 for unlimited",
                                         value);
                c->set |= SKBT_CFG_MAX_DURATION;
        } else if (strcmp(key, "rate_limit") == 0) {
                r = parse_range(key, value, 0, MAX_RATE_LIMIT, "(events per second, 0: unlimited)",
                                &c->rate_limit, err, errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_RATE_LIMIT;
        } else if (strcmp(key, "max_connections") == 0) {
                r = parse_range(key, value, 1, MAX_CONNECTIONS, NULL, &c->max_connections, err,
                                errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_MAX_CONNECTIONS;
        } else if (strcmp(key, "max_connections_per_user") == 0) {
                r = parse_range(key, value, 1, MAX_CONNECTIONS, NULL, &c->max_connections_per_user,
                                err, errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_MAX_CONN_PER_USER;
        } else if (strcmp(key, "idle_detach_after") == 0) {
                r = skbt_parse_idle_detach(value, &c->idle_detach_usec);
                if (r < 0)
                        return skbt_fail(
                            err, errlen,
                            "invalid idle_detach_after '%.64s': expected seconds (0.5, "
                            "10, 30s; at most 366 days), 0 to detach at once, or never",
                            value);
                c->set |= SKBT_CFG_IDLE_DETACH;
        } else if (strcmp(key, "max_queued") == 0) {
                r = parse_range(key, value, 0, 1024 * 1024, "(MiB, 0: no budget)", &v, err, errlen);
                if (r < 0)
                        return r;
                c->max_queued_bytes = (size_t)v << 20;
                c->set |= SKBT_CFG_MAX_QUEUED;
        } else if (strcmp(key, "track_quota") == 0) {
                r = parse_range(key, value, 0, 1000 * 1000, "(packets per second, 0: unlimited)",
                                &c->track_quota, err, errlen);
                if (r < 0)
                        return r;
                c->set |= SKBT_CFG_TRACK_QUOTA;
        } else if (strcmp(key, "idle_timeout") == 0) {
                r = skbt_parse_duration_sec(value, &c->idle_timeout_usec);
                if (r < 0 || c->idle_timeout_usec == 0)
                        return skbt_fail(
                            err, errlen,
                            "invalid idle_timeout '%.64s': expected seconds, or a number "
                            "with s, m, h or d, from 1s to 366d",
                            value);
                c->set |= SKBT_CFG_IDLE_TIMEOUT;
        } else if (strcmp(key, "keep_attached") == 0) {
                return parse_keep_attached(value, c, err, errlen);
        } else if (strcmp(key, "default_probes") == 0) {
                return parse_default_probes(value, c, err, errlen);
        } else {
                return skbt_fail(err, errlen,
                                 "unknown setting '%.64s': expected group, backend, ringbuf_size, "
                                 "queue_size, max_sessions, max_sessions_per_user, max_duration, "
                                 "rate_limit, max_connections, max_connections_per_user, "
                                 "idle_detach_after, idle_timeout, max_queued, keep_attached, "
                                 "track_quota or default_probes",
                                 key);
        }
        return 0;
}

static bool is_blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trim blanks at both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
        while (*b < *e && is_blank(**b))
                (*b)++;
        while (*e > *b && is_blank((*e)[-1]))
                (*e)--;
}

int skbt_config_parse(const char *text, size_t len, const char *name, struct skbt_config *c,
                      char *err, size_t errlen)
{
        const char *p = text, *end = text + len;
        unsigned int seen = 0;
        char msg[SKBT_ERR_MAX];
        unsigned line = 0;

        if (memchr(text, '\0', len))
                return skbt_fail(err, errlen, "%s: contains a NUL byte: not a text file", name);
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *b = p, *e = eol ? eol : end, *eq, *kb, *ke, *vb, *ve;
                char key[64], value[256];
                unsigned int before;

                line++;
                p = eol ? eol + 1 : end;
                trim(&b, &e);
                if (b == e || *b == '#' || *b == ';')
                        continue;
                eq = memchr(b, '=', (size_t)(e - b));
                if (!eq)
                        return skbt_fail(err, errlen, "%s:%u: expected 'key = value', got '%.*s'",
                                         name, line, (int)MIN(e - b, 64), b);
                kb = b;
                ke = eq;
                vb = eq + 1;
                ve = e;
                trim(&kb, &ke);
                trim(&vb, &ve);
                if (kb == ke)
                        return skbt_fail(err, errlen, "%s:%u: missing setting name before '='",
                                         name, line);
                if ((size_t)(ke - kb) >= sizeof(key))
                        return skbt_fail(err, errlen, "%s:%u: setting name too long", name, line);
                if (vb == ve)
                        return skbt_fail(err, errlen, "%s:%u: missing value for '%.*s'", name, line,
                                         (int)(ke - kb), kb);
                if ((size_t)(ve - vb) >= sizeof(value))
                        return skbt_fail(err, errlen, "%s:%u: value too long", name, line);
                memcpy(key, kb, (size_t)(ke - kb));
                key[ke - kb] = '\0';
                memcpy(value, vb, (size_t)(ve - vb));
                value[ve - vb] = '\0';

                before = c->set;
                c->set = 0;
                if (skbt_config_set(c, key, value, msg, sizeof(msg)) < 0) {
                        c->set = before;
                        return skbt_fail(err, errlen, "%s:%u: %s", name, line, msg);
                }
                /* A second value for a key is most likely an edit gone wrong. */
                if (seen & c->set) {
                        c->set |= before;
                        return skbt_fail(err, errlen, "%s:%u: '%s' is set twice", name, line, key);
                }
                seen |= c->set;
                c->set |= before;
        }
        return 0;
}

int skbt_config_load(const char *path, struct skbt_config *c, char *err, size_t errlen)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = negative_errno();

                snprintf(err, errlen, "cannot open %s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return skbt_fail(err, errlen, "%s: not a regular file", path);
        buf = malloc(SKBT_CONFIG_MAX + 1);
        if (!buf)
                return skbt_fail(err, errlen, "%s: out of memory", path);
        /* Read one byte past the limit to tell "exactly full" from "too big". */
        while (len <= SKBT_CONFIG_MAX) {
                n = read(fd, buf + len, SKBT_CONFIG_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        snprintf(err, errlen, "cannot read %s: %m", path);
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > SKBT_CONFIG_MAX)
                return skbt_fail(err, errlen, "%s: larger than %d KiB: not a config file", path,
                                 SKBT_CONFIG_MAX / 1024);
        return skbt_config_parse(buf, len, path, c, err, errlen);
}

void skbt_config_merge(struct skbt_config *dst, const struct skbt_config *src)
{
        if (src->set & SKBT_CFG_GROUP)
                memcpy(dst->group, src->group, sizeof(dst->group));
        if (src->set & SKBT_CFG_BACKEND)
                dst->backend = src->backend;
        if (src->set & SKBT_CFG_RINGBUF)
                dst->ringbuf_bytes = src->ringbuf_bytes;
        if (src->set & SKBT_CFG_QUEUE)
                dst->queue_bytes = src->queue_bytes;
        if (src->set & SKBT_CFG_MAX_SESSIONS)
                dst->max_sessions = src->max_sessions;
        if (src->set & SKBT_CFG_MAX_PER_USER)
                dst->max_sessions_per_user = src->max_sessions_per_user;
        if (src->set & SKBT_CFG_MAX_DURATION)
                dst->max_duration_usec = src->max_duration_usec;
        if (src->set & SKBT_CFG_RATE_LIMIT)
                dst->rate_limit = src->rate_limit;
        if (src->set & SKBT_CFG_MAX_CONNECTIONS)
                dst->max_connections = src->max_connections;
        if (src->set & SKBT_CFG_MAX_CONN_PER_USER)
                dst->max_connections_per_user = src->max_connections_per_user;
        if (src->set & SKBT_CFG_IDLE_DETACH)
                dst->idle_detach_usec = src->idle_detach_usec;
        if (src->set & SKBT_CFG_IDLE_TIMEOUT)
                dst->idle_timeout_usec = src->idle_timeout_usec;
        if (src->set & SKBT_CFG_MAX_QUEUED)
                dst->max_queued_bytes = src->max_queued_bytes;
        if (src->set & SKBT_CFG_KEEP_ATTACHED)
                memcpy(dst->keep_attached, src->keep_attached, sizeof(dst->keep_attached));
        if (src->set & SKBT_CFG_TRACK_QUOTA)
                dst->track_quota = src->track_quota;
        if (src->set & SKBT_CFG_DEFAULT_PROBES)
                dst->default_probes = src->default_probes;
        dst->set |= src->set;
}
