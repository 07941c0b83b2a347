/* SPDX-License-Identifier: GPL-2.0-only */
/* msgframe.h - NUL-terminated message framing on a stream socket (varlink style) */
#pragma once

#include <stddef.h>

#include "strbuf.h"

/* Protocol version carried in replies; see docs/protocol.md. */
#define SKBT_PROTOCOL_VERSION 1
/* Largest request the daemon accepts; a larger one is an error reply. */
#define SKBT_REQUEST_MAX (64 * 1024)
/* Largest reply the client accepts (list replies on big kernels, output batches). */
#define SKBT_REPLY_MAX (32 * 1024 * 1024)

/*
 * Splits a byte stream into NUL-terminated messages.  Bytes are appended by
 * msgframe_fill(); msgframe_next() hands out complete messages in place.
 */
struct msgframe {
        struct strbuf buf;
        size_t off; /* start of the first unconsumed byte */
        size_t max; /* largest message accepted */
        int eof;    /* peer closed its writing side */
};

void msgframe_init(struct msgframe *f, size_t max);
void msgframe_done(struct msgframe *f);

/* Read once from fd.  Returns bytes read (>0), 0 at end of stream, -EAGAIN
 * when a non-blocking fd has nothing, or another negative errno. */
int msgframe_fill(struct msgframe *f, int fd);

/* Next complete message: 1 with *msg (NUL-terminated) and *len set, 0 when
 * none is complete yet, -EMSGSIZE when the pending message exceeds max. */
int msgframe_next(struct msgframe *f, char **msg, size_t *len);

/* Write all of buf to a blocking fd (the client's path). */
int write_full(int fd, const void *buf, size_t len);
