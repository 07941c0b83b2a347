/* SPDX-License-Identifier: GPL-2.0-only */
/* ipftctl.c - command-line client of skbtraced: trace, list, status, sessions, stop */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

/* meson generates config.h in the build root; a standalone build passes -D instead. */
#if __has_include("config.h")
#include "config.h"
#endif
#include "filter_spec.h"
#include "log.h"
#include "macro.h"
#include "msgframe.h"
#include "crossings.h"
#include "pcapng.h"
#include "trace_args.h"

#ifndef SKBT_VERSION
#error "SKBT_VERSION is not defined: build with meson or pass -DSKBT_VERSION='\"x.y\"'"
#endif
#ifndef SKBT_DEFAULT_SOCKET
#error "SKBT_DEFAULT_SOCKET is not defined: build with meson or pass -DSKBT_DEFAULT_SOCKET=..."
#endif
#ifndef SKBT_DEFAULT_GROUP
#define SKBT_DEFAULT_GROUP "skbtrace"
#endif

enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1, /* runtime: error reply, connection lost, I/O error */
        EXIT_USAGE = 2, /* bad option or value: nothing was sent */
};

/* How long to wait for the summary after asking the daemon to stop; data
 * arriving meanwhile restarts the wait, so only a hung daemon hits it. */
#define STOP_TIMEOUT_SEC 10
/* Loss warnings during a trace: at most one per interval. */
#define LOSS_WARN_INTERVAL_NS 1000000000ULL

/* Settings every subcommand gets from the global options. */
struct ctl {
        const char *socket_path;
};

struct command {
        const char *name;
        int (*run)(const struct ctl *ctl, int argc, char **argv);
        void (*usage)(FILE *f);
        const char *summary;
};

/*
 * The only global mutable state, and only because a signal handler cannot
 * reach anything else: how many SIGINT/SIGTERM arrived during a trace.  The
 * trace loop reads it with those signals blocked and then waits in ppoll(),
 * which unblocks them atomically, so a signal is never missed between the
 * check and the wait.
 */
static volatile sig_atomic_t stop_requested;

static void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* ---- small JSON accessors: absent and wrongly typed members read as absent ---- */

static json_object *member(json_object *o, const char *key, json_type type)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static const char *member_str(json_object *o, const char *key)
{
        json_object *v = member(o, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

static bool member_u64(json_object *o, const char *key, uint64_t *ret)
{
        json_object *v = member(o, key, json_type_int);

        if (!v || json_object_get_int64(v) < 0)
                return false;
        *ret = (uint64_t)json_object_get_int64(v);
        return true;
}

static uint64_t member_u64_or(json_object *o, const char *key, uint64_t def)
{
        uint64_t v;

        return member_u64(o, key, &v) ? v : def;
}

/* ---- usage errors ---- */

static int usage_error(const char *cmd, const char *msg)
{
        log_error("%s", msg);
        if (cmd)
                fprintf(stderr, "Try 'ipftctl %s --help'.\n", cmd);
        else
                fprintf(stderr, "Try 'ipftctl --help'.\n");
        return EXIT_USAGE;
}

static int usage_errorf(const char *cmd, const char *fmt, ...) _printf_(2, 3);
static int usage_errorf(const char *cmd, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return usage_error(cmd, msg);
}

/* ---- connection ---- */

struct conn {
        int fd;
        struct msgframe frame;
        json_tokener *tok;
};

static void conn_done(struct conn *c)
{
        c->fd = safe_close(c->fd);
        msgframe_done(&c->frame);
        if (c->tok)
                json_tokener_free(c->tok);
        c->tok = NULL;
}

/* The group that may use the socket: the socket's own, which the daemon set. */
static const char *socket_group(const char *path)
{
        struct group *gr;
        struct stat st;

        if (stat(path, &st) == 0 && st.st_gid != 0 && (gr = getgrgid(st.st_gid)))
                return gr->gr_name;
        return SKBT_DEFAULT_GROUP;
}

static int conn_open(struct conn *c, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        *c = (struct conn){.fd = -1};
        msgframe_init(&c->frame, SKBT_REPLY_MAX);
        c->tok = json_tokener_new();
        if (!c->tok)
                return log_error_errno(-ENOMEM, "out of memory");

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG,
                                       "socket path %s is too long (at most %zu bytes)", path,
                                       sizeof(sa.sun_path) - 1);
        memcpy(sa.sun_path, path, strlen(path) + 1);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return log_error_errno(negative_errno(), "cannot create a socket: %m");
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = negative_errno();
                switch (r) {
                case -ENOENT:
                case -ECONNREFUSED:
                        return log_error_errno(r,
                                               "cannot connect to skbtraced at %s: daemon not "
                                               "running? (start it with 'systemctl start "
                                               "skbtraced' or 'skbtraced &')",
                                               path);
                case -EACCES:
                case -EPERM:
                        return log_error_errno(r,
                                               "permission denied on %s: add yourself to group "
                                               "%s (or run as root)",
                                               path, socket_group(path));
                default:
                        return log_error_errno(r, "cannot connect to skbtraced at %s: %m", path);
                }
        }
        return 0;
}

