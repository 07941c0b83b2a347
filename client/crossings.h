/* SPDX-License-Identifier: GPL-2.0-only */
/* crossings.h - tracepkt's view: a line each time a packet enters a new (netns, interface) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define CROSSINGS_SLOTS 4096

/*
 * ipftctl trace -o crossings asks the daemon for JSON lines and keeps, per
 * packet (track id when the session has them, else the skb address), the
 * (netns, ifindex) it was last seen in; an event elsewhere prints a line.
 * A bounded table: when it is full the oldest packet is forgotten, which at
 * worst repeats a line.  Netfilter verdicts ("table.chain:VERDICT") are added
 * to the packet's line while it is still in the batch being written, else
 * they get a line of their own.
 */
struct crossings {
        int fd;
        struct strbuf line; /* an incomplete line from the last batch */
        struct strbuf out;
        struct crossings_slot {
                uint64_t key; /* 0: free */
                uint32_t netns;
                uint32_t ifindex;
                uint64_t seen;   /* for replacement: the oldest goes */
                size_t line_end; /* its last line's '\n' in out, while line_batch == batch */
                uint64_t line_batch;
        } slot[CROSSINGS_SLOTS];
        uint64_t clock;
        uint64_t batch; /* out was written this many times: older line_end are gone */
        uint64_t lines;
};

void crossings_init(struct crossings *x, int fd);
/* Feed output bytes (complete or partial JSON lines); write errors pass through (-EPIPE). */
int crossings_feed(struct crossings *x, const char *data, size_t len);
void crossings_done(struct crossings *x);
/* One JSON event line: append the crossing line it makes, if any, to out (for tests). */
int crossings_event(struct crossings *x, const char *line, size_t len, struct strbuf *out);
