/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_show.c - ipftctl show: render recordings (trace -w) again, in any output format, filtered */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "filter_spec.h"
#include "json_util.h"
#include "log.h"
#include "recording.h"
#include "replay.h"
#include "skbt_regex.h"
#include "trace_args.h"
#include "util.h"

#define QUOTE_MAX 64
#define SHOW_FILES_MAX 10000

enum {
        OPT_ADDR = 0x100,
        OPT_SPORT,
        OPT_DPORT,
        OPT_PORT,
        OPT_PID,
        OPT_NETNS,
        OPT_MASK,
        OPT_DETAIL,
        OPT_EGRESS,
        OPT_TRACK_ID,
        OPT_PACKET_ID,
        OPT_SINCE,
        OPT_UNTIL,
        OPT_INFO,
};

static const struct option show_longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"detail", no_argument, NULL, OPT_DETAIL},
    {"egress", required_argument, NULL, OPT_EGRESS},
    {"mark", required_argument, NULL, 'm'},
    {"mask", required_argument, NULL, OPT_MASK},
    {"proto", required_argument, NULL, 'p'},
    {"saddr", required_argument, NULL, 's'},
    {"daddr", required_argument, NULL, 'd'},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"sport", required_argument, NULL, OPT_SPORT},
    {"dport", required_argument, NULL, OPT_DPORT},
    {"port", required_argument, NULL, OPT_PORT},
    {"pid", required_argument, NULL, OPT_PID},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"ifname", required_argument, NULL, 'i'},
    {"regex", required_argument, NULL, 'r'},
    {"track-id", required_argument, NULL, OPT_TRACK_ID},
    {"packet-id", required_argument, NULL, OPT_PACKET_ID},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"info", no_argument, NULL, OPT_INFO},
    {"help", no_argument, NULL, 'h'},
    {},
};
static const char show_shortopts[] = ":o:m:p:46s:d:i:r:h";

struct show_opts {
        enum replay_format format;
        bool format_given;
        bool detail;
        bool info;
        const char *egress;
        const char *regex;
        const char *since, *until;
        struct replay_filter filter; /* without the regex and the time window */
        bool help;
};

void show_usage(FILE *f)
{
        fputs("Usage: ipftctl show [OPTIONS] FILE...\n"
              "\n"
              "Render recordings made with 'ipftctl trace -w FILE' again, with the daemon's own\n"
              "renderers: the same lines, blocks and packets as the live session would have\n"
              "shown.  The parts of a rotated recording may be given in any order; each\n"
              "recording is shown in turn.  Needs no daemon.\n"
              "\n"
              "Options:\n"
              "  -o, --output FORMAT        text (default), json, aggregate, aggregate-json,\n"
              "                             crossings or pcapng (binary: redirect it)\n"
              "      --detail               text: also device:index, netns, pid, comm, group\n"
              "      --egress PROBE         aggregate: a packet's block ends there (default:\n"
              "                             the recorded session's)\n"
              "      --info                 what each recording is (daemon, kernel, request,\n"
              "                             parts, events, losses) instead of its events\n"
              "\n"
              "Filters (every one given must match; on the recorded events):\n"
              "  -p, --proto PROTO          icmp, icmp6, tcp, udp, sctp or a number 0-255\n"
              "  -4                         IPv4 packets only\n"
              "  -6                         IPv6 packets only\n"
              "  -s, --saddr ADDR[/PREFIX]  source address\n"
              "  -d, --daddr ADDR[/PREFIX]  destination address\n"
              "      --addr ADDR[/PREFIX]   source or destination address\n"
              "      --sport PORT           source port\n"
              "      --dport PORT           destination port\n"
              "      --port PORT            source or destination port\n"
              "  -m, --mark VALUE[/MASK]    skb mark\n"
              "      --mask MASK            mask for --mark\n"
              "      --pid PID              process context of the probe hit\n"
              "      --netns INODE          network namespace (inode number)\n"
              "  -i, --ifname NAME          device, by its name\n"
              "  -r, --regex RE             probes whose name matches RE (PCRE2)\n"
              "      --track-id N           events of this journey (repeatable)\n"
              "      --packet-id ID         events of this skb, 0x... (repeatable)\n"
              "      --since TIME           events from TIME on: +SECONDS from the session's\n"
              "                             start, or a local time\n"
              "                             [YYYY-MM-DD ]HH:MM:SS[.FRACTION]\n"
              "      --until TIME           events up to TIME, likewise\n"
              "When the recording has track ids (--track or aggregate output), a journey\n"
              "that matched the packet filters once is followed after it, as --track does.\n"
              "  -h, --help                 show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl trace -t drop --duration 600 -w drops.jsonl.zst\n"
              "  ipftctl show drops.jsonl.zst\n"
              "  ipftctl show drops.jsonl.zst -o aggregate -p tcp --dport 443\n"
              "  ipftctl show drops-*.jsonl.zst --since 12:00:00 --until 12:05:00 -o json | jq .\n"
              "  ipftctl show capture.jsonl -o pcapng > capture.pcapng\n"
              "  ipftctl show --info drops.jsonl.zst\n",
              f);
}

