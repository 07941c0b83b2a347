/* SPDX-License-Identifier: GPL-2.0-only */
/* test_varlink.c - the varlink layer without a daemon: dispatch, replies, errors, oneway */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "json_util.h"
#include "skbtraced.h"
#include "testlib.h"
#include "varlink.h"

/*
 * A client whose requests are put straight into its input frame and whose
 * replies are read from its output queue: what client_process() does with
 * them is the varlink layer's own (the methods used here need nothing of the
 * daemon but its empty session table).
 */
static struct skbtraced fake_daemon;
static struct skbt_client client;

static void reset(void)
{
        strbuf_done(&client.out);
        msgframe_done(&client.in);
        memset(&client, 0, sizeof(client));
        client.d = &fake_daemon;
        client.fd = -1;
        client.cred.pid = 1;
        msgframe_init(&client.in, SKBT_REQUEST_MAX);
}

/* Send msg (NUL added); return the replies, as a JSON array. */
static json_object *exchange(const char *msg)
{
        json_object *replies = json_object_new_array();
        size_t off = 0;

        reset();
        strbuf_put(&client.in.buf, msg, strlen(msg) + 1);
        client_process(&client);
        while (off < client.out.len) {
                size_t n = strlen(client.out.data + off);

                json_object_array_add(replies, json_tokener_parse(client.out.data + off));
                off += n + 1;
        }
        return replies;
}

static const char *str(json_object *o, const char *path1, const char *path2)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, path1, &v))
                return NULL;
        if (path2 && !json_object_object_get_ex(v, path2, &v))
                return NULL;
        return json_object_get_string(v);
}

/* One reply, an error named name with member key = value (key NULL: none checked). */
static void check_error(int line, const char *msg, const char *name, const char *key,
                        const char *value)
{
        _cleanup_json_ json_object *r = exchange(msg);
        json_object *e = json_object_array_get_idx(r, 0);

        if (json_object_array_length(r) != 1 || !str(e, "error", NULL) ||
            strcmp(str(e, "error", NULL), name) != 0 ||
            (key && (!str(e, "parameters", key) || strcmp(str(e, "parameters", key), value))) ||
            !str(e, "parameters", "message") || !*str(e, "parameters", "message")) {
                fprintf(stderr, "%s:%d: %s\n  got %s\n  want %s %s=%s with a message\n", __FILE__,
                        line, msg, json_object_to_json_string(r), name, key ? key : "-",
                        value ? value : "-");
                testlib_failures++;
        }
}
#define ERR(msg, name, key, value) check_error(__LINE__, msg, name, key, value)

static void test_calls(void)
{
        _cleanup_json_ json_object *r = NULL;

        /* parameters absent, null or {}: all the same call */
        r = exchange("{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":null}");
        CHECK_INTEQ(json_object_array_length(r), 1);
        CHECK_STREQ(str(json_object_array_get_idx(r, 0), "parameters", "product"), "skbtraced");
        json_object_put(r);
        r = exchange("{\"method\":\"io.skbtraced.Sessions\"}");
        CHECK(str(json_object_array_get_idx(r, 0), "parameters", "sessions") != NULL);
        json_object_put(r);
        /* The description is the interface file's text. */
        r = exchange("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                     "\"parameters\":{\"interface\":\"io.skbtraced\"}}");
        CHECK(str(json_object_array_get_idx(r, 0), "parameters", "description") &&
              strstr(str(json_object_array_get_idx(r, 0), "parameters", "description"),
                     "interface io.skbtraced\n"));
        json_object_put(r);
        /* Pipelined calls: one reply each, in order. */
        r = exchange("{\"method\":\"org.varlink.service.GetInfo\"}\0"
                     "{\"method\":\"io.skbtraced.Nope\"}");
        CHECK_INTEQ(json_object_array_length(r), 1); /* exchange() sends up to the first NUL */
}

static void test_oneway(void)
{
        _cleanup_json_ json_object *a = NULL, *b = NULL, *c = NULL;

        /* No reply at all, not even an error. */
        a = exchange("{\"method\":\"org.varlink.service.GetInfo\",\"oneway\":true}");
        CHECK_INTEQ(json_object_array_length(a), 0);
        b = exchange("{\"method\":\"io.skbtraced.Nope\",\"oneway\":true}");
        CHECK_INTEQ(json_object_array_length(b), 0);
        c = exchange("{\"method\":\"io.skbtraced.Stop\",\"oneway\":true,"
                     "\"parameters\":{\"session\":7}}");
        CHECK_INTEQ(json_object_array_length(c), 0);
        json_object_put(c);
        /* more with oneway cannot be served: refused, and as oneway asks, silently. */
        c = exchange("{\"method\":\"io.skbtraced.Trace\",\"more\":true,\"oneway\":true}");
        CHECK_INTEQ(json_object_array_length(c), 0);
}

