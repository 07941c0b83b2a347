/* SPDX-License-Identifier: GPL-2.0-only */
/* skbtraced.h - the daemon's context: every piece of mutable state lives here */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "caps.h"
#include "ct.h"
#include "fields.h"
#include "format.h"
#include "idle_detach.h"
#include "kaddr.h"
#include "loader.h"
#include "msgframe.h"
#include "skbt_config.h"
#include "skbt_abi.h"
#include "strbuf.h"
#include "symdb.h"
#include "trace_params.h"

struct json_object;
struct ring_buffer;
struct skbt_agg;
struct skbt_client;
struct skbt_graph;
struct skbt_groups;
struct skbt_netns_names;

/* Netfilter DROP verdicts a session remembers, and for how long (the drop follows at once). */
#define SKBT_NF_DROPS 8
#define SKBT_NF_DROP_NS (100 * 1000 * 1000ULL)

/*
 * Where a session's output goes: its client's connection, through control/.
 * The session renders events and keeps its counters; it never touches a
 * socket or builds a reply (data flows one way: session -> client).
 */
struct skbt_session_losses {
        uint64_t ringbuf, queue, rate; /* cumulative, as in the session's summary */
        uint64_t missed;               /* probe runs the kernel skipped (lost_missed) */
};
struct skbt_session_output_ops {
        /* A batch of complete output lines and the loss counters so far: queue it (and
         * send what the socket takes now).  -ENOMEM: the batch is lost (and counted). */
        int (*write)(void *userdata, const char *data, size_t len,
                     const struct skbt_session_losses *lost);
        /* A record of the stream other than a batch (attach "progress"), after the batches
         * handed over before it. */
        void (*record)(void *userdata, struct json_object *params);
        /* The session ended with this summary; the output is not used again. */
        void (*ended)(void *userdata, struct json_object *summary);
};
struct skbt_session_output {
        const struct skbt_session_output_ops *ops; /* NULL: the client is gone */
        void *userdata;
        /* Output waiting for the client, in bytes, kept current by the output: the
         * session's queue bound counts it (read per event, so no call). */
        const size_t *backlog;
};

struct skbt_session {
        struct skbtraced *d;
        struct skbt_session_output out;
        uint32_t slot;
        uint64_t id;
        struct skbt_filter filter;
        char filter_desc[256];
        enum skbt_tracer tracer;
        enum skbt_output output; /* as asked: decides what the session hears, too */
        enum skbt_output render; /* what the daemon renders: output, or JSON when recording */
        bool record;             /* the client records the events (JSON) and renders output */
        uint64_t count_limit;    /* 0: no limit */
        uint64_t start_ns;       /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */
        uint32_t n_probes;
        uint64_t events;                             /* rendered and queued for the client */
        uint64_t lost_ringbuf;                       /* from the BPF per-slot counter */
        uint64_t lost_queue;                         /* client too slow: our queue was full */
        uint64_t sent_lost_ringbuf, sent_lost_queue; /* last values the client saw */
        uint64_t lost_rate;                          /* over the session's rate limit */
        uint64_t sent_lost_rate;
        /* Runs of its probes the kernel skipped while it was live (probes/misses.h): a
         * skipped run parsed nothing, so every session its probe delivered to counts it. */
        uint64_t lost_missed, sent_lost_missed;
        uint32_t rate_limit;                   /* events per second, 0: none (fixed at start) */
        uint64_t rate_credit_ns, rate_last_ts; /* token bucket, in ns of credit */
        uid_t uid;                             /* owner: the peer that started it */
        bool hide_kaddr;    /* not root: no kernel addresses in its events (output/kaddr.h) */
        bool track_limited; /* not root: packets it starts tracking are limited (track_quota) */
        pid_t pid;
        uint64_t start_realtime_usec;      /* for people: when it started */
        char *regex;                       /* probe selection as given, NULL: all */
        const char *timer_reason;          /* "duration" or "max_duration" (the daemon's limit) */
        struct strbuf pending;             /* rendered events not yet wrapped in a reply */
        sd_event_source *timer;            /* --duration */
        struct skbt_graph *graph;          /* function_graph: call depth per packet */
        const char *end_reason;            /* set when the session must end after this batch */
        char *pcap_filter;                 /* the expression as given, NULL: none */
        struct skbt_cbpf_prog cbpf;        /* compiled from it (len 0: none) */
        struct skbt_session_fields fields; /* -F: custom fields, resolved (n 0: none) */
        bool snapshot; /* events carry the packet's first bytes (pcapng output) */
        bool ct;       /* events carry the skb's conntrack entry (--ct) */
        bool dump_skb; /* events carry the whole sk_buff printed (--dump-skb) */
        bool nf_rules; /* netfilter verdicts name the rule that decided (--nf-rules) */
        /* Packet journeys (docs/output.md "Tracking"). */
        bool track;                  /* follow matched packets whatever their headers become */
        bool ident;                  /* events carry track ids: track, or aggregate output */
        struct skbt_format_opts fmt; /* --detail, --stack, track ids */
        struct skbt_agg *agg;        /* aggregate output: blocks held until each packet ends */
        uint32_t egress_probe; /* aggregate: a block ends at this probe (SKBT_NO_PROBE: none) */
        char *groups;          /* probe groups as given ("ip-in,tcp"), NULL: none */
        uint64_t track_evicted_start; /* tracking map evictions when the session started */
        /* Netfilter probes the session hears only to explain drops, not to show. */
        uint32_t nf_hidden[8];
        uint32_t n_nf_hidden;
        /* The last DROP verdicts seen, to explain the drops that follow them. */
        struct skbt_nf_drop {
                uint64_t skb;
                uint64_t ts;
                struct skbt_nf nf;
                uint32_t verdict;
        } nf_drops[SKBT_NF_DROPS];
        uint32_t nf_drops_next;
        /* Attach on demand (core/idle_detach.h): what was attached when it started, whether
         * it waits for every probe before it hears any (wait_attached), whether its bit is
         * live in BPF, and the last progress record sent. */
        uint32_t attach_total, attach_live, attach_failed;
        bool wait_attached;
        bool live;
        uint64_t duration_usec; /* --duration of a session waiting for its probes: armed when
                                   it goes live */
        uint64_t progress_ns;
        bool progress_final;
};

