/* SPDX-License-Identifier: GPL-2.0-only */
/* method_status.c - io.skbtraced.Status: backend, probes, sessions, limits, losses, memory */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "groups.h"
#include "json_util.h"
#include "live.h"
#include "msgframe.h"
#include "skbtraced.h"
#include "varlink.h"
#include "util.h"

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
        const struct skbt_loader *l = d->loader;
        const struct skbt_probe *hook =
            l->nft_hook_id < l->n_probes ? &l->probes[l->nft_hook_id] : NULL;
        json_object *n = json_object_new_object();
        uint64_t deep = 0;
        bool rules;

        skbt_loader_read_stat(d->loader, SKBT_STAT_NF_DEEP, &deep);
        json_object_object_add(n, "probes", json_object_new_int64(d->loader->n_nf));
        json_object_object_add(n, "too_deep", json_object_new_int64((int64_t)deep));
        /* The rule behind a verdict (nf_rules): can it be told, and is the hook on now. */
        rules = hook && hook->attached;
        json_object_object_add(n, "rules", json_object_new_boolean(rules));
        /* iptables rule numbers (per-rule counters), with or without nftables' hook. */
        json_object_object_add(
            n, "iptables_rules",
            json_object_new_boolean(l->nf_conf && (l->nf_conf->xt_rules & SKBT_XT_RULES_IP)));
        json_object_object_add(
            n, "ip6tables_rules",
            json_object_new_boolean(l->nf_conf && (l->nf_conf->xt_rules & SKBT_XT_RULES_IP6)));
        if (!rules)
                json_object_object_add(n, "rules_unavailable",
                                       json_object_new_string(hook && hook->error
                                                                  ? hook->error
                                                                  : d->loader->nft_rule_why));
        json_object_object_add(n, "trace_hook_on", json_object_new_boolean(d->nft_trace_fd >= 0));
        return n;
}

/* Packets not tracked for sessions over their track_quota, ended sessions' included. */
static uint64_t track_refused(const struct skbtraced *d)
{
        uint64_t n = d->track_refused_total;

        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++)
                if (d->slots[i])
                        n += skbt_session_track_refused(d->slots[i]);
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
        json_object_object_add(t, "refused", json_object_new_uint64(track_refused(d)));
        return t;
}

static json_object *backends_json(const struct skbtraced *d)
{
        json_object *arr = json_object_new_array();

        for (int b = 0; b < _SKBT_BACKEND_MAX; b++) {
                json_object *e = json_object_new_object();

                json_object_object_add(
                    e, "name",
                    json_object_new_string(skbt_backend_to_string((enum skbt_backend)b)));
                json_object_object_add(e, "usable", json_object_new_boolean(d->caps.usable[b]));
                json_object_object_add(e, "reason", json_object_new_string(d->caps.reason[b]));
                json_object_array_add(arr, e);
        }
        return arr;
}

static json_object *probes_json(const struct skbtraced *d)
{
        const struct skbt_loader *l = d->loader;
        json_object *probes = json_object_new_object();
        const char *uncounted = skbt_misses_uncounted(d->backend, d->kernel);
        uint64_t lost = 0, graph_lost = 0;

        skbt_loader_read_stat(l, SKBT_STAT_HOP_LOST, &lost);
        skbt_loader_read_stat(l, SKBT_STAT_GRAPH_LOST, &graph_lost);
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
        /* Of the tracepoints, those served by the shared programs (attach cookies). */
        json_object_object_add(probes, "tracepoints_shared", json_object_new_int64(l->n_tp_shared));
        /* Of the functions, fentry stubs of the shared body, and their hits it missed. */
        json_object_object_add(probes, "functions_shared", json_object_new_int64(l->n_fentry_hop));
        json_object_object_add(probes, "shared_body_missed", json_object_new_int64((int64_t)lost));
        /* function_graph's per-task call stacks, and the returns they had no room for. */
        json_object_object_add(
            probes, "return_stacks",
            json_object_new_string(skbt_graph_stacks_to_string(l->graph_stacks)));
        json_object_object_add(probes, "returns_lost", json_object_new_int64((int64_t)graph_lost));
        /* Runs of our programs the kernel skipped (a BPF program already running on that
         * CPU), and kprobes that missed, since start; what this kernel cannot tell, or null. */
        json_object_object_add(probes, "missed_runs", json_object_new_uint64(l->misses.total));
        json_object_object_add(probes, "missed_runs_uncounted",
                               uncounted ? json_object_new_string(uncounted) : NULL);
        /* What reading them costs: a syscall per program and kprobe link, on the event loop. */
        json_object_object_add(probes, "missed_runs_read", json_object_new_int64(l->misses.read_n));
        json_object_object_add(probes, "missed_runs_read_us",
                               json_object_new_uint64(l->misses.read_ns / 1000));
        return probes;
}

