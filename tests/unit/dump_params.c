/* SPDX-License-Identifier: GPL-2.0-only */
/* dump_params.c - the method and parameter tables as JSON, for test_params_docs.py */
#include <stdio.h>

#include <json-c/json.h>

#include "json_util.h"
#include "trace_args.h"
#include "trace_params.h"
#include "varlink.h"

static const char *const type_names[_SKBT_PARAM_TYPE_MAX] = {
    [SKBT_PARAM_BOOL] = "bool",     [SKBT_PARAM_UINT] = "uint",   [SKBT_PARAM_SECONDS] = "seconds",
    [SKBT_PARAM_STRING] = "string", [SKBT_PARAM_ENUM] = "enum",   [SKBT_PARAM_STRINGS] = "strings",
    [SKBT_PARAM_PREFIX] = "prefix", [SKBT_PARAM_PROTO] = "proto", [SKBT_PARAM_OBJECT] = "object",
};

static json_object *table_json(const struct skbt_param_table *t);

static json_object *row_json(const struct skbt_param *p)
{
        json_object *o = json_object_new_object();
        char s[2] = {p->cli_short, 0};

        if (p->name)
                json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "type", json_object_new_string(type_names[p->type]));
        json_object_object_add(o, "required",
                               json_object_new_boolean(p->flags & SKBT_PARAM_REQUIRED));
        json_object_object_add(o, "min", json_object_new_uint64(p->min));
        json_object_object_add(o, "max", json_object_new_uint64(p->max));
        json_object_object_add(o, "fmax", json_object_new_double(p->fmax));
        /* The longest string a STRING(S) row takes. */
        json_object_object_add(o, "max_len", json_object_new_uint64(p->size ? p->size - 1 : 0));
        if (p->type == SKBT_PARAM_ENUM) {
                json_object *v = json_object_new_array();

                for (uint64_t i = 0; i < p->max; i++)
                        if (p->values[i])
                                json_object_array_add(v, json_object_new_string(p->values[i]));
                json_object_object_add(o, "values", v);
        }
        if (p->cli_short)
                json_object_object_add(o, "short", json_object_new_string(s));
        if (p->cli_long)
                json_object_object_add(o, "long", json_object_new_string(p->cli_long));
        if (p->type == SKBT_PARAM_OBJECT)
                json_object_object_add(o, "sub", table_json(p->sub));
        return o;
}

static json_object *table_json(const struct skbt_param_table *t)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < t->n_rows; i++)
                json_object_array_add(a, row_json(&t->rows[i]));
        return a;
}

int main(void)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *methods = json_object_new_array(), *errors = json_object_new_array();

        for (size_t i = 0; i < vl_n_methods; i++) {
                const struct vl_method *m = &vl_methods[i];
                json_object *e = json_object_new_object();

                json_object_object_add(e, "name", json_object_new_string(m->name));
                json_object_object_add(e, "more",
                                       json_object_new_boolean(m->flags & VL_NEEDS_MORE));
                json_object_object_add(e, "params", table_json(m->params));
                json_object_array_add(methods, e);
        }
        json_object_object_add(o, "methods", methods);
        for (int e = 0; e < _VL_ERR_MAX; e++) {
                json_object *x = json_object_new_object();

                json_object_object_add(x, "name", json_object_new_string(vl_error_name(e)));
                if (vl_error_key(e))
                        json_object_object_add(x, "key", json_object_new_string(vl_error_key(e)));
                json_object_array_add(errors, x);
        }
        json_object_object_add(o, "errors", errors);
        json_object_object_add(o, "client_options", table_json(&trace_args_client_options));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        return 0;
}
