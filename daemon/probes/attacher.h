/* SPDX-License-Identifier: GPL-2.0-only */
/* attacher.h - load, attach and detach probes in a worker thread, never on the event loop */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct skbt_loader;
struct skbt_attacher;

enum skbt_job_type {
        SKBT_JOB_ATTACH,  /* load where needed, then attach */
        SKBT_JOB_DETACH,  /* free a link */
        SKBT_JOB_PRELOAD, /* load programs ahead of need (background, lowest priority) */
};

/*
 * A finished piece of work, handed back to the event loop.  An attach job
 * comes back in chunks (a chunk per backend and, for backends that attach
 * one probe at a time, every few probes), so that sessions see progress and
 * go live on what is attached while the rest follows.
 */
struct skbt_job_done {
        struct skbt_job_done *next;
        enum skbt_job_type type;
        uint64_t ns;                /* time the chunk took */
        uint32_t n;                 /* probes in it */
        uint32_t *ids;              /* attach, preload: the probes */
        struct skbt_link **links;   /* attach: the link of ids[i], NULL if it failed */
        char (*why)[SKBT_WHY_MAX];  /* attach, preload: why ids[i] failed ("" if it did not) */
        uint32_t n_skipped;         /* attach: ids[n..n + n_skipped) were dropped, unwanted */
        struct skbt_link *detached; /* detach: the link, freed (only for counting) */
};

struct skbt_job_done *skbt_job_done_free(struct skbt_job_done *j);

/* Start the worker for l's probes.  Logs its errors. */
int skbt_attacher_new(struct skbt_loader *l, struct skbt_attacher **ret);
/* Stop the worker (after the chunk it is running) and free what it still holds. */
struct skbt_attacher *skbt_attacher_free(struct skbt_attacher *a);
/* Readable (an eventfd) when finished work waits in skbt_attacher_take(). */
int skbt_attacher_fd(const struct skbt_attacher *a);

/* Queue work; ids are copied.  -ENOMEM, or 0.  Attach and detach run in order. */
int skbt_attacher_attach(struct skbt_attacher *a, const uint32_t *ids, uint32_t n);
/* k must already be out of every probe and list: the worker frees it. */
int skbt_attacher_detach(struct skbt_attacher *a, struct skbt_link *k);
int skbt_attacher_preload(struct skbt_attacher *a, const uint32_t *ids, uint32_t n);

/*
 * Whether probe id's queued attach is still wanted.  The event loop marks the
 * probes no session needs any more (a session that ended while its probes were
 * still queued); the worker drops them from the attach jobs it has not run yet
 * and hands them back as skipped, so that a short session on a backend that
 * attaches one probe at a time does not leave minutes of attaching and
 * detaching behind it.
 */
void skbt_attacher_set_unwanted(struct skbt_attacher *a, uint32_t id, bool unwanted);

/* Finished work, oldest first (the caller frees each with skbt_job_done_free()). */
struct skbt_job_done *skbt_attacher_take(struct skbt_attacher *a);
/* Jobs queued or running (attach and detach; preloads not counted). */
uint32_t skbt_attacher_busy(struct skbt_attacher *a);
