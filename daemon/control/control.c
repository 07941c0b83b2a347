/* SPDX-License-Identifier: GPL-2.0-only */
/* control.c - the control socket: connections, framing, method dispatch */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "access.h"
#include "config.h"
#include "filter_spec.h"
#include "groups.h"
#include "log.h"
#include "pcap_filter.h"
#include "netns.h"
#include "skbtraced.h"
#include "tp_links.h"
#include "track_agg.h"

#define ERR_INVALID_PARAMETER "io.skbtraced.InvalidParameter"
#define ERR_NO_PROBES "io.skbtraced.NoMatchingProbes"
#define ERR_LIMIT "io.skbtraced.LimitReached"
#define ERR_PERMISSION_DENIED "io.skbtraced.PermissionDenied"
#define ERR_NO_SUCH_SESSION "io.skbtraced.NoSuchSession"
#define ERR_MALFORMED "io.skbtraced.MalformedRequest"
#define ERR_TOO_LARGE "io.skbtraced.RequestTooLarge"
#define ERR_SESSION_ACTIVE "io.skbtraced.SessionActive"
#define ERR_UNSUPPORTED "io.skbtraced.NotSupported"
#define ERR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define ERR_EXPECTED_MORE "org.varlink.service.ExpectedMore"

/* A client that broke the protocol gets this long to read our error reply. */
#define DRAIN_TIMEOUT_USEC (2 * 1000000ULL)

static int client_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata);

static void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

void skbt_client_queue(struct skbt_client *c, const char *data, size_t len)
{
        strbuf_put(&c->out, data, len);
}

/*
 * Replies a client has not read yet beyond which its further requests wait:
 * a client that sends without reading must not make us queue replies (a
 * List reply is hundreds of KiB) without bound.  Trace output has its own
 * bound, the session's queue_size.
 */
#define CLIENT_OUT_HIGH (1024 * 1024)

static bool client_backlogged(const struct skbt_client *c)
{
        return c->out.len >= CLIENT_OUT_HIGH;
}

static size_t client_unread(const struct skbt_client *c)
{
        return c->in.buf.len - c->in.off;
}

/* A complete request is waiting (read, not yet handled). */
static bool client_has_request(const struct skbt_client *c)
{
        size_t n = client_unread(c);

        return n && memchr(c->in.buf.data + c->in.off, '\0', n);
}

static void client_update_events(struct skbt_client *c)
{
        uint32_t ev = c->draining ? EPOLLIN : EPOLLIN | EPOLLRDHUP;

        /* Stop reading requests once the peer closed its side; keep writing. */
        if (c->in.eof && !c->draining)
                ev = 0;
        /* Backlogged with a request's worth waiting: read no more until it reads.
         * (EPOLLHUP and EPOLLERR still come, so a dead peer is still noticed.) */
        if (!c->draining && client_backlogged(c) && client_unread(c) >= SKBT_REQUEST_MAX)
                ev &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP);
        if (c->out.len)
                ev |= EPOLLOUT;
        /* Requests held back while backlogged: writable again is the cue. */
        else if (!c->draining && client_has_request(c))
                ev |= EPOLLOUT;
        sd_event_source_set_io_events(c->io, ev);
}

void skbt_client_want_write(struct skbt_client *c)
{
        client_update_events(c);
}

struct skbt_client *skbt_client_free(struct skbt_client *c)
{
        struct skbtraced *d;

        if (!c)
                return NULL;
        d = c->d;
        if (c->session) {
                c->session->client = NULL;
                skbt_session_end(c->session, "client");
        }
        if (c->prev)
                c->prev->next = c->next;
        else
                d->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        d->n_clients--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->drain_timer);
        safe_close(c->fd);
        msgframe_done(&c->in);
        strbuf_done(&c->out);
        free(c);
        return NULL;
}

/* True when the client is finished: nothing to send and nothing more to read. */
static bool client_done(struct skbt_client *c)
{
        return c->out.len == 0 && !c->session && c->in.eof &&
               (c->draining || !client_has_request(c));
}

void skbt_client_flush(struct skbt_client *c)
{
        while (c->out.len) {
                ssize_t n = write(c->fd, c->out.data, c->out.len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        /* Peer gone (EPIPE/ECONNRESET): nothing left to deliver. */
                        log_debug_errno(errno, "client pid %d: write failed: %m", c->cred.pid);
                        skbt_client_free(c);
                        return;
                }
                strbuf_consume(&c->out, (size_t)n);
        }
        if (c->draining && c->out.len == 0)
                shutdown(c->fd, SHUT_WR);
        if (client_done(c)) {
                skbt_client_free(c);
                return;
        }
        client_update_events(c);
}

void skbt_client_reply(struct skbt_client *c, json_object *params, bool continues)
{
        json_object *msg = json_object_new_object();
        const char *s;
        size_t len;

        if (continues)
                json_object_object_add(msg, "continues", json_object_new_boolean(1));
        json_object_object_add(msg, "parameters", json_object_get(params));
        s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        skbt_client_queue(c, s, len + 1); /* with the NUL terminator */
        json_object_put(msg);
}

/* An error reply; key/value (e.g. "parameter": "regex") say what it is about. */
static void client_errorv(struct skbt_client *c, const char *error, const char *key,
                          const char *value, const char *fmt, va_list ap) _printf_(5, 0);
static void client_errorv(struct skbt_client *c, const char *error, const char *key,
                          const char *value, const char *fmt, va_list ap)
{
        json_object *msg = json_object_new_object(), *params = json_object_new_object();
        char text[512];
        const char *s;
        size_t len;

        vsnprintf(text, sizeof(text), fmt, ap);
        json_object_object_add(msg, "error", json_object_new_string(error));
        json_object_object_add(params, "message", json_object_new_string(text));
        if (key && value)
                json_object_object_add(params, key, json_object_new_string(value));
        json_object_object_add(msg, "parameters", params);
        s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        skbt_client_queue(c, s, len + 1);
        json_object_put(msg);
        log_debug("client pid %d: %s: %s", c->cred.pid, error, text);
}

static void client_error(struct skbt_client *c, const char *error, const char *parameter,
                         const char *fmt, ...) _printf_(4, 5);
static void client_error(struct skbt_client *c, const char *error, const char *parameter,
                         const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, error, "parameter", parameter, fmt, ap);
        va_end(ap);
}

/* A limit was hit: "limit" names the setting, so scripts can tell which. */
static void client_limit_error(struct skbt_client *c, const char *limit, const char *fmt, ...)
    _printf_(3, 4);
static void client_limit_error(struct skbt_client *c, const char *limit, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, ERR_LIMIT, "limit", limit, fmt, ap);
        va_end(ap);
}

static int client_on_drain_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
        skbt_client_free(userdata);
        return 0;
}

/* From now on only let the peer read what is queued, then close. */
static void client_start_draining(struct skbt_client *c)
{
        if (c->session)
                skbt_session_end(c->session, "client");
        c->draining = true;
        if (!c->drain_timer)
                sd_event_add_time_relative(c->d->event, &c->drain_timer, CLOCK_MONOTONIC,
                                           DRAIN_TIMEOUT_USEC, 0, client_on_drain_timeout, c);
}

/* Protocol violation: reply, then close only this connection. */
static void client_fail(struct skbt_client *c, const char *error, const char *message)
{
        client_error(c, error, NULL, "%s", message);
        client_start_draining(c);
}

/* A connection we do not serve (not allowed, over a limit): one error, then close. */
static void client_refuse(struct skbt_client *c, const char *error, const char *limit,
                          const char *fmt, ...) _printf_(4, 5);
static void client_refuse(struct skbt_client *c, const char *error, const char *limit,
                          const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, error, "limit", limit, fmt, ap);
        va_end(ap);
        client_start_draining(c);
}

/* Reject members of params that are not in allowed (a typo must not widen a trace). */
static bool check_members(struct skbt_client *c, json_object *params, const char *const *allowed)
{
        json_object_object_foreach (params, key, val) {
                bool ok = false;

                (void)val;
                for (const char *const *a = allowed; *a; a++)
                        if (strcmp(*a, key) == 0)
                                ok = true;
                if (!ok) {
                        client_error(c, ERR_INVALID_PARAMETER, key, "unknown parameter '%s'", key);
                        return false;
                }
        }
        return true;
}

/*
 * Entry probes are selected by the tracer and regex; a return probe goes
 * with its entry, for function_graph only (it reports to the sessions its
 * entry matched, so selecting it alone would never fire).
 */
/* The session's -g groups, as indexes into d->groups. */
struct group_sel {
        const struct skbt_groups *gs;
        int idx[SKBT_GROUPS_MAX];
        uint32_t n;
};

