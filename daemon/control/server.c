/* SPDX-License-Identifier: GPL-2.0-only */
/* server.c - the control socket: listening, admitting connections, reading requests */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "access.h"
#include "json_util.h"
#include "log.h"
#include "skbtraced.h"
#include "util.h"
#include "varlink.h"

static int client_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata);

static void client_read(struct skbt_client *c)
{
        int r;

        r = msgframe_fill(&c->in, c->fd);
        if (r == -EAGAIN)
                return;
        if (r < 0 && r != -ECONNRESET) {
                log_debug_errno(r, "client pid %d: read failed: %m", c->cred.pid);
                c->in.eof = 1;
        }
        if (r == -ECONNRESET)
                c->in.eof = 1;
        if (c->draining) {
                /* Discard: we only wait for the peer to read our error and go. */
                c->in.buf.len = 0;
                c->in.off = 0;
                return;
        }
        client_process(c);
}

static int client_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbt_client *c = userdata;

        if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                client_read(c);
                if (c->draining && c->in.eof) {
                        skbt_client_free(c);
                        return 0;
                }
        } else if (client_has_request(c)) {
                client_process(c);
        }
        skbt_client_flush(c);
        return 0;
}

static uint32_t count_user_connections(struct skbtraced *d, uid_t uid)
{
        uint32_t n = 0;

        for (struct skbt_client *c = d->clients; c; c = c->next)
                if (c->cred.uid == uid)
                        n++;
        return n;
}

/*
 * A connection we do not serve gets one error and is closed at once: it
 * never becomes a client, so it holds no slot, no memory and no timer, and a
 * connect flood costs the daemon one accept, one write and one close each.
 * What the peer already sent is read first (and dropped): closing a Unix
 * socket with unread data would make the peer's read fail with ECONNRESET
 * before it sees our error.  The fd then lingers, write side shut, in a small
 * bounded ring (refused_linger), so that a client that writes its request
 * before it reads (the varlink Go library does) gets our error, not EPIPE.
 */
static void refused_close_oldest(struct skbtraced *d)
{
        safe_close(d->refused_fd[d->refused_head]);
        d->refused_head = (d->refused_head + 1) % SKBT_REFUSED_MAX;
        d->refused_n--;
}

