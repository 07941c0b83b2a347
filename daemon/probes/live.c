/* SPDX-License-Identifier: GPL-2.0-only */
/* live.c - make a session live in the programs' shared state, and take it out again */
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live.h"
#include "loader.h"
#include "log.h"
#include "macro.h"
#include "prefilter.h"
#include "skbtrace.skel.h"

#define SET(word, bit) __atomic_fetch_or(&(word), (bit), __ATOMIC_RELEASE)
#define CLEAR(word, bit) __atomic_fetch_and(&(word), ~(bit), __ATOMIC_RELEASE)

void skbt_live_session_enable(struct skbt_loader *l, uint32_t slot,
                              const struct skbt_live_session *ls)
{
        struct skbt_state *st = l->state;
        uint64_t bit = 1ULL << slot;

        l->cbpf_progs[slot] = ls->cbpf;
        st->filters[slot] = ls->filter;
        skbt_prefilter_sync(l, st->active | bit);
        if (ls->graph)
                SET(st->graph, bit);
        if (ls->fields)
                SET(*l->field_sessions, bit);
        if (ls->snapshot)
                SET(*l->snap_sessions, bit);
        if (ls->ct) {
                /* The same length for every session: the layout is the kernel's. */
                __atomic_store_n(&l->ct_conf->len, ls->ct_len, __ATOMIC_RELEASE);
                SET(*l->ct_sessions, bit);
        }
        if (ls->dump_skb)
                SET(*l->dump_sessions, bit);
        if (ls->nf_rules)
                SET(*l->nf_rule_sessions, bit);
        if (ls->ident && ls->track_quota) {
                /* A second's worth may be saved up; the slot's previous owner's is gone. */
                l->track_quota[slot] = (struct skbt_track_quota){};
                __atomic_store_n(&st->track_interval_ns, 1000000000ULL / ls->track_quota,
                                 __ATOMIC_RELAXED);
                __atomic_store_n(&st->track_burst_ns, 1000000000ULL, __ATOMIC_RELAXED);
                SET(st->track_limited, bit);
        }
        if (ls->ident)
                SET(st->ident, bit);
        if (ls->track)
                SET(st->track, bit);
        if (ls->stack)
                SET(st->stack, bit);
        if (ls->filter.flags & (SKBT_F_NETNS | SKBT_F_IFINDEX))
                SET(st->need_dev, bit);
        if (ls->filter.flags & SKBT_F_PID)
                SET(st->need_pid, bit);
        if (ls->filter.flags & SKBT_F_MARK)
                SET(st->need_mark, bit);
        if (ls->cbpf.len)
                SET(st->need_cbpf, bit);
        if ((ls->filter.flags & SKBT_F_LAYER) && ls->filter.layer != SKBT_LAYER_OUTER)
                SET(st->need_inner, bit);
        /* The slot's filter changed: verdicts BPF cached for it are stale (skbt_verdict.bpf.h). */
        __atomic_fetch_add(&st->gen, 1, __ATOMIC_RELEASE);
        SET(st->active, bit);
}

/*
 * The last function_graph session ended: a frame an entry pushed for a call
 * still running then is never popped (no return reports while no graph
 * session is live) and would take a level of its task's stack from every
 * later session, until returns past the depth went unreported.  Nothing
 * pushes now (skbt_graph_push() asks state.graph first), so every task's
 * stack goes: keys first, then the deletes (a deleted key would restart the
 * walk).
 */
static void graph_stacks_clear(struct skbt_loader *l)
{
        int fd = bpf_map__fd(l->skel->maps.graph_stack);
        uint32_t max = bpf_map__max_entries(l->skel->maps.graph_stack), n = 0;
        _cleanup_free_ uint64_t *keys = calloc(max ? max : 1, sizeof(*keys));
        uint64_t key;
        int r;

        if (fd < 0 || !keys)
                return;
        r = bpf_map_get_next_key(fd, NULL, &key);
        while (r == 0 && n < max) {
                keys[n++] = key;
                r = bpf_map_get_next_key(fd, &keys[n - 1], &key);
        }
        for (uint32_t i = 0; i < n; i++)
                bpf_map_delete_elem(fd, &keys[i]);
        if (n)
                log_debug("function_graph: the call stacks of %u tasks emptied", n);
}

void skbt_live_session_disable(struct skbt_loader *l, uint32_t slot, bool ident)
{
        struct skbt_state *st = l->state;
        uint64_t bit = 1ULL << slot, graph;

        CLEAR(st->active, bit);
        skbt_prefilter_sync(l, st->active);
        graph = CLEAR(st->graph, bit);
        CLEAR(*l->field_sessions, bit);
        CLEAR(*l->snap_sessions, bit);
        CLEAR(*l->ct_sessions, bit);
        CLEAR(*l->dump_sessions, bit);
        CLEAR(*l->nf_rule_sessions, bit);
        CLEAR(st->ident, bit);
        CLEAR(st->track, bit);
        CLEAR(st->track_limited, bit);
        CLEAR(st->stack, bit);
        CLEAR(st->need_dev, bit);
        CLEAR(st->need_pid, bit);
        CLEAR(st->need_mark, bit);
        CLEAR(st->need_cbpf, bit);
        CLEAR(st->need_inner, bit);
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (l->probe_sessions[i] & bit)
                        CLEAR(l->probe_sessions[i], bit);
        if (ident)
                skbt_loader_track_sweep(l, bit);
        if (graph == bit)
                graph_stacks_clear(l);
}

uint64_t skbt_live_track_refused(const struct skbt_loader *l, uint32_t slot)
{
        return __atomic_load_n(&l->track_quota[slot].refused, __ATOMIC_RELAXED);
}

void skbt_live_probe_add(struct skbt_loader *l, uint32_t id, uint64_t mask)
{
        const struct skbt_probe *p;

        if (id >= l->n_probes || !mask)
                return;
        p = &l->probes[id];
        /* Its entry pushes function_graph frames from now on, for the sessions in mask
         * (skbt_graph_push()): the mapping first, then the sessions. */
        if (p->is_return && p->entry_id < l->n_probes && l->probe_return)
                __atomic_store_n(&l->probe_return[p->entry_id], (uint16_t)(id + 1),
                                 __ATOMIC_RELEASE);
        SET(l->probe_sessions[id], mask);
}

void skbt_live_probe_remove(struct skbt_loader *l, uint32_t id, uint64_t mask)
{
        if (id < l->n_probes && (l->probe_sessions[id] & mask))
                CLEAR(l->probe_sessions[id], mask);
}

uint64_t skbt_live_active(const struct skbt_loader *l)
{
        return __atomic_load_n(&l->state->active, __ATOMIC_ACQUIRE);
}
