/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_config.c - libFuzzer: the daemon's configuration file parser */
#include <stdint.h>

#include "skbt_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct skbt_config c;
        char err[512];

        if (size > SKBT_CONFIG_MAX)
                return 0;
        skbt_config_defaults(&c);
        (void)skbt_config_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof(err));
        return 0;
}
