// SPDX-License-Identifier: GPL-2.0-only
/* test_symdb.c - symbol db on a clang-built fake kernel, hand-built BTF and a kallsyms sample */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "kernel_btf.h"
#include "macro.h"
#include "symdb.h"
#include "testlib.h"

/* Usage: test_symdb FAKE_KERNEL_BPF_O [KALLSYMS_SAMPLE] */

static const struct skbt_sym *find_sym(const struct skbt_symdb *db, int kind, const char *name)
{
        for (size_t i = 0; i < db->n_syms; i++)
                if (db->syms[i].kind == kind && strcmp(db->syms[i].name, name) == 0)
                        return &db->syms[i];
        return NULL;
}

static size_t count_kind(const struct skbt_symdb *db, int kind)
{
        size_t n = 0;

        for (size_t i = 0; i < db->n_syms; i++)
                n += db->syms[i].kind == kind;
        return n;
}

#define CHECK_SYM(db, kind, name, arg, nargs, ret)                                                 \
        do {                                                                                       \
                const struct skbt_sym *_s = find_sym(db, kind, name);                              \
                CHECK(_s);                                                                         \
                if (!_s) {                                                                         \
                        fprintf(stderr, "  missing symbol %s\n", name);                            \
                        break;                                                                     \
                }                                                                                  \
                CHECK_INTEQ(_s->skb_arg, arg);                                                     \
                CHECK_INTEQ(_s->nr_args, nargs);                                                   \
                CHECK_INTEQ(_s->returns_value, ret);                                               \
        } while (0)

static void test_fake_kernel(const char *path)
{
        struct skbt_symdb db = {};
        struct btf *btf;
        char **reasons = NULL;
        uint32_t n_reasons = 0;

        btf = btf__parse_elf(path, NULL);
        CHECK(btf);
        if (!btf) {
                fprintf(stderr, "cannot parse BTF of %s: %m\n", path);
                return;
        }

        CHECK_INTEQ(skbt_symdb_scan_btf(&db, btf, NULL), 0);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "ip_rcv", 0, 4, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "dev_queue_at1", 1, 2, false);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "const_at2", 2, 3, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "typedef_at3", 3, 4, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "last_of_five", 4, 5, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "two_skbs", 1, 3, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "call_printk", 0, 1, true);
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "no_skb"));
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "skb_ptr_ptr"));
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "no_args"));
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "skb_printk")); /* variadic */
        CHECK_INTEQ(count_kind(&db, SKBT_SYM_FUNCTION), 7);

        CHECK_SYM(&db, SKBT_SYM_TRACEPOINT, "foo", 1, 2, false);
        CHECK_SYM(&db, SKBT_SYM_TRACEPOINT, "kfree_skb", 0, 4, false);
        CHECK_SYM(&db, SKBT_SYM_TRACEPOINT, "netif_receive_skb", 0, 1, false);
        CHECK(!find_sym(&db, SKBT_SYM_TRACEPOINT, "sched_switch"));
        CHECK(!find_sym(&db, SKBT_SYM_TRACEPOINT, "bad_ctx"));
        CHECK_INTEQ(count_kind(&db, SKBT_SYM_TRACEPOINT), 3);
        /* The first struct sock * argument, 1-based (0: none), before or after the skb. */
        CHECK_INTEQ(find_sym(&db, SKBT_SYM_FUNCTION, "last_of_five")->sk_arg1, 4);
        CHECK_INTEQ(find_sym(&db, SKBT_SYM_FUNCTION, "two_skbs")->sk_arg1, 1);
        CHECK_INTEQ(find_sym(&db, SKBT_SYM_FUNCTION, "ip_rcv")->sk_arg1, 0);
        CHECK_INTEQ(find_sym(&db, SKBT_SYM_TRACEPOINT, "kfree_skb")->sk_arg1, 4);
        CHECK_INTEQ(find_sym(&db, SKBT_SYM_TRACEPOINT, "foo")->sk_arg1, 0);

        for (size_t i = 0; i < db.n_syms; i++) {
                const struct btf_type *t = btf__type_by_id(btf, db.syms[i].btf_id);

                CHECK(db.syms[i].module == NULL);
                CHECK(db.syms[i].system == NULL);
                CHECK(t &&
                      (db.syms[i].kind == SKBT_SYM_FUNCTION ? btf_is_func(t) : btf_is_typedef(t)));
        }

        /* Sorted: functions by name, then tracepoints by name. */
        skbt_symdb_sort(&db);
        CHECK_INTEQ(db.n_syms, 10);
        if (db.n_syms == 10) {
                CHECK_STREQ(db.syms[0].name, "call_printk");
                CHECK_STREQ(db.syms[6].name, "typedef_at3");
                CHECK_STREQ(db.syms[7].name, "foo");
                CHECK_STREQ(db.syms[9].name, "netif_receive_skb");
        }
        skbt_symdb_done(&db);
        CHECK(db.syms == NULL && db.n_syms == 0);

        CHECK_INTEQ(skbt_drop_reasons_load(btf, &reasons, &n_reasons), 0);
        /* 0..QDISC_DROP (10); MAX is a count and SUBSYS_MASK is out of range. */
        CHECK_INTEQ(n_reasons, 11);
        if (n_reasons == 11) {
                CHECK_STREQ(reasons[0], "SKB_NOT_DROPPED_YET");
                CHECK_STREQ(reasons[1], "SKB_CONSUMED");
                CHECK_STREQ(reasons[2], "NOT_SPECIFIED");
                CHECK_STREQ(reasons[3], "NO_SOCKET");
                CHECK_STREQ(reasons[4], "PKT_TOO_SMALL");
                for (int i = 5; i < 10; i++)
                        CHECK(reasons[i] == NULL);
                CHECK_STREQ(reasons[10], "QDISC_DROP");
        }
        skbt_drop_reasons_free(reasons, n_reasons);
        btf__free(btf);
}

