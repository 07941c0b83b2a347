/* SPDX-License-Identifier: GPL-2.0-only */
/* json_util.h - json-c cleanup helper */
#pragma once

#include <json-c/json.h>

#include "macro.h"

static inline void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)
