/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_trace.c - ipftctl trace: start a session and stream its events to stdout */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crossings.h"
#include "ctl.h"
#include "filter_spec.h"
#include "log.h"
#include "pcap_filter.h"
#include "pcapng.h"
#include "trace_args.h"
#include "trace_record.h"
#include "varlink_client.h"
#include "util.h"

/* How long to wait for the summary after asking the daemon to stop; data
 * arriving meanwhile restarts the wait, so only a hung daemon hits it. */
#define STOP_TIMEOUT_SEC 10
/* Loss warnings during a trace: at most one per interval. */
#define LOSS_WARN_INTERVAL_NS 1000000000ULL

/*
 * The only global mutable state, and only because a signal handler cannot
 * reach anything else: how many SIGINT/SIGTERM arrived during a trace.  The
 * trace loop reads it with those signals blocked and then waits in ppoll(),
 * which unblocks them atomically, so a signal is never missed between the
 * check and the wait.
 */
static volatile sig_atomic_t stop_requested;

/* ---- trace ---- */

struct trace_session {
        uint64_t events;       /* event lines received */
        uint64_t lost_ringbuf; /* cumulative, as last reported by the daemon */
        uint64_t lost_queue;
        uint64_t lost_rate;           /* dropped by the daemon's per-session rate limit */
        uint64_t lost_missed;         /* probe runs the kernel skipped while it was live */
        uint64_t lost_warned;         /* loss total at the last warning */
        uint64_t warned_at_ns;        /* CLOCK_MONOTONIC of the last warning, 0: none yet */
        bool stopping;                /* write side shut down: waiting for the summary */
        bool done;                    /* summary received */
        uint64_t raw_left;            /* raw output bytes still to come after a batch header */
        struct pcapng_writer *pcapng; /* -o pcapng: output goes through it, NULL: as is */
        struct crossings *crossings;  /* -o crossings: likewise */
        struct trace_record *record;  /* -w FILE: output is recorded, and shown from there */
        /* Attach progress (docs/protocol.md "progress"). */
        uint64_t attach_pending; /* probes still to attach when the session started */
        uint64_t progress_at_ns; /* when progress was last printed */
        bool progress_tty;       /* stderr is a terminal: one line, rewritten */
        bool progress_open;      /* that line is on screen, without its newline */
};

/* Progress goes to a log at most this often (a terminal sees every record). */
#define PROGRESS_LOG_INTERVAL_NS (1000 * 1000 * 1000ULL)

/* Event lines to stdout, as they are or converted to pcapng blocks. */
static int trace_output(struct trace_session *s, const char *data, size_t len)
{
        if (s->record)
                return trace_record_output(s->record, data, len);
        if (s->pcapng)
                return pcapng_feed(s->pcapng, data, len);
        if (s->crossings)
                return crossings_feed(s->crossings, data, len);
        return write_full(STDOUT_FILENO, data, len);
}

static void on_stop_signal(int sig)
{
        /* The second Ctrl-C means "now": nothing is buffered (stdout is written
         * with write(2)), so _exit() loses no output. */
        if (stop_requested)
                _exit(128 + sig);
        stop_requested = 1;
}

static int install_stop_handlers(void)
{
        /* No SA_RESTART: a blocked read or write must return to the loop. */
        struct sigaction sa = {.sa_handler = on_stop_signal};

        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
                return log_error_errno(negative_errno(), "cannot install signal handlers: %m");
        return 0;
}

static uint64_t count_lines(const char *s, size_t len)
{
        uint64_t n = 0;
        const char *p = s, *end = s + len;

        while ((p = memchr(p, '\n', (size_t)(end - p)))) {
                n++;
                p++;
        }
        return n;
}

/* ", LABEL N" when n is not 0, else "": loss causes that are rarely there. */
static const char *loss_extra(const char *label, uint64_t n, char *buf, size_t size)
{
        if (!n)
                return "";
        snprintf(buf, size, "%s%" PRIu64, label, n);
        return buf;
}

