/* SPDX-License-Identifier: GPL-2.0-only */
/* attacher.c - load, attach and detach probes in a worker thread, never on the event loop */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "attacher.h"
#include "loader.h"
#include "log.h"
#include "util.h"

/*
 * A chunk of an attach job returns to the event loop after this many probes
 * or this long, whichever comes first: backends that attach one probe at a
 * time (fentry: a program load and a trampoline update each) would otherwise
 * keep every session waiting for the last one.
 */
#define CHUNK_PROBES 32
#define CHUNK_NS (100 * 1000 * 1000ULL)

struct job {
        struct job *next;
        enum skbt_job_type type;
        uint32_t n, done; /* probes, and how many of them are finished */
        uint32_t *ids;
        struct skbt_link *link; /* detach */
};

struct queue {
        struct job *head, *tail;
};

struct skbt_attacher {
        struct skbt_loader *l;
        pthread_t thread;
        bool started;
        int efd;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        struct queue urgent;  /* attach and detach, in order */
        struct queue preload; /* background loads */
        struct skbt_job_done *done_head, *done_tail;
        uint32_t busy; /* urgent jobs queued or running */
        /* Per probe, written by the event loop, read by the worker: its queued attach is
         * not wanted any more (skbt_attacher_set_unwanted()). */
        uint8_t unwanted[SKBT_MAX_PROBES];
};

struct skbt_job_done *skbt_job_done_free(struct skbt_job_done *j)
{
        if (!j)
                return NULL;
        free(j->ids);
        free(j->links);
        free(j->why);
        free(j);
        return NULL;
}

static struct job *job_free(struct job *j)
{
        if (j) {
                free(j->ids);
                skbt_link_free(j->link);
                free(j);
        }
        return NULL;
}

static void queue_push(struct queue *q, struct job *j)
{
        j->next = NULL;
        if (q->tail)
                q->tail->next = j;
        else
                q->head = j;
        q->tail = j;
}

static struct job *queue_pop(struct queue *q)
{
        struct job *j = q->head;

        if (j) {
                q->head = j->next;
                if (!q->head)
                        q->tail = NULL;
        }
        return j;
}

