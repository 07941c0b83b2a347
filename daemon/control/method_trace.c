/* SPDX-License-Identifier: GPL-2.0-only */
/* method_trace.c - io.skbtraced.Trace: from a decoded request to a live session */
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "filter_spec.h"
#include "json_util.h"
#include "kernel_btf.h"
#include "log.h"
#include "netns.h"
#include "pcap_filter.h"
#include "skbtraced.h"
#include "trace.h"
#include "varlink.h"

/*
 * The request was decoded and checked against the parameter table and the
 * rules that combine parameters (common/trace_params.c) before the handler
 * runs.  What is left here is what only the daemon knows: interfaces and
 * namespaces, the kernel's BTF, the groups file, the attached probes, the
 * limits, and the session itself.
 */

/* The strings a template owns until the session takes them. */
static void tmpl_done(struct skbt_session *t)
{
        free(t->regex);
        free(t->pcap_filter);
        free(t->groups);
        t->regex = t->pcap_filter = t->groups = NULL;
}

/*
 * -i NAME: the daemon looks the name up where the client means it, in the
 * filter's namespace or the client's own, and filters on (namespace, index).
 * A client that sent the index too (ipftctl does, for its own namespace) has
 * looked it up itself: that only narrows its own session, so it is taken as
 * given.
 */
static int resolve_ifname(struct vl_call *call, struct skbt_filter *f)
{
        char err[SKBT_ERR_MAX];
        uint32_t ifindex, netns;
        int r;

        if (!f->ifname[0] || (f->flags & SKBT_F_IFINDEX))
                return 0;
        r = skbt_netns_ifindex(f->flags & SKBT_F_NETNS ? f->netns : 0, call->client->cred.pid,
                               f->ifname, &ifindex, &netns, err, sizeof(err));
        if (r == -ENODEV)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "filter.ifname", "%s", err);
        if (r == -ENOENT)
                return vl_error(call, VL_ERR_INVALID_PARAMETER,
                                f->flags & SKBT_F_NETNS ? "filter.netns" : "filter.ifname", "%s",
                                err);
        if (r < 0)
                return vl_error(call, VL_ERR_NOT_SUPPORTED, "filter.ifname", "%s", err);
        f->ifindex = ifindex;
        f->netns = netns;
        f->flags |= SKBT_F_IFINDEX | SKBT_F_NETNS;
        return 0;
}

/* The filter and the pcap program the client compiled, checked here instruction by
 * instruction: the daemon decides what runs in BPF. */
static int build_filter(struct vl_call *call, const struct skbt_trace_request *req,
                        struct skbt_session *t)
{
        char err[SKBT_ERR_MAX];
        size_t n;
        int r;

        t->filter = req->filter;
        r = resolve_ifname(call, &t->filter);
        if (r < 0)
                return r;
        skbt_filter_describe(&t->filter, t->filter_desc, sizeof(t->filter_desc));
        if (!skbt_trace_given(req, SKBT_TP_PCAP_PROGRAM)) {
                if (!skbt_trace_given(req, SKBT_TP_PCAP_FILTER))
                        return 0;
                /* Compiling would resolve the names in it, on the event loop, as root. */
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "pcap_filter",
                                "pcap_filter is the expression's text, for display; send its "
                                "compiled program as pcap_program (ipftctl compiles it; by "
                                "hand: tcpdump -ddd -y EN10MB 'EXPR', lines joined by commas)");
        }
        if (skbt_cbpf_parse(req->pcap_program, &t->cbpf, err, sizeof(err)) < 0)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "pcap_program", "%s", err);
        /* "all packets and ..." says nothing: the expression alone then. */
        n = t->filter.flags == 0 ? 0 : strlen(t->filter_desc);
        if (skbt_trace_given(req, SKBT_TP_PCAP_FILTER))
                snprintf(t->filter_desc + n, sizeof(t->filter_desc) - n, "%spcap '%s'",
                         n ? " and " : "", req->pcap_filter);
        else
                snprintf(t->filter_desc + n, sizeof(t->filter_desc) - n,
                         "%spcap program (%u instructions)", n ? " and " : "", t->cbpf.len);
        t->pcap_filter = strdup(skbt_trace_given(req, SKBT_TP_PCAP_FILTER) ? req->pcap_filter
                                                                           : req->pcap_program);
        if (!t->pcap_filter)
                return -ENOMEM;
        return 0;
}

