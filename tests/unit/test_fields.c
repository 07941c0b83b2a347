/* SPDX-License-Identifier: GPL-2.0-only */
/* test_fields.c - custom fields: BTF resolution, the shared table, rendering */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "fields.h"
#include "testlib.h"

static int resolve(const struct btf *btf, const char *name, struct skbt_field_spec *fs, char *err)
{
        return skbt_field_resolve(btf, name, fs, err, 512);
}

/* Against this machine's kernel BTF, which every kernel we run on has. */
static void test_resolve(void)
{
        struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
        struct skbt_field_spec fs;
        char err[512];

        if (!btf) {
                printf("no readable /sys/kernel/btf/vmlinux: resolution not tested here\n");
                return;
        }
        CHECK_INTEQ(resolve(btf, "len", &fs, err), 0);
        CHECK(fs.f.n_hops == 1 && fs.f.size == 4 && fs.f.base == SKBT_FIELD_BASE_SKB);
        CHECK_INTEQ(resolve(btf, "mtu", &fs, err), 0);
        CHECK(fs.f.n_hops == 2 && fs.f.size == 4);
        CHECK_INTEQ(resolve(btf, "skb->dev->mtu", &fs, err), 0);
        CHECK(fs.f.n_hops == 2 && fs.f.size == 4);
        CHECK_INTEQ(resolve(btf, "gso_size", &fs, err), 0);
        CHECK(fs.f.base == SKBT_FIELD_BASE_SHINFO && fs.f.size == 2 && fs.f.n_hops == 1);
        CHECK_INTEQ(resolve(btf, "shinfo->gso_type", &fs, err), 0);
        CHECK(fs.f.base == SKBT_FIELD_BASE_SHINFO);
        CHECK_INTEQ(resolve(btf, "pkt_type", &fs, err), 0);
        CHECK(fs.f.bit_size == 3 && fs.f.size == 1);
        CHECK_INTEQ(resolve(btf, "protocol", &fs, err), 0);
        CHECK(fs.big_endian && fs.f.size == 2);
        CHECK_INTEQ(resolve(btf, "sk", &fs, err), 0);
        CHECK(fs.is_ptr && fs.f.size == 8);
        /* A member by its name alone; "." through an embedded struct; three pointers. */
        CHECK_INTEQ(resolve(btf, "truesize", &fs, err), 0);
        CHECK_INTEQ(resolve(btf, "skb->dev->nd_net.net", &fs, err), 0);
        CHECK(fs.is_ptr && fs.f.n_hops == 2);
        CHECK_INTEQ(resolve(btf, "skb->sk->sk_socket->file", &fs, err), 0);
        CHECK(fs.f.n_hops == 3);

        CHECK_INTEQ(resolve(btf, "gso_sze", &fs, err), -EINVAL);
        CHECK(strstr(err, "unknown field 'gso_sze'") && strstr(err, "gso_size"));
        CHECK_INTEQ(resolve(btf, "skb->dev->mt", &fs, err), -EINVAL);
        CHECK(strstr(err, "no member 'mt'") && strstr(err, "mtu"));
        CHECK_INTEQ(resolve(btf, "skb->cb", &fs, err), -EINVAL);
        CHECK(strstr(err, "not a number or pointer") != NULL);
        CHECK_INTEQ(resolve(btf, "skb->len->x", &fs, err), -EINVAL);
        CHECK(strstr(err, "not a pointer") != NULL);
        CHECK_INTEQ(resolve(btf, "foo->bar", &fs, err), -EINVAL);
        CHECK(strstr(err, "starts with skb-> or shinfo->") != NULL);
        CHECK_INTEQ(resolve(btf, "len;rm", &fs, err), -EINVAL);
        CHECK(strstr(err, "invalid field name") != NULL);
        btf__free(btf);
}

static struct skbt_session_fields one(uint32_t off)
{
        struct skbt_session_fields sf = {.n = 1};

