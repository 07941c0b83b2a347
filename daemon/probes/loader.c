/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.c - load the BPF programs once and attach them to every skb probe */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>

#include "loader-internal.h"
#include "loader.h"
#include "log.h"
#include "skbtrace.skel.h"
#include "symdb.h"

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int skbt_stamp_probe_id(const void *insns, size_t n_insns, uint64_t stamp, void **ret)
{
        struct bpf_insn *copy;
        size_t i, found = 0;

        copy = malloc(n_insns * sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, insns, n_insns * sizeof(*copy));
        for (i = 0; i + 1 < n_insns; i++) {
                if (copy[i].code != (BPF_LD | BPF_DW | BPF_IMM) || copy[i].src_reg != 0)
                        continue;
                if ((uint32_t)copy[i].imm == SKBT_PROBE_ID_MARKER && copy[i + 1].imm == 0) {
                        copy[i].imm = (int32_t)(uint32_t)stamp;
                        copy[i + 1].imm = (int32_t)(uint32_t)(stamp >> 32);
                        found++;
                }
                i++; /* ld_imm64 takes two slots */
        }
        if (found == 0) {
                free(copy);
                return -ENOENT;
        }
        *ret = copy;
        return 0;
}

int skbt_probe_add(struct skbt_loader *l, const char *name, uint8_t kind, uint8_t skb_arg,
                   bool drop)
{
        struct skbt_probe *p;

        if (l->n_probes >= SKBT_MAX_PROBES)
                return -E2BIG;
        p = &l->probes[l->n_probes];
        *p = (struct skbt_probe){
            .kind = kind,
            .skb_arg = skb_arg,
            .backend = SKBT_BACKEND_TRACEPOINT,
            .drop = drop,
            .prog_fd = -1,
            .ret_prog_fd = -1,
            .ret_id = SKBT_NO_PROBE,
            .entry_id = SKBT_NO_PROBE,
            .attached = true, /* usable until a load or attach says otherwise */
            .life = (uint16_t)skbt_probe_life(name, kind),
        };
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        return (int)l->n_probes++;
}

void skbt_probe_fail(struct skbt_loader *l, struct skbt_probe *p, const char *fmt, ...)
{
        char buf[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        free(p->error);
        p->error = strdup(buf);
        p->attached = false;
        log_debug("probe %s%s skipped: %s", p->name, p->is_return ? " (return)" : "", buf);
}

/*
 * The BPF-to-BPF call targets a program may have: every function in the
 * object's .text, with its BTF FUNC and its opcodes.  libbpf appends the
 * subprograms a program calls after its own code, in an order that depends
 * on the call graph, and does not say which is where; the ELF symbol table
 * of the object (embedded in the skeleton) does, and a subprogram is then
 * recognised in a program by its length and opcodes (relocations change
 * immediates and offsets, never opcodes).
 */
static void subprogs_free(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_subprogs; i++)
                free(l->subprogs[i].codes);
        free(l->subprogs);
        l->subprogs = NULL;
        l->n_subprogs = 0;
}