/*
 * "fields": names resolved through kernel BTF into offset chains (fields.c),
 * before anything changes in BPF, so a typo fails the call with close matches.
 */
static int resolve_fields(struct vl_call *call, const struct skbt_trace_request *req,
                          struct skbt_session_fields *ret)
{
        char err[SKBT_ERR_MAX * 2];

        ret->n = 0;
        for (uint32_t i = 0; i < req->n_fields; i++) {
                if (skbt_field_resolve(skbt_kernel_btf(), req->fields[i], &ret->f[i], err,
                                       sizeof(err)) < 0)
                        return vl_error(call, VL_ERR_INVALID_PARAMETER, "fields", "%s", err);
                /* A pointer's value is a kernel address: root's only (kptr_restrict). */
                if (ret->f[i].is_ptr && !call->client->admin)
                        return vl_error(call, VL_ERR_INVALID_PARAMETER, "fields",
                                        "field '%s' is a pointer: kernel addresses are shown to "
                                        "root only; ask for a member it points to instead "
                                        "(e.g. skb->dev->ifindex, not skb->dev)",
                                        req->fields[i]);
        }
        ret->n = req->n_fields;
        return 0;
}

/*
 * --ct: where struct nf_conn's members are, from kernel or nf_conntrack
 * module BTF.  Looked for again by each session until found: the module may
 * be loaded after the daemon started.
 */
static int resolve_conntrack(struct vl_call *call, const struct skbt_trace_request *req)
{
        struct skbtraced *d = call->client->d;
        char err[SKBT_ERR_MAX];
        const struct btf *btf;
        int r;

        if (!req->conntrack || d->ct_layout_ok)
                return 0;
        btf = skbt_kernel_btf();
        if (!btf)
                return vl_error(call, VL_ERR_NOT_SUPPORTED, "conntrack",
                                "conntrack needs kernel BTF (/sys/kernel/btf/vmlinux), which the "
                                "daemon cannot read");
        r = skbt_ct_layout_resolve(btf, &d->ct_layout, err, sizeof(err));
        if (r < 0)
                return vl_error(call, VL_ERR_NOT_SUPPORTED, "conntrack", "%s", err);
        d->ct_layout_ok = true;
        return 0;
}

/* Add f to set (of *n) unless it is there; whether it was new. */
static bool field_set_add(struct skbt_field *set, uint32_t *n, const struct skbt_field *f)
{
        for (uint32_t i = 0; i < *n; i++)
                if (memcmp(&set[i], f, sizeof(*f)) == 0)
                        return false;
        set[(*n)++] = *f;
        return true;
}

/*
 * The daemon's table of custom fields has SKBT_FIELDS_MAX entries shared by
 * every session (the BPF programs read them all on each event).  So that no
 * user locks the others, or root, out of -F: a user other than root may
 * reference at most SKBT_FIELDS_PER_USER distinct entries with all of its
 * sessions, and may not take the last SKBT_FIELDS_ROOT_RESERVE free ones.
 */