static int conn_send_call(struct conn *c, const char *method, json_object *params, bool more)
{
        _cleanup_json_ json_object *call = json_object_new_object();
        const char *s;
        size_t len;
        int r;

        if (!call || json_object_object_add(call, "method", json_object_new_string(method)) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        /* Always an object, even an empty one: that is what varlinkctl sends too. */
        if (json_object_object_add(call, "parameters",
                                   params ? json_object_get(params) : json_object_new_object()) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        if (more && json_object_object_add(call, "more", json_object_new_boolean(1)) < 0)
                return log_error_errno(-ENOMEM, "out of memory");

        s = json_object_to_json_string_length(call, JSON_C_TO_STRING_PLAIN, &len);
        if (!s)
                return log_error_errno(-ENOMEM, "out of memory");
        /* The NUL json-c puts after the text is the message terminator. */
        r = write_full(c->fd, s, len + 1);
        if (r == -EPIPE || r == -ECONNRESET)
                return log_error_errno(r, "connection to skbtraced lost (daemon stopped or "
                                          "restarted?)");
        if (r < 0)
                return log_error_errno(r, "cannot send the request to skbtraced: %m");
        return 0;
}

/* The next complete reply already read: 1 with *ret, 0 if none is complete yet,
 * negative errno (logged) on a malformed or oversized reply. */
static int conn_take(struct conn *c, json_object **ret)
{
        json_object *obj;
        char *msg;
        size_t len;
        int r;

        r = msgframe_next(&c->frame, &msg, &len);
        if (r == -EMSGSIZE)
                return log_error_errno(r, "reply from skbtraced is larger than %d MiB",
                                       SKBT_REPLY_MAX / (1024 * 1024));
        if (r <= 0)
                return r;

        json_tokener_reset(c->tok);
        obj = json_tokener_parse_ex(c->tok, msg, (int)len);
        if (!obj || json_tokener_get_error(c->tok) != json_tokener_success ||
            json_tokener_get_parse_end(c->tok) != len ||
            !json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return log_error_errno(-EBADMSG, "malformed reply from skbtraced");
        }
        *ret = obj;
        return 1;
}

/* Read once from the daemon: >0 bytes, 0 at end of stream, negative errno. */
static int conn_fill(struct conn *c)
{
        int r = msgframe_fill(&c->frame, c->fd);

        /* A reset is the daemon going away, like an end of stream. */
        if (r == -ECONNRESET) {
                c->frame.eof = 1;
                return 0;
        }
        if (r < 0 && r != -EINTR && r != -EAGAIN)
                return log_error_errno(r, "cannot read from skbtraced: %m");
        return r;
}

/* Blocking: the next reply, 0 at end of stream, negative errno (logged). */
static int conn_next(struct conn *c, json_object **ret)
{
        int r;

        for (;;) {
                r = conn_take(c, ret);
                if (r != 0)
                        return r;
                if (c->frame.eof)
                        return 0;
                r = conn_fill(c);
                if (r < 0 && r != -EINTR && r != -EAGAIN)
                        return r;
        }
}

/*
 * Split a reply into its parameters, or log an error reply the way a user
 * should read it: the daemon's message says what to fix.
 */
static int reply_params(json_object *reply, json_object **ret)
{
        json_object *params = member(reply, "parameters", json_type_object);
        const char *error = member_str(reply, "error");
        const char *msg;

        if (error) {
                msg = member_str(params, "message");
                log_error("%s", msg && *msg ? msg : error);
                return -EREMOTEIO;
        }
        if (!params)
                return log_error_errno(-EBADMSG, "malformed reply from skbtraced: no parameters");
        *ret = params;
        return 0;
}

/* One call, one reply (List, Status).  *ret_reply owns what *ret_params points into. */
static int call_once(const struct ctl *ctl, const char *method, json_object *params,
                     json_object **ret_reply, json_object **ret_params)
{
        _cleanup_(conn_done) struct conn c = {.fd = -1};
        _cleanup_json_ json_object *reply = NULL;
        int r;

        r = conn_open(&c, ctl->socket_path);
        if (r < 0)
                return r;
        r = conn_send_call(&c, method, params, false);
        if (r < 0)
                return r;
        r = conn_next(&c, &reply);
        if (r < 0)
                return r;
        if (r == 0)
                return log_error_errno(-ECONNRESET, "connection to skbtraced lost before it "
                                                    "replied (daemon stopped or restarted?)");
        r = reply_params(reply, ret_params);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* ---- trace ---- */

struct trace_session {
        uint64_t events;       /* event lines received */
        uint64_t lost_ringbuf; /* cumulative, as last reported by the daemon */
        uint64_t lost_queue;
        uint64_t lost_rate;           /* dropped by the daemon's per-session rate limit */
        uint64_t lost_warned;         /* loss total at the last warning */
        uint64_t warned_at_ns;        /* CLOCK_MONOTONIC of the last warning, 0: none yet */
        bool stopping;                /* write side shut down: waiting for the summary */
        bool done;                    /* summary received */
        uint64_t raw_left;            /* raw output bytes still to come after a batch header */
        struct pcapng_writer *pcapng; /* -o pcapng: output goes through it, NULL: as is */
        struct crossings *crossings;  /* -o crossings: likewise */
};

/* Event lines to stdout, as they are or converted to pcapng blocks. */
static int trace_output(struct trace_session *s, const char *data, size_t len)
{
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

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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

static void trace_check_loss(struct trace_session *s, json_object *params)
{
        uint64_t total, now;

        s->lost_ringbuf = member_u64_or(params, "lost_ringbuf", s->lost_ringbuf);
        s->lost_queue = member_u64_or(params, "lost_queue", s->lost_queue);
        s->lost_rate = member_u64_or(params, "lost_rate", s->lost_rate);
        total = s->lost_ringbuf + s->lost_queue + s->lost_rate;
        if (total <= s->lost_warned)
                return;
        /* Losses usually come in bursts, one batch after another: rate-limit so the
         * warnings do not drown the terminal.  The summary has the final numbers. */
        now = now_ns();
        if (s->warned_at_ns && now - s->warned_at_ns < LOSS_WARN_INTERVAL_NS)
                return;
        if (s->lost_rate)
                log_warning("warning: %" PRIu64 " events lost so far (ring buffer %" PRIu64
                            ", client queue %" PRIu64 ", over the rate limit %" PRIu64 ")",
                            total, s->lost_ringbuf, s->lost_queue, s->lost_rate);
        else
                log_warning("warning: %" PRIu64 " events lost so far (ring buffer %" PRIu64
                            ", client queue %" PRIu64 ")",
                            total, s->lost_ringbuf, s->lost_queue);
        s->lost_warned = total;
        s->warned_at_ns = now;
}

static void trace_print_summary(struct trace_session *s, json_object *summary)
{
        uint64_t events = member_u64_or(summary, "events", s->events);
        uint64_t ringbuf = member_u64_or(summary, "lost_ringbuf", s->lost_ringbuf);
        uint64_t queue = member_u64_or(summary, "lost_queue", s->lost_queue);
        uint64_t rate = member_u64_or(summary, "lost_rate", s->lost_rate);
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
                ", queue %" PRIu64 "), duration %.2fs",
                events, ringbuf + queue, ringbuf, queue, (double)duration_ns / 1e9);
        if (rate)
                fprintf(stderr, ", %" PRIu64 " dropped over the rate limit", rate);
        fputc('\n', stderr);
        /* The tracking map forgot packets: some journeys may have been cut short. */
        if (member_u64(summary, "track_evicted", &v) && v)
                log_warning("warning: the tracking map was full: %" PRIu64 " tracked packets "
                            "were forgotten while this session ran, so some may not have been "
                            "followed to their end",
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
                probes = member_u64_or(v, "probes", 0);
                id = member_u64_or(v, "session", 0);
                fprintf(stderr,
                        "Tracing %" PRIu64 " probes (session %" PRIu64 "). Press Ctrl-C to stop.\n",
                        probes, id);
                trace_print_limits(v);
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

static int trace_run(struct conn *c, json_object *params, struct trace_session *s)
{
        const struct timespec stop_timeout = {.tv_sec = STOP_TIMEOUT_SEC};
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
                r = ppoll(&pfd, 1, s->stopping ? &stop_timeout : NULL, &orig);
                if (r < 0)
                        r = negative_errno();
                sigprocmask(SIG_SETMASK, &orig, NULL);
                if (r == -EINTR)
                        continue;
                if (r < 0)
                        return log_error_errno(r, "cannot wait for skbtraced: %m");
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

static int cmd_trace(const struct ctl *ctl, int argc, char **argv)
{
        _cleanup_(conn_done) struct conn c = {.fd = -1};
        _cleanup_json_ json_object *params = NULL;
        struct trace_session s = {};
        struct pcapng_writer png = {.fd = -1};
        _cleanup_free_ struct crossings *xing = NULL;
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
        if (o.netns_path && args_netns_inode(o.netns_path, &o.filter.netns, err, sizeof(err)) < 0)
                return usage_error("trace", err);
        params = trace_opts_to_params(&o);
        /* Unescaped output after each batch header: the client only copies it. */
        if (!params ||
            json_object_object_add(params, "raw_output", json_object_new_boolean(1)) < 0) {
                log_error("out of memory");
                return EXIT_ERROR;
        }

        r = conn_open(&c, ctl->socket_path);
        if (r < 0)
                return EXIT_ERROR;
        if (o.pcapng) {
                if (isatty(STDOUT_FILENO)) {
                        log_error("pcapng output is binary: redirect it to a file or a pipe "
                                  "(e.g. > trace.pcapng, | tshark -r -)");
                        return EXIT_ERROR;
                }
                r = pcapng_start(&png, STDOUT_FILENO);
                if (r < 0) {
                        log_error_errno(r, "cannot write to standard output: %m");
                        return EXIT_ERROR;
                }
                s.pcapng = &png;
        }
        if (o.crossings) {
                xing = malloc(sizeof(*xing));
                if (!xing) {
                        log_error("out of memory");
                        return EXIT_ERROR;
                }
                crossings_init(xing, STDOUT_FILENO);
                s.crossings = xing;
        }
        r = trace_run(&c, params, &s);
        pcapng_done(&png);
        if (xing)
                crossings_done(xing);
        /* Output closed by the reader (| head): the user has what they wanted.  Closing
         * the socket ends the session without a summary, which nobody would read. */
        if (r == -EPIPE)
                return EXIT_OK;
        return r < 0 ? EXIT_ERROR : EXIT_OK;
}

/* ---- list ---- */

/* The groups tree: each group with its probes and whether this kernel has them. */
/* Group j is i or below it (parents come before their children in the reply). */
static bool group_below(json_object *groups, size_t j, size_t i)
{
        const char *want = member_str(json_object_array_get_idx(groups, i), "name");

        for (unsigned hops = 0; want && hops < 64; hops++) {
                json_object *g = json_object_array_get_idx(groups, j);
                const char *name = member_str(g, "name"), *parent = member_str(g, "parent");
                size_t k;

                if (name && strcmp(name, want) == 0)
                        return true;
                if (!parent)
                        return false;
                for (k = 0; k < j; k++)
                        if (member_str(json_object_array_get_idx(groups, k), "name") &&
                            strcmp(member_str(json_object_array_get_idx(groups, k), "name"),
                                   parent) == 0)
                                break;
                if (k == j)
                        return false;
                j = k;
        }
        return false;
}

static void list_print_groups(json_object *groups, bool verbose)
{
        size_t n = json_object_array_length(groups);

        printf("%-20s %-52s %s\n", "GROUP", "DESCRIPTION", "ATTACHED (with the groups below)");
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(groups, i);
                json_object *probes = member(g, "probes", json_type_array);
                const char *name = member_str(g, "name"), *desc = member_str(g, "description");
                uint64_t depth = member_u64_or(g, "depth", 0);
                size_t np = probes ? json_object_array_length(probes) : 0;
                char head[64];

                uint64_t att = 0, all = 0;

                /* What selecting the group selects: it and the groups below it. */
                for (size_t j = i; j < n; j++) {
                        json_object *gj = json_object_array_get_idx(groups, j);
                        json_object *pj = member(gj, "probes", json_type_array);

                        if (!group_below(groups, j, i))
                                continue;
                        att += member_u64_or(gj, "attached", 0);
                        all += pj ? json_object_array_length(pj) : 0;
                }
                snprintf(head, sizeof(head), "%*s%s", (int)(2 * MIN(depth, 8u)), "",
                         name ? name : "?");
                printf("%-20s %-52s %" PRIu64 "/%" PRIu64 "\n", head, desc ? desc : "", att, all);
                for (size_t k = 0; k < np; k++) {
                        json_object *p = json_object_array_get_idx(probes, k);
                        bool exists =
                            json_object_get_boolean(member(p, "exists", json_type_boolean));
                        bool patt =
                            json_object_get_boolean(member(p, "attached", json_type_boolean));
                        const char *err = member_str(p, "error");

                        /* Names this kernel does not have are noise unless asked for. */
                        if (!exists && !verbose)
                                continue;
                        printf("%*s  %-40s %s%s%s\n", (int)(2 * MIN(depth, 8u)), "",
                               member_str(p, "name") ? member_str(p, "name") : "?",
                               patt     ? "attached"
                               : exists ? "not attached"
                                        : "not on this kernel",
                               !patt && err && verbose ? ": " : "",
                               !patt && err && verbose ? err : "");
                }
        }
}

static void list_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] list [OPTIONS]\n"
              "\n"
              "List the probes skbtraced discovered: kernel functions and tracepoints that\n"
              "take a struct sk_buff.  Probes that could not be attached are listed with the\n"
              "reason.  The number of probes goes to standard error.\n"
              "\n"
              "Options:\n"
              "  -r, --regex RE         only probes whose name matches the POSIX extended\n"
              "                         regular expression RE (as 'ipftctl trace -r')\n"
              "  -k, --kind KIND        only probes of this kind: function, tracepoint or\n"
              "                         netfilter (verdicts of iptables and nftables)\n"
              "  -g, --groups           the probe groups ('ipftctl trace -g') as a tree, with\n"
              "                         their probes on this kernel (-v: also those it lacks)\n"
              "  -v, --verbose          with --groups: list names this kernel does not have\n"
              "  -o, --output FORMAT    text (a table, default) or json (one object per line)\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl list -r '^tcp_'\n"
              "  ipftctl list -k tracepoint\n"
              "  ipftctl list -o json | jq -r 'select(.attached | not) | .name'\n"
              "  ipftctl list --groups\n",
              f);
}

static const char *probe_attached(json_object *p, char *buf, size_t len)
{
        const char *error = member_str(p, "error");

        if (json_object_get_boolean(member(p, "attached", json_type_boolean)))
                return "yes";
        if (!error)
                return "no";
        snprintf(buf, len, "no: %s", error);
        return buf;
}

static void list_print_table(json_object **rows, size_t n)
{
        static const char *const head[] = {"NAME", "KIND", "SKB_ARG", "BACKEND"};
        size_t w[ARRAY_SIZE(head)];
        char arg[24], att[512];

        for (size_t k = 0; k < ARRAY_SIZE(head); k++)
                w[k] = strlen(head[k]);
        for (size_t i = 0; i < n; i++) {
                const char *name = member_str(rows[i], "name");
                const char *kind = member_str(rows[i], "kind");
                const char *backend = member_str(rows[i], "backend");

                w[0] = MAX(w[0], strlen(name ? name : "-"));
                w[1] = MAX(w[1], strlen(kind ? kind : "-"));
                w[3] = MAX(w[3], strlen(backend ? backend : "-"));
        }

        printf("%-*s  %-*s  %*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2],
               head[2], (int)w[3], head[3], "ATTACHED");
        for (size_t i = 0; i < n; i++) {
                const char *name = member_str(rows[i], "name");
                const char *kind = member_str(rows[i], "kind");
                const char *backend = member_str(rows[i], "backend");
                uint64_t skb_arg;

                /* skb_arg is 1-based on the wire, and shown as such. */
                if (member_u64(rows[i], "skb_arg", &skb_arg))
                        snprintf(arg, sizeof(arg), "%" PRIu64, skb_arg);
                else
                        snprintf(arg, sizeof(arg), "-");
                printf("%-*s  %-*s  %*s  %-*s  %s\n", (int)w[0], name ? name : "-", (int)w[1],
                       kind ? kind : "-", (int)w[2], arg, (int)w[3], backend ? backend : "-",
                       probe_attached(rows[i], att, sizeof(att)));
        }
}

static int cmd_list(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"regex", required_argument, NULL, 'r'},
            {"kind", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"groups", no_argument, NULL, 'g'},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_json_ json_object *params = NULL, *reply = NULL;
        _cleanup_free_ json_object **rows = NULL;
        const char *regex = NULL, *kind = NULL, *output = "text";
        char err[SKBT_ERR_MAX + 128];
        json_object *rparams, *probes;
        size_t n = 0, attached = 0, total;
        bool groups = false, verbose = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:k:o:gvh", longopts, NULL)) != -1) {
                switch (c) {
                case 'g':
                        groups = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'r':
                        if (args_check_regex(optarg, err, sizeof(err)) < 0)
                                return usage_error("list", err);
                        regex = optarg;
                        break;
                case 'k':
                        if (strcmp(optarg, "function") != 0 && strcmp(optarg, "tracepoint") != 0 &&
                            strcmp(optarg, "netfilter") != 0)
                                return usage_errorf("list",
                                                    "invalid kind '%.64s': expected function, "
                                                    "tracepoint or netfilter",
                                                    optarg);
                        kind = optarg;
                        break;
                case 'o':
                        if (args_parse_output(optarg, &output, err, sizeof(err)) < 0)
                                return usage_error("list", err);
                        break;
                case 'h':
                        list_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("list", err);
                }
        }
        if (optind < argc)
                return usage_errorf("list", "unexpected argument '%.64s'", argv[optind]);
        if (groups && (regex || kind))
                return usage_error("list", "--groups lists the whole tree: it does not combine "
                                           "with --regex or --kind");

        params = json_object_new_object();
        if (groups) {
                json_object *arr;

                if (!params ||
                    json_object_object_add(params, "groups", json_object_new_boolean(1)) < 0) {
                        log_error("out of memory");
                        return EXIT_ERROR;
                }
                r = call_once(ctl, "io.skbtraced.List", params, &reply, &rparams);
                if (r < 0)
                        return EXIT_ERROR;
                arr = member(rparams, "groups", json_type_array);
                if (!arr) {
                        log_error("malformed reply from skbtraced: no groups array");
                        return EXIT_ERROR;
                }
                if (strcmp(output, "json") == 0) {
                        for (size_t i = 0; i < json_object_array_length(arr); i++)
                                printf("%s\n", json_object_to_json_string_ext(
                                                   json_object_array_get_idx(arr, i),
                                                   JSON_C_TO_STRING_PLAIN));
                } else {
                        list_print_groups(arr, verbose);
                }
                fflush(stdout);
                fprintf(stderr, "%zu groups from %s\n", json_object_array_length(arr),
                        member_str(rparams, "file") ? member_str(rparams, "file") : "?");
                return EXIT_OK;
        }
        if (!params ||
            (regex && json_object_object_add(params, "regex", json_object_new_string(regex)) < 0)) {
                log_error("out of memory");
                return EXIT_ERROR;
        }
        r = call_once(ctl, "io.skbtraced.List", params, &reply, &rparams);
        if (r < 0)
                return EXIT_ERROR;
        probes = member(rparams, "probes", json_type_array);
        if (!probes) {
                log_error("malformed reply from skbtraced: no probes array");
                return EXIT_ERROR;
        }

        /* --kind is applied here: the List method has no such parameter. */
        total = json_object_array_length(probes);
        rows = calloc(MAX(total, (size_t)1), sizeof(*rows));
        if (!rows) {
                log_error("out of memory");
                return EXIT_ERROR;
        }
        for (size_t i = 0; i < total; i++) {
                json_object *p = json_object_array_get_idx(probes, i);
                const char *k = member_str(p, "kind");

                if (!json_object_is_type(p, json_type_object))
                        continue;
                if (kind && (!k || strcmp(k, kind) != 0))
                        continue;
                rows[n++] = p;
                if (json_object_get_boolean(member(p, "attached", json_type_boolean)))
                        attached++;
        }

        if (strcmp(output, "json") == 0) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n",
                               json_object_to_json_string_ext(rows[i], JSON_C_TO_STRING_PLAIN));
        } else {
                list_print_table(rows, n);
        }
        /* Flush first so the count follows the table when both go to a terminal. */
        fflush(stdout);
        fprintf(stderr, "%zu probes (%zu attached)\n", n, attached);
        return EXIT_OK;
}

