/* SPDX-License-Identifier: GPL-2.0-only */
/* misses.h - probe runs the kernel skipped: our programs' and links' miss counters */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "caps.h"
#include "skbt_abi.h"

struct skbt_loader;

/*
 * The last figure read from each of our programs (bpf_prog_info.recursion_misses)
 * and kprobe links (bpf_link_info's kprobe_multi.missed, perf_event.kprobe.missed),
 * by kernel id, so that each poll adds what moved since the one before.
 */
struct skbt_miss_seen {
        uint64_t key; /* prog id, or link id | SKBT_MISS_LINK */
        uint64_t value;
        uint64_t sessions; /* at the last read: the sessions its probes deliver to */
};
#define SKBT_MISS_LINK (1ULL << 32)

struct skbt_misses {
        struct skbt_miss_seen *seen; /* sorted by key */
        uint32_t n;
        uint64_t total;     /* runs skipped since the daemon started */
        uint32_t read_errs; /* objects whose figures could not be read at the last poll */
        uint32_t read_n;    /* objects read at the last poll (a syscall each) */
        bool links_mute;    /* this kernel's link info has no missed count: links not read */
        uint64_t read_ns;   /* and how long it took */
};

/*
 * Read the miss counters of every program and link that attaches probes now
 * (not the fentry hop bodies: a hop the kernel skipped is counted by its stub
 * as SKBT_STAT_HOP_LOST), add what moved since the last poll to l->misses.total
 * and return it in *ret_delta; per_slot[i] gets what moved for the programs and
 * links whose probes deliver to session slot i now (a skipped run parsed no
 * packet: it may have been any of theirs).  On the event loop (the links list
 * is its own).  Returns 0, or -ENOMEM (the figures then wait for the next poll).
 */
int skbt_misses_poll(struct skbt_loader *l, uint64_t per_slot[SKBT_MAX_SESSIONS],
                     uint64_t *ret_delta);
void skbt_misses_free(struct skbt_misses *m);

/*
 * What this kernel does not count for backend (kernel release as uname gives
 * it, "6.1.0-57-cloud-amd64"), as a sentence for Status, or NULL when every
 * skipped run of our programs is counted.
 */
const char *skbt_misses_uncounted(enum skbt_backend backend, const char *release);
