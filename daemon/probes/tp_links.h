/* SPDX-License-Identifier: GPL-2.0-only */
/* tp_links.h - close the tracepoint probes' links while idle; their programs stay loaded */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "loader.h"

/* A tracepoint probe whose link can be closed and opened again (its program is loaded). */
static inline bool skbt_tp_relinkable(const struct skbt_probe *p)
{
        return p->kind == SKBT_PROBE_TRACEPOINT && p->prog_fd >= 0 && p->target;
}

/*
 * Open the link of every relinkable probe that has none.  A probe whose link
 * cannot be opened is logged, marked not attached with the reason in
 * p->error, and left out; the others are attached all the same (a probe that
 * failed once is tried again next time).  Returns how many failed.
 */
uint32_t skbt_tp_links_open(struct skbt_loader *l);
/* Close every relinkable probe's link: no program runs on those tracepoints. */
void skbt_tp_links_close(struct skbt_loader *l);
/* Relinkable probes (loaded), and those of them that have a link now. */
uint32_t skbt_tp_links_loaded(const struct skbt_loader *l);
uint32_t skbt_tp_links_linked(const struct skbt_loader *l);
