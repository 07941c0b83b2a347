/* SPDX-License-Identifier: GPL-2.0-only */
/* trace.h - the parts of io.skbtraced.Trace: probe selection, the reply stream */
#pragma once

#include <stdint.h>

#include "trace_params.h"

struct skbt_client;
struct skbt_session;
struct skbt_session_output;
struct vl_call;

/* trace_probes.c: the probes the session hears (a byte per probe id in *ret_sel). */
int trace_select_probes(struct vl_call *call, const struct skbt_trace_request *req,
                        struct skbt_session *tmpl, uint8_t **ret_sel);

/* trace_stream.c: the session's output, as the Trace call's streamed replies to c. */
void trace_stream_output(struct skbt_client *c, struct skbt_session_output *ret);