/*
 * What clang's BPF backend cannot define (more than 5 arguments, more than
 * 12, forward-declared skb, module split BTF, ENUM64) is built directly.
 */
struct handmade {
        struct btf *base, *mod;
        int int_id, skb_ptr, void_ptr;
};

static int add_func(struct btf *btf, const char *name, int ret, const int *params, int n)
{
        int proto = btf__add_func_proto(btf, ret);

        for (int i = 0; i < n; i++)
                btf__add_func_param(btf, params[i] ? "p" : "", params[i]);
        return btf__add_func(btf, name, BTF_FUNC_GLOBAL, proto);
}

static int add_tp(struct btf *btf, const char *name, int void_ptr, const int *params, int n)
{
        int proto = btf__add_func_proto(btf, 0);

        btf__add_func_param(btf, "__data", void_ptr);
        for (int i = 0; i < n; i++)
                btf__add_func_param(btf, "p", params[i]);
        return btf__add_typedef(btf, name, btf__add_ptr(btf, proto));
}

static void test_handmade_btf(void)
{
        struct skbt_symdb db = {};
        struct btf *base, *mod;
        int int_id, skb, skb_ptr, fwd_ptr, union_ptr, void_ptr, cskb_ptr;
        int args[14];
        char **reasons = NULL;
        uint32_t n_reasons = 0;
        const struct skbt_sym *s;

        base = btf__new_empty();
        CHECK(base);
        if (!base)
                return;
        int_id = btf__add_int(base, "int", 4, BTF_INT_SIGNED);
        skb = btf__add_struct(base, "sk_buff", 4);
        btf__add_field(base, "len", int_id, 0, 0);
        skb_ptr = btf__add_ptr(base, skb);
        cskb_ptr = btf__add_ptr(base, btf__add_typedef(base, "skb_t", btf__add_const(base, skb)));
        fwd_ptr = btf__add_ptr(base, btf__add_fwd(base, "sk_buff", BTF_FWD_STRUCT));
        union_ptr = btf__add_ptr(base, btf__add_union(base, "sk_buff", 4));
        void_ptr = btf__add_ptr(base, 0);
        CHECK(void_ptr > 0);

        for (int i = 0; i < 14; i++)
                args[i] = int_id;
        args[7] = skb_ptr;
        add_func(base, "skb_at_7", int_id, args, 8);
        args[7] = int_id;
        args[11] = cskb_ptr;
        add_func(base, "twelve_args", 0, args, 12);
        args[11] = int_id;
        args[0] = skb_ptr;
        add_func(base, "thirteen_args", int_id, args, 13);
        args[1] = 0; /* trailing unnamed void: variadic */
        add_func(base, "variadic", int_id, args, 2);
        add_func(base, "fwd_skb", int_id, &fwd_ptr, 1);
        add_func(base, "union_skb", int_id, &union_ptr, 1);
        args[0] = int_id;
        args[1] = skb_ptr;
        add_func(base, "dup", int_id, args, 2);
        add_func(base, "dup", int_id, &skb_ptr, 1);
        args[1] = int_id;
        args[11] = skb_ptr;
        add_tp(base, "btf_trace_twelve", void_ptr, args, 12);
        add_tp(base, "btf_trace_thirteen", void_ptr, args, 13);
        add_tp(base, "btf_trace_", void_ptr, &skb_ptr, 1); /* no name after the prefix */

        btf__add_enum64(base, "skb_drop_reason", 8, false);
        btf__add_enum64_value(base, "SKB_NOT_DROPPED_YET", 0);
        btf__add_enum64_value(base, "SKB_CONSUMED", 1);
        btf__add_enum64_value(base, "SKB_DROP_REASON_FOO", 3);
        btf__add_enum64_value(base, "SKB_DROP_REASON_ALIAS", 3);
        btf__add_enum64_value(base, "SKB_DROP_REASON_SUBSYS_X", 0x10001);
        btf__add_enum64_value(base, "SKB_DROP_REASON_HUGE", 1ull << 40);

        /* Module BTF on top of base: only its own types may be reported. */
        mod = btf__new_empty_split(base);
        CHECK(mod);
        if (!mod) {
                btf__free(base);
                return;
        }
        add_func(mod, "mod_fn", 0, (int[]){int_id, skb_ptr}, 2);
        add_tp(mod, "btf_trace_mod_tp", void_ptr, &skb_ptr, 1);

        CHECK_INTEQ(skbt_symdb_scan_btf(&db, base, NULL), 0);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "skb_at_7", 7, 8, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "twelve_args", 11, 12, false);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "fwd_skb", 0, 1, true);
        CHECK_SYM(&db, SKBT_SYM_FUNCTION, "dup", 1, 2, true); /* the first one */
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "thirteen_args"));
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "variadic"));
        CHECK(!find_sym(&db, SKBT_SYM_FUNCTION, "union_skb"));
        CHECK_SYM(&db, SKBT_SYM_TRACEPOINT, "twelve", 11, 12, false);
        CHECK(!find_sym(&db, SKBT_SYM_TRACEPOINT, "thirteen"));
        CHECK(!find_sym(&db, SKBT_SYM_TRACEPOINT, ""));
        CHECK_INTEQ(db.n_syms, 5);

        CHECK_INTEQ(skbt_symdb_scan_btf(&db, mod, "mymod"), 0);
        CHECK_INTEQ(db.n_syms, 7);
        s = find_sym(&db, SKBT_SYM_FUNCTION, "mod_fn");
        CHECK(s && s->module && strcmp(s->module, "mymod") == 0 && s->skb_arg == 1);
        s = find_sym(&db, SKBT_SYM_TRACEPOINT, "mod_tp");
        CHECK(s && s->module && strcmp(s->module, "mymod") == 0 && s->skb_arg == 0);
        CHECK(s && s->btf_id >= btf__type_cnt(base));

        /* A vmlinux "dup" and a module "dup" are different functions: both kept, vmlinux first. */
        add_func(mod, "dup", int_id, &skb_ptr, 1);
        CHECK_INTEQ(skbt_symdb_scan_btf(&db, mod, "mymod"), 0);
        skbt_symdb_sort(&db);
        CHECK_INTEQ(db.n_syms, 10); /* the second module scan added mod_fn, mod_tp again */
        if (db.n_syms == 10) {
                CHECK_STREQ(db.syms[0].name, "dup");
                CHECK(db.syms[0].module == NULL);
                CHECK_STREQ(db.syms[1].name, "dup");
                CHECK_STREQ(db.syms[1].module, "mymod");
                CHECK_INTEQ(db.syms[db.n_syms - 1].kind, SKBT_SYM_TRACEPOINT);
                CHECK_STREQ(db.syms[db.n_syms - 1].name, "twelve");
        }
        skbt_symdb_done(&db);

        CHECK_INTEQ(skbt_drop_reasons_load(base, &reasons, &n_reasons), 0);
        CHECK_INTEQ(n_reasons, 4);
        if (n_reasons == 4) {
                CHECK_STREQ(reasons[0], "SKB_NOT_DROPPED_YET");
                CHECK_STREQ(reasons[1], "SKB_CONSUMED");
                CHECK(reasons[2] == NULL);
                CHECK_STREQ(reasons[3], "FOO");
        }
        skbt_drop_reasons_free(reasons, n_reasons);
        /* The module has no enum of its own, but split BTF sees the base: use a fresh one. */
        btf__free(mod);
        btf__free(base);

        base = btf__new_empty();
        btf__add_int(base, "int", 4, BTF_INT_SIGNED);
        CHECK_INTEQ(skbt_drop_reasons_load(base, &reasons, &n_reasons), -ENOENT);
        btf__free(base);
}

