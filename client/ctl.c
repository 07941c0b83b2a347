/* SPDX-License-Identifier: GPL-2.0-only */
/* ctl.c - what every ipftctl command uses: reply accessors and usage errors */
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"
#include "log.h"

/* ---- small JSON accessors: absent and wrongly typed members read as absent ---- */

json_object *member(json_object *o, const char *key, json_type type)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

const char *member_str(json_object *o, const char *key)
{
        json_object *v = member(o, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

bool member_u64(json_object *o, const char *key, uint64_t *ret)
{
        json_object *v = member(o, key, json_type_int);

        if (!v || json_object_get_int64(v) < 0)
                return false;
        *ret = (uint64_t)json_object_get_int64(v);
        return true;
}

uint64_t member_u64_or(json_object *o, const char *key, uint64_t def)
{
        uint64_t v;

        return member_u64(o, key, &v) ? v : def;
}

/* ---- usage errors ---- */

int usage_error(const char *cmd, const char *msg)
{
        log_error("%s", msg);
        if (cmd)
                fprintf(stderr, "Try 'ipftctl %s --help'.\n", cmd);
        else
                fprintf(stderr, "Try 'ipftctl --help'.\n");
        return EXIT_USAGE;
}
int usage_errorf(const char *cmd, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return usage_error(cmd, msg);
}
