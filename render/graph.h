/* SPDX-License-Identifier: GPL-2.0-only */
/* graph.h - function_graph output: call depth per packet, entries and returns */
#pragma once

#include "format.h"

struct skbt_graph;

int skbt_graph_new(struct skbt_graph **ret);
struct skbt_graph *skbt_graph_free(struct skbt_graph *g);

/*
 * Render ev as a function_graph line, tracking the call depth of its packet:
 *   text: "<ts> <cpu> <packet_id> <indent>ip_local_deliver() {" ... "<indent>} retval=0"
 *   json: the usual event object (with opts, as for plain events) plus "depth".
 * Depth is tracked for a bounded number of packets; the least recently seen
 * packet is forgotten first (its later lines then start again at depth 0).
 */
void skbt_graph_format(struct skbt_graph *g, struct strbuf *out, enum skbt_output fmt,
                       const struct skbt_format_opts *opts, const struct skbt_event *ev,
                       const struct skbt_names *names);