static void trace_check_loss(struct trace_session *s, json_object *params)
{
        char rate[64], missed[64];
        uint64_t total, now;

        s->lost_ringbuf = member_u64_or(params, "lost_ringbuf", s->lost_ringbuf);
        s->lost_queue = member_u64_or(params, "lost_queue", s->lost_queue);
        s->lost_rate = member_u64_or(params, "lost_rate", s->lost_rate);
        s->lost_missed = member_u64_or(params, "lost_missed", s->lost_missed);
        /* Recorded where it happened: before the lines of this batch. */
        if (s->record &&
            trace_record_loss(s->record, (const uint64_t[4]){s->lost_ringbuf, s->lost_queue,
                                                             s->lost_rate, s->lost_missed}) < 0)
                log_warning("warning: cannot record the loss counters, ignoring");
        total = s->lost_ringbuf + s->lost_queue + s->lost_rate + s->lost_missed;
        if (total <= s->lost_warned)
                return;
        /* Losses usually come in bursts, one batch after another: rate-limit so the
         * warnings do not drown the terminal.  The summary has the final numbers. */
        now = skbt_now_ns();
        if (s->warned_at_ns && now - s->warned_at_ns < LOSS_WARN_INTERVAL_NS)
                return;
        log_warning("warning: %" PRIu64 " events lost so far (ring buffer %" PRIu64
                    ", client queue %" PRIu64 "%s%s)",
                    total, s->lost_ringbuf, s->lost_queue,
                    loss_extra(", over the rate limit ", s->lost_rate, rate, sizeof(rate)),
                    loss_extra(", skipped by the kernel ", s->lost_missed, missed, sizeof(missed)));
        s->lost_warned = total;
        s->warned_at_ns = now;
}

/* End a progress line still open on a terminal, before anything else is printed. */
static void progress_close(struct trace_session *s)
{
        if (s->progress_open) {
                fputc('\n', stderr);
                s->progress_open = false;
        }
}

/* The first probe that could not be attached and why ("failure"), for a line ending "...". */
static void print_failure(json_object *o)
{
        json_object *f = member(o, "failure", json_type_object);
        const char *probe = json_object_get_string(member(f, "probe", json_type_string));
        const char *why = json_object_get_string(member(f, "why", json_type_string));
        bool ret = json_object_get_boolean(member(f, "is_return", json_type_boolean));

        if (probe && why)
                fprintf(stderr, "; %s%s: %s", probe, ret ? " (return)" : "", why);
        fputs(" (every probe and its reason: 'ipftctl list')\n", stderr);
}

/*
 * "progress": how much of what the session needs is attached.  The final
 * line says when all of it was: scripts and the test harness wait for it
 * (or use --wait-attached).
 */
static void trace_print_progress(struct trace_session *s, json_object *p)
{
        uint64_t done = member_u64_or(p, "attached", 0), failed = member_u64_or(p, "failed", 0);
        uint64_t total = member_u64_or(p, "total", 0), ms = member_u64_or(p, "elapsed_ms", 0);
        bool complete = json_object_get_boolean(member(p, "complete", json_type_boolean));
        uint64_t now = skbt_now_ns();

        /* A log gets a line a second, then one every ten once it takes long. */
        if (!complete && !s->progress_tty && s->progress_at_ns &&
            now - s->progress_at_ns <
                (ms < 10000 ? PROGRESS_LOG_INTERVAL_NS : 10 * PROGRESS_LOG_INTERVAL_NS))
                return;
        s->progress_at_ns = now;
        if (s->progress_open)
                fputs("\r\033[K", stderr);
        if (!complete) {
                fprintf(stderr, "attaching %" PRIu64 " probes: %" PRIu64 " done, %.1f s", total,
                        done + failed, (double)ms / 1e3);
                s->progress_open = s->progress_tty;
                if (!s->progress_tty)
                        fputc('\n', stderr);
                return;
        }
        s->progress_open = false;
        if (failed == 0)
                fprintf(stderr, "all %" PRIu64 " probes attached after %.2f s\n", total,
                        (double)ms / 1e3);
        else {
                fprintf(stderr,
                        "%" PRIu64 " probes settled after %.2f s: %" PRIu64 " attached, %" PRIu64
                        " could not be",
                        total, (double)ms / 1e3, done, failed);
                print_failure(p);
        }
}