#define SKBT_FIELDS_PER_USER SKBT_FIELDS_PER_SESSION
#define SKBT_FIELDS_ROOT_RESERVE 4
static int check_field_quota(struct vl_call *call, const struct skbt_session_fields *sf)
{
        struct skbtraced *d = call->client->d;
        struct skbt_field mine[SKBT_FIELDS_MAX + SKBT_FIELDS_PER_SESSION];
        uint32_t n_mine = 0, n_new = 0, n_free = 0;

        if (!sf->n)
                return 0;
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                const struct skbt_session *s = d->slots[i];

                for (uint32_t k = 0; s && s->uid == call->client->cred.uid && k < s->fields.n; k++)
                        if (n_mine < SKBT_FIELDS_MAX)
                                field_set_add(mine, &n_mine, &s->fields.f[k].f);
        }
        for (uint32_t k = 0; k < sf->n; k++) {
                bool in_table = false;

                if (!field_set_add(mine, &n_mine, &sf->f[k].f))
                        continue;
                for (uint32_t i = 0; i < SKBT_FIELDS_MAX && !in_table; i++)
                        in_table = d->fields.refs[i] &&
                                   memcmp(&d->fields.f[i], &sf->f[k].f, sizeof(sf->f[k].f)) == 0;
                n_new += !in_table;
        }
        for (uint32_t i = 0; i < SKBT_FIELDS_MAX; i++)
                n_free += !d->fields.refs[i];
        if (n_mine > SKBT_FIELDS_PER_USER)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "fields",
                                "uid %u would use %u distinct custom fields with its sessions, "
                                "more than the %d one user may (the daemon's table is shared); "
                                "end a session or ask for fields your sessions use",
                                call->client->cred.uid, n_mine, SKBT_FIELDS_PER_USER);
        if (n_new && n_free < n_new + SKBT_FIELDS_ROOT_RESERVE)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "fields",
                                "the daemon's table of custom fields has %u free entries, and "
                                "the last %d are kept for root; ask for fields other sessions "
                                "use, or try again later",
                                n_free, SKBT_FIELDS_ROOT_RESERVE);
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

/* function_graph needs return probes; copy functions' returns are attached anyway (--track). */
static int check_tracer(struct vl_call *call, enum skbt_tracer tracer)
{
        struct skbtraced *d = call->client->d;

        if (tracer != SKBT_TRACER_FUNCTION_GRAPH || (d->loader->returns && d->loader->n_returns))
                return 0;
        return vl_error(call, VL_ERR_NOT_SUPPORTED, "tracer",
                        "tracer function_graph needs return probes (fexit or kretprobe); %s",
                        d->backend == SKBT_BACKEND_TRACEPOINT
                            ? "backend tracepoint has none"
                            : "the daemon attached none (started with --no-return-probes?)");
}

/* --nf-rules needs nftables' trace hook registered and not failed (probes/attach_nft_rule.c). */
static int check_nf_rules(struct vl_call *call)
{
        const struct skbt_loader *l = call->client->d->loader;
        const struct skbt_probe *p =
            l->nft_hook_id < l->n_probes ? &l->probes[l->nft_hook_id] : NULL;

        /* nftables' rules through its trace hook, iptables' numbers from the counters. */
        if ((p && p->attached) || (l->nf_conf && l->nf_conf->xt_rules))
                return 0;
        /* The message names the parameter: ipftctl shows only the message. */
        return vl_error(call, VL_ERR_NOT_SUPPORTED, "nf_rules",
                        "nf_rules: the rule behind a verdict cannot be told here: %s",
                        p && p->error ? p->error : l->nft_rule_why);
}

/* What the session shows and how: tracer, output, journeys, limits of its own. */
static int build_output(struct vl_call *call, const struct skbt_trace_request *req,
                        struct skbt_session *t)
{
        const struct skbt_loader *l = call->client->d->loader;
        int r;

