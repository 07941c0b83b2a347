/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_groups.c - libFuzzer: the probe groups file parser, then lookups on what it read */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct skbt_groups *gs = NULL;
        char err[512], names[1024], *p;

        if (size > 64 * 1024)
                return 0;
        p = malloc(size + 1);
        if (!p)
                return 0;
        memcpy(p, data, size);
        p[size] = '\0';
        if (skbt_groups_parse(p, "fuzz.conf", &gs, err, sizeof(err)) == 0) {
                for (uint32_t i = 0; i < gs->n; i++)
                        (void)skbt_group_selects(gs, i, "ip_rcv");
                (void)skbt_groups_probe_group(gs, "net:netif_receive_skb");
                skbt_groups_names(gs, names, sizeof(names));
                skbt_groups_free(gs);
        }
        free(p);
        return 0;
}