#define SKBT_REFUSED_MAX 64
#define SKBT_REFUSED_LINGER_USEC (1000 * 1000ULL)
/* Progress records go out at most this often per session (and once when complete). */
#define SKBT_PROGRESS_NS (100 * 1000 * 1000ULL)

struct skbt_client {
        struct skbtraced *d;
        struct skbt_client *next, *prev;
        int fd;
        sd_event_source *io;
        sd_event_source *drain_timer;
        struct msgframe in;
        struct strbuf out;
        struct ucred cred;
        bool admin; /* root: may see and stop every session */
        struct skbt_session *session;
        bool raw_output; /* its Trace batches carry output_bytes, then the bytes unescaped */
        bool draining;   /* protocol error: reply sent, discarding input until close */
        uint64_t last_request_ns; /* accepted, or the last complete request (idle_timeout) */
};

struct skbt_options {
        const char *socket_path;
        enum skbt_backend backend;
        uint32_t ringbuf_bytes;
        int verbose;
        const char *config_path; /* NULL: no config file */
        bool config_required;    /* --config given: a missing file is an error */
        bool config_loaded;      /* the file was there and read (at start or the last reload) */
        struct skbt_config cli;  /* what the command line set: wins over the file on reload */
        struct skbt_config cfg;  /* in effect: defaults < config file < command line */
        const char *probes;      /* regex: attach only matching probes (NULL: all) */
        const char *groups_path; /* probe groups data file */
        bool no_returns;         /* skip return probes (faster start, no function_graph) */
};

struct skbtraced {
        struct skbt_options opt;
        sd_event *event;
        int listen_fd;
        bool socket_owned; /* we bound it (not socket activation): unlink on exit */
        sd_event_source *listen_io;
        sd_event_source *rb_io;
        sd_event_source *rb_poll; /* picks up records submitted without a wakeup */
        sd_event_source *loss_timer;
        struct skbt_idle idle; /* tracepoint links closed while no session runs */

        struct skbt_caps caps;
        enum skbt_backend backend;
        struct skbt_regex *probe_re; /* --probes, NULL: every probe */
        char backend_reason[512];
        char kernel[192];

        struct skbt_symdb symdb;
        char **drop_reasons;
        uint32_t n_drop_reasons;
        struct skbt_ksyms *ksyms;
        struct skbt_loader *loader;
        struct ring_buffer *rb;
        const char **probe_names;
        struct skbt_names names;
        struct skbt_kaddr_key kaddr_key; /* per daemon run: hides addresses from non-root */
        void *kaddr_buf;                 /* a record, its addresses hidden */
        size_t kaddr_buf_size;
        struct skbt_netns_names *netns_names; /* /run/netns names by inode (NULL: none) */
        struct skbt_groups *groups; /* NULL: the file could not be read (groups_error says why) */
        char groups_error[320];
        const char **probe_groups; /* per probe id: its group's name, in groups */

        struct skbt_session *slots[SKBT_MAX_SESSIONS];
        uint32_t n_sessions;
        uint64_t next_session_id;
        struct skbt_client *clients;
        uint32_t n_clients;
        uint64_t refused_connections; /* closed at accept: not allowed, or over a limit */
        size_t queued_total;          /* output waiting for all sessions, as of the last batch */
        uint64_t idle_closed;         /* closed after idle_timeout without a request */
        sd_event_source *idle_sweep;  /* closes idle connections */
        /* Refused connections, error sent and write side shut: kept open (not clients, not
         * counted) for SKBT_REFUSED_LINGER_USEC so that a peer that writes its request after
         * our error gets no EPIPE, at most SKBT_REFUSED_MAX of them (oldest closed first). */
        int refused_fd[SKBT_REFUSED_MAX];
        uint64_t refused_ns[SKBT_REFUSED_MAX];
        uint32_t refused_head, refused_n;
        sd_event_source *refused_timer;

