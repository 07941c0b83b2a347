/* SPDX-License-Identifier: GPL-2.0-only */
/* method_trace.c - io.skbtraced.Trace: check the request, select probes, start the session */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <json-c/json.h>

#include "control-internal.h"
#include "filter_spec.h"
#include "groups.h"
#include "log.h"
#include "netns.h"
#include "pcap_filter.h"
#include "skbtraced.h"

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

/* 1 selected, 0 not, or the regex failed on its name (answered, -errno). */
static int probe_selected(struct skbt_client *c, const struct skbt_loader *l,
                          const struct skbt_probe *p, enum skbt_tracer tracer,
                          struct skbt_regex *re, const struct group_sel *g)
{
        if (!p->attached)
                return 0;
        if (p->is_return) {
                if (tracer != SKBT_TRACER_FUNCTION_GRAPH || p->entry_id >= l->n_probes)
                        return 0;
                p = &l->probes[p->entry_id];
                if (!p->attached)
                        return 0;
        }
        if (tracer == SKBT_TRACER_DROP && !p->drop)
                return 0;
        if (tracer == SKBT_TRACER_FUNCTION_GRAPH && p->kind == SKBT_PROBE_TRACEPOINT)
                return 0;
        if (!group_selected(g, p->name))
                return 0;
        return re ? client_regex_match(c, re, p->name) : 1;
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

void method_trace(struct skbt_client *c, json_object *params, bool more)
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
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
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
        if (compile_regex(c, params, &re) < 0)
                goto out;
        have_re = re != NULL;
        sel = calloc(d->loader->n_probes ? d->loader->n_probes : 1, 1);
        if (!sel) {
                client_error(c, ERR_UNSUPPORTED, NULL, "out of memory");
                goto out;
        }
        for (uint32_t i = 0; i < d->loader->n_probes; i++) {
                r = probe_selected(c, d->loader, &d->loader->probes[i], tmpl.tracer, re, &gsel);
                if (r < 0)
                        goto out;
                if (r) {
                        sel[i] = 1;
                        tmpl.n_probes++;
                }
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
}
