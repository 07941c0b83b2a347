/* SPDX-License-Identifier: GPL-2.0-only */
/* graph.c - function_graph output: call depth per packet, entries and returns */
#include <errno.h>
#include <stdlib.h>

#include "graph.h"
#include "skbt_probe_names.h"

/* Packets followed at once per session; a power of two. */
#define GRAPH_SLOTS 1024
#define GRAPH_PROBE 8
#define GRAPH_MAX_INDENT 32

struct graph_slot {
        uint64_t skb;
        uint64_t last_ts;
        uint32_t depth;
};

struct skbt_graph {
        struct graph_slot slot[GRAPH_SLOTS];
};

int skbt_graph_new(struct skbt_graph **ret)
{
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

struct skbt_graph *skbt_graph_free(struct skbt_graph *g)
{
        free(g);
        return NULL;
}

/* The packet's slot: found, or a free one, or the stalest among the probed. */
static struct graph_slot *graph_slot(struct skbt_graph *g, uint64_t skb)
{
        uint32_t h = (uint32_t)((skb >> 6) * 0x9e3779b97f4a7c15ULL >> 32);
        struct graph_slot *victim = NULL;

        for (uint32_t i = 0; i < GRAPH_PROBE; i++) {
                struct graph_slot *s = &g->slot[(h + i) & (GRAPH_SLOTS - 1)];

                if (s->skb == skb)
                        return s;
                if (!s->skb) {
                        if (!victim || victim->skb)
                                victim = s;
                } else if (!victim || (victim->skb && s->last_ts < victim->last_ts)) {
                        victim = s;
                }
        }
        *victim = (struct graph_slot){.skb = skb};
        return victim;
}

static void put_indent(struct strbuf *out, uint32_t depth)
{
        for (uint32_t i = 0; i < depth && i < GRAPH_MAX_INDENT; i++)
                strbuf_puts(out, "  ");
}

void skbt_graph_format(struct skbt_graph *g, struct strbuf *out, enum skbt_output fmt,
                       const struct skbt_format_opts *opts, const struct skbt_event *ev,
                       const struct skbt_names *names)
{
        struct graph_slot *s = graph_slot(g, ev->skb);
        bool ret = ev->flags & SKBT_EV_RETURN, nf = ev->flags & SKBT_EV_NF;
        const char *name = ev->probe_id < names->n_probes && names->probes[ev->probe_id]
                               ? names->probes[ev->probe_id]
                               : NULL;
        /* No return will close it: "name();" at this depth. */
        bool leaf = !ret && !nf && skbt_function_keeps_return_address(name);
        uint32_t depth;

        if (ret && s->depth > 0)
                s->depth--;
        depth = s->depth;
        /* A verdict is said inside the evaluation it ends, and opens nothing. */
        if (!ret && !nf && !leaf)
                s->depth++;
        s->last_ts = ev->ts;
        /* A packet that returned out of its outermost call is done. */
        if (ret && depth == 0)
                s->skb = 0;

        if (fmt == SKBT_OUTPUT_JSON) {
                size_t start = out->len;

                skbt_format_event_opts(out, SKBT_OUTPUT_JSON, opts, ev, names);
                /* Reopen the object to add the depth: "...}\n" -> "...,"depth":N}\n". */
                if (!strbuf_failed(out) && out->len >= start + 2 &&
                    out->data[out->len - 2] == '}') {
                        out->len -= 2;
                        strbuf_puts(out, ",\"depth\":");
                        strbuf_put_u64(out, depth);
                        strbuf_puts(out, "}\n");
                }
                return;
        }
        strbuf_put_u64(out, ev->ts);
        strbuf_printf(out, " %03u ", ev->cpu);
        strbuf_put_hex(out, ev->skb);
        strbuf_putc(out, ' ');
        put_indent(out, depth);
        if (nf) {
                strbuf_puts(out, "/*");
                skbt_format_nf_text(out, (const struct skbt_nf *)(ev + 1), (uint32_t)ev->retval,
                                    opts->nf_rules);
                strbuf_puts(out, " */\n");
                return;
        }
        if (ret) {
                strbuf_puts(out, "} ");
                if (name)
                        strbuf_printf(out, "/* %s */ ", name);
                strbuf_puts(out, "retval=");
                strbuf_put_i64(out, ev->retval);
                strbuf_putc(out, '\n');
                return;
        }
        if (name)
                strbuf_puts(out, name);
        else
                strbuf_printf(out, "probe#%u", ev->probe_id);
        strbuf_puts(out, leaf ? "();" : "() {");
        if (depth == 0) {
                /* The outermost call names the packet. */
                strbuf_puts(out, "  ");
                skbt_format_flow(out, ev);
        }
        strbuf_putc(out, '\n');
}