        uint64_t start_mono_ns;
        uint64_t startup_ns;
        uint64_t startup_phase_ns[3]; /* since start: after caps, discovery, load */
        uint64_t records;             /* ring buffer records consumed */
        uint32_t batch_records;       /* consumed since the last skbt_sessions_after_batch() */
        uint64_t events_total;        /* events delivered to sessions, ended ones included */
        uint64_t lost_queue_total;
        uint64_t lost_ringbuf_total;
        uint64_t lost_rate_total;
        uint64_t lost_missed_total;   /* ended sessions' lost_missed */
        uint32_t loss_ticks;          /* loss timer expiries: the miss counters are read every
                                         SKBT_MISS_POLL_TICKS of them while sessions run */
        uint64_t track_refused_total; /* ended sessions' (skbt_session_track_refused()) */
        bool shutting_down;

        /* Custom fields: the shared table (names resolve through kernel/kernel_btf.h). */
        struct skbt_field_registry fields;
        /* Conntrack (--ct): struct nf_conn's layout, found at the first --ct session. */
        struct skbt_ct_layout ct_layout;
        bool ct_layout_ok;
        /* nftables' trace hook switched on (nft_trace.c) while nf_rules sessions run. */
        int nft_trace_fd;
        uint32_t n_nf_rules;

        /* Access control: the group of opt.cfg.group, resolved at start and reload. */
        gid_t access_gid;
        bool access_gid_valid;
};

/* manager.c */
int skbtraced_new(const struct skbt_options *opt, struct skbtraced **ret);
struct skbtraced *skbtraced_free(struct skbtraced *d);
int skbtraced_run(struct skbtraced *d);

/* session.c */
/* Start a session from tmpl (which it takes its strings from) on the probes probe_sel marks;
 * its output goes to out.  Nothing is live on failure. */
int skbt_session_start(struct skbtraced *d, struct skbt_session *tmpl, const uint8_t *probe_sel,
                       const struct skbt_session_output *out, struct skbt_session **ret);
/* The client went away: the session's output goes nowhere from now on. */
void skbt_session_detach_output(struct skbt_session *s);
/* Output waiting for the session's client: rendered, and queued on its connection. */
size_t skbt_session_queued(const struct skbt_session *s);
/* Packets its track_quota kept from being tracked for it (0: root, or no track ids). */
uint64_t skbt_session_track_refused(const struct skbt_session *s);
/* nftables' trace hook: switched on for nf_rules sessions (kept while any runs), off when the
 * last one ended (or a session that took it never started). */
int skbt_nf_rules_hold(struct skbtraced *d, char *err, size_t errlen);
void skbt_nf_rules_idle(struct skbtraced *d);
int skbt_session_set_duration(struct skbt_session *s, uint64_t usec, const char *reason);
void skbt_session_end(struct skbt_session *s, const char *reason);
/* Records consumed per batch, and what skbt_ringbuf_event() returns then to stop
 * ring_buffer__consume() (the record itself is consumed). */
#define SKBT_BATCH_RECORDS 1024
#define SKBT_BATCH_FULL (-EALREADY)
int skbt_ringbuf_event(void *ctx, void *data, size_t size);
void skbt_sessions_after_batch(struct skbtraced *d);
void skbt_sessions_poll_lost(struct skbtraced *d);
/* Read the kernel's counts of our probe runs it skipped; what moved since the last read is
 * lost for every live session the probes deliver to (see struct skbt_session's lost_missed). */
void skbt_sessions_poll_missed(struct skbtraced *d);
#define SKBT_MISS_POLL_TICKS 4
/* Attaching changed the coverage of the sessions in slots (a mask): report, go live. */
void skbt_sessions_coverage(struct skbtraced *d, uint64_t slots);
/* End a session and return (a new reference to) its summary, as its client got it. */
struct json_object *skbt_session_end_summary(struct skbt_session *s, const char *reason);
void skbt_notify_status(struct skbtraced *d);

/* groups, as loaded at start and on SIGHUP (reload.c); failures are logged. */
void skbt_daemon_load_groups(struct skbtraced *d);
/* Look for tc and XDP programs loaded since the last look (the loader's probe table grows):
 * before a request lists or selects probes. */
void skbt_daemon_scan_bpf_progs(struct skbtraced *d);

/* control/ */
int skbt_control_listen(struct skbtraced *d);
void skbt_control_refused_close_all(struct skbtraced *d);
/* The access group (opt.cfg.group), resolved into access_gid at start and on reload. */
void skbt_control_resolve_group(struct skbtraced *d);
/* The socket's owner and mode for that group, when we bound it (not socket activation). */
int skbt_control_apply_socket_mode(struct skbtraced *d);
void skbt_client_flush(struct skbt_client *c);
struct skbt_client *skbt_client_free(struct skbt_client *c);
void skbt_clients_flush_all(struct skbtraced *d, int timeout_ms);
/* core/reload.c */
/* SIGHUP: re-read the config file; a bad file is ignored with a warning. */
void skbt_daemon_reload(struct skbtraced *d);
