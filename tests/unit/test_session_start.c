/* SPDX-License-Identifier: GPL-2.0-only */
/* test_session_start.c - a session that cannot start leaves nothing behind (built with ASan) */
#include <errno.h>
#include <string.h>

#include "skbtraced.h"
#include "testlib.h"

/*
 * skbt_session_start() fails when the daemon's shared table of custom fields
 * is full, after it allocated the session's aggregate and function_graph
 * state: all of it must be freed.  This file is built with AddressSanitizer,
 * whose leak check at exit fails the test if anything is left (it did leak the
 * aggregate state before, issue 13).  The failure comes before any BPF map is
 * touched, so a loader with only its field table is enough.
 */
static struct skbt_field_table table;
static struct skbt_loader loader = {.field_table = &table};

static void fill_registry(struct skbtraced *d)
{
        for (uint32_t i = 0; i < SKBT_FIELDS_MAX; i++) {
                d->fields.refs[i] = 1;
                d->fields.f[i] = (struct skbt_field){.off = {i}, .n_hops = 1, .size = 4};
        }
}

static void check_refused(enum skbt_tracer tracer, enum skbt_output output)
{
        static struct skbtraced d;
        struct skbt_session tmpl = {
            .tracer = tracer,
            .output = output,
            .render = output,
            .egress_probe = SKBT_NO_PROBE,
            .fields = {.n = 1},
        };
        struct skbt_session_output out = {};
        struct skbt_session *s = NULL;
        uint8_t sel[1] = {0};

        memset(&d, 0, sizeof(d));
        d.loader = &loader;
        fill_registry(&d);
        /* A field no entry of the full table holds. */
        tmpl.fields.f[0].f = (struct skbt_field){.off = {999}, .n_hops = 1, .size = 8};
        CHECK_INTEQ(skbt_session_start(&d, &tmpl, sel, &out, &s), -ENOSPC);
        CHECK(s == NULL);
        CHECK_INTEQ(d.n_sessions, 0);
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++)
                CHECK(d.slots[i] == NULL);
        /* The entries other sessions hold are untouched. */
        for (uint32_t i = 0; i < SKBT_FIELDS_MAX; i++)
                CHECK_INTEQ(d.fields.refs[i], 1);
}

int main(void)
{
        check_refused(SKBT_TRACER_FUNCTION, SKBT_OUTPUT_AGGREGATE);
        check_refused(SKBT_TRACER_FUNCTION, SKBT_OUTPUT_AGGREGATE_JSON);
        check_refused(SKBT_TRACER_FUNCTION_GRAPH, SKBT_OUTPUT_TEXT);
        check_refused(SKBT_TRACER_FUNCTION, SKBT_OUTPUT_JSON);
        return TEST_DONE();
}
