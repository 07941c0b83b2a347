/* SPDX-License-Identifier: GPL-2.0-only */
/* kernel_btf.c - the running kernel's BTF, parsed once and shared */
#include <errno.h>
#include <stdio.h>

#include <bpf/btf.h>

#include "kernel_btf.h"
#include "log.h"
#include "macro.h"

/*
 * Process-wide on purpose: it describes the one kernel we run on, and its
 * users (manager, the netfilter backend, custom fields) share no context
 * object.  Parsing it takes ~40 ms; it used to happen three times.
 */
static struct btf *kernel_btf;
static int kernel_btf_error;

struct btf *skbt_kernel_btf(void)
{
        if (!kernel_btf && !kernel_btf_error) {
                kernel_btf = btf__load_vmlinux_btf();
                if (!kernel_btf)
                        kernel_btf_error =
                            log_warning_errno(negative_errno(), "cannot load kernel BTF "
                                                                "(/sys/kernel/btf/vmlinux): %m");
        }
        if (!kernel_btf)
                errno = -kernel_btf_error;
        return kernel_btf;
}

void skbt_kernel_btf_release(void)
{
        btf__free(kernel_btf);
        kernel_btf = NULL;
        kernel_btf_error = 0;
}

const struct btf_type *skbt_btf_func_find(const struct btf *btf, const char *module,
                                          const char *name, struct skbt_btf_func *f)
{
        int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
        const struct btf_type *fn, *proto;

        if (id < 0 || f->found)
                return NULL;
        fn = btf__type_by_id(btf, (uint32_t)id);
        proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
        if (!proto || !btf_is_func_proto(proto))
                return NULL;
        f->found = true;
        f->btf_id = (uint32_t)id;
        snprintf(f->module, sizeof(f->module), "%s", module ? module : "");
        return proto;
}
