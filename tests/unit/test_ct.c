/* SPDX-License-Identifier: GPL-2.0-only */
/* test_ct.c - conntrack (--ct): struct nf_conn's layout from BTF, and rendering an entry */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <bpf/btf.h>
#include <json-c/json.h>

#include "ct.h"
#include "data/fake_ct.h"
#include "testlib.h"

static struct skbt_ct_layout layout;

static void test_layout(const char *obj, const char *no_ct_obj)
{
        struct btf *btf = btf__parse(obj, NULL), *other = btf__parse(no_ct_obj, NULL);
        struct skbt_ct_layout l;
        char err[256] = "";

        CHECK(btf && other);
        if (!btf || !other)
                return;
        CHECK_INTEQ(skbt_ct_layout_from_btf(btf, &layout, err, sizeof(err)), 0);
        CHECK_INTEQ(layout.status, offsetof(struct nf_conn, status));
        CHECK_INTEQ(layout.status_size, sizeof(unsigned long));
        CHECK_INTEQ(layout.tuple[0], offsetof(struct nf_conn, tuplehash[0].tuple));
        CHECK_INTEQ(layout.tuple[1], offsetof(struct nf_conn, tuplehash[1].tuple));
        CHECK_INTEQ(layout.src_u3, offsetof(struct nf_conntrack_tuple, src.u3));
        CHECK_INTEQ(layout.src_u, offsetof(struct nf_conntrack_tuple, src.u));
        CHECK_INTEQ(layout.src_l3num, offsetof(struct nf_conntrack_tuple, src.l3num));
        CHECK_INTEQ(layout.dst_u3, offsetof(struct nf_conntrack_tuple, dst.u3));
        CHECK_INTEQ(layout.dst_u, offsetof(struct nf_conntrack_tuple, dst.u));
        CHECK_INTEQ(layout.dst_protonum, offsetof(struct nf_conntrack_tuple, dst.protonum));
        CHECK(layout.has_mark && layout.has_zone && layout.has_tcp_state);
        CHECK_INTEQ(layout.mark, offsetof(struct nf_conn, mark));
        CHECK_INTEQ(layout.zone, offsetof(struct nf_conn, zone.id));
        CHECK_INTEQ(layout.tcp_state, offsetof(struct nf_conn, proto.tcp.state));
        /* Copied up to the end of the last member read. */
        CHECK_INTEQ(layout.len, offsetof(struct nf_conn, proto.tcp.state) + 1);
        CHECK(layout.len <= SKBT_CT_RAW_MAX);
        /* No struct nf_conn: not found, and the caller looks further (modules). */
        CHECK_INTEQ(skbt_ct_layout_from_btf(other, &l, err, sizeof(err)), -ENOENT);
        btf__free(btf);
        btf__free(other);
}

static void set_tuple(struct nf_conntrack_tuple *t, const char *s, const char *d, uint16_t sp,
                      uint16_t dp, uint8_t proto)
{
        memset(t, 0, sizeof(*t));
        inet_pton(AF_INET, s, &t->src.u3.ip);
        inet_pton(AF_INET, d, &t->dst.u3.ip);
        t->src.l3num = 2;
        t->src.u.all = htons(sp);
        t->dst.u.all = htons(dp);
        t->dst.protonum = proto;
}

static void record(struct skbt_ct_rec *r, const struct nf_conn *c, uint8_t ctinfo)
{
        memset(r, 0, sizeof(*r));
        r->flags = SKBT_CT_ENTRY;
        r->ctinfo = ctinfo;
        r->len = (uint16_t)layout.len;
        memcpy(r->raw, c, layout.len);
}

static const char *render(struct strbuf *sb, enum skbt_output fmt, const struct skbt_ct_rec *r)
{
        strbuf_reset(sb);
        strbuf_puts(sb, fmt == SKBT_OUTPUT_JSON ? "{\"x\":1}\n" : "LINE\n");
        skbt_ct_format(sb, fmt, &layout, r);
        return strbuf_cstr(sb);
}

