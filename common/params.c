/* SPDX-License-Identifier: GPL-2.0-only */
/* params.c - method parameters as tables: decode, validate, encode, command-line arguments */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_spec.h"
#include "params.h"
#include "util.h"

/* Longest member path in a message or a "parameter" reply member ("filter.mark_mask"). */
#define PATH_MAX_LEN 64

static void *at(void *base, size_t offset)
{
        return (char *)base + offset;
}

static const void *cat(const void *base, size_t offset)
{
        return (const char *)base + offset;
}

static const char *what(const struct skbt_param *p)
{
        return p->what ? p->what : p->name;
}

const struct skbt_param *skbt_params_find(const struct skbt_param_table *t, const char *name)
{
        for (size_t i = 0; i < t->n_rows; i++)
                if (t->rows[i].name && strcmp(t->rows[i].name, name) == 0)
                        return &t->rows[i];
        return NULL;
}

const struct skbt_param *skbt_params_find_id(const struct skbt_param_table *t, uint8_t id)
{
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct skbt_param *p = &t->rows[i], *sub;

                if (p->id == id && p->name)
                        return p;
                if (p->type == SKBT_PARAM_OBJECT && (sub = skbt_params_find_id(p->sub, id)))
                        return sub;
        }
        return NULL;
}

static void mark_given(const struct skbt_param_table *top, const struct skbt_param *p, void *base)
{
        *(uint64_t *)at(base, top->given_offset) |= SKBT_PARAM_BIT(p->id);
        if (p->flag && top->flags_offset != SKBT_PARAM_NO_FLAGS)
                *(uint32_t *)at(base, top->flags_offset) |= p->flag;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
        switch (size) {
        case 1:
                *(uint8_t *)dst = (uint8_t)v;
                break;
        case 2:
                *(uint16_t *)dst = (uint16_t)v;
                break;
        case 4:
                *(uint32_t *)dst = (uint32_t)v;
                break;
        default:
                *(uint64_t *)dst = v;
        }
}

static uint64_t load_uint(const void *src, size_t size)
{
        switch (size) {
        case 1:
                return *(const uint8_t *)src;
        case 2:
                return *(const uint16_t *)src;
        case 4:
                return *(const uint32_t *)src;
        default:
                return *(const uint64_t *)src;
        }
}

/* "a, b or c" from n names (NULL entries are holes). */
static void join_values(const char *const *v, size_t n, char *buf, size_t len)
{
        size_t pos = 0, left = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                left += v[i] != NULL;
        for (size_t i = 0; i < n && pos < len; i++) {
                if (!v[i])
                        continue;
                left--;
                pos += (size_t)snprintf(buf + pos, len - pos, "%s%s",
                                        pos == 0    ? ""
                                        : left == 0 ? " or "
                                                    : ", ",
                                        v[i]);
        }
}

static int enum_index(const struct skbt_param *p, const char *s)
{
        for (uint64_t i = 0; i < p->max; i++)
                if (p->values[i] && strcmp(p->values[i], s) == 0)
                        return (int)i;
        return -1;
}

/* ---- JSON ---- */

/* What a JSON value is, for "expected X, got Y" messages. */
static const char *json_kind(json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a non-integer number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "an unknown type";
}