/* When everything the session needed was attached, if that had to wait. */
static void trace_print_coverage(struct trace_session *s, json_object *cov)
{
        uint64_t total = member_u64_or(cov, "total", 0), done = member_u64_or(cov, "attached", 0);
        uint64_t failed = member_u64_or(cov, "failed", 0), ms;

        if (!cov || total == 0)
                return;
        if (member_u64(cov, "full_ms", &ms)) {
                if (failed) {
                        fprintf(stderr,
                                "coverage: %" PRIu64 " of %" PRIu64 " probes, settled after %.2f "
                                "s; %" PRIu64 " could not be attached",
                                done, total, (double)ms / 1e3, failed);
                        print_failure(cov);
                } else if (s->attach_pending)
                        fprintf(stderr, "coverage: all %" PRIu64 " probes from %.2f s on\n", total,
                                (double)ms / 1e3);
                return;
        }
        fprintf(stderr,
                "coverage: full coverage never reached: the session ended with %" PRIu64
                " of %" PRIu64 " probes attached (%" PRIu64 " failed, the rest still attaching)\n",
                done, total, failed);
}

static void trace_print_summary(struct trace_session *s, json_object *summary)
{
        uint64_t events = member_u64_or(summary, "events", s->events);
        uint64_t ringbuf = member_u64_or(summary, "lost_ringbuf", s->lost_ringbuf);
        uint64_t queue = member_u64_or(summary, "lost_queue", s->lost_queue);
        uint64_t rate = member_u64_or(summary, "lost_rate", s->lost_rate);
        uint64_t missed = member_u64_or(summary, "lost_missed", s->lost_missed);
        char mbuf[64];
        uint64_t duration_ns = member_u64_or(summary, "duration_ns", 0);
        const char *reason = member_str(summary, "reason");
        uint64_t v;

        /* count, duration and client are what the user asked for; say the others. */
        if (reason && strcmp(reason, "stopped") == 0)
                log_notice("session stopped by an operator ('ipftctl stop')");
        else if (reason && strcmp(reason, "shutdown") == 0)
                log_notice("session ended: skbtraced is shutting down");
        else if (reason && strcmp(reason, "max_duration") == 0)
                log_notice("session ended: it reached the longest duration skbtraced allows "
                           "(max_duration)");
        /* Events over the rate limit were dropped by policy, not lost: said apart,
         * after the fields scripts parse. */
        fprintf(stderr,
                "%" PRIu64 " events received, %" PRIu64 " lost (ring buffer %" PRIu64
                ", queue %" PRIu64 "%s), duration %.2fs",
                events, ringbuf + queue + missed, ringbuf, queue,
                loss_extra(", skipped by the kernel ", missed, mbuf, sizeof(mbuf)),
                (double)duration_ns / 1e9);
        if (rate)
                fprintf(stderr, ", %" PRIu64 " dropped over the rate limit", rate);
        fputc('\n', stderr);
        trace_print_coverage(s, member(summary, "coverage", json_type_object));
        /* The tracking map forgot packets: some journeys may have been cut short. */
        if (member_u64(summary, "track_evicted", &v) && v)
                log_warning("warning: the tracking map was full: %" PRIu64 " tracked packets "
                            "were forgotten while this session ran, so some may not have been "
                            "followed to their end",
                            v);
        /* Past the daemon's track_quota (non-root): matched, shown, but not followed. */
        if (member_u64(summary, "track_refused", &v) && v)
                log_warning("warning: tracking was refused at %" PRIu64 " probe hits: this "
                            "session started tracking more packets than the daemon's "
                            "track_quota allows (see skbtraced(8) SECURITY); their events have "
                            "no track id",
                            v);
}