/* skbt_btf_func_find(): in a scan of vmlinux then modules, the first BTF that has it wins. */
static void test_func_find(void)
{
        struct skbt_btf_func f = {};
        const struct btf_type *proto;
        struct btf *base = btf__new_empty(), *mod;
        int int_id;

        CHECK(base);
        if (!base)
                return;
        int_id = btf__add_int(base, "int", 4, BTF_INT_SIGNED);
        add_func(base, "in_vmlinux", int_id, (int[]){int_id, int_id}, 2);
        btf__add_typedef(base, "not_a_func", int_id);
        mod = btf__new_empty_split(base);
        CHECK(mod);
        if (!mod) {
                btf__free(base);
                return;
        }
        add_func(mod, "in_module", int_id, &int_id, 1);

        CHECK(!skbt_btf_func_find(base, NULL, "in_module", &f) && !f.found);
        CHECK(!skbt_btf_func_find(base, NULL, "not_a_func", &f) && !f.found);
        proto = skbt_btf_func_find(mod, "mymod", "in_module", &f);
        CHECK(proto && btf_is_func_proto(proto) && btf_vlen(proto) == 1);
        CHECK(f.found && f.btf_id >= btf__type_cnt(base));
        CHECK_STREQ(f.module, "mymod");
        /* Found once: another module's copy neither replaces it nor is returned. */
        CHECK(!skbt_btf_func_find(mod, "other", "in_module", &f));
        CHECK_STREQ(f.module, "mymod");

        f = (struct skbt_btf_func){};
        proto = skbt_btf_func_find(base, NULL, "in_vmlinux", &f);
        CHECK(proto && btf_vlen(proto) == 2 && f.found);
        CHECK_STREQ(f.module, "");
        CHECK(btf__type_by_id(base, f.btf_id) && btf_is_func(btf__type_by_id(base, f.btf_id)));
        btf__free(mod);
        btf__free(base);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path);
}

