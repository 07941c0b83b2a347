/* SPDX-License-Identifier: GPL-2.0-only */
/* varlink.c - the method table and the dispatcher: a request to its handler */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_util.h"
#include "skbtraced.h"
#include "trace_params.h"
#include "util.h"
#include "varlink.h"

/* The same rules ipftctl applies before it sends (common/trace_params.c). */
static int trace_check(void *args, const char **bad, char *err, size_t errlen)
{
        return skbt_trace_request_finish(args, bad, err, errlen);
}

const struct vl_method vl_methods[] = {
    {"io.skbtraced.Trace", method_trace, VL_NEEDS_MORE, &skbt_trace_params,
     sizeof(struct skbt_trace_request), trace_check},
    {"io.skbtraced.List", method_list, 0, &vl_list_params, sizeof(struct vl_list_args)},
    {"io.skbtraced.Status", method_status, 0, &vl_no_params, 0},
    {"io.skbtraced.Sessions", method_sessions, 0, &vl_no_params, 0},
    {"io.skbtraced.Stop", method_stop, 0, &vl_stop_params, sizeof(struct vl_stop_args)},
    {"org.varlink.service.GetInfo", method_get_info, 0, &vl_no_params, 0},
    {"org.varlink.service.GetInterfaceDescription", method_get_interface_description, 0,
     &vl_get_interface_description_params, sizeof(struct vl_interface_args)},
};
const size_t vl_n_methods = ARRAY_SIZE(vl_methods);

static const struct vl_method *find_method(const char *name)
{
        for (size_t i = 0; i < vl_n_methods; i++)
                if (strcmp(vl_methods[i].name, name) == 0)
                        return &vl_methods[i];
        return NULL;
}

static bool interface_known(const char *name, size_t len)
{
        for (size_t i = 0; i < vl_n_interfaces; i++)
                if (strlen(vl_interfaces[i].name) == len &&
                    strncmp(vl_interfaces[i].name, name, len) == 0)
                        return true;
        return false;
}

/*
 * A name the client sent, for the member of an error naming it: bounded and
 * printable ASCII (a real one is a varlink name, which is both).
 */
static const char *client_name(const char *s, char *buf, size_t len)
{
        size_t i;

        for (i = 0; s[i] && i + 1 < len; i++)
                buf[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
        buf[i] = '\0';
        return buf;
}

/* Unknown method: InterfaceNotFound when its interface is not ours, else MethodNotFound. */
static int method_not_found(struct vl_call *call)
{
        const char *dot = strrchr(call->method, '.');
        char name[256];

        client_name(call->method, name, sizeof(name));
        if (!dot || !interface_known(call->method, (size_t)(dot - call->method))) {
                if (dot && (size_t)(dot - call->method) < sizeof(name))
                        name[dot - call->method] = '\0';
                return vl_error(call, VL_ERR_INTERFACE_NOT_FOUND, name,
                                "interface '%s' is not served here: skbtraced serves "
                                "io.skbtraced and org.varlink.service",
                                name);
        }
        return vl_error(call, VL_ERR_METHOD_NOT_FOUND, name,
                        "unknown method '%s' (org.varlink.service.GetInterfaceDescription lists "
                        "the methods)",
                        name);
}

/* Decode the call's parameters through its method's table and run the handler. */
static int call_method(struct vl_call *call, const struct vl_method *m, json_object *params)
{
        _cleanup_free_ void *args = NULL;
        char bad[64], err[sizeof(call->message)];
        int r;

        if ((m->flags & VL_NEEDS_MORE) && !call->more)
                return vl_error(call, VL_ERR_EXPECTED_MORE, NULL,
                                "%s streams its replies: call it with \"more\": true", m->name);
        /* Trace's request is ~11 KiB, bounded whatever the client sends. */
        args = calloc(1, MAX(m->args_size, sizeof(uint64_t)));
        if (!args)
                return -ENOMEM;
        r = skbt_params_from_json(m->params, params, args, bad, sizeof(bad), err, sizeof(err));
        if (r >= 0 && m->check) {
                const char *which = NULL;

                r = m->check(args, &which, err, sizeof(err));
                snprintf(bad, sizeof(bad), "%s", which ? which : "parameters");
        }
        if (r == -EINVAL)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, bad, "%s", err);
        if (r < 0)
                return r;
        return m->handler(call, args);
}

/* The members of a call other than "parameters"; NULL when the message is no call. */
static const char *call_header(json_object *req, struct vl_call *call)
{
        json_object *method, *v;

        if (!json_object_is_type(req, json_type_object) ||
            !json_object_object_get_ex(req, "method", &method) ||
            !json_object_is_type(method, json_type_string))
                return NULL;
        call->method = json_object_get_string(method);
        call->more = json_object_object_get_ex(req, "more", &v) && json_object_get_boolean(v);
        call->oneway = json_object_object_get_ex(req, "oneway", &v) && json_object_get_boolean(v);
        return call->method;
}