/* Limits the daemon put on this session, so that a cut-off trace is no surprise. */
static void trace_print_limits(json_object *started)
{
        json_object *v;
        uint64_t rate;

        if (member_u64(started, "rate_limit", &rate) && rate)
                fprintf(stderr,
                        "Rate limit: %" PRIu64 " events per second; more are dropped "
                        "and counted.\n",
                        rate);
        v = member(started, "max_duration", json_type_double);
        if (!v)
                v = member(started, "max_duration", json_type_int);
        if (v)
                fprintf(stderr, "The session ends after %.0f s (the daemon's max_duration).\n",
                        json_object_get_double(v));
}

/* Handle one reply of a Trace call.  -EPIPE: stdout was closed (not logged). */
static int trace_handle(struct trace_session *s, json_object *reply)
{
        json_object *params, *v;
        uint64_t probes, id;
        int r;

        r = reply_params(reply, &params);
        if (r < 0)
                return r;

        if ((v = member(params, "started", json_type_object))) {
                json_object *a = member(v, "attach", json_type_object);
                uint64_t total = member_u64_or(a, "total", 0);

                probes = member_u64_or(v, "probes", 0);
                id = member_u64_or(v, "session", 0);
                s->attach_pending = total - MIN(total, member_u64_or(a, "attached", 0) +
                                                           member_u64_or(a, "failed", 0));
                /* One write: a reader that sees the first line sees whether the second
                 * follows (tests wait for the attach to finish). */
                if (s->attach_pending)
                        fprintf(stderr,
                                "Tracing %" PRIu64 " probes (session %" PRIu64
                                "). Press Ctrl-C to stop.\n"
                                "attaching %" PRIu64 " probes: %" PRIu64 " of %" PRIu64
                                " attached already%s\n",
                                probes, id, total, total - s->attach_pending, total,
                                json_object_get_boolean(member(a, "wait", json_type_boolean))
                                    ? "; events start when all are"
                                    : ", events from those start now");
                else
                        fprintf(stderr,
                                "Tracing %" PRIu64 " probes (session %" PRIu64
                                "). Press Ctrl-C to stop.\n",
                                probes, id);
                trace_print_limits(v);
                if (s->record) {
                        r = trace_record_started(s->record, v);
                        if (r < 0)
                                return r;
                }
        } else if ((v = member(params, "progress", json_type_object))) {
                trace_print_progress(s, v);
        } else if ((v = member(params, "output", json_type_string))) {
                const char *out = json_object_get_string(v);
                size_t len = (size_t)json_object_get_string_len(v);

                /* write(2), not stdio: each batch reaches a pipe (| jq) at once, and a
                 * second Ctrl-C can _exit() without losing buffered lines. */
                r = trace_output(s, out, len);
                if (r == -EPIPE)
                        return r;
                if (r < 0)
                        return log_error_errno(r, "cannot write to standard output: %m");
                s->events += count_lines(out, len);
                trace_check_loss(s, params);
        } else if (member_u64(params, "output_bytes", &s->raw_left)) {
                /* raw_output: the lines follow this message (trace_take_raw()). */
                trace_check_loss(s, params);
        } else if ((v = member(params, "summary", json_type_object))) {
                progress_close(s);
                /* The last events first (aggregate blocks still open), then the summary. */
                if (s->record) {
                        r = trace_record_summary(s->record, v);
                        if (r < 0)
                                return r;
                }
                trace_print_summary(s, v);
                s->done = true;
                return 0;
        }
        /* Anything else is a newer daemon's addition and ignored, but only a
         * summary may end the stream. */
        if (!json_object_get_boolean(member(reply, "continues", json_type_boolean)))
                return log_error_errno(-EBADMSG,
                                       "skbtraced ended the trace without a summary; "
                                       "%" PRIu64 " events received",
                                       s->events);
        return 0;
}