static bool group_selected(const struct group_sel *g, const char *name)
{
        if (!g || g->n == 0)
                return true;
        for (uint32_t i = 0; i < g->n; i++)
                if (skbt_group_selects(g->gs, (uint32_t)g->idx[i], name))
                        return true;
        return false;
}

static bool probe_selected(const struct skbt_loader *l, const struct skbt_probe *p,
                           enum skbt_tracer tracer, const regex_t *re, const struct group_sel *g)
{
        if (!p->attached)
                return false;
        if (p->is_return) {
                if (tracer != SKBT_TRACER_FUNCTION_GRAPH || p->entry_id >= l->n_probes)
                        return false;
                p = &l->probes[p->entry_id];
                if (!p->attached)
                        return false;
        }
        if (tracer == SKBT_TRACER_DROP && !p->drop)
                return false;
        if (tracer == SKBT_TRACER_FUNCTION_GRAPH && p->kind == SKBT_PROBE_TRACEPOINT)
                return false;
        if (!group_selected(g, p->name))
                return false;
        return !re || regexec(re, p->name, 0, NULL, 0) == 0;
}

/* "groups": ["ip-in", "tcp"]: every name must be a group of the data file. */
static int parse_groups(struct skbt_client *c, json_object *v, struct group_sel *g, char **ret)
{
        struct skbtraced *d = c->d;
        char names[1024];
        size_t n, pos = 0;
        char *joined;

        g->gs = d->groups;
        g->n = 0;
        *ret = NULL;
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
            json_object_array_length(v) > SKBT_GROUPS_MAX) {
                client_error(c, ERR_INVALID_PARAMETER, "groups",
                             "groups must be an array of 1 to %d group names (see 'ipftctl "
                             "list --groups')",
                             SKBT_GROUPS_MAX);
                return -EINVAL;
        }
        if (!d->groups) {
                client_error(c, ERR_UNSUPPORTED, "groups", "no probe groups: %s", d->groups_error);
                return -EOPNOTSUPP;
        }
        n = json_object_array_length(v);
        joined = calloc(1, n * (SKBT_GROUP_NAME_MAX + 1) + 1);
        if (!joined) {
                client_error(c, ERR_UNSUPPORTED, NULL, "out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *name = json_object_get_string(e);
                int idx;

                if (!json_object_is_type(e, json_type_string) ||
                    (idx = skbt_groups_find(d->groups, name)) < 0) {
                        skbt_groups_names(d->groups, names, sizeof(names));
                        if (json_object_is_type(e, json_type_string))
                                client_error(c, ERR_INVALID_PARAMETER, "groups",
                                             "unknown probe group '%.*s': expected one of %s",
                                             SKBT_GROUP_NAME_MAX + 1, name, names);
                        else
                                client_error(c, ERR_INVALID_PARAMETER, "groups",
                                             "groups must be strings, group names: %s", names);
                        free(joined);
                        return -EINVAL;
                }
                g->idx[g->n++] = idx;
                pos += (size_t)sprintf(joined + pos, "%s%s", i ? "," : "", d->groups->g[idx].name);
        }
        *ret = joined;
        return 0;
}

/* An optional boolean member. */
static int get_bool(struct skbt_client *c, json_object *params, const char *key, bool *ret)
{
        json_object *v;

        if (!json_object_object_get_ex(params, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean)) {
                client_error(c, ERR_INVALID_PARAMETER, key, "%s must be true or false", key);
                return -EINVAL;
        }
        *ret = json_object_get_boolean(v);
        return 0;
}

/* The probe id of an attached entry probe called name, or SKBT_NO_PROBE. */
static uint32_t find_probe(const struct skbt_loader *l, const char *name)
{
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (!l->probes[i].is_return && l->probes[i].attached &&
                    strcmp(l->probes[i].name, name) == 0)
                        return i;
        return SKBT_NO_PROBE;
}

/*
 * -i NAME: the daemon looks the name up where the client means it, in the
 * filter's namespace or the client's own, and filters on (namespace, index).
 */
static int resolve_ifname(struct skbt_client *c, struct skbt_filter *f)
{
        char err[SKBT_ERR_MAX];
        uint32_t ifindex, netns;
        int r;

        if (!f->ifname[0])
                return 0;
        r = skbt_netns_ifindex(f->flags & SKBT_F_NETNS ? f->netns : 0, c->cred.pid, f->ifname,
                               &ifindex, &netns, err, sizeof(err));
        if (r == -ENODEV) {
                client_error(c, ERR_INVALID_PARAMETER, "filter.ifname", "%s", err);
                return r;
        }
        if (r == -ENOENT) {
                client_error(c, ERR_INVALID_PARAMETER,
                             f->flags & SKBT_F_NETNS ? "filter.netns" : "filter.ifname", "%s", err);
                return r;
        }
        if (r < 0) {
                client_error(c, ERR_UNSUPPORTED, "filter.ifname", "%s", err);
                return r;
        }
        f->ifindex = ifindex;
        f->netns = netns;
        f->flags |= SKBT_F_IFINDEX | SKBT_F_NETNS;
        return 0;
}

static int compile_regex(struct skbt_client *c, json_object *params, regex_t *re, bool *have)
{
        json_object *v;
        char buf[256];
        int r;

        *have = false;
        if (!json_object_object_get_ex(params, "regex", &v) ||
            json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string)) {
                client_error(c, ERR_INVALID_PARAMETER, "regex", "regex must be a string");
                return -EINVAL;
        }
        r = regcomp(re, json_object_get_string(v), REG_EXTENDED | REG_NOSUB);
        if (r != 0) {
                regerror(r, re, buf, sizeof(buf));
                client_error(c, ERR_INVALID_PARAMETER, "regex", "invalid regex '%s': %s",
                             json_object_get_string(v), buf);
                return -EINVAL;
        }
        *have = true;
        return 0;
}

static uint32_t count_user_sessions(struct skbtraced *d, uid_t uid)
{
        uint32_t n = 0;

        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++)
                if (d->slots[i] && d->slots[i]->uid == uid)
                        n++;
        return n;
}

/*
 * The limits a new session must fit in (docs/protocol.md, LimitReached).
 * Root is held to the total only: a per-user share protects users from each
 * other, and root can stop any session anyway.  A session without a
 * duration of its own gets max_duration, and says so.
 */
static int check_session_limits(struct skbt_client *c, double duration, uint64_t *ret_usec,
                                const char **ret_reason)
{
        const struct skbt_config *cfg = &c->d->opt.cfg;
        uint64_t usec = (uint64_t)(duration * 1e6);
        uint32_t n;

        if (c->d->n_sessions >= cfg->max_sessions) {
                client_limit_error(c, "max_sessions",
                                   "all %u sessions skbtraced allows are in use (max_sessions); "
                                   "try again later ('ipftctl sessions' lists them)",
                                   cfg->max_sessions);
                return -EBUSY;
        }
        if (!c->admin) {
                n = count_user_sessions(c->d, c->cred.uid);
                if (n >= cfg->max_sessions_per_user) {
                        client_limit_error(c, "max_sessions_per_user",
                                           "uid %u already has %u sessions, the most one user "
                                           "may have (max_sessions_per_user); end one first "
                                           "('ipftctl sessions', 'ipftctl stop ID')",
                                           c->cred.uid, n);
                        return -EBUSY;
                }
        }
        *ret_reason = "duration";
        if (cfg->max_duration_usec) {
                if (usec > cfg->max_duration_usec) {
                        client_limit_error(c, "max_duration",
                                           "duration %g s is longer than skbtraced allows: at "
                                           "most %" PRIu64 " s (max_duration)",
                                           duration, cfg->max_duration_usec / 1000000);
                        return -E2BIG;
                }
                if (usec == 0) {
                        usec = cfg->max_duration_usec;
                        *ret_reason = "max_duration";
                }
        }
        *ret_usec = usec;
        return 0;
}

/*
 * "fields": names resolved through kernel BTF into offset chains (fields.c);
 * the names are checked and resolved here, so a typo fails the call with
 * close matches, before anything changes in BPF.
 */
