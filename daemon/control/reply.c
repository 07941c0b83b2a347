/* SPDX-License-Identifier: GPL-2.0-only */
/* reply.c - varlink replies and errors: every error's name and member in one table */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json_util.h"
#include "log.h"
#include "skbt_regex.h"
#include "skbtraced.h"
#include "varlink.h"

/* Every error's name, the member naming what it is about, and the errno handlers return. */
static const struct {
        const char *name;
        const char *key;
        int errnum;
} vl_errors[_VL_ERR_MAX] = {
    [VL_ERR_INVALID_PARAMETER] = {"org.varlink.service.InvalidParameter", "parameter", EINVAL},
    [VL_ERR_METHOD_NOT_FOUND] = {"org.varlink.service.MethodNotFound", "method", ENOENT},
    [VL_ERR_INTERFACE_NOT_FOUND] = {"org.varlink.service.InterfaceNotFound", "interface", ENOENT},
    [VL_ERR_PERMISSION_DENIED] = {"org.varlink.service.PermissionDenied", NULL, EPERM},
    [VL_ERR_EXPECTED_MORE] = {"org.varlink.service.ExpectedMore", NULL, EINVAL},
    [VL_ERR_NO_MATCHING_PROBES] = {"io.skbtraced.NoMatchingProbes", "parameter", ENOENT},
    [VL_ERR_LIMIT_REACHED] = {"io.skbtraced.LimitReached", "limit", EBUSY},
    [VL_ERR_NO_SUCH_SESSION] = {"io.skbtraced.NoSuchSession", "parameter", ESRCH},
    [VL_ERR_SESSION_ACTIVE] = {"io.skbtraced.SessionActive", NULL, EBUSY},
    [VL_ERR_NOT_SUPPORTED] = {"io.skbtraced.NotSupported", "parameter", EOPNOTSUPP},
    [VL_ERR_OUT_OF_MEMORY] = {"io.skbtraced.OutOfMemory", NULL, ENOMEM},
    [VL_ERR_INTERNAL] = {"io.skbtraced.InternalError", NULL, EIO},
    [VL_ERR_MALFORMED_REQUEST] = {"io.skbtraced.MalformedRequest", NULL, EBADMSG},
    [VL_ERR_REQUEST_TOO_LARGE] = {"io.skbtraced.RequestTooLarge", NULL, EMSGSIZE},
};

const char *vl_error_name(enum vl_error e)
{
        return (unsigned)e < _VL_ERR_MAX ? vl_errors[e].name : vl_errors[VL_ERR_INTERNAL].name;
}

const char *vl_error_key(enum vl_error e)
{
        return (unsigned)e < _VL_ERR_MAX ? vl_errors[e].key : NULL;
}

/*
 * A serialized message, NUL-terminated, with valid UTF-8 whatever its strings
 * hold: json-c copies string bytes as they are, and some come from a client
 * (\u escapes decode to lone surrogates) or the kernel (device names, comm),
 * or from a message truncated mid-character.  Invalid bytes can only be inside
 * strings, where each becomes \u00XX, as the event renderer writes them.
 */
static void client_queue_json(struct skbt_client *c, const char *s, size_t len)
{
        strbuf_put_json_text(&c->out, s, len);
        strbuf_putc(&c->out, '\0');
}

void vl_send_reply(struct skbt_client *c, json_object *params, bool continues)
{
        _cleanup_json_ json_object *msg = json_object_new_object();
        const char *s;
        size_t len;

        if (!msg ||
            (continues &&
             json_object_object_add(msg, "continues", json_object_new_boolean(1)) < 0) ||
            json_object_object_add(msg, "parameters", json_object_get(params)) < 0 ||
            !(s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len))) {
                /* The reply cannot be built: say so rather than leave the call unanswered. */
                vl_send_error(c, VL_ERR_OUT_OF_MEMORY, NULL, "skbtraced is out of memory");
                return;
        }
        client_queue_json(c, s, len);
}

static void vl_send_errorv(struct skbt_client *c, enum vl_error e, const char *arg, const char *fmt,
                           va_list ap) _printf_(4, 0);