/*
 * With raw_output (docs/protocol.md), a batch header is followed by its lines
 * as they are: pass them to stdout as they arrive, no JSON string to parse.
 */
static int trace_take_raw(struct conn *c, struct trace_session *s)
{
        struct msgframe *f = &c->frame;
        size_t n = MIN(s->raw_left, (uint64_t)(f->buf.len - f->off));
        int r;

        if (n == 0)
                return 0;
        r = trace_output(s, f->buf.data + f->off, n);
        if (r == -EPIPE)
                return r;
        if (r < 0)
                return log_error_errno(r, "cannot write to standard output: %m");
        s->events += count_lines(f->buf.data + f->off, n);
        f->off += n;
        s->raw_left -= n;
        return 0;
}

/*
 * The pcap expression is compiled here, in the user's own context, where its
 * host and port names are resolved (the daemon never resolves names): the
 * daemon gets the program as pcap_program and the text for display.
 */
static int compile_pcap(struct trace_opts *o, char *err, size_t errlen)
{
        struct skbt_cbpf_prog prog;
        int r;

        if (!skbt_trace_given(&o->req, SKBT_TP_PCAP_FILTER))
                return 0;
        r = skbt_pcap_compile(o->req.pcap_filter, &prog, err, errlen);
        if (r < 0)
                return r;
        r = skbt_cbpf_format(&prog, o->req.pcap_program, sizeof(o->req.pcap_program));
        if (r < 0)
                return skbt_fail(err, errlen, "pcap filter program too long");
        o->req.given |= SKBT_PARAM_BIT(SKBT_TP_PCAP_PROGRAM);
        return 0;
}

/* How long to wait for the daemon: a recording wants a tick now and then. */
static const struct timespec *trace_wait(const struct trace_session *s,
                                         const struct timespec *stop_timeout, struct timespec *tick)
{
        int ms;

        if (s->stopping)
                return stop_timeout;
        if (!s->record)
                return NULL;
        ms = trace_record_tick_ms(s->record);
        *tick = (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        return tick;
}

static int trace_run(struct conn *c, json_object *params, struct trace_session *s)
{
        const struct timespec stop_timeout = {.tv_sec = STOP_TIMEOUT_SEC};
        struct timespec tick;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        _cleanup_json_ json_object *reply = NULL;
        sigset_t stop_set, orig;
        int r;

        r = install_stop_handlers();
        if (r < 0)
                return r;
        sigemptyset(&stop_set);
        sigaddset(&stop_set, SIGINT);
        sigaddset(&stop_set, SIGTERM);

        r = conn_send_call(c, "io.skbtraced.Trace", params, true);
        if (r < 0)
                return r;

        for (;;) {
                while ((r = trace_take_raw(c, s)) == 0 && s->raw_left == 0 &&
                       (r = conn_take(c, &reply)) > 0) {
                        r = trace_handle(s, reply);
                        json_object_put(TAKE_PTR(reply));
                        if (r < 0 || s->done)
                                return r;
                }
                if (r < 0)
                        return r;
                if (c->frame.eof)
                        return log_error_errno(-ECONNRESET,
                                               "connection to skbtraced lost (daemon stopped or "
                                               "restarted?); %" PRIu64 " events received",
                                               s->events);

                sigprocmask(SIG_BLOCK, &stop_set, &orig);
                if (stop_requested && !s->stopping) {
                        /* Half-close: the daemon ends the session and still sends the
                         * summary (docs/protocol.md); closing would lose it. */
                        if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
                                r = negative_errno();
                                sigprocmask(SIG_SETMASK, &orig, NULL);
                                return log_error_errno(r, "cannot stop the session: %m");
                        }
                        s->stopping = true;
                }
                r = ppoll(&pfd, 1, trace_wait(s, &stop_timeout, &tick), &orig);
                if (r < 0)
                        r = negative_errno();
                sigprocmask(SIG_SETMASK, &orig, NULL);
                if (r == -EINTR)
                        continue;
                if (r < 0)
                        return log_error_errno(r, "cannot wait for skbtraced: %m");
                if (r == 0 && !s->stopping && s->record) {
                        /* A recording's tick: flush it, end aggregate blocks due. */
                        r = trace_record_tick(s->record);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r == 0)
                        return log_error_errno(-ETIMEDOUT,
                                               "skbtraced sent no summary within %d s of the "
                                               "stop request; %" PRIu64 " events received",
                                               STOP_TIMEOUT_SEC, s->events);

                r = conn_fill(c);
                if (r < 0 && r != -EINTR && r != -EAGAIN)
                        return r;
        }
}