static void test_errors(void)
{
        ERR("{\"method\":\"io.skbtraced.Nope\"}", "org.varlink.service.MethodNotFound", "method",
            "io.skbtraced.Nope");
        ERR("{\"method\":\"com.example.Foo\"}", "org.varlink.service.InterfaceNotFound",
            "interface", "com.example");
        ERR("{\"method\":\"NoDots\"}", "org.varlink.service.InterfaceNotFound", NULL, NULL);
        ERR("{\"method\":\"org.varlink.service.GetInterfaceDescription\","
            "\"parameters\":{\"interface\":\"com.example\"}}",
            "org.varlink.service.InterfaceNotFound", "interface", "com.example");
        ERR("{\"method\":\"io.skbtraced.Trace\"}", "org.varlink.service.ExpectedMore", NULL, NULL);
        ERR("{\"method\":\"io.skbtraced.Status\",\"parameters\":{\"x\":1}}",
            "org.varlink.service.InvalidParameter", "parameter", "x");
        ERR("{\"method\":\"io.skbtraced.Status\",\"parameters\":[1]}",
            "org.varlink.service.InvalidParameter", "parameter", "parameters");
        ERR("{\"method\":\"io.skbtraced.Stop\"}", "org.varlink.service.InvalidParameter",
            "parameter", "session");
        ERR("{\"method\":\"io.skbtraced.Stop\",\"parameters\":{\"session\":0}}",
            "org.varlink.service.InvalidParameter", "parameter", "session");
        ERR("{\"method\":\"io.skbtraced.Stop\",\"parameters\":{\"session\":9223372036854775807}}",
            "io.skbtraced.NoSuchSession", "parameter", "session");
        ERR("{\"method\":\"io.skbtraced.Trace\",\"more\":true,\"parameters\":{\"count\":0}}",
            "org.varlink.service.InvalidParameter", "parameter", "count");
        /* The rules that combine parameters run in the daemon too. */
        ERR("{\"method\":\"io.skbtraced.Trace\",\"more\":true,"
            "\"parameters\":{\"filter\":{\"sport\":1,\"proto\":\"icmp\"}}}",
            "org.varlink.service.InvalidParameter", "parameter", "filter");
        ERR("{\"method\":\"io.skbtraced.Trace\",\"more\":true,"
            "\"parameters\":{\"filter\":{\"mark_mask\":1}}}",
            "org.varlink.service.InvalidParameter", "parameter", "filter.mark_mask");
        ERR("{\"method\":\"io.skbtraced.Trace\",\"more\":true,"
            "\"parameters\":{\"egress\":\"ip_output\"}}",
            "org.varlink.service.InvalidParameter", "parameter", "egress");
        ERR("{\"method\":\"io.skbtraced.Trace\",\"more\":true,"
            "\"parameters\":{\"snapshot\":true}}",
            "org.varlink.service.InvalidParameter", "parameter", "snapshot");
        ERR("{\"method\":\"io.skbtraced.List\",\"parameters\":{\"regex\":\"a\",\"groups\":true}}",
            "org.varlink.service.InvalidParameter", "parameter", "regex");
        ERR("{\"method\":42}", "io.skbtraced.MalformedRequest", NULL, NULL);
        ERR("{\"method\":\"a.b\"", "io.skbtraced.MalformedRequest", NULL, NULL);
}

/* What a handler's errno becomes, in the one place that decides it. */
static void check_fail(int r, const char *name)
{
        struct vl_call call = {.client = &client, .method = "io.skbtraced.Trace"};
        _cleanup_json_ json_object *e = NULL;

        reset();
        vl_call_fail(&call, r);
        e = json_tokener_parse(client.out.data ? client.out.data : "null");
        CHECK_STREQ(str(e, "error", NULL), name);
        CHECK(str(e, "parameters", "message") != NULL);
}

static void test_errno_mapping(void)
{
        struct vl_call call = {.client = &client, .method = "m", .oneway = true};

        /* Out of memory is said as such (it used to reach clients as NotSupported). */
        check_fail(-ENOMEM, "io.skbtraced.OutOfMemory");
        check_fail(-EIO, "io.skbtraced.InternalError");
        check_fail(-EOPNOTSUPP, "io.skbtraced.InternalError");
        /* A decided error wins over the errno. */
        reset();
        {
                struct vl_call c2 = {.client = &client, .method = "m"};
                _cleanup_json_ json_object *e = NULL;

                vl_call_fail(&c2, vl_error(&c2, VL_ERR_LIMIT_REACHED, "max_sessions", "full"));
                e = json_tokener_parse(client.out.data);
                CHECK_STREQ(str(e, "error", NULL), "io.skbtraced.LimitReached");
                CHECK_STREQ(str(e, "parameters", "limit"), "max_sessions");
                CHECK_STREQ(str(e, "parameters", "message"), "full");
        }
        /* oneway: nothing, whatever went wrong */
        reset();
        vl_call_fail(&call, -ENOMEM);
        CHECK_INTEQ(client.out.len, 0);
}

int main(void)
{
        test_calls();
        test_oneway();
        test_errors();
        test_errno_mapping();
        reset();
        strbuf_done(&client.out);
        msgframe_done(&client.in);
        return TEST_DONE();
}
