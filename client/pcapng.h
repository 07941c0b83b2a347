/* SPDX-License-Identifier: GPL-2.0-only */
/* pcapng.h - turn JSON event lines with packet bytes into a pcapng stream */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/*
 * ipftctl trace -o pcapng asks the daemon for JSON lines with a "packet"
 * member (docs/output.md) and writes, per event, an Enhanced Packet Block
 * whose comment says which probe saw which packet.  Interface 0 is Ethernet
 * (probe points that see the MAC header), interface 1 raw IP (the others).
 */
struct pcapng_writer {
        int fd;
        int64_t mono_to_real_ns; /* event timestamps are CLOCK_MONOTONIC */
        struct strbuf line;      /* an incomplete line from the last batch */
        struct strbuf block;
        uint64_t packets; /* packet blocks written */
        uint64_t skipped; /* events without packet bytes (e.g. returns) */
};

/* Write the section header and the interface blocks. */
int pcapng_start(struct pcapng_writer *w, int fd);
/* Feed output bytes (complete or partial JSON lines); -EPIPE and write errors pass through. */
int pcapng_feed(struct pcapng_writer *w, const char *data, size_t len);
void pcapng_done(struct pcapng_writer *w);
/* One JSON event line to an Enhanced Packet Block appended to out; -EINVAL without packet. */
int pcapng_event_block(struct strbuf *out, const char *line, size_t len, int64_t mono_to_real_ns);