int cmd_trace(const struct ctl *ctl, int argc, char **argv)
{
        _cleanup_(conn_done) struct conn c = {.fd = -1};
        _cleanup_json_ json_object *params = NULL;
        struct trace_session s = {.progress_tty = isatty(STDERR_FILENO) == 1};
        struct pcapng_writer png = {.fd = -1};
        _cleanup_free_ struct crossings *xing = NULL;
        _cleanup_(trace_record_freep) struct trace_record *rec = NULL;
        struct trace_opts o;
        char err[SKBT_ERR_MAX + 128];
        int r;

        r = trace_args_parse(argc, argv, &o, err, sizeof(err));
        if (r < 0)
                return usage_error("trace", err);
        if (o.help) {
                trace_args_usage(stdout);
                return EXIT_OK;
        }
        /* The client's path, resolved here: the daemon may not see the same files. */
        if (o.netns_path &&
            args_netns_inode(o.netns_path, &o.req.filter.netns, err, sizeof(err)) < 0)
                return usage_error("trace", err);
        if (args_own_ifindex(&o.req, err, sizeof(err)) < 0)
                return usage_error("trace", err);
        if (compile_pcap(&o, err, sizeof(err)) < 0)
                return usage_error("trace", err);
        params = trace_opts_to_params(&o);
        /* Unescaped output after each batch header: the client only copies it. */
        if (!params ||
            json_object_object_add(params, "raw_output", json_object_new_boolean(1)) < 0) {
                log_error("out of memory");
                return EXIT_ERROR;
        }

        if (o.pcapng && isatty(STDOUT_FILENO)) {
                log_error("pcapng output is binary: redirect it to a file or a pipe "
                          "(e.g. > trace.pcapng, | tshark -r -)");
                return EXIT_ERROR;
        }
        if (o.rec.path) {
                /* What is shown is rendered here from the recorded events. */
                r = trace_record_new(ctl, &o, argc, argv, params, &rec);
                if (r < 0)
                        return EXIT_ERROR;
                s.record = rec;
        }
        r = conn_open(&c, ctl->socket_path);
        if (r < 0) {
                trace_record_abandon(rec);
                return EXIT_ERROR;
        }
        if (o.pcapng && !rec) {
                r = pcapng_start(&png, STDOUT_FILENO);
                if (r < 0) {
                        log_error_errno(r, "cannot write to standard output: %m");
                        return EXIT_ERROR;
                }
                s.pcapng = &png;
        }
        if (o.crossings && !rec) {
                xing = malloc(sizeof(*xing));
                if (!xing) {
                        log_error("out of memory");
                        return EXIT_ERROR;
                }
                crossings_init(xing, STDOUT_FILENO);
                s.crossings = xing;
        }
        r = trace_run(&c, params, &s);
        /* Refused by the daemon: nothing to keep. */
        if (r < 0)
                trace_record_abandon(rec);
        pcapng_done(&png);
        if (xing)
                crossings_done(xing);
        /* Output closed by the reader (| head): the user has what they wanted.  Closing
         * the socket ends the session without a summary, which nobody would read. */
        if (r == -EPIPE)
                return EXIT_OK;
        return r < 0 ? EXIT_ERROR : EXIT_OK;
}
