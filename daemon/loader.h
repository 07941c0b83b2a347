/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - load the BPF programs once and attach them to every skb probe */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "skbt_abi.h"

struct skbt_symdb;
struct skbtrace;

/* One probe point: a tracepoint or function we attached (or tried to). */
struct skbt_probe {
        char *name;       /* "skb:kfree_skb" for tracepoints, "ip_rcv" for functions */
        uint8_t kind;     /* enum skbt_probe_kind */
        uint8_t skb_arg;  /* 0-based position of the skb argument */
        uint8_t backend;  /* enum skbt_backend that attached it */
        bool drop;        /* reports drop reason and location */
        bool attached;
        char *error;      /* why it is not attached */
        int prog_fd;
        int link_fd;
};

struct skbt_loader {
        struct skbtrace *skel;
        struct skbt_probe *probes; /* index = probe id */
        uint32_t n_probes;
        uint32_t n_attached;
        uint32_t n_skipped;     /* tried and failed to load or attach */
        uint32_t n_unsupported; /* discovered, but no backend in use can attach them */
        enum skbt_backend backend;
        /* Shared with the programs through the mmapped .bss. */
        struct skbt_state *state;
        uint64_t *probe_sessions;
        int ringbuf_fd;
        int lost_fd;
        int stats_fd;
        int n_cpus;
        uint64_t load_ns; /* time to load and attach everything */
};

/*
 * Load the programs and attach them to every probe in db that backend can
 * serve.  A probe that fails to load or attach is recorded with its error
 * and skipped; only a failure to load the object itself is fatal.
 */
struct skbt_ksyms;
int skbt_loader_new(const struct skbt_symdb *db, const struct skbt_ksyms *ksyms,
                    enum skbt_backend backend, uint32_t ringbuf_bytes,
                    struct skbt_loader **ret);
/* Detach and unload everything.  Accepts NULL, returns NULL. */
struct skbt_loader *skbt_loader_free(struct skbt_loader *l);

/* Sum a per-CPU counter from the lost (per session slot) or stats map. */
int skbt_loader_read_lost(const struct skbt_loader *l, uint32_t slot, uint64_t *ret);
int skbt_loader_reset_lost(const struct skbt_loader *l, uint32_t slot);
int skbt_loader_read_stat(const struct skbt_loader *l, uint32_t idx, uint64_t *ret);
/* Make a program that is a copy of the template with the probe id patched
 * into the marker immediate.  Exposed for tests. */
int skbt_stamp_probe_id(const void *insns, size_t n_insns, uint32_t probe_id, void **ret);