static void client_dispatch(struct skbt_client *c, const char *msg, size_t len)
{
        _cleanup_json_ json_object *req = NULL;
        struct vl_call call = {.client = c};
        const struct vl_method *m;
        struct json_tokener *tok;
        json_object *params = NULL;
        int r;

        tok = json_tokener_new();
        if (!tok) {
                vl_send_error(c, VL_ERR_OUT_OF_MEMORY, NULL, "skbtraced is out of memory");
                return;
        }
        /* JSON is UTF-8 (RFC 8259): bytes that are not would be echoed in replies. */
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
        req = json_tokener_parse_ex(tok, msg, (int)len);
        r = req && json_tokener_get_parse_end(tok) == len;
        if (!r && json_tokener_get_error(tok) == json_tokener_error_parse_utf8_string) {
                json_tokener_free(tok);
                client_fail(c, VL_ERR_MALFORMED_REQUEST,
                            "request is not valid UTF-8; JSON text must be UTF-8 (RFC 8259)");
                return;
        }
        json_tokener_free(tok);
        if (!r) {
                client_fail(c, VL_ERR_MALFORMED_REQUEST,
                            "request is not valid JSON; each message is one JSON object "
                            "followed by a NUL byte");
                return;
        }
        if (!call_header(req, &call)) {
                client_fail(c, VL_ERR_MALFORMED_REQUEST,
                            "request must be a JSON object with a string member \"method\"");
                return;
        }
        json_object_object_get_ex(req, "parameters", &params);
        m = find_method(call.method);
        if (call.more && call.oneway)
                r = vl_error(&call, VL_ERR_INVALID_PARAMETER, "oneway",
                             "a call cannot be both \"more\" and \"oneway\"");
        else if (!m)
                r = method_not_found(&call);
        else
                r = call_method(&call, m, params);
        if (r < 0)
                vl_call_fail(&call, r);
}

void client_process(struct skbt_client *c)
{
        char *msg;
        size_t len;
        int r = 0;

        while (!c->draining && !client_backlogged(c) &&
               (r = msgframe_next(&c->in, &msg, &len)) > 0) {
                c->last_request_ns = skbt_now_ns(); /* not idle (idle_timeout) */
                client_dispatch(c, msg, len);
        }
        if (r == -EMSGSIZE)
                client_fail(c, VL_ERR_REQUEST_TOO_LARGE,
                            "request larger than 64 KiB (65536 bytes); nothing was done");
        /* End of input: a half-close ends the session, which still gets its summary. */
        if (c->in.eof && c->session)
                skbt_session_end(c->session, "client");
}

/* ---- parameter tables of the small methods ---- */

const struct skbt_param_table vl_no_params = {
    .name = "parameters",
    .given_offset = 0,
    .flags_offset = SKBT_PARAM_NO_FLAGS,
};

static const struct skbt_param list_rows[] = {
    {
        .name = "regex",
        .type = SKBT_PARAM_STRING,
        .id = 0,
        .offset = offsetof(struct vl_list_args, regex),
        .size = sizeof(((struct vl_list_args *)0)->regex),
    },
    {
        .name = "groups",
        .type = SKBT_PARAM_BOOL,
        .id = 1,
        .offset = offsetof(struct vl_list_args, groups),
        .size = sizeof(bool),
    },
};

const struct skbt_param_table vl_list_params = {
    .name = "io.skbtraced.List",
    .rows = list_rows,
    .n_rows = ARRAY_SIZE(list_rows),
    .given_offset = offsetof(struct vl_list_args, given),
    .flags_offset = SKBT_PARAM_NO_FLAGS,
};

static const struct skbt_param stop_rows[] = {
    {
        .name = "session",
        .type = SKBT_PARAM_UINT,
        .id = 0,
        .flags = SKBT_PARAM_REQUIRED,
        .offset = offsetof(struct vl_stop_args, session),
        .size = sizeof(uint64_t),
        .min = 1,
        .max = INT64_MAX,
    },
};

const struct skbt_param_table vl_stop_params = {
    .name = "io.skbtraced.Stop",
    .rows = stop_rows,
    .n_rows = ARRAY_SIZE(stop_rows),
    .given_offset = offsetof(struct vl_stop_args, given),
    .flags_offset = SKBT_PARAM_NO_FLAGS,
};

static const struct skbt_param interface_rows[] = {
    {
        .name = "interface",
        .type = SKBT_PARAM_STRING,
        .id = 0,
        .flags = SKBT_PARAM_REQUIRED,
        .offset = offsetof(struct vl_interface_args, interface),
        .size = sizeof(((struct vl_interface_args *)0)->interface),
        .min = 1,
    },
};

const struct skbt_param_table vl_get_interface_description_params = {
    .name = "org.varlink.service.GetInterfaceDescription",
    .rows = interface_rows,
    .n_rows = ARRAY_SIZE(interface_rows),
    .given_offset = offsetof(struct vl_interface_args, given),
    .flags_offset = SKBT_PARAM_NO_FLAGS,
};
