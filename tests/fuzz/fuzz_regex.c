/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_regex.c - libFuzzer: client patterns through skbt_regex (compile, then match names) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skbt_regex.h"

static const char *const names[] = {
    "ip_rcv",
    "net:netif_receive_skb",
    "skb:kfree_skb",
    "__netif_receive_skb_core",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
    "nf:nft_do_chain",
    "tcp_v4_rcv",
    "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct skbt_regex *re = NULL;
        char err[512], *p;

        if (size > 4 * SKBT_REGEX_MAX_LEN)
                return 0;
        p = malloc(size + 1);
        if (!p)
                return 0;
        memcpy(p, data, size);
        p[size] = '\0';
        if (skbt_regex_new(p, &re, err, sizeof(err)) == 0) {
                skbt_regex_set_time_budget(re, SKBT_REGEX_TIME_BUDGET_USEC);
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                        if (skbt_regex_match(re, names[i]) < 0)
                                skbt_regex_limit_message(re, -7, names[i], err, sizeof(err));
                skbt_regex_free(re);
        }
        free(p);
        return 0;
}