static int parse_id(const char *what, const char *s, bool hex, uint64_t *ids, unsigned *n,
                    char *err, size_t errlen)
{
        uint64_t v = 0;
        const char *p = s;
        int digits = 0;

        if (hex && strncmp(p, "0x", 2) == 0)
                p += 2;
        for (; *p; p++, digits++) {
                int d = hex ? skbt_hex_digit(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);

                if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / (hex ? 16 : 10))
                        break;
                v = v * (hex ? 16 : 10) + (uint64_t)d;
        }
        if (*p || !digits)
                return skbt_fail(err, errlen, "invalid %s '%.*s': expected %s", what, QUOTE_MAX, s,
                                 hex ? "0x and hex digits" : "a number");
        if (*n == REPLAY_IDS_MAX)
                return skbt_fail(err, errlen, "more than %d %ss", REPLAY_IDS_MAX, what);
        ids[(*n)++] = v;
        return 0;
}

/* The filter options shared with trace, into the BPF filter's form. */
static int filter_option(struct show_opts *o, int c, const char *arg, bool *v4, bool *v6, char *err,
                         size_t errlen)
{
        struct skbt_filter *f = &o->filter.packet;
        bool has_mask;

        switch (c) {
        case 'p':
                f->flags |= SKBT_F_PROTO;
                return skbt_parse_proto(arg, &f->proto, err, errlen);
        case '4':
                *v4 = true;
                return 0;
        case '6':
                *v6 = true;
                return 0;
        case 's':
                f->flags |= SKBT_F_SADDR;
                return skbt_parse_prefix(arg, &f->saddr, err, errlen);
        case 'd':
                f->flags |= SKBT_F_DADDR;
                return skbt_parse_prefix(arg, &f->daddr, err, errlen);
        case OPT_ADDR:
                f->flags |= SKBT_F_ADDR;
                return skbt_parse_prefix(arg, &f->addr, err, errlen);
        case OPT_SPORT:
                f->flags |= SKBT_F_SPORT;
                return skbt_parse_port(arg, &f->sport, err, errlen);
        case OPT_DPORT:
                f->flags |= SKBT_F_DPORT;
                return skbt_parse_port(arg, &f->dport, err, errlen);
        case OPT_PORT:
                f->flags |= SKBT_F_PORT;
                return skbt_parse_port(arg, &f->port, err, errlen);
        case 'm':
                f->flags |= SKBT_F_MARK;
                f->mark_mask = UINT32_MAX;
                return skbt_parse_mark(arg, &f->mark, &f->mark_mask, &has_mask, err, errlen);
        case OPT_MASK:
                return skbt_parse_u32("mark mask", arg, &f->mark_mask, err, errlen);
        case OPT_PID:
                f->flags |= SKBT_F_PID;
                return skbt_parse_u32("pid", arg, &f->pid, err, errlen);
        case OPT_NETNS:
                f->flags |= SKBT_F_NETNS;
                return skbt_parse_u32("netns inode", arg, &f->netns, err, errlen);
        case 'i':
                return skbt_parse_ifname(arg, o->filter.ifname, err, errlen);
        }
        return 1; /* not a filter option */
}