static int subprogs_load(struct skbt_loader *l)
{
        const struct btf *btf = bpf_object__btf(l->skel->obj);
        _cleanup_free_ char *image = NULL;
        const void *bytes;
        Elf_Data *text = NULL, *syms = NULL;
        Elf_Scn *scn = NULL;
        size_t size, text_idx = 0, strtab = 0, n_syms = 0, shstrndx;
        Elf *elf;
        int r = 0;

        if (l->subprogs || !btf)
                return btf ? 0 : -ENOENT;
        bytes = skbtrace__elf_bytes(&size);
        image = malloc(size);
        if (!image)
                return -ENOMEM;
        memcpy(image, bytes, size);
        if (elf_version(EV_CURRENT) == EV_NONE)
                return -EINVAL;
        elf = elf_memory(image, size);
        if (!elf)
                return -EINVAL;
        if (elf_getshdrstrndx(elf, &shstrndx) < 0) {
                elf_end(elf);
                return -EINVAL;
        }
        while ((scn = elf_nextscn(elf, scn))) {
                GElf_Shdr sh;
                const char *name;

                if (!gelf_getshdr(scn, &sh))
                        continue;
                name = elf_strptr(elf, shstrndx, sh.sh_name);
                if (!name)
                        continue;
                if (sh.sh_type == SHT_SYMTAB) {
                        syms = elf_getdata(scn, NULL);
                        strtab = sh.sh_link;
                        n_syms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
                } else if (strcmp(name, ".text") == 0) {
                        text = elf_getdata(scn, NULL);
                        text_idx = elf_ndxscn(scn);
                }
        }
        if (!syms || !text || !text->d_buf) {
                /* No subprograms at all. */
                elf_end(elf);
                return 0;
        }
        for (size_t i = 0; i < n_syms; i++) {
                struct skbt_subprog *sp, *nsp;
                const char *name;
                GElf_Sym sym;
                int id;

                if (!gelf_getsym(syms, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                    sym.st_shndx != text_idx || sym.st_size == 0)
                        continue;
                if (sym.st_value + sym.st_size > text->d_size)
                        continue;
                name = elf_strptr(elf, strtab, sym.st_name);
                id = name ? btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) : -ENOENT;
                if (id < 0)
                        continue;
                nsp = reallocarray(l->subprogs, l->n_subprogs + 1, sizeof(*nsp));
                if (!nsp) {
                        r = -ENOMEM;
                        break;
                }
                l->subprogs = nsp;
                sp = &l->subprogs[l->n_subprogs];
                sp->btf_id = (uint32_t)id;
                sp->n = (uint32_t)(sym.st_size / sizeof(struct bpf_insn));
                sp->codes = malloc(sp->n);
                if (!sp->codes) {
                        r = -ENOMEM;
                        break;
                }
                for (uint32_t k = 0; k < sp->n; k++)
                        sp->codes[k] =
                            ((const struct bpf_insn *)((const char *)text->d_buf + sym.st_value))[k]
                                .code;
                l->n_subprogs++;
        }
        elf_end(elf);
        return r;
}

/* The BTF FUNC of the subprogram at insns[off..end), or -ENOENT. */
static int subprog_btf_id(const struct skbt_loader *l, const struct bpf_insn *insns, size_t off,
                          size_t end)
{
        int by_len = -ENOENT, n_by_len = 0;

        for (uint32_t i = 0; i < l->n_subprogs; i++) {
                const struct skbt_subprog *sp = &l->subprogs[i];
                bool same = true;

                if (sp->n != end - off)
                        continue;
                by_len = (int)sp->btf_id;
                n_by_len++;
                for (uint32_t k = 0; k < sp->n && same; k++)
                        same = insns[off + k].code == sp->codes[k];
                if (same)
                        return (int)sp->btf_id;
        }
        /* A CO-RE relocation libbpf had to poison changes an opcode; the length still tells. */
        return n_by_len == 1 ? by_len : -ENOENT;
}

/*
 * BTF func_info for a program's final instructions: the entry point at 0 and
 * every subprogram that a BPF-to-BPF call targets.  We cannot reuse what the
 * kernel reports for the template: there the stamped marker id makes the
 * body dead code, and the verifier drops the dead subprograms from it.
 */
static int build_func_info(struct skbt_loader *l, struct bpf_program *tmpl,
                           struct bpf_func_info **ret, uint32_t *ret_cnt)
{
        const struct bpf_insn *insns = bpf_program__insns(tmpl);
        size_t n = bpf_program__insn_cnt(tmpl);
        const struct btf *btf = bpf_object__btf(l->skel->obj);
        _cleanup_free_ struct bpf_func_info *fi = NULL;
        uint32_t cnt = 0;
        int id, r;

