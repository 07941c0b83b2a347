/* SPDX-License-Identifier: GPL-2.0-only */
/* method_sessions.c - io.skbtraced.Sessions and io.skbtraced.Stop */
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "filter_spec.h"
#include "json_util.h"
#include "log.h"
#include "skbtraced.h"
#include "track_agg.h"
#include "varlink.h"
#include "util.h"

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
        if (s->record)
                json_object_object_add(o, "record", json_object_new_boolean(1));
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
        json_object_object_add(o, "conntrack", json_object_new_boolean(s->ct));
        json_object_object_add(o, "dump_skb", json_object_new_boolean(s->dump_skb));
        json_object_object_add(o, "nf_rules", json_object_new_boolean(s->nf_rules));
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
        json_object_object_add(o, "lost_missed", json_object_new_uint64(s->lost_missed));
        json_object_object_add(o, "rate_limit", json_object_new_int64(s->rate_limit));
        if (s->ident)
                json_object_object_add(o, "track_refused",
                                       json_object_new_uint64(skbt_session_track_refused(s)));
        json_object_object_add(o, "queued_bytes", json_object_new_uint64(skbt_session_queued(s)));
        return o;
}

int method_sessions(struct vl_call *call, void *args)
{
        struct skbt_client *c = call->client;
        struct skbtraced *d = c->d;
        _cleanup_json_ json_object *reply = json_object_new_object();
        json_object *arr = json_object_new_array();

        if (!reply || !arr || json_object_object_add(reply, "sessions", arr) < 0) {
                json_object_put(arr);
                return -ENOMEM;
        }
        /* Fresh loss counts: the periodic poll may be up to 250 ms old. */
        if (d->n_sessions)
                skbt_sessions_poll_missed(d);
        skbt_sessions_poll_lost(d);
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                struct skbt_session *s = d->slots[i];

                if (s && session_visible(c, s))
                        json_object_array_add(arr, session_to_json(s));
        }
        return vl_reply(call, reply, false);
}

int method_stop(struct vl_call *call, void *args)
{
        const struct vl_stop_args *a = args;
        struct skbt_client *c = call->client;
        struct skbtraced *d = c->d;
        _cleanup_json_ json_object *reply = json_object_new_object();
        struct skbt_session *s = NULL;

        if (!reply)
                return -ENOMEM;
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS && !s; i++)
                if (d->slots[i] && d->slots[i]->id == a->session)
                        s = d->slots[i];
        /* Another user's session is answered as absent: not even its id leaks. */
        if (!s || !session_visible(c, s))
                return vl_error(call, VL_ERR_NO_SUCH_SESSION, "session", "no session %" PRIu64 "%s",
                                a->session,
                                c->admin ? "" : " of yours (you can see and stop only your own)");
        log_info("session %" PRIu64 " (uid %u) stopped by uid %u pid %d", s->id, s->uid,
                 c->cred.uid, c->cred.pid);
        json_object_object_add(reply, "summary", skbt_session_end_summary(s, "stopped"));
        return vl_reply(call, reply, false);
}
