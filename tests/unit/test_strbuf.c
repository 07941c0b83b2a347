/* SPDX-License-Identifier: GPL-2.0-only */
/* test_strbuf.c - growable buffer and JSON string escaping */
#include <json-c/json.h>

#include "strbuf.h"
#include "testlib.h"

static void check_json(const char *in, size_t n, const char *expected)
{
        struct strbuf sb = STRBUF_INIT;

        strbuf_put_json_string(&sb, in, n);
        CHECK_STREQ(strbuf_cstr(&sb), expected);
        strbuf_done(&sb);
}

/* Whatever bytes go in, a JSON parser must accept what comes out. */
static void check_json_valid(const char *in, size_t n)
{
        struct strbuf sb = STRBUF_INIT;
        json_object *o;

        strbuf_put_json_string(&sb, in, n);
        o = json_tokener_parse(strbuf_cstr(&sb));
        CHECK(o != NULL);
        CHECK(o && json_object_is_type(o, json_type_string));
        json_object_put(o);
        strbuf_done(&sb);
}

/* json-c's output with raw string bytes: valid UTF-8 stays, every invalid byte is escaped. */
static void test_json_text(void)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"{\"a\":\"plain\"}", "{\"a\":\"plain\"}"},
            {"{\"a\":\"caf\xc3\xa9 \xe2\x82\xac\"}", "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac\"}"},
            {"{\"a\":\"\xff\"}", "{\"a\":\"\\u00ff\"}"},
            /* A truncated sequence, an overlong NUL, a surrogate (as json-c decodes \udc80). */
            {"\"\xe2\x82\"", "\"\\u00e2\\u0082\""},
            {"\"\xc0\x80\"", "\"\\u00c0\\u0080\""},
            {"\"\xed\xb2\x80\"", "\"\\u00ed\\u00b2\\u0080\""},
            {"\"\xf4\x90\x80\x80\"", "\"\\u00f4\\u0090\\u0080\\u0080\""},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct strbuf sb = STRBUF_INIT;

                strbuf_put_json_text(&sb, cases[i].in, strlen(cases[i].in));
                CHECK_STREQ(strbuf_cstr(&sb), cases[i].out);
                strbuf_done(&sb);
        }
}

int main(void)
{
        struct strbuf sb = STRBUF_INIT;
        char all[256];

        test_json_text();
        strbuf_put_u64(&sb, 0);
        strbuf_putc(&sb, ' ');
        strbuf_put_u64(&sb, 18446744073709551615ULL);
        strbuf_putc(&sb, ' ');
        strbuf_put_i64(&sb, -9223372036854775807LL - 1);
        strbuf_putc(&sb, ' ');
        strbuf_put_hex(&sb, 0);
        strbuf_putc(&sb, ' ');
        strbuf_put_hex(&sb, 0xffff888004a1c000ULL);
        strbuf_printf(&sb, " %s-%d", "x", 42);
        CHECK_STREQ(strbuf_cstr(&sb),
                    "0 18446744073709551615 -9223372036854775808 0x0 0xffff888004a1c000 x-42");
        strbuf_consume(&sb, 2);
        CHECK(sb.len > 0 && sb.data[0] == '1');
        strbuf_consume(&sb, 1000);
        CHECK_INTEQ(sb.len, 0);
        for (int i = 0; i < 10000; i++)
                strbuf_puts(&sb, "0123456789");
        CHECK_INTEQ(sb.len, 100000);
        CHECK(!strbuf_failed(&sb));
        strbuf_done(&sb);

        check_json("plain", 5, "\"plain\"");
        check_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
        check_json("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"");
        check_json("\x01\x1f", 2, "\"\\u0001\\u001f\"");
        check_json("nul\0x", 5, "\"nul\\u0000x\"");
        check_json("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");            /* valid UTF-8 kept */
        check_json("\xff", 1, "\"\\u00ff\"");                       /* invalid byte escaped */
        check_json("\xc3", 1, "\"\\u00c3\"");                       /* truncated sequence */
        check_json("\xc0\x80", 2, "\"\\u00c0\\u0080\"");            /* overlong NUL */
        check_json("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\""); /* surrogate */
        for (int i = 0; i < 256; i++)
                all[i] = (char)i;
        check_json_valid(all, sizeof(all));
        return TEST_DONE();
}