        if (!btf)
                return -ENOENT;
        r = subprogs_load(l);
        if (r < 0)
                return r;
        /* At most one record per call instruction, plus the entry point. */
        fi = calloc(n + 1, sizeof(*fi));
        if (!fi)
                return -ENOMEM;
        id = btf__find_by_name_kind(btf, bpf_program__name(tmpl), BTF_KIND_FUNC);
        if (id < 0)
                return id;
        fi[cnt++] = (struct bpf_func_info){.insn_off = 0, .type_id = (uint32_t)id};
        for (size_t i = 0; i < n; i++) {
                size_t target;
                bool seen = false;

                if (insns[i].code != (BPF_JMP | BPF_CALL) || insns[i].src_reg != BPF_PSEUDO_CALL)
                        continue;
                target = (size_t)((long)i + insns[i].imm + 1);
                for (uint32_t k = 0; k < cnt; k++)
                        if (fi[k].insn_off == target)
                                seen = true;
                if (!seen)
                        fi[cnt++] = (struct bpf_func_info){.insn_off = (uint32_t)target};
        }
        /* The kernel wants records sorted by instruction offset. */
        for (uint32_t a = 1; a < cnt; a++)
                for (uint32_t b = a; b > 0 && fi[b - 1].insn_off > fi[b].insn_off; b--) {
                        struct bpf_func_info tmp = fi[b];

                        fi[b] = fi[b - 1];
                        fi[b - 1] = tmp;
                }
        /* Each subprogram runs up to the next one (libbpf appends them back to back). */
        for (uint32_t a = 1; a < cnt; a++) {
                size_t end = a + 1 < cnt ? fi[a + 1].insn_off : n;

                id = subprog_btf_id(l, insns, fi[a].insn_off, end);
                if (id < 0) {
                        log_debug("%s: no function of the object matches the subprogram at "
                                  "instruction %u",
                                  bpf_program__name(tmpl), fi[a].insn_off);
                        return id;
                }
                fi[a].type_id = (uint32_t)id;
        }
        *ret = TAKE_PTR(fi);
        *ret_cnt = cnt;
        return 0;
}

/* Load a stamped copy of a template, with the BTF the verifier needs for
 * the global filter function (checked once on its own, which keeps
 * verification of the body small). */
/*
 * Program loads are where start-up and attach time goes (each stamped copy of
 * the body is verified on its own): count them, their time and the
 * instructions the verifier went through (Status "load", docs/protocol.md).
 * Loads may run in several threads.
 */
static void count_load(struct skbt_loader *l, int fd, const char *name, uint64_t ns)
{
        struct bpf_prog_info info = {};
        __u32 len = sizeof(info);

        /* verified_insns: Linux 5.16+; 0 before. */
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                info.verified_insns = 0;
        __atomic_fetch_add(&l->loads.n, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&l->loads.ns, ns, __ATOMIC_RELAXED);
        __atomic_fetch_add(&l->loads.verified_insns, info.verified_insns, __ATOMIC_RELAXED);
        log_debug("loaded %s in %.1f ms (%u instructions verified)", name, (double)ns / 1e6,
                  info.verified_insns);
}

int skbt_load_stamped(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                      const char *name, const void *insns, uint32_t attach_btf_id,
                      int attach_btf_obj_fd)
{
        _cleanup_free_ struct bpf_func_info *fi = NULL;
        uint32_t cnt = 0;
        uint64_t t0;
        int r;

        r = build_func_info(l, tmpl, &fi, &cnt);
        if (r < 0)
                return r;
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = bpf_object__btf_fd(l->skel->obj),
                    .func_info = fi, .func_info_cnt = cnt,
                    .func_info_rec_size = sizeof(struct bpf_func_info),
                    .expected_attach_type = bpf_program__expected_attach_type(tmpl),
                    .attach_btf_id = attach_btf_id, .attach_btf_obj_fd = attach_btf_obj_fd);
        t0 = now_ns();
        r = bpf_prog_load(type, name, "GPL", insns, bpf_program__insn_cnt(tmpl), &opts);
        if (r >= 0)
                count_load(l, r, name, now_ns() - t0);
        if (r < 0) {
                /* Load again for the verifier's statistics, so the reason is visible;
                 * SKBTRACED_VERIFIER_LOG=1 asks for the full log's tail (debugging). */
                bool full = getenv("SKBTRACED_VERIFIER_LOG") != NULL;
                size_t size = full ? (64u << 20) : 4096;
                _cleanup_free_ char *log = calloc(1, size);
                int e = errno;

                if (!log)
                        return -e;
                opts.log_buf = log;
                opts.log_size = (uint32_t)size;
                opts.log_level = full ? 1 : 4;
                r = bpf_prog_load(type, name, "GPL", insns, bpf_program__insn_cnt(tmpl), &opts);
                if (r >= 0)
                        return r; /* a transient failure */
                log_debug("verifier on %s: ...%s", name,
                          log + (strlen(log) > (full ? 1900 : 300)
                                     ? strlen(log) - (full ? 1900 : 300)
                                     : 0));
                /* SKBTRACED_VERIFIER_LOG=/path: the whole log of the first failure there. */
                if (full && getenv("SKBTRACED_VERIFIER_LOG")[0] == '/') {
                        FILE *f = fopen(getenv("SKBTRACED_VERIFIER_LOG"), "wx");

                        if (f) {
                                fputs(log, f);
                                fclose(f);
                        }
                }
                return -e;
        }
        return r;
}