static int json_uint(const struct skbt_param *p, json_object *v, uint64_t *ret, char *err,
                     size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        int64_t i;
        uint64_t u;

        if (!json_object_is_type(v, json_type_int)) {
                if (json_object_is_type(v, json_type_string))
                        return skbt_fail(err, errlen,
                                         "invalid %s: expected an integer from %" PRIu64
                                         " to %" PRIu64 ", got the string '%s'",
                                         p->name, p->min, p->max,
                                         skbt_quote(json_object_get_string(v), q));
                return skbt_fail(err, errlen,
                                 "invalid %s: expected an integer from %" PRIu64 " to %" PRIu64
                                 ", got %s",
                                 p->name, p->min, p->max, json_kind(v));
        }
        /*
         * The exact value: json-c keeps integers above INT64_MAX as uint64 and
         * saturates beyond UINT64_MAX and below INT64_MIN, so those bounds may
         * stand for other numbers and are never echoed.
         */
        i = json_object_get_int64(v);
        u = i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
        if (i == INT64_MIN || (i == INT64_MAX && u == UINT64_MAX))
                return skbt_fail(err, errlen,
                                 "invalid %s: out of range, expected an integer from %" PRIu64
                                 " to %" PRIu64,
                                 p->name, p->min, p->max);
        if (i < 0 || u < p->min || u > p->max)
                return skbt_fail(err, errlen,
                                 "invalid %s %s: expected an integer from %" PRIu64 " to %" PRIu64,
                                 p->name, json_object_to_json_string(v), p->min, p->max);
        *ret = u;
        return 0;
}

/* A string member; embedded NULs would make the C string differ from what was sent. */
static int json_string(const struct skbt_param *p, json_object *v, const char *expected,
                       const char **ret, char *err, size_t errlen)
{
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return skbt_fail(err, errlen, "invalid %s: expected a string%s%s%s, got %s",
                                 p->name, expected ? " (" : "", expected ? expected : "",
                                 expected ? ")" : "", json_kind(v));
        s = json_object_get_string(v);
        if (strlen(s) != (size_t)json_object_get_string_len(v))
                return skbt_fail(err, errlen, "invalid %s: the string contains a NUL character",
                                 p->name);
        *ret = s;
        return 0;
}

/* A string into a buffer of p->size bytes, with the row's length and form checks. */
static int put_string(const struct skbt_param *p, const char *s, char *dst, char *err,
                      size_t errlen)
{
        size_t n = strlen(s);
        char q[SKBT_QUOTE_BUF];

        if (n < p->min || n >= p->size)
                return skbt_fail(err, errlen, "invalid %s '%s': expected %" PRIu64 " to %zu bytes",
                                 what(p), skbt_quote(s, q), p->min, p->size - 1);
        if (p->check && p->check(s, err, errlen) < 0)
                return -EINVAL;
        memcpy(dst, s, n + 1);
        return 0;
}

static int put_enum(const struct skbt_param *p, const char *s, void *base, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF], list[256];
        int i = enum_index(p, s);

        if (i < 0) {
                join_values(p->values, p->max, list, sizeof(list));
                return skbt_fail(err, errlen, "invalid %s '%s': expected %s", what(p),
                                 skbt_quote(s, q), list);
        }
        *(uint8_t *)at(base, p->offset) = (uint8_t)i;
        return 0;
}

/* Add one name to a STRINGS member. */
static int put_item(const struct skbt_param *p, const char *s, void *base, char *err, size_t errlen)
{
        uint32_t *n = at(base, p->count_offset);
        char *items = at(base, p->offset);

        if (*n >= p->max)
                return skbt_fail(err, errlen, "more than %" PRIu64 " %ss", p->max, what(p));
        if (p->flags & SKBT_PARAM_UNIQUE)
                for (uint32_t i = 0; i < *n; i++)
                        if (strcmp(items + i * p->size, s) == 0)
                                return skbt_fail(err, errlen, "%s '%s' given twice", what(p),
                                                 items + i * p->size);
        if (put_string(p, s, items + *n * p->size, err, errlen) < 0)
                return -EINVAL;
        (*n)++;
        return 0;
}