        r = check_tracer(call, req->tracer);
        if (r < 0)
                return r;
        t->tracer = req->tracer;
        t->output = req->output;
        /* A recording client keeps every event as JSON and renders output itself, with the
         * same code (render/); output still decides what the session hears. */
        t->record = req->record;
        t->render = req->record ? SKBT_OUTPUT_JSON : req->output;
        t->track = req->track;
        t->fmt.detail = req->detail;
        t->fmt.stack = req->stack;
        t->ct = req->conntrack;
        t->wait_attached = req->wait_attached;
        t->dump_skb = req->dump_skb;
        t->nf_rules = req->nf_rules;
        t->fmt.nf_rules = req->nf_rules;
        if (t->nf_rules && (r = check_nf_rules(call)) < 0)
                return r;
        /* The kernel hashes pointers in a dump, but integers that hold addresses
         * (_skb_refdst, _nfct) print as they are: kernel addresses go only to root
         * (DESIGN.md, conventions 11), as pointer fields do. */
        if (t->dump_skb && !call->client->admin)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "dump_skb",
                                "dump_skb is for root only: a dump holds kernel addresses in "
                                "integer members (_skb_refdst, _nfct) that no hashing hides");
        /* Aggregate blocks group events by track id: they need them. */
        t->ident = t->track || skbt_output_is_aggregate(t->output);
        t->fmt.track = t->ident;
        t->snapshot = req->snapshot;
        t->count_limit = req->count;
        t->egress_probe = SKBT_NO_PROBE;
        if (skbt_trace_given(req, SKBT_TP_EGRESS)) {
                t->egress_probe = find_probe(l, req->egress);
                if (t->egress_probe == SKBT_NO_PROBE)
                        return vl_error(call, VL_ERR_INVALID_PARAMETER, "egress",
                                        "egress probe '%s' is not attached here; see 'ipftctl "
                                        "list'",
                                        req->egress);
        }
        if (skbt_trace_given(req, SKBT_TP_REGEX)) {
                t->regex = strdup(req->regex);
                if (!t->regex)
                        return -ENOMEM;
        }
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
static int check_session_limits(struct vl_call *call, double duration, uint64_t *ret_usec,
                                const char **ret_reason)
{
        struct skbt_client *c = call->client;
        const struct skbt_config *cfg = &c->d->opt.cfg;
        /* Rounded up: a duration below the timer's microsecond must still end the session
         * (1e-7 s once truncated to 0, "no timer", and the session never ended). */
        uint64_t usec = (uint64_t)ceil(duration * 1e6);
        uint32_t n;

        if (c->d->n_sessions >= cfg->max_sessions)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "max_sessions",
                                "all %u sessions skbtraced allows are in use (max_sessions); try "
                                "again later ('ipftctl sessions' lists them)",
                                cfg->max_sessions);
        n = c->admin ? 0 : count_user_sessions(c->d, c->cred.uid);
        if (!c->admin && n >= cfg->max_sessions_per_user)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "max_sessions_per_user",
                                "uid %u already has %u sessions, the most one user may have "
                                "(max_sessions_per_user); end one first ('ipftctl sessions', "
                                "'ipftctl stop ID')",
                                c->cred.uid, n);
        *ret_reason = "duration";
        if (cfg->max_duration_usec && usec > cfg->max_duration_usec)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "max_duration",
                                "duration %g s is longer than skbtraced allows: at most %" PRIu64
                                " s (max_duration)",
                                duration, cfg->max_duration_usec / 1000000);
        if (cfg->max_duration_usec && usec == 0) {
                usec = cfg->max_duration_usec;
                *ret_reason = "max_duration";
        }
        *ret_usec = usec;
        return 0;
}

/* The session is live: its first reply. */
/* What of the session's needs was attached when it started; the rest follows as "progress". */
static json_object *started_attach_json(const struct skbt_session *s)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "total", json_object_new_int64(s->attach_total));
        json_object_object_add(o, "attached", json_object_new_int64(s->attach_live));
        json_object_object_add(o, "failed", json_object_new_int64(s->attach_failed));
        json_object_object_add(o, "wait", json_object_new_boolean(s->wait_attached));
        return o;
}