int skbt_template_fd(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                     char *why)
{
        _cleanup_free_ void *insns = NULL;
        int r;

        pthread_mutex_lock(&l->tmpl_lock);
        for (uint32_t i = 0; i < l->n_tmpl_copies; i++)
                if (l->tmpl_copies[i].tmpl == tmpl) {
                        r = l->tmpl_copies[i].fd;
                        goto out;
                }
        r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), 0, &insns);
        if (r == -ENOENT) {
                /* No stamp: the object's program is complete. */
                r = bpf_program__fd(tmpl);
                if (r < 0)
                        snprintf(why, SKBT_WHY_MAX, "template %s not loaded",
                                 bpf_program__name(tmpl));
                goto out;
        }
        if (r < 0 || l->n_tmpl_copies >= SKBT_TMPL_COPIES_MAX) {
                r = r < 0 ? r : -E2BIG;
                snprintf(why, SKBT_WHY_MAX, "copying template %s: %s", bpf_program__name(tmpl),
                         strerror(-r));
                goto out;
        }
        r = skbt_load_stamped(l, tmpl, type, bpf_program__name(tmpl), insns, 0, 0);
        if (r < 0) {
                snprintf(why, SKBT_WHY_MAX, "load failed: %s", strerror(-r));
                goto out;
        }
        l->tmpl_copies[l->n_tmpl_copies++] = (struct skbt_tmpl_copy){.tmpl = tmpl, .fd = r};
out:
        pthread_mutex_unlock(&l->tmpl_lock);
        return r;
}

struct skbt_loader *skbt_loader_free(struct skbt_loader *l)
{
        if (!l)
                return NULL;
        for (uint32_t i = 0; i < l->n_tmpl_copies; i++)
                safe_close(l->tmpl_copies[i].fd);
        pthread_mutex_destroy(&l->tmpl_lock);
        skbt_backend_detach_all(l);
        for (uint32_t i = 0; i < l->n_probes; i++) {
                safe_close(l->probes[i].prog_fd);
                safe_close(l->probes[i].ret_prog_fd);
                free(l->probes[i].name);
                free(l->probes[i].target);
                free(l->probes[i].error);
        }
        skbt_module_btf_close(l);
        free(l->probes);
        subprogs_free(l);
        skbtrace__destroy(l->skel);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_loader *, skbt_loader_free);

/*
 * Functions with an skb parameter are listed even when no function backend
 * can attach them here, so "ipftctl list" answers "can I trace ip_rcv on this
 * host, and if not, why".
 */
void skbt_record_function(struct skbt_loader *l, const struct skbt_sym *s,
                          const struct skbt_ksyms *ksyms, const char *why)
{
        bool drop = skbt_function_is_drop(s);
        struct skbt_probe *p;
        char buf[192];
        int id;

        id = skbt_probe_add(l, s->name, SKBT_PROBE_FUNCTION, s->skb_arg, drop);
        if (id < 0)
                return;
        p = &l->probes[id];
        p->backend = _SKBT_BACKEND_MAX; /* none */
        p->attached = false;
        if (ksyms && skbt_ksyms_addresses_visible(ksyms) && !skbt_ksyms_lookup(ksyms, s->name))
                snprintf(buf, sizeof(buf),
                         "not in /proc/kallsyms (inlined or renamed by the "
                         "compiler): cannot be attached");
        else
                snprintf(buf, sizeof(buf), "%s", why);
        p->error = strdup(buf);
        l->n_unsupported++;
}

