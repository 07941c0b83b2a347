/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_stream.c - a session's output as the streamed replies of its Trace call */
#include <errno.h>

#include <json-c/json.h>

#include "json_util.h"
#include "skbtraced.h"
#include "strbuf.h"
#include "trace.h"
#include "varlink.h"

/*
 * A batch: {"continues": true, "parameters": {"output": LINES, "lost_*": N}}
 * (docs/protocol.md).  Built by hand: the lines are escaped straight into the
 * message, no json-c object per batch.
 */
static int stream_write(void *userdata, const char *data, size_t len,
                        const struct skbt_session_losses *lost)
{
        _cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
        struct skbt_client *c = userdata;

        if (c->raw_output) {
                /* The lines follow the message as they are: escaping them into a
                 * JSON string and the client parsing it back cost more than
                 * rendering them (docs/performance.md). */
                strbuf_puts(&msg, "{\"continues\":true,\"parameters\":{\"output_bytes\":");
                strbuf_put_u64(&msg, len);
        } else {
                strbuf_puts(&msg, "{\"continues\":true,\"parameters\":{\"output\":");
                strbuf_put_json_string(&msg, data, len);
        }
        strbuf_puts(&msg, ",\"lost_ringbuf\":");
        strbuf_put_u64(&msg, lost->ringbuf);
        strbuf_puts(&msg, ",\"lost_queue\":");
        strbuf_put_u64(&msg, lost->queue);
        strbuf_puts(&msg, ",\"lost_rate\":");
        strbuf_put_u64(&msg, lost->rate);
        strbuf_puts(&msg, ",\"lost_missed\":");
        strbuf_put_u64(&msg, lost->missed);
        strbuf_puts(&msg, "}}");
        strbuf_putc(&msg, '\0');
        if (strbuf_failed(&msg))
                return -ENOMEM;
        /* Raw lines follow the message from the session's buffer, not through msg. */
        client_send2(c, msg.data, msg.len, c->raw_output ? data : NULL, c->raw_output ? len : 0);
        return 0;
}

/* The last reply: the summary, without "continues". */
static void stream_ended(void *userdata, json_object *summary)
{
        _cleanup_json_ json_object *params = json_object_new_object();
        struct skbt_client *c = userdata;

        c->session = NULL;
        if (!params || json_object_object_add(params, "summary", json_object_get(summary)) < 0)
                vl_send_error(c, VL_ERR_OUT_OF_MEMORY, NULL,
                              "skbtraced is out of memory: the session ended, its summary is "
                              "lost");
        else
                vl_send_reply(c, params, false);
        /* Only schedule the write: writing here could free the client under a
         * caller that is still using it (e.g. its own read handler). */
        client_want_write(c);
}

/* A record between batches: {"continues": true, "parameters": PARAMS} ("progress"). */
static void stream_record(void *userdata, json_object *params)
{
        struct skbt_client *c = userdata;

        vl_send_reply(c, params, true);
        client_want_write(c);
}

static const struct skbt_session_output_ops stream_ops = {
    .write = stream_write,
    .record = stream_record,
    .ended = stream_ended,
};

void trace_stream_output(struct skbt_client *c, struct skbt_session_output *ret)
{
        *ret = (struct skbt_session_output){
            .ops = &stream_ops,
            .userdata = c,
            .backlog = &c->out.len,
        };
}
