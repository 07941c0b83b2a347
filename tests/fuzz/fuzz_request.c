/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_request.c - libFuzzer: request framing, JSON parsing and Trace parameter decoding */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "msgframe.h"
#include "strbuf.h"
#include "trace_params.h"

/* One message as the daemon reads it: JSON (UTF-8 checked), then the Trace table. */
static void one(const char *msg, size_t len)
{
        struct skbt_trace_request req = {0}; /* as the varlink layer hands it out (calloc) */
        struct json_tokener *tok = json_tokener_new();
        json_object *o, *params;
        char bad[64], err[512];
        struct strbuf sb = STRBUF_INIT;

        if (!tok)
                return;
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, msg, (int)len);
        json_tokener_free(tok);
        if (!o)
                return;
        if (json_object_object_get_ex(o, "parameters", &params) &&
            json_object_is_type(params, json_type_object))
                (void)skbt_trace_request_from_json(params, &req, bad, sizeof(bad), err,
                                                   sizeof(err));
        /* Replies are made from such objects: they must come out as valid text. */
        strbuf_put_json_text(&sb, json_object_to_json_string(o),
                             strlen(json_object_to_json_string(o)));
        strbuf_done(&sb);
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct msgframe f;
        char *msg;
        size_t len;

        msgframe_init(&f, SKBT_REQUEST_MAX);
        strbuf_put(&f.buf, (const char *)data, size);
        while (msgframe_next(&f, &msg, &len) > 0)
                one(msg, len);
        msgframe_done(&f);
        return 0;
}