/* Load only the templates the backends in use need: on a kernel where, say, fentry is
 * refused, loading its template would fail the whole object. */
static void set_autoload(struct skbtrace *skel, enum skbt_backend backend, bool nf, bool btf)
{
        const struct skbt_backend_ops *fn = skbt_backend_ops(backend);
        const struct skbt_backend_ops *tp = &skbt_backend_tracepoint;
        struct bpf_program *p;

        bpf_object__for_each_program (p, skel->obj) {
                const char *n = bpf_program__name(p);
                bool on = tp->wants_program(n, false) || fn->wants_program(n, nf);

                if (strncmp(n, "skbt_tpbtf_", 11) == 0)
                        on = btf;
                bpf_program__set_autoload(p, on);
        }
}

/*
 * Load the templates.  SKBTRACED_VERIFIER_LOG (debugging) gives every
 * program a big verifier log and shows the end of the failing one's:
 * libbpf's own report is cut after its first few kilobytes, where the
 * reason is never found.  "stats": the error and the statistics only (the
 * full log of a big program overflows any buffer on older kernels, which
 * keep its start); anything else: the full log.
 */
static int load_skeleton(struct skbtrace *skel)
{
        const size_t size = 64u << 20;
        _cleanup_free_ char *log = NULL;
        struct bpf_program *p;
        int r;

        if (!getenv("SKBTRACED_VERIFIER_LOG"))
                return skbtrace__load(skel);
        log = calloc(1, size);
        if (!log)
                return -ENOMEM;
        bpf_object__for_each_program (p, skel->obj) {
                bpf_program__set_log_buf(p, log, size);
                bpf_program__set_log_level(
                    p, strcmp(getenv("SKBTRACED_VERIFIER_LOG"), "stats") == 0 ? 4 : 1);
                /* one file per failing load is enough; see below */
        }
        r = skbtrace__load(skel);
        if (r < 0) {
                const char *path = getenv("SKBTRACED_VERIFIER_LOG");
                size_t n = strlen(log);
                FILE *f;

                log_error("verifier log (end): ...%s", log + (n > 4000 ? n - 4000 : 0));
                /* A path: the whole log goes there. */
                if (path[0] == '/' && (f = fopen(path, "we"))) {
                        fwrite(log, 1, n, f);
                        fclose(f);
                }
        }
        return r;
}

/* The object's own load: its templates, each verified once. */
static void count_templates(struct skbt_loader *l, uint64_t ns)
{
        struct bpf_program *p;
        uint64_t verified = 0;
        uint32_t n = 0;

        bpf_object__for_each_program (p, l->skel->obj) {
                struct bpf_prog_info info = {};
                __u32 len = sizeof(info);

                if (bpf_program__fd(p) < 0 ||
                    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) < 0)
                        continue;
                n++;
                verified += info.verified_insns;
                log_debug("template %s: %u instructions verified", bpf_program__name(p),
                          info.verified_insns);
        }
        l->loads.n += n;
        l->loads.ns += ns;
        l->loads.verified_insns += verified;
        log_info("loaded the BPF object: %u templates in %.0f ms (%" PRIu64
                 " instructions verified)",
                 n, (double)ns / 1e6, verified);
}

/*
 * Open the object and load the templates for nf (verdict programs) and btf
 * (tp_btf tracepoint programs).  A load the kernel refuses returns its
 * negative errno with *refused set and is logged at debug level only: the
 * caller decides whether to try with fewer programs.  Anything else is
 * logged here.
 */
static int open_and_load(struct skbt_loader *l, const struct skbt_symdb *db,
                         const struct skbt_loader_opts *opts, bool nf, bool btf, bool *refused)
{
        uint64_t t0;
        int r;

        *refused = false;
        l->skel = skbtrace__open();
        if (!l->skel)
                return log_error_errno(negative_errno(), "cannot open BPF object: %m");
        r = bpf_map__set_max_entries(l->skel->maps.events, opts->ringbuf_bytes);
        if (r < 0)
                return log_error_errno(r, "cannot size ring buffer to %u bytes: %m",
                                       opts->ringbuf_bytes);
        set_autoload(l->skel, l->backend, nf, btf);
        if (btf)
                skbt_tp_set_targets(l->skel, db);
        t0 = now_ns();
        r = load_skeleton(l->skel);
        if (r >= 0)
                count_templates(l, now_ns() - t0);
        if (r < 0) {
                *refused = true;
                return log_debug_errno(r,
                                       "cannot load BPF programs (verdict programs: %s, "
                                       "tracepoint programs: %s): %m",
                                       nf ? "yes" : "no", btf ? "tp_btf" : "raw_tp");
        }
        l->tp_btf = btf;
        l->nf_loaded = nf;
        return 0;
}