static void test_render(void)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct skbt_ct_rec r;
        struct nf_conn c = {0};
        json_object *o, *ct, *v;

        /* A DNAT'ed TCP connection, established. */
        set_tuple(&c.tuplehash[0].tuple, "10.0.0.1", "10.0.0.100", 40000, 80, 6);
        set_tuple(&c.tuplehash[1].tuple, "10.0.0.2", "10.0.0.1", 80, 40000, 6);
        c.status = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8);
        c.mark = 0x2a;
        c.zone.id = 7;
        c.proto.tcp.state = 3;
        record(&r, &c, 3);
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_TEXT, &r),
                    "LINE ct=established-reply ct_status=SEEN_REPLY,ASSURED,CONFIRMED,DST_NAT,"
                    "DST_NAT_DONE ct_zone=7 ct_mark=42 ct_proto=tcp ct_tcp=ESTABLISHED "
                    "ct_orig=10.0.0.1:40000->10.0.0.100:80 ct_reply=10.0.0.2:80->10.0.0.1:40000\n");
        o = json_tokener_parse(render(&sb, SKBT_OUTPUT_JSON, &r));
        CHECK(o && json_object_object_get_ex(o, "conntrack", &ct));
        CHECK(json_object_object_get_ex(ct, "status", &v) && json_object_array_length(v) == 5);
        CHECK(json_object_object_get_ex(ct, "tcp_state", &v) &&
              strcmp(json_object_get_string(v), "ESTABLISHED") == 0);
        CHECK(json_object_object_get_ex(ct, "orig", &v));
        CHECK(json_object_object_get_ex(v, "daddr", &v) &&
              strcmp(json_object_get_string(v), "10.0.0.100") == 0);
        json_object_put(o);

        /* IPv6 and ICMPv6: brackets only with ports; id, type and code in JSON. */
        memset(&c, 0, sizeof(c));
        for (int i = 0; i < 2; i++) {
                struct nf_conntrack_tuple *t = &c.tuplehash[i].tuple;

                inet_pton(AF_INET6, i ? "fd00::2" : "fd00::1", t->src.u3.ip6);
                inet_pton(AF_INET6, i ? "fd00::1" : "fd00::2", t->dst.u3.ip6);
                t->src.l3num = 10;
                t->src.u.icmp.id = htons(5);
                t->dst.u.icmp.type = i ? 129 : 128;
                t->dst.protonum = 58;
        }
        record(&r, &c, 2);
        CHECK(strstr(render(&sb, SKBT_OUTPUT_TEXT, &r),
                     " ct=new ct_status=none ct_zone=0 ct_mark=0 ct_proto=icmp6 "
                     "ct_orig=fd00::1->fd00::2 ct_reply=fd00::2->fd00::1\n"));
        CHECK(strstr(render(&sb, SKBT_OUTPUT_JSON, &r),
                     "\"orig\":{\"saddr\":\"fd00::1\",\"daddr\":\"fd00::2\",\"id\":5,"
                     "\"type\":128,\"code\":0}"));

        /* No entry, untracked, unreadable. */
        memset(&r, 0, sizeof(r));
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_TEXT, &r), "LINE ct=none\n");
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_JSON, &r), "{\"x\":1,\"conntrack\":null}\n");
        r.flags = SKBT_CT_UNTRACKED;
        r.ctinfo = 7;
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_TEXT, &r), "LINE ct=untracked\n");
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_JSON, &r),
                    "{\"x\":1,\"conntrack\":{\"state\":\"untracked\"}}\n");
        r.flags = SKBT_CT_ENTRY | SKBT_CT_FAULT;
        r.ctinfo = 0;
        CHECK_STREQ(render(&sb, SKBT_OUTPUT_TEXT, &r), "LINE ct=established ct_error=unreadable\n");
        /* A short copy never reads past what the record holds. */
        record(&r, &c, 0);
        r.len = 4;
        CHECK(strstr(render(&sb, SKBT_OUTPUT_TEXT, &r), " ct_orig=0.0.0.0->0.0.0.0 "));
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: test_ct FAKE_CT_OBJ OTHER_OBJ\n");
                return 1;
        }
        test_layout(argv[1], argv[2]);
        test_render();
        return TEST_DONE();
}
