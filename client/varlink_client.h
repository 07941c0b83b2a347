/* SPDX-License-Identifier: GPL-2.0-only */
/* varlink_client.h - the client side of the control socket: connect, call, read replies */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "msgframe.h"

struct ctl;

struct conn {
        int fd;
        struct msgframe frame;
        json_tokener *tok;
};

void conn_done(struct conn *c);
/* Connect to the daemon; failures are logged with what to do about them. */
int conn_open(struct conn *c, const char *path);
int conn_send_call(struct conn *c, const char *method, json_object *params, bool more);
/* The next complete reply already read: 1 with *ret, 0 if none is complete yet,
 * negative errno (logged) on a malformed or oversized reply. */
int conn_take(struct conn *c, json_object **ret);
/* Read once from the daemon: >0 bytes, 0 at end of stream, negative errno. */
int conn_fill(struct conn *c);
/* Blocking: the next reply, 0 at end of stream, negative errno (logged). */
int conn_next(struct conn *c, json_object **ret);
/* The parameters of a reply, or the error reply logged as a user should read it. */
int reply_params(json_object *reply, json_object **ret);
/* One call, one reply (List, Status).  *ret_reply owns what *ret_params points into. */
int call_once(const struct ctl *ctl, const char *method, json_object *params,
              json_object **ret_reply, json_object **ret_params);