/*
 * tp_btf programs are an optimisation and the verdicts a detail: a kernel
 * that refuses either still traces, with raw_tp programs or without
 * verdicts.  Verdicts (what users see) are given up last.
 * SKBTRACED_NO_TP_BTF=1 forces raw_tp (tests, benchmarks).
 */
static int load_best(struct skbt_loader *l, const struct skbt_symdb *db,
                     const struct skbt_loader_opts *opts)
{
        static const struct {
                bool nf, btf;
        } tries[] = {{true, true}, {true, false}, {false, true}, {false, false}};
        const bool want_btf = !getenv("SKBTRACED_NO_TP_BTF");
        /* The verdict programs exist only on the function backends. */
        const bool want_nf = skbt_backend_has(l->backend, SKBT_BACKEND_F_FUNCTIONS);
        bool refused = true;
        int r = -EINVAL;

        for (size_t i = 0; i < ARRAY_SIZE(tries) && refused; i++) {
                if ((tries[i].nf && !want_nf) || (tries[i].btf && !want_btf))
                        continue;
                skbtrace__destroy(l->skel);
                l->skel = NULL;
                r = open_and_load(l, db, opts, tries[i].nf, tries[i].btf, &refused);
                if (r >= 0)
                        break;
        }
        if (r < 0)
                return refused ? log_error_errno(r, "cannot load BPF programs: %m (the libbpf "
                                                    "messages above give the verifier's reasons; "
                                                    "SKBTRACED_VERIFIER_LOG=PATH keeps its whole "
                                                    "log, see skbtraced(8))")
                               : r;
        if (want_btf && !l->tp_btf)
                log_warning("the kernel refused the tp_btf tracepoint programs; using raw_tp "
                            "programs (probe reads: slower per hit)");
        if (want_nf && !l->nf_loaded)
                log_warning("the kernel refused the netfilter verdict programs; loaded the "
                            "others without them (no verdicts)");
        return 0;
}

void skbt_loader_recount(struct skbt_loader *l)
{
        uint32_t nf_linked = 0;

        l->n_attached = l->n_skipped = l->n_unsupported = 0;
        l->n_functions = l->n_returns = l->n_nf = l->n_tp_btf = 0;
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (p->backend >= _SKBT_BACKEND_MAX) {
                        l->n_unsupported++;
                        continue;
                }
                if (!p->attached) {
                        l->n_skipped++;
                        continue;
                }
                l->n_attached++;
                if (p->kind == SKBT_PROBE_NETFILTER) {
                        l->n_nf++;
                        nf_linked += p->link != NULL;
                } else if (p->kind == SKBT_PROBE_TRACEPOINT) {
                        l->n_tp_btf += p->loaded && p->tp_btf;
                } else if (p->is_return) {
                        l->n_returns++;
                } else {
                        l->n_functions++;
                }
        }
        /* The drop probes look up the netfilter frame only while an evaluator is attached. */
        if (l->nf_conf)
                __atomic_store_n(&l->nf_conf->attached, nf_linked, __ATOMIC_RELEASE);
}

