/* SPDX-License-Identifier: GPL-2.0-only */
/* symdb.h - discover skb probe points from BTF, drop reasons, kernel symbols */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

enum skbt_sym_kind {
        SKBT_SYM_FUNCTION = 0,   /* kernel function with an skb parameter */
        SKBT_SYM_TRACEPOINT = 1, /* raw tracepoint (btf_trace_<name>) with an skb argument */
};

/* One probe point candidate. */
struct skbt_sym {
        char *name;         /* function name, or tracepoint name without system ("kfree_skb") */
        char *system;       /* tracepoint system ("skb", "net") when known, else NULL */
        char *module;       /* NULL for vmlinux */
        uint32_t btf_id;    /* FUNC id, or the btf_trace_<name> TYPEDEF id */
        uint8_t kind;       /* enum skbt_sym_kind */
        uint8_t skb_arg;    /* 0-based position of the struct sk_buff * argument (tracepoints:
                               not counting the leading void *ctx of btf_trace_*) */
        uint8_t sk_arg1;    /* 1 + the 0-based position of the first struct sock * argument,
                               0: none */
        uint8_t nr_args;    /* number of arguments (tracepoints: without ctx) */
        bool returns_value; /* function returns non-void */
};

struct skbt_symdb {
        struct skbt_sym *syms;
        size_t n_syms;
};

/*
 * Append every function (BTF_KIND_FUNC) and every raw tracepoint type
 * (typedef btf_trace_NAME: pointer to a func proto whose first argument is
 * void *) that takes a struct sk_buff * (const or not) to db.  For several
 * skb arguments the first is recorded.  Functions with more than 12
 * arguments or variadic are skipped.  Returns 0 or negative errno.
 */
int skbt_symdb_scan_btf(struct skbt_symdb *db, const struct btf *btf, const char *module);
void skbt_symdb_done(struct skbt_symdb *db);

/*
 * Call cb with the split BTF of every module in /sys/kernel/btf whose name
 * contains name_part (NULL: every module), on top of vmlinux.  A module
 * whose BTF cannot be parsed is skipped (logged at debug level).
 */
void skbt_btf_foreach_module(const struct btf *vmlinux, const char *name_part,
                             void (*cb)(const struct btf *btf, const char *module, void *data),
                             void *data);
/* Sort by kind, then name (stable output for List). */
void skbt_symdb_sort(struct skbt_symdb *db);

/*
 * Fill sym->system for tracepoints from tracefs (events/SYSTEM/NAME).  Looks
 * at tracefs_dir (e.g. "/sys/kernel/tracing"); returns -ENOENT if it is not
 * readable (caller may mount it and retry; tracepoints still work without it).
 */
int skbt_symdb_fill_systems(struct skbt_symdb *db, const char *tracefs_dir);

/*
 * Names of enum skb_drop_reason from BTF, indexed by value, with the
 * "SKB_DROP_REASON_" prefix stripped ("NO_SOCKET"); SKB_CONSUMED and
 * SKB_NOT_DROPPED_YET keep their names.  Holes are NULL.
 * -ENOENT when the kernel has no such enum (before 5.17).
 */
int skbt_drop_reasons_load(const struct btf *btf, char ***ret_names, uint32_t *ret_n);
void skbt_drop_reasons_free(char **names, uint32_t n);

/* Kernel symbols from a kallsyms-format file (text symbols only). */
struct skbt_ksyms;
int skbt_ksyms_load(const char *path, struct skbt_ksyms **ret);
struct skbt_ksyms *skbt_ksyms_free(struct skbt_ksyms *k);
/* "func+0x1a/0x200" (offset/size when size is known, size = distance to next symbol). */
int skbt_ksyms_symbolize(const struct skbt_ksyms *k, uint64_t addr, char *buf, size_t len);
/* Address of a symbol by exact name, 0 if absent (also tells "is it in kallsyms"). */
uint64_t skbt_ksyms_lookup(const struct skbt_ksyms *k, const char *name);
bool skbt_ksyms_addresses_visible(const struct skbt_ksyms *k); /* false if kptr_restrict hid them */
