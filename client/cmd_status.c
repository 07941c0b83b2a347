/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_status.c - ipftctl status: the daemon's state, for people or as JSON */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "filter_spec.h"
#include "trace_args.h"
#include "varlink_client.h"

/* ---- status ---- */

void status_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] status [OPTIONS]\n"
              "\n"
              "Show the daemon's version, the kernel, the tracing backend in use and why,\n"
              "the backends probed at start-up, probe, session and connection counts with\n"
              "their limits, the event and loss totals since start, the memory in use and\n"
              "the access group.\n"
              "\n"
              "Options:\n"
              "  -v, --verbose          also list the probes that could not be attached\n"
              "  -o, --output FORMAT    text (default) or json (the reply's parameters)\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl status\n"
              "  ipftctl status -v\n"
              "  ipftctl status -o json | jq .sessions\n",
              f);
}

static void _printf_(2, 3) status_line(const char *key, const char *fmt, ...)
{
        va_list ap;

        printf("%-15s ", key);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/*
 * What is attached now (attach on demand, docs/protocol.md "attach"): nothing
 * while idle, what sessions need while they run, plus the keep-set.
 */
static void status_attach(json_object *a)
{
        const char *keep = member_str(a, "keep_attached");
        json_object *after = NULL;
        double linger = json_object_object_get_ex(a, "idle_detach_after_s", &after)
                            ? json_object_get_double(after)
                            : -1;
        bool idle = json_object_get_boolean(member(a, "idle", json_type_boolean));
        char when[96];

        if (linger < 0)
                snprintf(when, sizeof(when), "never detached (idle_detach_after = never)");
        else
                snprintf(when, sizeof(when), "detached %g s after the last session needing them",
                         linger);
        if (idle)
                status_line("attached:", "nothing attached: no program runs on the packet path; "
                                         "sessions attach what they need");
        else
                status_line("attached:",
                            "%" PRIu64 " probes (%" PRIu64 " functions, %" PRIu64
                            " returns, %" PRIu64 " tracepoints, %" PRIu64 " netfilter) in %" PRIu64
                            " links, %" PRIu64 " pending",
                            member_u64_or(a, "linked", 0), member_u64_or(a, "linked_functions", 0),
                            member_u64_or(a, "linked_returns", 0),
                            member_u64_or(a, "linked_tracepoints", 0),
                            member_u64_or(a, "linked_netfilter", 0), member_u64_or(a, "links", 0),
                            member_u64_or(a, "pending", 0));
        if (keep && strcmp(keep, "none") != 0)
                status_line("", "%" PRIu64 " kept attached (keep_attached = %s); the rest %s",
                            member_u64_or(a, "kept", 0), keep, when);
        else
                status_line("", "probes are attached while sessions need them, %s", when);
}

/* "42.5s", "3m 07s", "2h 03m 10s", "5d 02h 03m 10s". */
static void format_duration(uint64_t ns, char *buf, size_t len)
{
        uint64_t s = ns / 1000000000ULL;

        if (s < 60)
                snprintf(buf, len, "%.1fs", (double)ns / 1e9);
        else if (s < 3600)
                snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s", s / 3600,
                         s / 60 % 60, s % 60);
        else
                snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s",
                         s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}

