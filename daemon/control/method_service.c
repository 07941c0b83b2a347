/* SPDX-License-Identifier: GPL-2.0-only */
/* method_service.c - org.varlink.service: GetInfo */
#include <json-c/json.h>

#include "config.h"
#include "control-internal.h"
#include "skbtraced.h"

void method_get_info(struct skbt_client *c)
{
        json_object *o = json_object_new_object(), *ifaces = json_object_new_array();

        json_object_object_add(o, "vendor", json_object_new_string("skbtraced"));
        json_object_object_add(o, "product", json_object_new_string("skbtraced"));
        json_object_object_add(o, "version", json_object_new_string(SKBT_VERSION));
        json_object_object_add(o, "url", json_object_new_string(""));
        json_object_array_add(ifaces, json_object_new_string("io.skbtraced"));
        json_object_array_add(ifaces, json_object_new_string("org.varlink.service"));
        json_object_object_add(o, "interfaces", ifaces);
        skbt_client_reply(c, o, false);
        json_object_put(o);
}
