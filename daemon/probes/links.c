/* SPDX-License-Identifier: GPL-2.0-only */
/* links.c - kernel links: what holds a set of probes attached */
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "macro.h"

struct skbt_link *skbt_link_new(const uint32_t *ids, uint32_t n)
{
        struct skbt_link *k = calloc(1, sizeof(*k) + (size_t)n * sizeof(k->ids[0]));

        if (!k)
                return NULL;
        for (int i = 0; i < SKBT_LINK_FDS; i++)
                k->fd[i] = -1;
        k->n = n;
        memcpy(k->ids, ids, (size_t)n * sizeof(k->ids[0]));
        return k;
}

struct skbt_link *skbt_link_free(struct skbt_link *k)
{
        if (!k)
                return NULL;
        for (int i = 0; i < SKBT_LINK_FDS; i++)
                safe_close(k->fd[i]);
        free(k);
        return NULL;
}
