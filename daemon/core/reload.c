/* SPDX-License-Identifier: GPL-2.0-only */
/* reload.c - the probe groups at start, and SIGHUP: re-read the configuration and the groups */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "filter_spec.h"
#include "groups.h"
#include "log.h"
#include "skbtraced.h"
#include "util.h"

/*
 * Probe groups (data/groups.conf).  Without the file the daemon still
 * traces; only -g and 'list --groups' say why they cannot work.  On reload
 * a bad file keeps the groups in effect.
 */
void skbt_daemon_load_groups(struct skbtraced *d)
{
        struct skbt_groups *gs = NULL;
        const char **names;
        char err[sizeof(d->groups_error)];
        int r;

        r = skbt_groups_load(d->opt.groups_path, &gs, err, sizeof(err));
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, sizeof(err), "out of memory reading %s", d->opt.groups_path);
                if (d->groups)
                        log_warning("cannot reload probe groups: %s; keeping the groups "
                                    "read before, ignoring",
                                    err);
                else {
                        /* default_probes groups falls back to all (trace_probes.c): say so,
                         * it changes what a plain 'ipftctl trace' costs. */
                        log_warning("no probe groups: %s; 'ipftctl trace -g' will not work%s, "
                                    "ignoring",
                                    err,
                                    d->opt.cfg.default_probes == SKBT_PROBES_GROUPS
                                        ? " and sessions that choose no probes get every probe"
                                        : "");
                        snprintf(d->groups_error, sizeof(d->groups_error), "%s", err);
                }
                return;
        }
        /* Room for the whole table: tc and XDP programs join it later. */
        names = calloc(SKBT_MAX_PROBES, sizeof(*names));
        if (!names) {
                skbt_groups_free(gs);
                log_warning("out of memory loading probe groups, ignoring");
                return;
        }
        for (uint32_t i = 0; i < d->loader->n_probes; i++) {
                const struct skbt_probe *p = &d->loader->probes[i];

                /* A return probe is in its entry's group. */
                if (p->is_return && p->entry_id < d->loader->n_probes)
                        p = &d->loader->probes[p->entry_id];
                names[i] = skbt_groups_probe_group(gs, p->name);
                /* Attached early by a session with no history (demand.c). */
                d->loader->probes[i].grouped = names[i] != NULL;
        }
        /* Events are formatted synchronously: nothing holds the old names. */
        free(d->probe_groups);
        skbt_groups_free(d->groups);
        d->probe_groups = names;
        d->groups = gs;
        d->groups_error[0] = '\0';
        d->names.probe_groups = d->probe_groups;
        log_info("%u probe groups read from %s", gs->n, gs->path);
}

void skbt_daemon_reload(struct skbtraced *d)
{
        char err[SKBT_ERR_MAX + 256];
        struct skbt_config cfg;
        gid_t old_gid = d->access_gid;
        bool old_valid = d->access_gid_valid;
        bool idle_changed;
        char idle[32];
        int r;

        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading %s",
                   skbt_now_ns() / 1000, d->opt.config_path);
        skbt_config_defaults(&cfg);
        r = skbt_config_load(d->opt.config_path, &cfg, err, sizeof(err));
        if (r == -ENOENT && !d->opt.config_required) {
                log_info("no config file %s: reverting to the defaults", d->opt.config_path);
                d->opt.config_loaded = false;
        } else if (r < 0) {
                /* Sessions and settings stay as they are: a typo must not take the
                 * service down or drop anyone's trace. */
                log_warning("cannot reload the configuration: %s; keeping the current "
                            "settings, ignoring",
                            err);
                goto done;
        }
        if (r >= 0)
                d->opt.config_loaded = true;
        skbt_config_merge(&cfg, &d->opt.cli);
        if (cfg.backend != d->opt.cfg.backend)
                log_warning("backend changed in %s: it takes effect at the next start, ignoring",
                            d->opt.config_path);
        if (cfg.ringbuf_bytes != d->opt.cfg.ringbuf_bytes)
                log_warning("ringbuf_size changed in %s: it takes effect at the next start, "
                            "ignoring",
                            d->opt.config_path);
        cfg.backend = d->opt.cfg.backend;
        cfg.ringbuf_bytes = d->opt.cfg.ringbuf_bytes;
        idle_changed = cfg.idle_detach_usec != d->opt.cfg.idle_detach_usec ||
                       strcmp(cfg.keep_attached, d->opt.cfg.keep_attached) != 0;
        d->opt.cfg = cfg;
        if (idle_changed)
                skbt_idle_reconfigure(d);
        if (cfg.idle_detach_usec < 0)
                snprintf(idle, sizeof(idle), "never");
        else
                snprintf(idle, sizeof(idle), "%.3f s", (double)cfg.idle_detach_usec / 1e6);
        /* Also when the name stayed: the group may have been created (sysusers) or
         * renumbered since. */
        skbt_control_resolve_group(d);
        if (d->access_gid_valid != old_valid || d->access_gid != old_gid)
                (void)skbt_control_apply_socket_mode(d);
        log_info("configuration reloaded: group %s, max_sessions %u (%u per user), "
                 "max_duration %" PRIu64 " s, queue_size %zu KiB, rate_limit %u/s, "
                 "max_connections %u (%u per user), idle_detach_after %s, keep_attached %s; "
                 "%u sessions continue",
                 cfg.group, cfg.max_sessions, cfg.max_sessions_per_user,
                 cfg.max_duration_usec / 1000000, cfg.queue_bytes >> 10, cfg.rate_limit,
                 cfg.max_connections, cfg.max_connections_per_user, idle, cfg.keep_attached,
                 d->n_sessions);
done:
        /* The groups file is data, not configuration: re-read it either way. */
        skbt_daemon_load_groups(d);
        sd_notify(0, "READY=1");
        skbt_notify_status(d);
}
