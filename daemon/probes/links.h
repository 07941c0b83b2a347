/* SPDX-License-Identifier: GPL-2.0-only */
/* links.h - kernel links: what holds a set of probes attached */
#pragma once

#include <stdint.h>

#define SKBT_LINK_FDS 4

/*
 * One kernel attachment: the link (or links, a netfilter probe has an entry
 * and a return) through which one or more probes are attached.  A
 * kprobe-multi link carries many functions: it is detached when none of them
 * is needed any more.  Detaching is freeing it: the kernel drops the
 * attachment when the last descriptor goes, so links are fd-owned and a
 * killed daemon leaves none behind.
 */
struct skbt_link {
        struct skbt_link *next, *prev; /* the loader's list of live links */
        /* What holds it, closed in this order: the link, and the perf event a kprobe's link
         * is made on; a netfilter probe's return has its own pair. */
        int fd[SKBT_LINK_FDS];
        uint32_t n;     /* probes attached through it */
        uint32_t ids[]; /* their ids */
};
enum { SKBT_LINK_ENTRY, SKBT_LINK_ENTRY_PERF, SKBT_LINK_RETURN, SKBT_LINK_RETURN_PERF };

/* A link for probes ids[0..n), holding nothing yet; NULL when out of memory. */
struct skbt_link *skbt_link_new(const uint32_t *ids, uint32_t n);
/* Detach (close every link it holds) and free.  Accepts NULL, returns NULL. */
struct skbt_link *skbt_link_free(struct skbt_link *k);