static void mkdir_p(const char *root, const char *rel)
{
        char path[4096], *p;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
        }
        CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void touch(const char *root, const char *rel)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        if (fd >= 0)
                close(fd);
}

static struct skbt_sym make_tp(const char *name)
{
        return (struct skbt_sym){.name = strdup(name), .kind = SKBT_SYM_TRACEPOINT};
}

static void test_fill_systems(void)
{
        char root[] = "/tmp/test_symdb.XXXXXX";
        struct skbt_symdb db = {};

        CHECK(mkdtemp(root));
        mkdir_p(root, "events/skb/kfree_skb");
        mkdir_p(root, "events/skb/consume_skb");
        mkdir_p(root, "events/net/netif_receive_skb");
        mkdir_p(root, "events/zzz/foo");
        mkdir_p(root, "events/aaa/foo");
        mkdir_p(root, "events/sched/sched_switch");
        touch(root, "events/enable");
        touch(root, "events/header_page");
        touch(root, "events/skb/enable");
        touch(root, "events/net/not_a_dir"); /* an event name only as a file: no match */

        db.n_syms = 6;
        db.syms = calloc(db.n_syms, sizeof(*db.syms));
        CHECK(db.syms);
        if (!db.syms)
                return;
        db.syms[0] = make_tp("kfree_skb");
        db.syms[1] = make_tp("netif_receive_skb");
        db.syms[2] = make_tp("foo");
        db.syms[3] = make_tp("unknown_tp");
        db.syms[4] = make_tp("not_a_dir");
        db.syms[5] = (struct skbt_sym){.name = strdup("consume_skb"), .kind = SKBT_SYM_FUNCTION};

        CHECK_INTEQ(skbt_symdb_fill_systems(&db, root), 0);
        CHECK_STREQ(db.syms[0].system, "skb");
        CHECK_STREQ(db.syms[1].system, "net");
        CHECK_STREQ(db.syms[2].system, "aaa"); /* first in sorted order */
        CHECK(db.syms[3].system == NULL);
        CHECK(db.syms[4].system == NULL);
        CHECK(db.syms[5].system == NULL); /* functions have no system */

        CHECK_INTEQ(skbt_symdb_fill_systems(&db, "/nonexistent/tracefs"), -ENOENT);
        skbt_symdb_done(&db);
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static void check_symbolize(const struct skbt_ksyms *k, uint64_t addr, const char *expected)
{
        char buf[128];
        int r = skbt_ksyms_symbolize(k, addr, buf, sizeof(buf));

        CHECK_INTEQ(r, 0);
        if (r == 0)
                CHECK_STREQ(buf, expected);
}

static void test_ksyms(const char *sample)
{
        struct skbt_ksyms *k = NULL;
        char tmp[] = "/tmp/test_ksyms.XXXXXX", buf[64];
        int fd;

        CHECK_INTEQ(skbt_ksyms_load(sample, &k), 0);
        if (!k)
                return;
        CHECK(skbt_ksyms_addresses_visible(k));
        CHECK_INTEQ(skbt_ksyms_lookup(k, "ip_rcv"), 0xffffffff81000300ull);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "weak_func"), 0xffffffff81000600ull);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "veth_xmit"), 0xffffffffc0001000ull);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "br_dev_xmit"), 0xffffffffc0002400ull);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "dup_name"), 0xffffffff81000900ull); /* lowest */
        CHECK_INTEQ(skbt_ksyms_lookup(k, "some_data"), 0);                    /* not text */
        CHECK_INTEQ(skbt_ksyms_lookup(k, "bss_thing"), 0);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "ip_rc"), 0);
        CHECK_INTEQ(skbt_ksyms_lookup(k, "veth"), 0);

        check_symbolize(k, 0xffffffff81000000ull, "_stext+0x0/0x100"); /* first alias */
        check_symbolize(k, 0xffffffff81000120ull, "ip_rcv_core+0x10/0x1f0");
        /* ip_rcv was listed out of order; data symbols do not end a text symbol. */
        check_symbolize(k, 0xffffffff8100031aull, "ip_rcv+0x1a/0x300");
        check_symbolize(k, 0xffffffff81000650ull, "weak_func+0x50/0x200");
        /* Last vmlinux symbol: the next one is in a module, size unknown. */
        check_symbolize(k, 0xffffffff81000910ull, "dup_name+0x10");
        check_symbolize(k, 0xffffffffc0001004ull, "veth_xmit+0x4/0x100");
        check_symbolize(k, 0xffffffffc0001210ull, "veth_open+0x10");
        check_symbolize(k, 0xffffffffc0002000ull, "br_handle_frame+0x0/0x400");
        check_symbolize(k, 0xffffffffc0002410ull, "br_dev_xmit+0x10"); /* last symbol */
        /* Far past an image's last symbol (a BPF trampoline): no name is better than a wrong one.
         */
        CHECK_INTEQ(skbt_ksyms_symbolize(k, 0xffffffffc8000000ull, buf, sizeof(buf)), -ENOENT);
        CHECK_INTEQ(skbt_ksyms_symbolize(k, 0xffffffff81200000ull, buf, sizeof(buf)), -ENOENT);
        CHECK_INTEQ(skbt_ksyms_symbolize(k, 0xffffffff80000000ull, buf, sizeof(buf)), -ENOENT);
        CHECK_INTEQ(skbt_ksyms_symbolize(k, 0xffffffff81000300ull, buf, 8), -ENOBUFS);
        k = skbt_ksyms_free(k);
        CHECK(k == NULL);

        fd = mkstemp(tmp);
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        close(fd);

        /* kptr_restrict: names are there, addresses are not. */
        CHECK_INTEQ(write_file(tmp, "0000000000000000 T _stext\n"
                                    "0000000000000000 t ip_rcv_core\n"
                                    "0000000000000000 t veth_xmit\t[veth]\n"),
                    0);
        CHECK_INTEQ(skbt_ksyms_load(tmp, &k), 0);
        if (k) {
                CHECK(!skbt_ksyms_addresses_visible(k));
                CHECK_INTEQ(skbt_ksyms_lookup(k, "ip_rcv_core"), 0);
                CHECK_INTEQ(skbt_ksyms_symbolize(k, 0x10, buf, sizeof(buf)), -EADDRNOTAVAIL);
                k = skbt_ksyms_free(k);
        }

        /* No trailing newline, an empty line, uppercase hex. */
        CHECK_INTEQ(write_file(tmp, "FFFFFFFF81000000 T a\n\nffffffff81000010 t b"), 0);
        CHECK_INTEQ(skbt_ksyms_load(tmp, &k), 0);
        if (k) {
                CHECK_INTEQ(skbt_ksyms_lookup(k, "b"), 0xffffffff81000010ull);
                check_symbolize(k, 0xffffffff81000001ull, "a+0x1/0x10");
                k = skbt_ksyms_free(k);
        }

        CHECK_INTEQ(write_file(tmp, ""), 0);
        CHECK_INTEQ(skbt_ksyms_load(tmp, &k), 0);
        if (k) {
                CHECK(!skbt_ksyms_addresses_visible(k));
                CHECK_INTEQ(skbt_ksyms_lookup(k, "a"), 0);
                k = skbt_ksyms_free(k);
        }

        static const char *const bad[] = {
            "zz T foo\n",
            "ffffffff81000000 T\n",
            "ffffffff81000000 T \n",
            "ffffffff81000000T foo\n",
            "ffffffff81000000 T foo [mod\n",
            "ffffffff81000000 T foo junk\n",
            "ffffffff81000000 T foo\t[mod] junk\n",
            "ffffffff81000000 T foo\t[]\n",
            "1ffffffff81000000 T foo\n",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                CHECK_INTEQ(write_file(tmp, bad[i]), 0);
                k = NULL;
                CHECK_INTEQ(skbt_ksyms_load(tmp, &k), -EBADMSG);
                CHECK(k == NULL);
        }
        unlink(tmp);

        CHECK_INTEQ(skbt_ksyms_load("/nonexistent/kallsyms", &k), -ENOENT);
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Informational only: the host kernel may lack BTF or hide it; nothing here can fail. */
static void report_host_kernel(void)
{
        struct skbt_symdb db = {};
        struct skbt_ksyms *k = NULL;
        const struct skbt_sym *s;
        char **reasons = NULL;
        uint32_t n_reasons = 0;
        struct btf *btf;
        double t0;

        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
                printf("host: /sys/kernel/btf/vmlinux not readable, skipping\n");
                return;
        }
        btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
        if (!btf) {
                printf("host: cannot parse /sys/kernel/btf/vmlinux: %m, skipping\n");
                return;
        }
        t0 = now_ms();
        if (skbt_symdb_scan_btf(&db, btf, NULL) == 0) {
                printf("host: %zu functions and %zu tracepoints with an skb (%.1f ms)\n",
                       count_kind(&db, SKBT_SYM_FUNCTION), count_kind(&db, SKBT_SYM_TRACEPOINT),
                       now_ms() - t0);
                s = find_sym(&db, SKBT_SYM_FUNCTION, "ip_rcv");
                if (s)
                        printf("host: ip_rcv skb_arg=%u nr_args=%u\n", s->skb_arg, s->nr_args);
                s = find_sym(&db, SKBT_SYM_TRACEPOINT, "kfree_skb");
                if (s)
                        printf("host: tracepoint kfree_skb skb_arg=%u nr_args=%u\n", s->skb_arg,
                               s->nr_args);
                s = find_sym(&db, SKBT_SYM_TRACEPOINT, "netif_receive_skb");
                if (s)
                        printf("host: tracepoint netif_receive_skb skb_arg=%u nr_args=%u\n",
                               s->skb_arg, s->nr_args);
        }
        skbt_symdb_done(&db);
        if (skbt_drop_reasons_load(btf, &reasons, &n_reasons) == 0) {
                for (uint32_t i = 0; i < n_reasons; i++)
                        if (reasons[i] && strcmp(reasons[i], "NO_SOCKET") == 0)
                                printf("host: drop reason NO_SOCKET = %u (of %u)\n", i, n_reasons);
                skbt_drop_reasons_free(reasons, n_reasons);
        }
        btf__free(btf);

        t0 = now_ms();
        if (skbt_ksyms_load("/proc/kallsyms", &k) == 0) {
                printf("host: /proc/kallsyms loaded in %.1f ms, addresses %s, ip_rcv %s\n",
                       now_ms() - t0, skbt_ksyms_addresses_visible(k) ? "visible" : "hidden",
                       skbt_ksyms_lookup(k, "ip_rcv") ? "found" : "not found");
                skbt_ksyms_free(k);
        }
}

int main(int argc, char **argv)
{
        const char *fake_kernel = argc > 1 ? argv[1] : NULL;
        const char *sample = argc > 2 ? argv[2] : NULL;

#ifdef TEST_DATA_DIR
        if (!sample)
                sample = TEST_DATA_DIR "/kallsyms.sample";
#endif
        if (!fake_kernel || !sample) {
                fprintf(stderr, "usage: %s FAKE_KERNEL_BPF_O [KALLSYMS_SAMPLE]\n", argv[0]);
                return EXIT_FAILURE;
        }

        test_fake_kernel(fake_kernel);
        test_handmade_btf();
        test_func_find();
        test_fill_systems();
        test_ksyms(sample);
        report_host_kernel();
        return TEST_DONE();
}