static int parse_fields(struct skbt_client *c, json_object *params, struct skbt_session_fields *ret)
{
        struct skbtraced *d = c->d;
        char err[SKBT_ERR_MAX * 2];
        json_object *v;
        size_t n;

        ret->n = 0;
        if (!json_object_object_get_ex(params, "fields", &v) ||
            json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
            json_object_array_length(v) > SKBT_FIELDS_PER_SESSION) {
                client_error(c, ERR_INVALID_PARAMETER, "fields",
                             "fields must be an array of 1 to %d field names",
                             SKBT_FIELDS_PER_SESSION);
                return -EINVAL;
        }
        if (!d->fields_btf_tried) {
                d->fields_btf_tried = true;
                d->fields_btf = btf__load_vmlinux_btf();
                if (!d->fields_btf)
                        log_warning_errno(negative_errno(),
                                          "cannot load kernel BTF for custom fields: %m");
        }
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *name = json_object_get_string(e);

                if (!json_object_is_type(e, json_type_string)) {
                        client_error(c, ERR_INVALID_PARAMETER, "fields",
                                     "fields must be an array of strings");
                        return -EINVAL;
                }
                for (size_t k = 0; k < i; k++)
                        if (strcmp(ret->f[k].name, name) == 0) {
                                client_error(c, ERR_INVALID_PARAMETER, "fields",
                                             "field '%s' given twice", name);
                                return -EINVAL;
                        }
                if (skbt_field_resolve(d->fields_btf, name, &ret->f[i], err, sizeof(err)) < 0) {
                        client_error(c, ERR_INVALID_PARAMETER, "fields", "%s", err);
                        return -EINVAL;
                }
        }
        ret->n = (uint32_t)n;
        return 0;
}

static void method_trace(struct skbt_client *c, json_object *params, bool more)
{
        static const char *const allowed[] = {"filter", "tracer",   "regex",      "output",
                                              "count",  "duration", "raw_output", "pcap_filter",
                                              "fields", "snapshot", "track",      "groups",
                                              "egress", "detail",   "stack",      NULL};
        struct skbtraced *d = c->d;
        struct skbt_session tmpl = {0}, *s;
        const char *bad = NULL, *timer_reason = "duration";
        uint64_t duration_usec = 0;
        char err[SKBT_ERR_MAX];
        double duration = 0;
        json_object *v, *started, *reply;
        uint8_t *sel = NULL;
        regex_t re;
        bool have_re = false;
        struct group_sel gsel = {0};
        const char *egress = NULL;
        int r;

        if (!more) {
                client_error(c, ERR_EXPECTED_MORE, NULL,
                             "io.skbtraced.Trace streams events: call it with \"more\": true");
                return;
        }
        if (c->session) {
                client_error(c, ERR_SESSION_ACTIVE, NULL,
                             "this connection already has a trace session; open another "
                             "connection for a second one");
                return;
        }
        if (!check_members(c, params, allowed))
                return;

        json_object_object_get_ex(params, "filter", &v);
        if (v && !json_object_is_type(v, json_type_object) &&
            !json_object_is_type(v, json_type_null)) {
                client_error(c, ERR_INVALID_PARAMETER, "filter", "filter must be an object");
                return;
        }
        r = skbt_filter_from_json(v, &tmpl.filter, &bad, err, sizeof(err));
        if (r < 0) {
                client_error(c, ERR_INVALID_PARAMETER, bad ? bad : "filter", "%s", err);
                return;
        }
        if (resolve_ifname(c, &tmpl.filter) < 0)
                return;
        skbt_filter_describe(&tmpl.filter, tmpl.filter_desc, sizeof(tmpl.filter_desc));
        /* Compiled here, not in the client: the daemon decides what runs in its programs. */
        if (json_object_object_get_ex(params, "pcap_filter", &v) &&
            !json_object_is_type(v, json_type_null)) {
                size_t n = strlen(tmpl.filter_desc);

                if (!json_object_is_type(v, json_type_string)) {
                        client_error(c, ERR_INVALID_PARAMETER, "pcap_filter",
                                     "pcap_filter must be a string");
                        return;
                }
                r = skbt_pcap_compile(json_object_get_string(v), &tmpl.cbpf, err, sizeof(err));
                if (r < 0) {
                        client_error(c, ERR_INVALID_PARAMETER, "pcap_filter", "%s", err);
                        return;
                }
                if (tmpl.filter.flags == 0)
                        n = 0; /* not "all packets and ..." */
                snprintf(tmpl.filter_desc + n, sizeof(tmpl.filter_desc) - n, "%spcap '%s'",
                         n ? " and " : "", json_object_get_string(v));
        }

        if (parse_fields(c, params, &tmpl.fields) < 0)
                return;

        tmpl.tracer = SKBT_TRACER_FUNCTION;
        if (json_object_object_get_ex(params, "tracer", &v)) {
                const char *t = json_object_get_string(v);

                if (!json_object_is_type(v, json_type_string)) {
                        client_error(c, ERR_INVALID_PARAMETER, "tracer", "tracer must be a string");
                        return;
                }
                if (strcmp(t, "function") == 0) {
                        tmpl.tracer = SKBT_TRACER_FUNCTION;
                } else if (strcmp(t, "drop") == 0) {
                        tmpl.tracer = SKBT_TRACER_DROP;
                } else if (strcmp(t, "function_graph") == 0) {
                        /* Copy functions' returns are attached anyway (for --track). */
                        if (!d->loader->returns || d->loader->n_returns == 0) {
                                client_error(c, ERR_UNSUPPORTED, "tracer",
                                             "tracer function_graph needs return probes "
                                             "(fexit or kretprobe); %s",
                                             d->backend == SKBT_BACKEND_TRACEPOINT
                                                 ? "backend tracepoint has none"
                                                 : "the daemon attached none (started "
                                                   "with --no-return-probes?)");
                                return;
                        }
                        tmpl.tracer = SKBT_TRACER_FUNCTION_GRAPH;
                } else {
                        client_error(c, ERR_INVALID_PARAMETER, "tracer",
                                     "unknown tracer '%s': expected function, drop or "
                                     "function_graph",
                                     t);
                        return;
                }
        }

        tmpl.output = SKBT_OUTPUT_TEXT;
        if (json_object_object_get_ex(params, "output", &v)) {
                if (!json_object_is_type(v, json_type_string) ||
                    skbt_output_from_string(json_object_get_string(v), &tmpl.output) < 0) {
                        client_error(c, ERR_INVALID_PARAMETER, "output",
                                     "output must be \"text\", \"json\", \"aggregate\" or "
                                     "\"aggregate-json\"");
                        return;
                }
        }
        if (get_bool(c, params, "track", &tmpl.track) < 0 ||
            get_bool(c, params, "detail", &tmpl.fmt.detail) < 0 ||
            get_bool(c, params, "stack", &tmpl.fmt.stack) < 0)
                return;
        /* Aggregate blocks group events by track id: they need them. */
        tmpl.ident = tmpl.track || skbt_output_is_aggregate(tmpl.output);
        tmpl.fmt.track = tmpl.ident;
        if (skbt_output_is_aggregate(tmpl.output) && tmpl.tracer == SKBT_TRACER_FUNCTION_GRAPH) {
                client_error(c, ERR_INVALID_PARAMETER, "output",
                             "aggregate output does not combine with tracer function_graph");
                return;
        }
        tmpl.egress_probe = SKBT_NO_PROBE;
        if (json_object_object_get_ex(params, "egress", &v)) {
                if (!json_object_is_type(v, json_type_string)) {
                        client_error(c, ERR_INVALID_PARAMETER, "egress",
                                     "egress must be a probe name");
                        return;
                }
                if (!skbt_output_is_aggregate(tmpl.output)) {
                        client_error(c, ERR_INVALID_PARAMETER, "egress",
                                     "egress ends a packet's block: it needs output aggregate "
                                     "or aggregate-json");
                        return;
                }
                egress = json_object_get_string(v);
                tmpl.egress_probe = find_probe(d->loader, egress);
                if (tmpl.egress_probe == SKBT_NO_PROBE) {
                        client_error(c, ERR_INVALID_PARAMETER, "egress",
                                     "egress probe '%.128s' is not attached here; see "
                                     "'ipftctl list'",
                                     egress);
                        return;
                }
        }
        if (json_object_object_get_ex(params, "snapshot", &v)) {
                if (!json_object_is_type(v, json_type_boolean) ||
                    (json_object_get_boolean(v) && tmpl.output != SKBT_OUTPUT_JSON)) {
                        client_error(c, ERR_INVALID_PARAMETER, "snapshot",
                                     "snapshot must be true or false, and needs output json");
                        return;
                }
                tmpl.snapshot = json_object_get_boolean(v);
        }
        if (json_object_object_get_ex(params, "raw_output", &v)) {
                if (!json_object_is_type(v, json_type_boolean)) {
                        client_error(c, ERR_INVALID_PARAMETER, "raw_output",
                                     "raw_output must be true or false");
                        return;
                }
                tmpl.raw_output = json_object_get_boolean(v);
        }
        if (json_object_object_get_ex(params, "count", &v)) {
                int64_t n = json_object_get_int64(v);

                if (!json_object_is_type(v, json_type_int) || n < 1 || n == INT64_MAX) {
                        client_error(c, ERR_INVALID_PARAMETER, "count",
                                     "count must be an integer from 1 to 2^63-2");
                        return;
                }
                tmpl.count_limit = (uint64_t)n;
        }
        if (json_object_object_get_ex(params, "duration", &v)) {
                duration = json_object_get_double(v);
                if ((!json_object_is_type(v, json_type_int) &&
                     !json_object_is_type(v, json_type_double)) ||
                    !isfinite(duration) || duration <= 0 || duration > 366.0 * 86400) {
                        client_error(c, ERR_INVALID_PARAMETER, "duration",
                                     "duration must be a number of seconds, greater than 0 and "
                                     "at most a year");
                        return;
                }
        }

        if (json_object_object_get_ex(params, "groups", &v) &&
            parse_groups(c, v, &gsel, &tmpl.groups) < 0)
                return;
        if (compile_regex(c, params, &re, &have_re) < 0)
                goto out;
        sel = calloc(d->loader->n_probes ? d->loader->n_probes : 1, 1);
        if (!sel) {
                client_error(c, ERR_UNSUPPORTED, NULL, "out of memory");
                goto out;
        }
        for (uint32_t i = 0; i < d->loader->n_probes; i++)
                if (probe_selected(d->loader, &d->loader->probes[i], tmpl.tracer,
                                   have_re ? &re : NULL, &gsel)) {
                        sel[i] = 1;
                        tmpl.n_probes++;
                }
        if (tmpl.n_probes > 0 && skbt_output_is_aggregate(tmpl.output)) {
                /* A block ends when its packet is freed, or at the egress probe:
                 * the session hears those whatever it selected. */
                for (uint32_t i = 0; i < d->loader->n_probes; i++) {
                        const struct skbt_probe *p = &d->loader->probes[i];

                        if (sel[i] || !p->attached || p->is_return ||
                            !((p->life & SKBT_STAMP_FREE) || i == tmpl.egress_probe))
                                continue;
                        sel[i] = 1;
                        tmpl.n_probes++;
                }
        }
        /* Netfilter verdicts explain drops (docs/output.md): every session hears them,
         * and shows them only if it selected them. */
        for (uint32_t i = 0; i < d->loader->n_probes && tmpl.n_probes > 0; i++) {
                const struct skbt_probe *p = &d->loader->probes[i];

                if (sel[i] || !p->attached || p->kind != SKBT_PROBE_NETFILTER ||
                    tmpl.n_nf_hidden >= ARRAY_SIZE(tmpl.nf_hidden))
                        continue;
                sel[i] = 1;
                tmpl.nf_hidden[tmpl.n_nf_hidden++] = i;
        }
        if (tmpl.n_probes == 0) {
                if (tmpl.tracer == SKBT_TRACER_DROP)
                        client_error(c, ERR_NO_PROBES, NULL,
                                     "no drop probe %sis attached on this kernel (the drop "
                                     "tracer needs skb:kfree_skb with a reason, Linux 5.17+)",
                                     have_re ? "matching the regex " : "");
                else if (gsel.n)
                        client_error(c, ERR_NO_PROBES, "groups",
                                     "the groups%s select no attached probe here; see "
                                     "'ipftctl list --groups'",
                                     have_re ? " and the regex" : "");
                else
                        client_error(c, ERR_NO_PROBES, "regex",
                                     "the regex matches no attached probe; see 'ipftctl list'");
                goto out;
        }

        if (check_session_limits(c, duration, &duration_usec, &timer_reason) < 0)
                goto out;
        tmpl.uid = c->cred.uid;
        tmpl.pid = c->cred.pid;
        tmpl.rate_limit = d->opt.cfg.rate_limit;
        if (have_re && json_object_object_get_ex(params, "regex", &v)) {
                tmpl.regex = strdup(json_object_get_string(v));
                if (!tmpl.regex) {
                        client_error(c, ERR_UNSUPPORTED, NULL, "out of memory");
                        goto out;
                }
        }
        if (tmpl.cbpf.len && json_object_object_get_ex(params, "pcap_filter", &v)) {
                tmpl.pcap_filter = strdup(json_object_get_string(v));
                if (!tmpl.pcap_filter) {
                        client_error(c, ERR_UNSUPPORTED, NULL, "out of memory");
                        free(tmpl.regex);
                        goto out;
                }
        }

        r = skbt_session_start(d, c, &tmpl, sel, &s);
        if (r == -ENOSPC) {
                client_limit_error(c, "fields",
                                   "the live sessions use all %d entries of the daemon's table "
                                   "of custom fields; ask for fields other sessions use, or "
                                   "try again later",
                                   SKBT_FIELDS_MAX);
                free(tmpl.regex);
                free(tmpl.pcap_filter);
                goto out;
        }
        if (r == -EBUSY) {
                client_limit_error(c, "max_sessions",
                                   "all %d session slots are in use; try again later",
                                   SKBT_MAX_SESSIONS);
                free(tmpl.regex);
                free(tmpl.pcap_filter);
                goto out;
        }
        if (r < 0) {
                client_error(c, ERR_UNSUPPORTED, NULL, "cannot start session: %s", strerror(-r));
                free(tmpl.regex);
                free(tmpl.pcap_filter);
                goto out;
        }
        tmpl.groups = NULL; /* the session's now */
        if (duration_usec > 0 && skbt_session_set_duration(s, duration_usec, timer_reason) < 0) {
                skbt_session_end(s, timer_reason);
                goto out;
        }

        started = json_object_new_object();
        json_object_object_add(started, "session", json_object_new_uint64(s->id));
        json_object_object_add(started, "probes", json_object_new_int64(s->n_probes));
        if (s->rate_limit)
                json_object_object_add(started, "rate_limit", json_object_new_int64(s->rate_limit));
        if (strcmp(timer_reason, "max_duration") == 0)
                json_object_object_add(started, "max_duration",
                                       json_object_new_double((double)duration_usec / 1e6));
        reply = json_object_new_object();
        json_object_object_add(reply, "started", started);
        skbt_client_reply(c, reply, true);
        json_object_put(reply);
out:
        free(sel);
        free(tmpl.groups);
        if (have_re)
                regfree(&re);
}

