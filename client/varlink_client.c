/* SPDX-License-Identifier: GPL-2.0-only */
/* varlink_client.c - the client side of the control socket: connect, call, read replies */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "varlink_client.h"

void conn_done(struct conn *c)
{
        c->fd = safe_close(c->fd);
        msgframe_done(&c->frame);
        if (c->tok)
                json_tokener_free(c->tok);
        c->tok = NULL;
}

/* The group that may use the socket: the socket's own, which the daemon set. */
static const char *socket_group(const char *path)
{
        struct group *gr;
        struct stat st;

        if (stat(path, &st) == 0 && st.st_gid != 0 && (gr = getgrgid(st.st_gid)))
                return gr->gr_name;
        return SKBT_DEFAULT_GROUP;
}

int conn_open(struct conn *c, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        *c = (struct conn){.fd = -1};
        msgframe_init(&c->frame, SKBT_REPLY_MAX);
        c->tok = json_tokener_new();
        if (!c->tok)
                return log_error_errno(-ENOMEM, "out of memory");

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG,
                                       "socket path %s is too long (at most %zu bytes)", path,
                                       sizeof(sa.sun_path) - 1);
        memcpy(sa.sun_path, path, strlen(path) + 1);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return log_error_errno(negative_errno(), "cannot create a socket: %m");
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = negative_errno();
                switch (r) {
                case -ENOENT:
                case -ECONNREFUSED:
                        return log_error_errno(r,
                                               "cannot connect to skbtraced at %s: daemon not "
                                               "running? (start it with 'systemctl start "
                                               "skbtraced' or 'skbtraced &')",
                                               path);
                case -EACCES:
                case -EPERM:
                        return log_error_errno(r,
                                               "permission denied on %s: add yourself to group "
                                               "%s (or run as root)",
                                               path, socket_group(path));
                default:
                        return log_error_errno(r, "cannot connect to skbtraced at %s: %m", path);
                }
        }
        return 0;
}

int conn_send_call(struct conn *c, const char *method, json_object *params, bool more)
{
        _cleanup_json_ json_object *call = json_object_new_object();
        const char *s;
        size_t len;
        int r;

        if (!call || json_object_object_add(call, "method", json_object_new_string(method)) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        /* Always an object, even an empty one: that is what varlinkctl sends too. */
        if (json_object_object_add(call, "parameters",
                                   params ? json_object_get(params) : json_object_new_object()) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        if (more && json_object_object_add(call, "more", json_object_new_boolean(1)) < 0)
                return log_error_errno(-ENOMEM, "out of memory");

        s = json_object_to_json_string_length(call, JSON_C_TO_STRING_PLAIN, &len);
        if (!s)
                return log_error_errno(-ENOMEM, "out of memory");
        /* The NUL json-c puts after the text is the message terminator. */
        r = write_full(c->fd, s, len + 1);
        /* The daemon refuses a connection it does not serve (not allowed, over a limit) with
         * one error and closes at once: that error is still there to read, and says more
         * than "connection lost" would.  The read that follows finds it, or EOF. */
        if (r == -EPIPE || r == -ECONNRESET)
                return 0;
        if (r < 0)
                return log_error_errno(r, "cannot send the request to skbtraced: %m");
        return 0;
}

/* The next complete reply already read: 1 with *ret, 0 if none is complete yet,
 * negative errno (logged) on a malformed or oversized reply. */
int conn_take(struct conn *c, json_object **ret)
{
        json_object *obj;
        char *msg;
        size_t len;
        int r;

        r = msgframe_next(&c->frame, &msg, &len);
        if (r == -EMSGSIZE)
                return log_error_errno(r, "reply from skbtraced is larger than %d MiB",
                                       SKBT_REPLY_MAX / (1024 * 1024));
        if (r <= 0)
                return r;

        json_tokener_reset(c->tok);
        obj = json_tokener_parse_ex(c->tok, msg, (int)len);
        if (!obj || json_tokener_get_error(c->tok) != json_tokener_success ||
            json_tokener_get_parse_end(c->tok) != len ||
            !json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return log_error_errno(-EBADMSG, "malformed reply from skbtraced");
        }
        *ret = obj;
        return 1;
}

/* Read once from the daemon: >0 bytes, 0 at end of stream, negative errno. */
int conn_fill(struct conn *c)
{
        int r = msgframe_fill(&c->frame, c->fd);

        /* A reset is the daemon going away, like an end of stream. */
        if (r == -ECONNRESET) {
                c->frame.eof = 1;
                return 0;
        }
        if (r < 0 && r != -EINTR && r != -EAGAIN)
                return log_error_errno(r, "cannot read from skbtraced: %m");
        return r;
}

/* Blocking: the next reply, 0 at end of stream, negative errno (logged). */
int conn_next(struct conn *c, json_object **ret)
{
        int r;

        for (;;) {
                r = conn_take(c, ret);
                if (r != 0)
                        return r;
                if (c->frame.eof)
                        return 0;
                r = conn_fill(c);
                if (r < 0 && r != -EINTR && r != -EAGAIN)
                        return r;
        }
}

/*
 * Split a reply into its parameters, or log an error reply the way a user
 * should read it: the daemon's message says what to fix.
 */
int reply_params(json_object *reply, json_object **ret)
{
        json_object *params = member(reply, "parameters", json_type_object);
        const char *error = member_str(reply, "error");
        const char *msg;

        if (error) {
                msg = member_str(params, "message");
                log_error("%s", msg && *msg ? msg : error);
                return -EREMOTEIO;
        }
        if (!params)
                return log_error_errno(-EBADMSG, "malformed reply from skbtraced: no parameters");
        *ret = params;
        return 0;
}

/* One call, one reply (List, Status).  *ret_reply owns what *ret_params points into. */
int call_once(const struct ctl *ctl, const char *method, json_object *params,
              json_object **ret_reply, json_object **ret_params)
{
        _cleanup_(conn_done) struct conn c = {.fd = -1};
        _cleanup_json_ json_object *reply = NULL;
        int r;

        r = conn_open(&c, ctl->socket_path);
        if (r < 0)
                return r;
        r = conn_send_call(&c, method, params, false);
        if (r < 0)
                return r;
        r = conn_next(&c, &reply);
        if (r < 0)
                return r;
        if (r == 0)
                return log_error_errno(-ECONNRESET, "connection to skbtraced lost before it "
                                                    "replied (daemon stopped or restarted?)");
        r = reply_params(reply, ret_params);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}
