/* SPDX-License-Identifier: GPL-2.0-only */
/* varlink.c - the varlink layer: requests out of the framing, dispatch, replies and errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "control-internal.h"
#include "log.h"
#include "skbtraced.h"
#include "json_util.h"

void skbt_client_reply(struct skbt_client *c, json_object *params, bool continues)
{
        json_object *msg = json_object_new_object();
        const char *s;
        size_t len;

        if (continues)
                json_object_object_add(msg, "continues", json_object_new_boolean(1));
        json_object_object_add(msg, "parameters", json_object_get(params));
        s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        skbt_client_queue(c, s, len + 1); /* with the NUL terminator */
        json_object_put(msg);
}

/* An error reply; key/value (e.g. "parameter": "regex") say what it is about. */
static void client_errorv(struct skbt_client *c, const char *error, const char *key,
                          const char *value, const char *fmt, va_list ap) _printf_(5, 0);
static void client_errorv(struct skbt_client *c, const char *error, const char *key,
                          const char *value, const char *fmt, va_list ap)
{
        json_object *msg = json_object_new_object(), *params = json_object_new_object();
        char text[512];
        const char *s;
        size_t len;

        vsnprintf(text, sizeof(text), fmt, ap);
        json_object_object_add(msg, "error", json_object_new_string(error));
        json_object_object_add(params, "message", json_object_new_string(text));
        if (key && value)
                json_object_object_add(params, key, json_object_new_string(value));
        json_object_object_add(msg, "parameters", params);
        s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        skbt_client_queue(c, s, len + 1);
        json_object_put(msg);
        log_debug("client pid %d: %s: %s", c->cred.pid, error, text);
}
void client_error(struct skbt_client *c, const char *error, const char *parameter, const char *fmt,
                  ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, error, "parameter", parameter, fmt, ap);
        va_end(ap);
}
void client_limit_error(struct skbt_client *c, const char *limit, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, ERR_LIMIT, "limit", limit, fmt, ap);
        va_end(ap);
}

/* Protocol violation: reply, then close only this connection. */
void client_fail(struct skbt_client *c, const char *error, const char *message)
{
        client_error(c, error, NULL, "%s", message);
        client_start_draining(c);
}
void client_refuse(struct skbt_client *c, const char *error, const char *limit, const char *fmt,
                   ...)
{
        va_list ap;

        va_start(ap, fmt);
        client_errorv(c, error, "limit", limit, fmt, ap);
        va_end(ap);
        client_start_draining(c);
}

/* Reject members of params that are not in allowed (a typo must not widen a trace). */
bool check_members(struct skbt_client *c, json_object *params, const char *const *allowed)
{
        json_object_object_foreach (params, key, val) {
                bool ok = false;

                (void)val;
                for (const char *const *a = allowed; *a; a++)
                        if (strcmp(*a, key) == 0)
                                ok = true;
                if (!ok) {
                        client_error(c, ERR_INVALID_PARAMETER, key, "unknown parameter '%s'", key);
                        return false;
                }
        }
        return true;
}

/* An optional boolean member. */
int get_bool(struct skbt_client *c, json_object *params, const char *key, bool *ret)
{
        json_object *v;

        if (!json_object_object_get_ex(params, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean)) {
                client_error(c, ERR_INVALID_PARAMETER, key, "%s must be true or false", key);
                return -EINVAL;
        }
        *ret = json_object_get_boolean(v);
        return 0;
}

/*
 * Client patterns never reach glibc's regex (it can be crashed or stalled by
 * one short pattern): skbt_regex bounds compile and match, and the budget
 * bounds a request's whole walk over the probe names.
 */
