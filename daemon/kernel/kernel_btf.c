/* SPDX-License-Identifier: GPL-2.0-only */
/* kernel_btf.c - the running kernel's BTF, parsed once and shared */
#include <errno.h>

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