/* ---- status ---- */

static void status_usage(FILE *f)
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

static void status_print(json_object *p, bool verbose)
{
        const char *version = member_str(p, "version"), *kernel = member_str(p, "kernel");
        const char *backend = member_str(p, "backend"), *reason = member_str(p, "backend_reason");
        json_object *backends = member(p, "backends", json_type_array);
        json_object *probes = member(p, "probes", json_type_object);
        json_object *sessions = member(p, "sessions", json_type_object);
        json_object *skipped = member(p, "skipped", json_type_array);
        json_object *conns = member(p, "connections", json_type_object);
        json_object *limits = member(p, "limits", json_type_object);
        json_object *mem = member(p, "memory", json_type_object);
        json_object *v2;
        const char *str;
        uint64_t v;
        char buf[64];

        if (member_u64(p, "protocol", &v))
                status_line("version:", "%s (protocol %" PRIu64 ")", version ? version : "?", v);
        else
                status_line("version:", "%s", version ? version : "?");
        status_line("kernel:", "%s", kernel ? kernel : "?");
        if (reason && *reason)
                status_line("backend:", "%s (%s)", backend ? backend : "?", reason);
        else
                status_line("backend:", "%s", backend ? backend : "?");
        if (backends) {
                printf("backends:\n");
                for (size_t i = 0; i < json_object_array_length(backends); i++) {
                        json_object *b = json_object_array_get_idx(backends, i);
                        const char *name = member_str(b, "name"), *why = member_str(b, "reason");
                        bool usable =
                            json_object_get_boolean(member(b, "usable", json_type_boolean));

                        printf("  %-13s %s%s%s\n", name ? name : "?",
                               usable ? "usable" : "not usable", why && *why ? ": " : "",
                               why && *why ? why : "");
                }
        }
        if (probes) {
                status_line(
                    "probes:",
                    "%" PRIu64 " attached (%" PRIu64 " functions, %" PRIu64 " returns, %" PRIu64
                    " tracepoints, %" PRIu64 " netfilter), %" PRIu64 " skipped",
                    member_u64_or(probes, "attached", 0), member_u64_or(probes, "functions", 0),
                    member_u64_or(probes, "returns", 0), member_u64_or(probes, "tracepoints", 0),
                    member_u64_or(probes, "netfilter", 0), member_u64_or(probes, "skipped", 0));
                status_line("",
                            "%" PRIu64 " discovered, %" PRIu64
                            " not attachable with this backend (ipftctl list says why)",
                            member_u64_or(probes, "discovered", 0),
                            member_u64_or(probes, "unsupported", 0));
        }
        if (member_u64(p, "startup_ms", &v)) {
                uint64_t load = member_u64_or(p, "load_ms", 0);

                status_line("startup time:",
                            "%" PRIu64 " ms (loading and attaching: %" PRIu64 " ms)", v, load);
        }
        if ((v2 = member(p, "tracepoints", json_type_object))) {
                json_object *after = NULL, *det = member(v2, "idle_detached", json_type_boolean);
                double linger = json_object_object_get_ex(v2, "idle_detach_after_s", &after)
                                    ? json_object_get_double(after)
                                    : -1;
                uint64_t linked = member_u64_or(v2, "linked", 0);
                uint64_t loaded = member_u64_or(v2, "loaded", 0);

                if (det && json_object_get_boolean(det))
                        status_line("tracepoints:",
                                    "%" PRIu64 " of %" PRIu64 " linked: detached while idle, no "
                                    "program runs; the next session re-attaches them (last "
                                    "time %.1f ms)",
                                    linked, loaded,
                                    (double)member_u64_or(v2, "last_attach_us", 0) / 1e3);
                else if (linger < 0)
                        status_line("tracepoints:",
                                    "%" PRIu64 " of %" PRIu64 " linked, also while idle "
                                    "(idle_detach_after = never)",
                                    linked, loaded);
                else
                        status_line("tracepoints:",
                                    "%" PRIu64 " of %" PRIu64 " linked; detached %g s after the "
                                    "last session ends",
                                    linked, loaded, linger);
        }
        if (member_u64(p, "uptime_ns", &v)) {
                format_duration(v, buf, sizeof(buf));
                status_line("uptime:", "%s", buf);
        }
        if (sessions && member(sessions, "max_per_user", json_type_int))
                status_line(
                    "sessions:", "%" PRIu64 " active, %" PRIu64 " max (%" PRIu64 " per user)",
                    member_u64_or(sessions, "active", 0), member_u64_or(sessions, "max", 0),
                    member_u64_or(sessions, "max_per_user", 0));
        else if (sessions)
                status_line("sessions:", "%" PRIu64 " active, %" PRIu64 " max",
                            member_u64_or(sessions, "active", 0),
                            member_u64_or(sessions, "max", 0));
        if (conns)
                status_line(
                    "connections:", "%" PRIu64 " open, %" PRIu64 " max (%" PRIu64 " per user)",
                    member_u64_or(conns, "active", 0), member_u64_or(conns, "max", 0),
                    member_u64_or(conns, "max_per_user", 0));
        if (limits)
                status_print_limits(limits);
        if (member_u64(p, "events", &v))
                status_line("events:", "%" PRIu64, v);
        if (member(p, "lost_rate", json_type_int))
                status_line("lost:",
                            "%" PRIu64 " ring buffer, %" PRIu64 " client queues, %" PRIu64
                            " over rate limits",
                            member_u64_or(p, "lost_ringbuf", 0), member_u64_or(p, "lost_queue", 0),
                            member_u64_or(p, "lost_rate", 0));
        else
                status_line("lost:", "%" PRIu64 " ring buffer, %" PRIu64 " client queues",
                            member_u64_or(p, "lost_ringbuf", 0), member_u64_or(p, "lost_queue", 0));
        if (mem) {
                char rss[32], maps[32], queued[32];

                format_bytes(member_u64_or(mem, "rss_bytes", 0), rss, sizeof(rss));
                format_bytes(member_u64_or(mem, "bpf_map_bytes", 0), maps, sizeof(maps));
                format_bytes(member_u64_or(mem, "queued_bytes", 0), queued, sizeof(queued));
                status_line("memory:",
                            "%s resident, %s in %" PRIu64 " BPF maps, %s queued for "
                            "clients",
                            rss, maps, member_u64_or(mem, "bpf_maps", 0), queued);
        }
        if ((str = member_str(p, "group"))) {
                json_object *ok = member(p, "group_exists", json_type_boolean);

                if (ok && !json_object_get_boolean(ok))
                        status_line("access:", "root only (group %s does not exist)", str);
                else
                        status_line("access:", "root and members of group %s", str);
        }
        if (member(p, "config", json_type_string))
                status_line("config file:", "%s", member_str(p, "config"));
        else if (member(p, "group", json_type_string))
                status_line("config file:", "none (built-in defaults)");
        if ((v2 = member(p, "tracking", json_type_object)) && member(v2, "max", json_type_int))
                status_line("tracking:",
                            "%" PRIu64 " packets followed now (map of %" PRIu64 "); %" PRIu64
                            " started, %" PRIu64 " clones, %" PRIu64 " freed, %" PRIu64
                            " stale, %" PRIu64 " evicted",
                            member_u64_or(v2, "entries", 0), member_u64_or(v2, "max", 0),
                            member_u64_or(v2, "created", 0), member_u64_or(v2, "clones", 0),
                            member_u64_or(v2, "freed", 0), member_u64_or(v2, "stale", 0),
                            member_u64_or(v2, "evicted", 0));
        if ((v2 = member(p, "netfilter", json_type_object)))
                status_line("netfilter:",
                            "%" PRIu64 " table/chain evaluators report verdicts%s; %" PRIu64
                            " evaluations nested too deep to report",
                            member_u64_or(v2, "probes", 0),
                            member_u64_or(v2, "probes", 0) ? "" : " (see 'ipftctl list')",
                            member_u64_or(v2, "too_deep", 0));
        if ((v2 = member(p, "groups", json_type_object))) {
                if (member_str(v2, "error"))
                        status_line("probe groups:", "none: %s", member_str(v2, "error"));
                else
                        status_line("probe groups:", "%" PRIu64 " from %s",
                                    member_u64_or(v2, "groups", 0),
                                    member_str(v2, "file") ? member_str(v2, "file") : "?");
        }

        if (verbose && skipped) {
                printf("skipped probes:\n");
                for (size_t i = 0; i < json_object_array_length(skipped); i++) {
                        json_object *s = json_object_array_get_idx(skipped, i);
                        const char *name = member_str(s, "name"), *err = member_str(s, "error");

                        printf("  %s: %s\n", name ? name : "?", err ? err : "unknown error");
                }
        }
}