static void post(struct skbt_attacher *a, struct skbt_job_done *d)
{
        uint64_t one = 1;

        pthread_mutex_lock(&a->lock);
        if (a->done_tail)
                a->done_tail->next = d;
        else
                a->done_head = d;
        a->done_tail = d;
        pthread_mutex_unlock(&a->lock);
        /* The counter only wakes the loop: nothing is lost if it saturates. */
        if (write(a->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                log_debug_errno(errno, "attach worker: cannot signal the event loop: %m");
}

void skbt_attacher_set_unwanted(struct skbt_attacher *a, uint32_t id, bool unwanted)
{
        if (id < SKBT_MAX_PROBES)
                __atomic_store_n(&a->unwanted[id], unwanted, __ATOMIC_RELAXED);
}

/*
 * Copy ids[0..n) to out[], the probes still wanted first (in their order), the
 * ones no longer wanted after them; returns how many are still wanted.  Only
 * for attach jobs: a background load serves whichever session comes next.
 */
static uint32_t split_unwanted(struct skbt_attacher *a, const uint32_t *ids, uint32_t n,
                               uint32_t *out)
{
        uint32_t w = 0, s = n;

        /* Each flag is read once: it may change meanwhile. */
        for (uint32_t k = 0; k < n; k++)
                if (__atomic_load_n(&a->unwanted[ids[k]], __ATOMIC_RELAXED))
                        out[--s] = ids[k];
                else
                        out[w++] = ids[k];
        /* The unwanted ones went in from the end: put them back in order. */
        for (uint32_t lo = w, hi = n; lo + 1 < hi; lo++, hi--) {
                uint32_t t = out[lo];

                out[lo] = out[hi - 1];
                out[hi - 1] = t;
        }
        return w;
}

static struct skbt_job_done *done_new(enum skbt_job_type type, uint32_t n)
{
        struct skbt_job_done *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->type = type;
        d->n = n;
        if (n == 0)
                return d;
        d->ids = calloc(n, sizeof(*d->ids));
        d->links = calloc(n, sizeof(*d->links));
        d->why = calloc(n, sizeof(*d->why));
        if (!d->ids || !d->links || !d->why)
                return skbt_job_done_free(d);
        return d;
}

/* How many of ids[0..n) (all of one backend) go into the next chunk. */
static uint32_t chunk_size(const struct skbt_loader *l, const uint32_t *ids, uint32_t n)
{
        const struct skbt_probe *p0 = &l->probes[ids[0]];
        const struct skbt_backend_ops *ops = skbt_backend_ops(p0->backend);
        uint32_t m = 1;

        /* A batching backend attaches its functions in one go; the rest a chunk at a time. */
        while (m < n && l->probes[ids[m]].backend == p0->backend &&
               ((ops && (ops->flags & SKBT_BACKEND_F_BATCH)) || m < CHUNK_PROBES))
                m++;
        return m;
}

/* Run the next chunk of an attach or preload job; true when the job is finished. */
static bool run_chunk(struct skbt_attacher *a, struct job *j)
{
        uint32_t *ids = j->ids + j->done, n = j->n - j->done, m = chunk_size(a->l, ids, n), w;

        /* Background loads go as few at a time as load in parallel: an attach that comes
         * meanwhile waits for those only. */
        if (j->type == SKBT_JOB_PRELOAD)
                m = MIN(m, a->l->threads > 1 ? (uint32_t)a->l->threads : 1);
        struct skbt_job_done *d;
        uint64_t t0 = skbt_now_ns();

        d = done_new(j->type, m);
        if (!d) {
                log_warning("attach worker: out of memory, %u probes left out", n);
                return true;
        }
        if (j->type == SKBT_JOB_PRELOAD) {
                memcpy(d->ids, ids, m * sizeof(*ids));
                skbt_backend_load(a->l, d->ids, m, d->why);
                j->done += m;
        } else if (skbt_backend_has(a->l->probes[ids[0]].backend, SKBT_BACKEND_F_BATCH)) {
                w = split_unwanted(a, ids, m, d->ids);
                if (w)
                        skbt_backend_run(a->l, d->ids, w, d->links, d->why);
                d->n = w;
                d->n_skipped = m - w;
                j->done += m;
        } else {
                /* A few probes at a time (as many as load in parallel) while under the
                 * chunk's time budget: the chunk returns after CHUNK_NS even if fewer
                 * probes went.  It returns early too, so that sessions hear what is
                 * attached sooner: after a job's first step (the attach order puts what
                 * likely delivers first, demand.c), and before the first program load
                 * after links of programs loaded already (a load verifies a whole
                 * program: half a second under TCG on fentry, a link milliseconds). */
                uint32_t step = a->l->threads > 1 ? (uint32_t)a->l->threads : 1, k = 0;
                bool loads = false;

                w = split_unwanted(a, ids, m, d->ids);
                while (k < w) {
                        uint32_t s = MIN(step, w - k);
                        bool load = skbt_backend_needs_load(a->l, d->ids + k, s);

                        if (k > 0 && load && !loads)
                                break;
                        loads = load;
                        skbt_backend_run(a->l, d->ids + k, s, d->links + k, d->why + k);
                        k += s;
                        if (j->done == 0 || skbt_now_ns() - t0 >= CHUNK_NS)
                                break;
                }
                /* The wanted probes the budget left go back to the job, right after what
                 * this chunk consumed (only the worker reads a job's ids); the skipped
                 * ones follow the attached ones in the record. */
                memcpy(ids + (m - (w - k)), d->ids + k, (w - k) * sizeof(*ids));
                memmove(d->ids + k, d->ids + w, (m - w) * sizeof(*ids));
                d->n = k;
                d->n_skipped = m - w;
                j->done += m - (w - k);
        }
        d->ns = skbt_now_ns() - t0;
        post(a, d);
        return j->done >= j->n;
}

static void run_detach(struct skbt_attacher *a, struct job *j)
{
        struct skbt_job_done *d = done_new(SKBT_JOB_DETACH, 0);
        uint64_t t0 = skbt_now_ns();

        j->link = skbt_link_free(j->link);
        if (!d)
                return;
        d->ns = skbt_now_ns() - t0;
        post(a, d);
}

static void *worker(void *arg)
{
        struct skbt_attacher *a = arg;

        pthread_mutex_lock(&a->lock);
        for (;;) {
                struct queue *q;
                struct job *j;
                bool finished = true;

                while (!a->stop && !a->urgent.head && !a->preload.head)
                        pthread_cond_wait(&a->cond, &a->lock);
                if (a->stop)
                        break;
                /* Attach and detach before any background load; a preload goes a chunk at a
                 * time, so an attach waits for one chunk at most. */
                q = a->urgent.head ? &a->urgent : &a->preload;
                j = q->head;
                pthread_mutex_unlock(&a->lock);
                if (j->type == SKBT_JOB_DETACH)
                        run_detach(a, j);
                else
                        finished = run_chunk(a, j);
                pthread_mutex_lock(&a->lock);
                if (finished) {
                        /* Only the worker pops, so j is still the head of q. */
                        queue_pop(q);
                        if (q == &a->urgent)
                                a->busy--;
                        job_free(j);
                }
        }
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

int skbt_attacher_new(struct skbt_loader *l, struct skbt_attacher **ret)
{
        struct skbt_attacher *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        a->l = l;
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->cond, NULL);
        a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (a->efd < 0) {
                r = log_error_errno(errno, "cannot create the attach worker's eventfd: %m");
                skbt_attacher_free(a);
                return r;
        }
        r = -pthread_create(&a->thread, NULL, worker, a);
        if (r < 0) {
                log_error_errno(r, "cannot start the attach worker: %m");
                skbt_attacher_free(a);
                return r;
        }
        a->started = true;
        *ret = a;
        return 0;
}

static void queue_clear(struct queue *q)
{
        struct job *j;

        while ((j = queue_pop(q)))
                job_free(j);
}

struct skbt_attacher *skbt_attacher_free(struct skbt_attacher *a)
{
        struct skbt_job_done *d;

        if (!a)
                return NULL;
        if (a->started) {
                pthread_mutex_lock(&a->lock);
                a->stop = true;
                pthread_cond_signal(&a->cond);
                pthread_mutex_unlock(&a->lock);
                pthread_join(a->thread, NULL);
        }
        queue_clear(&a->urgent);
        queue_clear(&a->preload);
        /* Links attached but never handed over: detach them now. */
        while ((d = a->done_head)) {
                a->done_head = d->next;
                for (uint32_t i = 0; i < d->n; i++)
                        if (d->links && d->links[i] && d->links[i]->ids[0] == d->ids[i])
                                skbt_link_free(d->links[i]);
                skbt_job_done_free(d);
        }
        safe_close(a->efd);
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return NULL;
}

int skbt_attacher_fd(const struct skbt_attacher *a)
{
        return a->efd;
}

static int submit(struct skbt_attacher *a, enum skbt_job_type type, const uint32_t *ids, uint32_t n,
                  struct skbt_link *k)
{
        struct job *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->type = type;
        j->n = n;
        j->link = k;
        if (n) {
                j->ids = malloc(n * sizeof(*ids));
                if (!j->ids) {
                        j->link = NULL; /* the caller keeps it */
                        job_free(j);
                        return -ENOMEM;
                }
                memcpy(j->ids, ids, n * sizeof(*ids));
        }
        pthread_mutex_lock(&a->lock);
        if (type == SKBT_JOB_PRELOAD) {
                queue_push(&a->preload, j);
        } else {
                queue_push(&a->urgent, j);
                a->busy++;
        }
        pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->lock);
        return 0;
}

int skbt_attacher_attach(struct skbt_attacher *a, const uint32_t *ids, uint32_t n)
{
        return n ? submit(a, SKBT_JOB_ATTACH, ids, n, NULL) : 0;
}

int skbt_attacher_detach(struct skbt_attacher *a, struct skbt_link *k)
{
        return submit(a, SKBT_JOB_DETACH, NULL, 0, k);
}

int skbt_attacher_preload(struct skbt_attacher *a, const uint32_t *ids, uint32_t n)
{
        return n ? submit(a, SKBT_JOB_PRELOAD, ids, n, NULL) : 0;
}

struct skbt_job_done *skbt_attacher_take(struct skbt_attacher *a)
{
        struct skbt_job_done *d;
        uint64_t v;

        /* Drain the counter first: work posted after this read wakes the loop again. */
        if (read(a->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_debug_errno(errno, "attach worker: cannot read its eventfd: %m");
        pthread_mutex_lock(&a->lock);
        d = a->done_head;
        a->done_head = a->done_tail = NULL;
        pthread_mutex_unlock(&a->lock);
        return d;
}

uint32_t skbt_attacher_busy(struct skbt_attacher *a)
{
        uint32_t n;

        pthread_mutex_lock(&a->lock);
        n = a->busy;
        pthread_mutex_unlock(&a->lock);
        return n;
}
