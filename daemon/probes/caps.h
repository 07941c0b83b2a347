/* SPDX-License-Identifier: GPL-2.0-only */
/* caps.h - probe which attach backends really work on this kernel */
#pragma once

#include <stdbool.h>

enum skbt_backend {
        SKBT_BACKEND_FENTRY = 0,
        SKBT_BACKEND_KPROBE_MULTI,
        SKBT_BACKEND_KPROBE,
        SKBT_BACKEND_TRACEPOINT,
        _SKBT_BACKEND_MAX,
        SKBT_BACKEND_AUTO = -1,
};

struct skbt_caps {
        bool usable[_SKBT_BACKEND_MAX];
        char reason[_SKBT_BACKEND_MAX][160]; /* why usable or not, for logs and status */
};

const char *skbt_backend_to_string(enum skbt_backend b);
/* "auto" or a backend name; -EINVAL otherwise. */
int skbt_backend_from_string(const char *s, enum skbt_backend *ret);

/* Load and attach a tiny program of each attach type to a core RX function
 * or tracepoint, detach it at once, and record the outcome.  Never fails:
 * an unusable backend is a result, not an error. */
void skbt_caps_probe(struct skbt_caps *caps);
