/* SPDX-License-Identifier: GPL-2.0-only */
/* varlink.h - the control socket's varlink layer: method table, calls, replies, errors */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "macro.h"
#include "params.h"
#include "trace_params.h"

struct skbt_client;

/*
 * Every error a reply can carry, and (varlink.c, vl_errors[]) its name and
 * the member naming what it is about.  The org.varlink.service ones are the
 * standard errors generic clients know; io.skbtraced ones are declared in
 * varlink/io.skbtraced.varlink and used only where no standard one fits.
 * Every error also carries "message": what to fix, for people.
 */
enum vl_error {
        VL_ERR_INVALID_PARAMETER,   /* parameter: the member at fault */
        VL_ERR_METHOD_NOT_FOUND,    /* method */
        VL_ERR_INTERFACE_NOT_FOUND, /* interface */
        VL_ERR_PERMISSION_DENIED,
        VL_ERR_EXPECTED_MORE,
        VL_ERR_NO_MATCHING_PROBES, /* parameter: what selected no probe */
        VL_ERR_LIMIT_REACHED,      /* limit: the setting */
        VL_ERR_NO_SUCH_SESSION,
        VL_ERR_SESSION_ACTIVE,
        VL_ERR_NOT_SUPPORTED, /* parameter: what this daemon cannot do */
        VL_ERR_OUT_OF_MEMORY,
        VL_ERR_INTERNAL,
        VL_ERR_MALFORMED_REQUEST,
        VL_ERR_REQUEST_TOO_LARGE,
        _VL_ERR_MAX,
};

/* One method call, from its dispatch until its handler returns. */
struct vl_call {
        struct skbt_client *client;
        const char *method; /* as called */
        bool more;          /* the caller accepts several replies */
        bool oneway;        /* the caller wants no reply at all */
        /* The error the handler decided on (vl_error()), sent when it returns < 0. */
        bool failed;
        enum vl_error error;
        char error_arg[64];
        char message[512];
};

enum {
        VL_NEEDS_MORE = 1 << 0, /* replies stream: a call without "more" is ExpectedMore */
};

/* A row of the method table (varlink.c, vl_methods[]); the model is dbus-broker's DriverMethod. */
struct vl_method {
        const char *name;
        /* args: the parameters decoded through ->params (NULL when it has none) */
        int (*handler)(struct vl_call *call, void *args);
        unsigned flags;
        const struct skbt_param_table *params;
        size_t args_size;
        /* The rules that combine parameters, after each was decoded (NULL: none):
         * 0, or -EINVAL with the message in err and the parameter at fault in *bad. */
        int (*check)(void *args, const char **bad, char *err, size_t errlen);
};

extern const struct vl_method vl_methods[];
extern const size_t vl_n_methods;

/* The interfaces we serve, with their descriptions (the .varlink files). */
struct vl_interface {
        const char *name;
        const char *description;
};
extern const struct vl_interface vl_interfaces[];
extern const size_t vl_n_interfaces;

/* Reply to a call (nothing for a oneway call); continues: more replies follow. */
int vl_reply(struct vl_call *call, json_object *params, bool continues);
/*
 * Decide the call's error reply: e, its member (arg, e.g. the parameter; NULL
 * for none) and the message.  Returns the negative errno that goes with e, for
 * "return vl_error(...)" in handlers.
 */
int vl_error(struct vl_call *call, enum vl_error e, const char *arg, const char *fmt, ...)
    _printf_(4, 5);

struct skbt_regex;
/*
 * A client's regex, compiled with a request's time budget: client patterns
 * never reach glibc's regex (one short pattern can crash or stall it);
 * skbt_regex bounds compile and match, and the budget a request's whole walk
 * over the probe names.  InvalidParameter (regex) when it is refused.
 */
int vl_regex_new(struct vl_call *call, const char *pattern, struct skbt_regex **ret);
/* Match a probe name: 1, 0, or (InvalidParameter decided) a negative errno. */
int vl_regex_match(struct vl_call *call, struct skbt_regex *re, const char *name);

/*
 * A handler returned r < 0: send the error it decided on (vl_error()), or the one
 * for r (-ENOMEM: OutOfMemory; anything else: InternalError).  Nothing for a oneway call.
 */
void vl_call_fail(struct vl_call *call, int r);

/* The name of an error ("org.varlink.service.InvalidParameter"), and its member besides
 * "message" that names what it is about ("parameter"; NULL for none). */
const char *vl_error_name(enum vl_error e);
const char *vl_error_key(enum vl_error e);

/* An error message: {"error": NAME, "parameters": {"message": text, KEY: arg}}; NULL: no memory. */
json_object *vl_error_message(enum vl_error e, const char *arg, const char *text);
/* A message on a connection outside any call (a refusal, a protocol violation). */
void vl_send_error(struct skbt_client *c, enum vl_error e, const char *arg, const char *fmt, ...)
    _printf_(4, 5);
/* Queue a reply message (params, with "continues" when more follow) on a connection. */
void vl_send_reply(struct skbt_client *c, json_object *params, bool continues);

/* Handle the requests read so far, as long as the client keeps up with the replies. */
void client_process(struct skbt_client *c);
/* Protocol violation: one error, then close only this connection. */
void client_fail(struct skbt_client *c, enum vl_error e, const char *message);

/* connection.c */
/* Replies not yet read reached the bound: hold back further requests. */
bool client_backlogged(const struct skbt_client *c);
/* From now on only let the peer read what is queued, then close. */
void client_start_draining(struct skbt_client *c);
void client_queue(struct skbt_client *c, const char *data, size_t len);
/* Write head then body (both copied only as far as the socket does not take them now). */
void client_send2(struct skbt_client *c, const char *head, size_t hlen, const char *body,
                  size_t blen);
/* Write what is queued now, as far as the socket takes it, without freeing the client. */
void client_write_now(struct skbt_client *c);
/* Wake the connection's I/O handler to write (or read again). */
void client_want_write(struct skbt_client *c);
/* A complete request is waiting (read, not yet handled). */
bool client_has_request(const struct skbt_client *c);

/* One file per method. */
int method_trace(struct vl_call *call, void *args);
int method_list(struct vl_call *call, void *args);
int method_status(struct vl_call *call, void *args);
int method_sessions(struct vl_call *call, void *args);
int method_stop(struct vl_call *call, void *args);
int method_get_info(struct vl_call *call, void *args);
int method_get_interface_description(struct vl_call *call, void *args);

/* Their parameter tables, besides Trace's (common/trace_params.c). */
extern const struct skbt_param_table vl_list_params;
extern const struct skbt_param_table vl_stop_params;
extern const struct skbt_param_table vl_no_params;
extern const struct skbt_param_table vl_get_interface_description_params;
struct vl_list_args {
        uint64_t given;
        char regex[SKBT_TRACE_REGEX_MAX + 1];
        bool groups;
};
struct vl_stop_args {
        uint64_t given;
        uint64_t session;
};
struct vl_interface_args {
        uint64_t given;
        char interface[256];
};