        snprintf(sf.f[0].name, sizeof(sf.f[0].name), "f%u", off);
        sf.f[0].f = (struct skbt_field){.off = {off}, .n_hops = 1, .size = 4};
        return sf;
}

static void test_registry(void)
{
        struct skbt_field_registry r = {0};
        struct skbt_field_table t = {0};
        struct skbt_session_fields a = one(8), b = one(8), c[SKBT_FIELDS_MAX], extra = one(999);

        /* Equal chains share an entry. */
        CHECK_INTEQ(skbt_fields_acquire(&r, &t, &a), 0);
        CHECK_INTEQ(skbt_fields_acquire(&r, &t, &b), 0);
        CHECK(a.f[0].slot == b.f[0].slot && t.n == 1 && r.refs[a.f[0].slot] == 2);
        for (int i = 1; i < SKBT_FIELDS_MAX; i++) {
                c[i] = one(100 + i);
                CHECK_INTEQ(skbt_fields_acquire(&r, &t, &c[i]), 0);
        }
        CHECK(t.n == SKBT_FIELDS_MAX);
        /* Full: refused, and nothing held. */
        CHECK_INTEQ(skbt_fields_acquire(&r, &t, &extra), -ENOSPC);
        skbt_fields_release(&r, &t, &a);
        CHECK_INTEQ(skbt_fields_acquire(&r, &t, &extra), -ENOSPC);
        skbt_fields_release(&r, &t, &b);
        CHECK_INTEQ(skbt_fields_acquire(&r, &t, &extra), 0);
        CHECK(t.f[extra.f[0].slot].off[0] == 999);
        for (int i = 1; i < SKBT_FIELDS_MAX; i++)
                skbt_fields_release(&r, &t, &c[i]);
        CHECK(t.n == (uint32_t)extra.f[0].slot + 1);
        skbt_fields_release(&r, &t, &extra);
        CHECK(t.n == 0);
}

static void test_format(void)
{
        struct skbt_session_fields sf = {.n = 3};
        uint64_t vals[SKBT_FIELDS_MAX] = {0};
        struct strbuf sb = STRBUF_INIT;

        snprintf(sf.f[0].name, sizeof(sf.f[0].name), "len");
        sf.f[0].f = (struct skbt_field){.n_hops = 1, .size = 4};
        sf.f[0].slot = 3;
        snprintf(sf.f[1].name, sizeof(sf.f[1].name), "protocol");
        sf.f[1].f = (struct skbt_field){.n_hops = 1, .size = 2};
        sf.f[1].big_endian = true;
        sf.f[1].slot = 0;
        snprintf(sf.f[2].name, sizeof(sf.f[2].name), "skb->sk");
        sf.f[2].f = (struct skbt_field){.n_hops = 1, .size = 8};
        sf.f[2].is_ptr = true;
        sf.f[2].slot = 5;
        vals[3] = 1514;
        vals[0] = 0x0008;
        vals[5] = 0xffff888100d96400ULL;

        strbuf_puts(&sb, "line\n");
        skbt_fields_format(&sb, SKBT_OUTPUT_TEXT, &sf, vals);
        strbuf_putc(&sb, '\0');
        CHECK_STREQ(sb.data, "line len=1514 protocol=2048 skb->sk=0xffff888100d96400\n");
        strbuf_reset(&sb);
        strbuf_puts(&sb, "{\"a\":1}\n");
        skbt_fields_format(&sb, SKBT_OUTPUT_JSON, &sf, vals);
        strbuf_putc(&sb, '\0');
        CHECK_STREQ(sb.data, "{\"a\":1,\"fields\":{\"len\":1514,\"protocol\":2048,"
                             "\"skb->sk\":\"0xffff888100d96400\"}}\n");
        strbuf_done(&sb);
}

int main(void)
{
        test_resolve();
        test_registry();
        test_format();
        return TEST_DONE();
}