static int cmd_status(const struct ctl *ctl, int argc, char **argv)
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

/* ---- sessions ---- */

static void sessions_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] sessions [OPTIONS]\n"
              "\n"
              "List the trace sessions running in skbtraced: your own, or every session when\n"
              "run as root.  LOST counts events lost in the ring buffer, in the session's\n"
              "queue (client too slow) and over the rate limit.  The number of sessions goes\n"
              "to standard error.\n"
              "\n"
              "Options:\n"
              "  -o, --output FORMAT    text (a table, default) or json (one object per line)\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl sessions\n"
              "  ipftctl sessions -o json | jq -r 'select(.lost_queue > 0) | .session'\n",
              f);
}

/* User name of uid, or the number; buf must hold it. */
static const char *user_name(uint64_t uid, char *buf, size_t len)
{
        struct passwd *pw = getpwuid((uid_t)uid);

        if (pw)
                return pw->pw_name;
        snprintf(buf, len, "%" PRIu64, uid);
        return buf;
}

static void sessions_print_table(json_object *arr)
{
        size_t n = json_object_array_length(arr);

        printf("%6s %-12s %8s %-14s %-19s %10s %8s  %s\n", "ID", "USER", "PID", "TRACER", "STARTED",
               "EVENTS", "LOST", "FILTER");
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(arr, i);
                const char *tracer = member_str(o, "tracer");
                const char *filter = member_str(o, "filter_text");
                const char *regex = member_str(o, "regex");
                uint64_t started = member_u64_or(o, "started_usec", 0);
                uint64_t lost = member_u64_or(o, "lost_ringbuf", 0) +
                                member_u64_or(o, "lost_queue", 0) +
                                member_u64_or(o, "lost_rate", 0);
                char ubuf[24], tbuf[32] = "-";
                time_t t = (time_t)(started / 1000000);
                struct tm tm;

                if (started && localtime_r(&t, &tm))
                        strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%6" PRIu64 " %-12s %8" PRIu64 " %-14s %-19s %10" PRIu64 " %8" PRIu64
                       "  %s%s%s\n",
                       member_u64_or(o, "session", 0),
                       user_name(member_u64_or(o, "uid", 0), ubuf, sizeof(ubuf)),
                       member_u64_or(o, "pid", 0), tracer ? tracer : "?", tbuf,
                       member_u64_or(o, "events", 0), lost, filter ? filter : "?",
                       regex ? ", probes matching " : "", regex ? regex : "");
        }
}

