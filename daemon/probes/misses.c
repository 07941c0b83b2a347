/* SPDX-License-Identifier: GPL-2.0-only */
/* misses.c - probe runs the kernel skipped: our programs' and links' miss counters */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "links.h"
#include "loader.h"
#include "macro.h"
#include "misses.h"
#include "util.h"

/*
 * struct bpf_link_info as Linux 6.7 lays it out (include/uapi/linux/bpf.h),
 * newer than the headers we may build with: the union starts at byte 16;
 * kprobe_multi {addrs, count, flags, missed} puts missed at 32;
 * perf_event {type, pad, kprobe {func_name, name_len, offset, addr, missed}}
 * puts its type at 16 and missed at 48.  Older kernels leave them zero.
 */
#define LINK_INFO_WORDS 16 /* bytes past the kernel's struct must be zero: they are */
#define KMULTI_MISSED_OFF 32
#define PERF_TYPE_OFF 16
#define PERF_KPROBE_MISSED_OFF 48
#define PERF_EVENT_KPROBE 3    /* enum bpf_perf_event_type BPF_PERF_EVENT_KPROBE */
#define PERF_EVENT_KRETPROBE 4 /* BPF_PERF_EVENT_KRETPROBE */

struct miss_vec {
        struct skbt_miss_seen *v;
        uint32_t n, cap;
        uint32_t errs;
        bool short_info; /* a link info shorter than Linux 6.7's: no missed in it */
};

static int vec_add(struct miss_vec *m, uint64_t key, uint64_t value, uint64_t sessions)
{
        if (m->n == m->cap) {
                uint32_t cap = m->cap ? 2 * m->cap : 64;
                struct skbt_miss_seen *v = reallocarray(m->v, cap, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                m->v = v;
                m->cap = cap;
        }
        m->v[m->n++] = (struct skbt_miss_seen){key, value, sessions};
        return 0;
}

/* A program's runs the kernel skipped because it was already running on that CPU
 * (fentry/fexit trampolines since 5.12, raw_tp/tp_btf since 6.1) or, for kprobes, because
 * any BPF program was (trace_call_bpf() and kprobe-multi since 6.7). */
static int read_prog(struct miss_vec *m, int fd, uint64_t sessions)
{
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info);

        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
                m->errs++;
                return 0;
        }
        return vec_add(m, info.id, info.recursion_misses, sessions);
}

static uint64_t get_u64(const uint64_t *w, size_t off)
{
        return w[off / sizeof(*w)];
}

/* A kprobe link's own misses (since 6.7): kprobe or fprobe handlers that did not run our
 * program at all (another kprobe running on the CPU, no kretprobe instance free). */
static int read_link(struct miss_vec *m, int fd, uint64_t sessions)
{
        uint64_t w[LINK_INFO_WORDS] = {};
        const uint32_t *u = (const uint32_t *)w;
        uint32_t len = sizeof(w);
        uint64_t missed;

        if (bpf_obj_get_info_by_fd(fd, w, &len) < 0) {
                m->errs++;
                return 0;
        }
        /* The kernel says how much of the struct it has: before 6.6 no kprobe member at all. */
        if (len < PERF_KPROBE_MISSED_OFF + 8)
                m->short_info = true;
        if (u[0] == BPF_LINK_TYPE_KPROBE_MULTI && len >= KMULTI_MISSED_OFF + 8)
                missed = get_u64(w, KMULTI_MISSED_OFF);
        else if (u[0] == BPF_LINK_TYPE_PERF_EVENT && len >= PERF_KPROBE_MISSED_OFF + 8 &&
                 (u[PERF_TYPE_OFF / 4] == PERF_EVENT_KPROBE ||
                  u[PERF_TYPE_OFF / 4] == PERF_EVENT_KRETPROBE))
                missed = get_u64(w, PERF_KPROBE_MISSED_OFF);
        else
                return 0;
        return vec_add(m, SKBT_MISS_LINK | u[1], missed, sessions);
}

