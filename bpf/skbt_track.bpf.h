/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_track.bpf.h - follow a packet through rewrites, clones and copies until it is freed */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "skbt_abi.h"

/*
 * Included by skbt_body.bpf.h after its counters (skbt_stat_inc()).
 *
 * A packet is followed by its skb address (map "track") from the first
 * probe hit where a session that wants track ids matched it, until a probe
 * that frees the skb (skb:kfree_skb, skb:consume_skb, __kfree_skb,
 * kfree_skbmem, kfree_skb_partial) removes it.  Its entry carries the
 * packet's track id and the sessions that matched it: sessions with --track
 * keep receiving its events whatever its headers become (NAT, tunnels).
 *
 * Clones share their original's data buffer (skb->head), so every tracked
 * buffer is also in map "track_head": an skb we do not know whose buffer is
 * tracked is a clone of that packet.  This works with tracepoints alone
 * (e.g. the copy AF_PACKET gets), where clone creation itself is invisible.
 * Copies (skb_copy, pskb_copy) get a buffer of their own; function backends
 * link them from the copy function's return value (skbt_clone_push/pop).
 *
 * Two checks keep a reused address from passing for an old packet whose
 * free we did not see (frees outside the probed functions, e.g. TCP's
 * __kfree_skb on a tracepoint-only kernel): an entry whose skb now has
 * another data buffer, or that was not seen for state.track_idle_ns, is
 * dropped and counted as stale.  Buffer changes of our own packet
 * (pskb_expand_head) are announced by the REHEAD probes: the entry then
 * learns the new buffer at the next hit.
 */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, SKBT_TRACK_ENTRIES);
        __type(key, __u64); /* skb address */
        __type(value, struct skbt_track);
} track SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, SKBT_TRACK_ENTRIES);
        __type(key, __u64); /* skb->head */
        __type(value, struct skbt_track);
} track_head SEC(".maps");

/*
 * The maps are shared by every session: without a bound, one member's
 * session matching a flood of long-lived packets would evict everyone's.
 * Sessions in state.track_limited (the daemon sets non-root ones) pay one
 * token per packet they start tracking, at state.track_interval_ns per token
 * with state.track_burst_ns saved up at most; past it the packet is not
 * tracked for that session, which counts it (refused).  Only the start of a
 * journey pays: hits of tracked packets and sessions without ident, nothing.
 * Racing CPUs may each pass one token: the bound is loose by the CPU count.
 */
struct skbt_track_quota track_quota[SKBT_MAX_SESSIONS] SEC(".bss"); /* skbt_track_charge() */

/*
 * Copy functions' entries push their tracked argument here; the return pops
 * it and links the returned skb to it.  Per task, a few deep: a copy
 * function may call another (skb_realloc_headroom -> pskb_copy).
 */
#define SKBT_CLONE_DEPTH 4

struct skbt_clone_frame {
        __u64 track_id;
        __u64 sessions;
        __u32 probe_id;
        __u32 pad;
};

struct skbt_clone_frames {
        __u32 depth;
        __u32 pad;
        struct skbt_clone_frame f[SKBT_CLONE_DEPTH];
};

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 1024); /* tasks inside a copy function at once */
        __type(key, __u64);        /* pid_tgid */
        __type(value, struct skbt_clone_frames);
} clone_stack SEC(".maps");

static const struct skbt_clone_frames clone_frames_zero;

/* The low 16 bits of skb_shinfo(skb)->dataref count the skbs sharing the buffer. */
static __always_inline __u32 skbt_dataref(__u64 head, __u32 end)
{
        int v = 0;

        if (!head)
                return 0;
        bpf_probe_read_kernel(
            &v, sizeof(v),
            (void *)(head + end + bpf_core_field_offset(struct skb_shared_info, dataref)));
        return (__u32)v & 0xffff;
}

/*
 * The skb at key is freed: end its tracking.  Its buffer stays tracked while
 * other skbs (clones) still share it, so they can still be recognised.
 */
