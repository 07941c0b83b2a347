/* SPDX-License-Identifier: GPL-2.0-only */
/* control-internal.h - what the control socket's files share: error names, replies, methods */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "macro.h"
#include "skbt_regex.h"

struct skbt_client;

#define ERR_INVALID_PARAMETER "io.skbtraced.InvalidParameter"
#define ERR_NO_PROBES "io.skbtraced.NoMatchingProbes"
#define ERR_LIMIT "io.skbtraced.LimitReached"
#define ERR_PERMISSION_DENIED "io.skbtraced.PermissionDenied"
#define ERR_NO_SUCH_SESSION "io.skbtraced.NoSuchSession"
#define ERR_MALFORMED "io.skbtraced.MalformedRequest"
#define ERR_TOO_LARGE "io.skbtraced.RequestTooLarge"
#define ERR_SESSION_ACTIVE "io.skbtraced.SessionActive"
#define ERR_UNSUPPORTED "io.skbtraced.NotSupported"
#define ERR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define ERR_EXPECTED_MORE "org.varlink.service.ExpectedMore"

/* server.c */
/* Replies not yet read reached the bound: hold back further requests. */
bool client_backlogged(const struct skbt_client *c);
/* From now on only let the peer read what is queued, then close. */
void client_start_draining(struct skbt_client *c);

/* varlink.c */
/* Handle the requests read so far, as long as the client keeps up with the replies. */
void client_process(struct skbt_client *c);
/* An error reply; parameter (may be NULL) names the member at fault. */
void client_error(struct skbt_client *c, const char *error, const char *parameter, const char *fmt,
                  ...) _printf_(4, 5);
/* LimitReached: "limit" names the setting. */
void client_limit_error(struct skbt_client *c, const char *limit, const char *fmt, ...)
    _printf_(3, 4);
/* Protocol violation: reply, then close only this connection. */
void client_fail(struct skbt_client *c, const char *error, const char *message);
/* A connection we do not serve: one error, then close. */
void client_refuse(struct skbt_client *c, const char *error, const char *limit, const char *fmt,
                   ...) _printf_(4, 5);
/* Reject members of params that are not in allowed (a typo must not widen a trace). */
bool check_members(struct skbt_client *c, json_object *params, const char *const *allowed);
/* An optional boolean member. */
int get_bool(struct skbt_client *c, json_object *params, const char *key, bool *ret);
/* The optional "regex" member, compiled with a request's time budget; *ret NULL: none. */
int compile_regex(struct skbt_client *c, json_object *params, struct skbt_regex **ret);
/* skbt_regex_match() of a client's regex on a probe name; an error was answered (-errno). */
int client_regex_match(struct skbt_client *c, struct skbt_regex *re, const char *name);

/* One file per method. */
void method_trace(struct skbt_client *c, json_object *params, bool more);
void method_list(struct skbt_client *c, json_object *params);
void method_status(struct skbt_client *c, json_object *params);
void method_sessions(struct skbt_client *c, json_object *params);
void method_stop(struct skbt_client *c, json_object *params);
void method_get_info(struct skbt_client *c);
