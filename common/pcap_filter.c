/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_filter.c - compile tcpdump filter expressions for the BPF interpreter (client side) */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h> /* types and prototypes only: the library is opened at run time */

#include "macro.h"
#include "pcap_filter.h"
#include "util.h"

/*
 * libpcap is opened when the first expression is compiled, not linked: a
 * distribution's libpcap brings libdbus, libsystemd, libgcrypt and more with
 * it (Debian 12: eleven libraries), whose loading and relocation cost every
 * ipftctl run some 5 ms of CPU before main(), whether it compiles a filter or
 * not (docs/performance.md, "Regression check against f8ce747").  Its
 * SONAME on Debian and derivatives, elsewhere, then the development link.
 */
static const char *const pcap_libs[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};

static struct pcap_lib {
        bool loaded;
        __typeof__(pcap_open_dead) *open_dead;
        __typeof__(pcap_compile) *compile;
        __typeof__(pcap_geterr) *geterr;
        __typeof__(pcap_freecode) *freecode;
        __typeof__(pcap_close) *close;
} lib;

static int pcap_lib_load(char *err, size_t errlen)
{
        void *h = NULL;

        if (lib.loaded)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(pcap_libs) && !h; i++)
                h = dlopen(pcap_libs[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return skbt_fail(err, errlen,
                                 "pcap filter expressions need libpcap, which cannot be loaded "
                                 "(%s): install it (Debian: libpcap0.8)",
                                 dlerror());
        /* The handle stays open: the process compiles again or exits. */
        lib.open_dead = (__typeof__(lib.open_dead))dlsym(h, "pcap_open_dead");
        lib.compile = (__typeof__(lib.compile))dlsym(h, "pcap_compile");
        lib.geterr = (__typeof__(lib.geterr))dlsym(h, "pcap_geterr");
        lib.freecode = (__typeof__(lib.freecode))dlsym(h, "pcap_freecode");
        lib.close = (__typeof__(lib.close))dlsym(h, "pcap_close");
        if (!lib.open_dead || !lib.compile || !lib.geterr || !lib.freecode || !lib.close) {
                dlclose(h);
                return skbt_fail(err, errlen, "the libpcap found lacks pcap_compile() and co.");
        }
        lib.loaded = true;
        return 0;
}

static void pcap_closep(pcap_t **p)
{
        if (*p)
                lib.close(*p);
}

int skbt_pcap_compile(const char *expr, struct skbt_cbpf_prog *ret, char *err, size_t errlen)
{
        _cleanup_(pcap_closep) pcap_t *p = NULL;
        struct bpf_program prog = {0};
        char why[256];
        uint32_t n;

        if (!expr || !*expr)
                return skbt_fail(err, errlen, "empty pcap filter expression");
        if (strlen(expr) > SKBT_PCAP_EXPR_MAX)
                return skbt_fail(err, errlen, "pcap filter expression longer than %d bytes",
                                 SKBT_PCAP_EXPR_MAX);
        if (pcap_lib_load(err, errlen) < 0)
                return -EINVAL;
        /* The interpreter shows L3 probe points an Ethernet header too (skbt_cbpf.bpf.h). */
        p = lib.open_dead(DLT_EN10MB, 262144);
        if (!p)
                return skbt_fail(err, errlen, "cannot set up libpcap to compile the filter");
        if (lib.compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
                return skbt_fail(err, errlen, "invalid pcap filter '%.*s': %s", 200, expr,
                                 lib.geterr(p));
        n = prog.bf_len;
        if (n > SKBT_CBPF_MAX_INSNS) {
                lib.freecode(&prog);
                return skbt_fail(err, errlen,
                                 "pcap filter '%.*s' compiles to %u instructions, more than the %d "
                                 "a session may use: simplify it or use the filter options "
                                 "(--proto, --addr, --port...) for part of it",
                                 64, expr, n, SKBT_CBPF_MAX_INSNS);
        }
        *ret = (struct skbt_cbpf_prog){.len = n};
        for (uint32_t i = 0; i < n; i++) {
                const struct bpf_insn *in = &prog.bf_insns[i];

                ret->insns[i] = (struct skbt_cbpf_insn){
                    .code = in->code, .jt = in->jt, .jf = in->jf, .k = in->k};
        }
        lib.freecode(&prog);
        /* The daemon's checks, so that what it would refuse fails here, with the expression. */
        if (skbt_cbpf_check(ret, why, sizeof(why)) < 0) {
                *ret = (struct skbt_cbpf_prog){0};
                return skbt_fail(err, errlen, "pcap filter '%.*s' is not supported: %s", 200, expr,
                                 why);
        }
        return 0;
}