static int cmd_sessions(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"output", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_json_ json_object *reply = NULL;
        const char *output = "text";
        char err[SKBT_ERR_MAX + 128];
        json_object *params, *arr;
        size_t n;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        if (args_parse_output(optarg, &output, err, sizeof(err)) < 0)
                                return usage_error("sessions", err);
                        break;
                case 'h':
                        sessions_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("sessions", err);
                }
        }
        if (optind < argc)
                return usage_errorf("sessions", "unexpected argument '%.64s'", argv[optind]);

        r = call_once(ctl, "io.skbtraced.Sessions", NULL, &reply, &params);
        if (r < 0)
                return EXIT_ERROR;
        arr = member(params, "sessions", json_type_array);
        if (!arr) {
                log_error("malformed reply from skbtraced: no sessions array");
                return EXIT_ERROR;
        }
        n = json_object_array_length(arr);
        if (strcmp(output, "json") == 0) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n",
                               json_object_to_json_string_ext(json_object_array_get_idx(arr, i),
                                                              JSON_C_TO_STRING_PLAIN));
        } else {
                sessions_print_table(arr);
        }
        fflush(stdout);
        fprintf(stderr, "%zu session%s\n", n, n == 1 ? "" : "s");
        return EXIT_OK;
}

/* ---- stop ---- */

