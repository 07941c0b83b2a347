/* SPDX-License-Identifier: GPL-2.0-only */
/* track_life.c - which probes end, copy or re-buffer a packet (for --track) */
#include <string.h>

#include "loader.h"
#include "macro.h"

/*
 * Where an skb's life ends: the tracking entry goes with it, so that the
 * next skb at the same address starts a new journey.  The tracepoints fire
 * only when the last reference goes (kfree_skb_reason(), consume_skb(),
 * napi_consume_skb(), __consume_stateless_skb()); the functions cover
 * frees that bypass them (TCP's __kfree_skb(), GRO's kfree_skb_partial())
 * and, as a last resort, the slab free of every skb (kfree_skbmem()).
 *
 * The other tracepoints never fire on an skb's free path (which has only
 * functions after the free tracepoint): an skb seen there is alive, so a free
 * seen at its address a moment later is not the rest of an earlier free path
 * but a new packet's (e.g. an echo reply taking the request's freed skb).
 */
static const char *const free_tracepoints[] = {"kfree_skb", "consume_skb"};
static const char *const free_functions[] = {"__kfree_skb", "kfree_skbmem", "kfree_skb_partial"};

/*
 * Functions returning a copy or clone of their skb argument: the returned
 * skb joins the argument's journey.  Clones are also recognised by their
 * shared buffer (bpf/skbt_track.bpf.h); copies only through these.
 * __pskb_copy_fclone() is what the inline pskb_copy() calls; skb_expand_head()
 * appeared in 5.15, skb_clone_sk() in 3.17.
 */
static const char *const clone_functions[] = {
    "skb_clone",
    "skb_copy",
    "__pskb_copy_fclone",
    "skb_copy_expand",
    "skb_realloc_headroom",
    "skb_expand_head",
    "skb_clone_sk",
};

/* Functions that may give the skb a new data buffer (and everything that
 * reallocates headroom goes through this one). */
static const char *const rehead_functions[] = {"pskb_expand_head"};

static bool in(const char *const *names, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                        return true;
        return false;
}

uint32_t skbt_probe_life(const char *name, uint8_t kind)
{
        const char *colon;

        if (kind == SKBT_PROBE_TRACEPOINT) {
                /* "skb:kfree_skb" as shown, or the bare tracepoint name. */
                colon = strchr(name, ':');
                if (colon)
                        name = colon + 1;
                return in(free_tracepoints, ARRAY_SIZE(free_tracepoints), name) ? SKBT_STAMP_FREE
                                                                                : SKBT_STAMP_LIVE;
        }
        if (in(free_functions, ARRAY_SIZE(free_functions), name))
                return SKBT_STAMP_FREE;
        if (in(clone_functions, ARRAY_SIZE(clone_functions), name))
                return SKBT_STAMP_CLONE;
        if (in(rehead_functions, ARRAY_SIZE(rehead_functions), name))
                return SKBT_STAMP_REHEAD;
        return 0;
}
