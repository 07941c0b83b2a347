/* SPDX-License-Identifier: GPL-2.0-only */
/* method_service.c - org.varlink.service: GetInfo, GetInterfaceDescription */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "json_util.h"
#include "skbtraced.h"
#include "varlink.h"

/* The interface descriptions, embedded at build time from varlink/ (meson). */
extern const char skbt_varlink_io_skbtraced[];
extern const char skbt_varlink_org_varlink_service[];

const struct vl_interface vl_interfaces[] = {
    {"io.skbtraced", skbt_varlink_io_skbtraced},
    {"org.varlink.service", skbt_varlink_org_varlink_service},
};
const size_t vl_n_interfaces = ARRAY_SIZE(vl_interfaces);

int method_get_info(struct vl_call *call, void *args)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *ifaces = json_object_new_array();

        if (!o || !ifaces || json_object_object_add(o, "interfaces", ifaces) < 0) {
                json_object_put(ifaces);
                return -ENOMEM;
        }
        json_object_object_add(o, "vendor", json_object_new_string("skbtraced"));
        json_object_object_add(o, "product", json_object_new_string("skbtraced"));
        json_object_object_add(o, "version", json_object_new_string(SKBT_VERSION));
        json_object_object_add(o, "url", json_object_new_string(""));
        for (size_t i = 0; i < vl_n_interfaces; i++)
                json_object_array_add(ifaces, json_object_new_string(vl_interfaces[i].name));
        return vl_reply(call, o, false);
}

int method_get_interface_description(struct vl_call *call, void *args)
{
        const struct vl_interface_args *a = args;
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < vl_n_interfaces; i++)
                if (strcmp(vl_interfaces[i].name, a->interface) == 0) {
                        json_object_object_add(
                            o, "description", json_object_new_string(vl_interfaces[i].description));
                        return vl_reply(call, o, false);
                }
        return vl_error(call, VL_ERR_INTERFACE_NOT_FOUND, a->interface,
                        "interface '%s' is not served here: skbtraced serves io.skbtraced and "
                        "org.varlink.service",
                        a->interface);
}