/* "512 B", "12.3 KiB", "8.0 MiB", "1.2 GiB". */
static void format_bytes(uint64_t n, char *buf, size_t len)
{
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
        double v = (double)n;
        size_t u = 0;

        if (n < 1024) {
                snprintf(buf, len, "%" PRIu64 " B", n);
                return;
        }
        v /= 1024;
        while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void status_print_limits(json_object *limits)
{
        json_object *d = member(limits, "max_duration", json_type_double);
        double dur = d ? json_object_get_double(d) : 0;
        uint64_t rate = member_u64_or(limits, "rate_limit", 0);
        char dbuf[64], qbuf[32], rbuf[48];

        if (!d && (d = member(limits, "max_duration", json_type_int)))
                dur = json_object_get_double(d);
        if (dur > 0)
                format_duration((uint64_t)(dur * 1e9), dbuf, sizeof(dbuf));
        else
                snprintf(dbuf, sizeof(dbuf), "unlimited");
        format_bytes(member_u64_or(limits, "queue_size", 0), qbuf, sizeof(qbuf));
        if (rate)
                snprintf(rbuf, sizeof(rbuf), "%" PRIu64 " events/s", rate);
        else
                snprintf(rbuf, sizeof(rbuf), "unlimited");
        status_line("limits:", "duration %s, queue %s and rate %s per session", dbuf, qbuf, rbuf);
}

static void status_print_backend(json_object *p)
{
        const char *version = member_str(p, "version"), *kernel = member_str(p, "kernel");
        const char *backend = member_str(p, "backend"), *reason = member_str(p, "backend_reason");
        json_object *backends = member(p, "backends", json_type_array);
        uint64_t v;

        if (member_u64(p, "protocol", &v))
                status_line("version:", "%s (protocol %" PRIu64 ")", version ? version : "?", v);
        else
                status_line("version:", "%s", version ? version : "?");
        status_line("kernel:", "%s", kernel ? kernel : "?");
        if (reason && *reason)
                status_line("backend:", "%s (%s)", backend ? backend : "?", reason);
        else
                status_line("backend:", "%s", backend ? backend : "?");
        if (!backends)
                return;
        printf("backends:\n");
        for (size_t i = 0; i < json_object_array_length(backends); i++) {
                json_object *b = json_object_array_get_idx(backends, i);
                const char *name = member_str(b, "name"), *why = member_str(b, "reason");
                bool usable = json_object_get_boolean(member(b, "usable", json_type_boolean));

                printf("  %-13s %s%s%s\n", name ? name : "?", usable ? "usable" : "not usable",
                       why && *why ? ": " : "", why && *why ? why : "");
        }
}

/* Runs of the probes the kernel skipped, and what this kernel does not count. */
static void status_print_missed(json_object *probes)
{
        const char *uncounted = member_str(probes, "missed_runs_uncounted");

        status_line("", "%" PRIu64 " probe runs skipped by the kernel%s%s",
                    member_u64_or(probes, "missed_runs", 0), uncounted ? "; not counted: " : "",
                    uncounted ? uncounted : "");
}

static void status_print_probes(json_object *p)
{
        json_object *probes = member(p, "probes", json_type_object);
        uint64_t v;

        if (probes) {
                status_line(
                    "probes:",
                    "%" PRIu64 " usable (%" PRIu64 " functions, %" PRIu64 " returns, %" PRIu64
                    " tracepoints, %" PRIu64 " netfilter), %" PRIu64 " skipped",
                    member_u64_or(probes, "attached", 0), member_u64_or(probes, "functions", 0),
                    member_u64_or(probes, "returns", 0), member_u64_or(probes, "tracepoints", 0),
                    member_u64_or(probes, "netfilter", 0), member_u64_or(probes, "skipped", 0));
                status_line("",
                            "%" PRIu64 " discovered, %" PRIu64
                            " not attachable with this backend (ipftctl list says why)",
                            member_u64_or(probes, "discovered", 0),
                            member_u64_or(probes, "unsupported", 0));
                status_print_missed(probes);
        }
        if (member_u64(p, "startup_ms", &v))
                status_line(
                    "startup time:", "%" PRIu64 " ms (loading and attaching: %" PRIu64 " ms)", v,
                    member_u64_or(p, "load_ms", 0));
}

/* Sessions, connections and their limits, then what went through and what was lost. */
static void status_print_counts(json_object *p)
{
        json_object *sessions = member(p, "sessions", json_type_object);
        json_object *conns = member(p, "connections", json_type_object);
        json_object *limits = member(p, "limits", json_type_object);
        char buf[64];
        uint64_t v;

        if (member_u64(p, "uptime_ns", &v)) {
                format_duration(v, buf, sizeof(buf));
                status_line("uptime:", "%s", buf);
        }
        if (sessions)
                status_line(
                    "sessions:", "%" PRIu64 " active, %" PRIu64 " max (%" PRIu64 " per user)",
                    member_u64_or(sessions, "active", 0), member_u64_or(sessions, "max", 0),
                    member_u64_or(sessions, "max_per_user", 0));
        if (conns)
                status_line(
                    "connections:", "%" PRIu64 " open, %" PRIu64 " max (%" PRIu64 " per user)",
                    member_u64_or(conns, "active", 0), member_u64_or(conns, "max", 0),
                    member_u64_or(conns, "max_per_user", 0));
        if (limits)
                status_print_limits(limits);
        if (member_u64(p, "events", &v))
                status_line("events:", "%" PRIu64, v);
        status_line("lost:",
                    "%" PRIu64 " ring buffer, %" PRIu64 " client queues, %" PRIu64
                    " over rate limits, %" PRIu64 " skipped by the kernel",
                    member_u64_or(p, "lost_ringbuf", 0), member_u64_or(p, "lost_queue", 0),
                    member_u64_or(p, "lost_rate", 0), member_u64_or(p, "lost_missed", 0));
}

static void status_print_memory(json_object *p)
{
        json_object *mem = member(p, "memory", json_type_object);
        char rss[32], maps[32], queued[32];

        if (!mem)
                return;
        format_bytes(member_u64_or(mem, "rss_bytes", 0), rss, sizeof(rss));
        format_bytes(member_u64_or(mem, "bpf_map_bytes", 0), maps, sizeof(maps));
        format_bytes(member_u64_or(mem, "queued_bytes", 0), queued, sizeof(queued));
        status_line("memory:", "%s resident, %s in %" PRIu64 " BPF maps, %s queued for clients",
                    rss, maps, member_u64_or(mem, "bpf_maps", 0), queued);
}

static void status_print_access(json_object *p)
{
        const char *group = member_str(p, "group");
        json_object *ok = member(p, "group_exists", json_type_boolean);

        if (group && ok && !json_object_get_boolean(ok))
                status_line("access:", "root only (group %s does not exist)", group);
        else if (group)
                status_line("access:", "root and members of group %s", group);
        if (member(p, "config", json_type_string))
                status_line("config file:", "%s", member_str(p, "config"));
        else if (group)
                status_line("config file:", "none (built-in defaults)");
}

/* Packet tracking, netfilter verdicts, probe groups. */
static void status_print_extras(json_object *p)
{
        json_object *v;

        if ((v = member(p, "tracking", json_type_object)) && member(v, "max", json_type_int))
                status_line("tracking:",
                            "%" PRIu64 " packets followed now (map of %" PRIu64 "); %" PRIu64
                            " started, %" PRIu64 " clones, %" PRIu64 " freed, %" PRIu64
                            " stale, %" PRIu64 " evicted, %" PRIu64 " refused (track_quota)",
                            member_u64_or(v, "entries", 0), member_u64_or(v, "max", 0),
                            member_u64_or(v, "created", 0), member_u64_or(v, "clones", 0),
                            member_u64_or(v, "freed", 0), member_u64_or(v, "stale", 0),
                            member_u64_or(v, "evicted", 0), member_u64_or(v, "refused", 0));
        if ((v = member(p, "netfilter", json_type_object)))
                status_line("netfilter:",
                            "%" PRIu64 " table/chain evaluators report verdicts%s; %" PRIu64
                            " evaluations nested too deep to report",
                            member_u64_or(v, "probes", 0),
                            member_u64_or(v, "probes", 0) ? "" : " (see 'ipftctl list')",
                            member_u64_or(v, "too_deep", 0));
        if (!(v = member(p, "groups", json_type_object)))
                return;
        if (member_str(v, "error"))
                status_line("probe groups:", "none: %s", member_str(v, "error"));
        else
                status_line("probe groups:", "%" PRIu64 " from %s", member_u64_or(v, "groups", 0),
                            member_str(v, "file") ? member_str(v, "file") : "?");
}

static void status_print_skipped(json_object *p)
{
        json_object *skipped = member(p, "skipped", json_type_array);

        if (!skipped)
                return;
        printf("skipped probes:\n");
        for (size_t i = 0; i < json_object_array_length(skipped); i++) {
                json_object *s = json_object_array_get_idx(skipped, i);
                const char *name = member_str(s, "name"), *err = member_str(s, "error");

                printf("  %s: %s\n", name ? name : "?", err ? err : "unknown error");
        }
}

/* The Status reply for people, a line per subject. */
static void status_print(json_object *p, bool verbose)
{
        json_object *attach = member(p, "attach", json_type_object);

        status_print_backend(p);
        status_print_probes(p);
        if (attach)
                status_attach(attach);
        status_print_counts(p);
        status_print_memory(p);
        status_print_access(p);
        status_print_extras(p);
        if (verbose)
                status_print_skipped(p);
}

int cmd_status(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"verbose", no_argument, NULL, 'v'},
            {"output", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_json_ json_object *reply = NULL;
        const char *output = "text";
        char err[SKBT_ERR_MAX + 128];
        json_object *params;
        bool verbose = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":vo:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'v':
                        verbose = true;
                        break;
                case 'o':
                        if (args_parse_output(optarg, &output, err, sizeof(err)) < 0)
                                return usage_error("status", err);
                        break;
                case 'h':
                        status_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("status", err);
                }
        }
        if (optind < argc)
                return usage_errorf("status", "unexpected argument '%.64s'", argv[optind]);

        r = call_once(ctl, "io.skbtraced.Status", NULL, &reply, &params);
        if (r < 0)
                return EXIT_ERROR;
        if (strcmp(output, "json") == 0)
                printf("%s\n", json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
        else
                status_print(params, verbose);
        return EXIT_OK;
}