/* One probe name of a group, with what this kernel has of it. */
static json_object *group_probe_json(const struct skbt_loader *l, const char *name)
{
        json_object *o = json_object_new_object();
        const struct skbt_probe *p = NULL;

        for (uint32_t i = 0; i < l->n_probes; i++)
                if (!l->probes[i].is_return && strcmp(l->probes[i].name, name) == 0) {
                        p = &l->probes[i];
                        break;
                }
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "exists", json_object_new_boolean(p != NULL));
        json_object_object_add(o, "attached", json_object_new_boolean(p && p->attached));
        if (p && !p->attached && p->error)
                json_object_object_add(o, "error", json_object_new_string(p->error));
        return o;
}

/*
 * The groups tree: each group with its own probes (those the file names,
 * then those its regex matches here) and whether this kernel has them.
 */
static void list_groups(struct skbt_client *c)
{
        struct skbtraced *d = c->d;
        const struct skbt_loader *l = d->loader;
        const struct skbt_groups *gs = d->groups;
        json_object *arr, *reply;

        if (!gs) {
                client_error(c, ERR_UNSUPPORTED, "groups", "no probe groups: %s", d->groups_error);
                return;
        }
        arr = json_object_new_array();
        for (uint32_t i = 0; i < gs->n; i++) {
                const struct skbt_group *g = &gs->g[i];
                json_object *o = json_object_new_object(), *probes = json_object_new_array();
                uint32_t attached = 0, exists = 0;

                json_object_object_add(o, "name", json_object_new_string(g->name));
                json_object_object_add(
                    o, "parent",
                    g->parent >= 0 ? json_object_new_string(gs->g[g->parent].name) : NULL);
                json_object_object_add(o, "depth", json_object_new_int64(g->depth));
                json_object_object_add(o, "description", json_object_new_string(g->description));
                if (g->regex)
                        json_object_object_add(o, "regex", json_object_new_string(g->regex));
                for (uint32_t k = 0; k < g->n_probes; k++)
                        json_object_array_add(probes, group_probe_json(l, g->probes[k]));
                for (uint32_t k = 0; g->regex && k < l->n_probes; k++) {
                        const struct skbt_probe *p = &l->probes[k];
                        bool listed = false;

                        if (p->is_return || regexec(&g->re, p->name, 0, NULL, 0) != 0)
                                continue;
                        for (uint32_t m = 0; m < g->n_probes && !listed; m++)
                                listed = strcmp(g->probes[m], p->name) == 0;
                        if (!listed)
                                json_object_array_add(probes, group_probe_json(l, p->name));
                }
                for (size_t k = 0; k < json_object_array_length(probes); k++) {
                        json_object *pr = json_object_array_get_idx(probes, k), *v;

                        if (json_object_object_get_ex(pr, "exists", &v) &&
                            json_object_get_boolean(v))
                                exists++;
                        if (json_object_object_get_ex(pr, "attached", &v) &&
                            json_object_get_boolean(v))
                                attached++;
                }
                json_object_object_add(o, "exists", json_object_new_int64(exists));
                json_object_object_add(o, "attached", json_object_new_int64(attached));
                json_object_object_add(o, "probes", probes);
                json_object_array_add(arr, o);
        }
        reply = json_object_new_object();
        json_object_object_add(reply, "file", json_object_new_string(gs->path));
        json_object_object_add(reply, "groups", arr);
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}

