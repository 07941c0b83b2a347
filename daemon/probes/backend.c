/* SPDX-License-Identifier: GPL-2.0-only */
/* backend.c - the backends' table, and loading and attaching a set of probes */
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
 * in the caller's context: loads scale with CPUs).  why[i] says why ids[i]
 * could not be loaded ("" when it was); returns how many failed.
 */
uint32_t skbt_backend_load(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                           char (*why)[SKBT_WHY_MAX])
{
        const struct skbt_backend_ops *ops = n ? skbt_backend_ops(l->probes[ids[0]].backend) : NULL;
        _cleanup_free_ int *err = NULL;
        struct load_work w = {.l = l, .ops = ops, .ids = ids, .n = n, .why = why};
        pthread_t th[SKBT_LOAD_THREADS_MAX];
        uint32_t failed = 0;
        int started = 0;

        for (uint32_t i = 0; i < n; i++)
                why[i][0] = '\0';
        if (!ops || !ops->load)
                return 0;
        err = calloc(n, sizeof(*err));
        if (!err) {
                for (uint32_t i = 0; i < n; i++)
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                return n;
        }
        w.err = err;
        for (int t = 1; t < l->threads && t <= SKBT_LOAD_THREADS_MAX && (uint32_t)t < n; t++)
                if (pthread_create(&th[started], NULL, load_worker, &w) == 0)
                        started++;
        load_worker(&w);
        for (int t = 0; t < started; t++)
                pthread_join(th[t], NULL);
        /* why[i] is the verdict: empty for a load that worked, whatever load() left there. */
        for (uint32_t i = 0; i < n; i++) {
                if (err[i] >= 0) {
                        why[i][0] = '\0';
                        continue;
                }
                failed++;
                if (!why[i][0])
                        snprintf(why[i], SKBT_WHY_MAX, "load failed: %s", strerror(-err[i]));
        }
        return failed;
}

bool skbt_backend_needs_load(const struct skbt_loader *l, const uint32_t *ids, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++) {
                const struct skbt_probe *p = &l->probes[ids[i]];

                if (skbt_backend_has(p->backend, SKBT_BACKEND_F_PROG_PER_PROBE) && p->prog_fd < 0)
                        return true;
        }
        return false;
}

void skbt_backend_run(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                      struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        const struct skbt_backend_ops *ops = n ? skbt_backend_ops(l->probes[ids[0]].backend) : NULL;
        _cleanup_free_ uint32_t *sub = NULL;
        _cleanup_free_ uint32_t *pos = NULL;
        _cleanup_free_ struct skbt_link **lk = NULL;
        _cleanup_free_ char(*wh)[SKBT_WHY_MAX] = NULL;
        uint32_t m = 0;

        for (uint32_t i = 0; i < n; i++)
                links[i] = NULL;
        if (!ops)
                return;
        skbt_backend_load(l, ids, n, why);
        sub = calloc(n, sizeof(*sub));
        pos = calloc(n, sizeof(*pos));
        lk = calloc(n, sizeof(*lk));
        wh = calloc(n, sizeof(*wh));
        if (!sub || !pos || !lk || !wh) {
                for (uint32_t i = 0; i < n; i++)
                        snprintf(why[i], SKBT_WHY_MAX, "out of memory");
                return;
        }
        /* Those that loaded (or need no load of their own) are attached together. */
        for (uint32_t i = 0; i < n; i++)
                if (!why[i][0]) {
                        pos[m] = i;
                        sub[m++] = ids[i];
                }
        if (m == 0)
                return;
        ops->attach(l, sub, m, lk, wh);
        for (uint32_t j = 0; j < m; j++) {
                links[pos[j]] = lk[j];
                if (!lk[j])
                        snprintf(why[pos[j]], SKBT_WHY_MAX, "%s",
                                 wh[j][0] ? wh[j] : "attach failed");
        }
}

void skbt_backend_link_add(struct skbt_loader *l, struct skbt_link *k)
{
        k->prev = NULL;
        k->next = l->links;
        if (l->links)
                l->links->prev = k;
        l->links = k;
}

uint32_t skbt_backend_apply(struct skbt_loader *l, const uint32_t *ids, uint32_t n,
                            struct skbt_link **links, char (*why)[SKBT_WHY_MAX])
{
        uint32_t ok = 0;

        for (uint32_t i = 0; i < n; i++) {
                struct skbt_probe *p = &l->probes[ids[i]];
                struct skbt_link *k = links[i];

                if (!k) {
                        skbt_probe_fail(l, p, "%s", why[i][0] ? why[i] : "attach failed");
                        continue;
                }
                p->loaded = true;
                p->link = k;
                p->attached = true;
                free(p->error);
                p->error = NULL;
                ok++;
                /* A link shared by several probes goes into the list once, with its first. */
                if (k->ids[0] == ids[i])
                        skbt_backend_link_add(l, k);
        }
        return ok;
}

uint32_t skbt_backend_attach_now(struct skbt_loader *l, const uint32_t *ids, uint32_t n)
{
        _cleanup_free_ struct skbt_link **links = calloc(n ? n : 1, sizeof(*links));
        _cleanup_free_ char(*why)[SKBT_WHY_MAX] = calloc(n ? n : 1, sizeof(*why));

        if (n == 0 || !links || !why)
                return 0;
        skbt_backend_run(l, ids, n, links, why);
        return skbt_backend_apply(l, ids, n, links, why);
}

void skbt_backend_unlink(struct skbt_loader *l, struct skbt_link *k)
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
        k->next = k->prev = NULL;
}

void skbt_backend_detach_now(struct skbt_loader *l, struct skbt_link *k)
{
        skbt_backend_unlink(l, k);
        skbt_link_free(k);
}

void skbt_backend_detach_all(struct skbt_loader *l)
{
        while (l->links)
                skbt_backend_detach_now(l, l->links);
}
