/* SPDX-License-Identifier: GPL-2.0-only */
/* caps.c - probe which attach backends really work on this kernel */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend.h"
#include "caps.h"
#include "caps.skel.h"
#include "log.h"

static const char *const backend_names[_SKBT_BACKEND_MAX] = {
    [SKBT_BACKEND_FENTRY] = "fentry",
    [SKBT_BACKEND_KPROBE_MULTI] = "kprobe-multi",
    [SKBT_BACKEND_KPROBE] = "kprobe",
    [SKBT_BACKEND_TRACEPOINT] = "tracepoint",
};

const char *skbt_backend_to_string(enum skbt_backend b)
{
        if (b == SKBT_BACKEND_AUTO)
                return "auto";
        if (b < 0 || b >= _SKBT_BACKEND_MAX)
                return "none";
        return backend_names[b];
}

int skbt_backend_from_string(const char *s, enum skbt_backend *ret)
{
        if (strcmp(s, "auto") == 0) {
                *ret = SKBT_BACKEND_AUTO;
                return 0;
        }
        for (int i = 0; i < _SKBT_BACKEND_MAX; i++)
                if (strcmp(s, backend_names[i]) == 0) {
                        *ret = (enum skbt_backend)i;
                        return 0;
                }
        return -EINVAL;
}

/* Silence libbpf while probing: failures are expected and reported by us. */
static int caps_libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
        return 0;
}

static int caps_try(enum skbt_backend b, char *why, size_t whylen)
{
        const struct skbt_backend_ops *ops = skbt_backend_ops(b);
        struct caps *skel;
        struct bpf_program *prog, *p;
        struct bpf_link *link = NULL;
        int r;

        skel = caps__open();
        if (!skel) {
                r = negative_errno();
                snprintf(why, whylen, "cannot open probe object: %s", strerror(-r));
                return r;
        }
        prog = bpf_object__find_program_by_name(skel->obj, ops->caps);
        bpf_object__for_each_program (p, skel->obj)
                bpf_program__set_autoload(p, p == prog);

        r = caps__load(skel);
        if (r < 0) {
                snprintf(why, whylen, "program load failed: %s", strerror(-r));
                goto out;
        }
        link = ops->caps_attach(prog);
        if (!link) {
                r = negative_errno();
                snprintf(why, whylen, "attach failed: %s", strerror(-r));
                goto out;
        }
        snprintf(why, whylen, "program loaded and attached to %s",
                 ops->flags & SKBT_BACKEND_F_FUNCTIONS ? SKBT_CAPS_FUNCTION "()"
                                                       : "tracepoint " SKBT_CAPS_TRACEPOINT);
        r = 0;
out:
        bpf_link__destroy(link);
        caps__destroy(skel);
        return r;
}

void skbt_caps_probe(struct skbt_caps *caps)
{
        libbpf_print_fn_t old = libbpf_set_print(caps_libbpf_quiet);

        for (int b = 0; b < _SKBT_BACKEND_MAX; b++) {
                caps->usable[b] =
                    caps_try((enum skbt_backend)b, caps->reason[b], sizeof(caps->reason[b])) == 0;
                log_info("backend %s: %s: %s", backend_names[b],
                         caps->usable[b] ? "usable" : "unusable", caps->reason[b]);
        }
        libbpf_set_print(old);
}