static void method_list(struct skbt_client *c, json_object *params)
{
        static const char *const allowed[] = {"regex", "groups", NULL};
        struct skbt_loader *l = c->d->loader;
        json_object *arr, *reply;
        regex_t re;
        bool have_re, groups = false;

        if (!check_members(c, params, allowed) || get_bool(c, params, "groups", &groups) < 0)
                return;
        if (groups) {
                if (json_object_object_get_ex(params, "regex", NULL)) {
                        client_error(c, ERR_INVALID_PARAMETER, "regex",
                                     "regex and groups do not combine: groups lists the tree");
                        return;
                }
                list_groups(c);
                return;
        }
        if (compile_regex(c, params, &re, &have_re) < 0)
                return;
        arr = json_object_new_array();
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];
                json_object *o;

                /* A return probe is shown as its entry's "returns". */
                if (p->is_return || (have_re && regexec(&re, p->name, 0, NULL, 0) != 0))
                        continue;
                o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(p->name));
                json_object_object_add(
                    o, "kind",
                    json_object_new_string(p->kind == SKBT_PROBE_TRACEPOINT  ? "tracepoint"
                                           : p->kind == SKBT_PROBE_NETFILTER ? "netfilter"
                                                                             : "function"));
                json_object_object_add(o, "skb_arg", json_object_new_int(p->skb_arg + 1));
                json_object_object_add(o, "backend",
                                       json_object_new_string(skbt_backend_to_string(p->backend)));
                json_object_object_add(o, "attached", json_object_new_boolean(p->attached));
                /* Tracepoints: attached but not linked while the daemon is idle. */
                json_object_object_add(
                    o, "linked",
                    json_object_new_boolean(p->attached &&
                                            (!skbt_tp_relinkable(p) || p->link_fd >= 0)));
                json_object_object_add(o, "drop", json_object_new_boolean(p->drop));
                json_object_object_add(o, "returns",
                                       json_object_new_boolean(p->ret_id != SKBT_NO_PROBE &&
                                                               l->probes[p->ret_id].attached));
                if (c->d->probe_groups && c->d->probe_groups[i])
                        json_object_object_add(o, "group",
                                               json_object_new_string(c->d->probe_groups[i]));
                if (p->error)
                        json_object_object_add(o, "error", json_object_new_string(p->error));
                json_object_array_add(arr, o);
        }
        if (have_re)
                regfree(&re);
        reply = json_object_new_object();
        json_object_object_add(reply, "probes", arr);
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}

/* Root sees every session; anyone else only their own. */
static bool session_visible(const struct skbt_client *c, const struct skbt_session *s)
{
        return c->admin || s->uid == c->cred.uid;
}

static json_object *session_to_json(struct skbt_session *s)
{
        json_object *o = json_object_new_object();
        uint64_t now = skbt_now_ns();

        json_object_object_add(o, "session", json_object_new_uint64(s->id));
        json_object_object_add(o, "uid", json_object_new_int64(s->uid));
        json_object_object_add(o, "pid", json_object_new_int64(s->pid));
        json_object_object_add(o, "tracer",
                               json_object_new_string(skbt_tracer_to_string(s->tracer)));
        json_object_object_add(o, "output",
                               json_object_new_string(skbt_output_to_string(s->output)));
        json_object_object_add(o, "filter", skbt_filter_to_json(&s->filter));
        json_object_object_add(o, "filter_text", json_object_new_string(s->filter_desc));
        if (s->regex)
                json_object_object_add(o, "regex", json_object_new_string(s->regex));
        if (s->pcap_filter)
                json_object_object_add(o, "pcap_filter", json_object_new_string(s->pcap_filter));
        if (s->fields.n) {
                json_object *fa = json_object_new_array();

                for (uint32_t i = 0; i < s->fields.n; i++)
                        json_object_array_add(fa, json_object_new_string(s->fields.f[i].name));
                json_object_object_add(o, "fields", fa);
        }
        if (s->groups)
                json_object_object_add(o, "groups", json_object_new_string(s->groups));
        json_object_object_add(o, "track", json_object_new_boolean(s->track));
        json_object_object_add(o, "detail", json_object_new_boolean(s->fmt.detail));
        json_object_object_add(o, "stack", json_object_new_boolean(s->fmt.stack));
        if (s->egress_probe != SKBT_NO_PROBE && s->egress_probe < s->d->loader->n_probes) {
                const char *egress = s->d->loader->probes[s->egress_probe].name;

                json_object_object_add(o, "egress", json_object_new_string(egress));
        }
        if (s->agg) {
                json_object_object_add(o, "aggregate_open",
                                       json_object_new_int64(skbt_agg_open(s->agg)));
                json_object_object_add(o, "aggregate_bytes",
                                       json_object_new_uint64(skbt_agg_bytes(s->agg)));
        }
        json_object_object_add(o, "probes", json_object_new_int64(s->n_probes));
        json_object_object_add(o, "started_usec", json_object_new_uint64(s->start_realtime_usec));
        json_object_object_add(o, "duration_ns", json_object_new_uint64(now - s->start_ns));
        json_object_object_add(o, "events", json_object_new_uint64(s->events));
        json_object_object_add(o, "lost_ringbuf", json_object_new_uint64(s->lost_ringbuf));
        json_object_object_add(o, "lost_queue", json_object_new_uint64(s->lost_queue));
        json_object_object_add(o, "lost_rate", json_object_new_uint64(s->lost_rate));
        json_object_object_add(o, "rate_limit", json_object_new_int64(s->rate_limit));
        json_object_object_add(
            o, "queued_bytes",
            json_object_new_uint64(s->pending.len + (s->client ? s->client->out.len : 0)));
        return o;
}

static void method_sessions(struct skbt_client *c, json_object *params)
{
        static const char *const allowed[] = {NULL};
        struct skbtraced *d = c->d;
        json_object *arr, *reply;

        if (!check_members(c, params, allowed))
                return;
        /* Fresh loss counts: the periodic poll may be up to 250 ms old. */
        skbt_sessions_poll_lost(d);
        arr = json_object_new_array();
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (s && session_visible(c, s))
                        json_object_array_add(arr, session_to_json(s));
        }
        reply = json_object_new_object();
        json_object_object_add(reply, "sessions", arr);
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}

static void method_stop(struct skbt_client *c, json_object *params)
{
        static const char *const allowed[] = {"session", NULL};
        struct skbtraced *d = c->d;
        struct skbt_session *s = NULL;
        json_object *v, *reply;
        int64_t id;

        if (!check_members(c, params, allowed))
                return;
        if (!json_object_object_get_ex(params, "session", &v) ||
            !json_object_is_type(v, json_type_int) || (id = json_object_get_int64(v)) < 1 ||
            id == INT64_MAX) {
                client_error(c, ERR_INVALID_PARAMETER, "session",
                             "session must be a session id, an integer from 1 (see 'ipftctl "
                             "sessions')");
                return;
        }
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS && !s; i++)
                if (d->slots[i] && d->slots[i]->id == (uint64_t)id)
                        s = d->slots[i];
        /* Another user's session is answered as absent: not even its id leaks. */
        if (!s || !session_visible(c, s)) {
                client_error(c, ERR_NO_SUCH_SESSION, "session", "no session %" PRId64 "%s", id,
                             c->admin ? "" : " of yours (you can see and stop only your own)");
                return;
        }
        log_info("session %" PRIu64 " (uid %u) stopped by uid %u pid %d", s->id, s->uid,
                 c->cred.uid, c->cred.pid);
        reply = json_object_new_object();
        json_object_object_add(reply, "summary", skbt_session_end_summary(s, "stopped"));
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}

