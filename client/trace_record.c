/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_record.c - ipftctl trace -w: record a session while showing it as asked */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "json_util.h"
#include "log.h"
#include "replay.h"
#include "trace_args.h"
#include "trace_record.h"
#include "util.h"
#include "varlink_client.h"

#define QUOTE_MAX 64
#define FLUSH_NS 1000000000ULL /* a cut-short recording loses at most this much */

/* ---- options ---- */

/* DIGITS then an optional unit from units (value: its multiplier). */
static int parse_scaled(const char *what, const char *s, const char *const units[],
                        const uint64_t mult[], size_t n_units, uint64_t *ret, char *err,
                        size_t errlen)
{
        uint64_t v = 0, m = 1;
        const char *p;

        for (p = s; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        goto bad;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (p == s)
                goto bad;
        if (*p) {
                size_t i;

                for (i = 0; i < n_units; i++)
                        if (strcmp(p, units[i]) == 0)
                                break;
                if (i == n_units)
                        goto bad;
                m = mult[i];
        }
        if (v == 0 || v > UINT64_MAX / m)
                goto bad;
        *ret = v * m;
        return 0;
bad:
        return skbt_fail(err, errlen, "invalid %s '%.*s': expected a number greater than 0 with %s",
                         what, QUOTE_MAX, s, units[n_units]);
}

int record_parse_size(const char *s, uint64_t *ret, char *err, size_t errlen)
{
        static const char *const units[] = {"K", "M", "G", "T",
                                            "an optional unit K, M, G or T (powers of 1024)"};
        static const uint64_t mult[] = {1ULL << 10, 1ULL << 20, 1ULL << 30, 1ULL << 40};

        return parse_scaled("size", s, units, mult, 4, ret, err, errlen);
}

int record_parse_age(const char *s, uint64_t *ret, char *err, size_t errlen)
{
        static const char *const units[] = {"s", "m", "h", "d",
                                            "an optional unit s, m, h or d (seconds without)"};
        static const uint64_t mult[] = {1000000000ULL, 60000000000ULL, 3600000000000ULL,
                                        86400000000000ULL};
        uint64_t v;
        int r = parse_scaled("age", s, units, mult, 4, &v, err, errlen);

        if (r < 0)
                return r;
        /* Plain seconds. */
        if (s[strlen(s) - 1] >= '0' && s[strlen(s) - 1] <= '9') {
                if (v > UINT64_MAX / 1000000000ULL)
                        return skbt_fail(err, errlen, "invalid age '%.*s': too long", QUOTE_MAX, s);
                v *= 1000000000ULL;
        }
        *ret = v;
        return 0;
}

int record_args_option(struct record_opts *r, int c, const char *arg, char *err, size_t errlen)
{
        uint64_t v;

        switch (c) {
        case REC_OPT_WRITE:
                if (!*arg)
                        return skbt_fail(err, errlen, "-w needs a file name");
                r->path = arg;
                return 0;
        case REC_OPT_ROTATE_SIZE:
                return record_parse_size(arg, &r->rotate_bytes, err, errlen);
        case REC_OPT_ROTATE_AGE:
                return record_parse_age(arg, &r->rotate_ns, err, errlen);
        case REC_OPT_ROTATE_KEEP:
                v = 0;
                for (const char *p = arg; *p; p++) {
                        if (*p < '0' || *p > '9' || v > 1000000)
                                break;
                        v = v * 10 + (uint64_t)(*p - '0');
                }
                if (!*arg || strspn(arg, "0123456789") != strlen(arg) || v < 1 || v > 1000000)
                        return skbt_fail(err, errlen,
                                         "invalid --rotate-keep '%.*s': expected a number of "
                                         "parts from 1 to 1000000",
                                         QUOTE_MAX, arg);
                r->keep = (uint32_t)v;
                return 0;
        case REC_OPT_COMPRESS:
                if (rec_compress_from_string(arg, &r->compress) < 0)
                        return skbt_fail(err, errlen,
                                         "invalid compression '%.*s': expected zstd, gzip or none",
                                         QUOTE_MAX, arg);
                r->compress_given = true;
                return 0;
        }
        return -EINVAL;
}

int record_args_check(struct record_opts *r, char *err, size_t errlen)
{
        if (!r->path) {
                if (r->rotate_bytes || r->rotate_ns || r->keep || r->compress_given)
                        return skbt_fail(err, errlen, "--rotate-*, --compress: only with -w FILE");
                if (r->quiet)
                        return skbt_fail(err, errlen, "-o none shows nothing: only with -w FILE");
                return 0;
        }
        if (r->keep && !r->rotate_bytes && !r->rotate_ns)
                return skbt_fail(err, errlen, "--rotate-keep needs --rotate-size or --rotate-age");
        if (!r->compress_given)
                r->compress = rec_compress_for_path(r->path);
        return 0;
}

void record_args_usage(FILE *f)
{
        fputs("Recording (ipftctl show renders a recording again, in any format):\n"
              "  -w, --write FILE           also write every event to FILE (JSON lines with\n"
              "                             a header: daemon, kernel, probes, this request);\n"
              "                             standard output stays as -o asks (-o none: nothing)\n"
              "      --compress zstd|gzip|none  compress FILE (default: by its extension,\n"
              "                             .zst or .gz, else none)\n"
              "      --rotate-size SIZE     start a new part past SIZE bytes (K, M, G, T)\n"
              "      --rotate-age AGE       start a new part after AGE (s, m, h, d); parts\n"
              "                             are FILE with -NNNN before its extension\n"
              "      --rotate-keep N        keep only the newest N parts\n",
              f);
}

/* ---- the recording ---- */

struct trace_record {
        struct rec_writer *w;
        struct replay *display;
        json_object *header; /* until the session starts */
        uint64_t lost[4];    /* last written: ring buffer, queue, rate, skipped by the kernel */
        uint64_t events;     /* lines written */
        uint64_t flushed_ns;
        bool aggregate;
        bool started, closed;
};

static uint64_t now_ns(void)
{
        return skbt_now_ns();
}

static int64_t mono_to_real_ns(void)
{
        struct timespec m, r;

        clock_gettime(CLOCK_MONOTONIC, &m);
        clock_gettime(CLOCK_REALTIME, &r);
        return ((int64_t)r.tv_sec - (int64_t)m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static enum replay_format display_format(const struct trace_opts *o)
{
        if (o->pcapng)
                return REPLAY_PCAPNG;
        if (o->crossings)
                return REPLAY_CROSSINGS;
        switch (o->req.output) {
        case SKBT_OUTPUT_JSON:
                return REPLAY_JSON;
        case SKBT_OUTPUT_AGGREGATE:
                return REPLAY_AGGREGATE;
        case SKBT_OUTPUT_AGGREGATE_JSON:
                return REPLAY_AGGREGATE_JSON;
        default:
                return REPLAY_TEXT;
        }
}

/* A Status or List reply's parameters, owned by the caller; NULL (warned) on failure. */
static json_object *ask(const struct ctl *ctl, const char *method, const char *member_name)
{
        _cleanup_json_ json_object *reply = NULL;
        json_object *params = NULL, *v;

        if (call_once(ctl, method, NULL, &reply, &params) < 0)
                return NULL;
        if (member_name) {
                if (!json_object_object_get_ex(params, member_name, &v))
                        return NULL;
                return json_object_get(v);
        }
        return json_object_get(params);
}

static json_object *header_new(const struct ctl *ctl, int argc, char **argv, json_object *params)
{
        _cleanup_json_ json_object *h = json_object_new_object();
        json_object *cmd, *clock, *client;
        uint8_t id[16];
        char idhex[33], host[256] = "";

        if (!h)
                return NULL;
        /* Parts of one recording, and copies of it, say which recording they belong to. */
        if (getrandom(id, sizeof(id), 0) != sizeof(id))
                return NULL;
        for (int i = 0; i < 16; i++)
                snprintf(idhex + 2 * i, 3, "%02x", id[i]);
        gethostname(host, sizeof(host) - 1);
        json_object_object_add(h, "record", json_object_new_string("header"));
        json_object_object_add(h, "format", json_object_new_int(REC_FORMAT));
        json_object_object_add(h, "id", json_object_new_string(idhex));
        json_object_object_add(h, "created_usec", json_object_new_uint64(skbt_realtime_usec()));
        json_object_object_add(h, "host", json_object_new_string(host));
        client = json_object_new_object();
        json_object_object_add(client, "version", json_object_new_string(SKBT_VERSION));
        cmd = json_object_new_array();
        json_object_array_add(cmd, json_object_new_string("ipftctl"));
        for (int i = 0; i < argc; i++)
                json_object_array_add(cmd, json_object_new_string(argv[i]));
        json_object_object_add(client, "command", cmd);
        json_object_object_add(h, "ipftctl", client);
        /* What produced the events: the daemon and kernel (Status), every probe and why
         * it is or is not attached (List), and what this session asked for. */
        json_object_object_add(h, "daemon", ask(ctl, "io.skbtraced.Status", NULL));
        json_object_object_add(h, "probes", ask(ctl, "io.skbtraced.List", "probes"));
        json_object_object_add(h, "request", json_object_get(params));
        clock = json_object_new_object();
        json_object_object_add(clock, "mono_to_real_ns", json_object_new_int64(mono_to_real_ns()));
        json_object_object_add(h, "clock", clock);
        return TAKE_PTR(h);
}

int trace_record_new(const struct ctl *ctl, const struct trace_opts *o, int argc, char **argv,
                     json_object *params, struct trace_record **ret)
{
        _cleanup_(trace_record_freep) struct trace_record *t = calloc(1, sizeof(*t));
        struct rec_write_opts wo = {
            .path = o->rec.path,
            .compress = o->rec.compress,
            .rotate_bytes = o->rec.rotate_bytes,
            .rotate_ns = o->rec.rotate_ns,
            .keep = o->rec.keep,
        };
        struct replay_opts ro = {
            .format = display_format(o),
            .fmt = {.track = o->req.track || skbt_output_is_aggregate(o->req.output),
                    .detail = o->req.detail,
                    .stack = o->req.stack,
                    .nf_rules = o->req.nf_rules},
            .graph = o->req.tracer == SKBT_TRACER_FUNCTION_GRAPH,
            .egress = skbt_trace_given(&o->req, SKBT_TP_EGRESS) ? o->req.egress : NULL,
            .mono_to_real_ns = mono_to_real_ns(),
            .fd = STDOUT_FILENO,
        };
        int r;

        if (!t)
                return log_error_errno(-ENOMEM, "out of memory");
        /* The daemon sends JSON with the packet bytes, whatever is shown: the file
         * must hold what every output format needs (pcapng too). */
        if (json_object_object_add(params, "record", json_object_new_boolean(1)) < 0 ||
            json_object_object_add(params, "snapshot", json_object_new_boolean(1)) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        t->header = header_new(ctl, argc, argv, params);
        if (!t->header)
                return log_error_errno(-ENOMEM, "cannot build the recording's header");
        r = rec_writer_new(&wo, &t->w);
        if (r < 0)
                return r;
        /* -o none: nothing to render, the client's cost is the file alone. */
        if (!o->rec.quiet) {
                r = replay_new(&ro, &t->display);
                if (r < 0)
                        return log_error_errno(r, "cannot set up the output: %m");
        }
        t->aggregate = ro.format == REPLAY_AGGREGATE || ro.format == REPLAY_AGGREGATE_JSON;
        t->flushed_ns = now_ns();
        *ret = TAKE_PTR(t);
        return 0;
}

struct trace_record *trace_record_free(struct trace_record *t)
{
        if (!t)
                return NULL;
        rec_writer_free(t->w);
        replay_free(t->display);
        json_object_put(t->header);
        free(t);
        return NULL;
}

static int write_json(struct trace_record *t, json_object *o, bool open)
{
        size_t len;
        const char *s = json_object_to_json_string_length(
            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        _cleanup_free_ char *line = NULL;

        if (!s || len < 2)
                return log_error_errno(-ENOMEM, "out of memory");
        /* The header is left open: each part closes it with its number. */
        if (open)
                return rec_writer_header(t->w, s, len - 1);
        line = malloc(len + 1);
        if (!line)
                return log_error_errno(-ENOMEM, "out of memory");
        memcpy(line, s, len);
        line[len] = '\n';
        return rec_writer_lines(t->w, line, len + 1, now_ns());
}

int trace_record_started(struct trace_record *t, json_object *started)
{
        int r;

        json_object *clock = member(t->header, "clock", json_type_object);

        json_object_object_add(t->header, "session", json_object_get(started));
        /* Where "+SECONDS" counts from (ipftctl show --since). */
        if (clock)
                json_object_object_add(clock, "start_ns", json_object_new_uint64(now_ns()));
        r = write_json(t, t->header, true);
        if (r < 0)
                return log_error_errno(r, "cannot write %s: %m", rec_writer_path(t->w));
        t->started = true;
        fprintf(stderr, "Recording to %s.\n", rec_writer_path(t->w));
        return 0;
}

static uint64_t count_lines(const char *s, size_t len)
{
        uint64_t n = 0;

        for (const char *p = s, *end = s + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
                n++;
        return n;
}

int trace_record_output(struct trace_record *t, const char *data, size_t len)
{
        int r = rec_writer_lines(t->w, data, len, now_ns());

        if (r < 0)
                return log_error_errno(r, "cannot write %s: %m", rec_writer_path(t->w));
        t->events += count_lines(data, len);
        /* What is shown comes from the same lines, rendered here. */
        if (t->display) {
                r = replay_feed(t->display, data, len);
                if (r < 0)
                        return r;
        }
        return trace_record_tick(t);
}

int trace_record_loss(struct trace_record *t, const uint64_t lost[4])
{
        char line[256];
        int n;

        if (memcmp(lost, t->lost, sizeof(t->lost)) == 0)
                return 0;
        memcpy(t->lost, lost, sizeof(t->lost));
        /* Where in the stream the counters grew: the gap is before this line. */
        n = snprintf(line, sizeof(line),
                     REC_META_PREFIX "loss\",\"events\":%" PRIu64 ",\"lost_ringbuf\":%" PRIu64
                                     ",\"lost_queue\":%" PRIu64 ",\"lost_rate\":%" PRIu64
                                     ",\"lost_missed\":%" PRIu64 "}\n",
                     t->events, lost[0], lost[1], lost[2], lost[3]);
        return rec_writer_lines(t->w, line, (size_t)n, now_ns());
}

int trace_record_tick(struct trace_record *t)
{
        uint64_t now = now_ns();
        int r;

        if (now - t->flushed_ns >= FLUSH_NS) {
                r = rec_writer_flush(t->w);
                if (r < 0)
                        return log_error_errno(r, "cannot write %s: %m", rec_writer_path(t->w));
                t->flushed_ns = now;
        }
        return t->aggregate && t->display ? replay_tick(t->display, now) : 0;
}

int trace_record_tick_ms(const struct trace_record *t)
{
        return t->aggregate ? 100 : (int)(FLUSH_NS / 1000000);
}

int trace_record_summary(struct trace_record *t, json_object *summary)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        int r, r2;

        if (!o)
                return log_error_errno(-ENOMEM, "out of memory");
        json_object_object_add(o, "record", json_object_new_string("summary"));
        json_object_object_foreach (summary, key, val)
                json_object_object_add(o, key, json_object_get(val));
        r = write_json(t, o, false);
        r2 = rec_writer_close(t->w);
        t->closed = true;
        if (r < 0 || r2 < 0)
                return log_error_errno(r < 0 ? r : r2, "cannot write %s: %m",
                                       rec_writer_path(t->w));
        r = t->display ? replay_finish(t->display) : 0;
        if (r < 0)
                return r;
        fprintf(stderr, "Recorded %" PRIu64 " events to %s%s.\n", t->events,
                rec_writer_parts(t->w) > 1 ? "parts up to " : "", rec_writer_path(t->w));
        return 0;
}

void trace_record_abandon(struct trace_record *t)
{
        if (t && !t->started)
                rec_writer_abandon(t->w);
}
