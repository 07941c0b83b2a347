/* SPDX-License-Identifier: GPL-2.0-only */
/* track_map.c - the BPF packet-tracking maps from user space: counters, sweeping */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "loader.h"
#include "log.h"
#include "macro.h"

#define BATCH 256
/* The kernel's internal "not supported" (include/linux/errno.h), which BPF returns. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/*
 * Visit every entry of a hash map.  Batched lookups where the kernel has
 * them (5.6+ for hash maps), else key by key; bounded either way, since
 * entries come and go while we walk (a deleted current key restarts
 * get_next_key from the start).
 */
static int map_walk(int fd, int (*fn)(int fd, uint64_t key, struct skbt_track *v, void *data),
                    void *data)
{
        uint64_t keys[BATCH], in = 0, out = 0, key, next;
        struct skbt_track vals[BATCH];
        bool first = true;
        uint32_t visited = 0;
        int r;

        for (;;) {
                uint32_t n = BATCH;
                LIBBPF_OPTS(bpf_map_batch_opts, opts);

                r = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, &opts);
                if (r < 0 && errno != ENOENT) {
                        if (first && (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP))
                                break; /* fall back to get_next_key */
                        return negative_errno();
                }
                for (uint32_t i = 0; i < n; i++)
                        if (fn(fd, keys[i], &vals[i], data) < 0)
                                return 0;
                if (r < 0) /* ENOENT: that was the last batch */
                        return 0;
                in = out;
                first = false;
        }

        r = bpf_map_get_next_key(fd, NULL, &key);
        while (r == 0 && visited++ < 2 * SKBT_TRACK_ENTRIES) {
                struct skbt_track v;

                r = bpf_map_get_next_key(fd, &key, &next);
                if (bpf_map_lookup_elem(fd, &key, &v) == 0 && fn(fd, key, &v, data) < 0)
                        return 0;
                key = next;
        }
        return 0;
}

static int count_one(int fd, uint64_t key, struct skbt_track *v, void *data)
{
        (*(uint64_t *)data)++;
        return 0;
}

int skbt_loader_track_stats(struct skbt_loader *l, struct skbt_track_stats *ret)
{
        struct skbt_track_stats st = {.swept = l->track_swept};
        uint64_t gone;
        int r;

        r = skbt_loader_read_stat(l, SKBT_STAT_TRACK_NEW, &st.created);
        if (r >= 0)
                r = skbt_loader_read_stat(l, SKBT_STAT_TRACK_CLONE, &st.clones);
        if (r >= 0)
                r = skbt_loader_read_stat(l, SKBT_STAT_TRACK_FREED, &st.freed);
        if (r >= 0)
                r = skbt_loader_read_stat(l, SKBT_STAT_TRACK_STALE, &st.stale);
        if (r >= 0)
                r = skbt_loader_read_stat(l, SKBT_STAT_TRACK_FULL, &st.failed);
        if (r >= 0)
                r = map_walk(l->track_fd, count_one, &st.live);
        if (r >= 0)
                r = map_walk(l->track_head_fd, count_one, &st.live_heads);
        if (r < 0)
                return r;
        /*
         * The kernel does not count LRU evictions; what was created and did not
         * leave by a way we count (free, stale, sweep), and is not there, was
         * evicted.  Clone entries may replace an entry (same address, BPF_ANY),
         * which shows here as an eviction too.
         */
        gone = st.freed + st.stale + st.swept + st.live;
        st.evicted = st.created + st.clones > gone ? st.created + st.clones - gone : 0;
        *ret = st;
        return 0;
}

struct sweep {
        uint64_t mask;
        uint64_t deleted;
        bool skb_map; /* deletions here count as swept entries */
};

static int sweep_one(int fd, uint64_t key, struct skbt_track *v, void *data)
{
        struct sweep *sw = data;

        if (!(v->sessions & sw->mask))
                return 0;
        v->sessions &= ~sw->mask;
        if (v->sessions == 0) {
                if (bpf_map_delete_elem(fd, &key) == 0 && sw->skb_map)
                        sw->deleted++;
        } else {
                /* BPF_EXIST: an entry the programs deleted meanwhile stays deleted. */
                (void)bpf_map_update_elem(fd, &key, v, BPF_EXIST);
        }
        return 0;
}

/*
 * A session that wanted track ids ended: its slot goes to the next session,
 * which must not inherit the packets this one followed.  The programs no
 * longer add the bit (it left state.ident first), so one pass suffices.
 */
void skbt_loader_track_sweep(struct skbt_loader *l, uint64_t mask)
{
        struct sweep sw = {.mask = mask, .skb_map = true};
        int r;

        r = map_walk(l->track_fd, sweep_one, &sw);
        sw.skb_map = false;
        if (r >= 0)
                r = map_walk(l->track_head_fd, sweep_one, &sw);
        if (r < 0)
                log_warning_errno(r, "cannot clear ended sessions from the tracking maps (%m), "
                                     "ignoring");
        l->track_swept += sw.deleted;
}