/* Resident set size of the daemon, from /proc/self/statm (pages). */
static uint64_t memory_rss_bytes(void)
{
        unsigned long size, resident;
        uint64_t v = 0;
        FILE *f = fopen("/proc/self/statm", "re");

        if (!f)
                return 0;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
                v = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
        fclose(f);
        return v;
}

/*
 * Kernel memory of our BPF maps: the "memlock" of every map fd we hold, each
 * map counted once.  Walking our fds finds every map whoever created it
 * (skeleton, libbpf internals), without knowing the loader's layout.
 */
static uint64_t memory_bpf_map_bytes(uint32_t *ret_maps)
{
        _cleanup_(closedirp) DIR *dir = opendir("/proc/self/fd");
        uint32_t seen[256], n_seen = 0;
        uint64_t total = 0;
        struct dirent *de;

        *ret_maps = 0;
        if (!dir)
                return 0;
        while ((de = readdir(dir))) {
                char path[300], link[64], line[128];
                uint64_t memlock = 0;
                uint32_t map_id = 0;
                bool dup = false;
                ssize_t n;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                n = readlink(path, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                if (strcmp(link, "anon_inode:bpf-map") != 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        if (sscanf(line, "memlock: %" SCNu64, &memlock) == 1)
                                continue;
                        sscanf(line, "map_id: %" SCNu32, &map_id);
                }
                fclose(f);
                for (uint32_t i = 0; i < n_seen; i++)
                        if (seen[i] == map_id)
                                dup = true;
                if (dup)
                        continue;
                if (n_seen < ARRAY_SIZE(seen))
                        seen[n_seen++] = map_id;
                total += memlock;
                (*ret_maps)++;
        }
        return total;
}

/* Netfilter verdicts: evaluators attached, evaluations too deeply nested to report. */
static json_object *netfilter_to_json(struct skbtraced *d)
{
        json_object *n = json_object_new_object();
        uint64_t deep = 0;

        skbt_loader_read_stat(d->loader, SKBT_STAT_NF_DEEP, &deep);
        json_object_object_add(n, "probes", json_object_new_int64(d->loader->n_nf));
        json_object_object_add(n, "too_deep", json_object_new_int64((int64_t)deep));
        return n;
}

/*
 * The packet-tracking maps: entries now, and how entries left.  LRU
 * evictions are not reported by the kernel; "evicted" is what was created
 * and left by no counted way (docs/output.md).
 */
static json_object *tracking_to_json(struct skbtraced *d)
{
        json_object *t = json_object_new_object();
        struct skbt_track_stats st;

        if (skbt_loader_track_stats(d->loader, &st) < 0)
                return t;
        json_object_object_add(t, "entries", json_object_new_uint64(st.live));
        json_object_object_add(t, "buffers", json_object_new_uint64(st.live_heads));
        json_object_object_add(t, "max", json_object_new_int64(SKBT_TRACK_ENTRIES));
        json_object_object_add(t, "created", json_object_new_uint64(st.created));
        json_object_object_add(t, "clones", json_object_new_uint64(st.clones));
        json_object_object_add(t, "freed", json_object_new_uint64(st.freed));
        json_object_object_add(t, "stale", json_object_new_uint64(st.stale));
        json_object_object_add(t, "swept", json_object_new_uint64(st.swept));
        json_object_object_add(t, "evicted", json_object_new_uint64(st.evicted));
        json_object_object_add(t, "failed", json_object_new_uint64(st.failed));
        return t;
}

static void method_status(struct skbt_client *c, json_object *params)
{
        static const char *const allowed[] = {NULL};
        struct skbtraced *d = c->d;
        struct skbt_loader *l = d->loader;
        json_object *o, *arr, *probes, *sessions, *skipped;
        uint64_t events = d->events_total, lq = d->lost_queue_total, lr = d->lost_ringbuf_total;
        uint64_t lrate = d->lost_rate_total, queued = 0;
        const struct skbt_config *cfg = &d->opt.cfg;
        json_object *limits, *conns, *mem;
        uint32_t n_maps;

        if (!check_members(c, params, allowed))
                return;
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (s) {
                        events += s->events;
                        lq += s->lost_queue;
                        lr += s->lost_ringbuf;
                        lrate += s->lost_rate;
                }
        }
        o = json_object_new_object();
        json_object_object_add(o, "version", json_object_new_string(SKBT_VERSION));
        json_object_object_add(o, "protocol", json_object_new_int(SKBT_PROTOCOL_VERSION));
        json_object_object_add(o, "kernel", json_object_new_string(d->kernel));
        json_object_object_add(o, "backend",
                               json_object_new_string(skbt_backend_to_string(d->backend)));
        json_object_object_add(o, "backend_reason", json_object_new_string(d->backend_reason));
        arr = json_object_new_array();
        for (int b = 0; b < _SKBT_BACKEND_MAX; b++) {
                json_object *e = json_object_new_object();

                json_object_object_add(
                    e, "name",
                    json_object_new_string(skbt_backend_to_string((enum skbt_backend)b)));
                json_object_object_add(e, "usable", json_object_new_boolean(d->caps.usable[b]));
                json_object_object_add(e, "reason", json_object_new_string(d->caps.reason[b]));
                json_object_array_add(arr, e);
        }
        json_object_object_add(o, "backends", arr);
        probes = json_object_new_object();
        json_object_object_add(probes, "attached", json_object_new_int64(l->n_attached));
        json_object_object_add(probes, "skipped", json_object_new_int64(l->n_skipped));
        json_object_object_add(probes, "discovered", json_object_new_int64(l->n_probes));
        json_object_object_add(probes, "unsupported", json_object_new_int64(l->n_unsupported));
        json_object_object_add(probes, "functions", json_object_new_int64(l->n_functions));
        json_object_object_add(probes, "returns", json_object_new_int64(l->n_returns));
        json_object_object_add(
            probes, "tracepoints",
            json_object_new_int64(l->n_attached - l->n_functions - l->n_returns - l->n_nf));
        json_object_object_add(probes, "netfilter", json_object_new_int64(l->n_nf));
        /* Of the tracepoints, those whose programs read the skb with plain loads. */
        json_object_object_add(probes, "tracepoints_tp_btf", json_object_new_int64(l->n_tp_btf));
        json_object_object_add(o, "probes", probes);
        json_object_object_add(o, "tracepoints", skbt_idle_to_json(d));
        skipped = json_object_new_array();
        for (uint32_t i = 0; i < l->n_probes; i++) {
                json_object *e;

                if (l->probes[i].attached || l->probes[i].backend == _SKBT_BACKEND_MAX)
                        continue;
                e = json_object_new_object();
                json_object_object_add(e, "name", json_object_new_string(l->probes[i].name));
                json_object_object_add(
                    e, "error",
                    json_object_new_string(l->probes[i].error ? l->probes[i].error : ""));
                json_object_array_add(skipped, e);
        }
        json_object_object_add(o, "skipped", skipped);
        json_object_object_add(o, "startup_ms", json_object_new_int64(d->startup_ns / 1000000));
        json_object_object_add(o, "load_ms", json_object_new_int64(l->load_ns / 1000000));
        json_object_object_add(o, "uptime_ns",
                               json_object_new_uint64(skbt_now_ns() - d->start_mono_ns));
        sessions = json_object_new_object();
        json_object_object_add(sessions, "active", json_object_new_int64(d->n_sessions));
        json_object_object_add(sessions, "max", json_object_new_int64(cfg->max_sessions));
        json_object_object_add(sessions, "max_per_user",
                               json_object_new_int64(cfg->max_sessions_per_user));
        json_object_object_add(sessions, "slots", json_object_new_int64(SKBT_MAX_SESSIONS));
        /* What BPF sees: the active-session mask in the programs' global state. */
        json_object_object_add(sessions, "bpf_active",
                               json_object_new_int64(__builtin_popcountll(
                                   __atomic_load_n(&l->state->active, __ATOMIC_ACQUIRE))));
        json_object_object_add(o, "sessions", sessions);
        conns = json_object_new_object();
        json_object_object_add(conns, "active", json_object_new_int64(d->n_clients));
        json_object_object_add(conns, "max", json_object_new_int64(cfg->max_connections));
        json_object_object_add(conns, "max_per_user",
                               json_object_new_int64(cfg->max_connections_per_user));
        json_object_object_add(o, "connections", conns);
        limits = json_object_new_object();
        json_object_object_add(limits, "max_sessions", json_object_new_int64(cfg->max_sessions));
        json_object_object_add(limits, "max_sessions_per_user",
                               json_object_new_int64(cfg->max_sessions_per_user));
        json_object_object_add(limits, "max_duration",
                               json_object_new_double((double)cfg->max_duration_usec / 1e6));
        json_object_object_add(limits, "queue_size", json_object_new_uint64(cfg->queue_bytes));
        json_object_object_add(limits, "rate_limit", json_object_new_int64(cfg->rate_limit));
        json_object_object_add(limits, "max_connections",
                               json_object_new_int64(cfg->max_connections));
        json_object_object_add(limits, "max_connections_per_user",
                               json_object_new_int64(cfg->max_connections_per_user));
        json_object_object_add(o, "limits", limits);
        json_object_object_add(o, "group", json_object_new_string(cfg->group));
        json_object_object_add(o, "group_exists", json_object_new_boolean(d->access_gid_valid));
        /* null: no file, the built-in defaults (and the command line) are in effect. */
        json_object_object_add(
            o, "config", d->opt.config_loaded ? json_object_new_string(d->opt.config_path) : NULL);
        json_object_object_add(o, "events", json_object_new_uint64(events));
        json_object_object_add(o, "lost_ringbuf", json_object_new_uint64(lr));
        json_object_object_add(o, "lost_queue", json_object_new_uint64(lq));
        json_object_object_add(o, "lost_rate", json_object_new_uint64(lrate));
        for (struct skbt_client *cl = d->clients; cl; cl = cl->next)
                queued += cl->out.len + (cl->session ? cl->session->pending.len : 0);
        mem = json_object_new_object();
        json_object_object_add(mem, "rss_bytes", json_object_new_uint64(memory_rss_bytes()));
        json_object_object_add(mem, "bpf_map_bytes",
                               json_object_new_uint64(memory_bpf_map_bytes(&n_maps)));
        json_object_object_add(mem, "bpf_maps", json_object_new_int64(n_maps));
        json_object_object_add(mem, "queued_bytes", json_object_new_uint64(queued));
        json_object_object_add(o, "memory", mem);
        json_object_object_add(o, "ringbuf_bytes", json_object_new_int64(d->opt.ringbuf_bytes));
        json_object_object_add(o, "tracking", tracking_to_json(d));
        json_object_object_add(o, "netfilter", netfilter_to_json(d));
        {
                json_object *g = json_object_new_object();

                json_object_object_add(g, "file", json_object_new_string(d->opt.groups_path));
                json_object_object_add(g, "groups",
                                       json_object_new_int64(d->groups ? d->groups->n : 0));
                if (!d->groups)
                        json_object_object_add(g, "error", json_object_new_string(d->groups_error));
                json_object_object_add(o, "groups", g);
        }
        skbt_client_reply(c, o, false);
        json_object_put(o);
}