static void stop_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] stop ID...\n"
              "\n"
              "End trace sessions by id (see 'ipftctl sessions').  Their clients receive the\n"
              "end-of-session summary with reason 'stopped'.  Users other than root can stop\n"
              "only their own sessions.\n"
              "\n"
              "Options:\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl stop 12\n"
              "  ipftctl sessions -o json | jq -r 'select(.uid == 1000) | .session' "
              "| xargs -r ipftctl stop\n",
              f);
}

/* Session ids are decimal, 1 .. 2^63-2 (the daemon's range); nothing else. */
static int parse_session_id(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!*s || *s == '0')
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (INT64_MAX - 1 - (uint64_t)(*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return 0;
}

static int cmd_stop(const struct ctl *ctl, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"help", no_argument, NULL, 'h'},
            {},
        };
        char err[256];
        int c, ret = EXIT_OK;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        stop_usage(stdout);
                        return EXIT_OK;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("stop", err);
                }
        }
        if (optind >= argc)
                return usage_error("stop", "missing session id (see 'ipftctl sessions')");
        /* Check every id before stopping any: a typo must not stop half the list. */
        for (int i = optind; i < argc; i++) {
                uint64_t id;

                if (parse_session_id(argv[i], &id) < 0)
                        return usage_errorf("stop",
                                            "invalid session id '%.64s': expected a number "
                                            "from 1, as 'ipftctl sessions' shows",
                                            argv[i]);
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
                json_object *rparams, *sum;
                uint64_t id;

                (void)parse_session_id(argv[i], &id);
                if (!params || json_object_object_add(params, "session",
                                                      json_object_new_int64((int64_t)id)) < 0) {
                        log_error("out of memory");
                        return EXIT_ERROR;
                }
                if (call_once(ctl, "io.skbtraced.Stop", params, &reply, &rparams) < 0) {
                        ret = EXIT_ERROR;
                        continue;
                }
                sum = member(rparams, "summary", json_type_object);
                printf("stopped session %" PRIu64 ": %" PRIu64 " events, %" PRIu64 " lost\n", id,
                       member_u64_or(sum, "events", 0),
                       member_u64_or(sum, "lost_ringbuf", 0) + member_u64_or(sum, "lost_queue", 0) +
                           member_u64_or(sum, "lost_rate", 0));
        }
        return ret;
}