/* Probes that were tried and failed, with why. */
static json_object *skipped_json(const struct skbt_loader *l)
{
        json_object *skipped = json_object_new_array();

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
        return skipped;
}

static json_object *sessions_json(const struct skbtraced *d)
{
        const struct skbt_config *cfg = &d->opt.cfg;
        json_object *sessions = json_object_new_object();

        json_object_object_add(sessions, "active", json_object_new_int64(d->n_sessions));
        json_object_object_add(sessions, "max", json_object_new_int64(cfg->max_sessions));
        json_object_object_add(sessions, "max_per_user",
                               json_object_new_int64(cfg->max_sessions_per_user));
        json_object_object_add(sessions, "slots", json_object_new_int64(SKBT_MAX_SESSIONS));
        /* What BPF sees: the active-session mask in the programs' global state. */
        json_object_object_add(
            sessions, "bpf_active",
            json_object_new_int64(__builtin_popcountll(skbt_live_active(d->loader))));
        return sessions;
}

static json_object *connections_json(const struct skbtraced *d)
{
        const struct skbt_config *cfg = &d->opt.cfg;
        json_object *conns = json_object_new_object();

        json_object_object_add(conns, "active", json_object_new_int64(d->n_clients));
        json_object_object_add(conns, "max", json_object_new_int64(cfg->max_connections));
        json_object_object_add(conns, "max_per_user",
                               json_object_new_int64(cfg->max_connections_per_user));
        /* Admission (skbtraced(8) SECURITY): refused at accept, closed for idleness. */
        json_object_object_add(conns, "refused", json_object_new_uint64(d->refused_connections));
        json_object_object_add(conns, "idle_closed", json_object_new_uint64(d->idle_closed));
        return conns;
}

static json_object *limits_json(const struct skbt_config *cfg)
{
        json_object *limits = json_object_new_object();

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
        json_object_object_add(limits, "idle_timeout",
                               json_object_new_double((double)cfg->idle_timeout_usec / 1e6));
        json_object_object_add(limits, "max_queued", json_object_new_uint64(cfg->max_queued_bytes));
        json_object_object_add(limits, "track_quota", json_object_new_int64(cfg->track_quota));
        return limits;
}

/* Totals since start: ended sessions' and the live ones' so far. */
static void add_totals(json_object *o, const struct skbtraced *d)
{
        uint64_t events = d->events_total, lq = d->lost_queue_total, lr = d->lost_ringbuf_total;
        uint64_t lrate = d->lost_rate_total, lmissed = d->lost_missed_total;

        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++) {
                const struct skbt_session *s = d->slots[i];

                if (s) {
                        events += s->events;
                        lq += s->lost_queue;
                        lr += s->lost_ringbuf;
                        lrate += s->lost_rate;
                        lmissed += s->lost_missed;
                }
        }
        json_object_object_add(o, "events", json_object_new_uint64(events));
        json_object_object_add(o, "lost_ringbuf", json_object_new_uint64(lr));
        json_object_object_add(o, "lost_queue", json_object_new_uint64(lq));
        json_object_object_add(o, "lost_rate", json_object_new_uint64(lrate));
        json_object_object_add(o, "lost_missed", json_object_new_uint64(lmissed));
}