static int show_option(struct show_opts *o, int c, const char *arg, char *err, size_t errlen)
{
        switch (c) {
        case 'o':
                if (replay_format_from_string(arg, &o->format) < 0)
                        return skbt_fail(err, errlen,
                                         "invalid output format '%.*s': expected text, json, "
                                         "aggregate, aggregate-json, crossings or pcapng",
                                         QUOTE_MAX, arg);
                o->format_given = true;
                return 0;
        case OPT_DETAIL:
                o->detail = true;
                return 0;
        case OPT_EGRESS:
                o->egress = arg;
                return 0;
        case 'r':
                o->regex = arg;
                return args_check_regex(arg, err, errlen);
        case OPT_TRACK_ID:
                return parse_id("track id", arg, false, o->filter.track_ids, &o->filter.n_track_ids,
                                err, errlen);
        case OPT_PACKET_ID:
                return parse_id("packet id", arg, true, o->filter.packet_ids,
                                &o->filter.n_packet_ids, err, errlen);
        case OPT_SINCE:
                o->since = arg;
                return 0;
        case OPT_UNTIL:
                o->until = arg;
                return 0;
        case OPT_INFO:
                o->info = true;
                return 0;
        case 'h':
                o->help = true;
                return 0;
        }
        return 1;
}

/* The options; *first_file is the index of the first FILE argument. */
static int show_args(int argc, char **argv, struct show_opts *o, int *first_file, char *err,
                     size_t errlen)
{
        bool v4 = false, v6 = false;
        int c, r;

        *o = (struct show_opts){0};
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, show_shortopts, show_longopts, NULL)) != -1) {
                r = filter_option(o, c, optarg, &v4, &v6, err, errlen);
                if (r == 1)
                        r = show_option(o, c, optarg, err, errlen);
                if (r == 1) {
                        args_getopt_error(c, argv, show_longopts, err, errlen);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
                if (o->help)
                        return 0;
        }
        if (v4 && v6)
                return skbt_fail(err, errlen, "-4 and -6 cannot be used together");
        if (v4 || v6) {
                o->filter.packet.flags |= SKBT_F_L3;
                o->filter.packet.l3 = v4 ? SKBT_L3_IPV4 : SKBT_L3_IPV6;
        }
        r = skbt_filter_validate(&o->filter.packet, err, errlen);
        if (r < 0)
                return r;
        if (optind >= argc)
                return skbt_fail(err, errlen, "no recording given: ipftctl show FILE...");
        if (argc - optind > SHOW_FILES_MAX)
                return skbt_fail(err, errlen, "more than %d files", SHOW_FILES_MAX);
        *first_file = optind;
        return 0;
}

/* ---- recordings ---- */

struct show_file {
        const char *path;
        struct rec_reader *rd;
        json_object *header;
        const char *id;
        int64_t part;
        size_t group; /* index of the first file of the same recording */
};

/* One recording: its parts, in order, and what was read from them. */
struct show_rec {
        struct show_file **parts;
        size_t n;
        json_object *summary; /* the daemon's, if the recording has it */
        uint64_t lost[4];     /* the last loss record (ring buffer, queue, rate, kernel) */
        uint64_t lines;
        bool ok;
};

static json_object *parse_json(const char *line, size_t len)
{
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, line, (int)len);
        if (o &&
            (json_tokener_get_error(tok) != json_tokener_success ||
             json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

/* A record of the recording, not an event: {"record": ...}, whatever the spacing. */
static bool is_meta(const char *line, size_t len)
{
        size_t i = 0;

        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i == len || line[i++] != '{')
                return false;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        return len - i >= 8 && memcmp(line + i, "\"record\"", 8) == 0;
}

/* Open a file and read its header line. */
static int file_open(struct show_file *f, const char *path)
{
        const char *line;
        size_t len;
        char err[512];
        int64_t format;
        int r;

        f->path = path;
        r = rec_reader_open(path, &f->rd, err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, err);
        r = rec_reader_line(f->rd, &line, &len, err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, err);
        if (r == 0)
                return log_error_errno(-EBADMSG, "%s: empty: not a recording of ipftctl trace -w",
                                       path);
        /* Parsed whatever its spacing: a recording may have passed through jq. */
        f->header = is_meta(line, len) ? parse_json(line, len) : NULL;
        if (!f->header || strcmp(member_str(f->header, "record") ?: "", "header") != 0)
                return log_error_errno(
                    -EBADMSG,
                    "%s: not a recording of ipftctl trace -w: line 1 (at byte 0) "
                    "is not its header",
                    path);
        format = json_object_get_int64(member(f->header, "format", json_type_int));
        if (format < 1 || format > REC_FORMAT)
                return log_error_errno(-EPROTO,
                                       "%s: recording format %" PRId64 ", this ipftctl reads "
                                       "format %d: use a newer ipftctl",
                                       path, format, REC_FORMAT);
        f->id = member_str(f->header, "id") ?: path;
        f->part = json_object_get_int64(member(f->header, "part", json_type_int));
        return 0;
}

static int part_cmp(const void *a, const void *b)
{
        const struct show_file *x = a, *y = b;

        if (x->group != y->group)
                return x->group < y->group ? -1 : 1;
        return x->part < y->part ? -1 : x->part > y->part;
}

/* Recordings in the order first given, each one's parts by number; warn about gaps. */
static void group_files(struct show_file *files, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                files[i].group = i;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(files[j].id, files[i].id) == 0) {
                                files[i].group = files[j].group;
                                break;
                        }
        }
        qsort(files, n, sizeof(*files), part_cmp);
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || files[i].group != files[i - 1].group) {
                        /* The first parts are gone (--rotate-keep) or were left out. */
                        if (files[i].part > 1)
                                log_warning("warning: parts 1 to %" PRId64 " of the recording "
                                            "in %s are not given: events are missing",
                                            files[i].part - 1, files[i].path);
                        continue;
                }
                if (files[i].part == files[i - 1].part)
                        log_warning("warning: %s and %s are the same part %" PRId64
                                    " of one recording: its events are shown twice",
                                    files[i - 1].path, files[i].path, files[i].part);
                else if (files[i].part != files[i - 1].part + 1)
                        log_warning("warning: parts %" PRId64 " to %" PRId64
                                    " of the recording in %s are not given: events are missing",
                                    files[i - 1].part + 1, files[i].part - 1, files[i].path);
        }
}

