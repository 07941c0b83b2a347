/* SPDX-License-Identifier: GPL-2.0-only */
/* backend.c - the backends' table, kernel links, and loading and attaching a set of probes */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "log.h"

static const struct skbt_backend_ops *const backends[_SKBT_BACKEND_MAX] = {
    [SKBT_BACKEND_FENTRY] = &skbt_backend_fentry,
    [SKBT_BACKEND_KPROBE_MULTI] = &skbt_backend_kprobe_multi,
    [SKBT_BACKEND_KPROBE] = &skbt_backend_kprobe,
    [SKBT_BACKEND_TRACEPOINT] = &skbt_backend_tracepoint,
};

const struct skbt_backend_ops *skbt_backend_ops(enum skbt_backend b)
{
        return b >= 0 && b < _SKBT_BACKEND_MAX ? backends[b] : NULL;
}

struct skbt_link *skbt_link_new(const uint32_t *ids, uint32_t n)
{
        struct skbt_link *k = calloc(1, sizeof(*k) + (size_t)n * sizeof(k->ids[0]));

        if (!k)
                return NULL;
        k->fd[0] = k->fd[1] = -1;
        k->n = n;
        memcpy(k->ids, ids, (size_t)n * sizeof(k->ids[0]));
        return k;
}

struct skbt_link *skbt_link_free(struct skbt_link *k)
{
        if (!k)
                return NULL;
        for (int i = 0; i < 2; i++) {
                bpf_link__destroy(k->bl[i]);
                safe_close(k->fd[i]);
        }
        free(k);
        return NULL;
}

/* Program loads shared by threads: each takes the next probe (loads are independent). */
struct load_work {
        struct skbt_loader *l;
        const struct skbt_backend_ops *ops;
        const uint32_t *ids;
        uint32_t n;
        uint32_t next; /* shared cursor */
        int *err;      /* per probe: 0 or the load's negative errno */
        char (*why)[SKBT_WHY_MAX];
};

static void *load_worker(void *arg)
{
        struct load_work *w = arg;

        for (;;) {
                uint32_t i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);

                if (i >= w->n)
                        return NULL;
                if (w->l->probes[w->ids[i]].prog_fd < 0)
                        w->err[i] = w->ops->load(w->l, w->ids[i], w->why[i]);
        }
}

/*
 * Load what each probe needs, in up to l->threads threads (the verifier runs
 * in the caller's context: loads scale with CPUs); those that fail get their
 * reason and are left out of ids.
 */
static uint32_t load_all(struct skbt_loader *l, const struct skbt_backend_ops *ops, uint32_t *ids,
                         uint32_t n, char (*why)[SKBT_WHY_MAX])
{
        _cleanup_free_ int *err = calloc(n, sizeof(*err));
        struct load_work w = {.l = l, .ops = ops, .ids = ids, .n = n, .why = why};
        pthread_t th[SKBT_LOAD_THREADS_MAX];
        int started = 0;
        uint32_t kept = 0;

        if (!ops->load)
                return n;
        if (!err)
                return 0;
        w.err = err;
        for (int t = 1; t < l->threads && t <= SKBT_LOAD_THREADS_MAX && (uint32_t)t < n; t++)
                if (pthread_create(&th[started], NULL, load_worker, &w) == 0)
                        started++;
        load_worker(&w);
        for (int t = 0; t < started; t++)
                pthread_join(th[t], NULL);
        for (uint32_t i = 0; i < n; i++) {
                if (err[i] < 0) {
                        skbt_probe_fail(l, &l->probes[ids[i]], "%s", why[i]);
                        continue;
                }
                ids[kept++] = ids[i];
        }
        return kept;
}

uint32_t skbt_backend_attach_now(struct skbt_loader *l, const uint32_t *ids_in, uint32_t n)
{
        const struct skbt_backend_ops *ops;
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ struct skbt_link **links = NULL;
        _cleanup_free_ char(*why)[SKBT_WHY_MAX] = NULL;
        uint32_t ok = 0;

        if (n == 0)
                return 0;
        ops = skbt_backend_ops(l->probes[ids_in[0]].backend);
        ids = malloc(n * sizeof(*ids));
        links = calloc(n, sizeof(*links));
        why = calloc(n, sizeof(*why));
        if (!ops || !ids || !links || !why)
                return 0;
        memcpy(ids, ids_in, n * sizeof(*ids));
        n = load_all(l, ops, ids, n, why);
        if (n == 0)
                return 0;
        memset(why, 0, n * sizeof(*why));
        ops->attach(l, ids, n, links, why);
        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                struct skbt_link *k = links[i];

                if (!k) {
                        skbt_probe_fail(l, p, "%s", why[i][0] ? why[i] : "attach failed");
                        continue;
                }
                p->link = k;
                p->attached = true;
                free(p->error);
                p->error = NULL;
                ok++;
                /* A link shared by several probes goes into the list once, with its first. */
                if (k->ids[0] != ids[i])
                        continue;
                k->prev = NULL;
                k->next = l->links;
                if (l->links)
                        l->links->prev = k;
                l->links = k;
        }
        return ok;
}

void skbt_backend_detach_now(struct skbt_loader *l, struct skbt_link *k)
{
        for (uint32_t i = 0; i < k->n; i++)
                if (k->ids[i] < l->n_probes && l->probes[k->ids[i]].link == k)
                        l->probes[k->ids[i]].link = NULL;
        if (k->prev)
                k->prev->next = k->next;
        else if (l->links == k)
                l->links = k->next;
        if (k->next)
                k->next->prev = k->prev;
        skbt_link_free(k);
}

void skbt_backend_detach_all(struct skbt_loader *l)
{
        while (l->links)
                skbt_backend_detach_now(l, l->links);
}