json_object *vl_error_message(enum vl_error e, const char *arg, const char *text)
{
        _cleanup_json_ json_object *msg = json_object_new_object();
        json_object *params = json_object_new_object();
        const char *key = vl_error_key(e);

        if (!msg || !params || json_object_object_add(msg, "parameters", params) < 0) {
                json_object_put(params);
                return NULL;
        }
        if (json_object_object_add(msg, "error", json_object_new_string(vl_error_name(e))) < 0 ||
            json_object_object_add(params, "message", json_object_new_string(text)) < 0 ||
            (key && arg && json_object_object_add(params, key, json_object_new_string(arg)) < 0))
                return NULL;
        return TAKE_PTR(msg);
}

static void vl_send_errorv(struct skbt_client *c, enum vl_error e, const char *arg, const char *fmt,
                           va_list ap)
{
        /* Nothing can be built: a fixed message still tells the client. */
        static const char oom[] = "{\"error\":\"io.skbtraced.OutOfMemory\",\"parameters\":{"
                                  "\"message\":\"skbtraced is out of memory\"}}";
        _cleanup_json_ json_object *msg = NULL;
        const char *s = NULL;
        char text[512];
        size_t len;

        vsnprintf(text, sizeof(text), fmt, ap);
        log_debug("client pid %d: %s: %s", c->cred.pid, vl_error_name(e), text);
        msg = vl_error_message(e, arg, text);
        if (msg)
                s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
        if (s)
                client_queue_json(c, s, len);
        else
                client_queue(c, oom, sizeof(oom));
}

void vl_send_error(struct skbt_client *c, enum vl_error e, const char *arg, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vl_send_errorv(c, e, arg, fmt, ap);
        va_end(ap);
}

int vl_reply(struct vl_call *call, json_object *params, bool continues)
{
        /* varlink: a oneway call gets no reply, not even an error. */
        if (!call->oneway)
                vl_send_reply(call->client, params, continues);
        return 0;
}

int vl_error(struct vl_call *call, enum vl_error e, const char *arg, const char *fmt, ...)
{
        va_list ap;

        call->failed = true;
        call->error = e;
        snprintf(call->error_arg, sizeof(call->error_arg), "%s", arg ? arg : "");
        va_start(ap, fmt);
        vsnprintf(call->message, sizeof(call->message), fmt, ap);
        va_end(ap);
        return (unsigned)e < _VL_ERR_MAX ? -vl_errors[e].errnum : -EIO;
}

void vl_call_fail(struct vl_call *call, int r)
{
        if (!call->failed) {
                if (r == -ENOMEM)
                        vl_error(call, VL_ERR_OUT_OF_MEMORY, NULL,
                                 "skbtraced is out of memory; nothing was done, try again later");
                else
                        vl_error(call, VL_ERR_INTERNAL, NULL, "%s failed: %s", call->method,
                                 strerror(-r));
        }
        if (call->oneway)
                return;
        vl_send_error(call->client, call->error, call->error_arg[0] ? call->error_arg : NULL, "%s",
                      call->message);
}

int vl_regex_new(struct vl_call *call, const char *pattern, struct skbt_regex **ret)
{
        char err[512];
        int r;

        r = skbt_regex_new(pattern, ret, err, sizeof(err));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "regex", "%s", err);
        skbt_regex_set_time_budget(*ret, SKBT_REGEX_TIME_BUDGET_USEC);
        return 0;
}

int vl_regex_match(struct vl_call *call, struct skbt_regex *re, const char *name)
{
        char err[512];
        int r = skbt_regex_match(re, name);

        if (r >= 0)
                return r;
        skbt_regex_limit_message(re, r, name, err, sizeof(err));
        return vl_error(call, VL_ERR_INVALID_PARAMETER, "regex", "%s", err);
}

void client_fail(struct skbt_client *c, enum vl_error e, const char *message)
{
        vl_send_error(c, e, NULL, "%s", message);
        client_start_draining(c);
}