static int cmp_seen(const void *a, const void *b)
{
        const struct skbt_miss_seen *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

/* The sessions probe id delivers to now. */
static uint64_t probe_sessions(const struct skbt_loader *l, uint32_t id)
{
        return __atomic_load_n(&l->probe_sessions[id], __ATOMIC_RELAXED);
}

/* Every program attaching probes now: each linked probe's own, and the template copies that
 * serve many through attach cookies (kprobe, kprobe-multi): those count for the sessions of
 * every probe without a program of its own.  Duplicates are merged later. */
static int collect_progs(struct skbt_loader *l, struct miss_vec *m)
{
        uint64_t shared = 0;
        int r = 0;

        for (uint32_t i = 0; i < l->n_probes && r == 0; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (!skbt_probe_linked(p))
                        continue;
                if (p->prog_fd < 0)
                        shared |= probe_sessions(l, i);
                if (p->prog_fd >= 0)
                        r = read_prog(m, p->prog_fd, probe_sessions(l, i));
                if (r == 0 && p->ret_prog_fd >= 0)
                        r = read_prog(m, p->ret_prog_fd, probe_sessions(l, i));
        }
        /* The attach worker holds the lock while the verifier loads a copy: 320 ms under TCG
         * (6.12, fentry, the shared tracepoint programs after start-up).  Not on the event
         * loop: their figures, cumulative, wait for the next read. */
        if (pthread_mutex_trylock(&l->tmpl_lock) != 0)
                return r;
        for (uint32_t i = 0; i < l->n_tmpl_copies && r == 0; i++)
                if (l->tmpl_copies[i].fd >= 0)
                        r = read_prog(m, l->tmpl_copies[i].fd, shared);
        pthread_mutex_unlock(&l->tmpl_lock);
        return r;
}

/* kprobe and kprobe-multi links (the only kinds with a missed count of their own). */
static int collect_links(struct skbt_loader *l, struct miss_vec *m)
{
        int r = 0;

        if (l->misses.links_mute ||
            (l->backend != SKBT_BACKEND_KPROBE && l->backend != SKBT_BACKEND_KPROBE_MULTI))
                return 0;
        for (const struct skbt_link *k = l->links; k && r == 0; k = k->next) {
                uint64_t sessions = 0;

                for (uint32_t i = 0; i < k->n; i++)
                        if (k->ids[i] < l->n_probes)
                                sessions |= probe_sessions(l, k->ids[i]);
                if (k->fd[SKBT_LINK_ENTRY] >= 0)
                        r = read_link(m, k->fd[SKBT_LINK_ENTRY], sessions);
                if (r == 0 && k->fd[SKBT_LINK_RETURN] >= 0)
                        r = read_link(m, k->fd[SKBT_LINK_RETURN], sessions);
        }
        return r;
}

/*
 * The new readings (sorted, unique) over the old: what is not linked now keeps its last figure,
 * for a program that stays loaded while unlinked (idle detach) counts on from it when linked
 * again.  Returns the merged table (NULL: out of memory); what moved goes to *delta, and to
 * per_slot[i] for each session i the object's probes deliver to.
 */
static struct skbt_miss_seen *merge(const struct skbt_miss_seen *old, uint32_t n_old,
                                    const struct skbt_miss_seen *cur, uint32_t n_cur,
                                    uint32_t *ret_n, uint64_t *delta, uint64_t *per_slot)
{
        struct skbt_miss_seen *out = reallocarray(NULL, n_old + n_cur + 1, sizeof(*out));
        uint32_t i = 0, j = 0, k = 0;
        uint64_t d;

        if (!out)
                return NULL;
        while (i < n_old || j < n_cur) {
                if (j == n_cur || (i < n_old && old[i].key < cur[j].key)) {
                        out[k++] = old[i++];
                        continue;
                }
                /* A program or link new since the last poll counts from zero; a figure that went
                 * down is a new object under a reused id. */
                if (i < n_old && old[i].key == cur[j].key && cur[j].value >= old[i].value)
                        d = cur[j].value - old[i].value;
                else
                        d = cur[j].value;
                *delta += d;
                for (uint64_t s = cur[j].sessions; d && s; s &= s - 1)
                        per_slot[__builtin_ctzll(s)] += d;
                if (i < n_old && old[i].key == cur[j].key)
                        i++;
                out[k++] = cur[j++];
        }
        *ret_n = k;
        return out;
}

int skbt_misses_poll(struct skbt_loader *l, uint64_t per_slot[SKBT_MAX_SESSIONS],
                     uint64_t *ret_delta)
{
        struct skbt_misses *s = &l->misses;
        _cleanup_free_ struct skbt_miss_seen *cur = NULL;
        struct skbt_miss_seen *seen;
        struct miss_vec m = {};
        uint64_t delta = 0, start = skbt_now_ns();
        uint32_t n = 0, n_seen;
        int r;

        *ret_delta = 0;
        r = collect_progs(l, &m);
        if (r == 0)
                r = collect_links(l, &m);
        cur = m.v;
        if (r < 0)
                return r;
        qsort(cur, m.n, sizeof(*cur), cmp_seen);
        /* A shared program is read once per probe it serves: one entry, for all their sessions. */
        for (uint32_t i = 0; i < m.n; i++) {
                if (n && cur[n - 1].key == cur[i].key)
                        cur[n - 1].sessions |= cur[i].sessions;
                else
                        cur[n++] = cur[i];
        }
        seen = merge(s->seen, s->n, cur, n, &n_seen, &delta, per_slot);
        if (!seen)
                return -ENOMEM;
        free(s->seen);
        s->seen = seen;
        s->n = n_seen;
        s->read_errs = m.errs;
        /* A syscall per kprobe, every poll, for nothing (Linux 6.1): not again. */
        if (m.short_info)
                s->links_mute = true;
        s->read_n = m.n + m.errs;
        s->read_ns = skbt_now_ns() - start;
        s->total += delta;
        *ret_delta = delta;
        return 0;
}

void skbt_misses_free(struct skbt_misses *m)
{
        free(m->seen);
        *m = (struct skbt_misses){};
}

const char *skbt_misses_uncounted(enum skbt_backend backend, const char *release)
{
        unsigned major = 0, minor = 0;

        if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
                return "the kernel release could not be read: whether skipped runs are counted "
                       "is unknown";
        if (major < 5 || (major == 5 && minor < 12))
                return "this kernel counts no skipped BPF program runs "
                       "(bpf_prog_info.recursion_misses came with Linux 5.12)";
        if ((backend == SKBT_BACKEND_KPROBE || backend == SKBT_BACKEND_KPROBE_MULTI) &&
            (major < 6 || (major == 6 && minor < 7)))
                return "kprobe programs the kernel skips while another BPF program runs on the "
                       "same CPU, and kprobes that miss, are counted from Linux 6.7 on: this "
                       "kernel skips them uncounted";
        return NULL;
}
