/* SPDX-License-Identifier: GPL-2.0-only */
/* loader-internal.h - helpers shared by the tracepoint and function attach code */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "loader.h"
#include "macro.h"
#include "symdb.h"

struct skbt_ksyms;

/* probe_table.c */
int skbt_probe_add(struct skbt_loader *l, const char *name, uint8_t kind, uint8_t skb_arg,
                   bool drop);
void skbt_probe_fail(struct skbt_loader *l, struct skbt_probe *p, const char *fmt, ...)
    _printf_(3, 4);
/* Record a function that the backend in use cannot attach, with why. */
void skbt_record_function(struct skbt_loader *l, const struct skbt_sym *s,
                          const struct skbt_ksyms *ksyms, const char *why);
bool skbt_function_is_drop(const struct skbt_sym *s);
bool skbt_probe_wanted(const struct skbt_loader_opts *o, const char *name);

/* stamped.c (skbt_stamp_probe_id() is in loader.h, for tests) */
/* Why a load failed with errno e, from the verifier's log at BPF_LOG_STATS, into why
 * (SKBT_WHY_MAX bytes). */
void skbt_load_why(char *why, int e, const char *log);
/* The program's fd, or a negative errno with why (SKBT_WHY_MAX bytes; may be NULL) saying
 * what the verifier refused. */
int skbt_load_stamped(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                      const char *name, const void *insns, uint32_t attach_btf_id,
                      int attach_btf_obj_fd, char *why);
/* The same, a tracing program whose target is the BPF program attach_prog_fd (fentry/fexit on
 * a tc or XDP program; attach_btf_id: its function in that program's BTF). */
int skbt_load_stamped_on_prog(struct skbt_loader *l, struct bpf_program *tmpl, const char *name,
                              const void *insns, uint32_t attach_btf_id, int attach_prog_fd,
                              char *why);
/*
 * The program to attach for template tmpl: the object's own when it is
 * complete, else (a template whose body the verifier dropped, bpf/skbtrace.bpf.c)
 * a copy stamped with 0, loaded at the first call and kept.  Thread-safe.
 * The fd, or a negative errno with why set.
 */
int skbt_template_fd(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                     char *why);
/* The object's subprograms, indexed once (read-only after, for loads from several threads);
 * freed with the loader. */
int skbt_subprogs_load(struct skbt_loader *l);
void skbt_subprogs_free(struct skbt_loader *l);

/* functions.c */
/* Register the function probes (entries and their returns) the backend can attach. */
int skbt_functions_add(struct skbt_loader *l, const struct skbt_symdb *db,
                       const struct skbt_ksyms *ksyms, const struct skbt_loader_opts *opts);
/* fd of a module's kernel BTF object (kept for the loader's lifetime), or negative errno. */
int skbt_module_btf_fd(struct skbt_loader *l, const char *module);
void skbt_module_btf_close(struct skbt_loader *l);

struct skbtrace;

/* backend_fentry.c */
/* The fentry stubs per skb position: their attach targets for the object's load, or not
 * loaded (typed false, or no function with the skb there). */
void skbt_fentry_set_targets(struct skbtrace *skel, const struct skbt_symdb *db, bool typed);

/* backend_tracepoint.c */
/* Give each tp_btf template, before the object's load, a vmlinux tracepoint whose skb is at
 * the template's position; a template with none is not loaded. */
void skbt_tp_set_targets(struct skbtrace *skel, const struct skbt_symdb *db);
/* Whether raw tracepoint links take an attach cookie that raw_tp programs can read (Linux
 * 6.10+): then one shared program per skb position serves every tracepoint. */
bool skbt_tp_shared_supported(void);
/* Register the tracepoint probes. */
void skbt_tracepoints_add(struct skbt_loader *l, const struct skbt_symdb *db,
                          const struct skbt_loader_opts *opts);

/* attach_nf.c: register the netfilter evaluators as probes of the function backend in use. */
void skbt_nf_add(struct skbt_loader *l, const struct skbt_loader_opts *opts);
/* The stamp of an evaluator's program: probe id, then engine and the argument positions
 * (xtables: skb, state, table; nftables: pktinfo, chain) that its entry reads. */
uint64_t skbt_nf_stamp(uint32_t id, uint8_t engine, const uint8_t pos[3]);

/* attach_bpfprog.c: register the tc and XDP programs loaded now (or, where fentry on BPF
 * programs cannot work, say why). */
void skbt_bpfprog_add(struct skbt_loader *l);
/* attach_nft_rule.c: register nftables' trace hook, the rule behind a verdict, as a helper
 * probe (l->nft_hook_id; else l->nft_rule_why says why not). */
void skbt_nft_rule_add(struct skbt_loader *l);
