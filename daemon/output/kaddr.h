/* SPDX-License-Identifier: GPL-2.0-only */
/* kaddr.h - kernel addresses only for those allowed to see them (like kptr_restrict) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "skbt_abi.h"

/*
 * Root can read /proc/kallsyms; group members see zeros there, so the
 * daemon must not hand them kernel addresses either (they would defeat
 * KASLR).  For their sessions an event is rendered from a copy in which:
 *   - the skb address (packet_id) is a keyed hash, SipHash-2-4 with a key
 *     drawn at daemon start: stable for a packet (and equal for a pointer
 *     return value naming the same skb) within one daemon run, and
 *     meaningless across runs or to anyone without the key;
 *   - a return value in the kernel's address range (a returned pointer) is
 *     hashed the same way (skb_clone's return is the clone's packet_id);
 *   - drop locations and stack frames that cannot be shown as
 *     function+offset are 0 instead of raw addresses.
 * Custom fields that are pointers are refused for them (method_trace.c).
 */
struct skbt_kaddr_key {
        uint64_t k[2];
};

/* A fresh random key (getrandom); -errno if none could be drawn. */
int skbt_kaddr_key_init(struct skbt_kaddr_key *key);
uint64_t skbt_kaddr_hash(const struct skbt_kaddr_key *key, uint64_t addr);
/* True for values in the kernel half that are not an ERR_PTR(-errno). */
bool skbt_kaddr_is_kernel(uint64_t v);

/*
 * Hide the addresses of an event in place, as above: its header and the
 * ev->stack_depth frames that follow it (the caller checked they are there).
 */
void skbt_kaddr_mask(const struct skbt_kaddr_key *key, const struct skbt_names *names,
                     struct skbt_event *ev);