static json_object *memory_json(const struct skbtraced *d)
{
        json_object *mem = json_object_new_object();
        uint64_t queued = 0;
        uint32_t n_maps;

        for (const struct skbt_client *cl = d->clients; cl; cl = cl->next)
                queued += cl->out.len + (cl->session ? cl->session->pending.len : 0);
        json_object_object_add(mem, "rss_bytes", json_object_new_uint64(memory_rss_bytes()));
        json_object_object_add(mem, "bpf_map_bytes",
                               json_object_new_uint64(memory_bpf_map_bytes(&n_maps)));
        json_object_object_add(mem, "bpf_maps", json_object_new_int64(n_maps));
        json_object_object_add(mem, "queued_bytes", json_object_new_uint64(queued));
        return mem;
}

static json_object *groups_json(const struct skbtraced *d)
{
        json_object *g = json_object_new_object();

        json_object_object_add(g, "file", json_object_new_string(d->opt.groups_path));
        json_object_object_add(g, "groups", json_object_new_int64(d->groups ? d->groups->n : 0));
        if (!d->groups)
                json_object_object_add(g, "error", json_object_new_string(d->groups_error));
        return g;
}

int method_status(struct vl_call *call, void *args)
{
        struct skbtraced *d = call->client->d;
        const struct skbt_config *cfg = &d->opt.cfg;
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        /* Fresh: the periodic read runs only while sessions do. */
        skbt_sessions_poll_missed(d);
        json_object_object_add(o, "version", json_object_new_string(SKBT_VERSION));
        json_object_object_add(o, "protocol", json_object_new_int(SKBT_PROTOCOL_VERSION));
        json_object_object_add(o, "kernel", json_object_new_string(d->kernel));
        json_object_object_add(o, "backend",
                               json_object_new_string(skbt_backend_to_string(d->backend)));
        json_object_object_add(o, "backend_reason", json_object_new_string(d->backend_reason));
        json_object_object_add(o, "backends", backends_json(d));
        json_object_object_add(o, "probes", probes_json(d));
        json_object_object_add(o, "tracepoints", skbt_idle_tracepoints_json(d));
        json_object_object_add(o, "attach", skbt_idle_to_json(d));
        json_object_object_add(o, "skipped", skipped_json(d->loader));
        json_object_object_add(o, "startup_ms", json_object_new_int64(d->startup_ns / 1000000));
        json_object_object_add(o, "load_ms", json_object_new_int64(d->loader->load_ns / 1000000));
        json_object_object_add(o, "uptime_ns",
                               json_object_new_uint64(skbt_now_ns() - d->start_mono_ns));
        json_object_object_add(o, "sessions", sessions_json(d));
        json_object_object_add(o, "connections", connections_json(d));
        json_object_object_add(o, "limits", limits_json(cfg));
        json_object_object_add(o, "group", json_object_new_string(cfg->group));
        json_object_object_add(o, "group_exists", json_object_new_boolean(d->access_gid_valid));
        /* null: no file, the built-in defaults (and the command line) are in effect. */
        json_object_object_add(
            o, "config", d->opt.config_loaded ? json_object_new_string(d->opt.config_path) : NULL);
        add_totals(o, d);
        json_object_object_add(o, "memory", memory_json(d));
        json_object_object_add(o, "ringbuf_bytes", json_object_new_int64(d->opt.ringbuf_bytes));
        json_object_object_add(o, "tracking", tracking_to_json(d));
        json_object_object_add(o, "netfilter", netfilter_to_json(d));
        json_object_object_add(o, "groups", groups_json(d));
        return vl_reply(call, o, false);
}
