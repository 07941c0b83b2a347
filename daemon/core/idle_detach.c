/* SPDX-License-Identifier: GPL-2.0-only */
/* idle_detach.c - hold the tracepoint links only while sessions need them */
#include <errno.h>

#include <json-c/json.h>

#include "idle_detach.h"
#include "log.h"
#include "skbtraced.h"
#include "tp_links.h"
#include "util.h"

/* Timer slack: the linger is a matter of seconds, a few milliseconds more do not matter. */
#define IDLE_TIMER_ACCURACY_USEC 1000ULL

static void attach_now(struct skbtraced *d)
{
        struct skbt_idle *idle = &d->idle;
        uint64_t t0;

        if (!idle->detached)
                return;
        t0 = skbt_now_ns();
        idle->last_failed = skbt_tp_links_open(d->loader);
        idle->last_attach_ns = skbt_now_ns() - t0;
        idle->detached = false;
        idle->attaches++;
        /* Session start pays this: worth seeing when tuning idle_detach_after. */
        log_debug("re-attached %u tracepoint links in %.2f ms (%u failed)",
                  skbt_tp_links_linked(d->loader), (double)idle->last_attach_ns / 1e6,
                  idle->last_failed);
}

static void detach_now(struct skbtraced *d)
{
        struct skbt_idle *idle = &d->idle;
        uint32_t n;

        if (idle->detached || d->n_sessions > 0)
                return;
        n = skbt_tp_links_linked(d->loader);
        skbt_tp_links_close(d->loader);
        idle->detached = true;
        idle->detaches++;
        log_debug("no session for %.3f s: detached %u tracepoint links (the programs stay loaded)",
                  (double)d->opt.cfg.idle_detach_usec / 1e6, n);
}

static int on_idle_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
        detach_now(userdata);
        return 0;
}

/* Start (or restart) the linger if nothing needs the links. */
static void arm(struct skbtraced *d)
{
        int64_t linger = d->opt.cfg.idle_detach_usec;
        int r;

        if (!d->idle.timer || d->idle.detached || d->n_sessions > 0 || d->shutting_down ||
            linger < 0)
                return;
        /* Even a linger of 0 goes through the loop: the session that just ended may be
         * ending deep inside a ring-buffer callback. */
        r = sd_event_source_set_time_relative(d->idle.timer, (uint64_t)linger);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->idle.timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "cannot arm the idle detach timer (%m); the tracepoints "
                                     "stay attached, ignoring");
}

static void disarm(struct skbtraced *d)
{
        if (d->idle.timer)
                (void)sd_event_source_set_enabled(d->idle.timer, SD_EVENT_OFF);
}

int skbt_idle_init(struct skbtraced *d)
{
        int r;

        r = sd_event_add_time_relative(d->event, &d->idle.timer, CLOCK_MONOTONIC, 0,
                                       IDLE_TIMER_ACCURACY_USEC, on_idle_timer, d);
        if (r < 0)
                return log_error_errno(r, "cannot create the idle detach timer: %m");
        (void)sd_event_source_set_enabled(d->idle.timer, SD_EVENT_OFF);
        arm(d);
        return 0;
}

void skbt_idle_done(struct skbtraced *d)
{
        d->idle.timer = sd_event_source_disable_unref(d->idle.timer);
}

void skbt_idle_session_starting(struct skbtraced *d)
{
        disarm(d);
        attach_now(d);
}

void skbt_idle_session_ended(struct skbtraced *d)
{
        arm(d);
}

void skbt_idle_reconfigure(struct skbtraced *d)
{
        disarm(d);
        if (d->opt.cfg.idle_detach_usec < 0)
                attach_now(d);
        else
                arm(d);
}

json_object *skbt_idle_to_json(struct skbtraced *d)
{
        json_object *o = json_object_new_object();
        int64_t linger = d->opt.cfg.idle_detach_usec;

        json_object_object_add(o, "loaded", json_object_new_int64(skbt_tp_links_loaded(d->loader)));
        json_object_object_add(o, "linked", json_object_new_int64(skbt_tp_links_linked(d->loader)));
        json_object_object_add(o, "idle_detached", json_object_new_boolean(d->idle.detached));
        json_object_object_add(o, "idle_detach_after_s",
                               json_object_new_double(linger < 0 ? -1.0 : (double)linger / 1e6));
        json_object_object_add(o, "detaches", json_object_new_uint64(d->idle.detaches));
        json_object_object_add(o, "attaches", json_object_new_uint64(d->idle.attaches));
        json_object_object_add(o, "last_attach_us",
                               json_object_new_uint64(d->idle.last_attach_ns / 1000));
        json_object_object_add(o, "last_attach_failed", json_object_new_int64(d->idle.last_failed));
        return o;
}
