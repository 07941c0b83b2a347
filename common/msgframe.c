/* SPDX-License-Identifier: GPL-2.0-only */
/* msgframe.c - NUL-terminated message framing */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msgframe.h"

void msgframe_init(struct msgframe *f, size_t max)
{
        *f = (struct msgframe){.max = max};
}

void msgframe_done(struct msgframe *f)
{
        strbuf_done(&f->buf);
        f->off = 0;
}

int msgframe_fill(struct msgframe *f, int fd)
{
        ssize_t n;
        size_t want = 64 * 1024;

        /* Compact before growing so a long-lived connection does not creep. */
        if (f->off > 0) {
                strbuf_consume(&f->buf, f->off);
                f->off = 0;
        }
        if (!strbuf_reserve(&f->buf, want))
                return -ENOMEM;
        n = read(fd, f->buf.data + f->buf.len, f->buf.cap - f->buf.len - 1);
        if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : negative_errno();
        if (n == 0) {
                f->eof = 1;
                return 0;
        }
        f->buf.len += (size_t)n;
        return (int)MIN((size_t)n, (size_t)0x7fffffff);
}

int msgframe_next(struct msgframe *f, char **msg, size_t *len)
{
        size_t avail = f->buf.len - f->off;
        char *start, *nul;

        /* Nothing read yet: data may still be NULL, and NULL + 0 is undefined. */
        if (avail == 0)
                return 0;
        start = f->buf.data + f->off;
        nul = memchr(start, '\0', avail);
        if (!nul)
                return avail > f->max ? -EMSGSIZE : 0;
        if ((size_t)(nul - start) > f->max)
                return -EMSGSIZE;
        *msg = start;
        *len = (size_t)(nul - start);
        f->off += *len + 1;
        return 1;
}

int write_full(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}