/* ---- what the header says ---- */

static json_object *request_of(json_object *header)
{
        return member(header, "request", json_type_object);
}

static bool request_bool(json_object *header, const char *key)
{
        json_object *v = member(request_of(header), key, json_type_boolean);

        return v && json_object_get_boolean(v);
}

static int64_t clock_value(json_object *header, const char *key, bool *have)
{
        json_object *v = member(member(header, "clock", json_type_object), key, json_type_int);

        *have = v != NULL;
        return v ? json_object_get_int64(v) : 0;
}

/* Seconds as DIGITS[.DIGITS]. */
static bool parse_seconds(const char *s, double *ret)
{
        char *end;

        if (strspn(s, "0123456789.") != strlen(s) || !*s || strchr(s, '.') != strrchr(s, '.'))
                return false;
        *ret = strtod(s, &end);
        return !*end;
}

/* [YYYY-MM-DD[ T]]HH:MM:SS[.FRACTION], local time, on the day the session started. */
static int parse_wall(const char *s, int64_t start_real_ns, int64_t *ret_real_ns)
{
        static const char *const forms[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%H:%M:%S"};
        time_t day = (time_t)(start_real_ns / 1000000000LL), t;
        const char *rest = NULL;
        struct tm base, tm;
        double frac = 0;

        localtime_r(&day, &base);
        /* Each form from the day's fields: a failed strptime() may have set some. */
        for (size_t i = 0; i < ARRAY_SIZE(forms) && !rest; i++) {
                tm = base;
                rest = strptime(s, forms[i], &tm);
        }
        if (!rest || (*rest && (*rest != '.' || !parse_seconds(rest + 1, &frac))))
                return -EINVAL;
        if (*rest)
                frac = strtod(rest, NULL);
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret_real_ns = (int64_t)t * 1000000000LL + (int64_t)(frac * 1e9);
        return 0;
}

/* A --since/--until TIME as an event timestamp (CLOCK_MONOTONIC of the recording's host). */
static int time_spec(const char *opt, const char *s, json_object *header, uint64_t *ret, char *err,
                     size_t errlen)
{
        bool have_start, have_offset;
        int64_t start = clock_value(header, "start_ns", &have_start);
        int64_t offset = clock_value(header, "mono_to_real_ns", &have_offset);
        int64_t real;
        double secs;

        if (parse_seconds(s[0] == '+' ? s + 1 : s, &secs)) {
                if (!have_start)
                        return skbt_fail(err, errlen,
                                         "%s %.*s: the recording does not say when it started", opt,
                                         QUOTE_MAX, s);
                *ret = (uint64_t)start + (uint64_t)(secs * 1e9);
                return 0;
        }
        if (!have_offset || parse_wall(s, start + offset, &real) < 0 || real < offset)
                return skbt_fail(err, errlen,
                                 "invalid %s '%.*s': expected +SECONDS from the session's start "
                                 "or a local time [YYYY-MM-DD ]HH:MM:SS[.FRACTION]",
                                 opt, QUOTE_MAX, s);
        *ret = (uint64_t)(real - offset);
        return 0;
}

/* The display of one recording: the user's choices, else the recorded session's. */
static int replay_opts_for(const struct show_opts *o, json_object *header,
                           struct replay_filter *filter, struct replay_opts *ro, char *err,
                           size_t errlen)
{
        json_object *req = request_of(header);
        const char *output = member_str(req, "output"), *tracer = member_str(req, "tracer");
        bool have;
        int r;

        *filter = o->filter;
        if (o->since &&
            (r = time_spec("--since", o->since, header, &filter->from_ns, err, errlen)) < 0)
                return r;
        if (o->until &&
            (r = time_spec("--until", o->until, header, &filter->to_ns, err, errlen)) < 0)
                return r;
        *ro = (struct replay_opts){
            .format = o->format,
            /* JSON carries real track ids when the session followed packets. */
            .fmt = {.track = request_bool(header, "track") ||
                             (output && strncmp(output, "aggregate", 9) == 0),
                    .detail = o->detail || request_bool(header, "detail"),
                    .stack = request_bool(header, "stack"),
                    .nf_rules = request_bool(header, "nf_rules")},
            .graph = tracer && strcmp(tracer, "function_graph") == 0,
            .egress = o->egress ?: member_str(req, "egress"),
            .mono_to_real_ns = clock_value(header, "mono_to_real_ns", &have),
            .fd = STDOUT_FILENO,
            .filter = filter,
        };
        return 0;
}

/* ---- reading ---- */

/* A meta record: losses and the summary are kept for the end; another recording is refused. */
static int meta_line(struct show_rec *rec, struct show_file *f, const char *line, size_t len)
{
        _cleanup_json_ json_object *o = parse_json(line, len);
        const char *type = member_str(o, "record");

        if (!type)
                return log_error_errno(
                    -EBADMSG, "%s: line %" PRIu64 " (at byte %" PRIu64 "): a malformed record",
                    f->path, rec_reader_line_no(f->rd), rec_reader_offset(f->rd));
        if (strcmp(type, "loss") == 0) {
                rec->lost[0] = member_u64_or(o, "lost_ringbuf", rec->lost[0]);
                rec->lost[1] = member_u64_or(o, "lost_queue", rec->lost[1]);
                rec->lost[2] = member_u64_or(o, "lost_rate", rec->lost[2]);
                rec->lost[3] = member_u64_or(o, "lost_missed", rec->lost[3]);
        } else if (strcmp(type, "summary") == 0) {
                json_object_put(rec->summary);
                rec->summary = json_object_get(o);
        } else if (strcmp(type, "header") == 0 && strcmp(member_str(o, "id") ?: "", f->id) != 0) {
                return log_error_errno(-EBADMSG,
                                       "%s: line %" PRIu64 " (at byte %" PRIu64
                                       ") starts another recording: files joined together? "
                                       "Give each recording as its own file",
                                       f->path, rec_reader_line_no(f->rd),
                                       rec_reader_offset(f->rd));
        }
        /* "end" (a rotated part) and unknown records of newer versions: nothing to do. */
        return 0;
}

/* Every line after the header of one part. */
static int show_part(struct show_rec *rec, struct show_file *f, struct replay *r)
{
        const char *line;
        size_t len;
        char err[512];
        int e;

        while ((e = rec_reader_line(f->rd, &line, &len, err, sizeof(err))) > 0) {
                rec->lines++;
                if (is_meta(line, len))
                        e = meta_line(rec, f, line, len);
                else if (len)
                        e = replay_event(r, line, len, err, sizeof(err));
                if (e == -EBADMSG && len && line[0] != '{')
                        return log_error_errno(
                            e, "%s: line %" PRIu64 " (at byte %" PRIu64 "): not a JSON object",
                            f->path, rec_reader_line_no(f->rd), rec_reader_offset(f->rd));
                if (e == -EBADMSG)
                        return log_error_errno(e, "%s: line %" PRIu64 " (at byte %" PRIu64 "): %s",
                                               f->path, rec_reader_line_no(f->rd),
                                               rec_reader_offset(f->rd), err);
                if (e == -EPIPE)
                        return e;
                if (e < 0)
                        return log_error_errno(e, "cannot write to standard output: %m");
        }
        if (e < 0)
                return log_error_errno(e, "%s: %s", f->path, err);
        return 0;
}

static void show_summary(const struct show_rec *rec, const struct replay *r)
{
        const struct show_file *f = rec->parts[0];
        json_object *s = rec->summary;
        uint64_t ringbuf = member_u64_or(s, "lost_ringbuf", rec->lost[0]);
        uint64_t queue = member_u64_or(s, "lost_queue", rec->lost[1]);
        uint64_t rate = member_u64_or(s, "lost_rate", rec->lost[2]);
        uint64_t missed = member_u64_or(s, "lost_missed", rec->lost[3]);
        char mbuf[64] = "";

        if (missed)
                snprintf(mbuf, sizeof(mbuf), ", skipped by the kernel %" PRIu64, missed);
        fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " events shown", f->path, replay_shown(r),
                replay_read(r));
        if (s)
                fprintf(stderr,
                        "; recorded %" PRIu64 " events, %" PRIu64 " lost (ring buffer %" PRIu64
                        ", queue %" PRIu64 "%s), duration %.2fs, ended by %s",
                        member_u64_or(s, "events", 0), ringbuf + queue + missed, ringbuf, queue,
                        mbuf, (double)member_u64_or(s, "duration_ns", 0) / 1e9,
                        member_str(s, "reason") ?: "?");
        if (rate)
                fprintf(stderr, ", %" PRIu64 " dropped over the rate limit", rate);
        fputc('\n', stderr);
        if (!s && rec->ok)
                log_warning("warning: %s: the recording has no summary: the session's end was "
                            "not recorded (ipftctl killed?); %" PRIu64 " lost so far",
                            rec->parts[rec->n - 1]->path, ringbuf + queue + rate + missed);
}