static int json_strings(const struct skbt_param *p, json_object *v, void *base, char *err,
                        size_t errlen)
{
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return skbt_fail(err, errlen,
                                 "invalid %s: expected an array of %" PRIu64 " to %" PRIu64
                                 " strings, got %s",
                                 p->name, p->min, p->max, json_kind(v));
        n = json_object_array_length(v);
        if (n < p->min || n > p->max)
                return skbt_fail(err, errlen,
                                 "invalid %s: expected an array of %" PRIu64 " to %" PRIu64
                                 " strings, got %zu",
                                 p->name, p->min, p->max, n);
        *(uint32_t *)at(base, p->count_offset) = 0;
        for (size_t i = 0; i < n; i++) {
                const char *s;

                if (json_string(p, json_object_array_get_idx(v, i), NULL, &s, err, errlen) < 0 ||
                    put_item(p, s, base, err, errlen) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int json_seconds(const struct skbt_param *p, json_object *v, double *ret, char *err,
                        size_t errlen)
{
        double d = json_object_get_double(v);

        if ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
            !isfinite(d) || d <= 0 || d > p->fmax)
                return skbt_fail(err, errlen,
                                 "invalid %s: expected a number of seconds greater than 0 and at "
                                 "most %.0f, got %s",
                                 p->name, p->fmax,
                                 json_object_is_type(v, json_type_int) ||
                                         json_object_is_type(v, json_type_double)
                                     ? json_object_to_json_string(v)
                                     : json_kind(v));
        *ret = d;
        return 0;
}

static int json_proto(const struct skbt_param *p, json_object *v, uint8_t *ret, char *err,
                      size_t errlen)
{
        const char *s;
        uint64_t u = 0;

        if (json_object_is_type(v, json_type_int)) {
                if (json_uint(p, v, &u, err, errlen) < 0)
                        return -EINVAL;
                *ret = (uint8_t)u;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return skbt_fail(err, errlen,
                                 "invalid %s: expected a string (icmp, icmp6, tcp, udp, sctp or a "
                                 "number) or an integer from 0 to 255, got %s",
                                 p->name, json_kind(v));
        if (json_string(p, v, NULL, &s, err, errlen) < 0)
                return -EINVAL;
        return skbt_parse_proto(s, ret, err, errlen);
}

static int object_from_json(const struct skbt_param_table *top, const struct skbt_param_table *t,
                            const char *prefix, json_object *obj, void *base, char *bad,
                            size_t badlen, char *err, size_t errlen);

static int value_from_json(const struct skbt_param_table *top, const struct skbt_param *p,
                           const char *path, json_object *v, void *base, char *bad, size_t badlen,
                           char *err, size_t errlen)
{
        void *dst = at(base, p->offset);
        const char *s;
        char list[256];
        uint64_t u = 0;

        switch (p->type) {
        case SKBT_PARAM_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return skbt_fail(err, errlen, "invalid %s: expected true or false, got %s",
                                         p->name, json_kind(v));
                *(bool *)dst = json_object_get_boolean(v);
                return 0;
        case SKBT_PARAM_UINT:
                if (json_uint(p, v, &u, err, errlen) < 0)
                        return -EINVAL;
                store_uint(dst, p->size, u);
                return 0;
        case SKBT_PARAM_SECONDS:
                return json_seconds(p, v, dst, err, errlen);
        case SKBT_PARAM_STRING:
                if (json_string(p, v, NULL, &s, err, errlen) < 0)
                        return -EINVAL;
                return put_string(p, s, dst, err, errlen);
        case SKBT_PARAM_ENUM:
                join_values(p->values, p->max, list, sizeof(list));
                if (json_string(p, v, list, &s, err, errlen) < 0)
                        return -EINVAL;
                return put_enum(p, s, base, err, errlen);
        case SKBT_PARAM_STRINGS:
                return json_strings(p, v, base, err, errlen);
        case SKBT_PARAM_PREFIX:
                if (json_string(p, v, "an IPv4 or IPv6 address with optional /PREFIX", &s, err,
                                errlen) < 0)
                        return -EINVAL;
                return skbt_parse_prefix(s, dst, err, errlen);
        case SKBT_PARAM_PROTO:
                return json_proto(p, v, dst, err, errlen);
        case SKBT_PARAM_OBJECT:
                if (!json_object_is_type(v, json_type_object))
                        return skbt_fail(err, errlen, "invalid %s: expected an object, got %s",
                                         p->name, json_kind(v));
                return object_from_json(top, p->sub, path, v, base, bad, badlen, err, errlen);
        default:
                return skbt_fail(err, errlen, "%s: unknown parameter type", p->name);
        }
}

static void member_names(const struct skbt_param_table *t, char *buf, size_t len)
{
        const char *names[64];
        size_t n = 0;

        for (size_t i = 0; i < t->n_rows && n + 1 < ARRAY_SIZE(names); i++)
                if (t->rows[i].name)
                        names[n++] = t->rows[i].name;
        join_values(names, n, buf, len);
}

static int object_from_json(const struct skbt_param_table *top, const struct skbt_param_table *t,
                            const char *prefix, json_object *obj, void *base, char *bad,
                            size_t badlen, char *err, size_t errlen)
{
        char path[PATH_MAX_LEN], q[SKBT_QUOTE_BUF], names[512];

        /* json_object_object_foreach() needs an object: none means no members. */
        for (struct lh_entry *e = obj ? json_object_get_object(obj)->head : NULL; e; e = e->next) {
                const char *key = lh_entry_k(e);
                json_object *val = (json_object *)lh_entry_v(e);
                const struct skbt_param *p = skbt_params_find(t, key);

                /* The key is client data: it goes back only quoted. */
                snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
                         skbt_quote(key, q));
                if (!p) {
                        snprintf(bad, badlen, "%s", path);
                        member_names(t, names, sizeof(names));
                        return skbt_fail(err, errlen, "unknown parameter '%s': expected %s", path,
                                         names);
                }
                /* varlink: an optional member may be null, meaning absent. */
                if (json_object_is_type(val, json_type_null))
                        continue;
                if (value_from_json(top, p, path, val, base, bad, badlen, err, errlen) < 0) {
                        /* A nested object names its member itself. */
                        if (p->type != SKBT_PARAM_OBJECT || !*bad)
                                snprintf(bad, badlen, "%s", path);
                        return -EINVAL;
                }
                mark_given(top, p, base);
        }
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct skbt_param *p = &t->rows[i];

                if ((p->flags & SKBT_PARAM_REQUIRED) && !skbt_param_given(top, base, p->id)) {
                        snprintf(bad, badlen, "%s%s%s", prefix, *prefix ? "." : "", p->name);
                        return skbt_fail(err, errlen, "missing parameter '%s'", bad);
                }
        }
        return 0;
}

int skbt_params_from_json(const struct skbt_param_table *t, json_object *params, void *base,
                          char *bad, size_t badlen, char *err, size_t errlen)
{
        if (badlen)
                bad[0] = '\0';
        /* varlink: parameters may be absent or null for a call without any. */
        if (params && json_object_is_type(params, json_type_null))
                params = NULL;
        if (params && !json_object_is_type(params, json_type_object)) {
                snprintf(bad, badlen, "parameters");
                return skbt_fail(err, errlen, "parameters must be an object, got %s",
                                 json_kind(params));
        }
        return object_from_json(t, t, "", params, base, bad, badlen, err, errlen);
}

/*
 * A JSON number for d in its shortest round-trip form ("0.1", not json-c's
 * "0.10000000000000001"), so the request shows what the user typed.
 */
static json_object *new_seconds(double d)
{
        char buf[64];

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        /* "10" would read back as a JSON integer; "1e+20" is a valid JSON number. */
        if (!strpbrk(buf, ".e"))
                strcat(buf, ".0");
        return json_object_new_double_s(d, buf);
}

static json_object *strings_to_json(const struct skbt_param *p, const void *base)
{
        uint32_t n = *(const uint32_t *)cat(base, p->count_offset);
        const char *items = cat(base, p->offset);
        json_object *a = json_object_new_array();

        for (uint32_t i = 0; a && i < n; i++)
                if (json_object_array_add(a, json_object_new_string(items + i * p->size)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static json_object *object_to_json(const struct skbt_param_table *top,
                                   const struct skbt_param_table *t, const void *base);

static json_object *value_to_json(const struct skbt_param_table *top, const struct skbt_param *p,
                                  const void *base)
{
        const void *src = cat(base, p->offset);
        char buf[64];

        switch (p->type) {
        case SKBT_PARAM_BOOL:
                return json_object_new_boolean(*(const bool *)src);
        case SKBT_PARAM_UINT:
                return json_object_new_int64((int64_t)load_uint(src, p->size));
        case SKBT_PARAM_SECONDS:
                return new_seconds(*(const double *)src);
        case SKBT_PARAM_STRING:
                return json_object_new_string(src);
        case SKBT_PARAM_ENUM:
                if (*(const uint8_t *)src >= p->max || !p->values[*(const uint8_t *)src])
                        return NULL;
                return json_object_new_string(p->values[*(const uint8_t *)src]);
        case SKBT_PARAM_STRINGS:
                return strings_to_json(p, base);
        case SKBT_PARAM_PREFIX:
                skbt_format_prefix(src, buf, sizeof(buf));
                return json_object_new_string(buf);
        case SKBT_PARAM_PROTO:
                return json_object_new_string(
                    skbt_proto_wire_name(*(const uint8_t *)src, buf, sizeof(buf)));
        case SKBT_PARAM_OBJECT:
                return object_to_json(top, p->sub, base);
        default:
                return NULL;
        }
}

static json_object *object_to_json(const struct skbt_param_table *top,
                                   const struct skbt_param_table *t, const void *base)
{
        json_object *o = json_object_new_object();

        for (size_t i = 0; o && i < t->n_rows; i++) {
                const struct skbt_param *p = &t->rows[i];
                json_object *v;

                /* A nested object is there when one of its members is. */
                if (!p->name ||
                    (p->type != SKBT_PARAM_OBJECT && !skbt_param_given(top, base, p->id)))
                        continue;
                v = value_to_json(top, p, base);
                if (v && p->type == SKBT_PARAM_OBJECT && json_object_object_length(v) == 0) {
                        json_object_put(v);
                        continue;
                }
                if (!v || json_object_object_add(o, p->name, v) < 0) {
                        json_object_put(v);
                        json_object_put(o);
                        return NULL;
                }
        }
        return o;
}

json_object *skbt_params_to_json(const struct skbt_param_table *t, const void *base)
{
        return object_to_json(t, t, base);
}

/* ---- command line ---- */

/* DIGITS[.DIGITS] or .DIGITS: strtod() alone would also take signs, blanks, hex,
 * exponents, "inf" and "nan". */
static int arg_seconds(const struct skbt_param *p, const char *s, double *ret, char *err,
                       size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        const char *c = s;
        size_t digits = 0;
        double v;

        for (; *c >= '0' && *c <= '9'; c++)
                digits++;
        if (*c == '.')
                for (c++; *c >= '0' && *c <= '9'; c++)
                        digits++;
        if (digits > 0 && !*c) {
                errno = 0;
                v = strtod(s, NULL);
                if (errno == 0 && isfinite(v) && v > 0 && v <= p->fmax) {
                        *ret = v;
                        return 0;
                }
        }
        return skbt_fail(err, errlen,
                         "invalid %s '%s': expected a number of seconds greater than 0 and at "
                         "most %.0f, e.g. 10 or 2.5",
                         what(p), skbt_quote(s, q), p->fmax);
}

static int arg_uint(const struct skbt_param *p, const char *s, uint64_t *ret, char *err,
                    size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        uint32_t u32;
        uint64_t v = 0;

        if (p->flags & SKBT_PARAM_HEX) {
                if (skbt_parse_u32(what(p), s, &u32, err, errlen) < 0)
                        return -EINVAL;
                v = u32;
        } else if (skbt_parse_decimal(s, p->max, &v) < 0) {
                v = p->max + 1; /* any value out of range */
        }
        if (v < p->min || v > p->max)
                return skbt_fail(err, errlen,
                                 "invalid %s '%s': expected a number from %" PRIu64 " to %" PRIu64,
                                 what(p), skbt_quote(s, q), p->min, p->max);
        *ret = v;
        return 0;
}

/* NAME[,NAME...]: each a name of its own, added to those given before. */
static int arg_strings(const struct skbt_param *p, const char *s, void *base, char *err,
                       size_t errlen)
{
        char q[SKBT_QUOTE_BUF], item[256];
        const char *c = s;

        for (;;) {
                size_t n = strcspn(c, ",");

                if (n == 0)
                        return skbt_fail(err, errlen,
                                         "invalid %s list '%s': empty name, expected "
                                         "NAME[,NAME...]",
                                         what(p), skbt_quote(s, q));
                if (n >= sizeof(item) || n >= p->size)
                        return skbt_fail(err, errlen, "invalid %s '%.*s': longer than %zu bytes",
                                         what(p), (int)MIN(n, (size_t)SKBT_QUOTE_MAX), c,
                                         p->size - 1);
                memcpy(item, c, n);
                item[n] = '\0';
                if (put_item(p, item, base, err, errlen) < 0)
                        return -EINVAL;
                if (!c[n])
                        return 0;
                c += n + 1;
        }
}

int skbt_param_parse_arg(const struct skbt_param_table *t, const struct skbt_param *p,
                         const char *arg, void *base, char *err, size_t errlen)
{
        void *dst = at(base, p->offset);
        uint64_t u = 0;
        int r;

        switch (p->type) {
        case SKBT_PARAM_BOOL:
                *(bool *)dst = true;
                r = 0;
                break;
        case SKBT_PARAM_UINT:
                r = arg_uint(p, arg, &u, err, errlen);
                if (r >= 0)
                        store_uint(dst, p->size, u);
                break;
        case SKBT_PARAM_SECONDS:
                r = arg_seconds(p, arg, dst, err, errlen);
                break;
        case SKBT_PARAM_STRING:
                r = put_string(p, arg, dst, err, errlen);
                break;
        case SKBT_PARAM_ENUM:
                r = put_enum(p, arg, base, err, errlen);
                break;
        case SKBT_PARAM_STRINGS:
                r = arg_strings(p, arg, base, err, errlen);
                break;
        case SKBT_PARAM_PREFIX:
                r = skbt_parse_prefix(arg, dst, err, errlen);
                break;
        case SKBT_PARAM_PROTO:
                r = skbt_parse_proto(arg, dst, err, errlen);
                break;
        default:
                r = skbt_fail(err, errlen, "%s cannot be given on the command line", what(p));
        }
        if (r < 0)
                return r;
        mark_given(t, p, base);
        return 0;
}

/* "  -p, --proto PROTO          help", continuation lines aligned under the help. */
static void usage_row(const struct skbt_param *p, FILE *f)
{
        char head[64];
        const char *h = p->help, *nl;
        int n;

        if (p->cli_short && p->cli_long)
                n = snprintf(head, sizeof(head), "  -%c, --%s%s%s", p->cli_short, p->cli_long,
                             p->cli_arg ? " " : "", p->cli_arg ? p->cli_arg : "");
        else if (p->cli_short)
                n = snprintf(head, sizeof(head), "  -%c%s%s", p->cli_short, p->cli_arg ? " " : "",
                             p->cli_arg ? p->cli_arg : "");
        else
                n = snprintf(head, sizeof(head), "      --%s%s%s", p->cli_long,
                             p->cli_arg ? " " : "", p->cli_arg ? p->cli_arg : "");
        if (n >= 29)
                fprintf(f, "%s\n%29s", head, "");
        else
                fprintf(f, "%-29s", head);
        for (;;) {
                nl = strchr(h, '\n');
                fprintf(f, "%.*s\n", (int)(nl ? nl - h : (ptrdiff_t)strlen(h)), h);
                if (!nl)
                        break;
                h = nl + 1;
                fprintf(f, "%29s", "");
        }
}

void skbt_params_usage(const struct skbt_param_table *t, uint8_t section, FILE *f)
{
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct skbt_param *p = &t->rows[i];

                if (p->type == SKBT_PARAM_OBJECT)
                        skbt_params_usage(p->sub, section, f);
                else if ((p->cli_short || p->cli_long) && p->help && p->section == section)
                        usage_row(p, f);
        }
}
