/* SPDX-License-Identifier: GPL-2.0-only */
/* params.h - method parameters as tables: one row per member drives decoding, encoding and docs */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * A parameter table describes the "parameters" object of one varlink method
 * (or a nested object such as Trace's "filter"): one row per member, saying
 * its JSON name, type, range, where its value lands in a C struct, and how
 * the command line spells it.  From the rows:
 *   - the daemon decodes and validates a call (skbt_params_from_json()),
 *   - the client builds the call (skbt_params_to_json()), its getopt tables,
 *     its option parsing (skbt_param_parse_arg()) and its usage text,
 *   - unit tests check the rows against the interface file and the docs.
 * The models: systemd's per-method sd_json_dispatch_field tables
 * (src/machine/machine-varlink.c) and xdp-tools' lib/util/params.h.
 *
 * Every decoded struct carries a "given" bit mask (uint64_t at the table's
 * given_offset): bit row->id is set when the member was present and not
 * null.  Rows may also OR a flag into a uint32_t at the table's
 * flags_offset (the filter's SKBT_F_* bits).
 */

enum skbt_param_type {
        SKBT_PARAM_BOOL,    /* bool */
        SKBT_PARAM_UINT,    /* unsigned integer of ->size bytes (1, 2, 4, 8), ->min..->max */
        SKBT_PARAM_SECONDS, /* double: a number greater than 0 and at most ->fmax */
        SKBT_PARAM_STRING,  /* char[->size]: ->min..->size-1 bytes, no NUL inside */
        SKBT_PARAM_ENUM,    /* uint8_t: index into ->values[->max] (NULL entries: holes) */
        SKBT_PARAM_STRINGS, /* char[->max][->size], count (uint32_t) at ->count_offset */
        SKBT_PARAM_PREFIX,  /* struct skbt_prefix from "ADDR[/PREFIX]" */
        SKBT_PARAM_PROTO,   /* uint8_t from a protocol name or number (a string, or an integer) */
        SKBT_PARAM_OBJECT,  /* a nested object: ->sub, decoded into the same struct */
        _SKBT_PARAM_TYPE_MAX,
};

enum {
        SKBT_PARAM_REQUIRED = 1 << 0, /* the call must have it */
        SKBT_PARAM_ONCE = 1 << 1,     /* command line: refused twice (filters only AND) */
        SKBT_PARAM_REPEAT = 1 << 2,   /* command line: STRINGS given again add up */
        SKBT_PARAM_UNIQUE = 1 << 3,   /* STRINGS: no name twice */
        SKBT_PARAM_HEX = 1 << 4,      /* command line: decimal or 0x hexadecimal (32 bits) */
        SKBT_PARAM_CUSTOM = 1 << 5,   /* command line: the client parses the argument itself */
};

struct skbt_param_table;

struct skbt_param {
        const char *name; /* JSON member; NULL: a command-line spelling of another row */
        enum skbt_param_type type;
        uint8_t id; /* bit in the given mask (unique in the top-level table) */
        uint32_t flags;
        size_t offset;     /* of the value in the decoded struct */
        size_t size;       /* of that member: UINT width, STRING(S) buffer size per item */
        uint64_t min, max; /* UINT: range; STRING: shortest length; STRINGS: items; ENUM: values */
        double fmax;       /* SECONDS: the largest value */
        size_t count_offset;                /* STRINGS: uint32_t item count */
        const char *const *values;          /* ENUM: names, index = value */
        uint32_t flag;                      /* ORed into the table's flags word when given */
        const struct skbt_param_table *sub; /* OBJECT */
        /* STRING(S): a check of the value's form (not of what it names), message in err. */
        int (*check)(const char *s, char *err, size_t errlen);
        const char *what; /* in messages ("port", "field"); NULL: the name */

        /* Command line (client/): no long name means no option. */
        char cli_short;
        const char *cli_long;
        const char *cli_arg;   /* the argument in usage ("PORT"); NULL: a flag */
        const char *cli_value; /* a flag standing for this argument (-4: "ipv4") */
        const char *help;      /* usage text; "\n" starts a continuation line */
        uint8_t section;       /* usage section, in the order of the table's sections */
};

struct skbt_param_table {
        const char *name; /* for messages and docs: "io.skbtraced.Trace", "filter" */
        const struct skbt_param *rows;
        size_t n_rows;
        size_t given_offset;         /* uint64_t, in the top-level struct */
        size_t flags_offset;         /* uint32_t, or SKBT_PARAM_NO_FLAGS */
        const char *const *sections; /* usage section headings, indexed by row->section */
};

#define SKBT_PARAM_NO_FLAGS ((size_t)-1)

/* The given bit of a row. */
#define SKBT_PARAM_BIT(id) (UINT64_C(1) << (id))

static inline bool skbt_param_given(const struct skbt_param_table *t, const void *base, uint8_t id)
{
        const uint64_t *given = (const uint64_t *)((const char *)base + t->given_offset);

        return *given & SKBT_PARAM_BIT(id);
}

/* The row with that JSON name, or NULL. */
const struct skbt_param *skbt_params_find(const struct skbt_param_table *t, const char *name);
/* The row with that id (first of its spellings), or NULL. */
const struct skbt_param *skbt_params_find_id(const struct skbt_param_table *t, uint8_t id);

/**
 * skbt_params_from_json() - decode and validate the parameters of a call
 * @t: the method's table
 * @params: the "parameters" object; NULL (absent or null) is an empty one
 * @base: the struct the rows describe, zeroed by the caller (defaults are 0)
 * @bad: on error, the member at fault ("filter.sport", or "parameters")
 * @badlen: size of @bad
 * @err: on error, a one-line message saying what is accepted
 *
 * Unknown members, wrong types, values out of range, missing required
 * members: -EINVAL.  A member whose value is null counts as absent.
 *
 * Return: 0 or -EINVAL.
 */
int skbt_params_from_json(const struct skbt_param_table *t, json_object *params, void *base,
                          char *bad, size_t badlen, char *err, size_t errlen);

/**
 * skbt_params_to_json() - the "parameters" object for the given members of base
 *
 * Members not given are left out (the daemon's defaults apply).  Nested
 * objects with no member given are left out too.
 *
 * Return: a new object, NULL when out of memory.
 */
json_object *skbt_params_to_json(const struct skbt_param_table *t, const void *base);

/**
 * skbt_param_parse_arg() - a command-line argument into its row's place
 * @t: the top-level table (for the given mask and flags word)
 * @p: the row of the option
 * @arg: its argument (p->cli_value for a flag that stands for one; NULL for BOOL)
 * @base: the struct
 *
 * Does what skbt_params_from_json() does with a member, from command-line
 * text: the same ranges, and messages that quote what the user typed.
 * Rows with SKBT_PARAM_CUSTOM are the caller's.
 */
int skbt_param_parse_arg(const struct skbt_param_table *t, const struct skbt_param *p,
                         const char *arg, void *base, char *err, size_t errlen);

/* Usage lines of the options in one section of t (and its nested tables). */
void skbt_params_usage(const struct skbt_param_table *t, uint8_t section, FILE *f);