static int on_refused_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
        struct skbtraced *d = userdata;
        uint64_t now = skbt_now_ns();

        while (d->refused_n &&
               now - d->refused_ns[d->refused_head] >= SKBT_REFUSED_LINGER_USEC * 1000ULL)
                refused_close_oldest(d);
        if (d->refused_n) {
                sd_event_source_set_time_relative(es, SKBT_REFUSED_LINGER_USEC / 4);
                sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void refused_linger(struct skbtraced *d, int fd)
{
        if (d->refused_n == SKBT_REFUSED_MAX)
                refused_close_oldest(d);
        d->refused_fd[(d->refused_head + d->refused_n) % SKBT_REFUSED_MAX] = fd;
        d->refused_ns[(d->refused_head + d->refused_n) % SKBT_REFUSED_MAX] = skbt_now_ns();
        d->refused_n++;
        if (!d->refused_timer) {
                if (sd_event_add_time_relative(d->event, &d->refused_timer, CLOCK_MONOTONIC,
                                               SKBT_REFUSED_LINGER_USEC / 4, 0, on_refused_timer,
                                               d) < 0)
                        refused_close_oldest(d);
                return;
        }
        if (sd_event_source_get_enabled(d->refused_timer, NULL) == 0) {
                sd_event_source_set_time_relative(d->refused_timer, SKBT_REFUSED_LINGER_USEC / 4);
                sd_event_source_set_enabled(d->refused_timer, SD_EVENT_ONESHOT);
        }
}

/* Closes the refused connections that still linger (at shutdown). */
void skbt_control_refused_close_all(struct skbtraced *d)
{
        while (d->refused_n)
                refused_close_oldest(d);
        d->refused_timer = sd_event_source_disable_unref(d->refused_timer);
}

static void _printf_(5, 6)
    refuse_fd(struct skbtraced *d, int fd, enum vl_error e, const char *limit, const char *fmt, ...)
{
        _cleanup_json_ json_object *msg = NULL;
        char text[512], drop[4096];
        const char *s = NULL;
        size_t len;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        msg = vl_error_message(e, limit, text);
        if (msg)
                s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        /* A fresh socket's buffer takes it whole; if not, the peer gets EOF. */
        if (s)
                (void)send(fd, s, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        for (int i = 0; i < 16 && recv(fd, drop, sizeof(drop), MSG_DONTWAIT) > 0; i++)
                ;
        shutdown(fd, SHUT_WR);
        refused_linger(d, fd);
}

/*
 * Admission, in this order (docs/skbtraced.8, LIMITS): who the peer is; its
 * own share (max_connections_per_user), so that one user's flood is refused
 * before it touches anything global; then the total, of which others may
 * hold all but SKBT_ADMIN_RESERVED_CONNECTIONS: root always gets in.
 * Returns true when the connection may become a client; otherwise it has
 * been refused and closed.
 */
static bool admit(struct skbtraced *d, int cfd, const struct skbt_peer *peer)
{
        const struct skbt_config *cfg = &d->opt.cfg;
        uint32_t n_user, max_others;

        if (!peer->allowed) {
                log_info("connection from uid %u pid %d refused: neither root nor a member of "
                         "group %s",
                         peer->cred.uid, peer->cred.pid, cfg->group);
                refuse_fd(d, cfd, VL_ERR_PERMISSION_DENIED, NULL,
                          "permission denied: add yourself to group %s (uid %u is neither root "
                          "nor a member)",
                          cfg->group, peer->cred.uid);
                return false;
        }
        if (!peer->admin) {
                n_user = count_user_connections(d, peer->cred.uid);
                if (n_user >= cfg->max_connections_per_user) {
                        log_debug("uid %u: %u connections, refusing one more", peer->cred.uid,
                                  n_user);
                        refuse_fd(d, cfd, VL_ERR_LIMIT_REACHED, "max_connections_per_user",
                                  "uid %u has %u connections open, the limit per user "
                                  "(max_connections_per_user); close some first",
                                  peer->cred.uid, n_user);
                        return false;
                }
        }
        max_others = cfg->max_connections > SKBT_ADMIN_RESERVED_CONNECTIONS
                         ? cfg->max_connections - SKBT_ADMIN_RESERVED_CONNECTIONS
                         : 1;
        if (d->n_clients >= (peer->admin ? cfg->max_connections : max_others)) {
                refuse_fd(d, cfd, VL_ERR_LIMIT_REACHED, "max_connections",
                          "too many connections to skbtraced (limit %u, max_connections); try "
                          "again later",
                          peer->admin ? cfg->max_connections : max_others);
                return false;
        }
        return true;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbtraced *d = userdata;
        struct skbt_peer peer;
        struct skbt_client *c;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(errno, "accept failed, ignoring: %m");
                return 0;
        }
        r = skbt_access_check(cfd, d->access_gid, d->access_gid_valid, &peer);
        if (r < 0)
                log_warning_errno(r, "cannot identify the peer of a new connection (%m), "
                                     "refusing it");
        if (!admit(d, cfd, &peer)) {
                d->refused_connections++;
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        c->d = d;
        c->fd = cfd;
        c->last_request_ns = skbt_now_ns();
        msgframe_init(&c->in, SKBT_REQUEST_MAX);
        c->cred = peer.cred;
        c->admin = peer.admin;
        c->next = d->clients;
        if (d->clients)
                d->clients->prev = c;
        d->clients = c;
        d->n_clients++;
        r = sd_event_add_io(d->event, &c->io, cfd, EPOLLIN | EPOLLRDHUP, client_on_io, c);
        if (r < 0) {
                log_warning_errno(r, "cannot watch client connection, closing it: %m");
                skbt_client_free(c);
                return 0;
        }
        return 0;
}

/*
 * Connections are a shared, limited resource: one without a session that
 * sent no complete request for idle_timeout is closed (a half-sent request
 * counts as none).  A sweep a few times per timeout is cheaper than a timer
 * per connection and precise enough.
 */
static int on_idle_sweep(sd_event_source *es, uint64_t usec, void *userdata)
{
        struct skbtraced *d = userdata;
        uint64_t timeout_ns = d->opt.cfg.idle_timeout_usec * 1000ULL, now = skbt_now_ns();
        struct skbt_client *c, *next;

        for (c = d->clients; c; c = next) {
                next = c->next;
                if (c->session || c->draining || now - c->last_request_ns < timeout_ns)
                        continue;
                log_debug("client uid %u pid %d: no request for %" PRIu64 " s, closing",
                          c->cred.uid, c->cred.pid, (uint64_t)(timeout_ns / 1000000000ULL));
                d->idle_closed++;
                skbt_client_free(c);
        }
        /* Re-read each time: a reload may have changed the timeout. */
        sd_event_source_set_time_relative(es, MAX(d->opt.cfg.idle_timeout_usec / 4, 100000ULL));
        sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        return 0;
}

/*
 * The access group, at start and on reload.  Without it only root is
 * served: the socket mode below keeps others out, and the SO_PEERCRED check
 * refuses them should the socket be more open (socket activation with
 * another SocketMode=, a chmod by hand).
 */
void skbt_control_resolve_group(struct skbtraced *d)
{
        struct group *gr;

        errno = 0;
        gr = getgrnam(d->opt.cfg.group);
        if (!gr) {
                d->access_gid_valid = false;
                log_notice("group %s does not exist: only root may use skbtraced (create it with "
                           "systemd-sysusers or 'groupadd --system %s')",
                           d->opt.cfg.group, d->opt.cfg.group);
                return;
        }
        d->access_gid = gr->gr_gid;
        d->access_gid_valid = true;
}

/* root and the group's members may connect; others cannot even open it. */
int skbt_control_apply_socket_mode(struct skbtraced *d)
{
        const char *path = d->opt.socket_path;

        /* systemd made an inherited socket as the .socket unit says (SocketGroup=). */
        if (!d->socket_owned)
                return 0;
        if (d->access_gid_valid) {
                if (chown(path, 0, d->access_gid) < 0 || chmod(path, 0660) < 0)
                        return log_error_errno(errno, "cannot set owner/mode of %s: %m", path);
        } else if (chmod(path, 0600) < 0) {
                return log_error_errno(errno, "cannot set mode of %s: %m", path);
        }
        return 0;
}

static int bind_socket(struct skbtraced *d)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *path = d->opt.socket_path;
        char dir[sizeof(sa.sun_path)], *slash;
        int probe, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "socket path %s is too long", path);
        strcpy(sa.sun_path, path);

        /* Create the parent directory (e.g. /run/skbtraced) if it is missing. */
        strcpy(dir, path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create %s: %m", dir);
        }

        /* A live socket means another daemon: never steal it. A dead one is stale. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
                if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        close(probe);
                        return log_error_errno(
                            -EADDRINUSE, "another skbtraced is already listening on %s", path);
                }
                close(probe);
        }
        unlink(path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "cannot create socket: %m");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "cannot bind %s: %m", path);
        d->socket_owned = true;
        r = skbt_control_apply_socket_mode(d);
        if (r < 0)
                return r;
        if (listen(fd, 128) < 0)
                return log_error_errno(errno, "cannot listen on %s: %m", path);
        d->listen_fd = TAKE_FD(fd);
        return 0;
}

int skbt_control_listen(struct skbtraced *d)
{
        int n, r;

        skbt_control_resolve_group(d);
        n = sd_listen_fds(1);
        if (n > 1)
                return log_error_errno(-EINVAL, "expected one socket from systemd, got %d", n);
        if (n == 1) {
                d->listen_fd = SD_LISTEN_FDS_START;
                if (sd_is_socket_unix(d->listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(-EINVAL,
                                               "socket passed by systemd is not a listening "
                                               "Unix stream socket");
                fcntl(d->listen_fd, F_SETFL, fcntl(d->listen_fd, F_GETFL) | O_NONBLOCK);
                fcntl(d->listen_fd, F_SETFD, FD_CLOEXEC);
                log_info("using the listening socket passed by systemd");
        } else {
                r = bind_socket(d);
                if (r < 0)
                        return r;
                log_info("listening on %s", d->opt.socket_path);
        }
        r = sd_event_add_io(d->event, &d->listen_io, d->listen_fd, EPOLLIN, on_accept, d);
        if (r < 0)
                return log_error_errno(r, "cannot watch the listening socket: %m");
        r = sd_event_add_time_relative(d->event, &d->idle_sweep, CLOCK_MONOTONIC,
                                       MAX(d->opt.cfg.idle_timeout_usec / 4, 100000ULL), 0,
                                       on_idle_sweep, d);
        if (r < 0)
                return log_error_errno(r, "cannot set up the idle connection timer: %m");
        return 0;
}
