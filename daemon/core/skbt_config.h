/* SPDX-License-Identifier: GPL-2.0-only */
/* skbt_config.h - daemon settings: built-in defaults < config file < command line */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "trace_params.h"

#define SKBT_DEFAULT_CONFIG "/etc/skbtraced/skbtraced.conf"
/* Group names are at most 32 bytes on Linux (useradd); leave room. */
#define SKBT_GROUP_MAX 64
/* A config file is a few hundred bytes; refuse anything absurd. */
#define SKBT_CONFIG_MAX (64 * 1024)

/* struct skbt_config.set: which settings were given explicitly. */
enum {
        SKBT_CFG_GROUP = 1 << 0,
        SKBT_CFG_BACKEND = 1 << 1,
        SKBT_CFG_RINGBUF = 1 << 2,
        SKBT_CFG_QUEUE = 1 << 3,
        SKBT_CFG_MAX_SESSIONS = 1 << 4,
        SKBT_CFG_MAX_PER_USER = 1 << 5,
        SKBT_CFG_MAX_DURATION = 1 << 6,
        SKBT_CFG_RATE_LIMIT = 1 << 7,
        SKBT_CFG_MAX_CONNECTIONS = 1 << 8,
        SKBT_CFG_MAX_CONN_PER_USER = 1 << 9,
        SKBT_CFG_IDLE_DETACH = 1 << 10,
        SKBT_CFG_IDLE_TIMEOUT = 1 << 11,
        SKBT_CFG_MAX_QUEUED = 1 << 12,
        SKBT_CFG_KEEP_ATTACHED = 1 << 13,
        SKBT_CFG_TRACK_QUOTA = 1 << 14,
        SKBT_CFG_DEFAULT_PROBES = 1 << 15,
};

/* keep_attached: "none", "all" or a regular expression over probe names (skbt_regex.h). */
#define SKBT_KEEP_ATTACHED_MAX 256

/* idle_detach_after = never (or a negative number): what was attached stays attached. */
#define SKBT_IDLE_DETACH_NEVER (-1)
/* The default linger: long enough that a script running 'ipftctl trace -c 1' in a loop keeps
 * the links, short enough that an idle host stops paying for them soon. */
#define SKBT_IDLE_DETACH_DEFAULT_USEC (10 * 1000000LL)

/*
 * Every setting that the config file can hold.  Limits protect a shared host
 * from its users: each client-controlled resource (connections, sessions,
 * queued output, event rate, session lifetime) has one.
 */
struct skbt_config {
        unsigned int set;               /* SKBT_CFG_*: given explicitly */
        char group[SKBT_GROUP_MAX];     /* members may use the socket */
        enum skbt_backend backend;      /* start-up only */
        uint32_t ringbuf_bytes;         /* start-up only */
        size_t queue_bytes;             /* per session: output waiting for its client */
        uint32_t max_sessions;          /* 1..SKBT_MAX_SESSIONS */
        uint32_t max_sessions_per_user; /* per non-root uid */
        uint64_t max_duration_usec;     /* 0: unlimited */
        uint32_t rate_limit;            /* events per second per session, 0: unlimited */
        uint32_t max_connections;
        uint32_t max_connections_per_user; /* per non-root uid */
        /* Detach a probe this long after the last session that needed it ended (its program
         * stays loaded); SKBT_IDLE_DETACH_NEVER: keep what was attached.  docs/skbtraced.8. */
        int64_t idle_detach_usec;
        /* A connection without a session that sends no complete request for this long is
         * closed (connections are a shared, limited resource). */
        uint64_t idle_timeout_usec;
        /* Output waiting for all clients together, past which a session holding more than an
         * equal share drops its events (counted in lost_queue); 0: no budget but queue_size. */
        size_t max_queued_bytes;
        /* Probes attached even while no session needs them: "none" (the default), "all", or a
         * regular expression over probe names.  docs/skbtraced.8. */
        char keep_attached[SKBT_KEEP_ATTACHED_MAX];
        /* Packets a non-root session may start tracking per second (the tracking maps are
         * shared: docs/skbtraced.8 SECURITY); 0: unlimited. */
        uint32_t track_quota;
        /* The probes of a session that chooses none (no regex, groups or probes): enum
         * skbt_probe_set; docs/performance.md "Which probes by default". */
        uint8_t default_probes;
};

/* The groups' probes: the same path as every probe on the VM scenarios, at about half the
 * probe runs and less BPF time per packet; docs/performance.md "Which probes by default". */
#define SKBT_DEFAULT_PROBES SKBT_PROBES_GROUPS

#define SKBT_TRACK_QUOTA_DEFAULT 256

#define SKBT_IDLE_TIMEOUT_DEFAULT_USEC (30 * 1000000ULL)
/* Connections only root may open: headroom over what the others may hold together, so that
 * an operator can run ipftctl status/sessions/stop during any member's flood. */
#define SKBT_ADMIN_RESERVED_CONNECTIONS 8

void skbt_config_defaults(struct skbt_config *c);

/*
 * Parse config text ("key = value" lines, '#' or ';' comment lines) into c,
 * setting only the keys present.  name is used in messages ("FILE:LINE: ...").
 * Returns 0, or -EINVAL with a one-line message in err.
 */
int skbt_config_parse(const char *text, size_t len, const char *name, struct skbt_config *c,
                      char *err, size_t errlen);

/*
 * Read and parse a config file.  A missing file is -ENOENT (the caller
 * decides whether that matters); other errors have their message in err.
 */
int skbt_config_load(const char *path, struct skbt_config *c, char *err, size_t errlen);

/* Copy the settings src has set over dst (the command line over the file). */
void skbt_config_merge(struct skbt_config *dst, const struct skbt_config *src);

/* Setters shared by the file parser and the command line: 0 or -EINVAL with err. */
int skbt_config_set(struct skbt_config *c, const char *key, const char *value, char *err,
                    size_t errlen);

/* "10", "0.5", "2.5s" (seconds, at most 366 days), "0": at once; "never" or a negative
 * number: SKBT_IDLE_DETACH_NEVER. */
int skbt_parse_idle_detach(const char *s, int64_t *ret_usec);
/* "90" (seconds), "90s", "15m", "2h", "1d"; "0" means unlimited. */
int skbt_parse_duration_sec(const char *s, uint64_t *ret_usec);
