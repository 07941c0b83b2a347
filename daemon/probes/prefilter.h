/* SPDX-License-Identifier: GPL-2.0-only */
/* prefilter.h - keep the BPF session prefilter tables in step with the session filters */
#pragma once

#include <stdint.h>

#include "skbt_abi.h"

struct skbt_loader;

/*
 * Rebuild the prefilter tables (common/skbt_prefilter.h) for the sessions
 * in mask, from the filters in the BPF state.  Every table word is
 * written atomically and only ever holds a superset of what the sessions
 * live in BPF need, provided the caller adds a session's bit here before
 * setting it in state.active, and removes it after clearing it there.
 */
void skbt_prefilter_sync(struct skbt_loader *l, uint64_t mask);

/* Compute the tables for the sessions in mask (exposed for unit tests). */
void skbt_prefilter_build(struct skbt_prefilter *pf, const struct skbt_filter *filters,
                          uint64_t mask);
