/* SPDX-License-Identifier: GPL-2.0-only */
/* skbt_probe_names.h - probe names whose meaning the loader and the renderers share */
#pragma once

#include <stdbool.h>
#include <string.h>

/*
 * Functions that get no return probe: they fire skb:kfree_skb or
 * skb:consume_skb, whose location is __builtin_return_address(0), which a
 * kretprobe or fexit trampoline would replace with its own address.  Their
 * return value is void; function_graph shows them as leaves.  The renderer
 * decides by name, so that a recording rendered offline (ipftctl show) nests
 * its calls as the live session did.
 */
static inline bool skbt_function_keeps_return_address(const char *name)
{
        return name &&
               (strcmp(name, "kfree_skb_reason") == 0 || strcmp(name, "sk_skb_reason_drop") == 0 ||
                strcmp(name, "consume_skb") == 0 || strcmp(name, "napi_consume_skb") == 0);
}