/* Render one recording, all its parts. */
static int show_recording(const struct show_opts *o, struct show_rec *rec)
{
        struct replay_filter filter;
        struct replay_opts ro;
        struct replay *r = NULL;
        char err[512];
        int e, e2;

        e = replay_opts_for(o, rec->parts[0]->header, &filter, &ro, err, sizeof(err));
        if (e < 0)
                return log_error_errno(e, "%s: %s", rec->parts[0]->path, err);
        e = replay_new(&ro, &r);
        if (e < 0)
                return log_error_errno(e, "out of memory");
        for (size_t i = 0; i < rec->n && e >= 0; i++)
                e = show_part(rec, rec->parts[i], r);
        rec->ok = e >= 0;
        /* What was read is shown, also when a later line was bad. */
        e2 = replay_finish(r);
        if (e2 < 0 && e >= 0)
                e = e2 == -EPIPE ? e2 : log_error_errno(e2, "cannot write to standard output: %m");
        if (e != -EPIPE)
                show_summary(rec, r);
        replay_free(r);
        json_object_put(rec->summary);
        rec->summary = NULL;
        return e;
}

/* ---- --info ---- */

static void info_line(const char *what, const char *fmt, ...) _printf_(2, 3);
static void info_line(const char *what, const char *fmt, ...)
{
        va_list ap;

        printf("  %-9s ", what);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static void info_header(const struct show_rec *rec)
{
        json_object *h = rec->parts[0]->header, *daemon = member(h, "daemon", json_type_object);
        json_object *client = member(h, "ipftctl", json_type_object);
        json_object *cmd = member(client, "command", json_type_array);
        json_object *session = member(h, "session", json_type_object);
        json_object *probes = member(h, "probes", json_type_array);
        time_t t = (time_t)(member_u64_or(h, "created_usec", 0) / 1000000);
        char when[64] = "?";
        struct tm tm;

        if (localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
        printf("recording %s\n", member_str(h, "id") ?: "?");
        for (size_t i = 0; i < rec->n; i++)
                info_line(i ? "" : "files", "%s (part %" PRId64 ")", rec->parts[i]->path,
                          rec->parts[i]->part);
        info_line("created", "%s on %s by ipftctl %s", when, member_str(h, "host") ?: "?",
                  member_str(client, "version") ?: "?");
        if (cmd) {
                printf("  %-9s", "command");
                for (size_t i = 0; i < json_object_array_length(cmd); i++)
                        printf(" %s", json_object_get_string(json_object_array_get_idx(cmd, i)));
                putchar('\n');
        }
        info_line("daemon", "skbtraced %s, kernel %s, backend %s (%s)",
                  member_str(daemon, "version") ?: "?", member_str(daemon, "kernel") ?: "?",
                  member_str(daemon, "backend") ?: "?",
                  member_str(daemon, "backend_reason") ?: "?");
        info_line("request", "%s",
                  json_object_to_json_string_ext(request_of(h), JSON_C_TO_STRING_PLAIN));
        info_line("session", "%" PRIu64 ", %" PRIu64 " probes (%zu in the probe table)",
                  member_u64_or(session, "session", 0), member_u64_or(session, "probes", 0),
                  probes ? json_object_array_length(probes) : 0);
}

static int info_recording(struct show_rec *rec)
{
        struct replay_opts ro = {.format = REPLAY_JSON, .fd = -1};
        struct replay_filter none = {0};
        struct replay *r = NULL;
        json_object *s;
        int e = 0;

        /* Count the events without showing them: a filter nothing passes. */
        none.n_track_ids = 1;
        none.track_ids[0] = UINT64_MAX;
        ro.filter = &none;
        info_header(rec);
        if (replay_new(&ro, &r) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < rec->n && e >= 0; i++)
                e = show_part(rec, rec->parts[i], r);
        s = rec->summary;
        info_line("events", "%" PRIu64 " in the file%s", replay_read(r), rec->n > 1 ? "s" : "");
        if (s)
                info_line("summary",
                          "%" PRIu64 " events, %" PRIu64 " lost in the ring buffer, %" PRIu64
                          " in the queue, %" PRIu64 " over the rate limit, %" PRIu64
                          " skipped by the kernel; %.2fs, ended by %s",
                          member_u64_or(s, "events", 0), member_u64_or(s, "lost_ringbuf", 0),
                          member_u64_or(s, "lost_queue", 0), member_u64_or(s, "lost_rate", 0),
                          member_u64_or(s, "lost_missed", 0),
                          (double)member_u64_or(s, "duration_ns", 0) / 1e9,
                          member_str(s, "reason") ?: "?");
        else
                info_line("summary",
                          "none: the session's end was not recorded (%" PRIu64 " lost so far)",
                          rec->lost[0] + rec->lost[1] + rec->lost[2] + rec->lost[3]);
        replay_free(r);
        json_object_put(rec->summary);
        rec->summary = NULL;
        return e;
}

/* ---- the command ---- */

static void files_free(struct show_file *files, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                rec_reader_free(files[i].rd);
                json_object_put(files[i].header);
        }
        free(files);
}

int cmd_show(const struct ctl *ctl, int argc, char **argv)
{
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
        struct show_file *files;
        struct show_opts o;
        char err[SKBT_ERR_MAX + 128];
        size_t n, i;
        int first = 0, e = 0, status = EXIT_OK;

        e = show_args(argc, argv, &o, &first, err, sizeof(err));
        if (e < 0)
                return usage_error("show", err);
        if (o.help) {
                show_usage(stdout);
                return EXIT_OK;
        }
        if (o.format == REPLAY_PCAPNG && !o.info && isatty(STDOUT_FILENO)) {
                log_error("pcapng output is binary: redirect it to a file or a pipe "
                          "(e.g. > trace.pcapng, | tshark -r -)");
                return EXIT_ERROR;
        }
        if (o.regex && skbt_regex_new(o.regex, &re, err, sizeof(err)) < 0)
                return usage_error("show", err);
        o.filter.probes = re;
        n = (size_t)(argc - first);
        files = calloc(n, sizeof(*files));
        if (!files)
                return log_error("out of memory"), EXIT_ERROR;
        for (i = 0; i < n; i++)
                if (file_open(&files[i], argv[first + (int)i]) < 0) {
                        files_free(files, n);
                        return EXIT_ERROR;
                }
        group_files(files, n);
        for (i = 0; i < n && e != -EPIPE;) {
                struct show_file *parts[n];
                struct show_rec rec = {.parts = parts};

                for (size_t j = i; j < n && files[j].group == files[i].group; j++)
                        parts[rec.n++] = &files[j];
                e = o.info ? info_recording(&rec) : show_recording(&o, &rec);
                if (e < 0 && e != -EPIPE)
                        status = EXIT_ERROR;
                i += rec.n;
        }
        files_free(files, n);
        return status;
}