static __always_inline void skbt_track_release(__u64 key, __u64 head, __u32 end, __u64 track_id)
{
        struct skbt_track *h;

        if (bpf_map_delete_elem(&track, &key) == 0)
                skbt_stat_inc(SKBT_STAT_TRACK_FREED);
        if (!head)
                return;
        h = bpf_map_lookup_elem(&track_head, &head);
        if (h && h->track_id == track_id && skbt_dataref(head, end) <= 1)
                bpf_map_delete_elem(&track_head, &head);
}

/* The skb may get a new buffer: learn it at the next hit, forget the old one. */
static __always_inline void skbt_track_rehead(__u64 key, __u64 head, __u64 track_id)
{
        struct skbt_track *t = bpf_map_lookup_elem(&track, &key), *h;

        if (!t)
                return;
        t->ref = 0;
        if (!head)
                return;
        h = bpf_map_lookup_elem(&track_head, &head);
        if (h && h->track_id == track_id && h->ref == key)
                bpf_map_delete_elem(&track_head, &head);
}

static __always_inline void skbt_clone_push(__u64 track_id, __u64 sessions, __u32 probe_id)
{
        __u64 key = bpf_get_current_pid_tgid();
        struct skbt_clone_frames *fr;
        __u32 d;

        if (!track_id)
                return;
        fr = bpf_map_lookup_elem(&clone_stack, &key);
        if (!fr) {
                bpf_map_update_elem(&clone_stack, &key, &clone_frames_zero, BPF_NOEXIST);
                fr = bpf_map_lookup_elem(&clone_stack, &key);
                if (!fr)
                        return;
        }
        d = fr->depth;
        if (d >= SKBT_CLONE_DEPTH)
                return;
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        fr->f[d].track_id = track_id;
        fr->f[d].sessions = sessions;
        fr->f[d].probe_id = probe_id;
        fr->depth = d + 1;
}

/* A copy function returned: link the new skb (retval) to the packet it copies. */
static __always_inline void skbt_clone_pop(__u32 entry_id, __u64 retval)
{
        __u64 key = bpf_get_current_pid_tgid(), head = 0, now;
        struct skbt_clone_frames *fr;
        struct skbt_track nt = {};
        struct sk_buff *nskb = (struct sk_buff *)retval;
        __u32 d;

        fr = bpf_map_lookup_elem(&clone_stack, &key);
        if (!fr)
                return;
        d = fr->depth;
        if (d == 0 || d > SKBT_CLONE_DEPTH)
                return;
        d -= 1;
        asm volatile("%[v] &= 3" : [v] "+r"(d));
        /* A frame above ours lost its return (kretprobe instance limit): drop it. */
        if (fr->f[d].probe_id != entry_id) {
                if (d == 0)
                        return;
                d -= 1;
                asm volatile("%[v] &= 3" : [v] "+r"(d));
                if (fr->f[d].probe_id != entry_id)
                        return;
        }
        fr->depth = d;
        /* NULL on failure; never an error pointer, but be safe. */
        if (!retval || retval >= (__u64)-4095)
                return;
        now = bpf_ktime_get_ns();
        bpf_probe_read_kernel(&head, sizeof(head), &nskb->head);
        nt.track_id = fr->f[d].track_id;
        nt.sessions = fr->f[d].sessions;
        nt.ref = head;
        nt.last_ts = now;
        if (bpf_map_update_elem(&track, &retval, &nt, BPF_ANY) < 0) {
                skbt_stat_inc(SKBT_STAT_TRACK_FULL);
                return;
        }
        skbt_stat_inc(SKBT_STAT_TRACK_CLONE);
        if (head) {
                /* A clone shares the original's buffer, already tracked; a copy's is new. */
                nt.ref = retval;
                bpf_map_update_elem(&track_head, &head, &nt, BPF_NOEXIST);
        }
}