static int reply_started(struct vl_call *call, const struct skbt_session *s, uint64_t usec,
                         const char *timer_reason)
{
        _cleanup_json_ json_object *reply = json_object_new_object();
        json_object *started = json_object_new_object();

        if (!reply || !started || json_object_object_add(reply, "started", started) < 0) {
                json_object_put(started);
                return -ENOMEM;
        }
        json_object_object_add(started, "session", json_object_new_uint64(s->id));
        json_object_object_add(started, "probes", json_object_new_int64(s->n_probes));
        json_object_object_add(started, "attach", started_attach_json(s));
        if (s->rate_limit)
                json_object_object_add(started, "rate_limit", json_object_new_int64(s->rate_limit));
        if (strcmp(timer_reason, "max_duration") == 0)
                json_object_object_add(started, "max_duration",
                                       json_object_new_double((double)usec / 1e6));
        return vl_reply(call, reply, true);
}

static int start_session(struct vl_call *call, struct skbt_session *t, const uint8_t *sel,
                         double duration)
{
        struct skbt_client *c = call->client;
        const char *timer_reason = "duration";
        struct skbt_session_output out;
        struct skbt_session *s;
        uint64_t usec = 0;
        int r;

        r = check_session_limits(call, duration, &usec, &timer_reason);
        if (r < 0)
                return r;
        t->uid = c->cred.uid;
        t->pid = c->cred.pid;
        /* Like kptr_restrict: kernel addresses only for root (output/kaddr.h). */
        t->hide_kaddr = !c->admin;
        /* The tracking maps are shared: a member's sessions may fill them only so fast. */
        t->track_limited = !c->admin && c->d->opt.cfg.track_quota;
        t->rate_limit = c->d->opt.cfg.rate_limit;
        if (!c->admin && (r = check_field_quota(call, &t->fields)) < 0)
                return r;
        trace_stream_output(c, &out);
        /* nftables' trace hook on before the session sees verdicts (off again with the last). */
        if (t->nf_rules) {
                char err[SKBT_ERR_MAX];

                r = skbt_nf_rules_hold(c->d, err, sizeof(err));
                if (r < 0) {
                        /* What the hold took before it failed goes if no session needs it. */
                        skbt_nf_rules_idle(c->d);
                        return vl_error(call, VL_ERR_NOT_SUPPORTED, "nf_rules", "%s", err);
                }
        }
        r = skbt_session_start(c->d, t, sel, &out, &s);
        if (r < 0)
                skbt_nf_rules_idle(c->d);
        if (r == -ENOSPC)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "fields",
                                "the live sessions use all %d entries of the daemon's table of "
                                "custom fields; ask for fields other sessions use, or try again "
                                "later",
                                SKBT_FIELDS_MAX);
        if (r == -EBUSY)
                return vl_error(call, VL_ERR_LIMIT_REACHED, "max_sessions",
                                "all %d session slots are in use; try again later",
                                SKBT_MAX_SESSIONS);
        if (r < 0)
                return r;
        /* The session owns the strings now. */
        t->regex = t->pcap_filter = t->groups = NULL;
        c->session = s;
        if (usec > 0 && skbt_session_set_duration(s, usec, timer_reason) < 0) {
                skbt_session_end(s, timer_reason);
                return 0;
        }
        return reply_started(call, s, usec, timer_reason);
}

int method_trace(struct vl_call *call, void *args)
{
        struct skbt_trace_request *req = args;
        _cleanup_(tmpl_done) struct skbt_session t = {};
        _cleanup_free_ uint8_t *sel = NULL;
        int r;

        /* The dispatcher decoded the members and ran the rules that combine them (the method
         * row's check hook: skbt_trace_request_finish(), the client's rules too). */
        if (call->client->session)
                return vl_error(call, VL_ERR_SESSION_ACTIVE, NULL,
                                "this connection already has a trace session; open another "
                                "connection for a second one");
        if ((r = build_filter(call, req, &t)) < 0 ||
            (r = resolve_fields(call, req, &t.fields)) < 0 ||
            (r = resolve_conntrack(call, req)) < 0 || (r = build_output(call, req, &t)) < 0 ||
            (r = trace_select_probes(call, req, &t, &sel)) < 0)
                return r;
        call->client->raw_output = req->raw_output;
        return start_session(call, &t, sel, req->duration);
}