int compile_regex(struct skbt_client *c, json_object *params, struct skbt_regex **ret)
{
        char err[512];
        json_object *v;
        int r;

        *ret = NULL;
        if (!json_object_object_get_ex(params, "regex", &v) ||
            json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string)) {
                client_error(c, ERR_INVALID_PARAMETER, "regex", "regex must be a string");
                return -EINVAL;
        }
        r = skbt_regex_new(json_object_get_string(v), ret, err, sizeof(err));
        if (r == -ENOMEM) {
                client_error(c, ERR_UNSUPPORTED, "regex", "out of memory");
                return r;
        }
        if (r < 0) {
                client_error(c, ERR_INVALID_PARAMETER, "regex", "%s", err);
                return r;
        }
        skbt_regex_set_time_budget(*ret, SKBT_REGEX_TIME_BUDGET_USEC);
        return 0;
}

int client_regex_match(struct skbt_client *c, struct skbt_regex *re, const char *name)
{
        char err[512];
        int r = skbt_regex_match(re, name);

        if (r >= 0)
                return r;
        skbt_regex_limit_message(re, r, name, err, sizeof(err));
        client_error(c, ERR_INVALID_PARAMETER, "regex", "%s", err);
        return r;
}

static void client_dispatch(struct skbt_client *c, const char *msg, size_t len)
{
        _cleanup_(json_object_putp) json_object *req = NULL;
        json_object *method, *params = NULL, *more;
        struct json_tokener *tok;
        const char *name;
        bool want_more = false;

        tok = json_tokener_new();
        if (!tok) {
                client_fail(c, ERR_MALFORMED, "out of memory");
                return;
        }
        req = json_tokener_parse_ex(tok, msg, (int)len);
        if (!req || json_tokener_get_parse_end(tok) != len) {
                json_tokener_free(tok);
                client_fail(c, ERR_MALFORMED,
                            "request is not valid JSON; each message is one JSON object "
                            "followed by a NUL byte");
                return;
        }
        json_tokener_free(tok);
        if (!json_object_is_type(req, json_type_object) ||
            !json_object_object_get_ex(req, "method", &method) ||
            !json_object_is_type(method, json_type_string)) {
                client_fail(c, ERR_MALFORMED,
                            "request must be a JSON object with a string member \"method\"");
                return;
        }
        name = json_object_get_string(method);
        if (json_object_object_get_ex(req, "parameters", &params) &&
            !json_object_is_type(params, json_type_object)) {
                client_error(c, ERR_INVALID_PARAMETER, "parameters",
                             "parameters must be an object");
                return;
        }
        if (!params) {
                params = json_object_new_object();
                json_object_object_add(req, "parameters", params);
        }
        if (json_object_object_get_ex(req, "more", &more))
                want_more = json_object_get_boolean(more);

        if (strcmp(name, "io.skbtraced.Trace") == 0)
                method_trace(c, params, want_more);
        else if (strcmp(name, "io.skbtraced.List") == 0)
                method_list(c, params);
        else if (strcmp(name, "io.skbtraced.Status") == 0)
                method_status(c, params);
        else if (strcmp(name, "io.skbtraced.Sessions") == 0)
                method_sessions(c, params);
        else if (strcmp(name, "io.skbtraced.Stop") == 0)
                method_stop(c, params);
        else if (strcmp(name, "org.varlink.service.GetInfo") == 0)
                method_get_info(c);
        else
                client_error(c, ERR_METHOD_NOT_FOUND, NULL, "unknown method '%s'", name);
}

/* Handle the requests read so far, as long as the client keeps up with the replies. */
void client_process(struct skbt_client *c)
{
        char *msg;
        size_t len;
        int r = 0;

        while (!c->draining && !client_backlogged(c) && (r = msgframe_next(&c->in, &msg, &len)) > 0)
                client_dispatch(c, msg, len);
        if (r == -EMSGSIZE)
                client_fail(c, ERR_TOO_LARGE,
                            "request larger than 64 KiB (65536 bytes); nothing was done");
        /* End of input: a half-close ends the session, which still gets its summary. */
        if (c->in.eof && c->session)
                skbt_session_end(c->session, "client");
}