int skbt_loader_new(const struct skbt_symdb *db, const struct skbt_ksyms *ksyms,
                    const struct skbt_loader_opts *opts, struct skbt_loader **ret)
{
        _cleanup_(skbt_loader_freep) struct skbt_loader *l = NULL;
        enum skbt_backend backend = opts->backend;
        uint64_t start = now_ns();
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->tmpl_lock, NULL);
        l->backend = backend;
        l->threads = opts->threads > 0 ? opts->threads : 1;
        l->returns = opts->returns && skbt_backend_has(backend, SKBT_BACKEND_F_RETURNS);
        l->ringbuf_fd = l->lost_fd = l->stats_fd = l->track_fd = l->track_head_fd = -1;
        l->probes = calloc(SKBT_MAX_PROBES, sizeof(*l->probes));
        if (!l->probes)
                return -ENOMEM;
        l->n_cpus = libbpf_num_possible_cpus();
        if (l->n_cpus <= 0)
                return log_error_errno(l->n_cpus ? l->n_cpus : -EINVAL,
                                       "cannot count possible CPUs: %m");

        r = load_best(l, db, opts);
        if (r < 0)
                return r;

        l->state = &l->skel->bss->state;
        l->probe_sessions = (uint64_t *)l->skel->bss->probe_sessions;
        l->cbpf_progs = l->skel->bss->cbpf_progs;
        l->field_table = &l->skel->bss->field_table;
        l->field_sessions = (uint64_t *)&l->skel->bss->field_sessions;
        l->snap_sessions = (uint64_t *)&l->skel->bss->snap_sessions;
        l->ct_sessions = (uint64_t *)&l->skel->bss->ct_sessions;
        l->ct_conf = &l->skel->bss->ct_conf;
        l->nf_conf = &l->skel->bss->nf_conf;
        l->track_quota = l->skel->bss->track_quota;
        l->ringbuf_fd = bpf_map__fd(l->skel->maps.events);
        l->lost_fd = bpf_map__fd(l->skel->maps.lost);
        l->stats_fd = bpf_map__fd(l->skel->maps.stats);
        l->track_fd = bpf_map__fd(l->skel->maps.track);
        l->track_head_fd = bpf_map__fd(l->skel->maps.track_head);
        l->state->n_cpus = (uint64_t)l->n_cpus;
        l->state->track_idle_ns = SKBT_TRACK_IDLE_NS;

        /* Stamped copies may be loaded from several threads: this is read-only after. */
        r = subprogs_load(l);
        if (r < 0)
                log_debug_errno(r, "cannot index the object's subprograms (%m), ignoring");

        /* Only registered here: probes are loaded and attached when sessions need them
         * (core/idle_detach.h), in the attach worker. */
        skbt_tracepoints_add(l, db, opts);
        r = skbt_functions_add(l, db, ksyms, opts);
        if (r < 0)
                return r;
        skbt_nf_add(l, opts);
        skbt_loader_recount(l);
        l->load_ns = now_ns() - start;
        if (l->n_attached == 0)
                return log_error_errno(-ENOENT,
                                       "no probe could be attached (%u tried); see the "
                                       "messages above",
                                       l->n_probes);
        log_info("backend %s: %u probes usable (%u functions, %u returns, %u netfilter "
                 "evaluators, %u tracepoints), %u skipped, in %.1f s; %u skb functions not "
                 "attachable with this backend; each is attached while a session needs it",
                 skbt_backend_to_string(backend), l->n_attached, l->n_functions, l->n_returns,
                 l->n_nf, l->n_attached - l->n_functions - l->n_returns - l->n_nf, l->n_skipped,
                 (double)l->load_ns / 1e9, l->n_unsupported);
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_percpu_sum(const struct skbt_loader *l, int fd, uint32_t key, uint64_t *ret)
{
        uint64_t vals[l->n_cpus], sum = 0;

        if (bpf_map_lookup_elem(fd, &key, vals) < 0)
                return negative_errno();
        for (int i = 0; i < l->n_cpus; i++)
                sum += vals[i];
        *ret = sum;
        return 0;
}

int skbt_loader_read_lost(const struct skbt_loader *l, uint32_t slot, uint64_t *ret)
{
        return read_percpu_sum(l, l->lost_fd, slot, ret);
}

int skbt_loader_reset_lost(const struct skbt_loader *l, uint32_t slot)
{
        uint64_t vals[l->n_cpus];

        memset(vals, 0, sizeof(vals));
        if (bpf_map_update_elem(l->lost_fd, &slot, vals, BPF_ANY) < 0)
                return negative_errno();
        return 0;
}

int skbt_loader_read_stat(const struct skbt_loader *l, uint32_t idx, uint64_t *ret)
{
        return read_percpu_sum(l, l->stats_fd, idx, ret);
}