/* ---- help and main ---- */

static int cmd_help(const struct ctl *ctl, int argc, char **argv);
static void help_usage(FILE *f);

static const struct command commands[] = {
    {"trace", cmd_trace, trace_args_usage, "trace packets matching a filter"},
    {"list", cmd_list, list_usage, "list the probes skbtraced can trace"},
    {"status", cmd_status, status_usage, "show the daemon's backend, probes and counters"},
    {"sessions", cmd_sessions, sessions_usage, "list trace sessions (yours; all as root)"},
    {"stop", cmd_stop, stop_usage, "end trace sessions by id"},
    {"help", cmd_help, help_usage, "show the help of a command"},
};

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static void main_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] COMMAND [OPTIONS]\n"
              "\n"
              "Trace packets through the Linux kernel's networking stack with skbtraced.\n"
              "\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
        fputs("\n"
              "Global options:\n"
              "      --socket PATH   control socket of skbtraced (default: $SKBTRACED_SOCKET,\n"
              "                      else " SKBT_DEFAULT_SOCKET ")\n"
              "  -h, --help          show this help\n"
              "      --version       show the version\n"
              "\n"
              "Run 'ipftctl COMMAND --help' for the options and examples of a command.\n"
              "\n"
              "Examples:\n"
              "  ipftctl trace -p icmp --addr 10.0.0.1\n"
              "  ipftctl list -r '^ip_'\n"
              "  ipftctl status\n"
              "  ipftctl sessions\n"
              "  ipftctl stop 12\n",
              f);
}