static void method_get_info(struct skbt_client *c)
{
        json_object *o = json_object_new_object(), *ifaces = json_object_new_array();

        json_object_object_add(o, "vendor", json_object_new_string("skbtraced"));
        json_object_object_add(o, "product", json_object_new_string("skbtraced"));
        json_object_object_add(o, "version", json_object_new_string(SKBT_VERSION));
        json_object_object_add(o, "url", json_object_new_string(""));
        json_object_array_add(ifaces, json_object_new_string("io.skbtraced"));
        json_object_array_add(ifaces, json_object_new_string("org.varlink.service"));
        json_object_object_add(o, "interfaces", ifaces);
        skbt_client_reply(c, o, false);
        json_object_put(o);
}

static void client_dispatch(struct skbt_client *c, const char *msg, size_t len)
{
        _cleanup_(json_object_putp) json_object *req = NULL;
        json_object *method, *params = NULL, *more;
        struct json_tokener *tok;
        const char *name;
        bool want_more = false;

        tok = json_tokener_new();
        if (!tok) {
                client_fail(c, ERR_MALFORMED, "out of memory");
                return;
        }
        req = json_tokener_parse_ex(tok, msg, (int)len);
        if (!req || json_tokener_get_parse_end(tok) != len) {
                json_tokener_free(tok);
                client_fail(c, ERR_MALFORMED,
                            "request is not valid JSON; each message is one JSON object "
                            "followed by a NUL byte");
                return;
        }
        json_tokener_free(tok);
        if (!json_object_is_type(req, json_type_object) ||
            !json_object_object_get_ex(req, "method", &method) ||
            !json_object_is_type(method, json_type_string)) {
                client_fail(c, ERR_MALFORMED,
                            "request must be a JSON object with a string member \"method\"");
                return;
        }
        name = json_object_get_string(method);
        if (json_object_object_get_ex(req, "parameters", &params) &&
            !json_object_is_type(params, json_type_object)) {
                client_error(c, ERR_INVALID_PARAMETER, "parameters",
                             "parameters must be an object");
                return;
        }
        if (!params) {
                params = json_object_new_object();
                json_object_object_add(req, "parameters", params);
        }
        if (json_object_object_get_ex(req, "more", &more))
                want_more = json_object_get_boolean(more);

        if (strcmp(name, "io.skbtraced.Trace") == 0)
                method_trace(c, params, want_more);
        else if (strcmp(name, "io.skbtraced.List") == 0)
                method_list(c, params);
        else if (strcmp(name, "io.skbtraced.Status") == 0)
                method_status(c, params);
        else if (strcmp(name, "io.skbtraced.Sessions") == 0)
                method_sessions(c, params);
        else if (strcmp(name, "io.skbtraced.Stop") == 0)
                method_stop(c, params);
        else if (strcmp(name, "org.varlink.service.GetInfo") == 0)
                method_get_info(c);
        else
                client_error(c, ERR_METHOD_NOT_FOUND, NULL, "unknown method '%s'", name);
}

/* Handle the requests read so far, as long as the client keeps up with the replies. */
static void client_process(struct skbt_client *c)
{
        char *msg;
        size_t len;
        int r = 0;

        while (!c->draining && !client_backlogged(c) && (r = msgframe_next(&c->in, &msg, &len)) > 0)
                client_dispatch(c, msg, len);
        if (r == -EMSGSIZE)
                client_fail(c, ERR_TOO_LARGE,
                            "request larger than 64 KiB (65536 bytes); nothing was done");
        /* End of input: a half-close ends the session, which still gets its summary. */
        if (c->in.eof && c->session)
                skbt_session_end(c->session, "client");
}

static void client_read(struct skbt_client *c)
{
        int r;

        r = msgframe_fill(&c->in, c->fd);
        if (r == -EAGAIN)
                return;
        if (r < 0 && r != -ECONNRESET) {
                log_debug_errno(r, "client pid %d: read failed: %m", c->cred.pid);
                c->in.eof = 1;
        }
        if (r == -ECONNRESET)
                c->in.eof = 1;
        if (c->draining) {
                /* Discard: we only wait for the peer to read our error and go. */
                c->in.buf.len = 0;
                c->in.off = 0;
                return;
        }
        client_process(c);
}

static int client_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbt_client *c = userdata;

        if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                client_read(c);
                if (c->draining && c->in.eof) {
                        skbt_client_free(c);
                        return 0;
                }
        } else if (client_has_request(c)) {
                client_process(c);
        }
        skbt_client_flush(c);
        return 0;
}

