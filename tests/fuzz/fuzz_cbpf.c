/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_cbpf.c - libFuzzer: pcap_program text, parsed and checked as the daemon does */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct skbt_cbpf_prog prog, back;
        char err[512], text[SKBT_CBPF_TEXT_MAX + 1], *p;

        if (size > 2 * SKBT_CBPF_TEXT_MAX)
                return 0;
        p = malloc(size + 1);
        if (!p)
                return 0;
        memcpy(p, data, size);
        p[size] = '\0';
        if (skbt_cbpf_parse(p, &prog, err, sizeof(err)) == 0) {
                /* What was accepted prints and parses back to the same program. */
                if (skbt_cbpf_format(&prog, text, sizeof(text)) != 0 ||
                    skbt_cbpf_parse(text, &back, err, sizeof(err)) != 0 ||
                    memcmp(&prog, &back, sizeof(prog)) != 0)
                        abort();
        }
        free(p);
        return 0;
}