static void help_usage(FILE *f)
{
        fputs("Usage: ipftctl help [COMMAND]\n"
              "\n"
              "Show the overview, or the options and examples of COMMAND.\n"
              "\n"
              "Examples:\n"
              "  ipftctl help\n"
              "  ipftctl help trace\n",
              f);
}

static int cmd_help(const struct ctl *ctl, int argc, char **argv)
{
        const struct command *cmd;

        if (argc < 2) {
                main_usage(stdout);
                return EXIT_OK;
        }
        if (argc > 2)
                return usage_errorf("help", "unexpected argument '%.64s'", argv[2]);
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                help_usage(stdout);
                return EXIT_OK;
        }
        cmd = find_command(argv[1]);
        if (!cmd)
                return usage_errorf(NULL, "unknown command '%.64s'", argv[1]);
        cmd->usage(stdout);
        return EXIT_OK;
}

/* A failed write to stdout must not pass for success, except a closed pipe
 * (| head): the reader then has all it wanted. */
static int finish_stdout(int ret)
{
        if (fflush(stdout) == 0 && !ferror(stdout))
                return ret;
        if (errno == EPIPE)
                return ret;
        log_error_errno(negative_errno(), "cannot write to standard output: %m");
        return ret == EXIT_OK ? EXIT_ERROR : ret;
}

int main(int argc, char **argv)
{
        enum {
                OPT_SOCKET = 0x100,
                OPT_VERSION,
        };
        static const struct option longopts[] = {
            {"socket", required_argument, NULL, OPT_SOCKET},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {},
        };
        struct ctl ctl = {};
        const struct command *cmd;
        const char *env;
        char err[256];
        int c;

        log_set_ident("ipftctl");
        /* A closed stdout or socket must surface as EPIPE where it is written, so it
         * can be handled (quietly for | head), not kill the process silently. */
        signal(SIGPIPE, SIG_IGN);

        /* '+': stop at the command name; its options belong to the command. */
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
                switch (c) {
                case OPT_SOCKET:
                        if (!*optarg)
                                return usage_error(NULL, "--socket needs a non-empty path");
                        ctl.socket_path = optarg;
                        break;
                case 'h':
                        main_usage(stdout);
                        return finish_stdout(EXIT_OK);
                case OPT_VERSION:
                        printf("ipftctl %s (protocol %d)\n", SKBT_VERSION, SKBT_PROTOCOL_VERSION);
                        return finish_stdout(EXIT_OK);
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error(NULL, err);
                }
        }
        if (!ctl.socket_path) {
                env = getenv("SKBTRACED_SOCKET");
                ctl.socket_path = env && *env ? env : SKBT_DEFAULT_SOCKET;
        }

        if (optind >= argc)
                return usage_error(NULL, "missing command (trace, list, status, sessions, stop "
                                         "or help)");
        cmd = find_command(argv[optind]);
        if (!cmd)
                return usage_errorf(NULL, "unknown command '%.64s'", argv[optind]);
        return finish_stdout(cmd->run(&ctl, argc - optind, argv + optind));
}