static uint32_t count_user_connections(struct skbtraced *d, uid_t uid)
{
        uint32_t n = 0;

        for (struct skbt_client *c = d->clients; c; c = c->next)
                if (c->cred.uid == uid)
                        n++;
        return n;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbtraced *d = userdata;
        struct skbt_peer peer;
        struct skbt_client *c;
        uint32_t n_user;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(errno, "accept failed, ignoring: %m");
                return 0;
        }
        /* Refused connections stay open a moment to read their error; past twice
         * the limit close at once, so that a connect flood cannot pile them up. */
        if (d->n_clients >= 2 * d->opt.cfg.max_connections) {
                log_debug("connection limit exceeded twice over, closing a new connection");
                close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        c->d = d;
        c->fd = cfd;
        msgframe_init(&c->in, SKBT_REQUEST_MAX);
        r = skbt_access_check(cfd, d->access_gid, d->access_gid_valid, &peer);
        if (r < 0)
                log_warning_errno(r, "cannot identify the peer of a new connection (%m), "
                                     "refusing it");
        c->cred = peer.cred;
        c->admin = peer.admin;
        /* Counted before it is linked in: "others" below means other connections. */
        n_user = count_user_connections(d, c->cred.uid);
        c->next = d->clients;
        if (d->clients)
                d->clients->prev = c;
        d->clients = c;
        d->n_clients++;
        r = sd_event_add_io(d->event, &c->io, cfd, EPOLLIN | EPOLLRDHUP, client_on_io, c);
        if (r < 0) {
                log_warning_errno(r, "cannot watch client connection, closing it: %m");
                skbt_client_free(c);
                return 0;
        }

        /* Refused connections get one error reply, sent at once, and nothing else:
         * their requests are discarded unread (draining) until they close. */
        if (!peer.allowed) {
                log_info("connection from uid %u pid %d refused: neither root nor a member of "
                         "group %s",
                         c->cred.uid, c->cred.pid, d->opt.cfg.group);
                client_refuse(c, ERR_PERMISSION_DENIED, NULL,
                              "permission denied: add yourself to group %s (uid %u is "
                              "neither root nor a member)",
                              d->opt.cfg.group, c->cred.uid);
        } else if (d->n_clients > d->opt.cfg.max_connections) {
                client_refuse(c, ERR_LIMIT, "max_connections",
                              "too many connections to skbtraced (limit %u, "
                              "max_connections); try again later",
                              d->opt.cfg.max_connections);
        } else if (!c->admin && n_user >= d->opt.cfg.max_connections_per_user) {
                client_refuse(c, ERR_LIMIT, "max_connections_per_user",
                              "uid %u has %u connections open, the limit per user "
                              "(max_connections_per_user); close some first",
                              c->cred.uid, n_user);
        }
        skbt_client_flush(c);
        return 0;
}

/*
 * The access group, at start and on reload.  Without it only root is
 * served: the socket mode below keeps others out, and the SO_PEERCRED check
 * refuses them should the socket be more open (socket activation with
 * another SocketMode=, a chmod by hand).
 */
static void resolve_group(struct skbtraced *d)
{
        struct group *gr;

        errno = 0;
        gr = getgrnam(d->opt.cfg.group);
        if (!gr) {
                d->access_gid_valid = false;
                log_notice("group %s does not exist: only root may use skbtraced (create it with "
                           "systemd-sysusers or 'groupadd --system %s')",
                           d->opt.cfg.group, d->opt.cfg.group);
                return;
        }
        d->access_gid = gr->gr_gid;
        d->access_gid_valid = true;
}

/* root and the group's members may connect; others cannot even open it. */
static int apply_socket_mode(struct skbtraced *d)
{
        const char *path = d->opt.socket_path;

        /* systemd made an inherited socket as the .socket unit says (SocketGroup=). */
        if (!d->socket_owned)
                return 0;
        if (d->access_gid_valid) {
                if (chown(path, 0, d->access_gid) < 0 || chmod(path, 0660) < 0)
                        return log_error_errno(errno, "cannot set owner/mode of %s: %m", path);
        } else if (chmod(path, 0600) < 0) {
                return log_error_errno(errno, "cannot set mode of %s: %m", path);
        }
        return 0;
}

static int bind_socket(struct skbtraced *d)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *path = d->opt.socket_path;
        char dir[sizeof(sa.sun_path)], *slash;
        int probe, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "socket path %s is too long", path);
        strcpy(sa.sun_path, path);

        /* Create the parent directory (e.g. /run/skbtraced) if it is missing. */
        strcpy(dir, path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create %s: %m", dir);
        }

        /* A live socket means another daemon: never steal it. A dead one is stale. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
                if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        close(probe);
                        return log_error_errno(
                            -EADDRINUSE, "another skbtraced is already listening on %s", path);
                }
                close(probe);
        }
        unlink(path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "cannot create socket: %m");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "cannot bind %s: %m", path);
        d->socket_owned = true;
        r = apply_socket_mode(d);
        if (r < 0)
                return r;
        if (listen(fd, 128) < 0)
                return log_error_errno(errno, "cannot listen on %s: %m", path);
        d->listen_fd = TAKE_FD(fd);
        return 0;
}

int skbt_control_listen(struct skbtraced *d)
{
        int n, r;

        resolve_group(d);
        n = sd_listen_fds(1);
        if (n > 1)
                return log_error_errno(-EINVAL, "expected one socket from systemd, got %d", n);
        if (n == 1) {
                d->listen_fd = SD_LISTEN_FDS_START;
                if (sd_is_socket_unix(d->listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(-EINVAL,
                                               "socket passed by systemd is not a listening "
                                               "Unix stream socket");
                fcntl(d->listen_fd, F_SETFL, fcntl(d->listen_fd, F_GETFL) | O_NONBLOCK);
                fcntl(d->listen_fd, F_SETFD, FD_CLOEXEC);
                log_info("using the listening socket passed by systemd");
        } else {
                r = bind_socket(d);
                if (r < 0)
                        return r;
                log_info("listening on %s", d->opt.socket_path);
        }
        r = sd_event_add_io(d->event, &d->listen_io, d->listen_fd, EPOLLIN, on_accept, d);
        if (r < 0)
                return log_error_errno(r, "cannot watch the listening socket: %m");
        return 0;
}

/* At shutdown: give clients a bounded time to receive their summaries. */
void skbt_clients_flush_all(struct skbtraced *d, int timeout_ms)
{
        uint64_t deadline = skbt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

        while (d->clients && skbt_now_ns() < deadline) {
                struct pollfd pfd[64];
                struct skbt_client *c, *next;
                nfds_t n = 0;

                for (c = d->clients; c && n < ARRAY_SIZE(pfd); c = c->next)
                        if (c->out.len)
                                pfd[n++] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
                if (n == 0)
                        break;
                poll(pfd, n, 50);
                for (c = d->clients; c; c = next) {
                        next = c->next;
                        if (c->out.len)
                                skbt_client_flush(c);
                }
        }
}

void skbt_daemon_reload(struct skbtraced *d)
{
        char err[SKBT_ERR_MAX + 256];
        struct skbt_config cfg;
        gid_t old_gid = d->access_gid;
        bool old_valid = d->access_gid_valid;
        bool idle_changed;
        char idle[32];
        int r;

        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading %s",
                   skbt_now_ns() / 1000, d->opt.config_path);
        skbt_config_defaults(&cfg);
        r = skbt_config_load(d->opt.config_path, &cfg, err, sizeof(err));
        if (r == -ENOENT && !d->opt.config_required) {
                log_info("no config file %s: reverting to the defaults", d->opt.config_path);
                d->opt.config_loaded = false;
        } else if (r < 0) {
                /* Sessions and settings stay as they are: a typo must not take the
                 * service down or drop anyone's trace. */
                log_warning("cannot reload the configuration: %s; keeping the current "
                            "settings, ignoring",
                            err);
                goto done;
        }
        if (r >= 0)
                d->opt.config_loaded = true;
        skbt_config_merge(&cfg, &d->opt.cli);
        if (cfg.backend != d->opt.cfg.backend)
                log_warning("backend changed in %s: it takes effect at the next start, ignoring",
                            d->opt.config_path);
        if (cfg.ringbuf_bytes != d->opt.cfg.ringbuf_bytes)
                log_warning("ringbuf_size changed in %s: it takes effect at the next start, "
                            "ignoring",
                            d->opt.config_path);
        cfg.backend = d->opt.cfg.backend;
        cfg.ringbuf_bytes = d->opt.cfg.ringbuf_bytes;
        idle_changed = cfg.idle_detach_usec != d->opt.cfg.idle_detach_usec;
        d->opt.cfg = cfg;
        if (idle_changed)
                skbt_idle_reconfigure(d);
        if (cfg.idle_detach_usec < 0)
                snprintf(idle, sizeof(idle), "never");
        else
                snprintf(idle, sizeof(idle), "%.3f s", (double)cfg.idle_detach_usec / 1e6);
        /* Also when the name stayed: the group may have been created (sysusers) or
         * renumbered since. */
        resolve_group(d);
        if (d->access_gid_valid != old_valid || d->access_gid != old_gid)
                (void)apply_socket_mode(d);
        log_info("configuration reloaded: group %s, max_sessions %u (%u per user), "
                 "max_duration %" PRIu64 " s, queue_size %zu KiB, rate_limit %u/s, "
                 "max_connections %u (%u per user), idle_detach_after %s; "
                 "%u sessions continue",
                 cfg.group, cfg.max_sessions, cfg.max_sessions_per_user,
                 cfg.max_duration_usec / 1000000, cfg.queue_bytes >> 10, cfg.rate_limit,
                 cfg.max_connections, cfg.max_connections_per_user, idle, d->n_sessions);
done:
        /* The groups file is data, not configuration: re-read it either way. */
        skbt_daemon_load_groups(d);
        sd_notify(0, "READY=1");
        skbt_notify_status(d);
}
