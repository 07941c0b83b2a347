/* SPDX-License-Identifier: GPL-2.0-only */
/* connection.c - a client connection: its output queue, writes, backlog, draining, freeing */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "skbtraced.h"
#include "util.h"
#include "varlink.h"

/* A client that broke the protocol gets this long to read our error reply. */
#define DRAIN_TIMEOUT_USEC (2 * 1000000ULL)

void client_queue(struct skbt_client *c, const char *data, size_t len)
{
        strbuf_put(&c->out, data, len);
}

/*
 * Replies a client has not read yet beyond which its further requests wait:
 * a client that sends without reading must not make us queue replies (a
 * List reply is hundreds of KiB) without bound.  Trace output has its own
 * bound, the session's queue_size.
 */
#define CLIENT_OUT_HIGH (1024 * 1024)

bool client_backlogged(const struct skbt_client *c)
{
        return c->out.len >= CLIENT_OUT_HIGH;
}

static size_t client_unread(const struct skbt_client *c)
{
        return c->in.buf.len - c->in.off;
}

/* A complete request is waiting (read, not yet handled). */
bool client_has_request(const struct skbt_client *c)
{
        size_t n = client_unread(c);

        return n && memchr(c->in.buf.data + c->in.off, '\0', n);
}

static void client_update_events(struct skbt_client *c)
{
        uint32_t ev = c->draining ? EPOLLIN : EPOLLIN | EPOLLRDHUP;

        /* Stop reading requests once the peer closed its side; keep writing. */
        if (c->in.eof && !c->draining)
                ev = 0;
        /* Backlogged with a request's worth waiting: read no more until it reads.
         * (EPOLLHUP and EPOLLERR still come, so a dead peer is still noticed.) */
        if (!c->draining && client_backlogged(c) && client_unread(c) >= SKBT_REQUEST_MAX)
                ev &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP);
        if (c->out.len)
                ev |= EPOLLOUT;
        /* Requests held back while backlogged: writable again is the cue. */
        else if (!c->draining && client_has_request(c))
                ev |= EPOLLOUT;
        sd_event_source_set_io_events(c->io, ev);
}

void client_want_write(struct skbt_client *c)
{
        client_update_events(c);
}

struct skbt_client *skbt_client_free(struct skbt_client *c)
{
        struct skbtraced *d;

        if (!c)
                return NULL;
        d = c->d;
        /* Its session ends: nobody is there for the summary. */
        if (c->session) {
                skbt_session_detach_output(c->session);
                skbt_session_end(c->session, "client");
        }
        if (c->prev)
                c->prev->next = c->next;
        else
                d->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        d->n_clients--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->drain_timer);
        safe_close(c->fd);
        msgframe_done(&c->in);
        strbuf_done(&c->out);
        free(c);
        return NULL;
}

/*
 * Write queued output now, as far as the socket takes it.  Waiting for the
 * client's EPOLLOUT costs an event-loop round trip per batch, and under a
 * flood the ring buffer competes for every one.  Errors are left to the
 * client's I/O handler, which sees them too (this must not free the client).
 */
void client_write_now(struct skbt_client *c)
{
        size_t off = 0;

        while (off < c->out.len) {
                ssize_t n = write(c->fd, c->out.data + off, c->out.len - off);

                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        strbuf_consume(&c->out, off);
        client_want_write(c);
}

/*
 * Send head then body now, as far as the socket takes them, and queue the
 * rest.  While nothing is queued before them they go straight from the
 * caller's buffers: a batch of trace output (up to a thousand events, often
 * several hundred KiB) is not copied into the queue only to be written from
 * there, then moved to its front (docs/performance.md, issue 13).  A short
 * write means the socket is full: the rest waits for EPOLLOUT.
 */
void client_send2(struct skbt_client *c, const char *head, size_t hlen, const char *body,
                  size_t blen)
{
        struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
        size_t done = 0;
        ssize_t n;

        if (c->out.len) {
                /* Behind what is queued: in order. */
                strbuf_put(&c->out, head, hlen);
                strbuf_put(&c->out, body, blen);
                client_write_now(c);
                return;
        }
        n = writev(c->fd, iov, blen ? 2 : 1);
        /* Errors are left to the client's I/O handler, as in client_write_now(). */
        if (n > 0)
                done = (size_t)n;
        if (done < hlen)
                strbuf_put(&c->out, head + done, hlen - done);
        done = done > hlen ? done - hlen : 0;
        if (done < blen)
                strbuf_put(&c->out, body + done, blen - done);
        client_want_write(c);
}

/* True when the client is finished: nothing to send and nothing more to read. */
static bool client_done(struct skbt_client *c)
{
        return c->out.len == 0 && !c->session && c->in.eof &&
               (c->draining || !client_has_request(c));
}

void skbt_client_flush(struct skbt_client *c)
{
        while (c->out.len) {
                ssize_t n = write(c->fd, c->out.data, c->out.len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        /* Peer gone (EPIPE/ECONNRESET): nothing left to deliver. */
                        log_debug_errno(errno, "client pid %d: write failed: %m", c->cred.pid);
                        skbt_client_free(c);
                        return;
                }
                strbuf_consume(&c->out, (size_t)n);
        }
        if (c->draining && c->out.len == 0)
                shutdown(c->fd, SHUT_WR);
        if (client_done(c)) {
                skbt_client_free(c);
                return;
        }
        client_update_events(c);
}

static int client_on_drain_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
        skbt_client_free(userdata);
        return 0;
}

/* From now on only let the peer read what is queued, then close. */
void client_start_draining(struct skbt_client *c)
{
        if (c->session)
                skbt_session_end(c->session, "client");
        c->draining = true;
        if (!c->drain_timer)
                sd_event_add_time_relative(c->d->event, &c->drain_timer, CLOCK_MONOTONIC,
                                           DRAIN_TIMEOUT_USEC, 0, client_on_drain_timeout, c);
}

/* At shutdown: give clients a bounded time to receive their summaries. */
void skbt_clients_flush_all(struct skbtraced *d, int timeout_ms)
{
        uint64_t deadline = skbt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

        while (d->clients && skbt_now_ns() < deadline) {
                struct pollfd pfd[64];
                struct skbt_client *c, *next;
                nfds_t n = 0;

                for (c = d->clients; c && n < ARRAY_SIZE(pfd); c = c->next)
                        if (c->out.len)
                                pfd[n++] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
                if (n == 0)
                        break;
                poll(pfd, n, 50);
                for (c = d->clients; c; c = next) {
                        next = c->next;
                        if (c->out.len)
                                skbt_client_flush(c);
                }
        }
}
